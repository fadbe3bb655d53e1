#include "cli/options.hpp"

#include <trafstat/abi.h>

#include "base/exit_codes.hpp"
#include "base/printable.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <set>
#include <string_view>
#include <tuple>

namespace trafstat {

namespace {

constexpr std::string_view k_description =
    "Count packets and bits per protocol class in the kernel (XDP or TC) and print rates every interval.";

constexpr std::string_view k_footer = R"(Examples:
  sudo trafstat                              default-route interface, XDP, every second
  sudo trafstat -i 0.5 -c 10 eth0            10 lines, every half second
  sudo trafstat --hook tc veth0 veth1        both directions of two interfaces, with TC
  sudo trafstat --json -t 30s eth0 | jq .    30 seconds of NDJSON (docs/json.md)
  sudo trafstat -d eth1                      count, then drop everything (load tests)
  sudo trafstat --tui eth0                   full-screen view, flows below the totals (q quits)
  sudo trafstat --ipfix 10.0.0.5 eth0        flow records over IPFIX to 10.0.0.5:4739 (docs/ipfix.md)

  sudo trafstat replay capture.pcapng          a capture through the same program (trafstat replay --help)
  sudo trafstat gen -n 1000000 veth0           send a million frames from the kernel (trafstat gen --help)

Pinned, counting with no process (docs/agent.md):
  sudo trafstat attach --flows eth0            attach, pin, exit; the kernel keeps counting
  sudo trafstat agent --flows eth0             adopt (or attach) and serve Prometheus metrics on 127.0.0.1:9469
  sudo trafstat status                         every attachment, its tables and its agent
  sudo trafstat dump --json eth0               totals since attach, with no agent running
  sudo trafstat control eth0 --flows off       stop counting flows from the next packet
  sudo trafstat detach eth0                    remove the links and the pins

Exit codes: 0 ok, 1 runtime error, 2 usage, 3 no interface, 4 privileges, 5 attach refused,
6 BPF load/verifier failure, 7 bad capture, 9 metrics address, 10 pin dir, 11 not attached,
12 output cannot be written, 13 an attachment lost while counting (docs/exit-codes.md).)";

constexpr std::string_view k_replay_description =
    "Run every packet of a pcap or pcapng file, plain or gzip- or zstd-compressed, through trafstat's own XDP "
    "program (BPF_PROG_TEST_RUN, nothing is attached) and print the same report as live counting.";

constexpr std::string_view k_replay_footer =
    R"(Link types: Ethernet; raw IPv4/IPv6 and Linux cooked (SLL, SLL2) get a synthesised
Ethernet header. Bytes are each record's original length, even when the capture holds less.

Examples:
  sudo trafstat replay capture.pcapng               summary of every class
  sudo trafstat replay --json -i 1 capture.pcap     per-second lines in capture time, then the summary
  sudo trafstat replay capture.pcapng.zst           compressed (gzip, zstd): told by content
  tcpdump -w - | gzip | sudo trafstat replay -      from standard input

Exit codes: 0 ok, 2 usage, 4 privileges, 6 BPF load failure, 7 capture missing, damaged or of an
unsupported link type (the report of what was read is still printed), 12 output cannot be written,
130 interrupted (docs/exit-codes.md).)";

constexpr std::string_view k_gen_description =
    "Send crafted frames out of IFACE at line rate from inside the kernel: BPF_PROG_RUN in live-frames mode runs "
    "trafstat's generator program, which writes each frame (protocol round-robin, source address and port per "
    "flow, correct checksums) and sends it with XDP_TX, or injects it into the local stack as received on IFACE "
    "with --inject. Reports packets, bytes, Mpps and Gbps.";

constexpr std::string_view k_gen_footer =
    R"(Frames: -s BYTES without FCS (at least 60, and the longest header of --proto: 74 with tcp6;
at most IFACE's MTU + 14). Packet k of a CPU uses protocol k % P of --proto and flow (k / P) % N:
source address = --src-ip + flow, source port (ICMP: echo identifier) = 1024 + flow.
Default addresses: 198.18.0.1 -> 198.19.0.1, 2001:db8:1::1 -> 2001:db8:2::1, port 9;
MACs: IFACE's own -> ff:ff:ff:ff:ff:ff (with --inject: IFACE's own -> IFACE's own).

XDP_TX out of a real NIC puts real packets on that network. See docs/gen.md.

Examples:
  sudo trafstat gen -n 1000000 va0                         a million 64-byte UDP frames to va0's peer
  sudo trafstat gen -t 10s --proto udp4,tcp6 --flows 1000 va0
  sudo trafstat gen --rate 100k -s 1514 -n 500000 va0      paced: 100 000 frames per second
  sudo trafstat gen --inject -n 1000 --json va0            into va0's own receive path

Exit codes: 0 ok, 1 runtime error, 2 usage, 3 no interface, 4 privileges, 6 BPF load failure,
8 the kernel cannot send live frames (Linux 5.18+), 12 output cannot be written, 130 interrupted before
--count (docs/exit-codes.md).)";

constexpr double k_max_interval_s = 3600;
// The floors of -i (README, docs/replay.md): live and the agent drain every
// interval, and a drain of full tables takes milliseconds; a replay bin is a
// line of capture time, which pcap stamps in microseconds.
constexpr double k_min_interval_s = 0.01;
constexpr double k_min_bin_s = 1e-6;
constexpr unsigned k_max_gen_threads = 1024;
constexpr std::uint32_t k_max_gen_batch = 256;  // the kernel's TEST_XDP_MAX_BATCH
constexpr std::size_t k_max_ifname = 15;        // IFNAMSIZ - 1

