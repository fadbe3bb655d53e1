// A status line on a terminal's stderr for long runs (gen, replay): redrawn
// at most once per interval, cleared at the end. Silent when stderr is not a
// terminal, so that pipes and scripts see only the report.
#pragma once

#include <chrono>
#include <string_view>

namespace trafstat {

class Progress {
public:
    using Clock = std::chrono::steady_clock;

    // The first redraw is due `interval` after construction.
    explicit Progress(Clock::duration interval);
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    // Clears the line if one was shown.
    ~Progress();

    // Whether to redraw now: stderr is a terminal and `interval` has passed
    // since the last redraw. Build the line only then, and show() it.
    bool due();
    // Replaces the line shown with `line` (no newline).
    void show(std::string_view line);

private:
    bool enabled_;
    bool shown_ = false;
    Clock::duration interval_;
    Clock::time_point last_;
};

}  // namespace trafstat
