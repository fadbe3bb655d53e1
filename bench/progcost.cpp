// trafstat-bench: what counting costs, measured against references in the
// same run (absolute numbers on shared machines are noisy; ratios are not).
//
//   trafstat-bench prog [--repeat N] [--runs K]
//       ns/packet of BPF_PROG_TEST_RUN (repeat N, best of K) for a bare
//       XDP_DROP, the minimal per-CPU protocol counter (bpf/minimal.bpf.c),
//       and trafstat in each configuration; keyed tables holding 1, 1k, 100k
//       and 1M flows.
//   trafstat-bench peers [--keys N,...] [--runs K] [--packets P]
//       ns/packet over frames spanning N distinct 5-tuples (one
//       BPF_PROG_TEST_RUN per frame, cycling over them), trafstat's tables
//       against the peers' map designs (bench/peers.bpf.c), raw and net of a
//       bare XDP_PASS measured the same way.
//   trafstat-bench read [--entries N,...]
//       time to read (drain) a flow table of N entries, against
//       `bpftool map dump` of the same table pinned in bpffs.
//   trafstat-bench scrape [--series N,...] [--requests R]
//       GET /metrics latency (median, p99 over R requests, keep-alive as
//       Prometheus scrapes; plain and gzip) from the agent's MetricsServer on
//       loopback, serving a snapshot of about N series; and the rendering
//       alone.
//
// Prints a table and, with --json FILE, writes the results.
#include "attach/tc.hpp"
#include "attach/xdp.hpp"
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "base/signals.hpp"
#include "baseline.skel.h"
#include "bpf/loader.hpp"
#include "bpf/log.hpp"
#include "bpf/per_cpu.hpp"
#include "bpf/skeleton.hpp"
#include "minimal.skel.h"
#include "net/interface.hpp"
#include "output/metrics.hpp"
#include "peers.h"
#include "peers.skel.h"
#include "serve/metrics_server.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <httplib.h>
#include <initializer_list>
#include <linux/magic.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace trafstat;
using Bytes = std::vector<std::uint8_t>;
using Clock = std::chrono::steady_clock;

// A 64-byte Ethernet/IPv4/UDP frame (60 without FCS): the smallest packet,
// where per-packet cost shows most. `flow` varies the source address and port.
Bytes udp4_frame(std::uint32_t flow)
{
    Bytes f(60, 0);
    const std::uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
    std::memcpy(f.data(), eth, sizeof eth);
    std::uint8_t* ip = f.data() + 14;
    ip[0] = 0x45;
    ip[3] = 46;  // total length
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = 198;
    ip[13] = static_cast<std::uint8_t>(18 + ((flow >> 24) & 1));
    ip[14] = static_cast<std::uint8_t>(flow >> 16);
    ip[15] = static_cast<std::uint8_t>(flow >> 8);
    ip[16] = 198;
    ip[17] = 19;
    ip[19] = 1;
    std::uint8_t* udp = ip + 20;
    udp[0] = static_cast<std::uint8_t>(0x80 | (flow & 0x3f));  // source port varies with the low bits
    udp[1] = static_cast<std::uint8_t>(flow >> 6);
    udp[2] = 0x13;  // 5001
    udp[3] = 0x89;
    udp[5] = 26;
    return f;
}

// udp4_frame(flow) differs in its 5-tuple for every flow below this: bits
// 0-13 go into the source port, bits 8-24 into the source address.
constexpr std::uint32_t kMaxDistinctFrames = 1U << 25;

// The key the program builds from udp4_frame(flow) with TS_KEY_ADDRS|TS_KEY_PORTS.
ts_flow_key udp4_key(std::uint32_t flow)
{
    const Bytes f = udp4_frame(flow);
    ts_flow_key k{};
    k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
    std::memcpy(&k.src[12], f.data() + 26, 4);
    std::memcpy(&k.dst[12], f.data() + 30, 4);
    k.sport = static_cast<std::uint16_t>(f[34] << 8 | f[35]);
    k.dport = static_cast<std::uint16_t>(f[36] << 8 | f[37]);
    k.proto = 17;
    k.ip_version = 4;
    return k;
}

// Best of `runs` average durations of BPF_PROG_TEST_RUN with `repeat`, ns.
double ns_per_packet(int prog_fd, const Bytes& frame, std::uint32_t repeat, int runs)
{
    double best = 1e18;
    for (int i = 0; i < runs; ++i) {
        bpf_test_run_opts opts{};
        opts.sz = sizeof opts;
        opts.data_in = frame.data();
        opts.data_size_in = static_cast<__u32>(frame.size());
        opts.repeat = repeat;
        if (bpf_prog_test_run_opts(prog_fd, &opts) != 0)
            throw Error(exit_code::runtime, fmt::format("BPF_PROG_TEST_RUN: {}", errno_text(-errno)));
        best = std::min(best, static_cast<double>(opts.duration));
    }
    return best;
}

