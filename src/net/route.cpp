#include "net/route.hpp"

#include <cstdlib>
#include <sstream>

namespace trafstat {

std::optional<std::string> default_route_from(std::istream& v4, std::istream& v6)
{
    // Iface Destination Gateway Flags ... Metric Mask: pick the default route
    // (destination and mask 0) with the lowest metric.
    std::string line;
    std::optional<std::string> best;
    long best_metric = 0;
    std::getline(v4, line);  // header
    while (std::getline(v4, line)) {
        std::istringstream f(line);
        std::string iface, dest, gw, flags, refcnt, use, metric, mask;
        if (!(f >> iface >> dest >> gw >> flags >> refcnt >> use >> metric >> mask))
            continue;
        if (dest != "00000000" || mask != "00000000")
            continue;
        long m = std::strtol(metric.c_str(), nullptr, 10);
        if (!(std::strtoul(flags.c_str(), nullptr, 16) & 0x1))  // RTF_UP
            continue;
        if (!best || m < best_metric) {
            best = iface;
            best_metric = m;
        }
    }
    if (best)
        return best;

    // dest(32) dest_len src(32) src_len next_hop metric refcnt use flags iface
    while (std::getline(v6, line)) {
        std::istringstream f(line);
        std::string dest, dlen, src, slen, hop, metric, ref, use, flags, iface;
        if (!(f >> dest >> dlen >> src >> slen >> hop >> metric >> ref >> use >> flags >> iface))
            continue;
        if (dest == std::string(32, '0') && dlen == "00" && iface != "lo")
            return iface;
    }
    return std::nullopt;
}

}  // namespace trafstat
