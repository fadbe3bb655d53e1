// How rows are named for people: addresses, protocols, ports with their
// service names, flows. Shared by the line, JSON and TUI renderers.
#pragma once

#include "stats/flows.hpp"
#include "stats/views.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace trafstat {

// "10.0.0.1" for an IPv4-mapped address, "2001:db8::1" otherwise.
std::string format_ip(const std::array<std::uint8_t, 16>& addr, std::uint8_t ip_version);
// "tcp", "udp", "icmp", "icmpv6", "sctp", "gre", "esp", or the number.
std::string proto_name(std::uint8_t proto);

// How a row is named on screen: "tcp 10.0.0.1:40000 > 10.0.0.9:443",
// "icmp 10.0.0.2 > 10.0.0.9 type 8 code 0"; "tcp/443 (https)".
std::string flow_label(const FlowEntry& f);
std::string port_label(const Port& p);

// The system's name for a port (getservbyport: /etc/services), if any.
std::optional<std::string> service_name(std::uint16_t port, std::uint8_t proto);

}  // namespace trafstat
