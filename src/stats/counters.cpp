#include "stats/counters.hpp"

#include <fmt/format.h>

namespace trafstat {

namespace {

// Indexed by ts_class; the static_assert in abi.h fires when the enum changes.
constexpr std::array<std::string_view, TS_CLASS_MAX> k_class_names = {
    "all",
    // L3
    "ipv4",
    "ipv6",
    "arp",
    "other_l3",
    "malformed",
    // L4
    "tcp",
    "udp",
    "icmp",
    "icmpv6",
    "sctp",
    "gre",
    "esp",
    "other_l4",
    "fragment",
    "malformed_l4",
    // flags
    "vlan",
    "pppoe",
};

constexpr std::size_t idx(int c)
{
    return static_cast<std::size_t>(c);
}

Counter add(const Counter& a, const Counter& b)
{
    return {a.packets + b.packets, a.bytes + b.bytes};
}

Counter grown(const Counter& now, const Counter& before)
{
    return {trafstat::grown(now.packets, before.packets), trafstat::grown(now.bytes, before.bytes)};
}

// Compares one side of a rule, packets and bytes separately.
void check(std::vector<std::string>& out, std::string_view what, const Counter& have, std::string_view parts,
           const Counter& sum)
{
    if (have.packets != sum.packets) {
        out.push_back(fmt::format("{}.packets {} != {} {}", what, have.packets, parts, sum.packets));
    }
    if (have.bytes != sum.bytes) {
        out.push_back(fmt::format("{}.bytes {} != {} {}", what, have.bytes, parts, sum.bytes));
    }
}

}  // namespace

std::string_view class_name(ts_class c)
{
    const auto i = static_cast<std::size_t>(c);
    return i < k_class_names.size() ? k_class_names[i] : std::string_view{"unknown"};
}

std::optional<ts_class> class_from_name(std::string_view name)
{
    for (std::size_t i = 0; i < k_class_names.size(); ++i) {
        if (k_class_names[i] == name) {
            return static_cast<ts_class>(i);
        }
    }
    return std::nullopt;
}

std::string_view ip_version_name(ts_ip_version v)
{
    switch (v) {
    case TS_IP_V4:
        return "ipv4";
    case TS_IP_V6:
        return "ipv6";
    default:
        return "unknown";
    }
}

namespace {

// Every counter of `out`, `a` and `b` in the same order: f(out_i, a_i, b_i).
template <class F>
void zip(ClassCounters& out, const ClassCounters& a, const ClassCounters& b, F f)
{
    for (std::size_t c = 0; c < out.cls.size(); ++c) {
        f(out.cls[c], a.cls[c], b.cls[c]);
    }
    for (std::size_t v = 0; v < out.l4_by_ip.size(); ++v) {
        for (std::size_t c = 0; c < out.l4_by_ip[v].size(); ++c) {
            f(out.l4_by_ip[v][c], a.l4_by_ip[v][c], b.l4_by_ip[v][c]);
        }
    }
    for (std::size_t t = 0; t < out.table_overflow.size(); ++t) {
        f(out.table_overflow[t], a.table_overflow[t], b.table_overflow[t]);
        f(out.table_paused[t], a.table_paused[t], b.table_paused[t]);
    }
    f(out.table_unkeyed, a.table_unkeyed, b.table_unkeyed);
    for (std::size_t i = 0; i < out.size_hist.size(); ++i) {
        f(out.size_hist[i], a.size_hist[i], b.size_hist[i]);
    }
    f(out.super_packets, a.super_packets, b.super_packets);
}

Counter of(const ts_counter& x)
{
    return {x.packets, x.bytes};
}

ClassCounters from_kernel(const ts_stats& cpu)
{
    ClassCounters c;
    for (std::size_t k = 0; k < c.cls.size(); ++k) {
        c.cls[k] = of(cpu.cls[k]);
    }
    for (std::size_t v = 0; v < c.l4_by_ip.size(); ++v) {
        for (std::size_t k = 0; k < c.l4_by_ip[v].size(); ++k) {
            c.l4_by_ip[v][k] = of(cpu.l4_by_ip[v][k]);
        }
    }
    for (std::size_t t = 0; t < c.table_overflow.size(); ++t) {
        c.table_overflow[t] = of(cpu.table_overflow[t]);
        c.table_paused[t] = of(cpu.table_paused[t]);
    }
    c.table_unkeyed = of(cpu.table_unkeyed);
    for (std::size_t i = 0; i < c.size_hist.size(); ++i) {
        c.size_hist[i] = of(cpu.size_hist[i]);
    }
    c.super_packets = of(cpu.super_packets);
    return c;
}

}  // namespace

ClassCounters sum_per_cpu(std::span<const ts_stats> per_cpu)
{
    ClassCounters sum;
    for (const ts_stats& cpu : per_cpu) {
        sum += from_kernel(cpu);
    }
    // The classes the program leaves to userspace (abi.h, struct ts_stats).
    constexpr std::array<ts_class, TS_IP_VERSIONS> ip_class = {TS_CLASS_IPV4, TS_CLASS_IPV6};
    for (std::size_t v = 0; v < ip_class.size(); ++v) {
        for (std::size_t c = 0; c < sum.l4_by_ip[v].size(); ++c) {
            const Counter& x = sum.l4_by_ip[v][c];
            sum[ip_class[v]] = add(sum[ip_class[v]], x);
            sum.cls[idx(TS_L4_FIRST) + c] = add(sum.cls[idx(TS_L4_FIRST) + c], x);
        }
    }
    for (int k = TS_L3_FIRST; k <= TS_L3_LAST; ++k) {
        sum[TS_CLASS_ALL] = add(sum[TS_CLASS_ALL], sum.cls[idx(k)]);
    }
    return sum;
}

ClassCounters delta(const ClassCounters& now, const ClassCounters& before)
{
    ClassCounters d;
    zip(d, now, before, [](Counter& out, const Counter& n, const Counter& b) { out = grown(n, b); });
    return d;
}

ClassCounters& operator+=(ClassCounters& acc, const ClassCounters& more)
{
    zip(acc, acc, more, [](Counter& out, const Counter& a, const Counter& b) { out = add(a, b); });
    return acc;
}

SizeBucket size_bucket(std::size_t index)
{
    // Must match size_bucket() in bpf/counter.bpf.c.
    static constexpr std::array<std::uint64_t, TS_SIZE_BUCKETS> lower = {0, 65, 128, 256, 512, 1024, 1519};
    const std::size_t i = std::min<std::size_t>(index, TS_SIZE_BUCKETS - 1);
    SizeBucket b{lower[i], std::nullopt};
    if (i + 1 < TS_SIZE_BUCKETS)
        b.max = lower[i + 1] - 1;
    return b;
}

std::array<double, TS_SIZE_BUCKETS> size_shares(const ClassCounters& c)
{
    std::uint64_t total = 0;
    for (const Counter& b : c.size_hist) {
        total += b.packets;
    }
    std::array<double, TS_SIZE_BUCKETS> out{};
    for (std::size_t i = 0; total && i < out.size(); ++i) {
        out[i] = static_cast<double>(c.size_hist[i].packets) / static_cast<double>(total);
    }
    return out;
}

Rate rate(const Counter& d, double seconds)
{
    if (!(seconds > 0)) {  // also catches NaN
        return {};
    }
    return {static_cast<double>(d.packets) / seconds, static_cast<double>(d.bytes) * 8.0 / seconds};
}

// The rules of abi.h. The fourth one there (sum of L4 classes = ipv4 + ipv6)
// follows from the per-version and per-class rules checked here, so it is not
// reported separately (one broken counter would otherwise show up twice).
std::vector<std::string> reconcile(const ClassCounters& c)
{
    std::vector<std::string> out;

    Counter l3;
    for (int k = TS_L3_FIRST; k <= TS_L3_LAST; ++k) {
        l3 = add(l3, c.cls[idx(k)]);
    }
    check(out, "all", c[TS_CLASS_ALL], "sum of L3 classes", l3);

    constexpr std::array<ts_class, TS_IP_VERSIONS> ip_class = {TS_CLASS_IPV4, TS_CLASS_IPV6};
    for (std::size_t v = 0; v < ip_class.size(); ++v) {
        Counter row;
        for (const Counter& x : c.l4_by_ip[v]) {
            row = add(row, x);
        }
        const auto name = ip_version_name(static_cast<ts_ip_version>(v));
        check(out, name, c[ip_class[v]], fmt::format("sum of l4_by_ip.{}", name), row);
    }

    for (int k = TS_L4_FIRST; k <= TS_L4_LAST; ++k) {
        const auto i = idx(k - TS_L4_FIRST);
        const auto name = class_name(static_cast<ts_class>(k));
        check(out, name, c.cls[idx(k)], fmt::format("l4_by_ip.ipv4.{0} + l4_by_ip.ipv6.{0}", name),
              add(c.l4_by_ip[TS_IP_V4][i], c.l4_by_ip[TS_IP_V6][i]));
    }
    return out;
}

std::vector<std::string> reconcile_histogram(const ClassCounters& c)
{
    Counter sum;
    for (const Counter& b : c.size_hist)
        sum = add(sum, b);
    std::vector<std::string> out;
    check(out, "all", c[TS_CLASS_ALL], "sum of the histogram", sum);
    return out;
}

}  // namespace trafstat