// Fills the table the program counts into with `n` flows the way traffic
// does: the program itself counts one frame of each (on this CPU).
void populate(const CounterProgram& p, std::uint32_t n)
{
    for (std::uint32_t i = 0; i < n; ++i) {
        const Bytes f = udp4_frame(i);
        bpf_test_run_opts opts{};
        opts.sz = sizeof opts;
        opts.data_in = f.data();
        opts.data_size_in = static_cast<__u32>(f.size());
        if (bpf_prog_test_run_opts(p.xdp_fd(), &opts) != 0)
            throw Error(exit_code::runtime, fmt::format("filling the flow table: {}", errno_text(-errno)));
    }
}

template <class Skel>
Skeleton<Skel> load_reference(Skel* (*open)(), int (*load)(Skel*), void (*destroy)(Skel*))
{
    Skeleton<Skel> skel = open_skeleton(open, destroy, "a reference");
    load_skeleton(load, *skel, "a reference");
    return skel;
}

// The reference programs trafstat is measured against.
struct References {
    Skeleton<baseline> base = load_reference(baseline__open, baseline__load, baseline__destroy);
    Skeleton<minimal> min = load_reference(minimal__open, minimal__load, minimal__destroy);
};

// Every program is loaded (and its table filled) first; then the rounds go
// over all of them in turn, and each keeps its best round. Noise from the
// rest of the machine then hits every program alike.
nlohmann::ordered_json run_prog(std::uint32_t repeat, int runs, const std::vector<std::uint32_t>& flow_counts)
{
    struct Case {
        std::string name, what;
        int fd = -1;
        double best = 1e18;
    };
    // Instructions after the verifier (what `bpftool prog dump xlated` lists),
    // and how many the verifier walked (its cost at load time).
    auto insns = [](int fd) {
        bpf_prog_info info{};
        __u32 len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
            return std::pair<unsigned, unsigned>{0, 0};
        return std::pair<unsigned, unsigned>{info.xlated_prog_len / 8, info.verified_insns};
    };
    std::vector<Case> cases;
    std::vector<CounterProgram> programs;
    programs.reserve(6 + 3 * flow_counts.size());
    const Bytes frame = udp4_frame(0);

    References refs;
    cases.push_back(
        {"bare_drop", "XDP_DROP, nothing else (the floor)", bpf_program__fd(refs.base->progs.baseline_drop)});
    cases.push_back({"minimal", "bptraf-like: ethertype/protocol switch, one per-CPU array update",
                     bpf_program__fd(refs.min->progs.minimal_counter)});
    auto add = [&](const std::string& name, const std::string& what, const LoadOptions& o, std::uint32_t flows = 0) {
        programs.push_back(CounterProgram::load(o));
        if (flows)
            populate(programs.back(), flows);
        cases.push_back({name, what, programs.back().xdp_fd()});
    };
    // As attached in native mode below kMaxSingleBufferMtu (the usual case):
    // the frame length is data_end - data, no helper call.
    LoadOptions native;
    native.frames_may_be_multibuf = false;
    LoadOptions drop = native;
    drop.drop_mode = true;
    add("trafstat_drop", "trafstat -d: totals only, XDP_DROP", drop);
    add("trafstat_protocols", "every class (the default)", native);
    add("trafstat_protocols_mb", "every class, multi-buffer aware (generic mode, jumbo MTU)", {});
    LoadOptions hist = native;
    hist.size_histogram = true;
    add("trafstat_histogram", "classes + packet-size histogram", hist);
    for (std::uint32_t n : flow_counts) {
        LoadOptions talkers = hist;
        talkers.tables = TS_TABLE_BIT(TS_TABLE_TALKERS);
        // A table that holds every flow (its shared part at most half full).
        const std::uint32_t room = std::max<std::uint32_t>(n, 1024);
        talkers.table_size = {room, room, room};
        add(fmt::format("trafstat_talkers_{}", n), fmt::format("+ histogram + talkers, table holding {} keys", n),
            talkers, n);
        LoadOptions flows = talkers;
        flows.tables = TS_TABLE_BIT(TS_TABLE_FLOWS);
        add(fmt::format("trafstat_flows_{}", n),
            fmt::format("+ histogram + flows (5-tuple), table holding {} flows", n), flows, n);
        LoadOptions all = talkers;
        all.tables = TS_TABLE_BIT(TS_TABLE_TALKERS) | TS_TABLE_BIT(TS_TABLE_PORTS) | TS_TABLE_BIT(TS_TABLE_FLOWS);
        add(fmt::format("trafstat_all_{}", n),
            fmt::format("+ histogram + talkers, ports and flows: three tables, {} flows", n), all, n);
    }

    if (const char* hold = std::getenv("TRAFSTAT_BENCH_HOLD")) {
        // Keeps the programs loaded for a look with `bpftool prog dump xlated`.
        for (const Case& c : cases) {
            bpf_prog_info info{};
            __u32 len = sizeof info;
            bpf_obj_get_info_by_fd(c.fd, &info, &len);
            fmt::print(stderr, "{}: prog id {}\n", c.name, info.id);
        }
        sleep(static_cast<unsigned>(std::atoi(hold)));
    }
    // TC: the same frame as an skb, against a bare TC program.
    cases.push_back({"bare_tc", "TC: TC_ACT_UNSPEC, nothing else", bpf_program__fd(refs.base->progs.baseline_tc)});
    auto add_tc = [&](const std::string& name, const std::string& what, const LoadOptions& o) {
        programs.push_back(CounterProgram::load(o));
        cases.push_back({name, what, programs.back().tc_fd()});
    };
    add_tc("trafstat_tc_protocols", "TC: every class", native);
    LoadOptions tc_flows = hist;
    tc_flows.tables = TS_TABLE_BIT(TS_TABLE_FLOWS);
    add_tc("trafstat_tc_flows", "TC: + histogram + flows (5-tuple)", tc_flows);
    LoadOptions tc_all = hist;
    tc_all.tables = TS_TABLE_BIT(TS_TABLE_TALKERS) | TS_TABLE_BIT(TS_TABLE_PORTS) | TS_TABLE_BIT(TS_TABLE_FLOWS);
    add_tc("trafstat_tc_all", "TC: + histogram + talkers, ports and flows", tc_all);

    for (int round = 0; round < runs; ++round)
        for (Case& c : cases)
            c.best = std::min(c.best, ns_per_packet(c.fd, frame, repeat, 1));

    const double minimal_ns = cases[1].best;
    fmt::print("{:<26} {:>9} {:>11} {:>7} {:>9}  {}\n", "program cost", "ns/pkt", "x minimal", "insns", "verified",
               "what");
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const Case& c : cases) {
        const double ratio = minimal_ns > 0 ? c.best / minimal_ns : 0;
        const auto [xlated, verified] = insns(c.fd);
        fmt::print("{:<26} {:>9.1f} {:>10.2f}x {:>7} {:>9}  {}\n", c.name, c.best, ratio, xlated, verified, c.what);
        out.push_back({{"name", c.name},
                       {"what", c.what},
                       {"ns_per_packet", c.best},
                       {"x_minimal", ratio},
                       {"xlated_insns", xlated},
                       {"verified_insns", verified}});
    }
    return out;
}

