#include "app/live.hpp"

#include "app/ipfix_export.hpp"
#include "attach/counter.hpp"
#include "attach/privileges.hpp"
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "base/printable.hpp"
#include "base/signals.hpp"
#include "engine/drops.hpp"
#include "engine/engine.hpp"
#include "engine/sources.hpp"
#include "net/interface.hpp"
#include "output/tui.hpp"
#include "output/tui_screen.hpp"
#include "output/writer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace trafstat {
namespace {

// One program on one hook of one interface: the engine reading it, and the
// link holding it there (declared last: it detaches first). The link goes
// before the summary, so that the summary holds every packet counted.
struct Counting {
    CountingEngine engine;
    std::optional<Attachment> link;
};

std::vector<Interface> pick_interfaces(const LiveConfig& c)
{
    std::vector<Interface> out;
    if (c.interfaces.empty()) {
        auto name = default_route_interface();
        if (!name)
            throw Error(exit_code::no_interface, "no interface given and no default route to pick one from: name one, "
                                                 "e.g. `trafstat eth0`");
        out.push_back(resolve_interface(*name));
        return out;
    }
    for (const auto& n : c.interfaces) {
        if (std::any_of(out.begin(), out.end(), [&](const Interface& i) { return i.name == n; }))
            throw Error(exit_code::usage, fmt::format("interface {} given twice", n));
        out.push_back(resolve_interface(n));
    }
    return out;
}

std::vector<Counting> attach_all(const LiveConfig& c, const std::vector<Interface>& ifaces, IpfixExporter* ipfix)
{
    std::vector<Counting> out;
    out.reserve(ifaces.size() * 2);
    std::string notes;
    for (const auto& iface : ifaces) {
        for (AttachedCounter& a : attach_counters(iface, c.attach, load_options(c.counting), notes, c.verbose)) {
            AttachmentLabel label{a.iface.name, std::string(hook_name(a.hook)), std::string(a.link.mode()),
                                  a.program.counts_super_packets()};
            out.push_back(Counting{CountingEngine(std::make_unique<ProgramSource>(std::move(a.program)), c.counting,
                                                  c.interval_s, std::move(label)),
                                   std::move(a.link)});
            if (ipfix) {
                const std::size_t i =
                    ipfix->follow(static_cast<std::uint32_t>(iface.ifindex), a.hook == Hook::tc_egress);
                out.back().engine.observe_epochs([ipfix, i](std::span<const FlowEntry> flows, const ClassCounters& d) {
                    ipfix->epoch(i, flows, d, unix_ms());
                });
            }
        }
    }
    std::fputs(notes.c_str(), stderr);
    return out;
}

// --drops: the drop counter on the counted interfaces, attached after them.
std::optional<DropEngine> count_drops(const LiveConfig& c, const std::vector<Interface>& ifaces)
{
    if (!c.drops.on)
        return std::nullopt;
    std::vector<DropInterface> watched;
    for (const Interface& i : ifaces)
        watched.push_back({i.name, static_cast<std::uint32_t>(i.ifindex)});
    return attach_drop_engine(watched, c.drops);
}

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b)
{
    return std::chrono::duration<double>(b - a).count();
}

// --tui: waits like sleep_until, and meanwhile reads keys and redraws on them
// and on a resize (SIGWINCH interrupts the wait; curses then reports KEY_RESIZE).
// The deadline stays `until`, so the interval schedule is that of line output.
// true: stop (a signal, `q`, or the terminal went away).
bool wait_tui(std::chrono::steady_clock::time_point until, TuiScreen& screen, TuiModel& model)
{
    for (;;) {
        pollfd in{screen.input_fd(), POLLIN, 0};
        switch (wait_until(until, std::span(&in, 1))) {
        case Wake::deadline:
            return false;
        case Wake::stop:
        case Wake::failed:
            return true;
        case Wake::input:
            break;
        }
        if (in.revents & (POLLHUP | POLLERR | POLLNVAL))
            return true;  // the terminal is gone: stop as SIGHUP would
        bool redraw = false;
        for (int ch : screen.read_keys(redraw)) {
            const TuiAction action = model.key(ch);
            if (action == TuiAction::quit)
                return true;
            redraw = redraw || action == TuiAction::redraw;
        }
        if (redraw)
            screen.draw(model.lines(screen.width(), screen.height()));
    }
}

}  // namespace

