// The full-screen live view (--tui, docs/tui.md): what to draw, as lines of
// text, from interval reports and the view state. Pure: no curses, no BPF, no
// I/O, so it is unit-tested without a terminal. The curses driver
// (output/tui_screen.hpp) draws these lines and feeds keys back.
#pragma once

#include "output/report.hpp"
#include "stats/views.hpp"

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trafstat {

enum class TuiView { talkers, ports, flows };

// How a line is drawn: title and status in reverse video, headings bold.
enum class TuiStyle { plain, title, heading, status };

struct TuiLine {
    std::string text;  // UTF-8 (block characters) or ASCII; never wider than the screen
    TuiStyle style = TuiStyle::plain;
    friend bool operator==(const TuiLine&, const TuiLine&) = default;
};

// What a key did.
enum class TuiAction { none, redraw, quit };

// The views the run has (--talkers/--ports/--flows).
struct TuiViews {
    bool talkers = false, ports = false, flows = false;
};

// Intervals of `all` bps kept per attachment for the sparkline.
inline constexpr std::size_t k_tui_history = 120;

class TuiModel {
public:
    // utf8: block characters (▁..█) for the sparkline; ASCII otherwise.
    // sort: the initial order (--sort). interval_s: the nominal interval, shown.
    TuiModel(TuiViews views, SortKey sort, double interval_s, bool utf8);

    // A new interval: its `all` rate joins the history; it is shown unless paused.
    void push(IntervalReport report);
    // A key (a character; curses special keys are the driver's). Changes the state.
    TuiAction key(int ch);
    // The screen: exactly `height` lines (fewer only when height < 1), none wider
    // than `width` columns. Title first, status line last.
    std::vector<TuiLine> lines(int width, int height) const;

    TuiView view() const { return view_; }
    SortKey sort() const { return sort_; }
    bool paused() const { return paused_; }
    bool help() const { return help_; }
    const std::string& message() const { return message_; }

private:
    using History = std::vector<std::pair<std::string, std::deque<double>>>;  // title -> bps, oldest first
    struct Frame {
        std::optional<IntervalReport> report;
        History history;
    };
    TuiViews views_;
    SortKey sort_;
    double interval_s_;
    bool utf8_;
    TuiView view_ = TuiView::flows;
    bool paused_ = false;
    bool help_ = false;
    std::string message_;  // until the next key
    Frame latest_;         // always current
    Frame shown_;          // what is drawn: latest_, or the frame the pause froze
};

// Helpers, exposed for tests.
std::string_view sort_name(SortKey key);          // "bps", "pps", "bytes", "packets"
std::string_view view_name(TuiView view);         // "talkers", "ports", "flows"
// `values` as one character each, scaled to their maximum (0 -> lowest bar;
// all zero -> all lowest); the last `columns` values when there are more.
std::string sparkline(const std::deque<double>& values, std::size_t columns, bool utf8);
// The packet-size histogram on one line: " 0-64 ▇92% 65-127 ▁8% ...".
std::string size_histogram_bars(const ClassCounters& c, bool utf8);
// Display columns of UTF-8 text (every character used here is one column wide).
std::size_t text_columns(std::string_view text);
// The first `columns` columns of `text`, padded with spaces to exactly `columns` when pad.
std::string fit_columns(std::string_view text, std::size_t columns, bool pad = false);

}  // namespace trafstat
