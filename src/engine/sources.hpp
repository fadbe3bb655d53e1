// The engine's kernel side: a loaded counting program (live), or a replay
// runner whose queued frames must have run before an epoch closes; the drop
// counter (--drops).
#pragma once

#include "bpf/drops.hpp"
#include "bpf/loader.hpp"
#include "engine/config.hpp"
#include "engine/drops.hpp"
#include "engine/source.hpp"
#include "replay/runner.hpp"

#include <optional>
#include <string>

namespace trafstat {

// What a counting program is loaded with for `config` (the hook-specific
// options are the attach layer's or the replay runner's).
LoadOptions load_options(const CountingConfig& config);

// One line for the start: the kernel memory the keyed tables take when the
// user asked for larger ones than the defaults (which take at most 64 MiB on
// any CPU count); nothing otherwise.
std::optional<std::string> table_memory_note(const CountingConfig& config);

// The refusal of keyed tables that would not fit the host: `programs` loads
// of them (one per attachment) taking more than half of `available_bytes`
// (MemAvailable), the rest left to the host. One line naming the largest size
// of the largest table asked for that would fit; nothing when they fit.
std::optional<std::string> table_memory_refusal(const CountingConfig& config, std::uint64_t available_bytes,
                                                std::size_t programs = 1);
// Throws Error(exit_code::usage) with table_memory_refusal() against this
// host's MemAvailable (/proc/meminfo); unread, nothing is refused.
void require_table_memory(const CountingConfig& config, std::size_t programs = 1);

class ProgramSource final : public CounterSource {
public:
    explicit ProgramSource(CounterProgram program) : program_(std::move(program)) {}
    HalfCounters close_epoch(TableEntries& out) override { return program_.close_epoch(out); }
    TableCapacities table_capacities() const override { return program_.table_capacities(); }

private:
    CounterProgram program_;
};

class ReplaySource final : public CounterSource {
public:
    explicit ReplaySource(const CountingConfig& config) : runner_(0, load_options(config)) {}
    ReplayRunner& runner() { return runner_; }
    // The frames queued so far run first.
    HalfCounters close_epoch(TableEntries& out) override
    {
        runner_.drain();
        return runner_.close_epoch(out);
    }
    TableCapacities table_capacities() const override { return runner_.table_capacities(); }

private:
    ReplayRunner runner_;
};

class DropCounterSource final : public DropSource {
public:
    explicit DropCounterSource(DropCounter counter) : counter_(std::move(counter)) {}
    DropDrain drain() override { return counter_.drain(); }

private:
    DropCounter counter_;
};

// One interface to watch for drops: its name and index in the caller's network namespace.
struct DropInterface {
    std::string name;
    std::uint32_t ifindex = 0;
};

// --drops (live and agent): the drop counter attached for `interfaces`, the
// running kernel's reason names, and the interfaces' netlink counters beside
// (an interface whose counters cannot be read has none). Throws Error.
DropEngine attach_drop_engine(const std::vector<DropInterface>& interfaces, const DropsConfig& config,
                              std::size_t max_flows = DropEngine::kMaxFlowsKept);

}  // namespace trafstat
