// NDJSON output. Schema documented in docs/json.md; names listed there are stable.
#pragma once

#include "output/report.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace trafstat {

// {"type":"interval","time":"2026-11-23T10:00:01.000Z","interval_s":1.0,
//  "interfaces":[{"name":"veth0","hook":"xdp","mode":"native",
//                 "classes":{"all":{"packets":n,"bytes":n,"pps":x,"bps":x},...},
//                 "l4_by_ip":{"ipv4":{"tcp":{...},...},"ipv6":{...}}}],
//  "total":{"classes":{...}}}
nlohmann::ordered_json interval_json(const IntervalReport& r);
// {"type":"summary","duration_s":x,"interfaces":[{... "classes":{"all":{"packets":n,"bytes":n},...}}],"total":{...}}
nlohmann::ordered_json summary_json(const SummaryReport& r);
// One compact line, no trailing newline.
std::string to_line(const nlohmann::ordered_json& j);
// ISO-8601 UTC with milliseconds: 2026-11-23T10:00:01.123Z
std::string iso8601_utc(std::chrono::system_clock::time_point t);

}  // namespace trafstat
