// What renderers share about a report: how they name and stamp it.
#pragma once

#include "stats/report.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trafstat {

// "veth0 xdp/native": how renderers name an attachment.
std::string attachment_title(const AttachmentReport& a);
// "14:03:59" in local time: how renderers stamp an interval.
std::string local_hms(std::chrono::system_clock::time_point t);

// The name of a drop reason in this report ("unknown" for the kernel's when it names none).
std::string_view reason_name(const DropsReport& r, std::uint32_t reason);
// One reason's drops in one direction of an interface, with its classes.
struct ReasonDrops {
    std::string_view reason;  // its name: reasons the kernel does not name are one "unknown", as in JSON
    Counter counted;
    std::vector<std::pair<std::uint32_t, Counter>> classes;  // drop class, largest first
};
// Reasons shown per direction by line output and the TUI; the rest are summed on one row.
inline constexpr std::size_t kTopDropReasons = 5;
// The row that sums the reasons not shown: "1 more reason", "3 more reasons".
std::string more_reasons(std::size_t n);
// The reasons of one direction, largest first (packets, then bytes, then name).
std::vector<ReasonDrops> drops_by_reason(const DirectionDrops& d, const DropsReport& r);
// A reason's classes, the `most` largest: "ipv4/udp 800, ipv6/udp 200, +2 more";
// one class alone is named without its count ("ipv4/udp").
std::string classes_brief(const ReasonDrops& r, std::size_t most = 3);
// The link counters that are not zero: "rx_dropped 3, tx_dropped 1"; "" when none is.
std::string moved_link_counters(const LinkCounters& c);
// How a dropped flow is named: its 5-tuple as flow_label() names flows, or
// its class when it has none (not IP: "arp"; XDP's failures: "unparsed").
std::string dropped_flow_label(const DroppedFlow& f);

}  // namespace trafstat