// CLI11's help, with the usage line first (as in man pages) and then the description.
class Formatter : public CLI::Formatter {
public:
    Formatter(std::string_view usage, std::string_view description) : usage_(usage), description_(description) {}
    std::string make_usage(const CLI::App*, std::string) const override
    {
        return fmt::format("Usage: {}\n\n{}\n", usage_, description_);
    }
    std::string make_description(const CLI::App*) const override { return {}; }

private:
    std::string usage_;
    std::string description_;
};

// A CLI11 check of one of a fixed set of words; the help text lists them itself.
CLI::Validator one_of(std::vector<std::string> words)
{
    return CLI::IsMember(std::move(words)).description("");
}

// An option that takes one name of an enum's name table and stores its value.
template <class Enum, std::size_t N>
CLI::Option* add_enum_option(CLI::App& app, const std::string& flags, Enum& value, const NameTable<Enum, N>& names,
                             const std::string& help, const std::string& type_name)
{
    return app
        .add_option_function<std::string>(
            flags, [&value, &names](const std::string& name) { value = *names.parse(name); }, help)
        ->check(one_of(names.names()))
        ->type_name(type_name);
}

// "[default: auto]" from the name table.
template <class Enum, std::size_t N>
std::string default_of(const NameTable<Enum, N>& names, Enum value)
{
    return fmt::format("[default: {}]", names.name(value));
}

// The whole of `text` as a finite number; no sign, spaces, hex, inf or nan.
std::optional<double> parse_number(std::string_view text)
{
    if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.')) {
        return std::nullopt;
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

// A CLI11 check: `op` returns an error message, or "" when the value is fine.
CLI::Validator check(std::function<std::string(std::string&)> op)
{
    return CLI::Validator(std::move(op), "");
}

// -i: a number of seconds from `min_s` (written `min_text`) to k_max_interval_s.
CLI::Validator interval_check(double min_s, std::string_view min_text)
{
    return check([min_s, min_text](std::string& text) -> std::string {
        const auto v = parse_number(text);
        if (v && *v >= min_s && *v <= k_max_interval_s) {
            return {};
        }
        return fmt::format("'{}' is not a number of seconds from {} to {}", text, min_text, k_max_interval_s);
    });
}

std::string count_error(std::string& text)
{
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (!text.empty() && ec == std::errc{} && end == text.data() + text.size() && n >= 1) {
        return {};
    }
    return fmt::format("'{}' is not a whole number >= 1", text);
}

std::string duration_error(std::string& text)
{
    if (parse_duration(text)) {
        return {};
    }
    return fmt::format("'{}' is not a duration > 0 (e.g. 30, 30s, 1500ms, 2m, 1h)", text);
}

// The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or
// whitespace. Returns why `name` is not a valid interface name, or "".
std::string ifname_error(const std::string& name)
{
    if (name.empty()) {
        return "empty interface name";
    }
    if (name.size() > k_max_ifname) {
        return fmt::format("interface name '{}' is longer than {} characters", name, k_max_ifname);
    }
    if (name == "." || name == "..") {
        return fmt::format("'{}' is not an interface name", name);
    }
    const bool bad_char = std::any_of(name.begin(), name.end(), [](char c) {
        return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c));
    });
    if (bad_char) {
        return fmt::format("interface name '{}' contains '/', ':' or whitespace", name);
    }
    return {};
}

// A usage error is one line on stderr: the option values it echoes are made printable.
ParseExit usage_error(std::string_view reason)
{
    while (!reason.empty() && reason.back() == '\n') {
        reason.remove_suffix(1);
    }
    return {exit_code::usage, fmt::format("trafstat: {} (see --help)", printable(reason)), true};
}

std::string without_trailing_newlines(std::string text)
{
    while (!text.empty() && text.back() == '\n') {
        text.pop_back();
    }
    return text;
}

// --help wins over the other arguments of a well-formed line (`-i 2 eth0 --help`), as
// a bad value there is already a usage error; so is what CLI11 could not place (an
// unknown option, an extra argument), which it would otherwise drop for the help.
ParseExit help_exit(CLI::App& app)
{
    const std::vector<std::string> extras = app.remaining();
    if (!extras.empty())
        return usage_error(fmt::format("unexpected argument '{}'", extras.front()));
    return ParseExit{exit_code::ok, without_trailing_newlines(app.help()), false};
}

// CLI11 wants the arguments last to first.
std::vector<std::string> reversed_args(int argc, const char* const* argv, int first)
{
    std::vector<std::string> args;
    for (int i = argc - 1; i >= first; --i) {
        args.emplace_back(argv[i] ? argv[i] : "");
    }
    return args;
}

// Parses a subcommand's arguments (argv[2..]); help or a usage error as a ParseExit.
std::optional<ParseExit> parse_subcommand(CLI::App& app, int argc, const char* const* argv)
{
    try {
        app.parse(reversed_args(argc, argv, 2));
    } catch (const CLI::CallForHelp&) {
        return help_exit(app);
    } catch (const CLI::ParseError& e) {
        return usage_error(e.what());
    }
    return std::nullopt;
}

// The keyed-table options of a run (live or replay): --talkers, --ports,
// --flows, their table sizes, --histogram, --top, --sort, --talkers-by,
// --idle-timeout. `finish` turns the view flags into o.tables after parsing.
struct TableFlags {
    bool talkers = false, ports = false, flows = false;
    std::string idle;

