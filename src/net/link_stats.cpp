#include "net/link_stats.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <fmt/format.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include <array>
#include <memory>
#include <string_view>
#include <utility>

namespace trafstat {

namespace {

// libnl's id of each field (its names differ from the kernel's: rx_missed_err).
constexpr std::array<std::pair<std::uint64_t LinkCounters::*, rtnl_link_stat_id_t>, kLinkCounterFields.size()>
    kLibnlStats{{
        {&LinkCounters::rx_dropped, RTNL_LINK_RX_DROPPED},
        {&LinkCounters::tx_dropped, RTNL_LINK_TX_DROPPED},
        {&LinkCounters::rx_errors, RTNL_LINK_RX_ERRORS},
        {&LinkCounters::tx_errors, RTNL_LINK_TX_ERRORS},
        {&LinkCounters::rx_missed_errors, RTNL_LINK_RX_MISSED_ERR},
        {&LinkCounters::rx_nohandler, RTNL_LINK_RX_NOHANDLER},
    }};

using Socket = std::unique_ptr<nl_sock, decltype(&nl_socket_free)>;
using Link = std::unique_ptr<rtnl_link, decltype(&rtnl_link_put)>;

[[noreturn]] void fail(std::uint32_t ifindex, std::string_view why)
{
    throw Error(exit_code::runtime, fmt::format("cannot read the link counters of ifindex {}: {}", ifindex, why));
}

}  // namespace

LinkCounters link_counters(std::uint32_t ifindex)
{
    // A socket of its own per read: it lives in the network namespace current
    // when it is opened, the caller's.
    const Socket sock(nl_socket_alloc(), nl_socket_free);
    if (!sock)
        fail(ifindex, "out of memory");
    if (const int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0)
        fail(ifindex, nl_geterror(err));
    rtnl_link* found = nullptr;
    if (const int err = rtnl_link_get_kernel(sock.get(), static_cast<int>(ifindex), nullptr, &found); err < 0)
        fail(ifindex, err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV ? "no such interface" : nl_geterror(err));
    const Link link(found, rtnl_link_put);
    LinkCounters counters;
    for (const auto& [member, id] : kLibnlStats)
        counters.*member = rtnl_link_get_stat(link.get(), id);
    return counters;
}

}  // namespace trafstat
