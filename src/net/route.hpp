// Which interface carries the default route, from the kernel's route tables
// as text. Pure, so it is unit-tested with made-up tables.
#pragma once

#include <istream>
#include <optional>
#include <string>

namespace trafstat {

// `v4` in /proc/net/route format, `v6` in /proc/net/ipv6_route format. The
// IPv4 default route with the lowest metric wins; else the first IPv6 one.
std::optional<std::string> default_route_from(std::istream& v4, std::istream& v6);

}  // namespace trafstat
