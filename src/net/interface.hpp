// Network interfaces: by name, what they are (link_info), what their NIC
// does to frames (rx_may_aggregate), and the one carrying the default route.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace trafstat {

struct Interface {
    std::string name;
    int ifindex = 0;
    unsigned mtu = 0;  // 0: unknown
};

// The largest frame native XDP gets in one buffer on any driver: a page
// minus headroom and skb_shared_info (4096 - 256 - 320), less the Ethernet
// header. Above it, frames may span buffers (XDP multi-buffer).
inline constexpr unsigned kMaxSingleBufferMtu = 3506;

// Whether the NIC may merge received packets into one frame before XDP
// sees it (hardware GRO or LRO on), so that even a small MTU can give
// multi-buffer frames. True also when it cannot tell.
bool rx_may_aggregate(const Interface& iface);

// Throws Error(exit_code::no_interface) naming the interface.
Interface resolve_interface(const std::string& name);

using MacAddress = std::array<std::uint8_t, 6>;

// A link's address, type, MTU and state, and (best effort, for advice) its
// driver and receive queues.
struct LinkInfo {
    MacAddress mac{};
    bool ethernet = false;  // ARPHRD_ETHER
    int mtu = 0;
    bool up = false;
    std::string driver;      // ethtool's, "" when unknown
    unsigned rx_queues = 0;  // ethtool channels (rx + combined), 0 when unknown
};

// Throws Error(exit_code::no_interface) when `name` is gone, else
// Error(exit_code::runtime) when a query fails.
LinkInfo link_info(const std::string& name);

// The interface of the IPv4 default route (/proc/net/route), else IPv6's.
std::optional<std::string> default_route_interface();

}  // namespace trafstat
