// The counting epoch (abi.h): the program counts into the half of the
// current epoch, its counters and its table slots alike. Closing an epoch
// moves the program on to the next and waits until no run can still count
// into the closed one, whose half is then quiescent and exact.
#pragma once

#include <cstdint>

namespace trafstat {

class CountingEpoch {
public:
    // `epoch`: the program's control.counting_epoch. Epoch 0 would match the
    // zeroed slots of a fresh table: counting starts at 1.
    explicit CountingEpoch(std::uint32_t* epoch);
    // A pinned program's epoch, counting since its attach: goes on from where it is.
    static CountingEpoch resume(std::uint32_t* epoch);

    // The epoch being counted now.
    std::uint32_t current() const;
    // Waits until no program run that started before the call can still be
    // counting (into any epoch).
    static void wait_for_running_programs();
    // Moves counting on and returns the closed epoch. `quiescent`: the caller
    // knows no program is running (replay between runs); no wait.
    std::uint32_t close(bool quiescent);

private:
    CountingEpoch() = default;
    std::uint32_t* epoch_ = nullptr;
};

}  // namespace trafstat
