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
    // Home and End as terminals send them whatever TERM says (tmux and screen
    // send \E[1~ and \E[4~ where xterm's entry has \EOH and \EOF; rxvt \E[7~
    // and \E[8~; xterm outside keypad mode \E[H and \E[F): sequences the
    // entry does not define become the keys too.
    for (const char* seq : {"\033[1~", "\033[7~", "\033[H", "\033OH"})
        if (key_defined(seq) == 0)
            define_key(seq, KEY_HOME);
    for (const char* seq : {"\033[4~", "\033[8~", "\033[F", "\033OF"})
        if (key_defined(seq) == 0)
            define_key(seq, KEY_END);
    curs_set(0);
    return std::unique_ptr<TuiScreen>(new TuiScreen(screen, utf8));
}

TuiScreen::~TuiScreen()
{
    endwin();
    delscreen(static_cast<SCREEN*>(screen_));
}

int TuiScreen::width() const
{
    return COLS;
}
int TuiScreen::height() const
{
    return LINES;
}

void TuiScreen::draw(const std::vector<TuiLine>& lines)
{
    erase();
    for (std::size_t i = 0; i < lines.size() && static_cast<int>(i) < LINES; ++i) {
        const TuiLine& l = lines[i];
        const attr_t attr = l.style == TuiStyle::title || l.style == TuiStyle::status ? A_REVERSE
                            : l.style == TuiStyle::heading                            ? A_BOLD
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
        switch (ch) {
        case KEY_RESIZE:
            resized = true;
            break;
        case KEY_UP:
            keys.push_back(tui_key::up);
            break;
        case KEY_DOWN:
            keys.push_back(tui_key::down);
            break;
        case KEY_PPAGE:
            keys.push_back(tui_key::page_up);
            break;
        case KEY_NPAGE:
            keys.push_back(tui_key::page_down);
            break;
        case KEY_HOME:
        case KEY_A1:  // keypad 7
            keys.push_back(tui_key::home);
            break;
        case KEY_END:
        case KEY_C1:  // keypad 1
            keys.push_back(tui_key::end);
            break;
        default:
            if (ch >= 0 && ch < KEY_MIN)
                keys.push_back(ch);
        }
    }
    return keys;
}

}  // namespace trafstat
