// What a run counts beyond the classes, and how its views are shown: one
// config shared by every front end that counts (live, replay, the agent).
#pragma once

#include "stats/flows.hpp"
#include "stats/views.hpp"

#include <trafstat/abi.h>

#include <cstdint>
#include <optional>
#include <string>

namespace trafstat {

struct CountingConfig {
    // The keyed tables (docs/tables.md), TS_TABLE_BIT()s: --talkers (keyed by
    // addresses), --ports (protocol and ports), --flows (both); each its view.
    std::uint32_t tables = 0;
    // --ip-table-size, --port-table-size, --flow-table-size: slots per CPU and interval
    TableSizes table_size = kDefaultTableSizes;
    bool histogram = false;                      // --histogram: packet sizes (on with any table)
    ViewOptions views;                           // --sort, --talkers-by, --top
    std::optional<double> idle_timeout_s = 300;  // --idle-timeout: keys idle longer leave memory

    bool counts(int table) const { return (tables & TS_TABLE_BIT(table)) != 0; }
};

// Drop statistics (docs/drops.md): --drops, --drop-flow-table-size.
struct DropsConfig {
    bool on = false;
    std::uint32_t flow_capacity = 4096;  // dropped flows per interval, all interfaces together

    friend bool operator==(const DropsConfig&, const DropsConfig&) = default;
};

// Flow export over IPFIX (docs/ipfix.md): --ipfix HOST[:PORT] or --ipfix-file FILE.
struct ExportConfig {
    std::string collector;  // "host:port", "[v6]:port" or "host" (port 4739); empty: none
    std::string file;       // an IPFIX file (RFC 5655) instead; empty: none
    double active_timeout_s = 60;
    double idle_timeout_s = 15;
    std::size_t mtu = 1400;           // the largest message
    double template_refresh_s = 600;  // templates re-sent this often over UDP
    std::uint32_t observation_domain = 1;

    bool on() const { return !collector.empty() || !file.empty(); }
};

}  // namespace trafstat
