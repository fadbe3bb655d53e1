#include "base/progress.hpp"

#include <cstdio>
#include <unistd.h>

namespace trafstat {
namespace {

// Back to the start of the line, and erase it.
constexpr const char* kClearLine = "\r\033[K";

}  // namespace

Progress::Progress(Clock::duration interval)
    : enabled_(isatty(STDERR_FILENO) == 1), interval_(interval), last_(Clock::now())
{}

Progress::~Progress()
{
    if (shown_)
        std::fputs(kClearLine, stderr);
}

bool Progress::due()
{
    if (!enabled_)
        return false;
    const Clock::time_point now = Clock::now();
    if (now - last_ < interval_)
        return false;
    last_ = now;
    return true;
}

void Progress::show(std::string_view line)
{
    std::fprintf(stderr, "%s%.*s", kClearLine, static_cast<int>(line.size()), line.data());
    shown_ = true;
}

}  // namespace trafstat
