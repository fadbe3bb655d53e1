// SIGINT/SIGTERM end a run cleanly: the loops poll stop_requested() and the
// report is printed before exit. A closed stdout (SIGPIPE) shows up as EPIPE.
#pragma once

#include <chrono>
#include <functional>

namespace trafstat {

void install_stop_handlers();
bool stop_requested();
// Sleeps until `until` (monotonic) or a stop signal; true when woken by a signal.
bool sleep_until(std::chrono::steady_clock::time_point until);
// Runs `start` with SIGINT, SIGTERM and SIGHUP blocked, so that threads it
// starts inherit the mask and the signals wake the calling thread's sleeps.
void without_stop_signals(const std::function<void()>& start);
// SIGHUP stops a run too (the terminal of --tui went away).
void install_hangup_handler();

}  // namespace trafstat