    // `views`: the options of how the views are shown too (not for attach and the agent).
    void add_to(CLI::App& app, CountingConfig& o, bool views = true)
    {
        app.add_flag("--talkers", talkers, "Count and show talkers: per address, sent and received (docs/tables.md)");
        app.add_flag("--ports", ports, "Count and show ports: per protocol and port, with service names");
        app.add_flag("--flows", flows, "Count and show flows: per 5-tuple (ICMP: type and code)");
        const auto size = [&](const char* flag, ts_table t, const char* what) {
            app.add_option(flag, o.table_size[t],
                           fmt::format("Keys the {} table holds per interval, all CPUs together, rounded up to a "
                                       "power of two; kernel memory: 256 bytes per key, and the CPUs' caches share "
                                       "what the tables leave of 64 MiB [default: {}]",
                                       what, kDefaultTableSizes[t]))
                ->check(CLI::Range(16U, 1U << 26))
                ->type_name("N");
        };
        size("--ip-table-size", TS_TABLE_TALKERS, "talkers (per-IP)");
        size("--port-table-size", TS_TABLE_PORTS, "ports");
        size("--flow-table-size", TS_TABLE_FLOWS, "flows");
        app.add_flag("--histogram", o.histogram, "Count packet sizes in RMON buckets (on with any table)");
        if (!views)
            return;
        app.add_option("--top", o.views.top,
                       fmt::format("Rows per view and interval; 0 shows all [default: {}]", ViewOptions{}.top))
            ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 24))
            ->type_name("N");
        add_enum_option(app, "--sort", o.views.sort, kSortKeyNames,
                        fmt::format("Order of the views: {} {}", kSortKeyNames.alternatives(),
                                    default_of(kSortKeyNames, ViewOptions{}.sort)),
                        "KEY");
        add_enum_option(app, "--talkers-by", o.views.talkers_by, kTalkerSideNames,
                        fmt::format("Order of the talkers {}:\n{}",
                                    default_of(kTalkerSideNames, ViewOptions{}.talkers_by),
                                    kTalkerSideNames.described()),
                        "SIDE");
        app.add_option("--idle-timeout", idle,
                       "Forget keys idle this long; the summary keeps their counts as `aged` [default: 5m]")
            ->check(check(duration_error))
            ->type_name("DURATION");
    }

    void finish(CountingConfig& o) const
    {
        if (!idle.empty())
            o.idle_timeout_s = parse_duration(idle);
        o.tables = (talkers ? TS_TABLE_BIT(TS_TABLE_TALKERS) : 0) | (ports ? TS_TABLE_BIT(TS_TABLE_PORTS) : 0) |
                   (flows ? TS_TABLE_BIT(TS_TABLE_FLOWS) : 0);
        if (o.tables)
            o.histogram = true;
    }
};

// Where and how a run attaches (live, attach, agent): --hook, --xdp-mode,
// --tc-mode, -d; `check` refuses the combinations that make no sense.
struct AttachFlags {
    CLI::Option* xdp_mode = nullptr;
    CLI::Option* tc_mode = nullptr;

    void add_to(CLI::App& app, AttachConfig& attach)
    {
        add_enum_option(
            app, "--hook", attach.hook, kHookNames,
            fmt::format("Where to count {}:\n{}", default_of(kHookNames, AttachConfig{}.hook), kHookNames.described()),
            "HOOK");
        xdp_mode =
            add_enum_option(app, "--xdp-mode", attach.xdp_mode, kXdpModeNames,
                            fmt::format("How XDP attaches {}:\n{}", default_of(kXdpModeNames, AttachConfig{}.xdp_mode),
                                        kXdpModeNames.described()),
                            "MODE");
        tc_mode =
            add_enum_option(app, "--tc-mode", attach.tc_mode, kTcModeNames,
                            fmt::format("How TC attaches {}:\n{}", default_of(kTcModeNames, AttachConfig{}.tc_mode),
                                        kTcModeNames.described()),
                            "MODE");
        app.add_flag("-d,--drop", attach.drop, "Count totals only and drop every packet (XDP only; for load tests)");
    }

    std::optional<ParseExit> check(const AttachConfig& attach, const CountingConfig& counting) const
    {
        if (attach.drop && (counting.tables || counting.histogram)) {
            return usage_error("--drop counts totals only: it cannot be combined with --talkers, --ports, --flows or "
                               "--histogram");
        }
        const bool tc = attach.hook != Hook::xdp;
        if (tc && attach.drop) {
            return usage_error(
                "--drop works only with --hook xdp: TC cannot drop before the kernel has allocated the packet");
        }
        if (tc && xdp_mode->count() > 0) {
            return usage_error(
                fmt::format("--xdp-mode applies only to --hook xdp, not --hook {}", hook_name(attach.hook)));
        }
        if (!tc && tc_mode->count() > 0) {
            return usage_error("--tc-mode applies only to --hook tc-ingress, tc-egress or tc");
        }
        return std::nullopt;
    }
};

// Interface names: valid, each once.
std::optional<ParseExit> check_interfaces(const std::vector<std::string>& names)
{
    std::set<std::string_view> seen;
    for (const std::string& name : names) {
        if (auto error = ifname_error(name); !error.empty()) {
            return usage_error(error);
        }
        if (!seen.insert(name).second) {
            return usage_error(fmt::format("interface '{}' given twice", name));
        }
    }
    return std::nullopt;
}

// --pin-dir, for every command of pinned attachments.
void add_pin_dir(CLI::App& app, std::string& pin_dir)
{
    app.add_option("--pin-dir", pin_dir,
                   fmt::format("Where the pinned attachments live, on a BPF filesystem [default: {}]", kDefaultPinDir))
        ->type_name("DIR");
}

// Flow export (docs/ipfix.md): --ipfix, --ipfix-file and their settings.
struct ExportFlags {
    std::string active, idle, refresh;

