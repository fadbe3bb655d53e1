#include "app/pinned.hpp"

#include "attach/counter.hpp"
#include "attach/privileges.hpp"
#include "attach/watch.hpp"
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "base/printable.hpp"
#include "bpf/loader.hpp"
#include "bpf/netns.hpp"
#include "bpf/pins.hpp"
#include "engine/sources.hpp"
#include "net/interface.hpp"
#include "net/route.hpp"
#include "output/status.hpp"
#include "output/writer.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace trafstat {
namespace {

double unix_now()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void copy_name(char* into, std::size_t size, std::string_view name)
{
    std::memset(into, 0, size);
    std::memcpy(into, name.data(), std::min(name.size(), size - 1));
}

std::vector<Hook> hooks_of(Hook hook)
{
    if (hook == Hook::tc_both)
        return {Hook::tc_ingress, Hook::tc_egress};
    return {hook};
}

// The link pinned in `dir`: ids, the interface it holds the program on (0:
// the interface is gone), and the program's name.
struct LinkState {
    bool pinned = false;
    unsigned link_id = 0;
    unsigned program_id = 0;
    int ifindex = 0;
    std::string program;
};

LinkState link_state(const std::string& dir)
{
    LinkState s;
    Fd link(open_pinned(pin_path(dir, Pin::link)));
    if (!link.valid())
        return s;
    s.pinned = true;
    bpf_link_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(link.get(), &info, &len) != 0)
        return s;
    s.link_id = info.id;
    s.program_id = info.prog_id;
    // XDP and TCX links both report the interface first in their union.
    s.ifindex = static_cast<int>(info.xdp.ifindex);
    Fd prog(bpf_prog_get_fd_by_id(info.prog_id));
    bpf_prog_info pinfo{};
    __u32 plen = sizeof pinfo;
    if (prog.valid() && bpf_obj_get_info_by_fd(prog.get(), &pinfo, &plen) == 0)
        s.program = pinfo.name;
    return s;
}

// Why the attachment no longer counts, or "" while its link holds it.
std::string stale_reason(const PinnedDir& dir, const ts_control& c, const LinkState& link)
{
    const bool here = c.netns_cookie == current_netns_cookie();
    if (!link.pinned)
        return "its link is not pinned: nothing holds the program (trafstat detach removes the rest)";
    if (link.ifindex == 0) {
        // In its own namespace, the link tells a deleted interface from a detached link.
        if (!here)
            return fmt::format("interface {} is gone: the link holds the program on nothing", dir.ifname);
        return interface_gone(Interface{dir.ifname, static_cast<int>(c.ifindex), 0})
            .value_or("its link was detached by someone else: it holds the program on nothing");
    }
    if (here && if_nametoindex(c.ifname) != c.ifindex)
        return fmt::format("interface {} (index {}) is gone from this network namespace", dir.ifname, c.ifindex);
    return "";
}

std::vector<PinnedDir> dirs_on(const std::string& pin_dir, const std::vector<std::string>& interfaces)
{
    std::vector<PinnedDir> out;
    for (PinnedDir& d : list_pinned(pin_dir))
        if (interfaces.empty() || std::find(interfaces.begin(), interfaces.end(), d.ifname) != interfaces.end())
            out.push_back(std::move(d));
    for (const std::string& name : interfaces)
        if (std::none_of(out.begin(), out.end(), [&](const PinnedDir& d) { return d.ifname == name; }))
            throw Error(
                exit_code::not_attached,
                fmt::format("no trafstat attachment on {} under {} (trafstat status lists them)", name, pin_dir));
    return out;
}

std::string agent_note(const std::string& dir, const ts_control& control)
{
    return fmt::format("an agent (pid {}) serves {}: stop it first (systemctl stop trafstat-agent)", control.agent_pid,
                       dir);
}

}  // namespace

std::vector<std::string> interfaces_of(const AttachCommandConfig& config)
{
    if (!config.interfaces.empty())
        return config.interfaces;
    auto name = default_route_interface();
    if (!name)
        throw Error(exit_code::no_interface, "no interface given and no default route to pick one from: name one");
    return {*name};
}

std::vector<std::string> pinned_dirs(const AttachCommandConfig& config, const std::string& ifname)
{
    std::vector<std::string> out;
    for (Hook h : hooks_of(config.attach.hook))
        out.push_back(attachment_dir(config.pin_dir, ifname, hook_name(h)));
    return out;
}

