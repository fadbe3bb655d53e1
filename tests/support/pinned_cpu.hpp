// Keeps the calling thread on the CPU it runs on for the object's life: the
// keyed tables are per CPU, so a test that stays on one CPU gets one entry per
// key, and a table of N slots holds N keys.
#pragma once

#include <sched.h>

#include <algorithm>

namespace trafstat::test {

struct PinnedToOneCpu {
    cpu_set_t before{};
    PinnedToOneCpu()
    {
        sched_getaffinity(0, sizeof before, &before);
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(static_cast<unsigned>(std::max(sched_getcpu(), 0)), &one);
        sched_setaffinity(0, sizeof one, &one);
    }
    ~PinnedToOneCpu() { sched_setaffinity(0, sizeof before, &before); }
    PinnedToOneCpu(const PinnedToOneCpu&) = delete;
    PinnedToOneCpu& operator=(const PinnedToOneCpu&) = delete;
};

}  // namespace trafstat::test
