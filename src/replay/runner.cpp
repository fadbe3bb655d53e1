#include "replay/runner.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <linux/if_ether.h>
#include <trafstat/abi.h>

namespace trafstat {
namespace {

// A test-run packet must fit the linear area: a page minus XDP headroom
// (256) and the tail's skb_shared_info (320); keep a margin.
constexpr std::size_t kMaxBatchBytes = 3456;
// Linear bytes of a single-frame run; the rest of a larger frame goes to fragments.
constexpr std::uint32_t kMaxLinear = 3456;
// A unit of work handed to a thread closes at 64 runs or 192 KiB of frames,
// whichever comes first; its buffer is allocated once, with room for one more
// frame of the largest size, so that it never grows by doubling.
constexpr std::size_t kRunsPerWork = 64;
constexpr std::size_t kWorkBytes = 192 * 1024;
constexpr std::size_t kWorkCapacity = kWorkBytes + ReplayRunner::kMaxFrameBytes + 64;
constexpr std::uint32_t kMetaLen = sizeof(ts_replay_meta);
constexpr __u32 kXdpPass = 2;

// The largest frame that fits a batch of its own.
constexpr std::size_t kMaxBatchedFrame = kMaxBatchBytes - sizeof(ts_replay_batch) - sizeof(ts_replay_frame);

template <typename T>
void append(std::vector<std::uint8_t>& out, const T& value)
{
    const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
    out.insert(out.end(), p, p + sizeof value);
}

}  // namespace

namespace {

LoadOptions replay_load_options(LoadOptions o)
{
    o.replay_mode = true;
    o.load_tc = false;
    return o;
}

}  // namespace

ReplayRunner::ReplayRunner(unsigned workers, const LoadOptions& tables)
    : program_(CounterProgram::load(replay_load_options(tables))),
      worker_count_(workers ? workers : std::max(1u, std::thread::hardware_concurrency()))
{
    current_.data.reserve(kWorkCapacity);
}

ReplayRunner::~ReplayRunner()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    // jthreads join here.
}

void ReplayRunner::submit(std::span<const std::uint8_t> bytes, std::uint32_t wire_len, std::int64_t ts_ns)
{
    bytes = bytes.first(std::min(bytes.size(), kMaxFrameBytes));
    // Before the epoch cannot be a capture time: such stamps count as 0.
    const auto ts = static_cast<std::uint64_t>(std::max<std::int64_t>(ts_ns, 0));
    if (bytes.size() < TS_REPLAY_MIN_FRAME || bytes.size() > kMaxBatchedFrame) {
        submit_single(bytes, wire_len, ts);
        return;
    }
    const std::size_t frames = pending_.lens.size() + 1;
    const std::size_t size =
        sizeof(ts_replay_batch) + frames * sizeof(ts_replay_frame) + pending_.bytes.size() + bytes.size();
    if (frames > TS_REPLAY_MAX_BATCH || size > kMaxBatchBytes)
        close_pending();
    pending_.lens.push_back(static_cast<std::uint32_t>(bytes.size()));
    pending_.wire_lens.push_back(wire_len);
    pending_.stamps.push_back(ts);
    pending_.bytes.insert(pending_.bytes.end(), bytes.begin(), bytes.end());
}

// Serialises the pending frames as one trafstat_replay run (layout: abi.h).
void ReplayRunner::close_pending()
{
    if (pending_.lens.empty())
        return;
    Run run;
    run.multi = true;
    run.offset = static_cast<std::uint32_t>(current_.data.size());
    append(current_.data, ts_replay_batch{static_cast<__u32>(pending_.lens.size()), 0});
    for (std::size_t i = 0; i < pending_.lens.size(); ++i)
        append(current_.data, ts_replay_frame{pending_.lens[i], pending_.wire_lens[i], pending_.stamps[i]});
    current_.data.insert(current_.data.end(), pending_.bytes.begin(), pending_.bytes.end());
    run.size = static_cast<std::uint32_t>(current_.data.size()) - run.offset;
    current_.runs.push_back(run);
    pending_.lens.clear();
    pending_.wire_lens.clear();
    pending_.stamps.clear();
    pending_.bytes.clear();
    flush_if_full();
}

