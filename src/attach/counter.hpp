// The attach policy: from (interface, hook, modes, force) to counting
// programs loaded for their hooks and attached, each with the link that
// holds it. Live counting (and, next, the agent) call this and nothing below it.
#pragma once

#include "attach/modes.hpp"
#include "attach/tc.hpp"
#include "attach/xdp.hpp"
#include "bpf/loader.hpp"
#include "net/interface.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace trafstat {

// One attachment's link: an XDP link (under --force, with the program it
// puts back), or a TC link or clsact filter, holding program `program_id` on
// `hook` of `iface`. Detaches when destroyed.
class Attachment {
public:
    // `whole_frames_mtu`: native XDP with a program that counts a frame's
    // first buffer only (attach_counters()), the MTU up to which frames fit
    // there; 0: no such limit.
    Attachment(XdpAttachment xdp, const Interface& iface, unsigned program_id, unsigned whole_frames_mtu)
        : link_(std::move(xdp)), iface_(iface), hook_(Hook::xdp), program_id_(program_id),
          whole_frames_mtu_(whole_frames_mtu)
    {}
    Attachment(TcAttachment tc, const Interface& iface, TcDirection dir, unsigned program_id)
        : link_(std::move(tc)), iface_(iface), hook_(hook_of(dir)), program_id_(program_id)
    {}
    // "native", "generic" (XDP); "tcx", "clsact" (TC)
    std::string_view mode() const
    {
        return std::visit([](const auto& l) -> std::string_view { return l.mode(); }, link_);
    }
    // The BPF link, to pin (-1: a clsact filter, which has none).
    int link_fd() const
    {
        return std::visit([](const auto& l) { return l.link_fd(); }, link_);
    }
    // Ending it takes netlink (CAP_NET_ADMIN): deleting a clsact filter, or
    // putting back the program --force replaced.
    bool netlink_at_exit() const
    {
        if (const auto* xdp = std::get_if<XdpAttachment>(&link_))
            return xdp->restores_replaced();
        return link_fd() < 0;
    }
    // Why the program no longer counts there (the interface deleted, the
    // link detached, the filter removed: attach/watch.hpp), or nothing while
    // it holds; also when the MTU rose above what the program counts whole.
    // One bpf syscall or netlink query: cheap enough for every interval.
    std::optional<std::string> lost() const;

private:
    std::variant<XdpAttachment, TcAttachment> link_;
    Interface iface_;
    Hook hook_;
    unsigned program_id_;
    unsigned whole_frames_mtu_ = 0;
};

// A counting program on one hook of one interface, and the link that holds
// it there. The program moves on to whoever reads it (the counting engine);
// the link stays with the caller for as long as counting goes on.
struct AttachedCounter {
    Interface iface;
    Hook hook;  // xdp, tc_ingress or tc_egress
    CounterProgram program;
    Attachment link;
};

// Loads and attaches the counting program(s) for `config.hook` on `iface`:
// one for XDP or one TC direction, two for --hook tc. `counting` says what the
// programs count (tables, histogram); the hook-specific load options are
// chosen here. XDP: native with the program bound to the device first (it
// then sees VLAN tags the driver stripped), then plain native, then generic
// when the mode allows; TC: a TCX link, else a clsact filter. Human notes
// (fallbacks, warnings; with `verbose`, the quiet fallbacks too) are
// appended to `notes`. Throws Error.
std::vector<AttachedCounter> attach_counters(const Interface& iface, const AttachConfig& config,
                                             const LoadOptions& counting, std::string& notes, bool verbose = false);

}  // namespace trafstat
