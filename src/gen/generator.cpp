#include "gen/generator.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/per_cpu.hpp"

#include <trafstat/gen_abi.h>

#include "gen.skel.h"

#include <algorithm>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <thread>

namespace trafstat::gen {
namespace {

// libbpf 1.1's headers may predate the flag (Linux 5.18 UAPI).
#ifdef BPF_F_TEST_XDP_LIVE_FRAMES
constexpr __u32 kLiveFrames = BPF_F_TEST_XDP_LIVE_FRAMES;
#else
constexpr __u32 kLiveFrames = 1U << 1;
#endif
static_assert(kLiveFrames == (1U << 1), "BPF_F_TEST_XDP_LIVE_FRAMES is bit 1 of test.flags");

// Frames per BPF_PROG_RUN when not paced. Each run with repeat > 1 adds the
// program to the kernel's XDP dispatcher and removes it at the end, each a
// synchronize_rcu() (some 10-25 ms) unless another run of it is in flight:
// runs must be long to amortise that. A stop or a deadline does not wait for
// the end of a run: the main thread interrupts it with kWakeSignal.
constexpr std::uint64_t kChunk = 1u << 24;
// Paced: each thread sends its share of the rate in one run per interval
// (finer pacing would be eaten by the dispatcher updates around each run).
constexpr double kPaceIntervalS = 0.1;
// Interrupts a worker's BPF_PROG_RUN (EINTR; the frames already sent are
// counted by the program).
constexpr int kWakeSignal = SIGUSR1;
// ENOTSUPP (524): the kernel's internal "not supported", leaked by some paths.
constexpr int kEnotsupp = 524;

using Clock = std::chrono::steady_clock;

void on_wake(int) {}

std::string run_error(int err, const std::string& ifname)
{
    if (err == ENODEV || err == ENXIO)
        return fmt::format("BPF_PROG_RUN: {} is gone: {}", ifname, errno_text(err));
    return fmt::format("BPF_PROG_RUN on {} failed: {}", ifname, errno_text(err));
}

}  // namespace

struct Generator::Sync {
    std::mutex mutex;
    std::condition_variable done;
    Clock::time_point start;
    std::optional<Clock::time_point> deadline;
};

Generator::Generator(Plan plan)
    : plan_(std::move(plan)), skel_(open_skeleton(gen__open, gen__destroy, "the generator's")),
      sync_(std::make_unique<Sync>())
{
    if (plan_.templates.empty() || plan_.templates.size() > TS_GEN_MAX_SLOTS || plan_.cpus.empty())
        throw Error(exit_code::runtime, "internal error: an empty generator plan");
    ts_gen_config& c = skel_->rodata->gen_config;
    c = ts_gen_config{};
    for (std::size_t i = 0; i < plan_.templates.size(); ++i)
        c.tpl[i] = plan_.templates[i].abi;
    c.nslots = static_cast<__u32>(plan_.templates.size());
    c.nflows = plan_.flows;
    c.hdr_len = static_cast<__u32>(rewrite_len(plan_.templates));
    c.action = plan_.inject ? XDP_PASS : XDP_TX;

    load_skeleton(gen__load, *skel_, "the generator's");
    prog_fd_ = bpf_program__fd(skel_->progs.trafstat_gen);

    // The probe: one live frame through a program that drops it. Kernels
    // before 5.18 refuse the flag (and the batch_size field) with EINVAL;
    // if the same run without live frames works, that is the reason.
    const std::vector<std::uint8_t>& frame = plan_.templates.front().frame;
    xdp_md ctx{};
    ctx.data_end = static_cast<__u32>(frame.size());
    ctx.ingress_ifindex = static_cast<__u32>(plan_.ifindex);
    LIBBPF_OPTS(bpf_test_run_opts, probe, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = 1, .flags = kLiveFrames,
                .batch_size = plan_.batch);
    const int probe_fd = bpf_program__fd(skel_->progs.trafstat_gen_probe);
    if (bpf_prog_test_run_opts(probe_fd, &probe) != 0) {
        const int err = errno;
        if (err == EPERM)
            throw Error(exit_code::privileges, "permission denied running the generator: trafstat needs CAP_BPF and "
                                               "CAP_NET_ADMIN");
        if (err == ENODEV || err == ENXIO)
            throw Error(exit_code::no_interface, fmt::format("no such interface: {}", plan_.ifname));
        if (err == EINVAL || err == EOPNOTSUPP || err == kEnotsupp) {
            LIBBPF_OPTS(bpf_test_run_opts, plain, .data_in = frame.data(),
                        .data_size_in = static_cast<__u32>(frame.size()), .ctx_in = &ctx, .ctx_size_in = sizeof ctx,
                        .repeat = 1);
            if (bpf_prog_test_run_opts(probe_fd, &plain) == 0)
                throw Error(exit_code::unsupported,
                            fmt::format("this kernel cannot send frames with BPF_PROG_RUN: live-frames mode "
                                        "(BPF_F_TEST_XDP_LIVE_FRAMES, Linux 5.18+) refused: {}",
                                        errno_text(err)));
        }
        throw Error(exit_code::runtime, run_error(err, plan_.ifname));
    }
}

Generator::~Generator() = default;

Totals Generator::read() const
{
    Totals t;
    for (const ts_gen_stats& s :
         read_per_cpu<ts_gen_stats>(bpf_map__fd(skel_->maps.gen_stats), 0, "the generator's counters")) {
        t.aborted += s.aborted;
        for (std::size_t i = 0; i < TS_GEN_MAX_SLOTS; ++i) {
            t.slot_packets[i] += s.packets[i];
            t.slot_bytes[i] += s.bytes[i];
            t.packets += s.packets[i];
            t.bytes += s.bytes[i];
        }
    }
    return t;
}

// With a count, takes up to `chunk` frames of what is left; false when none is.
bool Generator::claim(std::uint64_t& chunk)
{
    if (!plan_.count)
        return true;
    std::uint64_t left = remaining_.load();
    for (;;) {
        if (left == 0)
            return false;
        const std::uint64_t take = std::min(chunk, left);
        if (remaining_.compare_exchange_weak(left, left - take)) {
            chunk = take;
            return true;
        }
    }
}

void Generator::worker(std::size_t index)
{
    auto fail = [this](std::string why) {
        std::lock_guard lock(sync_->mutex);
        if (failure_.empty())
            failure_ = std::move(why);
        stop_ = true;
    };
    const int cpu = plan_.cpus[index];
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (int err = pthread_setaffinity_np(pthread_self(), sizeof set, &set); err) {
        fail(fmt::format("cannot pin a sending thread to CPU {}: {}", cpu, errno_text(err)));
        return;
    }

    const std::vector<std::uint8_t>& frame = plan_.templates.front().frame;
    xdp_md ctx{};
    ctx.data_end = static_cast<__u32>(frame.size());
    ctx.ingress_ifindex = static_cast<__u32>(plan_.ifindex);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .flags = kLiveFrames, .batch_size = plan_.batch);

