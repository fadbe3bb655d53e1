// The differential test: the real program through BPF_PROG_TEST_RUN, at XDP and
// at TC, against the reference classifier (support/reference_classifier.hpp),
// frame by frame, over seeded random and mutated frames
// (support/random_frames.hpp): the L3 class, the L4 class and its IP version row,
// the vlan and pppoe flags, the flows table's key (and the talkers and ports
// tables' share of it), the TCP flags, the packets and the bytes. Jumbo frames
// run at XDP alone (multi-buffer); one TCP or UDP frame in four runs again at TC
// as a GSO super-packet. Every disagreement is a bug in one of the two; it
// prints the seed, the frame and both verdicts, and fails. Frames that found
// one are kept below as regression cases.
//
//     differential_tests [--seed N] [--frames N] [--seconds S] [gtest options]
//
// --frames: frames generated (each compared at both hooks); --seconds: stop
// generating after that long, whichever comes first.
#include "base/error.hpp"
#include "bpf/drops.hpp"
#include "bpf/loader.hpp"
#include "replay/capture.hpp"
#include "stats/counters.hpp"
#include "stats/flows.hpp"
#include "support/packet_builder.hpp"
#include "support/pinned_cpu.hpp"
#include "support/privileged.hpp"
#include "support/random_frames.hpp"
#include "support/reference_classifier.hpp"

#include <bpf/bpf.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <glob.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace trafstat::test {
namespace {

struct RunOptions {
    std::uint64_t seed = 0;
    std::uint64_t frames = 20000;
    double seconds = 0;  // 0: no time limit
};
RunOptions g_options;

enum class Hook { xdp, tc };
constexpr std::array kHooks = {Hook::xdp, Hook::tc};
const char* hook_name(Hook h)
{
    return h == Hook::xdp ? "xdp" : "tc";
}

// Both entry points accept a frame of at least an Ethernet header; a page
// (less headroom and the skb's tail) bounds it at TC. At XDP a larger frame is
// a multi-buffer one: its first buffer holds what fits in a page after
// XDP_PACKET_HEADROOM (256) and the shared info (320 on 64-bit), the rest goes
// to fragments. The program reads headers in the first buffer only
// (docs/classes.md) and counts every byte.
constexpr std::size_t kMinFrame = 14;
constexpr std::size_t kMaxFrame = 3000;
constexpr std::size_t kJumboFrame = 9018;
std::size_t xdp_first_buffer()
{
    return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) - 256 - 320;
}

std::string to_hex(std::span<const std::uint8_t> b)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (const std::uint8_t c : b) {
        s += digits[c >> 4];
        s += digits[c & 15];
    }
    return s;
}

Bytes from_hex(std::string_view hex)
{
    Bytes b;
    const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        b.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    return b;
}

// What the program counted for one frame, read back as a verdict, and what
// in its counters fits no verdict (two classes for one frame, an overflow...).
struct Observed {
    ReferenceVerdict verdict;
    std::string anomalies;
};

// The loaded program with the flows table on, and what it had counted before
// the frame being compared.
class Program {
public:
    static std::optional<Program> load()
    {
        LoadOptions o;
        o.tables = TS_TABLE_BIT(TS_TABLE_TALKERS) | TS_TABLE_BIT(TS_TABLE_PORTS) | TS_TABLE_BIT(TS_TABLE_FLOWS);
        o.table_size = {16, 16, 16};
        auto p = acquire_privileged("load the counter program with its three keyed tables",
                                    [&] { return CounterProgram::load(o); });
        if (!p)
            return std::nullopt;
        return Program(std::move(*p));
    }

