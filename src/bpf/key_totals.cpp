#include "bpf/key_totals.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <bpf/bpf.h>
#include <cerrno>
#include <fmt/format.h>

namespace trafstat {
namespace {

// The `other` row of a table: a key no counted packet has (ip_version 0).
ts_total_key other_key(int t)
{
    ts_total_key k{};
    k.table = static_cast<__u32>(t);
    return k;
}

[[noreturn]] void failed(std::string_view what, int err)
{
    throw Error(exit_code::runtime,
                fmt::format("cannot {} the totals per key (key_totals): {}", what, errno_text(err)));
}

}  // namespace

KeyTotals::KeyTotals(int fd) : fd_(fd)
{
    ts_total_key key{}, next{};
    const ts_total_key* at = nullptr;
    while (bpf_map_get_next_key(fd_, at, &next) == 0) {
        key = next;
        at = &key;
        ts_total v{};
        if (bpf_map_lookup_elem(fd_, &key, &v) != 0) {
            if (errno == ENOENT)
                continue;
            failed("read", -errno);
        }
        if (key.table >= TS_TABLES)
            continue;
        if (key.key.ip_version == 0) {
            other_[key.table] = v;
            continue;
        }
        tables_[key.table][flow_key_of(key.key)] = {
            {v.packets, v.bytes, v.first_ns, v.last_ns, static_cast<std::uint8_t>(v.tcp_flags)},
            v.merged_epoch,
            (v.flags & TS_TOTAL_EXPORTED) != 0};
    }
    if (errno != ENOENT)
        failed("read", -errno);
    // Each table's other row exists from the start, so a full map still has it.
    for (int t = 0; t < TS_TABLES; ++t) {
        const ts_total_key k = other_key(t);
        if (bpf_map_update_elem(fd_, &k, &other_[t], BPF_NOEXIST) != 0 && errno != EEXIST && errno != E2BIG)
            failed("write", -errno);
    }
}

int KeyTotals::write(int t, const FlowKey& key, const Kept& kept, bool create)
{
    ts_total_key k{};
    k.table = static_cast<__u32>(t);
    k.key = kernel_key_of(key);
    const ts_total v{kept.stats.packets,
                     kept.stats.bytes,
                     kept.stats.first_ns,
                     kept.stats.last_ns,
                     kept.merged_epoch,
                     kept.stats.tcp_flags,
                     kept.exported ? TS_TOTAL_EXPORTED : 0U,
                     0};
    return bpf_map_update_elem(fd_, &k, &v, create ? BPF_NOEXIST : BPF_EXIST) == 0 ? 0 : errno;
}

TableEntries KeyTotals::merge(std::uint32_t epoch, const TableEntries& entries, std::uint64_t now_ns)
{
    TableEntries merged;
    for (int t = 0; t < TS_TABLES; ++t) {
        if (entries[t].empty())
            continue;
        ts_total& other = other_[t];
        if (other.merged_epoch == epoch)
            continue;  // this epoch's merge of the table ended (the other row is written last)
        Counter overflow;
        for (const FlowEntry& e : merge_by_key(entries[t])) {
            auto found = tables_[t].find(e.key);
            const bool create = found == tables_[t].end();
            if (!create && found->second.merged_epoch == epoch)
                continue;  // merged before a restart
            merged[t].push_back(e);
            Kept kept = create ? Kept{} : found->second;
            FlowStats share = e.stats;
            share.first_ns = share.last_ns = now_ns;
            kept.stats.merge(share);
            kept.merged_epoch = epoch;
            if (const int err = write(t, e.key, kept, create); err) {
                if (create && err == E2BIG) {
                    overflow.packets += e.stats.packets;
                    overflow.bytes += e.stats.bytes;
                    continue;
                }
                failed("write", -err);
            }
            tables_[t][e.key] = kept;
        }
        other.packets += overflow.packets;
        other.bytes += overflow.bytes;
        other.merged_epoch = epoch;
        const ts_total_key k = other_key(t);
        if (bpf_map_update_elem(fd_, &k, &other, BPF_ANY) != 0)
            failed("write", -errno);
    }
    return merged;
}

std::vector<FlowEntry> KeyTotals::entries(int t) const
{
    std::vector<FlowEntry> out;
    out.reserve(tables_[t].size());
    for (const auto& [key, kept] : tables_[t])
        out.push_back({key, kept.stats});
    return out;
}

void KeyTotals::mark_exported(int t, const FlowKey& key)
{
    auto found = tables_[t].find(key);
    if (found == tables_[t].end() || found->second.exported)
        return;
    found->second.exported = true;
    if (const int err = write(t, key, found->second, false); err)
        failed("write", -err);
}

}  // namespace trafstat
