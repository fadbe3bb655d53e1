// `trafstat agent`: serves pinned attachments (docs/agent.md).
#pragma once

#include "cli/options.hpp"

namespace trafstat {

int run_agent(const AgentConfig& config);

}  // namespace trafstat
