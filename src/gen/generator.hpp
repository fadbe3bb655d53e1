// The sending side of `trafstat gen`: loads bpf/gen.bpf.c with the frame
// templates, checks once that the kernel takes live frames, then runs one
// thread per CPU, each pinned and issuing its own BPF_PROG_RUN calls in
// live-frames mode (repeat = a chunk of frames; the kernel runs them in
// batches of `batch` and sends or injects them), paced for --rate, stopped
// by --count (exactly: the last chunk is smaller), --duration or stop().
//
// What was sent is what the program counted, per CPU: exact whatever ended
// the run, a signal included.
#pragma once

#include "bpf/skeleton.hpp"
#include "gen/frame.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct gen;  // generated skeleton (gen.skel.h), global namespace

namespace trafstat::gen {

struct Plan {
    std::string ifname;
    int ifindex = 0;
    std::vector<Template> templates;  // the --proto list, in order (slots)
    std::size_t frame_size = 0;
    std::uint32_t flows = 1;
    bool inject = false;  // XDP_PASS instead of XDP_TX
    std::optional<std::uint64_t> count;
    std::optional<double> duration_s;
    std::optional<double> rate_pps;
    std::vector<int> cpus;  // one thread per entry, pinned to it
    std::uint32_t batch = 64;
};

// What the program counted, summed over CPUs.
struct Totals {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::uint64_t aborted = 0;
    std::array<std::uint64_t, TS_GEN_MAX_SLOTS> slot_packets{};
    std::array<std::uint64_t, TS_GEN_MAX_SLOTS> slot_bytes{};
};

class Generator {
public:
    // Loads the program (Error: exit_code::load or ::privileges) and probes
    // live frames on the interface (Error: exit_code::unsupported when the
    // kernel lacks them).
    explicit Generator(Plan plan);
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;
    ~Generator();

    // Sends until the plan's count or duration, or until `keep_going`
    // (called about ten times a second on the calling thread, with the
    // seconds since the start) returns false. Returns the seconds the
    // sending took. A BPF_PROG_RUN that fails stops every thread: failure()
    // then says why, and read() still has what was sent.
    double run(const std::function<bool(double elapsed_s)>& keep_going);

    Totals read() const;
    const std::string& failure() const { return failure_; }

private:
    void worker(std::size_t index);
    bool claim(std::uint64_t& chunk);

    Plan plan_;
    Skeleton<::gen> skel_;
    int prog_fd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> remaining_{0};  // with a count: frames not yet claimed by a thread
    std::atomic<unsigned> running_{0};
    std::string failure_;  // the first worker failure, under Sync::mutex while threads run
    struct Sync;
    std::unique_ptr<Sync> sync_;
};

}  // namespace trafstat::gen