void ReplayRunner::flush_if_full()
{
    if (current_.runs.size() >= kRunsPerWork || current_.data.size() >= kWorkBytes)
        flush();
}

// A frame that cannot share a batch runs alone through trafstat_xdp, its
// bytes counted from the metadata (ts_replay_meta). One shorter than an
// Ethernet header is padded to the 14 bytes BPF_PROG_TEST_RUN needs, and the
// padding moved out of the program's view (xdp_md.data_end). One larger
// than a page becomes a multi-buffer frame: the program parses its linear
// part, as live XDP parses a multi-buffer frame's first buffer.
void ReplayRunner::submit_single(std::span<const std::uint8_t> bytes, std::uint32_t wire_len, std::uint64_t ts_ns)
{
    Run run;
    run.offset = static_cast<std::uint32_t>(current_.data.size());
    append(current_.data, ts_replay_meta{wire_len, 0, ts_ns});
    current_.data.insert(current_.data.end(), bytes.begin(), bytes.end());
    current_.data.resize(current_.data.size() + (ETH_HLEN - std::min<std::size_t>(bytes.size(), ETH_HLEN)), 0);
    run.size = static_cast<std::uint32_t>(current_.data.size()) - run.offset;
    run.linear = static_cast<std::uint32_t>(bytes.size());
    current_.runs.push_back(run);
    flush_if_full();
}

// Hands the current work to the threads. With kMaxWorkInFlight units queued
// or running, it first waits for one to finish: the reader never runs ahead
// of the threads by more than that, whatever the capture.
void ReplayRunner::flush()
{
    if (current_.runs.empty())
        return;
    // The threads start with the first work, not at load: the caller may drop
    // its capabilities in between, and threads keep those they start with.
    while (workers_.size() < worker_count_)
        workers_.emplace_back([this] { work(); });
    {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [this] { return queue_.size() + busy_ < kMaxWorkInFlight; });
        queue_.push_back(std::move(current_));
    }
    current_ = Work{};
    current_.data.reserve(kWorkCapacity);
    work_ready_.notify_one();
}

void ReplayRunner::drain()
{
    close_pending();
    flush();
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return queue_.empty() && busy_ == 0; });
    if (!failure_.empty())
        throw Error(exit_code::runtime, failure_);
}

void ReplayRunner::work()
{
    for (;;) {
        Work item;
        {
            std::unique_lock lock(mutex_);
            work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty())
                return;  // stopping
            item = std::move(queue_.front());
            queue_.pop_front();
            ++busy_;
        }
        run_work(item);
        {
            std::lock_guard lock(mutex_);
            --busy_;
        }
        idle_.notify_all();
    }
}

void ReplayRunner::run_work(const Work& item)
{
    for (const Run& run : item.runs) {
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = item.data.data() + run.offset, .data_size_in = run.size,
                    .repeat = 1);
        xdp_md ctx{};
        int fd = program_.replay_fd();
        if (!run.multi) {
            ctx.data = kMetaLen;
            ctx.data_end = kMetaLen + std::min<std::uint32_t>(run.linear, kMaxLinear);
            opts.ctx_in = &ctx;
            opts.ctx_size_in = sizeof ctx;
            fd = program_.xdp_fd();
        }
        int rc = bpf_prog_test_run_opts(fd, &opts);
        if (rc != 0 || opts.retval != kXdpPass) {
            std::string why = rc != 0 ? fmt::format("BPF_PROG_TEST_RUN failed: {}", errno_text(errno))
                                      : fmt::format("the replay program refused a batch (return code {})", opts.retval);
            std::lock_guard lock(mutex_);
            if (failure_.empty())
                failure_ = why;
            return;
        }
    }
}

}  // namespace trafstat
