#include "app/agent.hpp"

#include "app/ipfix_export.hpp"
#include "app/pinned.hpp"
#include "attach/privileges.hpp"
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "base/printable.hpp"
#include "base/signals.hpp"
#include "bpf/pins.hpp"
#include "engine/sources.hpp"
#include "output/metrics.hpp"
#include "output/status.hpp"
#include "serve/metrics_server.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <mutex>
#include <optional>
#include <unistd.h>

namespace trafstat {
namespace {

// One attachment the agent serves: its lock (held while the agent runs),
// its drain, and the keys it exports as series.
struct Served {
    PinnedDir dir;
    DirLock lock;
    PinnedCounting counting;
    std::string stale;  // why it no longer counts, once the agent has said so
};

std::string joined(const std::vector<std::string>& lines)
{
    std::string out;
    for (const std::string& l : lines)
        out += (out.empty() ? "" : "; ") + l;
    return out;
}

// The attachments of one interface: adopted when they match the options,
// re-attached with --replace when they do not, attached when there are none.
void adopt_or_attach(const AgentConfig& config, const std::string& ifname, std::vector<std::unique_ptr<Served>>& out)
{
    const std::vector<std::string> dirs = pinned_dirs(config.pinned, ifname);
    bool any = false;
    for (const std::string& dir : dirs) {
        if (!std::filesystem::exists(dir))
            continue;
        any = true;
        const CounterProgram found = CounterProgram::adopt(dir);
        const std::vector<std::string> diff = config_differences(config.pinned, found.control());
        if (diff.empty())
            continue;
        if (!config.replace)
            throw Error(exit_code::attach,
                        fmt::format("{} is attached with other options ({}): give the options it was attached "
                                    "with, or --replace to re-attach (its counts start again)",
                                    dir, joined(diff)));
        DirLock lock(dir);
        if (!lock.valid())
            throw Error(exit_code::attach,
                        fmt::format("another agent (pid {}) serves {}: stop it first", found.control().agent_pid, dir));
        detach_pinned(config.pinned.pin_dir, dir);
        std::fprintf(stderr, "trafstat: --replace: detached %s (%s)\n", printable(dir).c_str(), joined(diff).c_str());
        any = false;
    }
    if (!any || std::any_of(dirs.begin(), dirs.end(), [](const std::string& d) { return !std::filesystem::exists(d); }))
        attach_pinned(config.pinned, ifname);
    for (const std::string& dir : dirs) {
        DirLock lock(dir);
        if (!lock.valid()) {
            const CounterProgram program = CounterProgram::adopt(dir);
            throw Error(exit_code::attach, fmt::format("another agent (pid {}) serves {}: one agent per attachment",
                                                       program.control().agent_pid, dir));
        }
        PinnedCounting counting(CounterProgram::adopt(dir));
        counting.program().control().agent_pid = static_cast<__u32>(getpid());
        PinnedDir d{ifname, dir.substr(dir.rfind('/') + 1), dir};
        out.push_back(std::make_unique<Served>(Served{std::move(d), std::move(lock), std::move(counting), {}}));
    }
}

// Picks the keys exported as series: up to `top` per table, the largest by
// bytes among those not exported yet. A key once exported stays so (its
// series never disappears, and `other` never decreases).
void export_keys(KeyTotals& totals, std::uint32_t tables_on, std::size_t top)
{
    for (int t = 0; t < TS_TABLES && top; ++t) {
        if (!(tables_on & TS_TABLE_BIT(t)))
            continue;
        std::vector<std::pair<std::uint64_t, FlowKey>> candidates;
        std::size_t exported = 0;
        for (const auto& [key, kept] : totals.table(t)) {
            if (kept.exported)
                ++exported;
            else
                candidates.emplace_back(kept.stats.bytes, key);
        }
        if (exported >= top || candidates.empty())
            continue;
        const std::size_t take = std::min(top - exported, candidates.size());
        std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(take), candidates.end(),
                          [](const auto& a, const auto& b) {
                              return a.first > b.first || (a.first == b.first && a.second < b.second);
                          });
        for (std::size_t i = 0; i < take; ++i)
            totals.mark_exported(t, candidates[i].second);
    }
}

AttachmentSnapshot snapshot_of(const Served& s)
{
    AttachmentSnapshot a = status_of(s.dir, s.counting.program()).attachment;
    const KeyTotals& totals = s.counting.totals();
    for (int t = 0; t < TS_TABLES; ++t) {
        TableSnapshot& tb = a.tables[t];
        if (!tb.loaded)
            continue;
        Counter other = totals.other(t);
        for (const auto& [key, kept] : totals.table(t)) {
            if (kept.exported) {
                tb.exported.push_back({key, {kept.stats.packets, kept.stats.bytes}, kept.stats.tcp_flags});
            } else {
                other.packets += kept.stats.packets;
                other.bytes += kept.stats.bytes;
            }
        }
        std::sort(tb.exported.begin(), tb.exported.end(),
                  [](const KeyTotal& x, const KeyTotal& y) { return x.key < y.key; });
        tb.other = other;
    }
    return a;
}

}  // namespace

