#include "engine/drops.hpp"

namespace trafstat {

DropEngine::DropEngine(std::unique_ptr<DropSource> source, std::vector<std::string> ifnames,
                       std::shared_ptr<const DropReasons> reasons, LinkReader links)
    : source_(std::move(source)), ifnames_(std::move(ifnames)), reasons_(std::move(reasons)), links_(std::move(links))
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
        d.flows = top_dropped_flows(std::move(d.flows), top);
    return report;
}

DropsReport DropEngine::summary(std::size_t top)
{
    drain();
    DropsReport report{.interfaces = totals_.totals(), .reasons = reasons_};
    for (InterfaceDrops& d : report.interfaces)
        d.flows = top_dropped_flows(std::move(d.flows), top);
    return report;
}

}  // namespace trafstat
