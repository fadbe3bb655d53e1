#include "app/live.hpp"

#include "attach/interface.hpp"
#include "attach/privileges.hpp"
#include "attach/tc.hpp"
#include "attach/xdp.hpp"
#include "base/error.hpp"
#include "bpf/loader.hpp"
#include "base/exit_codes.hpp"
#include "output/line.hpp"
#include "output/tables.hpp"
#include "output/tui.hpp"
#include "output/tui_screen.hpp"
#include "output/writer.hpp"
#include "base/signals.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <poll.h>
#include <variant>
#include <vector>

namespace trafstat {
namespace {

// One program on one hook of one interface, with its own counters.
struct Attachment {
    Interface iface;
    std::string hook;
    CounterProgram program;
    std::variant<XdpAttachment, TcAttachment> link;
    ClassCounters last{};
    std::optional<TableTracker> tables{};  // the keyed tables' reports, when one is on

    std::string mode() const
    {
        return std::visit([](const auto& l) { return l.mode(); }, link);
    }
};

// What every counting program of this run is loaded with.
LoadOptions load_options(const Options& o)
{
    LoadOptions l;
    l.drop_mode = o.drop;
    l.tables = o.tables;
    l.table_size = o.table_size;
    l.size_histogram = o.histogram;
    l.load_xdp = o.hook == Hook::xdp;
    l.load_tc = !l.load_xdp;
    return l;
}

std::vector<Interface> pick_interfaces(const Options& o)
{
    std::vector<Interface> out;
    if (o.interfaces.empty()) {
        auto name = default_route_interface();
        if (!name)
            throw Error(exit_code::no_interface, "no interface given and no default route to pick one from: name one, "
                                                 "e.g. `trafstat eth0`");
        out.push_back(resolve_interface(*name));
        return out;
    }
    for (const auto& n : o.interfaces) {
        if (std::any_of(out.begin(), out.end(), [&](const Interface& i) { return i.name == n; }))
            throw Error(exit_code::usage, fmt::format("interface {} given twice", n));
        out.push_back(resolve_interface(n));
    }
    return out;
}

// XDP on one interface. Native mode first loads the program device-bound, so
// it can see VLAN tags the driver stripped; where that cannot load or attach,
// a plain program does the job (generic XDP never sees stripped tags).
Attachment attach_xdp(const Options& o, const Interface& iface, std::string& notes)
{
    const bool want_native = o.xdp_mode != XdpMode::generic;
    // Native XDP below this MTU, without receive aggregation before XDP,
    // never sees a multi-buffer frame: its length needs no helper call
    // (docs/attaching.md).
    const bool single_buffer = iface.mtu && iface.mtu <= kMaxSingleBufferMtu && !rx_may_aggregate(iface);
    if (want_native && !o.drop && !query_xdp(iface).prog_id) {
        std::optional<CounterProgram> bound;
        try {
            LoadOptions l = load_options(o);
            l.xdp_dev_bound_ifindex = iface.ifindex;
            l.frames_may_be_multibuf = !single_buffer;
            bound = CounterProgram::load(l);
        } catch (const Error& e) {
            if (e.exit_code() == exit_code::privileges)
                throw;
            if (o.verbose)
                notes += fmt::format("trafstat: note: device-bound XDP load failed ({}); "
                                     "VLAN tags stripped by the driver will not be seen\n",
                                     e.what());
        }
        if (bound) {
            try {
                auto link = XdpAttachment::attach(bound->xdp_fd(), iface, XdpMode::native, false, notes);
                return Attachment{iface, "xdp", std::move(*bound), std::move(link)};
            } catch (const Error& e) {
                if (o.xdp_mode == XdpMode::native || e.exit_code() == exit_code::privileges)
                    throw;
                notes += fmt::format("trafstat: note: native XDP unavailable on {} ({}); using generic XDP\n",
                                     iface.name, e.what());
                auto program = CounterProgram::load(load_options(o));
                auto generic = XdpAttachment::attach(program.xdp_fd(), iface, XdpMode::generic, o.force, notes);
                return Attachment{iface, "xdp", std::move(program), std::move(generic)};
            }
        }
    }
    if (want_native && single_buffer && o.drop) {
        // Drop mode is the benchmark mode: native with the cheapest program first.
        LoadOptions l = load_options(o);
        l.frames_may_be_multibuf = false;
        auto program = CounterProgram::load(l);
        try {
            auto link = XdpAttachment::attach(program.xdp_fd(), iface, XdpMode::native, o.force, notes);
            return Attachment{iface, "xdp", std::move(program), std::move(link)};
        } catch (const Error& e) {
            if (o.xdp_mode == XdpMode::native || e.exit_code() == exit_code::privileges)
                throw;
        }
    }
    auto program = CounterProgram::load(load_options(o));
    auto link = XdpAttachment::attach(program.xdp_fd(), iface, o.xdp_mode, o.force, notes);
    return Attachment{iface, "xdp", std::move(program), std::move(link)};
}

std::vector<Attachment> attach_all(const Options& o, const std::vector<Interface>& ifaces)
{
    std::vector<Attachment> out;
    out.reserve(ifaces.size() * 2);
    std::string notes;
    for (const auto& iface : ifaces) {
        if (o.hook == Hook::xdp) {
            out.push_back(attach_xdp(o, iface, notes));
            continue;
        }
        std::vector<TcDirection> dirs;
        if (o.hook == Hook::tc_ingress || o.hook == Hook::tc_both)
            dirs.push_back(TcDirection::ingress);
        if (o.hook == Hook::tc_egress || o.hook == Hook::tc_both)
            dirs.push_back(TcDirection::egress);
        for (auto dir : dirs) {
            auto program = CounterProgram::load(load_options(o));
            auto link = TcAttachment::attach(program.tc_fd(), iface, dir, o.tc_mode, notes);
            out.push_back(Attachment{iface, std::string(direction_hook_name(dir)), std::move(program),
                                     std::move(link)});
        }
    }
    std::fputs(notes.c_str(), stderr);
    return out;
}

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b)
{
    return std::chrono::duration<double>(b - a).count();
}

// Sleeps until `until` (monotonic) or a stop signal; true when woken by a signal.
bool sleep_until(std::chrono::steady_clock::time_point until)
{
    // steady_clock is CLOCK_MONOTONIC on Linux/libstdc++.
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(until.time_since_epoch()).count();
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    while (!stop_requested()) {
        int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
        if (rc == 0)
            return false;
        if (rc != EINTR)
            return false;
    }
    return true;
}

// --tui: waits like sleep_until, and meanwhile reads keys and redraws on them
// and on a resize (SIGWINCH interrupts ppoll; curses then reports KEY_RESIZE).
// The deadline stays `until`, so the interval schedule is that of line output.
// true: stop (a signal, `q`, or the terminal went away).
bool wait_tui(std::chrono::steady_clock::time_point until, TuiScreen& screen, TuiModel& model)
{
    for (;;) {
        if (stop_requested())
            return true;
        const auto now = std::chrono::steady_clock::now();
        if (now >= until)
            return false;
        const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(until - now).count();
        timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
        pollfd in{screen.input_fd(), POLLIN, 0};
        const int rc = ppoll(&in, 1, &ts, nullptr);
        if (rc < 0 && errno != EINTR)
            return true;
        if (rc > 0 && (in.revents & (POLLHUP | POLLERR | POLLNVAL)))
            return true;  // the terminal is gone: stop as SIGHUP would
        if (rc == 0)
            continue;
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

int run_live(const Options& o)
{
    install_stop_handlers();
    auto ifaces = pick_interfaces(o);
    require_bpf_privileges();

    if (o.drop) {
        auto route_iface = default_route_interface();
        for (const auto& i : ifaces)
            if (route_iface && *route_iface == i.name)
                std::fprintf(stderr,
                             "trafstat: warning: --drop discards every packet arriving on %s, which carries the "
                             "default route: this host loses connectivity through it until trafstat exits\n",
                             i.name.c_str());
    }

    auto attachments = attach_all(o, ifaces);
    if (o.tables)
        for (auto& a : attachments)
            a.tables.emplace(o);
    {
        std::string what;
        for (const auto& a : attachments)
            what += fmt::format("{}{} ({}/{})", what.empty() ? "" : ", ", a.iface.name, a.hook, a.mode());
        std::fprintf(stderr, "trafstat: counting on %s%s; Ctrl-C to stop\n", what.c_str(),
                     o.drop ? ", DROPPING every packet" : "");
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
            tui.emplace(TuiViews{o.show_talkers, o.show_ports, o.show_flows}, sort_key(o.sort), o.interval_s,
                        screen->utf8(), talker_side(o.talkers_by));
            screen->draw(tui->lines(screen->width(), screen->height()));
        } else {
            std::fprintf(stderr, "trafstat: note: --tui needs a terminal (%s): printing lines instead\n",
                         why_not.c_str());
        }
    }

    ReportWriter out(o.format, LineOptions{.hide_zero = o.hide_zero});
    const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(o.interval_s));
    const auto start = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> end;
    if (o.timeout_s)
        end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(*o.timeout_s));

