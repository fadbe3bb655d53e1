// Runs captured frames through the counting program's XDP entry with
// BPF_PROG_TEST_RUN: the same code that counts live traffic, loaded in
// replay mode (bytes come from the record's original length).
//
// The syscall is the cost, so one BPF_PROG_TEST_RUN carries a batch of
// frames (the trafstat_replay entry narrows the packet window to each in
// turn and counts it with the live XDP code), and batches go to a pool of
// worker threads, one per CPU. Counters are per-CPU: workers never contend,
// and a read sums them all. submit() waits when the threads are that far
// behind (kMaxWorkInFlight), so memory does not grow with the capture.
#pragma once

#include "bpf/loader.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace trafstat {

class ReplayRunner {
public:
    // Loads the program (throws Error) and starts `workers` threads (0: one
    // per CPU). `tables`: the keyed table and histogram options (replay mode
    // and the entry points are the runner's own).
    explicit ReplayRunner(unsigned workers = 0, const LoadOptions& tables = {});
    ReplayRunner(const ReplayRunner&) = delete;
    ReplayRunner& operator=(const ReplayRunner&) = delete;
    ~ReplayRunner();

    // Queues one Ethernet frame (copied). `bytes` may be shorter than an
    // Ethernet header: the program then sees it as a truncated frame.
    // `ts_ns` (capture time) becomes the keyed table's first/last seen.
    void submit(std::span<const std::uint8_t> bytes, std::uint32_t wire_len, std::int64_t ts_ns = 0);
    // Waits until every queued frame has run. Throws Error if a run failed.
    void drain();
    // The keyed table's entries since the last call (call drain() first).
    std::size_t drain_tables(TableEntries& out) { return program_.drain_tables(out, true); }
    // Closes the counting epoch (CounterProgram::close_epoch; call drain() first).
    HalfCounters close_epoch(TableEntries& out) { return program_.close_epoch(out, true); }
    TableCapacities table_capacities() const { return program_.table_capacities(); }

    // Bytes of a frame handed to the program, at most: what BPF_PROG_TEST_RUN
    // takes for a multi-buffer frame (a linear part plus 16 pages). Bytes are
    // counted from the original length either way.
    static constexpr std::size_t kMaxFrameBytes = 16 * 4096;
    // Units of work (each at most 256 KiB of frames) queued or running at
    // once: the frames held in memory stay under 16 MiB (docs/replay.md).
    static constexpr std::size_t kMaxWorkInFlight = 64;

private:
    // One BPF_PROG_TEST_RUN: a multi-frame batch for trafstat_replay, or a
    // single frame (too short for a window of its own) for trafstat_xdp.
    struct Run {
        std::uint32_t offset = 0;  // in Work::data
        std::uint32_t size = 0;
        std::uint32_t linear = 0;  // single: bytes the program may see
        bool multi = false;
    };
    // What one worker takes at once.
    struct Work {
        std::vector<std::uint8_t> data;
        std::vector<Run> runs;
    };
    // The multi-frame run being filled.
    struct Pending {
        std::vector<std::uint32_t> lens, wire_lens;
        std::vector<std::uint64_t> stamps;
        std::vector<std::uint8_t> bytes;
    };
    void close_pending();
    void flush_if_full();
    void submit_single(std::span<const std::uint8_t> bytes, std::uint32_t wire_len, std::uint64_t ts_ns);
    void work();
    void flush();
    void run_work(const Work& work);

    CounterProgram program_;
    Pending pending_;
    Work current_;
    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable idle_;
    std::deque<Work> queue_;
    unsigned busy_ = 0;
    bool stopping_ = false;
    std::string failure_;
    unsigned worker_count_;
    std::vector<std::jthread> workers_;  // started by the first flush()
};

}  // namespace trafstat
