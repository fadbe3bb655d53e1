#include "app/gen.hpp"

#include "attach/privileges.hpp"
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "base/progress.hpp"
#include "base/signals.hpp"
#include "gen/generator.hpp"
#include "net/interface.hpp"
#include "output/gen_summary.hpp"
#include "output/json.hpp"
#include "output/writer.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <sched.h>
#include <set>
#include <string>

namespace trafstat {
namespace {

// The CPUs this process may run on, in order.
std::vector<int> allowed_cpus()
{
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        throw Error(exit_code::runtime, fmt::format("cannot read this process's CPUs: {}", errno_text(errno)));
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set))
            cpus.push_back(cpu);
    return cpus;
}

// The progress line: frames so far, and the rates since the last redraw
// (every second).
class SendProgress {
public:
    void tick(const gen::Generator& g, const std::string& ifname, double elapsed)
    {
        if (!line_.due())
            return;
        const gen::Totals t = g.read();
        const double span = elapsed - last_s_;
        line_.show(fmt::format("trafstat gen: {}: {} frames  {:.2f} Mpps  {:.2f} Gbps  ({:.0f} s)", ifname, t.packets,
                               gen::mpps(t.packets - last_.packets, span), gen::gbps(t.bytes - last_.bytes, span),
                               elapsed));
        last_ = t;
        last_s_ = elapsed;
    }

private:
    Progress line_{std::chrono::seconds(1)};
    gen::Totals last_{};
    double last_s_ = 0;
};

}  // namespace

