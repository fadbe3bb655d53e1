#include "bpf/drops.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/netns.hpp"
#include "bpf/per_cpu.hpp"

#include "drops.skel.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>

namespace trafstat {

DropCounter DropCounter::attach()
{
    Skeleton<drops> skel = open_skeleton(drops__open, drops__destroy, "the drop counter's");
    load_skeleton(drops__load, *skel, "the drop counter's");
    if (const int err = drops__attach(skel.get()); err)
        throw Error(
            err == -EPERM ? exit_code::privileges : exit_code::attach,
            fmt::format("cannot attach the drop counter to skb:kfree_skb and xdp:xdp_exception: {}", errno_text(err)));
    return DropCounter(std::move(skel));
}

void DropCounter::monitor(std::uint32_t ifindex)
{
    if (ifindexes_.size() >= TS_DROP_MAX_IFACES)
        throw Error(exit_code::usage, fmt::format("drops: at most {} interfaces", TS_DROP_MAX_IFACES));
    const ts_drop_iface key{.netns_cookie = current_netns_cookie(), .ifindex = ifindex, .pad = 0};
    const auto slot = static_cast<__u32>(ifindexes_.size());
    if (const int err =
            bpf_map__update_elem(skel_->maps.drop_ifaces, &key, sizeof key, &slot, sizeof slot, BPF_NOEXIST);
        err)
        throw Error(exit_code::runtime,
                    fmt::format("cannot monitor the drops of interface {}: {}", ifindex, errno_text(err)));
    ifindexes_.push_back(ifindex);
}

std::vector<DropCount> DropCounter::read() const
{
    // One batch per slot: its directions' and reasons' counters, each one per CPU.
    constexpr std::uint32_t kPerSlot = TS_DROP_DIRECTIONS * TS_DROP_REASONS;
    const std::size_t cpus = possible_cpus();
    const int fd = bpf_map__fd(skel_->maps.drop_counts);
    std::vector<__u32> keys(kPerSlot);
    std::vector<ts_counter> values(kPerSlot * cpus);
    std::vector<DropCount> counts;
    for (std::uint32_t slot = 0; slot < ifindexes_.size(); ++slot) {
        // An array's batch starts after the key given as in_batch (none for key 0).
        const std::uint32_t first = TS_DROP_INDEX(slot, 0, 0);
        __u32 in = first - 1, next = 0, n = kPerSlot;
        LIBBPF_OPTS(bpf_map_batch_opts, opts);
        const int err =
            bpf_map_lookup_batch(fd, first == 0 ? nullptr : &in, &next, keys.data(), values.data(), &n, &opts);
        if ((err && !(err == -ENOENT && n == kPerSlot)) || n != kPerSlot)
            throw Error(exit_code::runtime, fmt::format("cannot read the drop counters: {}", errno_text(err)));
        for (std::uint32_t i = 0; i < kPerSlot; ++i) {
            DropCount c{.ifindex = ifindexes_[slot],
                        .direction = static_cast<ts_drop_direction>(i / TS_DROP_REASONS),
                        .reason = i % TS_DROP_REASONS};
            for (std::size_t cpu = 0; cpu < cpus; ++cpu) {
                c.packets += values[i * cpus + cpu].packets;
                c.bytes += values[i * cpus + cpu].bytes;
            }
            if (c.packets)
                counts.push_back(c);
        }
    }
    return counts;
}

}  // namespace trafstat
