#include "output/tui_screen.hpp"

#include <curses.h>
#include <fmt/format.h>
#include <langinfo.h>
#include <unistd.h>

#include <clocale>
#include <cstdlib>
#include <cstring>

namespace trafstat {

std::unique_ptr<TuiScreen> TuiScreen::open(std::string& why_not)
{
    if (!isatty(STDOUT_FILENO)) {
        why_not = "stdout is not a terminal";
        return nullptr;
    }
    if (!isatty(STDIN_FILENO)) {
        why_not = "stdin is not a terminal";
        return nullptr;
    }
    const char* term = std::getenv("TERM");
    if (!term || !*term || std::strcmp(term, "dumb") == 0) {
        why_not = term && *term ? "TERM=dumb cannot draw a screen" : "TERM is not set";
        return nullptr;
    }
    // The character set only (UTF-8 or not): numbers stay in the C locale.
    std::setlocale(LC_CTYPE, "");
    const bool utf8 = std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    // newterm, unlike initscr, returns NULL on an unknown terminal instead of exiting.
    SCREEN* screen = newterm(nullptr, stdout, stdin);
    if (!screen) {
        why_not = fmt::format("TERM={} is not a terminal curses knows", term);
        return nullptr;
    }
    set_term(screen);
    cbreak();  // keys at once; Ctrl-C still raises SIGINT (a stop, like q)
    noecho();
    nodelay(stdscr, TRUE);
    keypad(stdscr, TRUE);
    curs_set(0);
    return std::unique_ptr<TuiScreen>(new TuiScreen(screen, utf8));
}

TuiScreen::~TuiScreen()
{
    endwin();
    delscreen(static_cast<SCREEN*>(screen_));
}

int TuiScreen::width() const { return COLS; }
int TuiScreen::height() const { return LINES; }

void TuiScreen::draw(const std::vector<TuiLine>& lines)
{
    erase();
    for (std::size_t i = 0; i < lines.size() && static_cast<int>(i) < LINES; ++i) {
        const TuiLine& l = lines[i];
        const attr_t attr = l.style == TuiStyle::title || l.style == TuiStyle::status ? A_REVERSE
                            : l.style == TuiStyle::heading                           ? A_BOLD
                                                                                     : A_NORMAL;
        attrset(attr);
        // The last cell of the screen cannot be written without a scroll: ERR there is fine.
        mvaddstr(static_cast<int>(i), 0, l.text.c_str());
        attrset(A_NORMAL);
    }
    refresh();
}

std::vector<int> TuiScreen::read_keys(bool& resized)
{
    std::vector<int> keys;
    for (int ch = getch(); ch != ERR; ch = getch()) {
        if (ch == KEY_RESIZE)
            resized = true;
        else if (ch >= 0 && ch < KEY_MIN)
            keys.push_back(ch);
    }
    return keys;
}

}  // namespace trafstat
