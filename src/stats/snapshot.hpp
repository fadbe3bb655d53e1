// What the agent knows of its attachments at one moment (a scrape, a
// `status`): the kernel's totals since attach, the keyed tables' state and
// the totals per key it keeps. Pure data, rendered by output/metrics and the
// status JSON.
#pragma once

#include "stats/counters.hpp"
#include "stats/drops.hpp"
#include "stats/flows.hpp"

#include <trafstat/abi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace trafstat {

// One key's totals since attach, as the agent's pinned store keeps them.
struct KeyTotal {
    FlowKey key;
    Counter counter;
    std::uint8_t tcp_flags = 0;
};

struct TableSnapshot {
    bool loaded = false;        // the table was loaded (attach --talkers/--ports/--flows)
    bool active = false;        // and counts now (the control map's runtime flag)
    std::size_t capacity = 0;   // slots per interval, all CPUs together
    std::size_t entries = 0;    // keys the last drained interval held (occupancy)
    std::size_t keys_kept = 0;  // keys in the agent's store of totals per key
    // The keys exported as their own series (at most --metrics-top, chosen
    // once and kept, so no series ever decreases), and every other key's
    // total, the store's overflow row included. exported + other = what the
    // table's entries counted since attach.
    std::vector<KeyTotal> exported;
    Counter other;
};

struct AttachmentSnapshot {
    std::string device;  // interface name, node_exporter's `device`
    std::string hook;    // "xdp", "tc-ingress", "tc-egress"
    std::string mode;    // "native", "generic", "tcx"
    bool up = true;      // the link still holds the program on the interface
    bool drop_mode = false;
    double attached_at_s = 0;  // Unix time of the attach
    ClassCounters totals;      // since attach, read from the kernel at the snapshot
    std::array<TableSnapshot, TS_TABLES> tables{};
};

struct AgentSnapshot {
    std::vector<AttachmentSnapshot> attachments;
    std::optional<DropsReport> drops{};  // --drops: since the agent started
};

// One pinned attachment as `trafstat status` (and the agent's /status) shows it.
struct AttachmentStatus {
    std::string dir;    // its pin directory
    std::string error;  // set when its pins cannot be read: why (the rest is empty)
    std::string stale;  // set when it no longer counts: why (the interface is gone, ...)
    AttachmentSnapshot attachment;
    int ifindex = 0;
    std::uint64_t netns_cookie = 0;
    unsigned program_id = 0;
    unsigned link_id = 0;
    bool agent_serving = false;  // an agent holds it now
    unsigned agent_pid = 0;      // the last agent that served it
    bool histogram = false;
};

struct StatusReport {
    std::string pin_dir;
    std::string layout;  // "v1"
    std::vector<AttachmentStatus> attachments;
};

}  // namespace trafstat