    // `segments` > 1: at TC, as a GSO super-packet of that many segments.
    Observed run(Hook hook, const Bytes& frame, std::uint32_t segments = 1)
    {
        bpf_test_run_opts opts{};
        opts.sz = sizeof opts;
        opts.data_in = frame.data();
        opts.data_size_in = static_cast<__u32>(frame.size());
        opts.repeat = 1;
        __sk_buff skb{};
        if (segments > 1) {
            skb.gso_segs = segments;
            skb.gso_size = 1400;
            opts.ctx_in = &skb;
            opts.ctx_size_in = sizeof skb;
        }
        Observed o;
        if (bpf_prog_test_run_opts(hook == Hook::xdp ? program_.xdp_fd() : program_.tc_fd(), &opts) != 0) {
            o.anomalies = "BPF_PROG_TEST_RUN: " + errno_text(errno);
            return o;
        }
        TableEntries drained;
        const HalfCounters half = program_.close_epoch(drained, true);
        const ClassCounters moved = delta(half.since_load, before_[half.half]);
        before_[half.half] = half.since_load;
        read_verdict(moved, drained[TS_TABLE_FLOWS], o);
        check_other_tables(moved, drained, o);
        return o;
    }

private:
    explicit Program(CounterProgram p) : program_(std::move(p)) {}

    static void read_verdict(const ClassCounters& moved, const std::vector<FlowEntry>& entries, Observed& o)
    {
        ReferenceVerdict& v = o.verdict;
        std::string& odd = o.anomalies;
        int l3_moved = 0;
        for (int c = TS_L3_FIRST; c <= TS_L3_LAST; ++c) {
            const Counter& n = moved.cls[c];
            if (n.packets == 0)
                continue;
            ++l3_moved;
            v.l3 = static_cast<ts_class>(c);
            v.packets = n.packets;
            v.bytes = n.bytes;
        }
        const Counter counted{v.packets, v.bytes};  // what every counter the frame moved must have moved by
        if (l3_moved != 1)
            odd += " " + std::to_string(l3_moved) + " L3 classes moved;";
        if (moved.cls[TS_CLASS_ALL] != counted)
            odd += " all moved by " + std::to_string(moved.cls[TS_CLASS_ALL].packets) + " packets, " +
                   std::to_string(moved.cls[TS_CLASS_ALL].bytes) + " bytes;";
        v.vlan = moved.cls[TS_CLASS_VLAN].packets != 0;
        v.pppoe = moved.cls[TS_CLASS_PPPOE].packets != 0;
        for (const ts_class flag : {TS_CLASS_VLAN, TS_CLASS_PPPOE})
            if (moved.cls[flag].packets != 0 && moved.cls[flag] != counted)
                odd += " flag " + std::string(class_name(flag)) + " moved by " + std::to_string(moved.cls[flag].bytes) +
                       " bytes;";
        int l4_moved = 0;
        for (int version = 0; version < TS_IP_VERSIONS; ++version)
            for (int i = 0; i < TS_L4_COUNT; ++i) {
                const Counter& n = moved.l4_by_ip[version][i];
                if (n.packets == 0)
                    continue;
                ++l4_moved;
                v.l4 = static_cast<ts_class>(TS_L4_FIRST + i);
                const ts_class row = version == TS_IP_V4 ? TS_CLASS_IPV4 : TS_CLASS_IPV6;
                if (row != v.l3 || n != counted)
                    odd += " l4_by_ip." + std::string(ip_version_name(static_cast<ts_ip_version>(version))) + "." +
                           std::string(class_name(*v.l4)) + " moved by " + std::to_string(n.packets) + " packets, " +
                           std::to_string(n.bytes) + " bytes;";
            }
        const bool ip = v.l3 == TS_CLASS_IPV4 || v.l3 == TS_CLASS_IPV6;
        if (l4_moved != (ip ? 1 : 0))
            odd += " " + std::to_string(l4_moved) + " L4 classes moved;";
        if (moved.table_overflow[TS_TABLE_FLOWS].packets != 0)
            odd += " the flows table overflowed;";
        const std::uint64_t unkeyed = moved.table_unkeyed.packets != 0 ? 1 : 0;
        if (unkeyed && moved.table_unkeyed != counted)
            odd += " unkeyed moved by " + std::to_string(moved.table_unkeyed.packets) + " packets;";
        if (entries.size() > 1)
            odd += " " + std::to_string(entries.size()) + " table entries for one frame;";
        if (!entries.empty()) {
            const FlowEntry& e = entries.front();
            v.key = e.key;
            v.tcp_flags = e.stats.tcp_flags;
            if (e.stats.packets != v.packets || e.stats.bytes != v.bytes)
                odd += " the entry holds " + std::to_string(e.stats.packets) + " packets, " +
                       std::to_string(e.stats.bytes) + " bytes;";
        }
        if (ip && entries.size() + unkeyed != 1)
            odd += " entries + unkeyed = " + std::to_string(entries.size() + unkeyed) + ";";
        if (!ip && entries.size() + unkeyed != 0)
            odd += " a frame that is not IP in the table;";
    }

