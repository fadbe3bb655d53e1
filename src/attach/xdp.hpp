// One XDP attachment: a BPF link (native or generic), detached when the
// object dies or the process does. --force is the one non-link path: it
// swaps out another program atomically and puts it back on exit, but never
// trafstat's own, which a killed --force run leaves (docs/attaching.md).
#pragma once

#include "attach/modes.hpp"
#include "base/names.hpp"
#include "bpf/fd.hpp"
#include "net/interface.hpp"

#include <string>
#include <string_view>

namespace trafstat {

// How a program is attached to an XDP hook, as the kernel reports it (XDP_ATTACHED_*).
enum class XdpAttached { native, generic, offload, multi };
inline constexpr auto kXdpAttachedNames = name_table<XdpAttached>({
    {XdpAttached::native, "native"},
    {XdpAttached::generic, "generic"},
    {XdpAttached::offload, "offload"},
    {XdpAttached::multi, "multi"},
});

// Another program already on an interface's XDP hook, for messages.
struct ExistingXdp {
    unsigned prog_id = 0;
    std::string name;
    XdpAttached mode = XdpAttached::native;
    unsigned link_id = 0;  // non-zero when a BPF link holds it
};
// Nothing attached: prog_id == 0.
ExistingXdp query_xdp(const Interface& iface);

class XdpAttachment {
public:
    // Attaches the program (the attachment keeps its own reference to it).
    // `notes` receives human lines such as the auto fallback.
    // Throws Error(exit_code::attach / ::privileges).
    static XdpAttachment attach(int prog_fd, const Interface& iface, XdpMode mode, bool force, std::string& notes);

    XdpAttachment(XdpAttachment&&) noexcept = default;
    XdpAttachment& operator=(XdpAttachment&&) noexcept = delete;
    ~XdpAttachment();

    std::string_view mode() const { return kXdpAttachedNames.name(mode_); }  // "native" / "generic"
    // The BPF link holding the program (-1 for a --force swap, which has none).
    int link_fd() const { return link_.get(); }

private:
    XdpAttachment() = default;
    Interface iface_;
    XdpAttached mode_ = XdpAttached::native;
    Fd link_;
    // --force only: the program we replaced and must restore.
    Fd replaced_;
    Fd ours_;
    unsigned mode_flag_ = 0;
};

}  // namespace trafstat
