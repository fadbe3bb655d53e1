#include "net/interface.hpp"
#include "net/route.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <fmt/format.h>
#include <fstream>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

namespace trafstat {

Interface resolve_interface(const std::string& name)
{
    unsigned index = if_nametoindex(name.c_str());
    if (index == 0)
        throw Error(exit_code::no_interface, fmt::format("no such interface: {} (see `ip link` for the list)", name));
    unsigned mtu = 0;
    std::ifstream f("/sys/class/net/" + name + "/mtu");
    f >> mtu;
    return Interface{name, static_cast<int>(index), f ? mtu : 0};
}

namespace {

// The ioctls that query one interface (SIOCGIF*, SIOCETHTOOL), on a
// throw-away socket.
class InterfaceQuery {
public:
    explicit InterfaceQuery(std::string name)
        : name_(std::move(name)), fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0))
    {}
    InterfaceQuery(const InterfaceQuery&) = delete;
    InterfaceQuery& operator=(const InterfaceQuery&) = delete;
    ~InterfaceQuery()
    {
        if (fd_ >= 0)
            close(fd_);
    }

    // False when no socket could be opened (errno says why).
    bool open() const { return fd_ >= 0; }
    // One SIOCGIF* request: the answer is in the returned ifreq. Throws
    // Error naming `what` when the kernel refuses it.
    ifreq get(unsigned long op, const char* what) const
    {
        ifreq req = request();
        if (ioctl(fd_, op, &req) != 0) {
            const int err = errno;
            throw Error(err == ENODEV ? exit_code::no_interface : exit_code::runtime,
                        fmt::format("cannot read the {} of {}: {}", what, name_, errno_text(err)));
        }
        return req;
    }
    // One ethtool request; false if the driver or kernel refuses it.
    bool ethtool(void* cmd) const
    {
        ifreq req = request();
        req.ifr_data = static_cast<char*>(cmd);
        return ioctl(fd_, SIOCETHTOOL, &req) == 0;
    }
    // The driver's name, "" when it does not say.
    std::string driver() const
    {
        ethtool_drvinfo drv{};
        drv.cmd = ETHTOOL_GDRVINFO;
        return ethtool(&drv) ? std::string(drv.driver, strnlen(drv.driver, sizeof drv.driver)) : std::string();
    }

private:
    ifreq request() const
    {
        ifreq req{};
        std::strncpy(req.ifr_name, name_.c_str(), IFNAMSIZ - 1);
        return req;
    }

    std::string name_;
    int fd_;
};

}  // namespace

bool rx_may_aggregate(const Interface& iface)
{
    const InterfaceQuery query(iface.name);
    if (!query.open())
        return true;

    // The names of the feature bits, then their state (ETHTOOL_GFEATURES).
    // ethtool_sset_info ends in a flexible array: one __u32 follows for the one set asked.
    alignas(ethtool_sset_info) std::uint8_t sset_buf[sizeof(ethtool_sset_info) + sizeof(std::uint32_t)] = {};
    auto* sset = reinterpret_cast<ethtool_sset_info*>(sset_buf);
    sset->cmd = ETHTOOL_GSSET_INFO;
    sset->sset_mask = 1ULL << ETH_SS_FEATURES;
    if (!query.ethtool(sset) || !sset->sset_mask)
        return true;
    const std::uint32_t n = sset->data[0];
    std::vector<std::uint8_t> names(sizeof(ethtool_gstrings) + std::size_t{n} * ETH_GSTRING_LEN);
    auto* strings = reinterpret_cast<ethtool_gstrings*>(names.data());
    strings->cmd = ETHTOOL_GSTRINGS;
    strings->string_set = ETH_SS_FEATURES;
    strings->len = n;
    if (!query.ethtool(strings))
        return true;
    const std::uint32_t blocks = (n + 31) / 32;
    std::vector<std::uint8_t> state(sizeof(ethtool_gfeatures) + blocks * sizeof(ethtool_get_features_block));
    auto* features = reinterpret_cast<ethtool_gfeatures*>(state.data());
    features->cmd = ETHTOOL_GFEATURES;
    features->size = blocks;
    if (!query.ethtool(features))
        return true;
    // A veth's XDP runs after its peer's segmentation offload: with GRO
    // requested on the veth, the peer keeps sending GSO super-packets, which
    // arrive as multi-buffer frames.
    const bool veth = query.driver() == "veth";
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

LinkInfo link_info(const std::string& name)
{
    const InterfaceQuery query(name);
    if (!query.open())
        throw Error(exit_code::runtime, fmt::format("cannot open a socket to query {}: {}", name, errno_text(errno)));
    LinkInfo info;
    const ifreq hw = query.get(SIOCGIFHWADDR, "hardware address");
    info.ethernet = hw.ifr_hwaddr.sa_family == ARPHRD_ETHER;
    std::memcpy(info.mac.data(), hw.ifr_hwaddr.sa_data, info.mac.size());
    info.mtu = query.get(SIOCGIFMTU, "MTU").ifr_mtu;
    info.up = (query.get(SIOCGIFFLAGS, "flags").ifr_flags & IFF_UP) != 0;
    // Best effort: the driver and its queues, for advice only.
    info.driver = query.driver();
    ethtool_channels ch{};
    ch.cmd = ETHTOOL_GCHANNELS;
    if (query.ethtool(&ch))
        info.rx_queues = ch.rx_count + ch.combined_count;
    return info;
}

std::optional<std::string> default_route_interface()
{
    std::ifstream v4("/proc/net/route");
    std::ifstream v6("/proc/net/ipv6_route");
    return default_route_from(v4, v6);
}

}  // namespace trafstat
