#include "engine/sources.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/drop_reasons.hpp"
#include "net/link_stats.hpp"
#include "stats/flows.hpp"

#include <bit>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

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

namespace {

std::uint64_t table_kernel_bytes(const CountingConfig& config)
{
    return TableLayout::of(config.tables, config.table_size).kernel_bytes();
}

std::string mebibytes_or_gibibytes(std::uint64_t bytes)
{
    const auto b = static_cast<double>(bytes);
    return bytes < (1ULL << 30) ? fmt::format("{:.0f} MiB", b / (1 << 20)) : fmt::format("{:.1f} GiB", b / (1 << 30));
}

// MemAvailable of /proc/meminfo in bytes; nullopt when it cannot be read.
std::optional<std::uint64_t> mem_available()
{
    std::ifstream meminfo("/proc/meminfo");
    std::string line;
    while (std::getline(meminfo, line)) {
        std::istringstream fields(line);
        std::string name;
        std::uint64_t kib = 0;
        if (fields >> name >> kib && name == "MemAvailable:")
            return kib * 1024;
    }
    return std::nullopt;
}

constexpr const char* kSizeFlags[TS_TABLES] = {"--ip-table-size", "--port-table-size", "--flow-table-size"};

}  // namespace

std::optional<std::string> table_memory_refusal(const CountingConfig& config, std::uint64_t available_bytes,
                                                std::size_t programs)
{
    const std::uint64_t limit = available_bytes / 2;
    const std::uint64_t asked = table_kernel_bytes(config) * programs;
    if (config.tables == 0 || asked <= limit)
        return std::nullopt;
    // The table asked largest shrinks by halves until the whole fits.
    int largest = -1;
    for (int t = 0; t < TS_TABLES; ++t)
        if ((config.tables & TS_TABLE_BIT(t)) && (largest < 0 || config.table_size[t] > config.table_size[largest]))
            largest = t;
    CountingConfig smaller = config;
    std::uint32_t& size = smaller.table_size[largest];
    size = std::bit_ceil(size);
    while (size > 16 && table_kernel_bytes(smaller) * programs > limit)
        size /= 2;
    const std::string per = programs > 1 ? fmt::format(" ({} attachments)", programs) : "";
    const std::string fits = table_kernel_bytes(smaller) * programs <= limit
                                 ? fmt::format("{} {} fits", kSizeFlags[largest], size)
                                 : "no table fits";
    return fmt::format("keyed tables need {} of kernel memory{}, more than half of the {} this host has available: "
                       "{}",
                       mebibytes_or_gibibytes(asked), per, mebibytes_or_gibibytes(available_bytes), fits);
}

void require_table_memory(const CountingConfig& config, std::size_t programs)
{
    if (config.tables == 0)
        return;
    if (const auto available = mem_available())
        if (const auto refusal = table_memory_refusal(config, *available, programs))
            throw Error(exit_code::usage, *refusal);
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
