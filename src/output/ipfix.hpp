// IPFIX (RFC 7011) messages of trafstat's flow records and exporter totals,
// and their decoding back (for tests). Pure: no sockets (ipfix_sink.hpp sends).
// The templates, their information elements and the message rules: docs/ipfix.md.
#pragma once

#include "base/names.hpp"
#include "stats/flow_records.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace trafstat::ipfix {

// The records and totals it encodes: stats/flow_records.hpp.

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
    // The sequence number of the next message: the data records sent so far, mod 2^32.
    std::uint32_t sequence() const { return sequence_; }

private:
    std::uint32_t domain_;
    std::size_t mtu_;
    double refresh_s_;
    bool templates_due_ = true;
    std::uint32_t templates_sent_at_ = 0;
    std::uint32_t sequence_ = 0;
};

// The sequence number in a message's header: with the next message's (or
// Encoder::sequence()), how many data records it holds.
std::uint32_t sequence_of(std::span<const std::uint8_t> message);

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
