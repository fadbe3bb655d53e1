// One XDP attachment: a BPF link (native, generic or offload), detached when
// the object dies or the process does. --force first detaches another
// program by netlink (exactly that one) and puts it back, in its own mode,
// when the attachment ends; a killed run leaves that program or nothing,
// never trafstat's (docs/attaching.md).
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
// The mode trafstat attaches in when --force swaps out `existing`: the one
// asked for; with auto, the mode of the program it replaces.
XdpMode forced_mode(XdpMode asked, const ExistingXdp& existing);

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
    // The BPF link holding the program.
    int link_fd() const { return link_.get(); }
    // Ending the attachment puts back the program --force replaced, by
    // netlink (CAP_NET_ADMIN).
    bool restores_replaced() const { return replaced_.valid(); }

private:
    XdpAttachment() = default;
    // --force: detaches `theirs` by netlink, expecting exactly that program.
    void detach_theirs(const ExistingXdp& theirs);
    Interface iface_;
    XdpAttached mode_ = XdpAttached::native;
    Fd link_;
    Fd ours_;
    // --force only: the program detached for the run, put back at the end.
    Fd replaced_;
    ExistingXdp replaced_info_;
};

}  // namespace trafstat