    void add_to(CLI::App& app, ExportConfig& o)
    {
        app.add_option("--ipfix", o.collector,
                       "Export flow records over IPFIX (UDP) to HOST[:PORT], port 4739 by default; turns on --flows "
                       "(docs/ipfix.md)")
            ->type_name("HOST:PORT");
        app.add_option("--ipfix-file", o.file, "Write the IPFIX messages to FILE (RFC 5655) instead")
            ->type_name("FILE");
        app.add_option("--ipfix-active-timeout", active, "Export a flow that lasts every DURATION [default: 60s]")
            ->check(check(duration_error))
            ->type_name("DURATION");
        app.add_option("--ipfix-idle-timeout", idle, "A flow idle for DURATION has ended [default: 15s]")
            ->check(check(duration_error))
            ->type_name("DURATION");
        app.add_option("--ipfix-mtu", o.mtu, "The largest IPFIX message, bytes [default: 1400]")
            ->check(CLI::Range(std::size_t{64}, std::size_t{65507}))
            ->type_name("BYTES");
        app.add_option("--ipfix-template-refresh", refresh,
                       "Send the templates again every DURATION over UDP "
                       "[default: 10m]")
            ->check(check(duration_error))
            ->type_name("DURATION");
        app.add_option("--ipfix-domain", o.observation_domain, "The observation domain id [default: 1]")
            ->type_name("N");
    }

    // Turns on the flows table the records come from.
    std::optional<ParseExit> finish(ExportConfig& o, CountingConfig& counting) const
    {
        if (!active.empty())
            o.active_timeout_s = *parse_duration(active);
        if (!idle.empty())
            o.idle_timeout_s = *parse_duration(idle);
        if (!refresh.empty())
            o.template_refresh_s = *parse_duration(refresh);
        if (!o.collector.empty() && !o.file.empty())
            return usage_error("--ipfix and --ipfix-file cannot be combined: one destination");
        if (o.on()) {
            counting.tables |= TS_TABLE_BIT(TS_TABLE_FLOWS);
            counting.histogram = true;
        }
        return std::nullopt;
    }
};

// Drop statistics (docs/drops.md): --drops and its flow table's size.
void add_drop_options(CLI::App& app, DropsConfig& o)
{
    app.add_flag("--drops", o.on,
                 "Count what the kernel drops on each IFACE, and why: per reason, class and flow (docs/drops.md)");
    app.add_option("--drop-flow-table-size", o.flow_capacity,
                   fmt::format("Dropped flows kept per interval, all interfaces together; the rest is counted as "
                               "flow_overflow [default: {}]",
                               DropsConfig{}.flow_capacity))
        ->check(CLI::Range(1U, 1U << 20))
        ->type_name("N");
}

// `trafstat replay [options] FILE`
ParseResult parse_replay(int argc, const char* const* argv)
{
    ReplayConfig o;
    CLI::App app{std::string{k_replay_description}, "trafstat replay"};
    app.formatter(std::make_shared<Formatter>("trafstat replay [options] FILE", k_replay_description));
    app.footer(std::string{k_replay_footer});
    app.add_option("FILE", o.file, "pcap or pcapng file, plain or gzip/zstd-compressed; - reads standard input")
        ->required()
        ->type_name("");
    double bin = 0;
    auto* bin_opt =
        app.add_option("-i,--interval", bin, "Also print one report per SECONDS of capture time, from 0.000001")
            ->check(interval_check(k_min_bin_s, "0.000001"))
            ->type_name("SECONDS");
    bool json = false;
    app.add_flag("--json", json, "One JSON object per line (NDJSON; schema in docs/json.md)");
    app.add_flag("-z,--hide-zero", o.output.hide_zero, "Hide classes that saw no packets (never the all row)");
    app.add_flag("-v,--verbose", o.verbose, "libbpf debug output, and the whole verifier log on load errors");
    TableFlags tables;
    tables.add_to(app, o.counting);
    ExportFlags ipfix;
    ipfix.add_to(app, o.ipfix);
    bool drops = false;
    app.add_flag("--drops", drops)->group("");  // refused below, with the reason
    if (auto exit = parse_subcommand(app, argc, argv)) {
        return *exit;
    }
    if (drops) {
        return usage_error("replay: --drops counts what the kernel drops on a live interface; a capture holds only "
                           "what was captured, nothing was dropped (use it with live counting or the agent)");
    }
    tables.finish(o.counting);
    if (auto exit = ipfix.finish(o.ipfix, o.counting)) {
        return *exit;
    }
    o.output.format = json ? OutputFormat::json : OutputFormat::line;
    if (bin_opt->count() > 0) {
        o.bin_s = bin;
    }
    return o;
}

// A whole number in [lo, hi], or nullopt.
std::optional<std::uint64_t> parse_whole(std::string_view text, std::uint64_t lo, std::uint64_t hi)
{
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n < lo || n > hi) {
        return std::nullopt;
    }
    return n;
}

CLI::Validator whole_in(std::uint64_t lo, std::uint64_t hi, std::string_view what)
{
    return check([lo, hi, what = std::string{what}](std::string& text) -> std::string {
        if (parse_whole(text, lo, hi)) {
            return {};
        }
        return fmt::format("'{}' is not {} from {} to {}", text, what, lo, hi);
    });
}

// "20000", "2.5e6", "100k", "1.5M", "1G" frames per second; nullopt on junk or <= 0.
std::optional<double> parse_rate(std::string_view text)
{
    double scale = 1;
    if (!text.empty()) {
        switch (text.back()) {
        case 'k':
        case 'K':
            scale = 1e3;
            break;
        case 'M':
            scale = 1e6;
            break;
        case 'G':
            scale = 1e9;
            break;
        default:
            break;
        }
        if (scale != 1) {
            text.remove_suffix(1);
        }
    }
    const auto v = parse_number(text);
    if (!v || !(*v * scale > 0) || !std::isfinite(*v * scale)) {
        return std::nullopt;
    }
    return *v * scale;
}

