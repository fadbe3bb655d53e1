// What renderers share about a report: how they name and stamp it.
#pragma once

#include "stats/report.hpp"

#include <chrono>
#include <string>

namespace trafstat {

// "veth0 xdp/native": how renderers name an attachment.
std::string attachment_title(const AttachmentReport& a);
// "14:03:59" in local time: how renderers stamp an interval.
std::string local_hms(std::chrono::system_clock::time_point t);

}  // namespace trafstat
