// Network interfaces by name, and the one carrying the default route.
#pragma once

#include <optional>
#include <string>

namespace trafstat {

struct Interface {
    std::string name;
    int ifindex = 0;
};

// Throws Error(exit_code::no_interface) naming the interface.
Interface resolve_interface(const std::string& name);

// The interface of the IPv4 default route (/proc/net/route), else IPv6's.
std::optional<std::string> default_route_interface();

}  // namespace trafstat
