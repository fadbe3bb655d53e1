// argv -> one typed config per command. Pure (no I/O besides the returned
// text): unit-tested. The vocabulary (hooks, modes, formats, sort keys) is
// the owning layers'; the CLI reads their name tables.
#pragma once

#include "attach/modes.hpp"
#include "bpf/pins.hpp"
#include "engine/config.hpp"
#include "gen/frame.hpp"
#include "output/writer.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace trafstat {

// `trafstat [options] [IFACE...]`: live counting.
struct LiveConfig {
    std::vector<std::string> interfaces;  // empty: use the default-route interface
    AttachConfig attach;                  // --hook, --xdp-mode, --tc-mode, --force, -d
    CountingConfig counting;              // tables, histogram, views
    OutputConfig output;                  // --json, -z
    ExportConfig ipfix;                   // --ipfix, --ipfix-file (turn on --flows)
    DropsConfig drops;                    // --drops, --drop-flow-table-size
    double interval_s = 1.0;              // -i, > 0, fractional
    std::optional<std::uint64_t> count;   // -c N intervals (N >= 1)
    std::optional<double> timeout_s;      // -t DURATION
    // --tui: full-screen live view (docs/tui.md); alone it turns on --flows.
    // Falls back to line output without a terminal.
    bool tui = false;
    bool verbose = false;  // -v: libbpf debug + full verifier log
};

// `trafstat replay [options] FILE` (docs/replay.md).
struct ReplayConfig {
    std::string file;             // capture path, "-" = stdin
    std::optional<double> bin_s;  // -i: interval lines in capture time
    CountingConfig counting;
    OutputConfig output;
    ExportConfig ipfix;  // flow records with capture times, as softflowd -r
    bool verbose = false;
};

// `trafstat gen [options] IFACE` (docs/gen.md).
struct GenConfig {
    std::string interface;
    std::optional<std::size_t> frame_size;                // -s; default: gen::kDefaultFrame or the mix's minimum
    std::vector<gen::Proto> protos = {gen::Proto::udp4};  // --proto, round-robin, repeats weight
    std::uint32_t flows = 1;                              // --flows
    std::optional<std::uint64_t> count;                   // -n packets
    std::optional<double> duration_s;                     // -t
    std::optional<double> rate_pps;                       // --rate, total over all threads
    std::optional<unsigned> threads;                      // --threads; default: the CPUs we may run on
    std::uint32_t batch = 64;                             // --batch: frames per live-frames batch (1..256)
    bool inject = false;                                  // --inject / --action pass: XDP_PASS instead of XDP_TX
    std::optional<gen::Mac> src_mac, dst_mac;             // defaults: the interface's; broadcast (TX) or own (inject)
    std::optional<gen::Ip4> src4, dst4;                   // --src-ip/--dst-ip bases, per family
    std::optional<gen::Ip6> src6, dst6;
    OutputFormat format = OutputFormat::line;  // --json: the summary as one object
    bool verbose = false;
};

// `trafstat attach [options] IFACE...` (docs/agent.md): pinned attachments
// that count with no process; `trafstat agent` makes or adopts them.
struct AttachCommandConfig {
    std::vector<std::string> interfaces;  // empty: the interface of the default route
    AttachConfig attach;                  // --hook, --xdp-mode, --tc-mode, -d (no --force)
    CountingConfig counting;              // the tables and their sizes, --histogram
    std::string pin_dir{kDefaultPinDir};  // --pin-dir
    // --totals-size: keys the store of totals per key holds, all tables
    // together (0: four times the tables' keys)
    std::uint32_t totals_size = 0;
    bool verbose = false;
};

// `trafstat agent [options] IFACE...`
struct AgentConfig {
    AttachCommandConfig pinned;
    std::string metrics = "127.0.0.1:9469";  // --metrics ADDR:PORT ("" with --no-metrics)
    double interval_s = 5;                   // -i: how often the tables are drained
    std::size_t metrics_top = 0;             // --metrics-top K: series per key and table (0: none)
    bool detach_on_exit = false;             // --detach-on-exit
    bool replace = false;                    // --replace: re-attach when the configuration differs
    ExportConfig ipfix;                      // --ipfix, --ipfix-file (need --flows attached)
    DropsConfig drops;                       // --drops: counted while the agent runs (not pinned)
};

// `trafstat status [--json]`
struct StatusConfig {
    std::string pin_dir{kDefaultPinDir};
    bool json = false;
};

// `trafstat dump [options] [IFACE...]`
struct DumpConfig {
    std::string pin_dir{kDefaultPinDir};
    std::vector<std::string> interfaces;  // empty: every attachment
    OutputConfig output;                  // --json, -z
    ViewOptions views;                    // --top, --sort, --talkers-by
};

// `trafstat detach IFACE...|--all`
struct DetachConfig {
    std::string pin_dir{kDefaultPinDir};
    std::vector<std::string> interfaces;
    bool all = false;
};

// `trafstat control IFACE [--hook H] [--talkers|--ports|--flows on|off]`
struct ControlConfig {
    std::string pin_dir{kDefaultPinDir};
    std::string interface;
    std::optional<Hook> hook;                                // default: each hook attached on it
    std::array<std::optional<bool>, TS_TABLES> tables_on{};  // per table: switch on or off
};

// Outcome of parsing that is not a command to run: print text and exit with
// a code (help/version -> stdout, exit 0; usage error -> stderr one line, exit 2).
struct ParseExit {
    int code;
    std::string text;  // what to print, without a trailing newline
    bool to_stderr;
};
using ParseResult = std::variant<LiveConfig, ReplayConfig, GenConfig, AttachCommandConfig, AgentConfig, StatusConfig,
                                 DumpConfig, DetachConfig, ControlConfig, ParseExit>;

ParseResult parse_options(int argc, const char* const* argv);

// "5", "2.5s", "1500ms", "2m", "1h" -> seconds. nullopt on junk or <= 0.
std::optional<double> parse_duration(const std::string& text);

}  // namespace trafstat
