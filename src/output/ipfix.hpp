// IPFIX (RFC 7011) messages of trafstat's flow records and exporter totals,
// and their decoding back (for tests). Pure: no sockets (ipfix_sink.hpp sends).
// The templates, their information elements and the message rules: docs/ipfix.md.
#pragma once

#include "base/names.hpp"
#include "stats/flows.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace trafstat::ipfix {

// flowEndReason (IE 136, RFC 7270 / IANA), with the IANA values.
enum class EndReason : std::uint8_t {
    idle_timeout = 1,
    active_timeout = 2,
    end_of_flow = 3,
    forced_end = 4,
    lack_of_resources = 5,
};
inline constexpr auto kEndReasonNames = name_table<EndReason>({
    {EndReason::idle_timeout, "idle-timeout", "no packet for the idle timeout"},
    {EndReason::active_timeout, "active-timeout", "still active at the active timeout (a long flow's share)"},
    {EndReason::end_of_flow, "end-of-flow", "TCP FIN or RST seen"},
    {EndReason::forced_end, "forced-end", "trafstat stopped (exit, end of the capture)"},
    {EndReason::lack_of_resources, "lack-of-resources", "the flow table was full"},
});

// One flow's share of an export interval.
struct FlowRecord {
    // ip_version 4 or 6 picks the template. ICMP/ICMPv6 (proto 1/58): sport is
    // the type and dport the code, exported as icmpTypeCodeIPv4/IPv6 by a
    // template without ports.
    FlowKey key;
    std::uint64_t start_ms = 0, end_ms = 0;  // Unix ms
    std::uint64_t packets = 0, octets = 0;   // deltas, L2 bytes (the frame without FCS, as the JSON counts)
    std::uint8_t tcp_flags = 0;
    std::uint32_t ifindex = 0;  // ingressInterface, or egressInterface when `egress`
    bool egress = false;        // flowDirection 1 (egress) / 0 (ingress)
    EndReason end_reason = EndReason::active_timeout;
    friend bool operator==(const FlowRecord&, const FlowRecord&) = default;
};

// The options record of one interface of the observation domain (scope:
// observationDomainId + ingressInterface, or egressInterface when `egress`):
// flow records + ignored = totals, and what the exporter could not send.
struct ExporterTotals {
    std::uint32_t ifindex = 0;
    bool egress = false;
    std::uint64_t ignored_packets = 0,
                  ignored_octets = 0;    // the flow table could not hold them (overflow + unkeyed + paused)
    std::uint64_t exported_records = 0;  // exportedFlowRecordTotalCount
    std::uint64_t not_sent_records = 0;  // notSentFlowTotalCount
    std::uint64_t packets_total = 0, octets_total = 0;  // IP packets and bytes seen
    friend bool operator==(const ExporterTotals&, const ExporterTotals&) = default;
};

inline constexpr std::uint16_t kDefaultPort = 4739;  // IANA, ipfix over UDP
inline constexpr std::size_t kDefaultMtu = 1400;
inline constexpr std::size_t kMessageHeaderSize = 16;

// The smallest MTU the encoder accepts: a message with every template set.
std::size_t minimum_mtu();

class Encoder {
public:
    // mtu: the largest message in bytes (at least minimum_mtu(), else
    // Error(exit_code::usage) naming it). template_refresh_s: the templates
    // are sent in the first message, after resend_templates(), and again in
    // the first message at least this long after the last (0: never again).
    Encoder(std::uint32_t observation_domain, std::size_t mtu, double template_refresh_s);

    // Messages, each at most mtu bytes, carrying the templates when due, then
    // the records in order, then the totals. export_time: Unix seconds of the
    // headers. Sequence number (RFC 7011 3.1): the data records (flow and
    // options) sent before the message in this domain, mod 2^32. No records
    // and no templates due: no message.
    std::vector<std::vector<std::uint8_t>> encode(std::span<const FlowRecord> records,
                                                  std::span<const ExporterTotals> totals, std::uint32_t export_time);

    // Puts the templates in the next message (a new file, a collector that restarted).
    void resend_templates() { templates_due_ = true; }

private:
    std::uint32_t domain_;
    std::size_t mtu_;
    double refresh_s_;
    bool templates_due_ = true;
    std::uint32_t templates_sent_at_ = 0;
    std::uint32_t sequence_ = 0;
};

// One message parsed back, templates learnt from the stream.
struct Decoded {
    std::vector<FlowRecord> records;
    std::vector<ExporterTotals> totals;
    std::uint32_t sequence = 0;
    std::uint32_t domain = 0;
    std::uint32_t export_time = 0;
    std::size_t template_records = 0;  // template and options template records in the message
};

// Messages back to back (a UDP datagram, an RFC 5655 file). Error
// (exit_code::runtime) on malformed input: a bad version or length, a set
// cut short, a data set whose template was not sent, a field of the wrong size.
std::vector<Decoded> decode(std::span<const std::uint8_t> stream);

}  // namespace trafstat::ipfix