    // The talkers and ports tables hold what the flows table holds, each keyed
    // by its own fields, the others zero (docs/tables.md).
    static void check_other_tables(const ClassCounters& moved, const TableEntries& drained, Observed& o)
    {
        for (const ts_table table : {TS_TABLE_TALKERS, TS_TABLE_PORTS}) {
            const std::string name = table == TS_TABLE_TALKERS ? "talkers" : "ports";
            if (moved.table_overflow[table].packets != 0)
                o.anomalies += " the " + name + " table overflowed;";
            const std::vector<FlowEntry>& entries = drained[table];
            if (entries.size() != drained[TS_TABLE_FLOWS].size()) {
                o.anomalies += " " + std::to_string(entries.size()) + " " + name + " entries;";
                continue;
            }
            if (entries.empty())
                continue;
            FlowKey want = o.verdict.key.value_or(FlowKey{});
            if (table == TS_TABLE_TALKERS)
                want.sport = want.dport = want.proto = 0;
            else
                want.src = want.dst = {};
            const FlowEntry& e = entries.front();
            if (e.key != want || e.stats.packets != o.verdict.packets || e.stats.bytes != o.verdict.bytes)
                o.anomalies += " the " + name + " entry is not the flow's, keyed by its own fields;";
        }
    }

    CounterProgram program_;
    std::array<ClassCounters, TS_STATS_HALVES> before_{};
};

// The installed Ethernet captures the replay oracle reads too
// (tests/replay/captures.py), whose frames are mutated along with the random
// ones. None installed: random frames alone.
constexpr const char* kCapturePatterns[] = {
    "/usr/share/doc/python3-dpkt/examples/data/*.pcap",
    "/usr/share/doc/pcapfix/examples/test.pcap",
    "/usr/share/doc/pcapfix/examples/test_2018.pcap",
    "/usr/share/gocode/src/github.com/google/gopacket/pcap/*.pcap",
    "/usr/share/gocode/src/github.com/google/gopacket/pcapgo/tests/le/*.pcapng",
};
constexpr int kLinktypeEthernet = 1;  // DLT_EN10MB

std::vector<Bytes> capture_frames()
{
    std::vector<Bytes> frames;
    for (const char* pattern : kCapturePatterns) {
        glob_t found{};
        if (glob(pattern, 0, nullptr, &found) == 0) {
            for (std::size_t i = 0; i < found.gl_pathc; ++i) {
                try {
                    CaptureReader reader = CaptureReader::open(found.gl_pathv[i]);
                    CaptureRecord record;
                    while (reader.linktype() == kLinktypeEthernet && reader.next(record))
                        if (record.data.size() >= kMinFrame)
                            frames.emplace_back(record.data.begin(),
                                                record.data.begin() + static_cast<std::ptrdiff_t>(
                                                                          std::min(record.data.size(), kMaxFrame)));
                } catch (const Error&) {
                    // a capture libpcap cannot read whole: the frames read before it
                }
            }
        }
        globfree(&found);
    }
    return frames;
}

