#include "attach/interface.hpp"
#include "attach/route.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <fmt/format.h>
#include <fstream>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

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

namespace {

// One ethtool request on `name`; false if the driver or kernel refuses it.
bool ethtool(int sock, const std::string& name, void* cmd)
{
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = static_cast<char*>(cmd);
    return ioctl(sock, SIOCETHTOOL, &ifr) == 0;
}

}  // namespace

bool rx_may_aggregate(const Interface& iface)
{
    const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return true;
    struct Closer {
        int fd;
        ~Closer() { close(fd); }
    } closer{sock};

    // The names of the feature bits, then their state (ETHTOOL_GFEATURES).
    // ethtool_sset_info ends in a flexible array: one __u32 follows for the one set asked.
    alignas(ethtool_sset_info) std::uint8_t sset_buf[sizeof(ethtool_sset_info) + sizeof(std::uint32_t)] = {};
    auto* sset = reinterpret_cast<ethtool_sset_info*>(sset_buf);
    sset->cmd = ETHTOOL_GSSET_INFO;
    sset->sset_mask = 1ULL << ETH_SS_FEATURES;
    if (!ethtool(sock, iface.name, sset) || !sset->sset_mask)
        return true;
    const std::uint32_t n = sset->data[0];
    std::vector<std::uint8_t> names(sizeof(ethtool_gstrings) + std::size_t{n} * ETH_GSTRING_LEN);
    auto* strings = reinterpret_cast<ethtool_gstrings*>(names.data());
    strings->cmd = ETHTOOL_GSTRINGS;
    strings->string_set = ETH_SS_FEATURES;
    strings->len = n;
    if (!ethtool(sock, iface.name, strings))
        return true;
    const std::uint32_t blocks = (n + 31) / 32;
    std::vector<std::uint8_t> state(sizeof(ethtool_gfeatures) + blocks * sizeof(ethtool_get_features_block));
    auto* features = reinterpret_cast<ethtool_gfeatures*>(state.data());
    features->cmd = ETHTOOL_GFEATURES;
    features->size = blocks;
    if (!ethtool(sock, iface.name, features))
        return true;
    // A veth's XDP runs after its peer's segmentation offload: with GRO
    // requested on the veth, the peer keeps sending GSO super-packets, which
    // arrive as multi-buffer frames.
    ethtool_drvinfo drv{};
    drv.cmd = ETHTOOL_GDRVINFO;
    const bool veth = ethtool(sock, iface.name, &drv) && std::string_view(drv.driver) == "veth";
    for (std::uint32_t i = 0; i < n; ++i) {
        const char* name = reinterpret_cast<const char*>(strings->data) + std::size_t{i} * ETH_GSTRING_LEN;
        const std::string_view feature(name, strnlen(name, ETH_GSTRING_LEN));
        const bool merges = feature == "rx-gro-hw" || feature == "rx-lro" ||
                            (veth && (feature == "rx-gro" || feature == "rx-gro-list"));
        if (merges && (features->features[i / 32].active >> (i % 32)) & 1)
            return true;
    }
    return false;
}

std::optional<std::string> default_route_interface()
{
    std::ifstream v4("/proc/net/route");
    std::ifstream v6("/proc/net/ipv6_route");
    return default_route_from(v4, v6);
}

}  // namespace trafstat
