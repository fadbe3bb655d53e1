#include "base/error.hpp"

#include <cstdlib>
#include <cstring>
#include <fmt/format.h>

namespace trafstat {

std::string errno_text(int err)
{
    err = std::abs(err);
    const char* name = strerrorname_np(err);
    return fmt::format("{} ({})", std::strerror(err), name ? name : "?");
}

}  // namespace trafstat
