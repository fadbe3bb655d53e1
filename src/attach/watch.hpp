// Knowing when an attachment is gone (docs/attaching.md, "Losing the
// attachment"): its interface deleted, its link detached, its clsact filter
// removed or replaced. Each check is one bpf syscall or netlink query (and,
// on a loss, one ioctl to tell why); link down and up, or an MTU change,
// leave an attachment in place; an MTU change is a loss only where the
// program would count frames short.
#pragma once

#include "attach/tc.hpp"
#include "net/interface.hpp"

#include <optional>
#include <string>

namespace trafstat {

// Why the interface `iface` was is not there any more ("the interface was
// deleted", and whether another took its name), or nothing. A renamed
// interface is still there.
std::optional<std::string> interface_gone(const Interface& iface);

// Why a BPF link (XDP or TCX) made on `iface` no longer holds its program
// there, or nothing while it does. A link whose interface is deleted, or
// that someone detached, reports interface index 0.
std::optional<std::string> link_lost(int link_fd, const Interface& iface);

// Why trafstat's clsact filter (kTcHandle, kTcPriority) with program
// `prog_id` is not on `iface` in direction `dir` any more, or nothing.
std::optional<std::string> clsact_filter_lost(const Interface& iface, TcDirection dir, unsigned prog_id);

// Why frames on `iface` no longer fit the one buffer a native XDP program
// counts (its MTU rose above `whole_frames_mtu`: the kernel lets it, and
// frames then span buffers), or nothing. Reads the interface's MTU.
std::optional<std::string> mtu_outgrown(const Interface& iface, unsigned whole_frames_mtu);

// The id of the program `prog_fd` refers to; 0 when it cannot be read.
unsigned program_id(int prog_fd);

}  // namespace trafstat
