#include "engine/sources.hpp"

#include "base/error.hpp"
#include "bpf/drop_reasons.hpp"
#include "net/link_stats.hpp"
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

DropEngine attach_drop_engine(const std::vector<DropInterface>& interfaces, const DropsConfig& config,
                              std::size_t max_flows)
{
    std::vector<std::uint32_t> ifindexes;
    std::vector<std::string> names;
    for (const DropInterface& i : interfaces) {
        ifindexes.push_back(i.ifindex);
        names.push_back(i.name);
    }
    LinkReader links = [ifindexes](std::size_t i) -> std::optional<LinkCounters> {
        try {
            return link_counters(ifindexes[i]);
        } catch (const Error&) {
            return std::nullopt;
        }
    };
    auto reasons = std::make_shared<const DropReasons>(drop_reasons_of_running_kernel());
    return DropEngine(
        std::make_unique<DropCounterSource>(DropCounter::attach(ifindexes, config.flow_capacity, reasons->known())),
        std::move(names), reasons, std::move(links), max_flows);
}

}  // namespace trafstat
