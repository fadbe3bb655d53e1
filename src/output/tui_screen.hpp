// The curses side of --tui (docs/tui.md): owns the terminal while it exists
// (RAII: the destructor calls endwin on every exit path, exceptions included),
// draws TuiModel's lines, reads keys without blocking. Nothing else touches curses.
#pragma once

#include "output/tui.hpp"

#include <memory>
#include <string>
#include <vector>

namespace trafstat {

class TuiScreen {
public:
    // The screen, or nullptr with the reason in `why_not` when there is no
    // usable terminal (stdin/stdout not a tty, TERM unset or unknown).
    // Sets LC_CTYPE from the environment; utf8() tells whether its charset is UTF-8.
    static std::unique_ptr<TuiScreen> open(std::string& why_not);
    ~TuiScreen();
    TuiScreen(const TuiScreen&) = delete;
    TuiScreen& operator=(const TuiScreen&) = delete;

    bool utf8() const { return utf8_; }
    int width() const;
    int height() const;
    void draw(const std::vector<TuiLine>& lines);

    // Keys typed since the last call, without waiting: characters, and the
    // arrows, PgUp/PgDn and Home/End as tui_key. `resized` is set when the
    // terminal changed size (KEY_RESIZE); other special keys are left out.
    std::vector<int> read_keys(bool& resized);
    // The terminal's input descriptor, for poll().
    int input_fd() const { return 0; }

private:
    TuiScreen(void* screen, bool utf8) : screen_(screen), utf8_(utf8) {}
    void* screen_;  // SCREEN*
    bool utf8_;
};

}  // namespace trafstat
