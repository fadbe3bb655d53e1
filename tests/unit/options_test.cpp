// argv -> typed configs (live, replay, gen): defaults, every option, every usage error, help and version.
#include "cli/options.hpp"

#include "base/exit_codes.hpp"

#include <trafstat/abi.h>

#include <gtest/gtest.h>

#include <initializer_list>

namespace trafstat {
namespace {

ParseResult parse(std::initializer_list<const char*> args)
{
    std::vector<const char*> argv = {"trafstat"};
    argv.insert(argv.end(), args.begin(), args.end());
    return parse_options(static_cast<int>(argv.size()), argv.data());
}

// Parses args that must be accepted as the command of `Config`.
template <class Config>
Config accepted_as(std::initializer_list<const char*> args)
{
    ParseResult r = parse(args);
    if (const auto* exit = std::get_if<ParseExit>(&r)) {
        ADD_FAILURE() << "unexpected exit " << exit->code << ": " << exit->text;
        return {};
    }
    if (!std::holds_alternative<Config>(r)) {
        ADD_FAILURE() << "parsed as another command";
        return {};
    }
    return std::get<Config>(r);
}

LiveConfig ok(std::initializer_list<const char*> args)
{
    return accepted_as<LiveConfig>(args);
}

// Parses args that must be a usage error; returns the message.
std::string usage_error(std::initializer_list<const char*> args)
{
    ParseResult r = parse(args);
    const auto* exit = std::get_if<ParseExit>(&r);
    if (!exit) {
        ADD_FAILURE() << "accepted, expected a usage error";
        return {};
    }
    EXPECT_EQ(exit->code, exit_code::usage);
    EXPECT_TRUE(exit->to_stderr);
    EXPECT_TRUE(exit->text.starts_with("trafstat: ")) << exit->text;
    EXPECT_TRUE(exit->text.ends_with(" (see --help)")) << exit->text;
    EXPECT_EQ(exit->text.find('\n'), std::string::npos) << "one line: " << exit->text;
    return exit->text;
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

TEST(Options, Defaults)
{
    const LiveConfig o = ok({});
    EXPECT_TRUE(o.interfaces.empty());
    EXPECT_EQ(o.attach.hook, Hook::xdp);
    EXPECT_EQ(o.attach.xdp_mode, XdpMode::auto_);
    EXPECT_EQ(o.attach.tc_mode, TcMode::auto_);
    EXPECT_FALSE(o.attach.drop);
    EXPECT_FALSE(o.attach.force);
    EXPECT_DOUBLE_EQ(o.interval_s, 1.0);
    EXPECT_EQ(o.count, std::nullopt);
    EXPECT_EQ(o.timeout_s, std::nullopt);
    EXPECT_FALSE(o.verbose);
    EXPECT_EQ(o.output.format, OutputFormat::line);
    EXPECT_FALSE(o.output.hide_zero);
}

TEST(Options, NoArgvAtAll)
{
    EXPECT_TRUE(std::holds_alternative<LiveConfig>(parse_options(0, nullptr)));
}

TEST(Options, Interfaces)
{
    EXPECT_EQ(ok({"eth0"}).interfaces, std::vector<std::string>{"eth0"});
    EXPECT_EQ(ok({"veth0", "veth1"}).interfaces, (std::vector<std::string>{"veth0", "veth1"}));
    EXPECT_EQ(ok({"veth0", "-i", "2", "veth1"}).interfaces, (std::vector<std::string>{"veth0", "veth1"}));
    EXPECT_EQ(ok({"--", "eth0"}).interfaces, std::vector<std::string>{"eth0"});
    EXPECT_EQ(ok({"abcdefghijklmno"}).interfaces.front(), "abcdefghijklmno");  // 15: the maximum
    EXPECT_EQ(ok({"eth0.100"}).interfaces.front(), "eth0.100");
}

TEST(Options, BadInterfaceNames)
{
    EXPECT_TRUE(contains(usage_error({"abcdefghijklmnop"}), "longer than 15"));
    EXPECT_TRUE(contains(usage_error({"a/b"}), "'a/b'"));
    EXPECT_TRUE(contains(usage_error({"eth 0"}), "whitespace"));
    EXPECT_TRUE(contains(usage_error({"eth\t0"}), "whitespace"));
    EXPECT_TRUE(contains(usage_error({"eth0:1"}), "eth0:1"));
    EXPECT_TRUE(contains(usage_error({".."}), "not an interface name"));
    EXPECT_TRUE(contains(usage_error({""}), "empty interface name"));
    EXPECT_TRUE(contains(usage_error({"eth0", "eth1", "eth0"}), "'eth0' given twice"));
}

TEST(Options, Hooks)
{
    EXPECT_EQ(ok({"--hook", "xdp"}).attach.hook, Hook::xdp);
    EXPECT_EQ(ok({"--hook", "tc-ingress"}).attach.hook, Hook::tc_ingress);
    EXPECT_EQ(ok({"--hook", "tc-egress"}).attach.hook, Hook::tc_egress);
    EXPECT_EQ(ok({"--hook", "tc"}).attach.hook, Hook::tc_both);
    EXPECT_EQ(ok({"--hook=tc"}).attach.hook, Hook::tc_both);
    EXPECT_TRUE(contains(usage_error({"--hook", "tcx"}), "--hook"));
    EXPECT_TRUE(contains(usage_error({"--hook"}), "--hook"));
}

TEST(Options, HookNames)
{
    EXPECT_EQ(hook_name(Hook::xdp), "xdp");
    EXPECT_EQ(hook_name(Hook::tc_ingress), "tc-ingress");
    EXPECT_EQ(hook_name(Hook::tc_egress), "tc-egress");
    EXPECT_EQ(hook_name(Hook::tc_both), "tc");
}

TEST(Options, XdpModes)
{
    EXPECT_EQ(ok({"--xdp-mode", "native"}).attach.xdp_mode, XdpMode::native);
    EXPECT_EQ(ok({"--xdp-mode", "generic"}).attach.xdp_mode, XdpMode::generic);
    EXPECT_EQ(ok({"--xdp-mode", "auto"}).attach.xdp_mode, XdpMode::auto_);
    EXPECT_EQ(ok({"--hook", "xdp", "--xdp-mode", "generic"}).attach.xdp_mode, XdpMode::generic);
    EXPECT_TRUE(contains(usage_error({"--xdp-mode", "skb"}), "--xdp-mode"));
}

TEST(Options, TcModes)
{
    EXPECT_EQ(ok({"--hook", "tc", "--tc-mode", "tcx"}).attach.tc_mode, TcMode::tcx);
    EXPECT_EQ(ok({"--hook", "tc-ingress", "--tc-mode", "clsact"}).attach.tc_mode, TcMode::clsact);
    EXPECT_EQ(ok({"--hook", "tc-egress", "--tc-mode", "auto"}).attach.tc_mode, TcMode::auto_);
    EXPECT_EQ(ok({"--hook", "tc"}).attach.tc_mode, TcMode::auto_);
    EXPECT_TRUE(contains(usage_error({"--hook", "tc", "--tc-mode", "ingress"}), "--tc-mode"));
}

TEST(Options, ModeOfTheOtherHookIsAnError)
{
    EXPECT_TRUE(
        contains(usage_error({"--hook", "tc", "--xdp-mode", "native"}), "--xdp-mode applies only to --hook xdp"));
    // even the default value, when given explicitly
    EXPECT_TRUE(contains(usage_error({"--hook", "tc-egress", "--xdp-mode", "auto"}), "--xdp-mode"));
    EXPECT_TRUE(contains(usage_error({"--tc-mode", "tcx"}), "--tc-mode applies only to"));
    EXPECT_TRUE(contains(usage_error({"--hook", "xdp", "--tc-mode", "auto"}), "--tc-mode"));
}

TEST(Options, Flags)
{
    const LiveConfig o = ok({"--force", "-v", "--json", "-z"});
    EXPECT_TRUE(o.attach.force);
    EXPECT_TRUE(o.verbose);
    EXPECT_EQ(o.output.format, OutputFormat::json);
    EXPECT_TRUE(o.output.hide_zero);

    const LiveConfig l = ok({"--drop", "--verbose", "--hide-zero"});
    EXPECT_TRUE(l.attach.drop);
    EXPECT_TRUE(l.verbose);
    EXPECT_TRUE(l.output.hide_zero);

    const LiveConfig combined = ok({"-dvz"});
    EXPECT_TRUE(combined.attach.drop);
    EXPECT_TRUE(combined.verbose);
    EXPECT_TRUE(combined.output.hide_zero);
}

TEST(Options, DropNeedsXdp)
{
    EXPECT_TRUE(ok({"-d", "--xdp-mode", "native", "eth1"}).attach.drop);
    for (const char* hook : {"tc", "tc-ingress", "tc-egress"}) {
        const std::string text = usage_error({"-d", "--hook", hook});
        EXPECT_TRUE(contains(text, "--drop works only with --hook xdp: TC cannot drop")) << text;
    }
}

// --force attaches through a BPF link too: a killed run leaves no drop program
// (docs/attaching.md), so --force and -d go together.
TEST(Options, ForceWithDrop)
{
    for (auto args : std::initializer_list<std::initializer_list<const char*>>{
             {"--force", "-d", "eth1"},
             {"-d", "--force", "eth1"},
             {"--force", "--drop", "--xdp-mode", "generic", "eth1"}}) {
        const LiveConfig o = ok(args);
        EXPECT_TRUE(o.attach.force && o.attach.drop);
    }
}

TEST(Options, Interval)
{
    EXPECT_DOUBLE_EQ(ok({"-i", "0.5"}).interval_s, 0.5);
    EXPECT_DOUBLE_EQ(ok({"--interval", "2"}).interval_s, 2.0);
    EXPECT_DOUBLE_EQ(ok({"--interval=.25"}).interval_s, 0.25);
    EXPECT_DOUBLE_EQ(ok({"-i", "3600"}).interval_s, 3600.0);
    EXPECT_DOUBLE_EQ(ok({"-i", "0.01"}).interval_s, 0.01);  // the floor
    for (const char* bad : {"0", "-1", "3600.5", "abc", "1s", "inf", "nan", "", "1e9", " 1", "0.001", "1e-8"}) {
        const std::string text = usage_error({"-i", bad});
        EXPECT_TRUE(contains(text, "--interval")) << bad << ": " << text;
    }
    EXPECT_TRUE(contains(usage_error({"-i", "0.009"}), "'0.009' is not a number of seconds from 0.01 to 3600"));
}

// Below a drain's cost a live or agent loop would be all drain; below a
// microsecond a replay bin rounds to nothing (issue 15: SIGFPE at 1e-10).
TEST(Options, IntervalFloors)
{
    EXPECT_DOUBLE_EQ(*accepted_as<ReplayConfig>({"replay", "-i", "0.000001", "x.pcap"}).bin_s, 1e-6);
    EXPECT_DOUBLE_EQ(*accepted_as<ReplayConfig>({"replay", "-i", "1e-6", "x.pcap"}).bin_s, 1e-6);
    for (const char* bad : {"1e-10", "0.0000009", "0"})
        EXPECT_TRUE(contains(usage_error({"replay", "-i", bad, "x.pcap"}), "from 0.000001 to 3600")) << bad;
    EXPECT_EQ(accepted_as<AgentConfig>({"agent", "-i", "0.01", "eth0"}).interval_s, 0.01);
    for (const char* bad : {"0.001", "1e-8"})
        EXPECT_TRUE(contains(usage_error({"agent", "-i", bad, "eth0"}), "from 0.01 to 3600")) << bad;
}

TEST(Options, Count)
{
    EXPECT_EQ(ok({"-c", "10"}).count, 10u);
    EXPECT_EQ(ok({"--count", "1"}).count, 1u);
    EXPECT_EQ(ok({"-c", "18446744073709551615"}).count, 18446744073709551615ULL);
    for (const char* bad : {"0", "-1", "1.5", "x", "", "18446744073709551616", "+3"}) {
        const std::string text = usage_error({"-c", bad});
        EXPECT_TRUE(contains(text, "--count")) << bad << ": " << text;
    }
}

TEST(Options, Timeout)
{
    EXPECT_DOUBLE_EQ(ok({"-t", "30"}).timeout_s.value(), 30.0);
    EXPECT_DOUBLE_EQ(ok({"-t", "30s"}).timeout_s.value(), 30.0);
    EXPECT_DOUBLE_EQ(ok({"--timeout", "1500ms"}).timeout_s.value(), 1.5);
    EXPECT_DOUBLE_EQ(ok({"-t", "2m"}).timeout_s.value(), 120.0);
    EXPECT_DOUBLE_EQ(ok({"-t", "1h"}).timeout_s.value(), 3600.0);
    for (const char* bad : {"0", "0s", "-5", "soon", "5x", "", "ms"}) {
        const std::string text = usage_error({"-t", bad});
        EXPECT_TRUE(contains(text, "--timeout")) << bad << ": " << text;
    }
}

TEST(Options, CountAndTimeoutTogether)
{
    const LiveConfig o = ok({"-i", "0.5", "-c", "10", "-t", "1m", "eth0"});
    EXPECT_DOUBLE_EQ(o.interval_s, 0.5);
    EXPECT_EQ(o.count, 10u);
    EXPECT_DOUBLE_EQ(o.timeout_s.value(), 60.0);
    EXPECT_EQ(o.interfaces, std::vector<std::string>{"eth0"});
}

TEST(Options, UnknownOptionIsAUsageError)
{
    EXPECT_TRUE(contains(usage_error({"--bogus"}), "--bogus"));
    EXPECT_TRUE(contains(usage_error({"-x"}), "-x"));
}

TEST(Options, MissingValueIsAUsageError)
{
    usage_error({"-i"});
    usage_error({"-c"});
    usage_error({"eth0", "-t"});
}

TEST(ParseDuration, Units)
{
    EXPECT_DOUBLE_EQ(parse_duration("5").value(), 5.0);
    EXPECT_DOUBLE_EQ(parse_duration("2.5s").value(), 2.5);
    EXPECT_DOUBLE_EQ(parse_duration("1500ms").value(), 1.5);
    EXPECT_DOUBLE_EQ(parse_duration("2m").value(), 120.0);
    EXPECT_DOUBLE_EQ(parse_duration("1h").value(), 3600.0);
    EXPECT_DOUBLE_EQ(parse_duration("0.5h").value(), 1800.0);
    EXPECT_DOUBLE_EQ(parse_duration(".5").value(), 0.5);
    EXPECT_DOUBLE_EQ(parse_duration("1ms").value(), 0.001);
}

TEST(ParseDuration, Junk)
{
    for (const char* bad : {"",    "s",  "ms",  "0",   "0ms", "-1",  "-1s", "+1",    "1 s",  " 1",
                            "1s ", "1d", "1sm", "1hh", "abc", "inf", "nan", "1e400", "0x10", "1,5"}) {
        EXPECT_EQ(parse_duration(bad), std::nullopt) << "'" << bad << "'";
    }
}

TEST(Help, ExitsZeroOnStdout)
{
    for (const char* flag : {"-h", "--help"}) {
        ParseResult r = parse({flag});
        const auto* exit = std::get_if<ParseExit>(&r);
        ASSERT_NE(exit, nullptr) << flag;
        EXPECT_EQ(exit->code, exit_code::ok);
        EXPECT_FALSE(exit->to_stderr);
        const std::string& text = exit->text;
        EXPECT_TRUE(contains(text, "Usage: trafstat [options] [IFACE...]")) << text;
        EXPECT_TRUE(contains(text, "Count packets and bits per protocol class in the kernel (XDP or TC)"));
        for (const char* part :
             {"--hook", "--xdp-mode", "--tc-mode", "--drop", "--force", "--interval", "--count", "--timeout",
              "--verbose", "--json", "--hide-zero", "--version", "SECONDS", "DURATION",
              "sudo trafstat -i 0.5 -c 10 eth0", "sudo trafstat --hook tc veth0 veth1", "Exit codes"}) {
            EXPECT_TRUE(contains(text, part)) << part;
        }
        EXPECT_FALSE(text.ends_with("\n"));
    }
}

TEST(Help, WinsOverOtherArguments)
{
    ParseResult r = parse({"-i", "2", "eth0", "--help"});
    ASSERT_TRUE(std::holds_alternative<ParseExit>(r));
    EXPECT_EQ(std::get<ParseExit>(r).code, 0);
}

TEST(Version, ExitsZeroOnStdout)
{
    for (const char* flag : {"-V", "--version"}) {
        ParseResult r = parse({flag});
        const auto* exit = std::get_if<ParseExit>(&r);
        ASSERT_NE(exit, nullptr) << flag;
        EXPECT_EQ(exit->code, exit_code::ok);
        EXPECT_FALSE(exit->to_stderr);
        EXPECT_EQ(exit->text, "trafstat " TRAFSTAT_VERSION);
    }
}

TEST(Version, TakesNoOtherArguments)
{
    EXPECT_TRUE(contains(usage_error({"--version", "extra"}), "--version takes no other arguments"));
    usage_error({"-V", "eth0"});
    usage_error({"-i", "2", "--version"});
    usage_error({"--version", "--bogus"});
    usage_error({"-V", "-V"});
}

TEST(Help, AnUnknownOptionOrExtraArgumentIsStillAUsageError)
{
    EXPECT_TRUE(contains(usage_error({"--help", "--bogus"}), "unexpected argument '--bogus'"));
    usage_error({"--bogus", "-h"});
    usage_error({"--help", "-i", "abc"});  // a bad value, as before
    for (const char* command : {"replay", "status", "gen", "detach"}) {
        std::vector<const char*> argv = {"trafstat", command, "--help", "--no-such-option"};
        ParseResult r = parse_options(static_cast<int>(argv.size()), argv.data());
        const auto* exit = std::get_if<ParseExit>(&r);
        ASSERT_NE(exit, nullptr) << command;
        EXPECT_EQ(exit->code, exit_code::usage) << command << ": " << exit->text;
    }
    std::vector<const char*> argv = {"trafstat", "replay", "--help", "a.pcap", "b.pcap"};
    ParseResult r = parse_options(static_cast<int>(argv.size()), argv.data());
    ASSERT_TRUE(std::holds_alternative<ParseExit>(r));
    EXPECT_EQ(std::get<ParseExit>(r).code, exit_code::usage) << std::get<ParseExit>(r).text;
}

// `trafstat gen [options] IFACE`
GenConfig gen_ok(std::initializer_list<const char*> args)
{
    std::vector<const char*> argv = {"trafstat", "gen"};
    argv.insert(argv.end(), args.begin(), args.end());
    ParseResult r = parse_options(static_cast<int>(argv.size()), argv.data());
    if (const auto* exit = std::get_if<ParseExit>(&r)) {
        ADD_FAILURE() << "unexpected exit " << exit->code << ": " << exit->text;
        return {};
    }
    EXPECT_TRUE(std::holds_alternative<GenConfig>(r)) << "gen parses as gen";
    return std::holds_alternative<GenConfig>(r) ? std::get<GenConfig>(r) : GenConfig{};
}

TEST(GenOptions, Defaults)
{
    const GenConfig g = gen_ok({"va0"});
    EXPECT_EQ(g.interface, "va0");
    EXPECT_EQ(g.frame_size, std::nullopt);
    EXPECT_EQ(g.protos, std::vector<gen::Proto>{gen::Proto::udp4});
    EXPECT_EQ(g.flows, 1u);
    EXPECT_EQ(g.count, std::nullopt);
    EXPECT_EQ(g.duration_s, std::nullopt);
    EXPECT_EQ(g.rate_pps, std::nullopt);
    EXPECT_EQ(g.threads, std::nullopt);
    EXPECT_EQ(g.batch, 64u);
    EXPECT_FALSE(g.inject);
    EXPECT_EQ(g.src_mac, std::nullopt);
    EXPECT_EQ(g.dst_mac, std::nullopt);
    EXPECT_FALSE(g.src4 || g.dst4 || g.src6 || g.dst6);
    EXPECT_EQ(g.format, OutputFormat::line);
    EXPECT_FALSE(g.verbose);
}

TEST(GenOptions, EveryOption)
{
    const GenConfig g = gen_ok({"-s",
                                "128",
                                "--proto",
                                "udp4,tcp6,icmp4",
                                "--flows",
                                "1000",
                                "-n",
                                "100000",
                                "-t",
                                "2.5s",
                                "--rate",
                                "20k",
                                "--threads",
                                "3",
                                "--batch",
                                "256",
                                "--inject",
                                "--src-mac",
                                "02:00:00:00:0a:01",
                                "--dst-mac",
                                "02:00:00:00:0b:01",
                                "--src-ip",
                                "10.0.0.1,fd00::1",
                                "--dst-ip",
                                "fd00::2",
                                "--json",
                                "-v",
                                "va0"});
    EXPECT_EQ(g.frame_size, 128u);
    EXPECT_EQ(g.protos, (std::vector<gen::Proto>{gen::Proto::udp4, gen::Proto::tcp6, gen::Proto::icmp4}));
    EXPECT_EQ(g.flows, 1000u);
    EXPECT_EQ(g.count, 100000u);
    EXPECT_DOUBLE_EQ(*g.duration_s, 2.5);
    EXPECT_DOUBLE_EQ(*g.rate_pps, 20000);
    EXPECT_EQ(g.threads, 3u);
    EXPECT_EQ(g.batch, 256u);
    EXPECT_TRUE(g.inject);
    EXPECT_EQ(g.src_mac, (gen::Mac{2, 0, 0, 0, 0x0a, 1}));
    EXPECT_EQ(g.dst_mac, (gen::Mac{2, 0, 0, 0, 0x0b, 1}));
    EXPECT_EQ(g.src4, (gen::Ip4{10, 0, 0, 1}));
    ASSERT_TRUE(g.src6);
    EXPECT_EQ(gen::format_ip6(*g.src6), "fd00::1");
    EXPECT_FALSE(g.dst4);
    ASSERT_TRUE(g.dst6);
    EXPECT_EQ(gen::format_ip6(*g.dst6), "fd00::2");
    EXPECT_EQ(g.format, OutputFormat::json);
    EXPECT_TRUE(g.verbose);
}

TEST(GenOptions, LongFormsAndActions)
{
    EXPECT_EQ(gen_ok({"--size", "1514", "--count", "5", "--duration", "1m", "va0"}).frame_size, 1514u);
    EXPECT_DOUBLE_EQ(*gen_ok({"--duration", "1m", "va0"}).duration_s, 60);
    EXPECT_TRUE(gen_ok({"--action", "pass", "va0"}).inject);
    EXPECT_FALSE(gen_ok({"--action", "tx", "va0"}).inject);
    EXPECT_TRUE(gen_ok({"--inject", "--action", "pass", "va0"}).inject);
    EXPECT_DOUBLE_EQ(*gen_ok({"--rate", "1.5M", "va0"}).rate_pps, 1.5e6);
    EXPECT_DOUBLE_EQ(*gen_ok({"--rate", "250", "va0"}).rate_pps, 250);
    EXPECT_EQ(gen_ok({"--proto", "udp4,udp4,tcp4", "va0"}).protos.size(), 3u);  // repeats weigh
    EXPECT_EQ(gen_ok({"-s", "60", "va0"}).frame_size, 60u);
    EXPECT_EQ(gen_ok({"-s", "74", "--proto", "tcp6", "va0"}).frame_size, 74u);
    EXPECT_EQ(gen_ok({"--flows", "16777216", "va0"}).flows, 16777216u);
    EXPECT_EQ(gen_ok({"--dst-mac", "FF-FF-FF-FF-FF-FF", "va0"}).dst_mac, gen::kBroadcast);
}

TEST(GenOptions, UsageErrors)
{
    auto gen_error = [](std::initializer_list<const char*> args) {
        std::vector<const char*> argv = {"trafstat", "gen"};
        argv.insert(argv.end(), args.begin(), args.end());
        ParseResult r = parse_options(static_cast<int>(argv.size()), argv.data());
        const auto* exit = std::get_if<ParseExit>(&r);
        if (!exit) {
            ADD_FAILURE() << "accepted, expected a usage error";
            return std::string{};
        }
        EXPECT_EQ(exit->code, exit_code::usage);
        EXPECT_TRUE(exit->to_stderr);
        EXPECT_TRUE(exit->text.starts_with("trafstat: ")) << exit->text;
        EXPECT_TRUE(exit->text.ends_with(" (see --help)")) << exit->text;
        EXPECT_EQ(exit->text.find('\n'), std::string::npos) << "one line: " << exit->text;
        return exit->text;
    };
    EXPECT_TRUE(contains(gen_error({}), "IFACE"));
    EXPECT_TRUE(contains(gen_error({"va0", "vb0"}), "vb0"));
    EXPECT_TRUE(contains(gen_error({"-s", "59", "va0"}), "'59'"));
    EXPECT_TRUE(contains(gen_error({"-s", "10", "va0"}), "frame size"));
    EXPECT_TRUE(contains(gen_error({"-s", "3001", "va0"}), "3000"));
    EXPECT_TRUE(contains(gen_error({"-s", "abc", "va0"}), "'abc'"));
    EXPECT_TRUE(contains(gen_error({"-s", "64", "--proto", "tcp6", "va0"}), "at least 74"));
    EXPECT_TRUE(contains(gen_error({"--proto", "udp", "va0"}), "'udp' is not one of udp4"));
    EXPECT_TRUE(contains(gen_error({"--proto", "udp4,,tcp4", "va0"}), "''"));
    EXPECT_TRUE(contains(gen_error({"--proto", "udp4,udp4,udp4,udp4,udp4,udp4,udp4,udp4,udp4", "va0"}), "at most 8"));
    EXPECT_TRUE(contains(gen_error({"--flows", "0", "va0"}), "flows"));
    EXPECT_TRUE(contains(gen_error({"--flows", "16777217", "va0"}), "flows"));
    EXPECT_TRUE(contains(gen_error({"-n", "0", "va0"}), ">= 1"));
    EXPECT_TRUE(contains(gen_error({"-n", "-5", "va0"}), "-5"));
    EXPECT_TRUE(contains(gen_error({"-t", "0", "va0"}), "duration"));
    EXPECT_TRUE(contains(gen_error({"--rate", "0", "va0"}), "rate"));
    EXPECT_TRUE(contains(gen_error({"--rate", "fast", "va0"}), "rate"));
    EXPECT_TRUE(contains(gen_error({"--threads", "0", "va0"}), "threads"));
    EXPECT_TRUE(contains(gen_error({"--batch", "257", "va0"}), "batch"));
    EXPECT_TRUE(contains(gen_error({"--action", "drop", "va0"}), "drop"));
    EXPECT_TRUE(contains(gen_error({"--inject", "--action", "tx", "va0"}), "contradicts"));
    EXPECT_TRUE(contains(gen_error({"--src-mac", "02:00:00:00:0a", "va0"}), "MAC"));
    EXPECT_TRUE(contains(gen_error({"--src-ip", "198.18.0", "va0"}), "'198.18.0'"));
    EXPECT_TRUE(contains(gen_error({"--src-ip", "10.0.0.1,10.0.0.2", "va0"}), "two IPv4"));
    EXPECT_TRUE(contains(gen_error({"--hook", "xdp", "va0"}), "--hook"));  // live options are not gen's
    EXPECT_TRUE(contains(gen_error({"abcdefghijklmnop"}), "longer than 15"));
}

TEST(GenOptions, Help)
{
    std::vector<const char*> argv = {"trafstat", "gen", "--help"};
    ParseResult r = parse_options(static_cast<int>(argv.size()), argv.data());
    const auto* exit = std::get_if<ParseExit>(&r);
    ASSERT_NE(exit, nullptr);
    EXPECT_EQ(exit->code, exit_code::ok);
    EXPECT_FALSE(exit->to_stderr);
    for (const char* part : {"Usage: trafstat gen [options] IFACE", "--size", "--proto", "--flows", "--count",
                             "--duration", "--rate", "--threads", "--inject", "--action", "--src-mac", "--dst-mac",
                             "--src-ip", "--dst-ip", "--json", "real packets", "Exit codes"}) {
        EXPECT_TRUE(contains(exit->text, part)) << part;
    }
}

TEST(GenOptions, GenIsOnlyASubcommandInFirstPlace)
{
    // An interface named "gen" after an option is an interface of live counting.
    const ParseResult r = parse({"-c", "1", "gen"});
    ASSERT_TRUE(std::holds_alternative<LiveConfig>(r)) << "live counting";
    const LiveConfig o = std::get<LiveConfig>(r);
    EXPECT_EQ(o.interfaces, std::vector<std::string>{"gen"});
}

}  // namespace
}  // namespace trafstat

namespace trafstat {
namespace {

TEST(KeyedTable, OffByDefault)
{
    const CountingConfig o = ok({"eth0"}).counting;
    EXPECT_EQ(o.tables, 0u);
    EXPECT_FALSE(o.histogram);
    EXPECT_EQ(o.table_size, (TableSizes{65536, 65536, 65536}));
}

TEST(KeyedTable, EachViewTurnsOnItsOwnTable)
{
    EXPECT_EQ(ok({"--talkers", "eth0"}).counting.tables, TS_TABLE_BIT(TS_TABLE_TALKERS));
    EXPECT_EQ(ok({"--ports", "eth0"}).counting.tables, TS_TABLE_BIT(TS_TABLE_PORTS));
    EXPECT_EQ(ok({"--flows", "eth0"}).counting.tables, TS_TABLE_BIT(TS_TABLE_FLOWS));
    EXPECT_EQ(ok({"--talkers", "--ports", "eth0"}).counting.tables,
              TS_TABLE_BIT(TS_TABLE_TALKERS) | TS_TABLE_BIT(TS_TABLE_PORTS));
    EXPECT_TRUE(ok({"--talkers", "eth0"}).counting.histogram) << "any table brings the histogram";
    EXPECT_TRUE(ok({"--histogram", "eth0"}).counting.histogram);
    EXPECT_EQ(ok({"--histogram", "eth0"}).counting.tables, 0u);
}

TEST(KeyedTable, EachTableHasItsSize)
{
    EXPECT_EQ(ok({"--flows", "--flow-table-size", "1024", "eth0"}).counting.table_size,
              (TableSizes{65536, 65536, 1024}));
    EXPECT_EQ(ok({"--talkers", "--ip-table-size", "256", "eth0"}).counting.table_size, (TableSizes{256, 65536, 65536}));
    EXPECT_EQ(ok({"--ports", "--port-table-size", "4096", "eth0"}).counting.table_size,
              (TableSizes{65536, 4096, 65536}));
    for (const char* flag : {"--flow-table-size", "--ip-table-size", "--port-table-size"}) {
        EXPECT_NE(usage_error({flag, "8", "eth0"}), "") << flag;
        EXPECT_NE(usage_error({flag, "lots", "eth0"}), "") << flag;
    }
}

TEST(KeyedTable, NotWithDropMode)
{
    EXPECT_NE(usage_error({"-d", "--flows", "eth0"}).find("--drop counts totals only"), std::string::npos);
    EXPECT_NE(usage_error({"-d", "--histogram", "eth0"}), "");
    EXPECT_NE(usage_error({"-d", "--ipfix", "127.0.0.1", "eth0"}).find("no flows to export (--ipfix"),
              std::string::npos);
}

}  // namespace
}  // namespace trafstat

namespace trafstat {
namespace {

TEST(KeyedTable, IdleTimeoutAndViews)
{
    const CountingConfig o = ok({"--flows", "--idle-timeout", "2m", "--top", "3", "--sort", "pps", "eth0"}).counting;
    EXPECT_EQ(o.idle_timeout_s, 120.0);
    EXPECT_TRUE(o.counts(TS_TABLE_FLOWS));
    EXPECT_FALSE(o.counts(TS_TABLE_TALKERS));
    EXPECT_EQ(o.views.top, 3u);
    EXPECT_EQ(o.views.sort, SortKey::pps);
    EXPECT_EQ(ok({"eth0"}).counting.idle_timeout_s, 300.0);
    EXPECT_NE(usage_error({"--idle-timeout", "0", "eth0"}), "");
    EXPECT_NE(usage_error({"--sort", "size", "eth0"}), "");
    EXPECT_EQ(ok({"eth0"}).counting.views.talkers_by, TalkerSide::total);
    EXPECT_EQ(ok({"--talkers", "--talkers-by", "dst", "eth0"}).counting.views.talkers_by, TalkerSide::dst);
    EXPECT_NE(usage_error({"--talkers-by", "both", "eth0"}), "");
}

TEST(KeyedTable, ReplayTakesTheSameOptions)
{
    const ParseResult r = parse({"replay", "--talkers", "--ports", "--top", "0", "x.pcap"});
    ASSERT_TRUE(std::holds_alternative<ReplayConfig>(r)) << "replay";
    const CountingConfig& o = std::get<ReplayConfig>(r).counting;
    EXPECT_EQ(o.tables, TS_TABLE_BIT(TS_TABLE_TALKERS) | TS_TABLE_BIT(TS_TABLE_PORTS));
    EXPECT_TRUE(o.counts(TS_TABLE_TALKERS) && o.counts(TS_TABLE_PORTS) && !o.counts(TS_TABLE_FLOWS));
    EXPECT_EQ(o.views.top, 0u);
}

// -- pinned attachments: attach, agent, status, dump, detach, control --------------------------

TEST(PinnedOptions, AttachTakesTheLiveAttachOptionsAndPinDir)
{
    const auto o = accepted_as<AttachCommandConfig>({"attach", "--hook", "tc", "--flows", "--flow-table-size", "1024",
                                                     "--pin-dir", "/x/y", "--totals-size", "99", "veth0", "veth1"});
    EXPECT_EQ(o.interfaces, (std::vector<std::string>{"veth0", "veth1"}));
    EXPECT_EQ(o.attach.hook, Hook::tc_both);
    EXPECT_EQ(o.counting.tables, TS_TABLE_BIT(TS_TABLE_FLOWS));
    EXPECT_EQ(o.counting.table_size[TS_TABLE_FLOWS], 1024u);
    EXPECT_TRUE(o.counting.histogram);
    EXPECT_EQ(o.pin_dir, "/x/y");
    EXPECT_EQ(o.totals_size, 99u);
    EXPECT_EQ(accepted_as<AttachCommandConfig>({"attach"}).pin_dir, std::string(kDefaultPinDir));
    EXPECT_EQ(accepted_as<AttachCommandConfig>({"attach", "--xdp-mode", "offload", "v"}).attach.xdp_mode,
              XdpMode::offload);
}

TEST(PinnedOptions, AttachRefusesWhatCannotBePinnedOrShown)
{
    EXPECT_TRUE(contains(usage_error({"attach", "--force", "v"}), "--force"));
    EXPECT_TRUE(contains(usage_error({"attach", "--top", "5", "v"}), "--top"));
    EXPECT_TRUE(contains(usage_error({"attach", "-d", "--flows", "v"}), "--drop"));
    EXPECT_TRUE(contains(usage_error({"attach", "--hook", "tc", "--xdp-mode", "native", "v"}), "--xdp-mode"));
    EXPECT_TRUE(contains(usage_error({"attach", "v", "v"}), "given twice"));
}

TEST(PinnedOptions, AgentDefaultsAndOptions)
{
    const auto d = accepted_as<AgentConfig>({"agent", "eth0"});
    EXPECT_EQ(d.metrics, "127.0.0.1:9469");
    EXPECT_EQ(d.interval_s, 5.0);
    EXPECT_EQ(d.metrics_top, 0u);
    EXPECT_FALSE(d.detach_on_exit);
    EXPECT_FALSE(d.replace);
    const auto o = accepted_as<AgentConfig>({"agent", "--talkers", "--metrics", "[::1]:9999", "--metrics-top", "20",
                                             "-i", "0.5", "--detach-on-exit", "--replace", "eth0"});
    EXPECT_EQ(o.pinned.counting.tables, TS_TABLE_BIT(TS_TABLE_TALKERS));
    EXPECT_EQ(o.metrics, "[::1]:9999");
    EXPECT_EQ(o.metrics_top, 20u);
    EXPECT_EQ(o.interval_s, 0.5);
    EXPECT_TRUE(o.detach_on_exit);
    EXPECT_TRUE(o.replace);
    EXPECT_TRUE(contains(usage_error({"agent", "--metrics-top", "100000", "eth0"}), "--metrics-top"));
    EXPECT_TRUE(contains(usage_error({"agent", "-i", "0", "eth0"}), "-i"));
}

TEST(PinnedOptions, StatusDumpDetachControl)
{
    EXPECT_TRUE(accepted_as<StatusConfig>({"status", "--json"}).json);
    const auto dump = accepted_as<DumpConfig>({"dump", "--json", "--top", "3", "eth0"});
    EXPECT_EQ(dump.output.format, OutputFormat::json);
    EXPECT_EQ(dump.views.top, 3u);
    EXPECT_EQ(dump.interfaces, (std::vector<std::string>{"eth0"}));
    EXPECT_TRUE(accepted_as<DetachConfig>({"detach", "--all"}).all);
    EXPECT_EQ(accepted_as<DetachConfig>({"detach", "a", "b"}).interfaces.size(), 2u);
    EXPECT_TRUE(contains(usage_error({"detach"}), "--all"));
    EXPECT_TRUE(contains(usage_error({"detach", "--all", "a"}), "--all"));
    const auto c = accepted_as<ControlConfig>({"control", "eth0", "--flows", "off", "--talkers", "on"});
    EXPECT_EQ(c.interface, "eth0");
    EXPECT_FALSE(c.hook.has_value());
    EXPECT_EQ(c.tables_on[TS_TABLE_FLOWS], std::optional<bool>(false));
    EXPECT_EQ(c.tables_on[TS_TABLE_TALKERS], std::optional<bool>(true));
    EXPECT_FALSE(c.tables_on[TS_TABLE_PORTS].has_value());
    EXPECT_EQ(accepted_as<ControlConfig>({"control", "eth0", "--hook", "tc-egress", "--ports", "on"}).hook,
              std::optional<Hook>(Hook::tc_egress));
    EXPECT_TRUE(contains(usage_error({"control", "eth0"}), "nothing to switch"));
    EXPECT_TRUE(contains(usage_error({"control", "eth0", "--flows", "maybe"}), "--flows"));
}

TEST(IpfixOptions, TurnOnTheFlowsTableAndTakeTheirSettings)
{
    const LiveConfig o = ok({"--ipfix", "10.0.0.5:2055", "--ipfix-active-timeout", "30s", "--ipfix-idle-timeout", "5",
                             "--ipfix-mtu", "9000", "--ipfix-template-refresh", "1m", "--ipfix-domain", "7", "eth0"});
    EXPECT_EQ(o.ipfix.collector, "10.0.0.5:2055");
    EXPECT_TRUE(o.ipfix.on());
    EXPECT_EQ(o.counting.tables, TS_TABLE_BIT(TS_TABLE_FLOWS));
    EXPECT_EQ(o.ipfix.active_timeout_s, 30.0);
    EXPECT_EQ(o.ipfix.idle_timeout_s, 5.0);
    EXPECT_EQ(o.ipfix.mtu, 9000u);
    EXPECT_EQ(o.ipfix.template_refresh_s, 60.0);
    EXPECT_EQ(o.ipfix.observation_domain, 7u);
    EXPECT_FALSE(ok({"eth0"}).ipfix.on());
    const auto r = accepted_as<ReplayConfig>({"replay", "--ipfix-file", "out.ipfix", "x.pcap"});
    EXPECT_EQ(r.ipfix.file, "out.ipfix");
    EXPECT_TRUE(r.counting.counts(TS_TABLE_FLOWS));
    EXPECT_EQ(accepted_as<AgentConfig>({"agent", "--flows", "--ipfix", "c", "eth0"}).ipfix.collector, "c");
}

TEST(IpfixOptions, Refused)
{
    EXPECT_TRUE(contains(usage_error({"--ipfix", "a", "--ipfix-file", "b", "eth0"}), "one destination"));
    EXPECT_TRUE(contains(usage_error({"agent", "--ipfix", "c", "eth0"}), "--flows"));
    EXPECT_TRUE(contains(usage_error({"--ipfix", "c", "--ipfix-mtu", "10", "eth0"}), "--ipfix-mtu"));
    EXPECT_TRUE(
        contains(usage_error({"--ipfix", "c", "--ipfix-idle-timeout", "soon", "eth0"}), "--ipfix-idle-timeout"));
}

}  // namespace
}  // namespace trafstat
