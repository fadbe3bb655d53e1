// trafstat: count packets per protocol class in the kernel, print rates.
// The one catch site: every fatal error becomes one line and an exit code.
#include "app/agent.hpp"
#include "app/gen.hpp"
#include "app/live.hpp"
#include "app/pinned.hpp"
#include "app/replay.hpp"
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "base/printable.hpp"
#include "bpf/log.hpp"
#include "cli/options.hpp"
#include "output/writer.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <variant>

namespace {

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};
// Spelled out for clang++ 14 (the sanitizer build), which lacks C++20's deduction for aggregates.
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

int main(int argc, char** argv)
{
    using namespace trafstat;
    auto parsed = parse_options(argc, argv);
    try {
        const int code = std::visit(Overloaded{
                                        [](const LiveConfig& c) {
                                            init_libbpf_logging(c.verbose);
                                            return run_live(c);
                                        },
                                        [](const ReplayConfig& c) {
                                            init_libbpf_logging(c.verbose);
                                            return run_replay(c);
                                        },
                                        [](const GenConfig& c) {
                                            init_libbpf_logging(c.verbose);
                                            return run_gen(c);
                                        },
                                        [](const AttachCommandConfig& c) {
                                            init_libbpf_logging(c.verbose);
                                            return run_attach(c);
                                        },
                                        [](const AgentConfig& c) {
                                            init_libbpf_logging(c.pinned.verbose);
                                            return run_agent(c);
                                        },
                                        [](const StatusConfig& c) { return run_status(c); },
                                        [](const DumpConfig& c) { return run_dump(c); },
                                        [](const DetachConfig& c) { return run_detach(c); },
                                        [](const ControlConfig& c) { return run_control(c); },
                                        [](const ParseExit& e) {
                                            std::string text = e.text;
                                            if (!text.empty() && text.back() != '\n')
                                                text += '\n';
                                            std::fputs(text.c_str(), e.to_stderr ? stderr : stdout);
                                            return e.code;
                                        },
                                    },
                                    parsed);
        finish_stdout();  // what stdio still holds (help, status): never lost without a word
        return code;
    } catch (const Error& e) {
        // Messages hold names from outside (files, interfaces, pin dirs): the line stays one line.
        std::fprintf(stderr, "trafstat: %s\n%s", printable(e.what()).c_str(), e.detail().c_str());
        return e.exit_code();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "trafstat: unexpected error: %s\n", printable(e.what()).c_str());
        return exit_code::runtime;
    }
}
