// Where and how trafstat attaches: the hooks and the XDP and TC modes, each
// with its one name table (the CLI parses and documents them from it).
#pragma once

#include "base/names.hpp"

#include <string_view>

namespace trafstat {

enum class Hook { xdp, tc_ingress, tc_egress, tc_both };
inline constexpr auto kHookNames = name_table<Hook>({
    {Hook::xdp, "xdp", "ingress, earliest: before the kernel builds an skb"},
    {Hook::tc_ingress, "tc-ingress", "ingress, after the kernel has built the skb"},
    {Hook::tc_egress, "tc-egress", "egress"},
    {Hook::tc_both, "tc", "both directions"},
});
constexpr std::string_view hook_name(Hook h)
{
    return kHookNames.name(h);
}

enum class XdpMode { native, generic, offload, auto_ };
inline constexpr auto kXdpModeNames = name_table<XdpMode>({
    {XdpMode::native, "native", "in the driver"},
    {XdpMode::generic, "generic", "slower, any driver"},
    {XdpMode::offload, "offload", "in the NIC itself (hardware XDP; few NICs can)"},
    {XdpMode::auto_, "auto", "native if the driver can, else generic"},
});
constexpr std::string_view xdp_mode_name(XdpMode m)
{
    return kXdpModeNames.name(m);
}

// clsact: the legacy filter, forced for testing and for kernels without TCX.
enum class TcMode { auto_, tcx, clsact };
inline constexpr auto kTcModeNames = name_table<TcMode>({
    {TcMode::auto_, "auto", "tcx if the kernel has it, else clsact"},
    {TcMode::tcx, "tcx", "a TCX link (kernel 6.6+)"},
    {TcMode::clsact, "clsact", "the legacy filter, for old kernels"},
});
constexpr std::string_view tc_mode_name(TcMode m)
{
    return kTcModeNames.name(m);
}

// How a run attaches its counting programs (attach_counters()).
struct AttachConfig {
    Hook hook = Hook::xdp;
    XdpMode xdp_mode = XdpMode::auto_;
    TcMode tc_mode = TcMode::auto_;
    bool force = false;  // replace another XDP program for the run, restoring it on exit
    bool drop = false;   // XDP only: count totals, then drop every packet (a benchmark mode)
};

}  // namespace trafstat
