#include "bpf/epoch.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace trafstat {

// Every BPF program run that started before the call has ended once it
// returns: programs run inside RCU read-side sections, and
// MEMBARRIER_CMD_GLOBAL is a synchronize_rcu(). Where membarrier is refused
// (nohz_full CPUs), a pause far longer than any program run stands in.
void CountingEpoch::wait_for_running_programs()
{
    if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
        return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

CountingEpoch::CountingEpoch(std::uint32_t* epoch) : epoch_(epoch)
{
    __atomic_store_n(epoch_, 1, __ATOMIC_SEQ_CST);
}

CountingEpoch CountingEpoch::resume(std::uint32_t* epoch)
{
    CountingEpoch e;
    e.epoch_ = epoch;
    return e;
}

std::uint32_t CountingEpoch::current() const
{
    return __atomic_load_n(epoch_, __ATOMIC_RELAXED);
}

std::uint32_t CountingEpoch::close(bool quiescent)
{
    // The program reads the epoch once per packet. The next epoch counts into
    // the other half, whose table slots all carry an older epoch: free. 0 is
    // skipped, as at the start.
    const std::uint32_t old = current();
    __atomic_store_n(epoch_, old + 1 == 0 ? 2 : old + 1, __ATOMIC_SEQ_CST);
    if (!quiescent)
        wait_for_running_programs();
    return old;
}

}  // namespace trafstat
