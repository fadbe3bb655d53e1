#include "attach/xdp.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/loader.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <fmt/format.h>
#include <linux/if_link.h>

namespace trafstat {
namespace {

std::string prog_name(unsigned id)
{
    Fd fd(bpf_prog_get_fd_by_id(id));
    if (!fd.valid())
        return "?";
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
        return "?";
    return info.name[0] ? info.name : "(unnamed)";
}

// The XDP link holding program `prog_id` on `ifindex`. Interface indexes are
// per network namespace, and links are listed for the whole host: the
// program's id (global) tells this interface's link from another namespace's.
unsigned xdp_link_on(int ifindex, unsigned prog_id)
{
    __u32 id = 0;
    while (bpf_link_get_next_id(id, &id) == 0) {
        Fd fd(bpf_link_get_fd_by_id(id));
        if (!fd.valid())
            continue;
        bpf_link_info info{};
        __u32 len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 && info.type == BPF_LINK_TYPE_XDP &&
            static_cast<int>(info.xdp.ifindex) == ifindex && info.prog_id == prog_id)
            return id;
    }
    return 0;
}

// The netlink flag of an attach mode (native or generic).
unsigned mode_flag(XdpAttached mode)
{
    return mode == XdpAttached::generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

std::string describe(const ExistingXdp& e, const std::string& ifname)
{
    std::string s = fmt::format("{} already has XDP program '{}' (id {}, {} mode", ifname, e.name, e.prog_id,
                                kXdpAttachedNames.name(e.mode));
    if (e.link_id)
        s += fmt::format(", held by BPF link {}", e.link_id);
    return s + ")";
}

// Creates an XDP link in one mode; returns the link fd or -errno.
int create_link(int prog_fd, int ifindex, unsigned flag)
{
    LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flag);
    int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
    return fd >= 0 ? fd : -errno;
}

[[noreturn]] void attach_failed(int err, const Interface& iface, std::string_view mode)
{
    if (err == -EPERM)
        throw Error(exit_code::privileges,
                    fmt::format("permission denied attaching XDP to {}: needs CAP_NET_ADMIN", iface.name));
    if (err == -EOPNOTSUPP)
        throw Error(
            exit_code::attach,
            fmt::format("{} XDP is not supported by the driver of {}: try --xdp-mode generic or --hook tc-ingress",
                        mode, iface.name));
    throw Error(exit_code::attach, fmt::format("cannot attach XDP ({}) to {}: {}", mode, iface.name, errno_text(err)));
}

}  // namespace

ExistingXdp query_xdp(const Interface& iface)
{
    ExistingXdp e;
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(iface.ifindex, 0, &q) != 0)
        return e;
    e.prog_id = q.prog_id;
    if (!e.prog_id)
        e.prog_id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
    if (!e.prog_id)
        return e;
    e.mode = q.attach_mode == XDP_ATTACHED_SKB  ? XdpAttached::generic
             : q.attach_mode == XDP_ATTACHED_HW ? XdpAttached::offload
                                                : XdpAttached::native;
    if (q.attach_mode == XDP_ATTACHED_MULTI)
        e.mode = XdpAttached::multi;
    e.name = prog_name(e.prog_id);
    e.link_id = xdp_link_on(iface.ifindex, e.prog_id);
    return e;
}

XdpMode forced_mode(XdpMode asked, const ExistingXdp& existing)
{
    if (asked != XdpMode::auto_)
        return asked;
    return existing.mode == XdpAttached::generic ? XdpMode::generic : XdpMode::native;
}

void XdpAttachment::detach_theirs(const ExistingXdp& theirs)
{
    Fd held(bpf_prog_get_fd_by_id(theirs.prog_id));
    if (!held.valid())
        throw Error(exit_code::attach,
                    fmt::format("cannot take hold of program {}: {}", theirs.prog_id, errno_text(errno)));
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = held.get());
    if (int err = bpf_xdp_detach(iface_.ifindex, mode_flag(theirs.mode) | XDP_FLAGS_REPLACE, &opts); err) {
        if (err == -EEXIST)
            throw Error(exit_code::attach, describe(theirs, iface_.name) +
                                               ": it changed while trafstat took hold of it; not replacing "
                                               "what is there now");
        attach_failed(err, iface_, kXdpAttachedNames.name(theirs.mode));
    }
    replaced_ = std::move(held);
    replaced_info_ = theirs;
}