// The flow table trafstat gets for `n` keys: a table that holds them (its
// shared part has twice the slots, as the peers' maps have twice the
// entries), never below the default.
std::uint32_t trafstat_flow_table_for(std::uint32_t n)
{
    return std::max<std::uint32_t>(n, 65536);
}

// The peers' map designs (bench/peers.bpf.c), by the names `attach` takes.
using PeerPrograms = decltype(peers::progs);
struct PeerDesign {
    const char* name;
    const char* what;
    bpf_program* PeerPrograms::*program;
};
constexpr PeerDesign kPeerDesigns[] = {
    {"pktstat", "pktstat-bpf: LRU per-CPU hash per 5-tuple, lookup then update", &PeerPrograms::peer_pktstat},
    {"node_agent", "node agent: per-CPU hash per source IP + shared LRU hash per flow, atomic adds",
     &PeerPrograms::peer_node_agent},
    {"netobserv", "NetObserv: shared hash per flow, updated under a bpf_spin_lock", &PeerPrograms::peer_netobserv},
};

// The peers' programs, every map sized for `keys` keys: twice as many entries
// (a power of two, at least 1024), so the hashes hold them all and the LRU
// maps never evict (an LRU map takes its free nodes from one common list, in
// batches of 128 per CPU, and evicts only when that list runs dry).
Skeleton<peers> load_peers(std::uint32_t keys)
{
    Skeleton<peers> skel = open_skeleton(peers__open, peers__destroy, "a peer's");
    const std::uint32_t entries = std::bit_ceil(std::max<std::uint32_t>(2 * keys, 1024));
    for (bpf_map* m :
         {skel->maps.pktstat_flows, skel->maps.agent_sources, skel->maps.agent_flows, skel->maps.netobserv_flows})
        if (const int err = bpf_map__set_max_entries(m, entries); err)
            throw Error(exit_code::load, fmt::format("cannot size {}: {}", bpf_map__name(m), errno_text(err)));
    load_skeleton(peers__load, *skel, "a peer's");
    return skel;
}

// The peers' key of udp4_frame(flow).
peer_flow_key peer_key(std::uint32_t flow)
{
    const ts_flow_key k = udp4_key(flow);
    peer_flow_key p{};
    std::memcpy(p.src, k.src, sizeof p.src);
    std::memcpy(p.dst, k.dst, sizeof p.dst);
    p.sport = k.sport;
    p.dport = k.dport;
    p.proto = k.proto;
    return p;
}

