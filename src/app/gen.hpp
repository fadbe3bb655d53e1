// `trafstat gen IFACE`: options → plan (interface, frames, CPUs) → send →
// progress on stderr → summary on stdout.
#pragma once

#include "cli/options.hpp"

namespace trafstat {

// Returns the exit code; setup failures throw Error (main() prints them).
int run_gen(const GenConfig& config);

}  // namespace trafstat