std::vector<std::string> split_commas(std::string_view text)
{
    std::vector<std::string> parts;
    for (;;) {
        const auto comma = text.find(',');
        parts.emplace_back(text.substr(0, comma));
        if (comma == std::string_view::npos) {
            return parts;
        }
        text.remove_prefix(comma + 1);
    }
}

std::string proto_names()
{
    std::string names;
    for (gen::Proto p : gen::kAllProtos) {
        names += names.empty() ? "" : ", ";
        names += gen::proto_name(p);
    }
    return names;
}

// "udp4,tcp6,icmp4" -> protocols, or the reason it is not such a list.
std::variant<std::vector<gen::Proto>, std::string> parse_proto_list(std::string_view text)
{
    std::vector<gen::Proto> protos;
    for (const std::string& name : split_commas(text)) {
        const auto p = gen::proto_from_name(name);
        if (!p) {
            return fmt::format("--proto: '{}' is not one of {}", name, proto_names());
        }
        protos.push_back(*p);
    }
    if (protos.size() > TS_GEN_MAX_SLOTS) {
        return fmt::format("--proto: {} entries, at most {}", protos.size(), TS_GEN_MAX_SLOTS);
    }
    return protos;
}

// --src-ip/--dst-ip: one address, or an IPv4 and an IPv6 address separated by a comma.
std::string set_ip_bases(std::string_view option, std::string_view text, std::optional<gen::Ip4>& v4,
                         std::optional<gen::Ip6>& v6)
{
    for (const std::string& part : split_commas(text)) {
        const auto ip = gen::parse_ip(part);
        if (!ip) {
            return fmt::format("{}: '{}' is not an IPv4 or IPv6 address", option, part);
        }
        if ((ip->v4 && v4) || (ip->v6 && v6)) {
            return fmt::format("{}: two {} addresses", option, ip->v4 ? "IPv4" : "IPv6");
        }
        if (ip->v4) {
            v4 = ip->v4;
        } else {
            v6 = ip->v6;
        }
    }
    return {};
}

// `trafstat gen [options] IFACE`
ParseResult parse_gen(int argc, const char* const* argv)
{
    GenConfig g;
    CLI::App app{std::string{k_gen_description}, "trafstat gen"};
    app.formatter(std::make_shared<Formatter>("trafstat gen [options] IFACE", k_gen_description));
    app.footer(std::string{k_gen_footer});

    std::string size, protos, flows, count, duration, rate, threads, batch, action = "tx";
    std::string src_mac, dst_mac, src_ip, dst_ip;
    app.add_option("IFACE", g.interface, "The interface to send from (or inject into, with --inject)")
        ->required()
        ->type_name("");
    auto* size_opt = app.add_option("-s,--size", size,
                                    fmt::format("Frame size without FCS, {}..{} (and <= MTU + 14) [default: {}]",
                                                gen::kMinFrame, gen::kMaxFrame, gen::kDefaultFrame))
                         ->check(whole_in(gen::kMinFrame, gen::kMaxFrame, "a frame size in bytes"))
                         ->type_name("BYTES");
    app.add_option("--proto", protos,
                   fmt::format("Comma-separated protocols, sent round-robin; a repeat weighs more:\n"
                               "{} [default: udp4]",
                               proto_names()))
        ->type_name("LIST");
    app.add_option("--flows", flows, "Distinct 5-tuples: source address and port vary per flow [default: 1]")
        ->check(whole_in(1, gen::kMaxFlows, "a number of flows"))
        ->type_name("N");
    auto* count_opt = app.add_option("-n,--count", count, "Send exactly N frames, then stop")
                          ->check(check(count_error))
                          ->type_name("N");
    auto* duration_opt = app.add_option("-t,--duration", duration, "Stop after DURATION: 30 (seconds), 30s, 1500ms, 2m")
                             ->check(check(duration_error))
                             ->type_name("DURATION");
    auto* rate_opt =
        app.add_option("--rate", rate, "At most PPS frames per second over all threads (100000, 100k, 1.5M)")
            ->check(check([](std::string& text) -> std::string {
                return parse_rate(text) ? "" : fmt::format("'{}' is not a rate > 0 (e.g. 20000, 100k, 1.5M)", text);
            }))
            ->type_name("PPS");
    auto* threads_opt =
        app.add_option("--threads", threads, "Sending threads, each pinned to one CPU [default: one per CPU]")
            ->check(whole_in(1, k_max_gen_threads, "a number of threads"))
            ->type_name("N");
    app.add_option("--batch", batch, "Frames per live-frames batch, 1..256 [default: 64]")
        ->check(whole_in(1, k_max_gen_batch, "a batch size"))
        ->type_name("N");
    auto* inject_opt =
        app.add_flag("--inject", g.inject, "XDP_PASS: inject the frames into the local stack as received on IFACE");
    auto* action_opt =
        app.add_option("--action", action, "tx (XDP_TX, send out of IFACE) or pass (= --inject) [default: tx]")
            ->check(one_of({"tx", "pass"}))
            ->type_name("ACTION");
    app.add_option("--src-mac", src_mac, "Source MAC [default: IFACE's]")->type_name("MAC");
    app.add_option("--dst-mac", dst_mac, "Destination MAC [default: ff:ff:ff:ff:ff:ff; with --inject IFACE's]")
        ->type_name("MAC");
    app.add_option("--src-ip", src_ip, "Source address of flow 0, IPv4 and/or IPv6 (comma-separated)")
        ->type_name("ADDR[,ADDR]");
    app.add_option("--dst-ip", dst_ip, "Destination address, IPv4 and/or IPv6 (comma-separated)")
        ->type_name("ADDR[,ADDR]");
    bool json = false;
    app.add_flag("--json", json, "The summary as one JSON object (docs/gen.md)");
    app.add_flag("-v,--verbose", g.verbose, "libbpf debug output, and the whole verifier log on load errors");
    if (auto exit = parse_subcommand(app, argc, argv)) {
        return *exit;
    }
    g.format = json ? OutputFormat::json : OutputFormat::line;

    if (auto error = ifname_error(g.interface); !error.empty()) {
        return usage_error(error);
    }
    if (!protos.empty() || app.count("--proto") > 0) {
        auto parsed = parse_proto_list(protos);
        if (auto* error = std::get_if<std::string>(&parsed)) {
            return usage_error(*error);
        }
        g.protos = std::get<std::vector<gen::Proto>>(parsed);
    }
    const std::size_t min_size = gen::min_frame_size(g.protos);
    if (size_opt->count() > 0) {
        g.frame_size = *parse_whole(size, gen::kMinFrame, gen::kMaxFrame);
        if (*g.frame_size < min_size) {
            return usage_error(
                fmt::format("-s {}: the --proto list needs frames of at least {} bytes", size, min_size));
        }
    }
    if (!flows.empty()) {
        g.flows = static_cast<std::uint32_t>(*parse_whole(flows, 1, gen::kMaxFlows));
    }
    if (count_opt->count() > 0) {
        g.count = *parse_whole(count, 1, UINT64_MAX);
    }
    if (duration_opt->count() > 0) {
        g.duration_s = parse_duration(duration);
    }
    if (rate_opt->count() > 0) {
        g.rate_pps = parse_rate(rate);
    }
    if (threads_opt->count() > 0) {
        g.threads = static_cast<unsigned>(*parse_whole(threads, 1, k_max_gen_threads));
    }
    if (!batch.empty()) {
        g.batch = static_cast<std::uint32_t>(*parse_whole(batch, 1, k_max_gen_batch));
    }
    if (action_opt->count() > 0) {
        if (inject_opt->count() > 0 && action != "pass") {
            return usage_error("--inject is --action pass: it contradicts --action tx");
        }
        g.inject = action == "pass";
    }
    for (auto [name, text, mac] :
         {std::tuple{"--src-mac", &src_mac, &g.src_mac}, std::tuple{"--dst-mac", &dst_mac, &g.dst_mac}}) {
        if (app.count(name) == 0) {
            continue;
        }
        *mac = gen::parse_mac(*text);
        if (!*mac) {
            return usage_error(fmt::format("{}: '{}' is not a MAC address like 02:00:00:00:0a:01", name, *text));
        }
    }
    if (app.count("--src-ip") > 0) {
        if (auto error = set_ip_bases("--src-ip", src_ip, g.src4, g.src6); !error.empty()) {
            return usage_error(error);
        }
    }
    if (app.count("--dst-ip") > 0) {
        if (auto error = set_ip_bases("--dst-ip", dst_ip, g.dst4, g.dst6); !error.empty()) {
            return usage_error(error);
        }
    }
    return g;
}