// Throws unless every peer counted `expected` packets of udp4_frame(flow):
// none of their maps evicted it, and each design counts what it should.
void check_peer_counts(const peers& skel, std::uint32_t flow, std::uint64_t expected)
{
    const peer_flow_key key = peer_key(flow);
    auto check = [&](const char* what, std::uint64_t got, int err) {
        if (err || got != expected)
            throw Error(exit_code::runtime, fmt::format("{} counted {} packets of flow {}, not {}{}", what, got, flow,
                                                        expected, err ? " (no entry)" : ""));
    };
    std::vector<peer_counts> per_cpu(possible_cpus());
    int err = bpf_map__lookup_elem(skel.maps.pktstat_flows, &key, sizeof key, per_cpu.data(),
                                   per_cpu.size() * sizeof(peer_counts), 0);
    std::uint64_t sum = 0;
    for (const peer_counts& c : per_cpu)
        sum += c.packets;
    check("pktstat", sum, err);
    peer_counts shared{};
    err = bpf_map__lookup_elem(skel.maps.agent_flows, &key, sizeof key, &shared, sizeof shared, 0);
    check("node_agent", shared.packets, err);
    netobserv_value locked{};
    err = bpf_map__lookup_elem(skel.maps.netobserv_flows, &key, sizeof key, &locked, sizeof locked, BPF_F_LOCK);
    check("netobserv", locked.packets, err);
}

// `n` distinct frames udp4_frame(0..n-1), back to back in one buffer.
struct Frames {
    static constexpr std::size_t kSize = 60;
    Bytes bytes;
    std::uint32_t count;

    explicit Frames(std::uint32_t n) : bytes(n * kSize), count(n)
    {
        for (std::uint32_t i = 0; i < n; ++i)
            std::memcpy(bytes.data() + i * kSize, udp4_frame(i).data(), kSize);
    }
};

// Sum of BPF_PROG_TEST_RUN durations, ns, over `passes` passes through the
// frames, one run per frame: the program's run plus one clock read each
// (the syscall around it is not in `duration`).
std::uint64_t run_frames(int prog_fd, const Frames& frames, std::uint32_t passes)
{
    std::uint64_t total = 0;
    for (std::uint32_t pass = 0; pass < passes; ++pass)
        for (std::uint32_t i = 0; i < frames.count; ++i) {
            bpf_test_run_opts opts{};
            opts.sz = sizeof opts;
            opts.data_in = frames.bytes.data() + i * Frames::kSize;
            opts.data_size_in = Frames::kSize;
            opts.repeat = 1;
            if (bpf_prog_test_run_opts(prog_fd, &opts) != 0)
                throw Error(exit_code::runtime, fmt::format("BPF_PROG_TEST_RUN: {}", errno_text(-errno)));
            total += opts.duration;
        }
    return total;
}

