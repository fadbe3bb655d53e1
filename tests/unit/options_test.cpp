// argv -> Options: defaults, every option, every usage error, help and version.
#include "cli/options.hpp"

#include "exit_codes.hpp"

#include <gtest/gtest.h>

#include <initializer_list>

namespace trafstat {
namespace {

ParseResult parse(std::initializer_list<const char*> args) {
    std::vector<const char*> argv = {"trafstat"};
    argv.insert(argv.end(), args.begin(), args.end());
    return parse_options(static_cast<int>(argv.size()), argv.data());
}

// Parses args that must be accepted.
Options ok(std::initializer_list<const char*> args) {
    ParseResult r = parse(args);
    if (const auto* exit = std::get_if<ParseExit>(&r)) {
        ADD_FAILURE() << "unexpected exit " << exit->code << ": " << exit->text;
        return {};
    }
    return std::get<Options>(r);
}

// Parses args that must be a usage error; returns the message.
std::string usage_error(std::initializer_list<const char*> args) {
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

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Options, Defaults) {
    const Options o = ok({});
    EXPECT_TRUE(o.interfaces.empty());
    EXPECT_EQ(o.hook, Hook::xdp);
    EXPECT_EQ(o.xdp_mode, XdpMode::auto_);
    EXPECT_EQ(o.tc_mode, TcMode::auto_);
    EXPECT_FALSE(o.drop);
    EXPECT_FALSE(o.force);
    EXPECT_DOUBLE_EQ(o.interval_s, 1.0);
    EXPECT_EQ(o.count, std::nullopt);
    EXPECT_EQ(o.timeout_s, std::nullopt);
    EXPECT_FALSE(o.verbose);
    EXPECT_EQ(o.format, OutputFormat::line);
    EXPECT_FALSE(o.hide_zero);
}

TEST(Options, NoArgvAtAll) {
    EXPECT_TRUE(std::holds_alternative<Options>(parse_options(0, nullptr)));
}

TEST(Options, Interfaces) {
    EXPECT_EQ(ok({"eth0"}).interfaces, std::vector<std::string>{"eth0"});
    EXPECT_EQ(ok({"veth0", "veth1"}).interfaces, (std::vector<std::string>{"veth0", "veth1"}));
    EXPECT_EQ(ok({"veth0", "-i", "2", "veth1"}).interfaces, (std::vector<std::string>{"veth0", "veth1"}));
    EXPECT_EQ(ok({"--", "eth0"}).interfaces, std::vector<std::string>{"eth0"});
    EXPECT_EQ(ok({"abcdefghijklmno"}).interfaces.front(), "abcdefghijklmno");  // 15: the maximum
    EXPECT_EQ(ok({"eth0.100"}).interfaces.front(), "eth0.100");
}

TEST(Options, BadInterfaceNames) {
    EXPECT_TRUE(contains(usage_error({"abcdefghijklmnop"}), "longer than 15"));
    EXPECT_TRUE(contains(usage_error({"a/b"}), "'a/b'"));
    EXPECT_TRUE(contains(usage_error({"eth 0"}), "whitespace"));
    EXPECT_TRUE(contains(usage_error({"eth\t0"}), "whitespace"));
    EXPECT_TRUE(contains(usage_error({"eth0:1"}), "eth0:1"));
    EXPECT_TRUE(contains(usage_error({".."}), "not an interface name"));
    EXPECT_TRUE(contains(usage_error({""}), "empty interface name"));
    EXPECT_TRUE(contains(usage_error({"eth0", "eth1", "eth0"}), "'eth0' given twice"));
}

TEST(Options, Hooks) {
    EXPECT_EQ(ok({"--hook", "xdp"}).hook, Hook::xdp);
    EXPECT_EQ(ok({"--hook", "tc-ingress"}).hook, Hook::tc_ingress);
    EXPECT_EQ(ok({"--hook", "tc-egress"}).hook, Hook::tc_egress);
    EXPECT_EQ(ok({"--hook", "tc"}).hook, Hook::tc_both);
    EXPECT_EQ(ok({"--hook=tc"}).hook, Hook::tc_both);
    EXPECT_TRUE(contains(usage_error({"--hook", "tcx"}), "--hook"));
    EXPECT_TRUE(contains(usage_error({"--hook"}), "--hook"));
}

TEST(Options, HookNames) {
    EXPECT_EQ(hook_name(Hook::xdp), "xdp");
    EXPECT_EQ(hook_name(Hook::tc_ingress), "tc-ingress");
    EXPECT_EQ(hook_name(Hook::tc_egress), "tc-egress");
    EXPECT_EQ(hook_name(Hook::tc_both), "tc");
}

TEST(Options, XdpModes) {
    EXPECT_EQ(ok({"--xdp-mode", "native"}).xdp_mode, XdpMode::native);
    EXPECT_EQ(ok({"--xdp-mode", "generic"}).xdp_mode, XdpMode::generic);
    EXPECT_EQ(ok({"--xdp-mode", "auto"}).xdp_mode, XdpMode::auto_);
    EXPECT_EQ(ok({"--hook", "xdp", "--xdp-mode", "generic"}).xdp_mode, XdpMode::generic);
    EXPECT_TRUE(contains(usage_error({"--xdp-mode", "skb"}), "--xdp-mode"));
}

TEST(Options, TcModes) {
    EXPECT_EQ(ok({"--hook", "tc", "--tc-mode", "tcx"}).tc_mode, TcMode::tcx);
    EXPECT_EQ(ok({"--hook", "tc-ingress", "--tc-mode", "clsact"}).tc_mode, TcMode::clsact);
    EXPECT_EQ(ok({"--hook", "tc-egress", "--tc-mode", "auto"}).tc_mode, TcMode::auto_);
    EXPECT_EQ(ok({"--hook", "tc"}).tc_mode, TcMode::auto_);
    EXPECT_TRUE(contains(usage_error({"--hook", "tc", "--tc-mode", "ingress"}), "--tc-mode"));
}

TEST(Options, ModeOfTheOtherHookIsAnError) {
    EXPECT_TRUE(
        contains(usage_error({"--hook", "tc", "--xdp-mode", "native"}), "--xdp-mode applies only to --hook xdp"));
    // even the default value, when given explicitly
    EXPECT_TRUE(contains(usage_error({"--hook", "tc-egress", "--xdp-mode", "auto"}), "--xdp-mode"));
    EXPECT_TRUE(contains(usage_error({"--tc-mode", "tcx"}), "--tc-mode applies only to"));
    EXPECT_TRUE(contains(usage_error({"--hook", "xdp", "--tc-mode", "auto"}), "--tc-mode"));
}

TEST(Options, Flags) {
    const Options o = ok({"-d", "--force", "-v", "--json", "-z"});
    EXPECT_TRUE(o.drop);
    EXPECT_TRUE(o.force);
    EXPECT_TRUE(o.verbose);
    EXPECT_EQ(o.format, OutputFormat::json);
    EXPECT_TRUE(o.hide_zero);

    const Options l = ok({"--drop", "--verbose", "--hide-zero"});
    EXPECT_TRUE(l.drop);
    EXPECT_TRUE(l.verbose);
    EXPECT_TRUE(l.hide_zero);

    const Options combined = ok({"-dvz"});
    EXPECT_TRUE(combined.drop);
    EXPECT_TRUE(combined.verbose);
    EXPECT_TRUE(combined.hide_zero);
}

TEST(Options, DropNeedsXdp) {
    EXPECT_TRUE(ok({"-d", "--xdp-mode", "native", "eth1"}).drop);
    for (const char* hook : {"tc", "tc-ingress", "tc-egress"}) {
        const std::string text = usage_error({"-d", "--hook", hook});
        EXPECT_TRUE(contains(text, "--drop works only with --hook xdp: TC cannot drop")) << text;
    }
}

TEST(Options, Interval) {
    EXPECT_DOUBLE_EQ(ok({"-i", "0.5"}).interval_s, 0.5);
    EXPECT_DOUBLE_EQ(ok({"--interval", "2"}).interval_s, 2.0);
    EXPECT_DOUBLE_EQ(ok({"--interval=.25"}).interval_s, 0.25);
    EXPECT_DOUBLE_EQ(ok({"-i", "3600"}).interval_s, 3600.0);
    EXPECT_DOUBLE_EQ(ok({"-i", "0.001"}).interval_s, 0.001);
    for (const char* bad : {"0", "-1", "3600.5", "abc", "1s", "inf", "nan", "", "1e9", " 1"}) {
        const std::string text = usage_error({"-i", bad});
        EXPECT_TRUE(contains(text, "--interval")) << bad << ": " << text;
    }
}

TEST(Options, Count) {
    EXPECT_EQ(ok({"-c", "10"}).count, 10u);
    EXPECT_EQ(ok({"--count", "1"}).count, 1u);
    EXPECT_EQ(ok({"-c", "18446744073709551615"}).count, 18446744073709551615ULL);
    for (const char* bad : {"0", "-1", "1.5", "x", "", "18446744073709551616", "+3"}) {
        const std::string text = usage_error({"-c", bad});
        EXPECT_TRUE(contains(text, "--count")) << bad << ": " << text;
    }
}

TEST(Options, Timeout) {
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

TEST(Options, CountAndTimeoutTogether) {
    const Options o = ok({"-i", "0.5", "-c", "10", "-t", "1m", "eth0"});
    EXPECT_DOUBLE_EQ(o.interval_s, 0.5);
    EXPECT_EQ(o.count, 10u);
    EXPECT_DOUBLE_EQ(o.timeout_s.value(), 60.0);
    EXPECT_EQ(o.interfaces, std::vector<std::string>{"eth0"});
}

TEST(Options, UnknownOptionIsAUsageError) {
    EXPECT_TRUE(contains(usage_error({"--bogus"}), "--bogus"));
    EXPECT_TRUE(contains(usage_error({"-x"}), "-x"));
}

TEST(Options, MissingValueIsAUsageError) {
    usage_error({"-i"});
    usage_error({"-c"});
    usage_error({"eth0", "-t"});
}

TEST(ParseDuration, Units) {
    EXPECT_DOUBLE_EQ(parse_duration("5").value(), 5.0);
    EXPECT_DOUBLE_EQ(parse_duration("2.5s").value(), 2.5);
    EXPECT_DOUBLE_EQ(parse_duration("1500ms").value(), 1.5);
    EXPECT_DOUBLE_EQ(parse_duration("2m").value(), 120.0);
    EXPECT_DOUBLE_EQ(parse_duration("1h").value(), 3600.0);
    EXPECT_DOUBLE_EQ(parse_duration("0.5h").value(), 1800.0);
    EXPECT_DOUBLE_EQ(parse_duration(".5").value(), 0.5);
    EXPECT_DOUBLE_EQ(parse_duration("1ms").value(), 0.001);
}

TEST(ParseDuration, Junk) {
    for (const char* bad : {"", "s", "ms", "0", "0ms", "-1", "-1s", "+1", "1 s", " 1", "1s ", "1d", "1sm", "1hh",
                            "abc", "inf", "nan", "1e400", "0x10", "1,5"}) {
        EXPECT_EQ(parse_duration(bad), std::nullopt) << "'" << bad << "'";
    }
}

TEST(Help, ExitsZeroOnStdout) {
    for (const char* flag : {"-h", "--help"}) {
        ParseResult r = parse({flag});
        const auto* exit = std::get_if<ParseExit>(&r);
        ASSERT_NE(exit, nullptr) << flag;
        EXPECT_EQ(exit->code, exit_code::ok);
        EXPECT_FALSE(exit->to_stderr);
        const std::string& text = exit->text;
        EXPECT_TRUE(contains(text, "Usage: trafstat [options] [IFACE...]")) << text;
        EXPECT_TRUE(contains(text, "Count packets and bits per protocol class in the kernel (XDP or TC)"));
        for (const char* part : {"--hook", "--xdp-mode", "--tc-mode", "--drop", "--force", "--interval", "--count",
                                 "--timeout", "--verbose", "--json", "--hide-zero", "--version", "SECONDS",
                                 "DURATION", "sudo trafstat -i 0.5 -c 10 eth0", "sudo trafstat --hook tc veth0 veth1",
                                 "Exit codes"}) {
            EXPECT_TRUE(contains(text, part)) << part;
        }
        EXPECT_FALSE(text.ends_with("\n"));
    }
}

TEST(Help, WinsOverOtherArguments) {
    ParseResult r = parse({"-i", "2", "eth0", "--help"});
    ASSERT_TRUE(std::holds_alternative<ParseExit>(r));
    EXPECT_EQ(std::get<ParseExit>(r).code, 0);
}

TEST(Version, ExitsZeroOnStdout) {
    for (const char* flag : {"-V", "--version"}) {
        ParseResult r = parse({flag});
        const auto* exit = std::get_if<ParseExit>(&r);
        ASSERT_NE(exit, nullptr) << flag;
        EXPECT_EQ(exit->code, exit_code::ok);
        EXPECT_FALSE(exit->to_stderr);
        EXPECT_EQ(exit->text, "trafstat " TRAFSTAT_VERSION);
    }
}

}  // namespace
}  // namespace trafstat
