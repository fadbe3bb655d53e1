// SIGINT/SIGTERM end a run cleanly: the loops poll stop_requested() and the
// report is printed before exit. A closed stdout (SIGPIPE) shows up as EPIPE.
#pragma once

#include <chrono>
#include <functional>
#include <poll.h>
#include <span>

namespace trafstat {

void install_stop_handlers();
bool stop_requested();

// Why wait_until() returned.
enum class Wake {
    stop,      // a stop signal (now or before the call)
    deadline,  // `until` came
    input,     // a descriptor is ready, or another signal (SIGWINCH) interrupted the wait
    failed,    // ppoll failed (a bad descriptor)
};
// Waits for `fds` until `until` (monotonic) or a stop signal. The stop signals
// are blocked but while ppoll waits, so one that comes just before the wait
// still ends it at once.
Wake wait_until(std::chrono::steady_clock::time_point until, std::span<pollfd> fds = {});
// Sleeps until `until` (monotonic) or a stop signal; true when woken by a signal.
bool sleep_until(std::chrono::steady_clock::time_point until);
// The first tick start + k·interval (k >= 1) after `now`: a loop that fell
// behind skips the missed ticks in one step, however short the interval.
std::chrono::steady_clock::time_point next_tick(std::chrono::steady_clock::time_point start,
                                                std::chrono::steady_clock::duration interval,
                                                std::chrono::steady_clock::time_point now);
// Runs `start` with SIGINT, SIGTERM and SIGHUP blocked, so that threads it
// starts inherit the mask and the signals wake the calling thread's sleeps.
void without_stop_signals(const std::function<void()>& start);
// SIGHUP stops a run too (the terminal of --tui went away).
void install_hangup_handler();

}  // namespace trafstat