// One N of `peers`: every candidate on the same N frames. A first pass
// inserts the keys (untimed); then each round runs `passes` passes of every
// candidate in turn, and each keeps its best round.
nlohmann::ordered_json run_peers_at(const References& refs, std::uint32_t n, std::uint32_t packets, int runs)
{
    struct Case {
        std::string name, what;
        int fd = -1;
        double raw = 1e18;
    };
    const Frames frames(n);
    const std::uint32_t passes = std::max<std::uint32_t>((packets + n - 1) / n, 1);

    std::vector<Case> cases;
    cases.push_back(
        {"bare", "XDP_PASS, nothing else (subtracted: net)", bpf_program__fd(refs.base->progs.baseline_pass)});
    cases.push_back({"minimal", "per-CPU protocol counter, no key", bpf_program__fd(refs.min->progs.minimal_counter)});
    std::vector<CounterProgram> programs;
    programs.reserve(5);
    auto add = [&](const std::string& name, const std::string& what, const LoadOptions& o) {
        programs.push_back(CounterProgram::load(o));
        cases.push_back({name, what, programs.back().xdp_fd()});
    };
    LoadOptions native;  // as attached natively below kMaxSingleBufferMtu (as run_prog)
    native.frames_may_be_multibuf = false;
    add("trafstat_protocols", "trafstat, no table", native);
    LoadOptions flows = native;
    flows.size_histogram = true;  // on with any table, as trafstat --flows runs
    flows.tables = TS_TABLE_BIT(TS_TABLE_FLOWS);
    const std::uint32_t keys = trafstat_flow_table_for(n);
    flows.table_size = {keys, keys, keys};
    add("trafstat_flows", "trafstat --flows", flows);
    // The design's alternatives, in the same run (docs/tables.md): the
    // shared table alone (atomics for every packet), and caches large enough
    // for every key (per-CPU regions only, as before the shared table; on
    // 256 CPUs that would be 256 times the memory).
    LoadOptions shared_only = flows;
    shared_only.cache_slots = 0;
    add("trafstat_flows_shared", "trafstat --flows, shared table alone (no cache)", shared_only);
    LoadOptions cache_only = flows;
    cache_only.cache_slots = 2 * keys;
    add("trafstat_flows_percpu", "trafstat --flows, a per-CPU cache that holds every key", cache_only);
    LoadOptions all = flows;
    all.tables = TS_TABLE_BIT(TS_TABLE_TALKERS) | TS_TABLE_BIT(TS_TABLE_PORTS) | TS_TABLE_BIT(TS_TABLE_FLOWS);
    add("trafstat_all", "trafstat --talkers --ports --flows", all);
    const Skeleton<peers> peer_progs = load_peers(n);
    for (const PeerDesign& d : kPeerDesigns)
        cases.push_back({d.name, d.what, bpf_program__fd(peer_progs->progs.*d.program)});

    for (const Case& c : cases)
        run_frames(c.fd, frames, 1);
    const double packets_per_round = static_cast<double>(passes) * n;
    for (int round = 0; round < runs; ++round)
        for (Case& c : cases)
            c.raw = std::min(c.raw, static_cast<double>(run_frames(c.fd, frames, passes)) / packets_per_round);
    // Every frame went through each program 1 + runs * passes times.
    const std::uint64_t expected = 1 + static_cast<std::uint64_t>(runs) * passes;
    check_peer_counts(*peer_progs, 0, expected);
    check_peer_counts(*peer_progs, n - 1, expected);

    const double bare = cases[0].raw;
    const auto flows_case =
        std::find_if(cases.begin(), cases.end(), [](const Case& c) { return c.name == "trafstat_flows"; });
    const double flows_net = flows_case->raw - bare;
    fmt::print("\n{} keys: {} pass(es) of {} frames per round, best of {} rounds\n", n, passes, n, runs);
    fmt::print("{:<20} {:>9} {:>9} {:>10}  {}\n", "candidate", "raw ns", "net ns", "x flows", "what");
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const Case& c : cases) {
        const double net = c.raw - bare;
        const double ratio = flows_net > 0 ? net / flows_net : 0;
        fmt::print("{:<20} {:>9.1f} {:>9.1f} {:>9.2f}x  {}\n", c.name, c.raw, net, ratio, c.what);
        rows.push_back({{"name", c.name},
                        {"what", c.what},
                        {"raw_ns_per_packet", c.raw},
                        {"net_ns_per_packet", net},
                        {"net_x_trafstat_flows", ratio}});
    }
    return {{"keys", n}, {"passes", passes}, {"trafstat_flow_table_keys", keys}, {"results", rows}};
}

nlohmann::ordered_json run_peers(const std::vector<std::uint32_t>& key_counts, std::uint32_t packets, int runs)
{
    for (std::uint32_t n : key_counts)
        if (n == 0 || n > kMaxDistinctFrames)
            throw Error(exit_code::usage, fmt::format("--keys: {} is not between 1 and {}", n, kMaxDistinctFrames));
    const References refs;
    fmt::print("peers: ns/packet, 64-byte IPv4/UDP frames spanning N distinct 5-tuples, one BPF_PROG_TEST_RUN each;\n"
               "net = raw - bare XDP_PASS (both include one clock read); x flows = net / net of trafstat_flows\n");
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (std::uint32_t n : key_counts)
        out.push_back(run_peers_at(refs, n, packets, runs));
    return out;
}

// bpffs is where bpftool finds a map by path; mount it if this host has not.
std::string bpffs_dir()
{
    struct statfs st {};
    if (statfs("/sys/fs/bpf", &st) != 0 || st.f_type != BPF_FS_MAGIC) {
        if (mount("bpf", "/sys/fs/bpf", "bpf", 0, nullptr) != 0)
            throw Error(exit_code::runtime, fmt::format("cannot mount bpffs: {}", std::strerror(errno)));
    }
    return fmt::format("/sys/fs/bpf/trafstat-bench-{}", getpid());
}