int run_live(const LiveConfig& o)
{
    install_stop_handlers();
    auto ifaces = pick_interfaces(o);
    require_bpf_privileges();

    if (o.attach.drop) {
        auto route_iface = default_route_interface();
        for (const auto& i : ifaces)
            if (route_iface && *route_iface == i.name)
                std::fprintf(stderr,
                             "trafstat: warning: --drop discards every packet arriving on %s, which carries the "
                             "default route: this host loses connectivity through it until trafstat exits\n",
                             i.name.c_str());
    }

    require_table_memory(o.counting, ifaces.size() * (o.attach.hook == Hook::tc_both ? 2 : 1));
    if (const auto note = table_memory_note(o.counting))
        std::fprintf(stderr, "%s\n", note->c_str());
    // The collector is resolved (or the file made) before anything is attached.
    std::optional<IpfixExporter> ipfix;
    if (o.ipfix.on())
        ipfix.emplace(o.ipfix);
    auto countings = attach_all(o, ifaces, ipfix ? &*ipfix : nullptr);
    std::optional<DropEngine> drops = count_drops(o, ifaces);
    // Everything is loaded and attached: the maps are read through fds held.
    drop_capabilities({.net_admin = std::any_of(countings.begin(), countings.end(), [](const Counting& c) {
                           return c.link && c.link->netlink_at_exit();
                       })});
    {
        std::string what;
        for (const auto& c : countings) {
            const AttachmentLabel& l = c.engine.label();
            what += fmt::format("{}{} ({}/{})", what.empty() ? "" : ", ", printable(l.ifname), l.hook, l.mode);
        }
        std::fprintf(stderr, "trafstat: counting on %s%s%s; Ctrl-C to stop\n", what.c_str(),
                     drops ? ", and the kernel's drops there" : "", o.attach.drop ? ", DROPPING every packet" : "");
    }

    // --tui draws a screen while counting; without a terminal, line output.
    // The screen is closed (endwin) before the summary, which then prints as lines.
    std::unique_ptr<TuiScreen> screen;
    std::optional<TuiModel> tui;
    if (o.tui) {
        install_hangup_handler();
        std::string why_not;
        screen = TuiScreen::open(why_not);
        if (screen) {
            tui.emplace(TuiViews{o.counting.counts(TS_TABLE_TALKERS), o.counting.counts(TS_TABLE_PORTS),
                                 o.counting.counts(TS_TABLE_FLOWS), o.drops.on},
                        o.counting.views.sort, o.interval_s, screen->utf8(), o.counting.views.talkers_by);
            screen->draw(tui->lines(screen->width(), screen->height()));
        } else {
            std::fprintf(stderr, "trafstat: note: --tui needs a terminal (%s): printing lines instead\n",
                         why_not.c_str());
        }
    }

    ReportWriter out(o.output);
    const auto interval =
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(o.interval_s));
    const auto start = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> end;
    if (o.timeout_s)
        end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(*o.timeout_s));

    auto last_read = start;
    auto next = start + interval;
    std::uint64_t intervals = 0;
    std::vector<AttachmentLoss> losses;

    while (!stop_requested()) {
        bool timed_out = end && *end < next;
        const auto until = timed_out ? *end : next;
        if ((tui ? wait_tui(until, *screen, *tui) : sleep_until(until)) || timed_out)
            break;

        // Checked before the read: a loss seen now came before it, so this
        // interval holds every packet counted up to the loss.
        for (auto& c : countings)
            if (auto why = c.link->lost()) {
                const AttachmentLabel& l = c.engine.label();
                losses.push_back({std::chrono::system_clock::now(), l.ifname, l.hook, l.mode, std::move(*why)});
            }

        IntervalReport report;
        auto now = std::chrono::steady_clock::now();
        report.time = std::chrono::system_clock::now();
        report.interval_s = seconds_between(last_read, now);
        last_read = now;
        for (auto& c : countings)
            report.attachments.push_back(c.engine.interval(tui ? 0 : o.counting.views.top));
        if (drops)
            report.drops = drops->interval(tui ? 0 : o.counting.views.top);
        if (ipfix)
            ipfix->send(unix_s());
        if (tui) {
            tui->push(std::move(report));
            screen->draw(tui->lines(screen->width(), screen->height()));
        } else if (!out.interval(report)) {
            break;
        }
        ++intervals;
        if (!losses.empty())
            break;  // one lost attachment ends the run (docs/attaching.md)
        if ((o.count && intervals >= *o.count) || (end && next >= *end))
            break;
        // Fell behind (stopped terminal, overloaded host, a drain longer than
        // -i): the missed ticks are skipped, and the next line's interval_s
        // is the time it really covers.
        next = next_tick(start, interval, std::chrono::steady_clock::now());
    }

    screen.reset();  // endwin: the terminal is the shell's again before the summary
    for (const AttachmentLoss& l : losses) {
        std::fprintf(stderr, "trafstat: lost the attachment on %s (%s, %s): %s\n", printable(l.ifname).c_str(),
                     l.hook.c_str(), l.mode.c_str(), l.reason.c_str());
        out.lost(l);
    }
    for (auto& c : countings)
        c.link.reset();  // detached: nothing counts after the summary's last epoch
    if (out.open()) {
        SummaryReport summary;
        summary.duration_s = seconds_between(start, std::chrono::steady_clock::now());
        // JSON: the views whole, sorted; lines: the top rows.
        for (auto& c : countings)
            summary.attachments.push_back(c.engine.summary(o.output.format == OutputFormat::json));
        if (drops)
            summary.drops = drops->since_start(o.output.format == OutputFormat::json ? 0 : o.counting.views.top);
        out.summary(summary);
    }
    if (ipfix) {
        if (!out.open())
            for (auto& c : countings)
                c.engine.absorb();  // the last epoch's flows, which the summary would have closed
        ipfix->finish(unix_s());
    }
    return losses.empty() ? exit_code::ok : exit_code::lost;
}

}  // namespace trafstat
