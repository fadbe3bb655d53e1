#include "engine/sources.hpp"

#include "stats/flows.hpp"

#include <bit>
#include <fmt/format.h>

namespace trafstat {

LoadOptions load_options(const CountingConfig& config)
{
    LoadOptions l;
    l.tables = config.tables;
    l.table_size = config.table_size;
    l.size_histogram = config.histogram;
    return l;
}

std::optional<std::string> table_memory_note(const CountingConfig& config)
{
    std::string sizes;
    for (int t = 0; t < TS_TABLES; ++t) {
        if (!(config.tables & TS_TABLE_BIT(t)) || config.table_size[t] <= kDefaultTableSizes[t])
            continue;
        sizes += fmt::format("{}{} of {} keys", sizes.empty() ? "" : ", ", table_name(t),
                             std::bit_ceil(config.table_size[t]));
    }
    if (sizes.empty())
        return std::nullopt;
    constexpr double kMiB = 1 << 20;
    const double asked = static_cast<double>(TableLayout::of(config.tables, config.table_size).kernel_bytes()) / kMiB;
    const double by_default =
        static_cast<double>(TableLayout::of(config.tables, kDefaultTableSizes).kernel_bytes()) / kMiB;
    return fmt::format("trafstat: keyed tables ({}) take {:.0f} MiB of kernel memory per interface "
                       "(default sizes: {:.0f} MiB)",
                       sizes, asked, by_default);
}

}  // namespace trafstat
