#include "attach/interface.hpp"
#include "attach/route.hpp"

#include "error.hpp"
#include "exit_codes.hpp"

#include <fmt/format.h>
#include <fstream>
#include <net/if.h>

namespace trafstat {

Interface resolve_interface(const std::string& name)
{
    unsigned index = if_nametoindex(name.c_str());
    if (index == 0)
        throw Error(exit_code::no_interface,
                    fmt::format("no such interface: {} (see `ip link` for the list)", name));
    unsigned mtu = 0;
    std::ifstream f("/sys/class/net/" + name + "/mtu");
    f >> mtu;
    return Interface{name, static_cast<int>(index), f ? mtu : 0};
}

std::optional<std::string> default_route_interface()
{
    std::ifstream v4("/proc/net/route");
    std::ifstream v6("/proc/net/ipv6_route");
    return default_route_from(v4, v6);
}

}  // namespace trafstat
