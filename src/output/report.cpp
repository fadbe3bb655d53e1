#include "output/report.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

namespace trafstat {

std::string attachment_title(const AttachmentReport& a)
{
    return a.mode.empty() ? fmt::format("{} {}", a.ifname, a.hook) : fmt::format("{} {}/{}", a.ifname, a.hook, a.mode);
}

std::string local_hms(std::chrono::system_clock::time_point t)
{
    const std::tm tm = fmt::localtime(std::chrono::system_clock::to_time_t(t));
    return fmt::format("{:%H:%M:%S}", tm);
}

}  // namespace trafstat
