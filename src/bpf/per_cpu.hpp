// Per-CPU maps: one value per possible CPU, summed by the reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

struct bpf_map;

namespace trafstat {

// The CPUs the kernel may ever bring up (counted once): a per-CPU map holds
// a value for each. Throws Error(exit_code::runtime).
std::size_t possible_cpus();

// Reads `key` of a per-CPU map into `values` (`count` values of `value_size`
// bytes, one per possible CPU). Throws Error(exit_code::runtime) naming `what`.
void lookup_per_cpu(const bpf_map* map, std::uint32_t key, void* values, std::size_t value_size, std::size_t count,
                    std::string_view what);

// One key of a per-CPU map, one Value per possible CPU.
template <class Value>
std::vector<Value> read_per_cpu(const bpf_map* map, std::uint32_t key, std::string_view what)
{
    // The kernel copies each CPU's value out at an 8-byte stride.
    static_assert(sizeof(Value) % 8 == 0, "a per-CPU value must be a multiple of 8 bytes");
    std::vector<Value> values(possible_cpus());
    lookup_per_cpu(map, key, values.data(), sizeof(Value), values.size(), what);
    return values;
}

}  // namespace trafstat
