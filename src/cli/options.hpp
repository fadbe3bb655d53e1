// argv -> Options. Pure (no I/O besides the returned text): unit-tested.
#pragma once

#include "gen/frame.hpp"
#include "stats/flows.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace trafstat {

enum class Hook { xdp, tc_ingress, tc_egress, tc_both };
enum class XdpMode { native, generic, auto_ };
enum class TcMode { auto_, tcx, clsact };  // clsact: legacy filter, forced for testing/old kernels
enum class OutputFormat { line, json };
enum class Command { live, replay, gen };

// `trafstat gen [options] IFACE` (docs/gen.md).
struct GenOptions {
    std::string interface;
    std::optional<std::size_t> frame_size;                 // -s; default: gen::kDefaultFrame or the mix's minimum
    std::vector<gen::Proto> protos = {gen::Proto::udp4};   // --proto, round-robin, repeats weight
    std::uint32_t flows = 1;                               // --flows
    std::optional<std::uint64_t> count;                    // -n packets
    std::optional<double> duration_s;                      // -t
    std::optional<double> rate_pps;                        // --rate, total over all threads
    std::optional<unsigned> threads;                       // --threads; default: the CPUs we may run on
    std::uint32_t batch = 64;                              // --batch: frames per live-frames batch (1..256)
    bool inject = false;                                   // --inject / --action pass: XDP_PASS instead of XDP_TX
    std::optional<gen::Mac> src_mac, dst_mac;              // defaults: the interface's; broadcast (TX) or own (inject)
    std::optional<gen::Ip4> src4, dst4;                    // --src-ip/--dst-ip bases, per family
    std::optional<gen::Ip6> src6, dst6;
};

struct Options {
    Command command = Command::live;
    std::string replay_file;                  // replay: capture path, "-" = stdin
    std::optional<double> replay_bin_s;       // replay -i: bin interval lines in capture time
    std::vector<std::string> interfaces;  // empty: use the default-route interface
    Hook hook = Hook::xdp;
    XdpMode xdp_mode = XdpMode::auto_;
    TcMode tc_mode = TcMode::auto_;
    bool drop = false;                               // -d: totals only, XDP_DROP
    bool force = false;                              // replace another XDP program
    double interval_s = 1.0;                         // -i, > 0, fractional
    std::optional<std::uint64_t> count;              // -c N intervals (N >= 1)
    std::optional<double> timeout_s;                 // -t DURATION
    bool verbose = false;                            // -v: libbpf debug + full verifier log
    OutputFormat format = OutputFormat::line;        // --json
    bool hide_zero = false;                          // -z/--hide-zero
    // The keyed tables (docs/tables.md), TS_TABLE_BIT()s: --talkers (keyed by
    // addresses), --ports (protocol and ports), --flows (both); each its view.
    std::uint32_t tables = 0;
    // --ip-table-size, --port-table-size, --flow-table-size: slots per CPU and interval
    TableSizes table_size = kDefaultTableSizes;
    bool histogram = false;                          // --histogram: packet sizes (on with any table)
    // The views shown, one per table that is on.
    bool show_talkers = false, show_ports = false, show_flows = false;
    std::size_t top = 10;                            // --top N rows per view and interval (0: all)
    std::string sort = "bps";                        // --sort bps|pps|bytes|packets
    std::string talkers_by = "total";                // --talkers-by total|src|dst
    std::optional<double> idle_timeout_s = 300;      // --idle-timeout: keys idle longer leave memory
    // --tui: full-screen live view (docs/tui.md); alone it turns on --flows.
    // Falls back to line output without a terminal.
    bool tui = false;
    GenOptions gen;                                  // Command::gen only
};

// Outcome of parsing: run with options, or print text and exit with a code
// (help/version -> stdout, exit 0; usage error -> stderr one line, exit 2).
struct ParseExit {
    int code;
    std::string text;     // what to print, without a trailing newline
    bool to_stderr;
};
using ParseResult = std::variant<Options, ParseExit>;

ParseResult parse_options(int argc, const char* const* argv);

// "5", "2.5s", "1500ms", "2m", "1h" -> seconds. nullopt on junk or <= 0.
std::optional<double> parse_duration(const std::string& text);

std::string_view hook_name(Hook h);  // "xdp", "tc-ingress", "tc-egress", "tc"

}  // namespace trafstat
