#include "engine/drops.hpp"

#include "base/error.hpp"
#include "bpf/drop_reasons.hpp"
#include "net/link_stats.hpp"

namespace trafstat {

DropEngine::DropEngine(std::unique_ptr<DropSource> source, std::vector<std::string> ifnames,
                       std::shared_ptr<const DropReasons> reasons, LinkReader links, std::size_t max_flows)
    : source_(std::move(source)), ifnames_(std::move(ifnames)), reasons_(std::move(reasons)), links_(std::move(links)),
      totals_(max_flows)
{
    for (std::size_t i = 0; i < ifnames_.size(); ++i)
        links_before_.push_back(links_ ? links_(i) : std::nullopt);
}

std::vector<InterfaceDrops> DropEngine::drain()
{
    std::vector<InterfaceDrops> drained = source_->drain();
    drained.resize(ifnames_.size());
    for (std::size_t i = 0; i < drained.size(); ++i) {
        drained[i].ifname = ifnames_[i];
        std::optional<LinkCounters> now = links_ ? links_(i) : std::nullopt;
        if (now && links_before_[i])
            drained[i].link = delta(*now, *links_before_[i]);
        links_before_[i] = now;
    }
    totals_.add(drained);
    return drained;
}

DropsReport DropEngine::interval(std::size_t top)
{
    DropsReport report{.interfaces = drain(), .reasons = reasons_};
    for (InterfaceDrops& d : report.interfaces)
        cut_dropped_flows(d, top);
    return report;
}

DropsReport DropEngine::since_start(std::size_t top)
{
    drain();
    return {.interfaces = totals_.totals(top), .reasons = reasons_};
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
    return DropEngine(std::make_unique<DropCounterSource>(DropCounter::attach(ifindexes, config.flow_capacity)),
                      std::move(names), std::make_shared<const DropReasons>(drop_reasons_of_running_kernel()),
                      std::move(links), max_flows);
}

}  // namespace trafstat