    // This thread's share of the rate, or of the count.
    const auto threads = static_cast<std::uint64_t>(plan_.cpus.size());
    const double rate = plan_.rate_pps ? *plan_.rate_pps / static_cast<double>(threads) : 0;
    std::uint64_t chunk_size = kChunk;
    if (rate > 0)
        chunk_size = static_cast<std::uint64_t>(std::max(1.0, std::round(rate * kPaceIntervalS)));
    else if (plan_.count)
        chunk_size = (*plan_.count + threads - 1) / threads;
    chunk_size = std::clamp<std::uint64_t>(chunk_size, 1, kChunk);
    std::uint64_t sent = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
        if (rate > 0) {
            const auto due = sync_->start + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(static_cast<double>(sent) / rate));
            if (sync_->deadline && due >= *sync_->deadline)
                break;
            // Sleep in short steps so that a stop is seen soon.
            while (Clock::now() < due && !stop_.load(std::memory_order_relaxed))
                std::this_thread::sleep_until(std::min(due, Clock::now() + std::chrono::milliseconds(50)));
            if (stop_.load(std::memory_order_relaxed))
                break;
        }
        if (sync_->deadline && Clock::now() >= *sync_->deadline)
            break;
        std::uint64_t chunk = chunk_size;
        if (!claim(chunk))
            break;
        opts.repeat = static_cast<int>(chunk);
        if (bpf_prog_test_run_opts(prog_fd_, &opts) != 0) {
            const int err = errno;
            // A stop cuts the run short on purpose; any other signal (job
            // control) too: what it sent is counted, and a count's
            // shortfall is sent at the end of run().
            if (err == EINTR) {
                sent += chunk;
                continue;
            }
            fail(run_error(err, plan_.ifname));
            break;
        }
        sent += chunk;
    }
}