// The options `attach` and `agent` share: where and what to count, pinned.
struct PinnedAttachFlags {
    AttachFlags attach;
    TableFlags tables;

    void add_to(CLI::App& app, AttachCommandConfig& o)
    {
        app.add_option("IFACE", o.interfaces, "Interfaces to count on (default: the one of the default route)")
            ->type_name("");
        attach.add_to(app, o.attach);
        tables.add_to(app, o.counting, false);
        add_pin_dir(app, o.pin_dir);
        app.add_option("--totals-size", o.totals_size,
                       "Keys whose totals since attach are kept, every table's together; what does not fit is "
                       "counted in one `other` row [default: 4 x the tables' keys]")
            ->check(CLI::Range(16U, 1U << 28))
            ->type_name("N");
        app.add_flag("-v,--verbose", o.verbose, "libbpf debug output, and the whole verifier log on load errors");
    }

    std::optional<ParseExit> finish(AttachCommandConfig& o) const
    {
        tables.finish(o.counting);
        if (auto exit = attach.check(o.attach, o.counting))
            return exit;
        return check_interfaces(o.interfaces);
    }
};

constexpr std::string_view k_attach_description =
    "Attach the counting program with pinned BPF links and maps, then exit: the kernel keeps counting with no "
    "process (docs/agent.md). Read it with `trafstat dump`, serve it with `trafstat agent`, remove it with "
    "`trafstat detach`.";

ParseResult parse_attach(int argc, const char* const* argv)
{
    AttachCommandConfig o;
    CLI::App app{std::string{k_attach_description}, "trafstat attach"};
    app.formatter(std::make_shared<Formatter>("trafstat attach [options] IFACE...", k_attach_description));
    PinnedAttachFlags flags;
    flags.add_to(app, o);
    if (auto exit = parse_subcommand(app, argc, argv))
        return *exit;
    if (auto exit = flags.finish(o))
        return *exit;
    return o;
}

constexpr std::string_view k_agent_description =
    "Serve pinned attachments: adopt the attachment of each IFACE made with the same options (or make it), drain "
    "its tables every interval into totals that outlive the process, and serve Prometheus metrics "
    "(docs/agent.md, docs/metrics.md). It runs in the foreground, for systemd; stopped or killed, it leaves the "
    "attachment counting.";

