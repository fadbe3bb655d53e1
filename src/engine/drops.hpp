// The drop side of counting (docs/drops.md): a source of drains (the drop
// counter, or a fake in unit tests) turned into interval and summary reports,
// with the interfaces' own counters beside them.
#pragma once

#include "bpf/drops.hpp"
#include "engine/config.hpp"
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
    // What was dropped since the last drain, per monitored interface (DropCounter::drain()).
    virtual std::vector<InterfaceDrops> drain() = 0;
};

class DropCounterSource final : public DropSource {
public:
    explicit DropCounterSource(DropCounter counter) : counter_(std::move(counter)) {}
    std::vector<InterfaceDrops> drain() override { return counter_.drain(); }

private:
    DropCounter counter_;
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
    std::vector<InterfaceDrops> drain();

    std::unique_ptr<DropSource> source_;
    std::vector<std::string> ifnames_;
    std::shared_ptr<const DropReasons> reasons_;
    LinkReader links_;
    std::vector<std::optional<LinkCounters>> links_before_;
    DropTotals totals_;
};

// One interface to watch: its name and index in the caller's network namespace.
struct DropInterface {
    std::string name;
    std::uint32_t ifindex = 0;
};

// --drops (live and agent): the drop counter attached for `interfaces`, the
// running kernel's reason names, and the interfaces' netlink counters beside
// (an interface whose counters cannot be read has none). Throws Error.
DropEngine attach_drop_engine(const std::vector<DropInterface>& interfaces, const DropsConfig& config,
                              std::size_t max_flows = DropEngine::kMaxFlowsKept);

}  // namespace trafstat
