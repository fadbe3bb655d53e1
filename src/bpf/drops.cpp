#include "bpf/drops.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/netns.hpp"

#include "drops.skel.h"

#include <bpf/bpf.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace trafstat {

namespace {

// Runs of a program the kernel skipped because it was running on that CPU
// already (0 for one not loaded).
std::uint64_t recursion_misses(const bpf_program* program)
{
    if (bpf_program__fd(program) < 0)
        return 0;
    bpf_prog_info info{};
    __u32 size = sizeof info;
    if (bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &size) != 0)
        throw Error(exit_code::runtime,
                    fmt::format("cannot read the drop counter's program info: {}", std::strerror(errno)));
    return info.recursion_misses;
}

std::size_t counters_for(std::size_t slots)
{
    return TS_DROP_HALVES * slots * TS_DROP_PER_SLOT;
}

}  // namespace

DropCounter DropCounter::attach(std::span<const std::uint32_t> ifindexes, std::uint32_t flow_capacity,
                                bool kernel_reasons)
{
    if (ifindexes.empty() || ifindexes.size() > TS_DROP_MAX_IFACES)
        throw Error(exit_code::usage,
                    fmt::format("--drops: 1 to {} interfaces, not {}", TS_DROP_MAX_IFACES, ifindexes.size()));
    if (flow_capacity == 0)
        throw Error(exit_code::usage, "--drop-flow-table-size: at least 1");
    Skeleton<drops> skel = open_skeleton(drops__open, drops__destroy, "the drop counter's");
    skel->rodata->drop_slots = static_cast<__u32>(ifindexes.size());
    skel->rodata->drop_flow_capacity = flow_capacity;
    const auto counters = static_cast<__u32>(counters_for(ifindexes.size()));
    // Room for both parities' flows: the closed one is emptied while the next fills.
    if (bpf_map__set_max_entries(skel->maps.drop_counts, counters) ||
        bpf_map__set_max_entries(skel->maps.drop_flows, 2 * flow_capacity))
        throw Error(exit_code::load, "cannot size the drop counter's maps");
    // One of the two kfree_skb programs: with the kernel's reason argument, or without.
    bpf_program__set_autoload(kernel_reasons ? skel->progs.trafstat_dropnr : skel->progs.trafstat_drop, false);
    load_skeleton(drops__load, *skel, "the drop counter's");

    const __u64 netns = current_netns_cookie();
    for (std::size_t slot = 0; slot < ifindexes.size(); ++slot) {
        const ts_drop_iface key{.netns_cookie = netns, .ifindex = ifindexes[slot], .pad = 0};
        const auto value = static_cast<__u32>(slot);
        if (const int err =
                bpf_map__update_elem(skel->maps.drop_ifaces, &key, sizeof key, &value, sizeof value, BPF_NOEXIST);
            err)
            throw Error(err == -EEXIST ? exit_code::usage : exit_code::runtime,
                        fmt::format("cannot monitor the drops of interface {}: {}", ifindexes[slot],
                                    err == -EEXIST ? "named twice" : errno_text(err)));
    }
    DropCounter counter(std::move(skel), ifindexes.size());
    if (const int err = drops__attach(counter.skel_.get()); err)
        throw Error(
            err == -EPERM ? exit_code::privileges : exit_code::attach,
            fmt::format("cannot attach the drop counter to skb:kfree_skb and xdp:xdp_exception: {}", errno_text(err)));
    return counter;
}

DropCounter::DropCounter(Skeleton<drops> skel, std::size_t slots)
    : skel_(std::move(skel)), slots_(slots), epoch_(&skel_->bss->drop_epoch)
{
    counts_bytes_ = counters_for(slots_) * sizeof(ts_counter);
    void* map =
        mmap(nullptr, counts_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(skel_->maps.drop_counts), 0);
    if (map == MAP_FAILED)
        throw Error(exit_code::runtime, fmt::format("cannot map the drop counters: {}", std::strerror(errno)));
    counts_ = static_cast<ts_counter*>(map);
}

