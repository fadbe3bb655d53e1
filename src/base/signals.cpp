#include "base/signals.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <poll.h>
#include <pthread.h>

namespace trafstat {
namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int)
{
    g_stop = 1;
}

}  // namespace

void install_stop_handlers()
{
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a sleep returns EINTR at once
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

void install_hangup_handler()
{
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGHUP, &sa, nullptr);
}

bool stop_requested()
{
    return g_stop != 0;
}

Wake wait_until(std::chrono::steady_clock::time_point until, std::span<pollfd> fds)
{
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    Wake wake = Wake::stop;
    while (!stop_requested()) {
        // steady_clock is CLOCK_MONOTONIC on Linux/libstdc++.
        const auto now = std::chrono::steady_clock::now();
        if (now >= until) {
            wake = Wake::deadline;
            break;
        }
        const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(until - now).count();
        const timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
        const int rc = ppoll(fds.data(), fds.size(), &ts, &old);
        if (rc > 0 || (rc < 0 && errno == EINTR && !stop_requested() && !fds.empty())) {
            wake = Wake::input;
            break;
        }
        if (rc < 0 && errno != EINTR) {
            wake = Wake::failed;
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return wake;
}

bool sleep_until(std::chrono::steady_clock::time_point until)
{
    return wait_until(until) == Wake::stop;
}

std::chrono::steady_clock::time_point next_tick(std::chrono::steady_clock::time_point start,
                                                std::chrono::steady_clock::duration interval,
                                                std::chrono::steady_clock::time_point now)
{
    if (now < start)
        return start + interval;
    return start + ((now - start) / interval + 1) * interval;
}

void without_stop_signals(const std::function<void()>& start)
{
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    try {
        start();
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace trafstat