// BPF_PROG_TEST_RUN at TC refuses (EINVAL) a frame whose Ethernet header says
// IPv4 or IPv6 when the bytes after it are shorter than that header: the
// kernel reads the addresses into the test socket. Such frames are compared at
// XDP only.
bool refused_at_tc(const Bytes& frame)
{
    const unsigned type = frame[12] << 8 | frame[13];
    const std::size_t after = frame.size() - 14;
    return (type == 0x0800 && after < 20) || (type == 0x86dd && after < 40);
}

// Compares one frame at one hook; returns the failure's text, empty when both agree.
// A frame the comparison may also run at TC as a GSO super-packet: TCP or UDP
// (the segments docs/classes.md defines), and the tunnels whose segments
// repeat their inner headers too (GRE, IPIP, SIT; VXLAN and Geneve are UDP).
bool may_be_super_packet(const ReferenceVerdict& v)
{
    if (v.l4 == TS_CLASS_TCP || v.l4 == TS_CLASS_UDP || v.l4 == TS_CLASS_GRE)
        return true;
    return v.l4 == TS_CLASS_OTHER_L4 && v.key && (v.key->proto == 4 || v.key->proto == 41);
}

// Compares one frame at one hook (`segments` > 1: at TC, as a super-packet);
// returns the failure's text, empty when both agree.
std::string compare(Program& program, Hook hook, const Bytes& frame, std::uint32_t segments = 1)
{
    const std::size_t readable = hook == Hook::xdp ? std::min(frame.size(), xdp_first_buffer()) : frame.size();
    ReferenceVerdict expected = classify_frame(std::span(frame).first(readable), frame.size());
    if (segments > 1)
        expected = as_super_packet(expected, segments);
    const Observed got = program.run(hook, frame, segments);
    if (got.verdict == expected && got.anomalies.empty())
        return {};
    std::string s = std::string(hook_name(hook)) + " disagrees on a frame of " + std::to_string(frame.size()) +
                    " bytes" + (segments > 1 ? " as a super-packet of " + std::to_string(segments) + " segments" : "") +
                    "\n  reference: " + describe(expected) + "\n  program:   " + describe(got.verdict);
    if (!got.anomalies.empty())
        s += "\n  program counters:" + got.anomalies;
    return s + "\n  hex: " + to_hex(frame) + "\n" + hex_dump(frame);
}

// How many frames reached each verdict, so that a generator that stops
// reaching one is noticed.
class Coverage {
public:
    void add(const ReferenceVerdict& v)
    {
        ++count_[v.l3];
        if (v.l4)
            ++count_[*v.l4];
        count_[TS_CLASS_VLAN] += v.vlan;
        count_[TS_CLASS_PPPOE] += v.pppoe;
        unkeyed_ += v.l4 && !v.key;
    }
    std::string text() const
    {
        std::string s;
        for (int c = TS_L3_FIRST; c < TS_CLASS_MAX; ++c)
            s += std::string(class_name(static_cast<ts_class>(c))) + " " + std::to_string(count_[c]) + ", ";
        return s + "unkeyed " + std::to_string(unkeyed_);
    }
    std::string missing() const
    {
        std::string s;
        for (int c = TS_L3_FIRST; c < TS_CLASS_MAX; ++c)
            if (count_[c] == 0)
                s += std::string(class_name(static_cast<ts_class>(c))) + " ";
        return unkeyed_ == 0 ? s + "unkeyed" : s;
    }

private:
    std::array<std::uint64_t, TS_CLASS_MAX> count_{};
    std::uint64_t unkeyed_ = 0;
};

