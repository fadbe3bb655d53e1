#include "attach/tc.hpp"

#include "attach/watch.hpp"
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/holders.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <fmt/format.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace trafstat {
namespace {

// Linux 6.6 UAPI values; the 6.1 headers libbpf 1.1 builds against lack them.
constexpr int kBpfTcxIngress = 46;
constexpr int kBpfTcxEgress = 47;

bpf_tc_attach_point tc_point(TcDirection d)
{
    return d == TcDirection::ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

std::string_view direction_name(TcDirection d)
{
    return d == TcDirection::ingress ? "ingress" : "egress";
}

// What to do about trafstat's clsact filter on one direction, another's:
// whoever holds its program still counts with it; a filter whose program
// nobody holds was left by a killed run. "" for this process's own.
std::string leftover(const Interface& iface, TcDirection dir)
{
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = iface.ifindex, .attach_point = tc_point(dir));
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
    if (bpf_tc_query(&hook, &opts) != 0)
        return "";
    const ProgramHolders scan = program_holders(opts.prog_id);
    const std::vector<ProgramHolder>& holders = scan.found;
    if (std::any_of(holders.begin(), holders.end(), [](const ProgramHolder& h) { return h.pid == getpid(); }))
        return "";
    const std::string what = fmt::format("on {} (program {})", direction_name(dir), opts.prog_id);
    const std::string remove = fmt::format("`tc filter del dev {} {} handle {:#x} prio {} bpf`", iface.name,
                                           direction_name(dir), kTcHandle, kTcPriority);
    if (holders.empty() && !scan.complete)
        return fmt::format("{}, held by no process this user can see: left by a killed trafstat, or held by another "
                           "user's (look as root); once none runs, remove it with {}",
                           what, remove);
    if (holders.empty())
        return fmt::format("{}, left by a killed trafstat (no process holds its program): remove it with {}", what,
                           remove);
    std::string by;
    for (const ProgramHolder& h : holders)
        by += (by.empty() ? "" : ", ") + describe(h);
    const bool trafstat =
        std::all_of(holders.begin(), holders.end(), [](const ProgramHolder& h) { return h.comm == "trafstat"; });
    return fmt::format("{}, held by a running {}, {}: stop it first", what, trafstat ? "trafstat" : "process", by);
}

// Every clsact filter with trafstat's handle on `iface` but this process's,
// in one message (bpf_tc_attach said one is there).
std::string leftover_filters(const Interface& iface)
{
    std::string each;
    for (TcDirection d : {TcDirection::ingress, TcDirection::egress})
        if (std::string l = leftover(iface, d); !l.empty())
            each += (each.empty() ? "" : "; ") + l;
    if (each.empty())
        each = "gone again by now: try again";
    return fmt::format("{} already has trafstat's clsact filter (handle {:#x}, priority {:#x}) {}", iface.name,
                       kTcHandle, kTcPriority, each);
}

}  // namespace

TcAttachment::TcAttachment(TcAttachment&& o) noexcept
    : iface_(std::move(o.iface_)), dir_(o.dir_), mode_(o.mode_), link_(std::move(o.link_)),
      filter_(std::exchange(o.filter_, false)), filter_prog_id_(o.filter_prog_id_)
{}

TcAttachment TcAttachment::attach(int prog_fd, const Interface& iface, TcDirection dir, TcMode mode, std::string& notes)
{
    TcAttachment a;
    a.iface_ = iface;
    a.dir_ = dir;
    const auto hook = hook_name(hook_of(dir));

    if (mode != TcMode::clsact) {
        int type = dir == TcDirection::ingress ? kBpfTcxIngress : kBpfTcxEgress;
        int fd = bpf_link_create(prog_fd, iface.ifindex, static_cast<bpf_attach_type>(type), nullptr);
        if (fd >= 0) {
            a.link_ = Fd(fd);
            a.mode_ = TcMode::tcx;
            return a;
        }
        int err = errno;
        if (err == EPERM)
            throw Error(exit_code::privileges,
                        fmt::format("permission denied attaching {} to {}: needs CAP_NET_ADMIN", hook, iface.name));
        if (mode == TcMode::tcx)
            throw Error(exit_code::attach,
                        fmt::format("cannot attach {} to {} as a TCX link: {}", hook, iface.name, errno_text(err)));
        notes += fmt::format("trafstat: note: TCX links unavailable ({}); using a clsact filter on {} "
                             "(it stays if trafstat is killed with SIGKILL)\n",
                             errno_text(err), iface.name);
    }

    // Legacy path: clsact qdisc (kept if it already existed, and kept after
    // exit because others may have added filters to it) plus our own filter.
    LIBBPF_OPTS(bpf_tc_hook, tc_hook, .ifindex = iface.ifindex, .attach_point = tc_point(dir));
    if (int err = bpf_tc_hook_create(&tc_hook); err && err != -EEXIST)
        throw Error(err == -EPERM ? exit_code::privileges : exit_code::attach,
                    fmt::format("cannot create the clsact qdisc on {}: {}", iface.name, errno_text(err)));
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = 0, .handle = kTcHandle, .priority = kTcPriority);
    if (int err = bpf_tc_attach(&tc_hook, &opts); err) {
        if (err == -EEXIST)
            throw Error(exit_code::attach, leftover_filters(iface));
        throw Error(err == -EPERM ? exit_code::privileges : exit_code::attach,
                    fmt::format("cannot attach the {} filter to {}: {}", hook, iface.name, errno_text(err)));
    }
    a.filter_ = true;
    a.filter_prog_id_ = program_id(prog_fd);
    a.mode_ = TcMode::clsact;
    return a;
}

TcAttachment::~TcAttachment()
{
    if (filter_) {
        // Only while it is ours: someone may have replaced it with a filter of their own.
        LIBBPF_OPTS(bpf_tc_hook, tc_hook, .ifindex = iface_.ifindex, .attach_point = tc_point(dir_));
        LIBBPF_OPTS(bpf_tc_opts, found, .handle = kTcHandle, .priority = kTcPriority);
        if (bpf_tc_query(&tc_hook, &found) == 0 && found.prog_id == filter_prog_id_) {
            LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
            bpf_tc_detach(&tc_hook, &opts);
        }
    }
    // link_ closes: the kernel detaches a TCX program with its last link fd.
}

}  // namespace trafstat