ParseResult parse_agent(int argc, const char* const* argv)
{
    AgentConfig o;
    CLI::App app{std::string{k_agent_description}, "trafstat agent"};
    app.formatter(std::make_shared<Formatter>("trafstat agent [options] IFACE...", k_agent_description));
    PinnedAttachFlags flags;
    flags.add_to(app, o.pinned);
    app.add_option("--metrics", o.metrics,
                   fmt::format("Serve /metrics, /healthz and /status on ADDR:PORT ([::1]:PORT for IPv6) "
                               "[default: {}]",
                               o.metrics))
        ->type_name("ADDR:PORT");
    app.add_option("--metrics-top", o.metrics_top,
                   "Series per key: the K largest talkers, ports or flows of each table (chosen once, kept), "
                   "the rest in one `other` series [default: 0, none]")
        ->check(CLI::Range(std::size_t{0}, std::size_t{10000}))
        ->type_name("K");
    app.add_option("-i,--interval", o.interval_s, "Drain the tables every SECONDS, from 0.01 [default: 5]")
        ->check(interval_check(k_min_interval_s, "0.01"))
        ->type_name("SECONDS");
    app.add_flag("--detach-on-exit", o.detach_on_exit, "Detach and remove the pins when stopped (SIGTERM, SIGINT)");
    app.add_flag("--replace", o.replace,
                 "Re-attach where the attachment found differs from the options (its counts start again)");
    ExportFlags ipfix;
    ipfix.add_to(app, o.ipfix);
    add_drop_options(app, o.drops);
    if (auto exit = parse_subcommand(app, argc, argv))
        return *exit;
    if (auto exit = flags.finish(o.pinned))
        return *exit;
    if (o.ipfix.on() && !o.pinned.counting.counts(TS_TABLE_FLOWS))
        return usage_error("--ipfix exports the flows table: attach it with --flows");
    if (auto exit = ipfix.finish(o.ipfix, o.pinned.counting))
        return *exit;
    return o;
}

ParseResult parse_status(int argc, const char* const* argv)
{
    StatusConfig o;
    constexpr std::string_view what = "Every trafstat attachment pinned on this host (docs/agent.md): interface, hook, "
                                      "mode, program and link, since when, tables, control flags, its agent, and "
                                      "stale pins.";
    CLI::App app{std::string{what}, "trafstat status"};
    app.formatter(std::make_shared<Formatter>("trafstat status [options]", what));
    add_pin_dir(app, o.pin_dir);
    app.add_flag("--json", o.json, "One JSON object (docs/agent.md)");
    if (auto exit = parse_subcommand(app, argc, argv))
        return *exit;
    return o;
}

ParseResult parse_dump(int argc, const char* const* argv)
{
    DumpConfig o;
    constexpr std::string_view what =
        "Totals since attach of pinned attachments, read from the kernel with no agent running: the classes and "
        "the tables, reconciled as the live summary (same JSON, docs/json.md).";
    CLI::App app{std::string{what}, "trafstat dump"};
    app.formatter(std::make_shared<Formatter>("trafstat dump [options] [IFACE...]", what));
    app.add_option("IFACE", o.interfaces, "Interfaces to read (default: every attachment)")->type_name("");
    add_pin_dir(app, o.pin_dir);
    bool json = false;
    app.add_flag("--json", json, "One JSON object (the summary of docs/json.md)");
    app.add_flag("-z,--hide-zero", o.output.hide_zero, "Hide classes that saw no packets (never the all row)");
    app.add_option("--top", o.views.top, "Rows per view, lines only; JSON has them all [default: 10]")->type_name("N");
    add_enum_option(app, "--sort", o.views.sort, kSortKeyNames,
                    fmt::format("Order of the views: {}", kSortKeyNames.alternatives()), "KEY");
    if (auto exit = parse_subcommand(app, argc, argv))
        return *exit;
    o.output.format = json ? OutputFormat::json : OutputFormat::line;
    if (auto exit = check_interfaces(o.interfaces))
        return *exit;
    return o;
}

ParseResult parse_detach(int argc, const char* const* argv)
{
    DetachConfig o;
    constexpr std::string_view what = "Remove trafstat's pinned attachments: their links (the program stops "
                                      "counting) and their pins. Nothing trafstat did not create is touched.";
    CLI::App app{std::string{what}, "trafstat detach"};
    app.formatter(std::make_shared<Formatter>("trafstat detach [options] IFACE...|--all", what));
    app.add_option("IFACE", o.interfaces, "Interfaces to detach from")->type_name("");
    app.add_flag("--all", o.all, "Every trafstat attachment under the pin dir");
    add_pin_dir(app, o.pin_dir);
    if (auto exit = parse_subcommand(app, argc, argv))
        return *exit;
    if (o.all == !o.interfaces.empty())
        return usage_error("name the interfaces to detach, or --all (not both)");
    if (auto exit = check_interfaces(o.interfaces))
        return *exit;
    return o;
}

ParseResult parse_control(int argc, const char* const* argv)
{
    ControlConfig o;
    constexpr std::string_view what = "Switch a pinned attachment's loaded tables on or off at run time, with no "
                                      "re-attach: the program obeys from its next packet (docs/agent.md).";
    CLI::App app{std::string{what}, "trafstat control"};
    app.formatter(std::make_shared<Formatter>("trafstat control [options] IFACE", what));
    app.add_option("IFACE", o.interface, "The interface")->required()->type_name("");
    Hook hook = Hook::xdp;
    auto* hook_opt =
        add_enum_option(app, "--hook", hook, kHookNames, "Which attachment of IFACE (default: every one)", "HOOK");
    std::array<std::string, TS_TABLES> switches;
    for (int t = 0; t < TS_TABLES; ++t)
        app.add_option(fmt::format("--{}", table_name(t)), switches[t],
                       fmt::format("Count the {} table (on) or not (off)", table_name(t)))
            ->check(one_of({"on", "off"}))
            ->type_name("on|off");
    add_pin_dir(app, o.pin_dir);
    if (auto exit = parse_subcommand(app, argc, argv))
        return *exit;
    if (hook_opt->count() > 0)
        o.hook = hook;
    bool any = false;
    for (int t = 0; t < TS_TABLES; ++t)
        if (!switches[t].empty()) {
            o.tables_on[t] = switches[t] == "on";
            any = true;
        }
    if (!any)
        return usage_error("nothing to switch: give --talkers, --ports or --flows on|off");
    if (auto error = ifname_error(o.interface); !error.empty())
        return usage_error(error);
    return o;
}