double Generator::run(const std::function<bool(double)>& keep_going)
{
    Sync& s = *sync_;
    remaining_ = plan_.count.value_or(0);
    s.start = Clock::now();
    if (plan_.duration_s)
        s.deadline =
            s.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*plan_.duration_s));
    auto elapsed = [&s] { return std::chrono::duration<double>(Clock::now() - s.start).count(); };

    // Workers never take SIGINT/SIGTERM (the main thread does) but take
    // kWakeSignal, which ends a run early when it is time to stop.
    struct sigaction wake {};
    wake.sa_handler = on_wake;
    sigemptyset(&wake.sa_mask);
    sigaction(kWakeSignal, &wake, nullptr);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    sigset_t wake_set;
    sigemptyset(&wake_set);
    sigaddset(&wake_set, kWakeSignal);
    pthread_sigmask(SIG_UNBLOCK, &wake_set, nullptr);
    std::vector<std::thread> threads;
    running_ = static_cast<unsigned>(plan_.cpus.size());
    for (std::size_t i = 0; i < plan_.cpus.size(); ++i) {
        threads.emplace_back([this, i] {
            worker(i);
            std::lock_guard lock(sync_->mutex);
            if (--running_ == 0)
                sync_->done.notify_all();
        });
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);

    {
        std::unique_lock lock(s.mutex);
        while (running_ > 0) {
            auto wake_at = Clock::now() + std::chrono::milliseconds(100);
            if (s.deadline && !stop_)
                wake_at = std::min(wake_at, *s.deadline);
            s.done.wait_until(lock, wake_at);
            if (running_ == 0)
                break;
            lock.unlock();
            if (!keep_going(elapsed()) || (s.deadline && Clock::now() >= *s.deadline))
                stop_ = true;
            // Until every worker has seen it: a worker may be just entering a run.
            if (stop_)
                for (auto& t : threads)
                    pthread_kill(t.native_handle(), kWakeSignal);
            lock.lock();
        }
    }
    for (auto& t : threads)
        t.join();

    // A count cut short by interrupted runs: send the rest from here.
    if (plan_.count && failure_.empty() && !stop_) {
        const xdp_md ctx_init = [&] {
            xdp_md c{};
            c.data_end = static_cast<__u32>(plan_.templates.front().frame.size());
            c.ingress_ifindex = static_cast<__u32>(plan_.ifindex);
            return c;
        }();
        xdp_md ctx = ctx_init;
        const auto& frame = plan_.templates.front().frame;
        for (int tries = 0; tries < 100 && keep_going(elapsed()); ++tries) {
            const Totals t = read();
            if (t.packets + t.aborted >= *plan_.count)
                break;
            LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                        .data_size_in = static_cast<__u32>(frame.size()), .ctx_in = &ctx, .ctx_size_in = sizeof ctx,
                        .repeat =
                            static_cast<int>(std::min<std::uint64_t>(*plan_.count - t.packets - t.aborted, kChunk)),
                        .flags = kLiveFrames, .batch_size = plan_.batch);
            if (bpf_prog_test_run_opts(prog_fd_, &opts) != 0 && errno != EINTR) {
                failure_ = run_error(errno, plan_.ifname);
                break;
            }
        }
    }
    return elapsed();
}

}  // namespace trafstat::gen
