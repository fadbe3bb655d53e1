// The pinned store of totals per key since attach (abi.h key_totals): the
// agent's, never the program's. Read once into memory, then merged into at
// every drain, each key at most once per epoch (its merged_epoch), so a
// drain that a killed process left half done can be done again exactly.
#pragma once

#include "stats/flows.hpp"

#include <trafstat/abi.h>

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace trafstat {

class KeyTotals {
public:
    // Reads every entry of the map `fd` (borrowed). Throws Error(exit_code::runtime).
    explicit KeyTotals(int fd);

    // Merges the entries of the closed epoch `epoch` (one or more per key),
    // dated `now_ns`. A key already merged with this epoch is skipped; a key
    // the map has no room for goes to its table's `other` row. Returns what
    // it merged now, one entry per key (the store's overflow included).
    TableEntries merge(std::uint32_t epoch, const TableEntries& entries, std::uint64_t now_ns);

    struct Kept {
        FlowStats stats;
        std::uint32_t merged_epoch = 0;
        bool exported = false;
    };
    using Table = std::unordered_map<FlowKey, Kept, FlowKeyHash>;
    const Table& table(int t) const { return tables_[t]; }
    // What the map could not hold, per table.
    Counter other(int t) const { return {other_[t].packets, other_[t].bytes}; }
    // Every key's totals of table `t`, one entry per key.
    std::vector<FlowEntry> entries(int t) const;
    // Marks a key as exported as its own series (kept across restarts).
    void mark_exported(int t, const FlowKey& key);

private:
    // 0, or the errno of the map update.
    int write(int t, const FlowKey& key, const Kept& kept, bool create);
    int fd_;
    std::array<Table, TS_TABLES> tables_;
    std::array<ts_total, TS_TABLES> other_{};
};

}  // namespace trafstat
