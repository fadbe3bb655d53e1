// Per-CPU maps: one value per possible CPU, summed by the reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace trafstat {

// The CPUs the kernel may ever bring up (counted once): a per-CPU map holds
// a value for each. Throws Error(exit_code::runtime).
std::size_t possible_cpus();

// Reads `key` of the per-CPU map `map_fd` into `values`, which holds one
// value per possible CPU. Throws Error(exit_code::runtime) naming `what`.
void lookup_per_cpu(int map_fd, std::uint32_t key, void* values, std::string_view what);

// One key of a per-CPU map, one Value per possible CPU.
template <class Value>
std::vector<Value> read_per_cpu(int map_fd, std::uint32_t key, std::string_view what)
{
    // The kernel copies each CPU's value out at an 8-byte stride.
    static_assert(sizeof(Value) % 8 == 0, "a per-CPU value must be a multiple of 8 bytes");
    std::vector<Value> values(possible_cpus());
    lookup_per_cpu(map_fd, key, values.data(), what);
    return values;
}

}  // namespace trafstat
