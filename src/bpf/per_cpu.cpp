#include "bpf/per_cpu.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <bpf/libbpf.h>
#include <fmt/format.h>

namespace trafstat {

std::size_t possible_cpus()
{
    static const int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0)
        throw Error(exit_code::runtime, fmt::format("cannot count possible CPUs: {}", errno_text(ncpus)));
    return static_cast<std::size_t>(ncpus);
}

void lookup_per_cpu(const bpf_map* map, std::uint32_t key, void* values, std::size_t value_size, std::size_t count,
                    std::string_view what)
{
    if (int err = bpf_map__lookup_elem(map, &key, sizeof key, values, value_size * count, 0); err)
        throw Error(exit_code::runtime, fmt::format("cannot read {}: {}", what, errno_text(err)));
}

}  // namespace trafstat