std::vector<std::string> attach_pinned(const AttachCommandConfig& config, const std::string& ifname)
{
    for (const std::string& dir : pinned_dirs(config, ifname)) {
        if (std::filesystem::exists(dir))
            throw Error(exit_code::attach,
                        fmt::format("{} is attached already ({}): read it with trafstat dump, serve it with "
                                    "trafstat agent, or remove it with trafstat detach {}",
                                    ifname, dir, ifname));
    }
    if (config.attach.tc_mode == TcMode::clsact)
        throw Error(exit_code::attach, "a pinned attachment needs a BPF link, and a clsact filter has none: use "
                                       "--tc-mode tcx (Linux 6.6+)");
    const Interface iface = resolve_interface(ifname);
    LoadOptions load = load_options(config.counting);
    std::uint64_t keys = 0;
    for (int t = 0; t < TS_TABLES; ++t)
        if (config.counting.counts(t))
            keys += config.counting.table_size[t];
    load.key_totals = config.totals_size ? config.totals_size
                                         : static_cast<std::uint32_t>(std::min<std::uint64_t>(4 * keys, 1U << 28));
    load.key_totals = std::max<std::uint32_t>(load.key_totals, 16) + TS_TABLES;  // and each table's `other` row
    std::string notes;
    std::vector<AttachedCounter> attached = attach_counters(iface, config.attach, load, notes, config.verbose);
    std::fputs(notes.c_str(), stderr);
    std::vector<std::string> made;
    const std::uint64_t cookie = current_netns_cookie();
    try {
        for (AttachedCounter& a : attached) {
            if (a.link.link_fd() < 0)
                throw Error(exit_code::attach, fmt::format("{}: a pinned attachment needs a BPF link, and this {} "
                                                           "attachment has none",
                                                           ifname, a.link.mode()));
            const std::string dir = attachment_dir(config.pin_dir, ifname, hook_name(a.hook));
            ts_control& c = a.program.control();
            copy_name(c.ifname, sizeof c.ifname, ifname);
            copy_name(c.hook, sizeof c.hook, hook_name(a.hook));
            copy_name(c.mode, sizeof c.mode, a.link.mode());
            c.ifindex = static_cast<__u32>(iface.ifindex);
            c.netns_cookie = cookie;
            c.attached_at_ns = static_cast<__u64>(unix_now() * 1e9);
            for (int t = 0; t < TS_TABLES; ++t)
                c.table_keys[t] = config.counting.counts(t) ? config.counting.table_size[t] : 0;
            for (const std::string& d : {layout_dir(config.pin_dir), layout_dir(config.pin_dir) + "/" + ifname, dir})
                if (mkdir(d.c_str(), 0700) != 0 && errno != EEXIST)
                    throw Error(exit_code::pin_dir, fmt::format("cannot create {}: {}", d, errno_text(-errno)));
            made.push_back(dir);
            a.program.pin(dir);
            // The link last: until it is pinned, the attachment ends with this process.
            pin_object(a.link.link_fd(), pin_path(dir, Pin::link));
        }
    } catch (...) {
        for (const std::string& dir : made) {
            std::vector<std::string> left;
            remove_pinned(config.pin_dir, dir, left);
        }
        throw;
    }
    return made;
}

void detach_pinned(const std::string& pin_dir, const std::string& dir)
{
    const LinkState link = link_state(dir);
    if (link.pinned && !link.program.empty() && !is_trafstat_program(link.program))
        throw Error(exit_code::attach, fmt::format("{}/link holds program '{}' (id {}), not trafstat's: not "
                                                   "touching it",
                                                   dir, link.program, link.program_id));
    std::vector<std::string> left;
    remove_pinned(pin_dir, dir, left);
    for (const std::string& path : left)
        std::fprintf(stderr, "trafstat: note: kept %s: trafstat did not make it\n", printable(path).c_str());
}

