#include "bpf/per_cpu.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <fmt/format.h>

namespace trafstat {

std::size_t possible_cpus()
{
    static const int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0)
        throw Error(exit_code::runtime, fmt::format("cannot count possible CPUs: {}", errno_text(ncpus)));
    return static_cast<std::size_t>(ncpus);
}

void lookup_per_cpu(int map_fd, std::uint32_t key, void* values, std::string_view what)
{
    if (bpf_map_lookup_elem(map_fd, &key, values) != 0)
        throw Error(exit_code::runtime, fmt::format("cannot read {}: {}", what, errno_text(-errno)));
}

}  // namespace trafstat
