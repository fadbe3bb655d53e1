// The full-screen live view (--tui, docs/tui.md): what to draw, as lines of
// text, from interval reports and the view state. Pure: no curses, no BPF, no
// I/O, so it is unit-tested without a terminal. The curses driver
// (output/tui_screen.hpp) draws these lines and feeds keys back.
#pragma once

#include "base/names.hpp"
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

enum class TuiView { talkers, ports, flows, drops };
// A view is named as its table and its option (--talkers, --ports, --flows, --drops).
inline constexpr auto kTuiViewNames = name_table<TuiView>({
    {TuiView::talkers, "talkers"},
    {TuiView::ports, "ports"},
    {TuiView::flows, "flows"},
    {TuiView::drops, "drops"},
});

// How a line is drawn: title and status in reverse video, headings bold.
enum class TuiStyle { plain, title, heading, status };

struct TuiLine {
    std::string text;  // UTF-8 (block characters) or ASCII; never wider than the screen
    TuiStyle style = TuiStyle::plain;
    friend bool operator==(const TuiLine&, const TuiLine&) = default;
};

// What a key did.
enum class TuiAction { none, redraw, quit };

// Keys that are not characters, as TuiModel::key takes them: the curses
// driver maps its KEY_UP... to these (beyond every character code).
namespace tui_key {
inline constexpr int up = 0x110000;
inline constexpr int down = up + 1;
inline constexpr int page_up = up + 2;
inline constexpr int page_down = up + 3;
inline constexpr int home = up + 4;
inline constexpr int end = up + 5;
}  // namespace tui_key

// The views the run has (--talkers/--ports/--flows, and --drops).
struct TuiViews {
    bool talkers = false, ports = false, flows = false;
    bool drops = false;
};

// Intervals of `all` bps kept per attachment for the sparkline.
inline constexpr std::size_t k_tui_history = 120;

class TuiModel {
public:
    // utf8: block characters (▁..█) for the sparkline; ASCII otherwise.
    // sort: the initial order (--sort). interval_s: the nominal interval, shown.
    // talkers_by: the initial side talkers are ordered by (--talkers-by).
    TuiModel(TuiViews views, SortKey sort, double interval_s, bool utf8, TalkerSide talkers_by = TalkerSide::total);

    // A new interval: its `all` rate joins the history; it is shown unless paused.
    void push(IntervalReport report);
    // A key: a character, or one of tui_key (the driver maps curses' special
    // keys). Changes the state. Scrolling keys move within the rows and the
    // page size of the last lines() call.
    TuiAction key(int ch);
    // The screen: exactly `height` lines (fewer only when height < 1), none wider
    // than `width` columns. Title first, status line (or the help) last.
    // Not const: the scroll offset is clamped to what this size shows (rows
    // that went away, a taller screen), and the page size kept for PgUp/PgDn.
    std::vector<TuiLine> lines(int width, int height);

    TuiView view() const { return view_; }
    SortKey sort() const { return sort_; }
    TalkerSide talkers_by() const { return talkers_by_; }
    // Index of the first table row shown (0: the top).
    std::size_t scroll() const { return scroll_; }
    bool paused() const { return paused_; }
    bool help() const { return help_; }
    const std::string& message() const { return message_; }

private:
    using History = std::vector<std::pair<std::string, std::deque<double>>>;  // title -> bps, oldest first
    struct Frame {
        std::optional<IntervalReport> report;
        History history;
        DropTotals drops{0};  // --drops: since start, per reason and class (no flows: they are per interval)
    };
    std::vector<std::string> footer(std::size_t width) const;
    // The drops view's body: per interface its drops and link counters, then
    // the scrolled table of dropped flows, in `room` lines.
    void drops_body(std::vector<TuiLine>& body, std::size_t width, std::size_t room);

    TuiViews views_;
    SortKey sort_;
    TalkerSide talkers_by_;
    double interval_s_;
    bool utf8_;
    TuiView view_ = TuiView::flows;
    bool paused_ = false;
    bool help_ = false;
    std::string message_;         // until the next key
    std::size_t scroll_ = 0;      // first table row shown
    std::size_t page_ = 0;        // table rows the last lines() had room for
    std::size_t max_scroll_ = 0;  // the last first row that the last lines() could show
    Frame latest_;                // always current
    Frame shown_;                 // what is drawn: latest_, or the frame the pause froze
};

// Helpers, exposed for tests.
std::string_view view_name(TuiView view);  // "talkers", "ports", "flows", "drops"
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
