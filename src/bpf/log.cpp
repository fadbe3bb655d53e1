#include "bpf/log.hpp"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <deque>
#include <sstream>

namespace trafstat {
namespace {

bool g_verbose = false;
std::deque<std::string> g_log;  // recent libbpf lines, for error reports
constexpr std::size_t kMaxLogLines = 400;

int libbpf_print(enum libbpf_print_level level, const char* format, va_list args)
{
    // A verifier log arrives as one message of any length: size the buffer to it.
    va_list copy;
    va_copy(copy, args);
    const int n = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    if (n < 0)
        return 0;
    std::string buf(static_cast<std::size_t>(n) + 1, '\0');
    std::vsnprintf(buf.data(), buf.size(), format, args);
    buf.resize(static_cast<std::size_t>(n));

    std::istringstream lines(buf);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty())
            continue;
        g_log.push_back(line);
        if (g_log.size() > kMaxLogLines)
            g_log.pop_front();
    }
    (void)level;
    if (g_verbose)
        std::fputs(buf.c_str(), stderr);
    return 0;
}

}  // namespace

void init_libbpf_logging(bool verbose)
{
    g_verbose = verbose;
    libbpf_set_print(libbpf_print);
}

std::string libbpf_log_tail(std::size_t lines)
{
    std::string out;
    std::size_t start = g_log.size() > lines ? g_log.size() - lines : 0;
    for (std::size_t i = start; i < g_log.size(); ++i) {
        out += "  ";
        out += g_log[i];
        out += '\n';
    }
    return out;
}

}  // namespace trafstat