DropCounter::DropCounter(DropCounter&& other) noexcept
    : skel_(std::move(other.skel_)), slots_(other.slots_), epoch_(other.epoch_), counts_(other.counts_),
      counts_bytes_(other.counts_bytes_), missed_before_(other.missed_before_)
{
    other.counts_ = nullptr;
}

DropCounter::~DropCounter()
{
    if (counts_)
        munmap(counts_, counts_bytes_);
}

DropDrain DropCounter::drain(bool quiescent)
{
    const std::uint32_t parity = epoch_.close(quiescent) & 1;
    DropDrain drained;
    const std::uint64_t missed = recursion_misses(skel_->progs.trafstat_drop) +
                                 recursion_misses(skel_->progs.trafstat_dropnr) +
                                 recursion_misses(skel_->progs.trafstat_xdpexc);
    drained.missed = missed - missed_before_;
    missed_before_ = missed;
    std::vector<InterfaceDrops>& out = drained.interfaces;
    out.resize(slots_);

    for (std::size_t slot = 0; slot < slots_; ++slot)
        for (std::uint32_t dir = 0; dir < TS_DROP_DIRECTIONS; ++dir) {
            DirectionDrops& to = out[slot].directions[dir];
            ts_counter* row = counts_ + TS_DROP_INDEX(slots_, parity, slot, dir, 0, 0);
            for (std::uint32_t i = 0; i < TS_DROP_REASONS * TS_DROP_CLASSES; ++i)
                if (row[i].packets)
                    to.counts.push_back({.reason = i / TS_DROP_CLASSES,
                                         .cls = i % TS_DROP_CLASSES,
                                         .counted = {row[i].packets, row[i].bytes}});
            std::memset(row, 0, sizeof(ts_counter) * TS_DROP_REASONS * TS_DROP_CLASSES);
            ts_counter& overflow = skel_->bss->drop_flow_overflow[parity][slot][dir];
            to.flow_overflow = {overflow.packets, overflow.bytes};
            overflow = {};
        }

    // The flows of the closed parity: read them all, then delete them.
    const int fd = bpf_map__fd(skel_->maps.drop_flows);
    const std::uint32_t room = bpf_map__max_entries(skel_->maps.drop_flows);
    std::vector<ts_drop_flow_key> keys(room), closed;
    std::vector<ts_counter> values(room);
    __u32 batch = 0;
    bool first = true;
    for (;;) {
        __u32 n = room;
        LIBBPF_OPTS(bpf_map_batch_opts, opts);
        const int err =
            bpf_map_lookup_batch(fd, first ? nullptr : &batch, &batch, keys.data(), values.data(), &n, &opts);
        if (err && err != -ENOENT)
            throw Error(exit_code::runtime, fmt::format("cannot read the dropped flows: {}", errno_text(err)));
        for (__u32 i = 0; i < n; ++i) {
            const ts_drop_flow_key& k = keys[i];
            if (k.parity != parity || k.slot >= slots_)
                continue;
            out[k.slot].flows.push_back({.key = {.direction = static_cast<ts_drop_direction>(k.direction),
                                                 .reason = k.reason,
                                                 .cls = k.cls,
                                                 .flow = flow_key_of(k.flow)},
                                         .counted = {values[i].packets, values[i].bytes}});
            closed.push_back(k);
        }
        if (err == -ENOENT)
            break;
        first = false;
    }
    if (!closed.empty()) {
        auto count = static_cast<__u32>(closed.size());
        LIBBPF_OPTS(bpf_map_batch_opts, opts);
        if (const int err = bpf_map_delete_batch(fd, closed.data(), &count, &opts); err)
            throw Error(exit_code::runtime, fmt::format("cannot empty the dropped flows: {}", errno_text(err)));
    }
    skel_->bss->drop_flows_used[parity] = 0;
    return drained;
}

}  // namespace trafstat
