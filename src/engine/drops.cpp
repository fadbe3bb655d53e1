#include "engine/drops.hpp"

namespace trafstat {

DropEngine::DropEngine(std::unique_ptr<DropSource> source, std::vector<std::string> ifnames,
                       std::shared_ptr<const DropReasons> reasons, LinkReader links, std::size_t max_flows)
    : source_(std::move(source)), ifnames_(std::move(ifnames)), reasons_(std::move(reasons)), links_(std::move(links)),
      totals_(max_flows)
{
    for (std::size_t i = 0; i < ifnames_.size(); ++i)
        links_before_.push_back(links_ ? links_(i) : std::nullopt);
}

DropDrain DropEngine::drain()
{
    DropDrain all = source_->drain();
    std::vector<InterfaceDrops>& drained = all.interfaces;
    drained.resize(ifnames_.size());
    for (std::size_t i = 0; i < drained.size(); ++i) {
        drained[i].ifname = ifnames_[i];
        std::optional<LinkCounters> now = links_ ? links_(i) : std::nullopt;
        if (now && links_before_[i])
            drained[i].link = delta(*now, *links_before_[i]);
        links_before_[i] = now;
    }
    totals_.add(all);
    return all;
}

DropsReport DropEngine::interval(std::size_t top)
{
    DropDrain drained = drain();
    DropsReport report{.interfaces = std::move(drained.interfaces), .reasons = reasons_, .missed = drained.missed};
    for (InterfaceDrops& d : report.interfaces)
        cut_dropped_flows(d, top);
    return report;
}

DropsReport DropEngine::since_start(std::size_t top)
{
    drain();
    return {.interfaces = totals_.totals(top), .reasons = reasons_, .missed = totals_.missed()};
}

}  // namespace trafstat