TEST(Differential, RandomFrames)
{
    PinnedToOneCpu pinned;
    auto program = Program::load();
    if (!program)
        return;
    std::printf("differential: seed %llu, up to %llu frames%s\n", static_cast<unsigned long long>(g_options.seed),
                static_cast<unsigned long long>(g_options.frames),
                g_options.seconds > 0 ? (", up to " + std::to_string(std::lround(g_options.seconds)) + " s").c_str()
                                      : "");
    RandomFrames frames(g_options.seed, kMinFrame, kMaxFrame, kJumboFrame);
    std::vector<Bytes> captured = capture_frames();
    std::printf("differential: %zu frames of installed captures to mutate\n", captured.size());
    frames.add_seed_frames(std::move(captured));
    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    std::uint64_t generated = 0, compared = 0, refused = 0, jumbo = 0, super_packets = 0, tunnels = 0, failures = 0;
    std::mt19937_64 segments_rng(g_options.seed + 1);  // which TCP and UDP frames run again as super-packets
    Coverage coverage;
    constexpr std::uint64_t kMaxReported = 20;
    for (; generated < g_options.frames; ++generated) {
        if (g_options.seconds > 0 && generated % 4096 == 0 && elapsed() >= g_options.seconds)
            break;
        const Bytes frame = frames.next();
        const ReferenceVerdict whole = classify_frame(frame, frame.size());
        coverage.add(whole);
        const auto report = [&](const std::string& failure) {
            if (!failure.empty() && ++failures <= kMaxReported)
                ADD_FAILURE() << "seed " << g_options.seed << ", frame " << generated << ": " << failure;
        };
        for (const Hook hook : kHooks) {
            if (hook == Hook::tc && frame.size() > kMaxFrame) {
                ++jumbo;
                continue;
            }
            if (hook == Hook::tc && refused_at_tc(frame)) {
                ++refused;
                continue;
            }
            ++compared;
            report(compare(*program, hook, frame));
        }
        if (frame.size() <= kMaxFrame && may_be_super_packet(whole) && segments_rng() % 4 == 0) {
            ++compared;
            ++super_packets;
            tunnels += whole.tunnel_headers != 0;
            report(compare(*program, Hook::tc, frame, static_cast<std::uint32_t>(2 + segments_rng() % 63)));
        }
    }
    const double seconds = elapsed();
    std::printf("differential: seed %llu: %llu frames, %llu comparisons (%llu of TC super-packets, %llu of them "
                "tunnels; at XDP only: %llu short IP frames, %llu jumbo frames) in %.1f s (%.0f comparisons/s), %llu "
                "disagreements\n",
                static_cast<unsigned long long>(g_options.seed), static_cast<unsigned long long>(generated),
                static_cast<unsigned long long>(compared), static_cast<unsigned long long>(super_packets),
                static_cast<unsigned long long>(tunnels), static_cast<unsigned long long>(refused),
                static_cast<unsigned long long>(jumbo), seconds,
                static_cast<double>(compared) / std::max(seconds, 1e-9), static_cast<unsigned long long>(failures));
    std::printf("differential: frames by the reference's verdict: %s\n", coverage.text().c_str());
    EXPECT_EQ(failures, 0u) << "seed " << g_options.seed << " (rerun with --seed " << g_options.seed << ")";
    if (generated >= 100000) {
        EXPECT_EQ(coverage.missing(), "") << "the frames never reached these verdicts";
        EXPECT_GT(tunnels, 0u) << "no tunnel super-packet was compared";
    }
}