std::vector<std::string> config_differences(const AttachCommandConfig& config, const ts_control& control)
{
    std::vector<std::string> out;
    for (int t = 0; t < TS_TABLES; ++t) {
        const bool asked = config.counting.counts(t);
        const bool loaded = (control.tables_on & TS_TABLE_BIT(t)) != 0;
        if (asked != loaded)
            out.push_back(
                fmt::format("--{}: asked {}, attached {}", table_name(t), asked ? "on" : "off", loaded ? "on" : "off"));
        else if (asked && config.counting.table_size[t] != control.table_keys[t])
            out.push_back(fmt::format("{} table size: asked {} keys, attached {}", table_name(t),
                                      config.counting.table_size[t], control.table_keys[t]));
    }
    const bool histogram = (control.flags & TS_CONTROL_HISTOGRAM) != 0;
    if (config.counting.histogram != histogram)
        out.push_back(fmt::format("--histogram: asked {}, attached {}", config.counting.histogram ? "on" : "off",
                                  histogram ? "on" : "off"));
    const bool drop = (control.flags & TS_CONTROL_DROP_MODE) != 0;
    if (config.attach.drop != drop)
        out.push_back(
            fmt::format("--drop: asked {}, attached {}", config.attach.drop ? "on" : "off", drop ? "on" : "off"));
    const std::string_view mode = control.mode;
    if (config.attach.hook == Hook::xdp && config.attach.xdp_mode != XdpMode::auto_ &&
        xdp_mode_name(config.attach.xdp_mode) != mode)
        out.push_back(fmt::format("--xdp-mode: asked {}, attached {}", xdp_mode_name(config.attach.xdp_mode), mode));
    return out;
}

AttachmentStatus status_of(const PinnedDir& dir, const CounterProgram& program)
{
    AttachmentStatus s;
    s.dir = dir.path;
    const ts_control& c = program.control();
    AttachmentSnapshot& a = s.attachment;
    a.device = c.ifname;
    a.hook = c.hook;
    a.mode = c.mode;
    a.drop_mode = (c.flags & TS_CONTROL_DROP_MODE) != 0;
    a.attached_at_s = static_cast<double>(c.attached_at_ns) / 1e9;
    a.totals = program.read();
    s.histogram = (c.flags & TS_CONTROL_HISTOGRAM) != 0;
    s.ifindex = static_cast<int>(c.ifindex);
    s.netns_cookie = c.netns_cookie;
    s.agent_pid = c.agent_pid;
    s.agent_serving = DirLock::held(dir.path);
    const TableCapacities capacities = program.table_capacities();
    for (int t = 0; t < TS_TABLES; ++t) {
        TableSnapshot& tb = a.tables[t];
        tb.loaded = (c.tables_on & TS_TABLE_BIT(t)) != 0;
        tb.active = tb.loaded && (__atomic_load_n(&c.tables_active, __ATOMIC_RELAXED) & TS_TABLE_BIT(t));
        tb.capacity = capacities[t];
        tb.entries = c.table_occupancy[t];
        tb.keys_kept = c.keys_kept[t];
    }
    const LinkState link = link_state(dir.path);
    s.program_id = link.program_id;
    s.link_id = link.link_id;
    s.stale = stale_reason(dir, c, link);
    a.up = s.stale.empty();
    return s;
}

std::string stale_reason(const PinnedDir& dir, const ts_control& control)
{
    return stale_reason(dir, control, link_state(dir.path));
}

StatusReport status_report(const std::string& pin_dir)
{
    check_pin_dir(pin_dir, false);
    StatusReport r{pin_dir, fmt::format("v{}", TS_LAYOUT_VERSION), {}};
    for (const PinnedDir& d : list_pinned(pin_dir)) {
        try {
            r.attachments.push_back(status_of(d, CounterProgram::adopt(d.path)));
        } catch (const Error& e) {
            AttachmentStatus s;
            s.dir = d.path;
            s.attachment.device = d.ifname;
            s.attachment.hook = d.hook;
            s.attachment.up = false;
            s.error = e.what();
            r.attachments.push_back(std::move(s));
        }
    }
    return r;
}

int run_attach(const AttachCommandConfig& config)
{
    require_bpf_privileges();
    check_pin_dir(config.pin_dir, true);
    require_table_memory(config.counting, interfaces_of(config).size() * (config.attach.hook == Hook::tc_both ? 2 : 1));
    if (const auto note = table_memory_note(config.counting))
        std::fprintf(stderr, "%s\n", note->c_str());
    std::vector<std::string> made;
    try {
        for (const std::string& name : interfaces_of(config))
            for (std::string& dir : attach_pinned(config, name))
                made.push_back(std::move(dir));
    } catch (...) {
        // All or nothing: the interfaces attached before the failure are detached too.
        for (const std::string& dir : made)
            detach_pinned(config.pin_dir, dir);
        throw;
    }
    for (const std::string& dir : made)
        std::fprintf(stderr, "trafstat: attached and pinned in %s; it counts until trafstat detach\n",
                     printable(dir).c_str());
    return exit_code::ok;
}

