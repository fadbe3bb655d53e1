// `trafstat status`: every pinned attachment, as lines or one JSON object
// (the agent serves the same JSON at /status; docs/agent.md).
#pragma once

#include "stats/snapshot.hpp"

#include <string>

namespace trafstat {

std::string status_json(const StatusReport& report);
std::string status_text(const StatusReport& report);

}  // namespace trafstat