    auto last_read = start;
    auto next = start + interval;
    TableEntries drained;
    std::uint64_t intervals = 0;

    while (!stop_requested()) {
        bool timed_out = end && *end < next;
        const auto until = timed_out ? *end : next;
        if ((tui ? wait_tui(until, *screen, *tui) : sleep_until(until)) || timed_out)
            break;

        IntervalReport report;
        auto now = std::chrono::steady_clock::now();
        report.time = std::chrono::system_clock::now();
        report.interval_s = seconds_between(last_read, now);
        last_read = now;
        for (auto& a : attachments) {
            // The tables first: their drain waits for running programs, so
            // the totals read after it hold every packet their entries hold.
            AttachmentReport r{a.iface.name, a.hook, a.mode(), {}};
            if (a.tables) {
                drained = {};
                a.program.drain_tables(drained);
                a.tables->interval(drained, a.program.table_capacities(), tui ? 0 : o.top, r);
            }
            ClassCounters current = a.program.read();
            r.counters = delta(current, a.last);
            r.histogram = o.histogram;
            report.attachments.push_back(std::move(r));
            a.last = current;
        }
        if (tui) {
            tui->push(std::move(report));
            screen->draw(tui->lines(screen->width(), screen->height()));
        } else if (!out.interval(report)) {
            break;
        }
        ++intervals;
        if ((o.count && intervals >= *o.count) || (end && next >= *end))
            break;
        next += interval;
        // Fell behind (stopped terminal, overloaded host): skip missed ticks.
        while (next <= std::chrono::steady_clock::now())
            next += interval;
    }

    screen.reset();  // endwin: the terminal is the shell's again before the summary
    if (out.open()) {
        SummaryReport summary;
        summary.duration_s = seconds_between(start, std::chrono::steady_clock::now());
        for (auto& a : attachments) {
            AttachmentReport r{a.iface.name, a.hook, a.mode(), {}};
            if (a.tables) {
                drained = {};
                a.program.drain_tables(drained);  // the last partial interval
                a.tables->absorb(drained);
                // JSON: whole, sorted; lines: the top rows.
                a.tables->summary(a.program.table_capacities(), o.format == OutputFormat::json, r);
            }
            r.counters = a.program.read();
            r.histogram = o.histogram;
            summary.attachments.push_back(std::move(r));
        }
        out.summary(summary);
    }
    return exit_code::ok;  // attachments detach as they go out of scope
}

}  // namespace trafstat