int run_agent(const AgentConfig& config)
{
    install_stop_handlers();
    require_bpf_privileges();
    check_pin_dir(config.pinned.pin_dir, true);
    std::optional<MetricsServer> server;
    std::mutex lock;  // the drains and the scrapes take turns
    std::vector<std::unique_ptr<Served>> served;
    std::optional<DropEngine> drops;  // --drops: the agent's own, not pinned
    // What a scrape renders, made after each drain (the totals change only
    // then): a scrape costs the exported series, never a walk of every key.
    std::vector<AttachmentSnapshot> latest;
    const auto take_snapshots = [&] {
        latest.clear();
        for (const auto& s : served)
            latest.push_back(snapshot_of(*s));
    };
    // Bound first: an address in use fails before anything is attached.
    if (!config.metrics.empty()) {
        const ListenAddress address = parse_listen_address(config.metrics);
        MetricsHandlers handlers;
        handlers.metrics = [&] {
            const auto start = std::chrono::steady_clock::now();
            const std::lock_guard<std::mutex> hold(lock);
            AgentSnapshot snapshot;
            snapshot.attachments = latest;
            if (drops)
                snapshot.drops = drops->since_start(0);
            const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            return metrics_text(snapshot, took);
        };
        handlers.status = [&] { return status_json(status_report(config.pinned.pin_dir)) + "\n"; };
        server.emplace(address.address, address.port, std::move(handlers));
    }
    // The collector is resolved (or the file made) before anything is attached.
    std::optional<IpfixExporter> ipfix;
    if (config.ipfix.on())
        ipfix.emplace(config.ipfix);
    for (const std::string& ifname : interfaces_of(config.pinned))
        adopt_or_attach(config, ifname, served);
    std::vector<CountingEngine::EpochObserver> exporting(served.size());
    for (std::size_t k = 0; ipfix && k < served.size(); ++k) {
        const ts_control& c = served[k]->counting.program().control();
        const std::size_t i = ipfix->follow(c.ifindex, served[k]->dir.hook == hook_name(Hook::tc_egress));
        exporting[k] = [&ipfix, i](std::span<const FlowEntry> flows, const ClassCounters& d) {
            ipfix->epoch(i, flows, d, unix_ms());
        };
    }
    for (auto& s : served)
        export_keys(s->counting.totals(), s->counting.program().tables_on(), config.metrics_top);
    take_snapshots();
    if (config.drops.on) {
        std::vector<DropInterface> watched;
        for (const auto& s : served)
            if (std::none_of(watched.begin(), watched.end(),
                             [&](const DropInterface& w) { return w.name == s->dir.ifname; }))
                watched.push_back({s->dir.ifname, s->counting.program().control().ifindex});
        // No flows kept since start: the metrics have no per-flow series.
        drops.emplace(attach_drop_engine(watched, config.drops, 0));
    }
    // Attached and pinned (links all, detached by unlinking their pins): the
    // drains and /status read through fds held and pins owned.
    drop_capabilities({});
    if (server)
        without_stop_signals([&] { server->start(); });
    {
        std::string what;
        for (const auto& s : served)
            what += fmt::format("{}{} ({})", what.empty() ? "" : ", ", printable(s->dir.ifname), s->dir.hook);
        std::fprintf(stderr, "trafstat: agent serving %s%s%s\n", what.c_str(),
                     drops ? ", and the kernel's drops there" : "",
                     server ? fmt::format("; metrics on http://{}/metrics", server->address()).c_str() : "");
    }

    const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(config.interval_s));
    const auto start = std::chrono::steady_clock::now();
    auto next = start + interval;
    while (!sleep_until(next)) {
        {
            const std::lock_guard<std::mutex> hold(lock);
            for (std::size_t k = 0; k < served.size(); ++k) {
                auto& s = served[k];
                // A lost attachment stays served, stale (/status, trafstat_attachment_up 0): the others go on.
                if (s->stale.empty()) {
                    s->stale = stale_reason(s->dir, s->counting.program().control());
                    if (!s->stale.empty())
                        std::fprintf(stderr,
                                     "trafstat: lost the attachment on %s (%s, %s): %s; it is marked stale, the "
                                     "agent serves the others\n",
                                     printable(s->dir.ifname).c_str(), s->dir.hook.c_str(),
                                     s->counting.program().control().mode, s->stale.c_str());
                }
                try {
                    s->counting.drain(exporting[k]);
                    export_keys(s->counting.totals(), s->counting.program().tables_on(), config.metrics_top);
                } catch (const Error& e) {
                    std::fprintf(stderr, "trafstat: %s %s: %s\n", printable(s->dir.ifname).c_str(), s->dir.hook.c_str(),
                                 printable(e.what()).c_str());
                }
            }
            if (drops)
                drops->interval(0);  // into the totals; the flow table is free again
            take_snapshots();
        }
        // Outside the lock: a paced export of many records must not hold up a scrape.
        if (ipfix)
            ipfix->send(unix_s());
        next = next_tick(start, interval, std::chrono::steady_clock::now());  // skips what a slow drain missed
    }
    if (server)
        server->stop();
    if (ipfix) {
        // The last interval's flows, then every flow ended: the collector holds all that was merged.
        for (std::size_t k = 0; k < served.size(); ++k)
            served[k]->counting.drain(exporting[k]);
        ipfix->finish(unix_s());
    }
    if (config.detach_on_exit) {
        for (const auto& s : served) {
            detach_pinned(config.pinned.pin_dir, s->dir.path);
            std::fprintf(stderr, "trafstat: --detach-on-exit: detached %s (%s)\n", printable(s->dir.ifname).c_str(),
                         s->dir.hook.c_str());
        }
    } else {
        std::fprintf(stderr, "trafstat: agent stopped; the attachments keep counting (trafstat detach removes them)\n");
    }
    return exit_code::ok;
}

}  // namespace trafstat
