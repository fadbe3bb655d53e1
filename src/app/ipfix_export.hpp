// Flow export over IPFIX for every front end (docs/ipfix.md): a flow
// follower per attachment (engine/flow_export), one encoder and one sink (a
// collector over UDP, or a file) for the observation domain.
#pragma once

#include "engine/config.hpp"
#include "engine/flow_export.hpp"
#include "output/ipfix.hpp"
#include "output/ipfix_sink.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace trafstat {

// Now, in Unix ms and s: the exporter's clock, live (s: the messages' export time).
std::uint64_t unix_ms();
std::uint32_t unix_s();

class IpfixExporter {
public:
    // Resolves the collector or creates the file, and checks the MTU: Error
    // (exit_code::usage, ::runtime) before anything is attached.
    explicit IpfixExporter(const ExportConfig& config);

    // Follows one attachment's flows; returns its index.
    std::size_t follow(std::uint32_t ifindex, bool egress);
    // One closed epoch of attachment `i`: its flows table's entries and its
    // counters' delta, up to `now_ms` (Unix ms; replay: capture time).
    void epoch(std::size_t i, std::span<const FlowEntry> flows, const ClassCounters& delta, std::uint64_t now_ms);
    // Sends the records due since the last send, and every attachment's totals.
    void send(std::uint32_t export_time_s);
    // Ends every flow still followed (forced end), sends, and says on stderr
    // how many records went where, and how many could not be sent.
    void finish(std::uint32_t export_time_s);

    std::uint64_t records_not_sent() const { return sink_->records_not_sent(); }
    std::uint64_t records_exported() const;

private:
    std::string destination_;  // for the last line
    FlowTimeouts timeouts_;
    std::unique_ptr<ipfix::Sink> sink_;
    ipfix::Encoder encoder_;
    std::vector<FlowExport> flows_;
    std::vector<FlowRecord> due_;
};

}  // namespace trafstat