// The drop counter parses a dropped packet as the counter parses a frame
// (docs/drops.md): BPF_PROG_TEST_RUN at TC frees its skb with kfree_skb on
// the loopback of the caller's namespace, so each frame run through the
// counter is also one drop, whose class, 5-tuple and bytes must be the
// counter's verdict. In a network namespace of the test's own, so that no
// other drop on its lo is counted.
TEST(Differential, DropsAreClassifiedAsTheCounterClassifies)
{
    PinnedToOneCpu pinned;
    const int original = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(original, 0);
    if (unshare(CLONE_NEWNET) != 0) {
        missing_privileges("enter a network namespace of its own", std::strerror(errno));
        close(original);
        return;
    }
    struct BackToTheOriginalNamespace {
        int fd;
        ~BackToTheOriginalNamespace()
        {
            EXPECT_EQ(setns(fd, CLONE_NEWNET), 0);
            close(fd);
        }
    } back{original};
    auto program = Program::load();
    const std::uint32_t lo[] = {if_nametoindex("lo")};
    auto drops = acquire_privileged("attach the drop counter", [&] { return DropCounter::attach(lo, 4, true); });
    if (!program || !drops)
        return;
    const std::uint64_t frames_to_compare = std::min<std::uint64_t>(g_options.frames, 20000);
    RandomFrames frames(g_options.seed, kMinFrame, kMaxFrame);
    std::uint64_t compared = 0, failures = 0;
    for (std::uint64_t generated = 0; generated < frames_to_compare; ++generated) {
        const Bytes frame = frames.next();
        if (refused_at_tc(frame))
            continue;
        const Observed counted = program->run(Hook::tc, frame);
        const std::vector<InterfaceDrops> drained = drops->drain(true).interfaces;
        ++compared;
        const ReferenceVerdict& v = counted.verdict;
        const bool ip = v.l3 == TS_CLASS_IPV4 || v.l3 == TS_CLASS_IPV6;
        const std::uint32_t cls =
            ip ? TS_DROP_CLASS_IP(v.l3 == TS_CLASS_IPV4 ? TS_IP_V4 : TS_IP_V6, v.l4.value_or(TS_CLASS_MALFORMED_L4))
               : TS_DROP_CLASS_NON_IP(v.l3);
        const InterfaceDrops& d = drained.front();
        const std::vector<DropCount>& leaving = d.directions[TS_DROP_LEAVING].counts;
        const bool agree = counted.anomalies.empty() && d.directions[TS_DROP_RECEIVED].counts.empty() &&
                           leaving.size() == 1 && leaving.front().cls == cls &&
                           leaving.front().counted == Counter{1, frame.size()} && d.flows.size() == 1 &&
                           d.flows.front().key.cls == cls && d.flows.front().key.flow == v.key.value_or(FlowKey{});
        if (!agree && ++failures <= 20)
            ADD_FAILURE() << "seed " << g_options.seed << ", frame " << generated << ": the counter says "
                          << describe(v) << counted.anomalies << "; the drop counter says "
                          << (leaving.empty() ? std::string("no drop")
                                              : drop_class_name(leaving.front().cls) + " " +
                                                    std::to_string(leaving.front().counted.bytes) + " bytes, " +
                                                    std::to_string(leaving.size()) + " counts, " +
                                                    std::to_string(d.flows.size()) + " flows")
                          << "\n  hex: " << to_hex(frame);
    }
    std::printf("differential: drops: seed %llu: %llu frames dropped and compared, %llu disagreements\n",
                static_cast<unsigned long long>(g_options.seed), static_cast<unsigned long long>(compared),
                static_cast<unsigned long long>(failures));
    EXPECT_EQ(failures, 0U);
}

// Frames that once made the two disagree, with the verdict docs/classes.md
// gives them. Both the reference and the program must give it.
struct RegressionFrame {
    const char* name;
    const char* hex;
    const char* verdict;  // describe() of the right verdict
};

