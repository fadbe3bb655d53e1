#include "bpf/skeleton.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/log.hpp"

#include <fmt/format.h>

namespace trafstat {

void throw_open_failed(int err, std::string_view whose)
{
    throw Error(exit_code::load, fmt::format("cannot open {} BPF object: {}", whose, errno_text(err)));
}

void throw_load_failed(int err, std::string_view whose)
{
    if (err == -EPERM)
        throw Error(exit_code::privileges,
                    "permission denied loading the BPF program: trafstat needs CAP_BPF and CAP_NET_ADMIN",
                    std::string(kPrivilegesHint));
    throw Error(exit_code::load, fmt::format("the kernel rejected {} BPF program: {}", whose, errno_text(err)),
                fmt::format("  verifier log (tail; -v shows all):\n{}", libbpf_log_tail(25)));
}

}  // namespace trafstat
