// trafstat: count packets per protocol class in the kernel, print rates.
// The one catch site: every fatal error becomes one line and an exit code.
#include "app/live.hpp"
#include "app/replay.hpp"
#include "app/gen.hpp"
#include "base/error.hpp"
#include "bpf/log.hpp"
#include "cli/options.hpp"
#include "base/exit_codes.hpp"

#include <cstdio>
#include <exception>
#include <variant>

int main(int argc, char** argv)
{
    using namespace trafstat;
    auto parsed = parse_options(argc, argv);
    if (auto* exit = std::get_if<ParseExit>(&parsed)) {
        std::fputs(exit->text.c_str(), exit->to_stderr ? stderr : stdout);
        if (!exit->text.empty() && exit->text.back() != '\n')
            std::fputc('\n', exit->to_stderr ? stderr : stdout);
        return exit->code;
    }
    const auto& options = std::get<Options>(parsed);
    init_libbpf_logging(options.verbose);
    try {
        switch (options.command) {
        case Command::replay:
            return run_replay(options);
        case Command::gen:
            return run_gen(options);
        case Command::live:
            break;
        }
        return run_live(options);
    } catch (const Error& e) {
        std::fprintf(stderr, "trafstat: %s\n%s", e.what(), e.detail().c_str());
        return e.exit_code();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "trafstat: unexpected error: %s\n", e.what());
        return exit_code::runtime;
    }
}