XdpAttachment XdpAttachment::attach(int prog_fd, const Interface& iface, XdpMode mode, bool force, std::string& notes)
{
    XdpAttachment a;
    a.iface_ = iface;
    a.ours_ = Fd::duplicate(prog_fd);
    if (!a.ours_.valid())
        throw Error(exit_code::attach,
                    fmt::format("cannot hold the program for {}: {}", iface.name, errno_text(errno)));

    if (ExistingXdp e = query_xdp(iface); e.prog_id) {
        // trafstat's own program attached without a link: only a --force run
        // of a version before links held it so, and one killed left it there.
        // It is not the user's program: "restoring" it would keep it for good.
        if (is_trafstat_program(e.name) && !e.link_id)
            throw Error(exit_code::attach,
                        describe(e, iface.name) +
                            fmt::format(": trafstat's own, attached without a link, as only an older trafstat's "
                                        "--force did: one still running holds it, or a killed one left it and the "
                                        "program it replaced is gone; not replacing it, even with --force (once no "
                                        "older trafstat runs on {0}, remove it: ip link set dev {0} {1} off)",
                                        iface.name, e.mode == XdpAttached::generic ? "xdpgeneric" : "xdpdrv"));
        if (!force)
            throw Error(exit_code::attach, describe(e, iface.name) +
                                               ": not replacing it (use --force to swap it out for this run, "
                                               "or --hook tc-ingress to count beside it)");
        if (e.link_id)
            throw Error(exit_code::attach,
                        describe(e, iface.name) +
                            ": a program held by a BPF link cannot be replaced, even with --force; only its owner "
                            "can detach it (or use --hook tc-ingress to count beside it)");
        if (e.mode != XdpAttached::native && e.mode != XdpAttached::generic)
            throw Error(exit_code::attach, describe(e, iface.name) +
                                               ": --force replaces only a program attached in native or "
                                               "generic mode");
        // Theirs off by netlink, then ours by a link of this process: a
        // SIGKILL from here on leaves nothing on the hook, never ours.
        mode = forced_mode(mode, e);
        a.detach_theirs(e);
        notes += fmt::format("trafstat: warning: --force: detached '{}' (id {}, {} mode) from {} for this run; it is "
                             "put back on exit, but a killed trafstat (SIGKILL) leaves {} with no XDP program "
                             "(docs/attaching.md)\n",
                             e.name, e.prog_id, kXdpAttachedNames.name(e.mode), iface.name, iface.name);
    }

    if (mode == XdpMode::offload) {
        // Hardware XDP runs in the NIC (Netronome's nfp): a driver without it refuses the flag.
        int fd = create_link(a.ours_.get(), iface.ifindex, XDP_FLAGS_HW_MODE);
        if (fd == -EPERM)
            attach_failed(fd, iface, kXdpAttachedNames.name(XdpAttached::offload));
        if (fd < 0)
            throw Error(exit_code::attach,
                        fmt::format("offload (hardware) XDP is not available on {} ({}): its driver cannot run XDP "
                                    "programs in the NIC; use --xdp-mode native or generic",
                                    iface.name, errno_text(fd)));
        a.link_ = Fd(fd);
        a.mode_ = XdpAttached::offload;
        return a;
    }
    if (mode == XdpMode::native || mode == XdpMode::auto_) {
        int fd = create_link(a.ours_.get(), iface.ifindex, XDP_FLAGS_DRV_MODE);
        if (fd >= 0) {
            a.link_ = Fd(fd);
            a.mode_ = XdpAttached::native;
            return a;
        }
        if (mode == XdpMode::native || fd == -EPERM || fd == -EBUSY)
            attach_failed(fd, iface, kXdpAttachedNames.name(XdpAttached::native));
        notes += fmt::format("trafstat: note: native XDP unavailable on {} ({}); using generic XDP\n", iface.name,
                             errno_text(fd));
    }
    int fd = create_link(a.ours_.get(), iface.ifindex, XDP_FLAGS_SKB_MODE);
    if (fd < 0)
        attach_failed(fd, iface, kXdpAttachedNames.name(XdpAttached::generic));
    a.link_ = Fd(fd);
    a.mode_ = XdpAttached::generic;
    return a;
}

XdpAttachment::~XdpAttachment()
{
    if (!replaced_.valid())
        return;  // link_ closes: the kernel detaches the program.
    // Ours off first (even if someone else holds the link too), so the hook is free for theirs.
    if (link_.valid())
        bpf_link_detach(link_.get());
    link_.reset();
    const ExistingXdp& theirs = replaced_info_;
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
    const int err =
        bpf_xdp_attach(iface_.ifindex, replaced_.get(), mode_flag(theirs.mode) | XDP_FLAGS_UPDATE_IF_NOEXIST, &opts);
    if (err == -EBUSY || err == -EEXIST)
        fmt::print(stderr,
                   "trafstat: warning: --force: not putting '{}' (id {}) back on {}: another XDP program was "
                   "attached there meanwhile, and trafstat does not replace it\n",
                   theirs.name, theirs.prog_id, iface_.name);
    else if (err)
        fmt::print(stderr, "trafstat: warning: --force: cannot put '{}' (id {}) back on {}: {}\n", theirs.name,
                   theirs.prog_id, iface_.name, errno_text(err));
}

}  // namespace trafstat
