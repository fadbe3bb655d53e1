// The agent's Prometheus metrics: an AgentSnapshot in the text exposition
// format 0.0.4. The families, their labels and rules are docs/metrics.md.
#pragma once

#include "stats/snapshot.hpp"

#include <string>

namespace trafstat {

// Every family of docs/metrics.md, each with its HELP and TYPE once, before
// its samples; a family without samples (no table loaded, no attachment in
// drop mode) is left out. `scrape_duration_s`: how long collecting `s` took.
std::string metrics_text(const AgentSnapshot& s, double scrape_duration_s);

}  // namespace trafstat
