#include "attach/watch.hpp"

#include "bpf/fd.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace trafstat {

std::optional<std::string> interface_gone(const Interface& iface)
{
    char name[IF_NAMESIZE] = {};
    if (if_indextoname(static_cast<unsigned>(iface.ifindex), name))
        return std::nullopt;
    // Interface indexes are never reused within a namespace's lifetime in
    // practice (they count up): a new interface of that name is another one.
    if (const unsigned other = if_nametoindex(iface.name.c_str()); other)
        return fmt::format("the interface was deleted (a new {}, index {}, has its name now)", iface.name, other);
    return std::string("the interface was deleted");
}

std::optional<std::string> link_lost(int link_fd, const Interface& iface)
{
    bpf_link_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0)
        return std::nullopt;  // cannot tell: not a loss
    // XDP and TCX links both report the interface first in their union.
    if (info.xdp.ifindex != 0)
        return std::nullopt;
    if (auto gone = interface_gone(iface))
        return gone;
    return std::string("its link was detached by someone else");
}

std::optional<std::string> clsact_filter_lost(const Interface& iface, TcDirection dir, unsigned prog_id)
{
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = iface.ifindex,
                .attach_point = dir == TcDirection::ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
    const int err = bpf_tc_query(&hook, &opts);
    if (err == 0 && opts.prog_id == prog_id)
        return std::nullopt;
    if (auto gone = interface_gone(iface))
        return gone;
    if (err == 0)
        return fmt::format("its clsact filter was replaced by someone else (now program {})", opts.prog_id);
    if (err == -ENOENT || err == -EINVAL)
        return std::string("its clsact filter was removed by someone else");
    return std::nullopt;  // cannot tell: not a loss
}

std::optional<std::string> mtu_outgrown(const Interface& iface, unsigned whole_frames_mtu)
{
    char name[IF_NAMESIZE] = {};
    if (!if_indextoname(static_cast<unsigned>(iface.ifindex), name))
        return std::nullopt;  // gone: the link says so
    // An ioctl, not /sys/class/net: it answers for this process's network
    // namespace whichever /sys is mounted.
    Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq req{};
    std::memcpy(req.ifr_name, name, sizeof req.ifr_name);
    if (!sock.valid() || ioctl(sock.get(), SIOCGIFMTU, &req) != 0 || req.ifr_mtu < 0)
        return std::nullopt;
    const auto mtu = static_cast<unsigned>(req.ifr_mtu);
    if (mtu <= whole_frames_mtu)
        return std::nullopt;
    return fmt::format("its MTU rose to {}, above the {} up to which this native XDP program counts whole frames "
                       "(larger frames span buffers): start trafstat again to count them whole",
                       mtu, whole_frames_mtu);
}

unsigned program_id(int prog_fd)
{
    bpf_prog_info info{};
    __u32 len = sizeof info;
    return bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0 ? info.id : 0;
}

}  // namespace trafstat