int run_gen(const GenConfig& g)
{
    install_stop_handlers();
    const Interface iface = resolve_interface(g.interface);
    require_bpf_privileges();

    const LinkInfo link = link_info(iface.name);
    if (!link.ethernet)
        throw Error(exit_code::usage, fmt::format("{} is not an Ethernet interface: gen sends Ethernet frames "
                                                  "(see --help)",
                                                  iface.name));
    if (!link.up)
        throw Error(
            exit_code::no_interface,
            fmt::format("{} is down: `ip link set {} up` first, frames would go nowhere", iface.name, iface.name));
    const std::size_t min_size = gen::min_frame_size(g.protos);
    const std::size_t size = g.frame_size.value_or(std::max(gen::kDefaultFrame, min_size));
    const std::size_t max_size =
        std::min<std::size_t>(gen::kMaxFrame, static_cast<std::size_t>(link.mtu) + gen::kEthHeader);
    if (size > max_size)
        throw Error(exit_code::usage, fmt::format("-s {}: larger than {}'s MTU {} allows ({} bytes with the Ethernet "
                                                  "header) (see --help)",
                                                  size, iface.name, link.mtu, max_size));

    gen::Addresses a;
    a.src_mac = g.src_mac.value_or(link.mac);
    a.dst_mac = g.dst_mac.value_or(g.inject ? link.mac : gen::kBroadcast);
    if (g.src4)
        a.src4 = *g.src4;
    if (g.dst4)
        a.dst4 = *g.dst4;
    if (g.src6)
        a.src6 = *g.src6;
    if (g.dst6)
        a.dst6 = *g.dst6;

    gen::Plan plan;
    plan.ifname = iface.name;
    plan.ifindex = iface.ifindex;
    for (gen::Proto p : g.protos)
        plan.templates.push_back(gen::build_template(p, a, size));
    plan.frame_size = size;
    plan.flows = g.flows;
    plan.inject = g.inject;
    plan.count = g.count;
    plan.duration_s = g.duration_s;
    plan.rate_pps = g.rate_pps;
    plan.batch = g.batch;
    const std::vector<int> cpus = allowed_cpus();
    if (cpus.empty())
        throw Error(exit_code::runtime, "this process may run on no CPU");
    const unsigned threads = g.threads.value_or(static_cast<unsigned>(cpus.size()));
    for (unsigned i = 0; i < threads; ++i)
        plan.cpus.push_back(cpus[i % cpus.size()]);

    // A veth passes XDP_TX frames to one ring per queue of its peer (256
    // frames), picked by CPU: CPUs sharing a ring overflow it and the peer
    // drops frames that gen counted as sent.
    if (link.driver == "veth" && !g.inject && link.rx_queues > 0) {
        std::set<int> sending(plan.cpus.begin(), plan.cpus.end());
        std::set<unsigned> rings;
        for (int cpu : sending)
            rings.insert(static_cast<unsigned>(cpu) % link.rx_queues);
        if (rings.size() < sending.size())
            std::fprintf(stderr,
                         "trafstat gen: note: %s is a veth with %u queue%s and %zu CPUs send: CPUs share its peer's "
                         "receive ring and the peer may drop frames; give both ends %zu queues (ethtool -L DEV rx %zu "
                         "tx %zu) or use --threads 1 (docs/gen.md)\n",
                         iface.name.c_str(), link.rx_queues, link.rx_queues == 1 ? "" : "s", sending.size(),
                         sending.size(), sending.size(), sending.size());
    }

    gen::Generator generator(plan);
    drop_capabilities({});  // loaded; the sending threads start in run()
    std::string protos;
    for (gen::Proto p : g.protos)
        protos += fmt::format("{}{}", protos.empty() ? "" : ",", gen::proto_name(p));
    const std::string what = g.count ? fmt::format("{} frames", *g.count) : std::string("frames");
    std::fprintf(stderr, "trafstat gen: %s %s on %s: %zu bytes, %s, %u flow%s, %u thread%s; Ctrl-C to stop\n",
                 g.inject ? "injecting" : "sending", what.c_str(), iface.name.c_str(), size, protos.c_str(), g.flows,
                 g.flows == 1 ? "" : "s", threads, threads == 1 ? "" : "s");
    const double seconds = [&] {
        SendProgress progress;  // cleared on return, before the summary
        return generator.run([&](double elapsed) {
            progress.tick(generator, iface.name, elapsed);
            return !stop_requested();
        });
    }();
    const gen::Totals t = generator.read();

    gen::Summary s;
    s.ifname = iface.name;
    s.inject = g.inject;
    s.frame_size = size;
    s.threads = threads;
    s.flows = g.flows;
    s.packets = t.packets;
    s.bytes = t.bytes;
    s.duration_s = seconds;
    s.interrupted = stop_requested();
    for (std::size_t i = 0; i < g.protos.size(); ++i) {
        const std::string name{gen::proto_name(g.protos[i])};
        auto it =
            std::find_if(s.protos.begin(), s.protos.end(), [&](const gen::ProtoCount& p) { return p.proto == name; });
        if (it == s.protos.end())
            it = s.protos.insert(s.protos.end(), gen::ProtoCount{name, 0, 0});
        it->packets += t.slot_packets[i];
        it->bytes += t.slot_bytes[i];
    }
    std::string out = g.format == OutputFormat::json ? to_line(gen::summary_json(s)) : gen::summary_text(s);
    if (out.empty() || out.back() != '\n')
        out += '\n';
    write_stdout(out);  // a closed pipe is a clean stop; a full disk throws

    if (!generator.failure().empty())
        throw Error(exit_code::runtime, generator.failure());
    if (t.aborted)
        throw Error(exit_code::runtime,
                    fmt::format("the generator program refused {} frames (internal error)", t.aborted));
    if (g.count && t.packets != *g.count) {
        if (s.interrupted) {
            std::fprintf(stderr, "trafstat gen: interrupted after %llu of %llu frames; the summary covers those\n",
                         static_cast<unsigned long long>(t.packets), static_cast<unsigned long long>(*g.count));
            return exit_code::interrupted;
        }
        throw Error(exit_code::runtime,
                    fmt::format("sent {} frames instead of {} (internal error)", t.packets, *g.count));
    }
    return exit_code::ok;
}

}  // namespace trafstat