double seconds_since(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Wall and CPU time of `bpftool map dump pinned PATH > /dev/null`.
std::pair<double, double> time_bpftool_dump(const std::string& path)
{
    const auto t0 = Clock::now();
    std::fflush(stdout);  // or the child flushes our buffered lines too
    const pid_t pid = fork();
    if (pid == 0) {
        if (!std::freopen("/dev/null", "w", stdout))
            _exit(127);
        execlp("bpftool", "bpftool", "map", "dump", "pinned", path.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    const double wall = seconds_since(t0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error(exit_code::runtime, "bpftool map dump failed");
    const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    return {wall, cpu};
}

// CPU time of this process (precise, not by ticks: drains take microseconds).
double cpu_seconds_self()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// `table_keys` 0: each table holds its n entries, and bpftool dumps it too;
// else every table holds table_keys keys (a drain's cost against its
// occupancy), without bpftool.
nlohmann::ordered_json run_read(const std::vector<std::uint32_t>& sizes, std::uint32_t table_keys)
{
    const std::string pin = bpffs_dir();
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    fmt::print("{:<12} {:>12} {:>12} {:>10} {:>9} {:>10} {:>14} {:>12} {:>9}\n", "read entries", "table keys",
               "trafstat ms", "cpu ms", "batch ms", "cpu ms", "bpftool dump ms", "cpu ms", "speed-up");
    for (std::uint32_t n : sizes) {
        LoadOptions o;
        o.tables = TS_TABLE_BIT(TS_TABLE_FLOWS);
        const std::uint32_t keys = table_keys ? table_keys : n;
        o.table_size = {keys, keys, keys};
        CounterProgram p = CounterProgram::load(o);
        const int fd = p.table_map_fd();
        populate(p, n);
        std::pair<double, double> dump{0, 0};
        if (!table_keys) {
            if (bpf_obj_pin(fd, pin.c_str()) != 0)
                throw Error(exit_code::runtime,
                            fmt::format("cannot pin the table at {}: {}", pin, std::strerror(errno)));
            try {
                dump = time_bpftool_dump(pin);
            } catch (...) {
                unlink(pin.c_str());
                throw;
            }
            unlink(pin.c_str());
        }

        // trafstat's read is its drain: flip, wait for running programs, read
        // the quiet half: through mmap, and (the fallback) by batch lookups.
        const auto timed_drain = [&](CounterProgram::Reader reader) {
            TableEntries entries;
            entries[TS_TABLE_FLOWS].reserve(n);
            const double cpu0 = cpu_seconds_self();
            const auto t0 = Clock::now();
            const std::size_t got = p.drain_tables_with(reader, entries, false);
            const double wall = seconds_since(t0);
            const double cpu = cpu_seconds_self() - cpu0;
            if (got != n)
                throw Error(exit_code::runtime, fmt::format("read {} of {} entries", got, n));
            return std::pair{wall, cpu};
        };
        const auto [wall, cpu] = timed_drain(CounterProgram::Reader::mmap);
        populate(p, n);  // the next epoch
        const auto [batch_wall, batch_cpu] = timed_drain(CounterProgram::Reader::batch);
        const std::size_t slots = 2 * p.table_capacity(TS_TABLE_FLOWS);
        const double speedup = dump.first / wall;
        fmt::print("{:<12} {:>12} {:>12.2f} {:>10.3f} {:>9.1f} {:>10.1f} {:>14.1f} {:>12.1f} {:>8.1f}x\n", n, keys,
                   wall * 1e3, cpu * 1e3, batch_wall * 1e3, batch_cpu * 1e3, dump.first * 1e3, dump.second * 1e3,
                   speedup);
        out.push_back({{"entries", n},
                       {"table_keys", keys},
                       {"map_slots", slots},
                       {"trafstat_ms", wall * 1e3},
                       {"trafstat_cpu_ms", cpu * 1e3},
                       {"batch_ms", batch_wall * 1e3},
                       {"batch_cpu_ms", batch_cpu * 1e3},
                       {"bpftool_dump_ms", dump.first * 1e3},
                       {"bpftool_cpu_ms", dump.second * 1e3},
                       {"speedup", speedup}});
    }
    return out;
}

// The flows of live.sh's keyed runs (trafstat gen --flows 65536): what the
// peers' maps are sized for when attached.
constexpr std::uint32_t kLiveFlows = 65536;

// Holds a reference program on an interface's XDP hook (native mode, as a
// link) until SIGINT/SIGTERM: the baseline of the live benchmarks.
int run_attach(const std::string& ifname, const std::string& which)
{
    References refs;
    std::string notes;
    install_stop_handlers();
    const Interface iface = resolve_interface(ifname);
    auto hold = [&](auto link) {
        std::fprintf(stderr, "trafstat-bench: %s attached to %s\n", which.c_str(), ifname.c_str());
        while (!stop_requested())
            pause();
        (void)link;
        return 0;
    };
    if (which == "tc")
        return hold(TcAttachment::attach(bpf_program__fd(refs.base->progs.baseline_tc), iface, TcDirection::ingress,
                                         TcMode::auto_, notes));
    const auto peer = std::find_if(std::begin(kPeerDesigns), std::end(kPeerDesigns),
                                   [&](const PeerDesign& d) { return which == d.name; });
    std::optional<Skeleton<peers>> peer_progs;
    if (peer != std::end(kPeerDesigns))
        peer_progs.emplace(load_peers(kLiveFlows));
    const int fd = peer_progs           ? bpf_program__fd((*peer_progs)->progs.*peer->program)
                   : which == "minimal" ? bpf_program__fd(refs.min->progs.minimal_counter)
                   : which == "pass"    ? bpf_program__fd(refs.base->progs.baseline_pass)
                                        : bpf_program__fd(refs.base->progs.baseline_drop);
    return hold(XdpAttachment::attach(fd, iface, XdpMode::native, false, notes));
}

// Lines of the exposition text that are samples (not # HELP, # TYPE).
std::size_t sample_lines(const std::string& text)
{
    std::size_t n = 0;
    bool line_start = true;
    for (const char c : text) {
        n += line_start && c != '#';
        line_start = c == '\n';
    }
    return n;
}

// One attachment with the flows table, exporting enough keys that the whole
// text holds about `series` samples (each key: a packets and a bytes series).
AgentSnapshot scrape_snapshot(std::uint32_t series)
{
    AttachmentSnapshot a;
    a.device = "eth0";
    a.hook = "xdp";
    a.mode = "native";
    a.attached_at_s = 1764493029;
    TableSnapshot& flows = a.tables[TS_TABLE_FLOWS];
    flows.loaded = flows.active = true;
    flows.capacity = 65536;
    AgentSnapshot s{{a}};
    const std::size_t fixed = sample_lines(metrics_text(s, 0));
    const std::size_t keys = series > fixed ? (series - fixed) / 2 : 0;
    auto& exported = s.attachments[0].tables[TS_TABLE_FLOWS].exported;
    for (std::uint32_t i = 0; i < keys; ++i) {
        KeyTotal k;
        k.key.ip_version = i % 4 == 0 ? 6 : 4;
        if (k.key.ip_version == 4)
            k.key.src[10] = k.key.src[11] = k.key.dst[10] = k.key.dst[11] = 0xff;
        k.key.src[12] = 10;
        k.key.src[14] = static_cast<std::uint8_t>(i >> 8);
        k.key.src[15] = static_cast<std::uint8_t>(i);
        k.key.dst[12] = 192;
        k.key.dst[15] = 1;
        k.key.proto = i % 3 == 0 ? 17 : 6;
        k.key.sport = static_cast<std::uint16_t>(32768 + i % 28000);
        k.key.dport = 443;
        k.counter = {1'000'000ULL + i, 1'500'000'000ULL + i};
        exported.push_back(k);
    }
    return s;
}

double percentile(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Each size served plain and gzipped (Prometheus asks for gzip; the server
// compresses what is asked so).
nlohmann::ordered_json run_scrape(const std::vector<std::uint32_t>& series_counts, int requests)
{
    fmt::print("scrape: GET /metrics from MetricsServer on loopback, keep-alive, {} requests each;\n"
               "render = metrics_text() alone (median); body KiB before compression\n",
               requests);
    fmt::print("{:>8} {:>8} {:>10} {:>9} {:>11} {:>14} {:>11}\n", "series", "keys", "body KiB", "encoding", "render ms",
               "GET median ms", "GET p99 ms");
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const std::uint32_t n : series_counts) {
        const AgentSnapshot snapshot = scrape_snapshot(n);
        const std::size_t keys = snapshot.attachments[0].tables[TS_TABLE_FLOWS].exported.size();
        for (const std::string encoding : {"identity", "gzip"}) {
            std::vector<double> render;
            MetricsHandlers handlers;
            handlers.metrics = [&] {
                const auto t0 = Clock::now();
                std::string text = metrics_text(snapshot, 0.001);
                render.push_back(seconds_since(t0));
                return text;
            };
            MetricsServer server("127.0.0.1", 0, std::move(handlers));
            server.start();
            httplib::Client client("127.0.0.1", server.port());
            client.set_keep_alive(true);
            client.set_tcp_nodelay(true);  // as Prometheus (Go) does
            std::size_t body = 0, samples = 0;
            std::vector<double> latency;
            for (int i = -10; i < requests; ++i) {  // 10 untimed to warm up
                const auto t0 = Clock::now();
                const auto res = client.Get("/metrics", {{"Accept-Encoding", encoding}});
                const double wall = seconds_since(t0);
                if (!res || res->status != 200)
                    throw Error(exit_code::runtime, "GET /metrics failed");
                body = res->body.size();
                samples = sample_lines(res->body);
                if (i >= 0)
                    latency.push_back(wall);
            }
            server.stop();
            const double median = percentile(latency, 0.5), p99 = percentile(latency, 0.99);
            const double render_median = percentile(render, 0.5);
            fmt::print("{:>8} {:>8} {:>10.1f} {:>9} {:>11.3f} {:>14.3f} {:>11.3f}\n", samples, keys,
                       static_cast<double>(body) / 1024, encoding, render_median * 1e3, median * 1e3, p99 * 1e3);
            out.push_back({{"series", samples},
                           {"keys", keys},
                           {"body_bytes", body},
                           {"encoding", encoding},
                           {"render_median_ms", render_median * 1e3},
                           {"get_median_ms", median * 1e3},
                           {"get_p99_ms", p99 * 1e3},
                           {"requests", requests}});
        }
    }
    return out;
}

std::vector<std::uint32_t> parse_list(const std::string& s)
{
    std::vector<std::uint32_t> out;
    std::size_t pos = 0;
    while (pos < s.size()) {
        const std::size_t comma = s.find(',', pos);
        out.push_back(static_cast<std::uint32_t>(std::stoul(s.substr(pos, comma - pos))));
        if (comma == std::string::npos)
            break;
        pos = comma + 1;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"trafstat-bench: per-packet cost and table-reading cost, against references in the same run"};
    app.require_subcommand(1);
    std::uint32_t repeat = 2'000'000;
    int runs = 7;
    std::string flows = "1,1000,100000,1000000";
    std::string sizes = "1000,100000,1000000";
    std::string json_path;
    auto* prog = app.add_subcommand("prog", "ns/packet with BPF_PROG_TEST_RUN");
    prog->add_option("--repeat", repeat, "runs per BPF_PROG_TEST_RUN (>= 1e6)")
        ->check(CLI::Range(1'000'000U, 100'000'000U));
    prog->add_option("--runs", runs, "best of this many")->check(CLI::Range(1, 100));
    prog->add_option("--flows", flows, "keyed-table sizes to measure, comma-separated");
    std::string keys = "1,1000,65536,1000000";
    std::uint32_t packets = 200'000;
    int peer_runs = 5;
    auto* peer_cmd =
        app.add_subcommand("peers", "ns/packet over N distinct keys: trafstat's tables against the peers' designs");
    peer_cmd->add_option("--keys", keys, "distinct 5-tuples, comma-separated (1 to 2^25)");
    peer_cmd->add_option("--runs", peer_runs, "best of this many interleaved rounds")->check(CLI::Range(1, 100));
    peer_cmd
        ->add_option("--packets", packets,
                     "timed packets per candidate and round, in whole passes over the keys (at least one)")
        ->check(CLI::Range(1U, 100'000'000U));
    auto* read = app.add_subcommand("read", "time to read flow tables, against bpftool map dump");
    read->add_option("--entries", sizes, "entries to read, comma-separated");
    std::uint32_t table_keys = 0;
    read->add_option("--table-keys", table_keys,
                     "size every table for this many keys (default: each for its entries, and time bpftool too)");
    std::string ifname, which = "drop";
    auto* attach = app.add_subcommand("attach", "hold a reference program on IFACE's XDP hook (native) until SIGTERM");
    attach->add_option("IFACE", ifname)->required();
    attach
        ->add_option("PROGRAM", which,
                     "drop (bare XDP_DROP), pass, minimal, tc (bare TC ingress), or a peer's design: pktstat, "
                     "node_agent, netobserv (maps for 64k flows)")
        ->check(CLI::IsMember({"drop", "pass", "minimal", "tc", "pktstat", "node_agent", "netobserv"}));
    std::string series = "100,10000";
    int requests = 200;
    auto* scrape = app.add_subcommand("scrape", "GET /metrics latency from the agent's server on loopback");
    scrape->add_option("--series", series, "series in the served text, about, comma-separated");
    scrape->add_option("--requests", requests, "timed requests per size")->check(CLI::Range(1, 1'000'000));
    app.add_option("--json", json_path, "write the results here");
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "libbpf debug output and full verifier logs");
    CLI11_PARSE(app, argc, argv);

    init_libbpf_logging(verbose);
    // One CPU for the whole run: the keyed table is per CPU, and a migration
    // mid-measurement would move the counting to a cold region. Not for
    // scrape: its server and client threads run as the agent and Prometheus do.
    if (!*scrape) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(static_cast<unsigned>(std::max(sched_getcpu(), 0)), &one);
        sched_setaffinity(0, sizeof one, &one);
    }
    try {
        if (*attach)
            return run_attach(ifname, which);
        nlohmann::ordered_json results;
        if (*prog)
            results["prog"] = run_prog(repeat, runs, parse_list(flows));
        if (*peer_cmd)
            results["peers"] = run_peers(parse_list(keys), packets, peer_runs);
        if (*read)
            results["read"] = run_read(parse_list(sizes), table_keys);
        if (*scrape)
            results["scrape"] = run_scrape(parse_list(series), requests);
        if (!json_path.empty())
            std::ofstream(json_path) << results.dump(2) << "\n";
        return 0;
    } catch (const Error& e) {
        std::fprintf(stderr, "trafstat-bench: %s\n%s", e.what(), e.detail().c_str());
        return e.exit_code();
    }
}