constexpr RegressionFrame kRegressionFrames[] = {
    {"Ipv4Udp", "02000000000102000000000208004500001c00000000401100000a0000010a0000020035003500080000",
     "ipv4/udp key v4 10.0.0.1:53 > 10.0.0.2:53 proto 17 tcp_flags 0x0 bytes 42"},
    // Found a reference bug (seed 1): an IPv6 header whose version field says 4
    // holds no addresses, so it is unkeyed, as an IPv4 header with IHL < 5 is.
    {"Ipv6HeaderOfVersion4IsUnkeyed",
     "15742ee4daedfdedb6cb851286dd423333aa834c33f020010db800000000000000000000000420010db80000000000000000"
     "000000042c00198bc264990f068e00050f294056caad4efb39b4573be8a324525eacae7a1153787a42af42a0ad07d86ca994"
     "f57835a918d3b985c0c28f7bbdaf6e4b3039",
     "ipv6/malformed_l4 unkeyed tcp_flags 0x0 bytes 118"},
    // Found a reference bug (seed 1): an extension chain cut short (a routing
    // header after a first fragment) is keyed by the fixed header's next header.
    {"TruncatedIpv6ChainKeyedByItsFirstHeader",
     "02000000000102000000000286dd60000000000c2c4020010db800000000000000000000000120010db80000000000000000"
     "000000022b0000000000000111000000",
     "ipv6/malformed_l4 key v6 [2001:db8::1]:0 > [2001:db8::2]:0 proto 44 tcp_flags 0x0 bytes 66"},
    // The bound of the chain: eight headers are walked; a ninth is other_l4, keyed by its type.
    {"NinthIpv6ExtensionHeaderIsOtherL4",
     "02000000000102000000000286dd6000000000403c4020010db800000000000000000000000120010db80000000000000000"
     "000000023c000000000000003c000000000000003c000000000000003c000000000000003c000000000000003c0000000000"
     "00003c000000000000003c00000000000000",
     "ipv6/other_l4 key v6 [2001:db8::1]:0 > [2001:db8::2]:0 proto 60 tcp_flags 0x0 bytes 118"},
    {"UdpAfterEightIpv6ExtensionHeaders",
     "02000000000102000000000286dd6000000000483c4020010db800000000000000000000000120010db80000000000000000"
     "000000023c000000000000003c000000000000003c000000000000003c000000000000003c000000000000003c0000000000"
     "00003c0000000000000011000000000000001f400035000800ff",
     "ipv6/udp key v6 [2001:db8::1]:8000 > [2001:db8::2]:53 proto 17 tcp_flags 0x0 bytes 126"},
};

void PrintTo(const RegressionFrame& r, std::ostream* os)
{
    *os << r.name;
}

class DifferentialRegression : public ::testing::TestWithParam<RegressionFrame> {};

TEST_P(DifferentialRegression, BothGiveTheDocumentedVerdict)
{
    const RegressionFrame& r = GetParam();
    const Bytes frame = from_hex(r.hex);
    EXPECT_EQ(describe(classify_frame(frame, frame.size())), r.verdict) << "the reference";
    PinnedToOneCpu pinned;
    auto program = Program::load();
    if (!program)
        return;
    for (const Hook hook : kHooks) {
        const Observed got = program->run(hook, frame);
        EXPECT_EQ(describe(got.verdict), r.verdict) << hook_name(hook) << got.anomalies << "\n" << hex_dump(frame);
    }
}

INSTANTIATE_TEST_SUITE_P(Frames, DifferentialRegression, ::testing::ValuesIn(kRegressionFrames),
                         [](const auto& i) { return std::string(i.param.name); });

std::uint64_t parse_number(const char* flag, const char* text)
{
    char* end = nullptr;
    const std::uint64_t n = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0') {
        std::fprintf(stderr, "%s wants a number, not '%s'\n", flag, text);
        std::exit(2);
    }
    return n;
}

}  // namespace
}  // namespace trafstat::test

int main(int argc, char** argv)
{
    using trafstat::test::g_options;
    g_options.seed = std::random_device{}() | static_cast<std::uint64_t>(std::random_device{}()) << 32;
    ::testing::InitGoogleTest(&argc, argv);  // takes its own --gtest_* options out of argv
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) {
            std::fprintf(stderr, "unknown or incomplete option '%s' (--seed N, --frames N, --seconds S)\n", argv[i]);
            return 2;
        }
        if (arg == "--seed")
            g_options.seed = trafstat::test::parse_number("--seed", argv[++i]);
        else if (arg == "--frames")
            g_options.frames = trafstat::test::parse_number("--frames", argv[++i]);
        else if (arg == "--seconds")
            g_options.seconds = static_cast<double>(trafstat::test::parse_number("--seconds", argv[++i]));
        else {
            std::fprintf(stderr, "unknown option '%s' (--seed N, --frames N, --seconds S)\n", argv[i]);
            return 2;
        }
    }
    return RUN_ALL_TESTS();
}
