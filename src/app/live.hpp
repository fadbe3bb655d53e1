// Wiring of a live run: resolve interfaces, load, attach, poll, report, detach.
#pragma once

#include "cli/options.hpp"

namespace trafstat {

// Runs until --count/--timeout/SIGINT/SIGTERM/closed stdout. Returns the exit
// code; setup failures throw Error (caught in main).
int run_live(const LiveConfig& config);

}  // namespace trafstat
