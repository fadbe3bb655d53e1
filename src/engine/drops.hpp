// The drop side of counting (docs/drops.md): a source of drains (the drop
// counter, engine/sources.hpp, or a fake in unit tests) turned into interval
// and since-start reports, with the interfaces' own counters beside them.
#pragma once

#include "stats/drops.hpp"
#include "stats/link_counters.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace trafstat {

class DropSource {
public:
    virtual ~DropSource() = default;
    // What was dropped since the last drain (DropCounter::drain()).
    virtual DropDrain drain() = 0;
};

// The interface's own counters now (netlink), by its index in the engine's
// interfaces; nullopt when they cannot be read.
using LinkReader = std::function<std::optional<LinkCounters>(std::size_t interface)>;

class DropEngine {
public:
    // Dropped flows kept since start by default: memory bounded (~100 bytes each).
    static constexpr std::size_t kMaxFlowsKept = 262144;

    // `max_flows`: the dropped flows kept since start (0: none, as the agent,
    // whose metrics have no per-flow series).
    DropEngine(std::unique_ptr<DropSource> source, std::vector<std::string> ifnames,
               std::shared_ptr<const DropReasons> reasons, LinkReader links = {},
               std::size_t max_flows = kMaxFlowsKept);

    // The drops since the last call (or the start), the dropped flows sorted
    // and cut to `top` (0: all).
    DropsReport interval(std::size_t top);
    // Since start, after a drain: the dropped flows kept, sorted, cut to `top` (0: all).
    DropsReport since_start(std::size_t top);

private:
    DropDrain drain();

    std::unique_ptr<DropSource> source_;
    std::vector<std::string> ifnames_;
    std::shared_ptr<const DropReasons> reasons_;
    LinkReader links_;
    std::vector<std::optional<LinkCounters>> links_before_;
    DropTotals totals_;
};

}  // namespace trafstat
