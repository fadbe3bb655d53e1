// `trafstat replay FILE`: a capture through the counting program, reported
// like live counting (intervals binned in capture time, then the summary).
#pragma once

#include "cli/options.hpp"

namespace trafstat {

// Returns the exit code. A damaged capture still gets the report of what was
// read before its error is thrown (Error, exit_code::capture).
int run_replay(const ReplayConfig& config);

}  // namespace trafstat
