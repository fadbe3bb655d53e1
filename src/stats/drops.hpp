// What the kernel dropped on the monitored interfaces (issue 13, docs/drops.md):
// per direction, reason and class, and per dropped flow, as one drain of the
// drop counter read them (abi.h) and as the run adds them up.
// Pure: no libbpf, unit-tested without privileges.
#pragma once

#include "stats/counters.hpp"
#include "stats/flows.hpp"
#include "stats/link_counters.hpp"

#include <trafstat/abi.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace trafstat {

// The names of the drop counters' reasons (abi.h): the kernel's enum
// skb_drop_reason as the running kernel names them (bpf/drop_reasons.hpp),
// lower case without the prefix, and trafstat's own.
class DropReasons {
public:
    DropReasons() = default;  // no names: every kernel reason is "unknown"
    // The kernel's names by value ("" where it names none).
    explicit DropReasons(std::vector<std::string> by_value) : names_(std::move(by_value)) {}

    // Whether the kernel names its drop reasons.
    bool known() const { return !names_.empty(); }
    // "no_socket", ..., "unknown", "xdp_aborted", "xdp_invalid"
    std::string_view name(std::uint32_t reason) const;

private:
    std::vector<std::string> names_;
};

// "received" / "leaving"
std::string_view drop_direction_name(ts_drop_direction d);
// A drop class (abi.h TS_DROP_CLASS_*): "ipv4/tcp", ..., "arp", "other_l3",
// "malformed", "unparsed".
std::string drop_class_name(std::uint32_t cls);
// The counter's own class and IP version of a drop class (metrics' ip and
// class labels); no IP version for a frame that is not IP.
std::optional<ts_ip_version> drop_class_ip(std::uint32_t cls);
std::string_view drop_class_l4(std::uint32_t cls);  // "tcp", "arp", ..., "unparsed"

// Drops of one reason and class (reason: abi.h, the kernel's value or TS_DROP_REASON_*).
struct DropCount {
    std::uint32_t reason = 0;
    std::uint32_t cls = TS_DROP_CLASS_UNPARSED;
    Counter counted;
    friend bool operator==(const DropCount&, const DropCount&) = default;
};

// One dropped flow: its 5-tuple (all zero when not IP), reason and class.
struct DroppedFlowKey {
    ts_drop_direction direction = TS_DROP_RECEIVED;
    std::uint32_t reason = 0;
    std::uint32_t cls = TS_DROP_CLASS_UNPARSED;
    FlowKey flow;
    friend auto operator<=>(const DroppedFlowKey&, const DroppedFlowKey&) = default;
};

struct DroppedFlow {
    DroppedFlowKey key;
    Counter counted;
    friend bool operator==(const DroppedFlow&, const DroppedFlow&) = default;
};

// One direction of one interface.
struct DirectionDrops {
    std::vector<DropCount> counts;  // non-zero, by (reason, class)
    Counter flow_overflow;          // drops the flow table had no room for
    std::uint64_t flows = 0;        // dropped flows of this direction (cut_dropped_flows)
    Counter flows_not_shown;        // what the flows cut from the report held
    Counter total() const;
    friend bool operator==(const DirectionDrops&, const DirectionDrops&) = default;
};

// The drops of one monitored interface: one drain's (an interval), or since start.
struct InterfaceDrops {
    std::string ifname;
    std::array<DirectionDrops, TS_DROP_DIRECTIONS> directions{};
    std::vector<DroppedFlow> flows;  // a drain: all; a report: sorted, cut as asked
    // The interface's own counters (netlink), over the same interval or since start.
    std::optional<LinkCounters> link;
};

// What renderers get: the drops of each monitored interface, and their reasons' names.
struct DropsReport {
    std::vector<InterfaceDrops> interfaces;
    std::shared_ptr<const DropReasons> reasons;
};

// Every rule the drops keep (abi.h): per interface and direction, the flows
// shown, the flows not shown and the overflow add up to the counts. One line
// per violation.
std::vector<std::string> reconcile(const InterfaceDrops& drops);

// Sorts the flows, largest first (packets, then bytes, then key), keeps the
// first `top` (0: all), and records per direction how many there were and
// what the others held.
void cut_dropped_flows(InterfaceDrops& drops, std::size_t top);

// The drops since start: the drains added up, per interface. At most
// `max_flows` dropped flows are kept (memory is bounded whatever is dropped);
// a flow beyond them adds to its direction's flows_not_shown.
class DropTotals {
public:
    explicit DropTotals(std::size_t max_flows) : max_flows_(max_flows) {}
    // Adds one drain of the same interfaces, in the same order, as the first.
    void add(const std::vector<InterfaceDrops>& drain);
    // Since start: counts, the flows kept (sorted, cut to `top`, 0: all), the
    // link counters' sum.
    std::vector<InterfaceDrops> totals(std::size_t top) const;

private:
    struct Interface {
        std::string ifname;
        std::array<std::map<std::pair<std::uint32_t, std::uint32_t>, Counter>, TS_DROP_DIRECTIONS> counts;
        std::array<Counter, TS_DROP_DIRECTIONS> flow_overflow;
        std::array<Counter, TS_DROP_DIRECTIONS> flows_not_kept;
        std::map<DroppedFlowKey, Counter> flows;
        std::optional<LinkCounters> link;
    };
    std::size_t max_flows_;
    std::size_t flows_kept_ = 0;
    std::vector<Interface> interfaces_;
};

}  // namespace trafstat