int run_status(const StatusConfig& config)
{
    const StatusReport r = status_report(config.pin_dir);
    const std::string text = config.json ? status_json(r) + "\n" : status_text(r);
    std::fputs(text.c_str(), stdout);
    return exit_code::ok;
}

int run_dump(const DumpConfig& config)
{
    check_pin_dir(config.pin_dir, false);
    SummaryReport summary;
    double since = unix_now();
    for (const PinnedDir& d : dirs_on(config.pin_dir, config.interfaces)) {
        // Draining needs the attachment to itself: with an agent serving it,
        // what the agent merged last is read (a merge being written is waited out).
        DirLock lock(d.path);
        for (int attempt = 0;; ++attempt) {
            CounterProgram program = CounterProgram::adopt(d.path);
            const ts_control& c = program.control();
            const std::uint32_t seq = __atomic_load_n(&c.merge_seq, __ATOMIC_SEQ_CST);
            if (!lock.valid() && (seq & 1) && attempt < 100) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                continue;
            }
            since = std::min(since, static_cast<double>(c.attached_at_ns) / 1e9);
            const std::string ifname = c.ifname, hook = c.hook, mode = c.mode;
            PinnedCounting counting(std::move(program));
            if (lock.valid())
                counting.drain();
            AttachmentReport report =
                counting.report(ifname, hook, mode, config.views, config.output.format == OutputFormat::json);
            if (!lock.valid() && __atomic_load_n(&counting.program().control().merge_seq, __ATOMIC_SEQ_CST) != seq &&
                attempt < 100)
                continue;
            summary.attachments.push_back(std::move(report));
            break;
        }
    }
    summary.duration_s = unix_now() - since;
    ReportWriter out(config.output);
    out.summary(summary);
    return exit_code::ok;
}

int run_detach(const DetachConfig& config)
{
    check_pin_dir(config.pin_dir, false);
    const std::vector<PinnedDir> dirs = dirs_on(config.pin_dir, config.interfaces);
    if (dirs.empty())
        throw Error(exit_code::not_attached, fmt::format("no trafstat attachment under {}", config.pin_dir));
    for (const PinnedDir& d : dirs) {
        DirLock lock(d.path);
        if (!lock.valid()) {
            const CounterProgram program = CounterProgram::adopt(d.path);
            throw Error(exit_code::attach, agent_note(d.path, program.control()));
        }
        detach_pinned(config.pin_dir, d.path);
        std::fprintf(stderr, "trafstat: detached %s (%s); its pins are removed\n", printable(d.ifname).c_str(),
                     d.hook.c_str());
    }
    return exit_code::ok;
}

int run_control(const ControlConfig& config)
{
    check_pin_dir(config.pin_dir, false);
    bool found = false;
    for (const PinnedDir& d : dirs_on(config.pin_dir, {config.interface})) {
        if (config.hook && d.hook != hook_name(*config.hook))
            continue;
        found = true;
        CounterProgram program = CounterProgram::adopt(d.path);
        ts_control& c = program.control();
        for (int t = 0; t < TS_TABLES; ++t) {
            if (!config.tables_on[t])
                continue;
            if (!(c.tables_on & TS_TABLE_BIT(t)))
                throw Error(exit_code::usage,
                            fmt::format("{} {}: the {} table was not loaded at attach, so it cannot be switched {}: "
                                        "attach with --{}",
                                        d.ifname, d.hook, table_name(t), *config.tables_on[t] ? "on" : "off",
                                        table_name(t)));
            if (*config.tables_on[t])
                __atomic_fetch_or(&c.tables_active, TS_TABLE_BIT(t), __ATOMIC_SEQ_CST);
            else
                __atomic_fetch_and(&c.tables_active, ~TS_TABLE_BIT(t), __ATOMIC_SEQ_CST);
        }
        std::string state;
        for (int t = 0; t < TS_TABLES; ++t)
            if (c.tables_on & TS_TABLE_BIT(t))
                state += fmt::format(" {} {}", table_name(t), (c.tables_active & TS_TABLE_BIT(t)) ? "on" : "off");
        std::fprintf(stderr, "trafstat: %s %s:%s\n", printable(d.ifname).c_str(), d.hook.c_str(), state.c_str());
    }
    if (!found)
        throw Error(exit_code::not_attached, fmt::format("no trafstat attachment on {} {} under {}", config.interface,
                                                         config.hook ? hook_name(*config.hook) : "", config.pin_dir));
    return exit_code::ok;
}

}  // namespace trafstat
