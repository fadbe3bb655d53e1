// NDJSON output. Schema documented in docs/json.md; names listed there are stable.
#pragma once

#include "output/report.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace trafstat {

// {"type":"interval","time":"2026-11-23T10:00:01.000Z","interval_s":1.0,
//  "interfaces":[{"name":"veth0","hook":"xdp","mode":"native",
//                 "classes":{"all":{"packets":n,"bytes":n,"pps":x,"bps":x},...},
//                 "l4_by_ip":{"ipv4":{"tcp":{...},...},"ipv6":{...}}}],
//  "total":{"classes":{...}}}
nlohmann::ordered_json interval_json(const IntervalReport& r);
// {"type":"summary","duration_s":x,"interfaces":[{... "classes":{"all":{"packets":n,"bytes":n},...}}],"total":{...}}
nlohmann::ordered_json summary_json(const SummaryReport& r);
// Receives a line's text in pieces, in order.
using JsonSink = std::function<void(std::string_view)>;
// The summary line as to_line(summary_json(r)) makes it, byte for byte, handed
// to `out` in pieces of at most one view row: a summary holds every row since
// start (200 000 flows make 150 MB of JSON), and is never built whole.
void write_summary_json(const SummaryReport& r, const JsonSink& out);
// One compact line, no trailing newline.
std::string to_line(const nlohmann::ordered_json& j);
// `text` (compact JSON) with every float written in exponent form ("1e-06") in
// plain decimals ("0.000001"): docs/json.md promises floats with a decimal point.
std::string plain_decimals(std::string text);
// ISO-8601 UTC with milliseconds: 2026-11-23T10:00:01.123Z
std::string iso8601_utc(std::chrono::system_clock::time_point t);

}  // namespace trafstat
