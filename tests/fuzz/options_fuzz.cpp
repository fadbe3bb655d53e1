// libFuzzer target: arbitrary bytes as a command line. The input split at
// NUL bytes is argv[1..] (argv[0] is "trafstat"), through parse_options
// (src/cli/options.cpp) as main() calls it; an agent's --metrics then through
// parse_listen_address, as the agent does before it binds.
//
// Invariants checked (a violation aborts, which libFuzzer reports as a crash):
// - parse_options returns a configuration or a ParseExit, never throws;
// - a ParseExit is help or the version (exit 0, stdout) or a usage error
//   (exit 2, stderr, one line "trafstat: ... (see --help)"): exit 1 is the
//   catch-all for an exception the parser did not expect;
// - the intervals and durations it returns are finite and > 0;
// - parse_listen_address returns an address or throws a usage Error.
// Crashes, hangs and leaks are the sanitizers' and libFuzzer's job.
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "cli/options.hpp"
#include "serve/metrics_server.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void violated(const char* what, std::string_view detail = {})
{
    std::fprintf(stderr, "options_fuzz: invariant violated: %s%s%.*s\n", what, detail.empty() ? "" : ": ",
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
}

void check_seconds(double seconds, const char* what)
{
    if (!(seconds > 0) || !std::isfinite(seconds))
        violated(what, std::to_string(seconds));
}

void check_exit(const trafstat::ParseExit& exit)
{
    using namespace trafstat;
    if (exit.code == exit_code::ok) {
        if (exit.to_stderr || exit.text.empty())
            violated("help or version on stderr, or empty", exit.text);
        return;
    }
    if (exit.code != exit_code::usage)
        violated("a ParseExit that is neither help nor a usage error", exit.text);
    if (!exit.to_stderr)
        violated("a usage error on stdout", exit.text);
    if (!exit.text.starts_with("trafstat: ") || !exit.text.ends_with(" (see --help)"))
        violated("a usage error not in the documented form", exit.text);
    if (exit.text.find('\n') != std::string::npos)
        violated("a usage error of more than one line", exit.text);
}

void check_listen_address(const std::string& metrics)
{
    if (metrics.empty())  // --no-metrics
        return;
    try {
        const trafstat::ListenAddress address = trafstat::parse_listen_address(metrics);
        if (address.port == 0)
            violated("listen address with port 0", metrics);
    } catch (const trafstat::Error& e) {
        if (e.exit_code() != trafstat::exit_code::usage)
            violated("--metrics refused with an exit code other than 2", e.what());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::vector<std::string> words{"trafstat"};
    std::string word;
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            words.push_back(std::move(word));
            word.clear();
        } else {
            word.push_back(static_cast<char>(data[i]));
        }
    }
    if (size > 0)
        words.push_back(std::move(word));
    std::vector<const char*> argv;
    for (const std::string& w : words)
        argv.push_back(w.c_str());
    argv.push_back(nullptr);

    using namespace trafstat;
    ParseResult parsed = [&] {
        try {
            return parse_options(static_cast<int>(words.size()), argv.data());
        } catch (...) {
            violated("parse_options threw");
        }
    }();
    if (const auto* exit = std::get_if<ParseExit>(&parsed)) {
        check_exit(*exit);
    } else if (const auto* live = std::get_if<LiveConfig>(&parsed)) {
        check_seconds(live->interval_s, "live interval");
        if (live->timeout_s)
            check_seconds(*live->timeout_s, "live timeout");
        if (live->count && *live->count == 0)
            violated("live count 0");
    } else if (const auto* replay = std::get_if<ReplayConfig>(&parsed)) {
        if (replay->bin_s)
            check_seconds(*replay->bin_s, "replay interval");
        if (replay->file.empty())
            violated("replay without a file");
    } else if (const auto* gen = std::get_if<GenConfig>(&parsed)) {
        if (gen->duration_s)
            check_seconds(*gen->duration_s, "gen duration");
        if (gen->rate_pps)
            check_seconds(*gen->rate_pps, "gen rate");
    } else if (const auto* agent = std::get_if<AgentConfig>(&parsed)) {
        check_seconds(agent->interval_s, "agent interval");
        check_listen_address(agent->metrics);
    }
    return 0;
}