ParseResult parse(int argc, const char* const* argv)
{
    if (argc >= 2 && argv[1]) {
        const std::string_view command = argv[1];
        if (command == "attach")
            return parse_attach(argc, argv);
        if (command == "agent")
            return parse_agent(argc, argv);
        if (command == "status")
            return parse_status(argc, argv);
        if (command == "dump")
            return parse_dump(argc, argv);
        if (command == "detach")
            return parse_detach(argc, argv);
        if (command == "control")
            return parse_control(argc, argv);
    }
    if (argc >= 2 && argv[1] && std::string_view{argv[1]} == "gen") {
        return parse_gen(argc, argv);
    }
    if (argc >= 2 && argv[1] && std::string_view{argv[1]} == "replay") {
        return parse_replay(argc, argv);
    }
    LiveConfig o;
    AttachConfig& attach = o.attach;
    CLI::App app{std::string{k_description}, "trafstat"};
    app.formatter(std::make_shared<Formatter>("trafstat [options] [IFACE...]", k_description));
    app.footer(std::string{k_footer});
    app.set_version_flag("-V,--version", "trafstat " TRAFSTAT_VERSION, "Print the version and exit");

    std::uint64_t count = 0;
    std::string timeout;

    app.add_option("IFACE", o.interfaces, "Interfaces to count on (default: the one of the default route)")
        ->type_name("");
    AttachFlags attach_flags;
    attach_flags.add_to(app, attach);
    app.add_flag("--force", attach.force, "Replace an XDP program already attached to the interface");
    app.add_option("-i,--interval", o.interval_s, "Print every SECONDS, fractional, 0.01 to 3600 [default: 1]")
        ->check(interval_check(k_min_interval_s, "0.01"))
        ->type_name("SECONDS");
    auto* count_opt =
        app.add_option("-c,--count", count, "Stop after N intervals")->check(check(count_error))->type_name("N");
    auto* timeout_opt =
        app.add_option("-t,--timeout", timeout, "Stop after DURATION: 30 (seconds), 30s, 1500ms, 2m, 1h")
            ->check(check(duration_error))
            ->type_name("DURATION");
    app.add_flag("-v,--verbose", o.verbose, "libbpf debug output, and the whole verifier log on load errors");
    bool json = false;
    app.add_flag("--json", json, "One JSON object per line (NDJSON; schema in docs/json.md)");
    app.add_flag("-z,--hide-zero", o.output.hide_zero, "Hide classes that saw no packets (never the all row)");
    TableFlags tables;
    tables.add_to(app, o.counting);
    ExportFlags ipfix;
    ipfix.add_to(app, o.ipfix);
    add_drop_options(app, o.drops);
    app.add_flag("--tui", o.tui,
                 "Full-screen live view (keys: t p f views, s sort, space pause, q quit);\n"
                 "turns on --flows when no view is given (docs/tui.md)");

    try {
        app.parse(reversed_args(argc, argv, 1));
    } catch (const CLI::CallForHelp&) {
        return help_exit(app);
    } catch (const CLI::CallForVersion& e) {
        // The version is of the binary: any other argument is a mistake, not something to ignore.
        if (argc != 2)
            return usage_error("--version takes no other arguments");
        return ParseExit{exit_code::ok, without_trailing_newlines(e.what()), false};
    } catch (const CLI::ParseError& e) {
        return usage_error(e.what());
    }

    o.output.format = json ? OutputFormat::json : OutputFormat::line;
    if (count_opt->count() > 0) {
        o.count = count;
    }
    if (timeout_opt->count() > 0) {
        o.timeout_s = parse_duration(timeout);
    }

    if (o.tui && json) {
        return usage_error("--tui and --json cannot be combined: --tui draws a screen, --json prints NDJSON");
    }
    // The TUI needs a table to show: --tui alone counts flows (not with --drop,
    // which counts totals only: the TUI then shows the classes alone).
    if (o.tui && !tables.talkers && !tables.ports && !tables.flows && !attach.drop) {
        tables.flows = true;
    }
    if (attach.drop && o.ipfix.on()) {
        return usage_error("--drop counts totals only: it has no flows to export (--ipfix, --ipfix-file)");
    }
    tables.finish(o.counting);
    if (auto exit = ipfix.finish(o.ipfix, o.counting)) {
        return *exit;
    }
    if (auto exit = attach_flags.check(attach, o.counting)) {
        return *exit;
    }
    if (auto exit = check_interfaces(o.interfaces)) {
        return *exit;
    }
    return o;
}

}  // namespace

ParseResult parse_options(int argc, const char* const* argv)
{
    try {
        return parse(argc, argv);
    } catch (const std::exception& e) {
        return ParseExit{exit_code::runtime, fmt::format("trafstat: cannot parse the arguments: {}", e.what()), true};
    } catch (...) {
        return ParseExit{exit_code::runtime, "trafstat: cannot parse the arguments", true};
    }
}

std::optional<double> parse_duration(const std::string& text)
{
    struct Unit {
        std::string_view suffix;
        double seconds;
    };
    // "ms" before "s" and "m": the first suffix that matches wins.
    static constexpr std::array<Unit, 4> units = {{{"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}}};
    std::string_view number = text;
    double scale = 1;
    for (const Unit& u : units) {
        if (number.ends_with(u.suffix)) {
            number.remove_suffix(u.suffix.size());
            scale = u.seconds;
            break;
        }
    }
    const auto value = parse_number(number);
    if (!value) {
        return std::nullopt;
    }
    const double seconds = *value * scale;
    if (!(seconds > 0) || !std::isfinite(seconds)) {
        return std::nullopt;
    }
    return seconds;
}

}  // namespace trafstat
