#include "attach/counter.hpp"

#include "attach/watch.hpp"
#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <fmt/format.h>

#include <optional>

namespace trafstat {
namespace {

constexpr unsigned kEthernetHeaderLen = 14;
constexpr unsigned kVlanTagLen = 4;

LoadOptions for_hook(LoadOptions l, const AttachConfig& config)
{
    l.drop_mode = config.drop;
    l.load_xdp = config.hook == Hook::xdp;
    l.load_tc = !l.load_xdp;
    return l;
}

// `single_buffer`: the program counts each frame's first buffer only, which
// holds the whole frame up to kMaxSingleBufferMtu.
AttachedCounter attached_xdp(const Interface& iface, CounterProgram program, XdpAttachment link,
                             bool single_buffer = false)
{
    const unsigned id = program_id(program.xdp_fd());
    const unsigned whole_frames_mtu = single_buffer && link.mode() == "native" ? kMaxSingleBufferMtu : 0;
    return AttachedCounter{iface, Hook::xdp, std::move(program),
                           Attachment(std::move(link), iface, id, whole_frames_mtu)};
}

// Generic XDP runs on skbs, some of them GSO/GRO super-packets: its program
// counts those as their wire segments and notes frames longer than the
// interface's largest wire frame (MTU, Ethernet header, VLAN tags).
AttachedCounter attach_generic(const Interface& iface, const AttachConfig& config, LoadOptions load, std::string& notes)
{
    if (iface.mtu)
        load.max_wire_frame = iface.mtu + kEthernetHeaderLen + TS_MAX_VLAN_TAGS * kVlanTagLen;
    auto program = CounterProgram::load(load);
    auto link = XdpAttachment::attach(program.xdp_fd(), iface, XdpMode::generic, config.force, notes);
    return attached_xdp(iface, std::move(program), std::move(link));
}

// XDP on one interface. Native mode first loads the program device-bound, so
// it can see VLAN tags the driver stripped; where that cannot load or attach,
// a plain program does the job (generic XDP never sees stripped tags).
AttachedCounter attach_xdp(const Interface& iface, const AttachConfig& config, const LoadOptions& load,
                           std::string& notes, bool verbose)
{
    const ExistingXdp existing = query_xdp(iface);
    // The mode asked for wins; with auto, --force keeps the replaced program's.
    const XdpMode mode = config.force && existing.prog_id ? forced_mode(config.xdp_mode, existing) : config.xdp_mode;
    const bool want_native = mode == XdpMode::native || mode == XdpMode::auto_;
    // Native XDP below this MTU, without receive aggregation before XDP,
    // never sees a multi-buffer frame: its length needs no helper call
    // (docs/attaching.md).
    const bool single_buffer = iface.mtu && iface.mtu <= kMaxSingleBufferMtu && !rx_may_aggregate(iface);
    if (want_native && !config.drop && !existing.prog_id) {
        std::optional<CounterProgram> bound;
        try {
            LoadOptions l = load;
            l.xdp_dev_bound_ifindex = iface.ifindex;
            l.frames_may_be_multibuf = !single_buffer;
            bound = CounterProgram::load(l);
        } catch (const Error& e) {
            if (e.exit_code() == exit_code::privileges)
                throw;
            if (verbose)
                notes += fmt::format("trafstat: note: device-bound XDP load failed ({}); "
                                     "VLAN tags stripped by the driver will not be seen\n",
                                     e.what());
        }
        if (bound) {
            try {
                auto link = XdpAttachment::attach(bound->xdp_fd(), iface, XdpMode::native, false, notes);
                return attached_xdp(iface, std::move(*bound), std::move(link), single_buffer);
            } catch (const Error& e) {
                if (mode == XdpMode::native || e.exit_code() == exit_code::privileges)
                    throw;
                notes += fmt::format("trafstat: note: native XDP unavailable on {} ({}); using generic XDP\n",
                                     iface.name, e.what());
                return attach_generic(iface, config, load, notes);
            }
        }
    }
    if (want_native && single_buffer && config.drop) {
        // Drop mode is the benchmark mode: native with the cheapest program first.
        LoadOptions l = load;
        l.frames_may_be_multibuf = false;
        auto program = CounterProgram::load(l);
        try {
            auto link = XdpAttachment::attach(program.xdp_fd(), iface, XdpMode::native, config.force, notes);
            return attached_xdp(iface, std::move(program), std::move(link), true);
        } catch (const Error& e) {
            if (mode == XdpMode::native || e.exit_code() == exit_code::privileges)
                throw;
        }
    }
    if (mode == XdpMode::generic)
        return attach_generic(iface, config, load, notes);
    // Auto mode falls back to generic XDP here without the super-packet
    // count: only where the device-bound program cannot load (before Linux 6.8).
    auto program = CounterProgram::load(load);
    auto link = XdpAttachment::attach(program.xdp_fd(), iface, mode, config.force, notes);
    return attached_xdp(iface, std::move(program), std::move(link));
}

}  // namespace

std::optional<std::string> Attachment::lost() const
{
    if (hook_ == Hook::xdp) {
        auto why = link_lost(link_fd(), iface_);  // every XDP attachment is a link, --force's too
        return why || !whole_frames_mtu_ ? why : mtu_outgrown(iface_, whole_frames_mtu_);
    }
    if (link_fd() >= 0)
        return link_lost(link_fd(), iface_);
    return clsact_filter_lost(iface_, hook_ == Hook::tc_ingress ? TcDirection::ingress : TcDirection::egress,
                              program_id_);
}

std::vector<AttachedCounter> attach_counters(const Interface& iface, const AttachConfig& config,
                                             const LoadOptions& counting, std::string& notes, bool verbose)
{
    const LoadOptions load = for_hook(counting, config);
    std::vector<AttachedCounter> out;
    if (config.hook == Hook::xdp) {
        out.push_back(attach_xdp(iface, config, load, notes, verbose));
        return out;
    }
    std::vector<TcDirection> dirs;
    if (config.hook == Hook::tc_ingress || config.hook == Hook::tc_both)
        dirs.push_back(TcDirection::ingress);
    if (config.hook == Hook::tc_egress || config.hook == Hook::tc_both)
        dirs.push_back(TcDirection::egress);
    for (auto dir : dirs) {
        auto program = CounterProgram::load(load);
        auto link = TcAttachment::attach(program.tc_fd(), iface, dir, config.tc_mode, notes);
        const unsigned id = program_id(program.tc_fd());
        out.push_back(
            AttachedCounter{iface, hook_of(dir), std::move(program), Attachment(std::move(link), iface, dir, id)});
    }
    return out;
}

}  // namespace trafstat
