// Where IPFIX messages go: a collector over UDP, or a file (RFC 5655).
// A message the sink could not deliver is counted, with its data records,
// never thrown mid-run: the exporter reports them (notSentFlowTotalCount).
#pragma once

#include "bpf/fd.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace trafstat::ipfix {

class Sink {
public:
    virtual ~Sink() = default;
    // data_records: the flow and options records the message holds.
    virtual void send(const std::vector<std::uint8_t>& message, std::size_t data_records) = 0;
    virtual std::uint64_t records_not_sent() const = 0;
};

// A collector's address: "host:port", "[v6]:port", "host" or a bare IPv6
// address (port 4739). Error(exit_code::usage) on a bad port or empty host.
struct Collector {
    std::string host;
    std::uint16_t port = 0;
    friend bool operator==(const Collector&, const Collector&) = default;
};
Collector parse_collector(const std::string& host_port);

// A connected, non-blocking UDP socket. Construction resolves the address
// (getaddrinfo); an unresolvable host is Error(exit_code::usage). A send that
// fails (EAGAIN, ENOBUFS, ECONNREFUSED after an ICMP port unreachable, ...)
// counts the message's records as not sent and keeps its errno.
class UdpSink final : public Sink {
public:
    // Messages are paced to this rate, after a first burst of this size.
    static constexpr double kPaceBytesPerSecond = 25e6;  // 200 Mbit/s, about 500 000 records/s
    static constexpr std::size_t kPaceBurstBytes = 128 * 1024;
    explicit UdpSink(const std::string& host_port);
    void send(const std::vector<std::uint8_t>& message, std::size_t data_records) override;
    std::uint64_t records_not_sent() const override { return not_sent_; }
    std::uint64_t messages_not_sent() const { return messages_not_sent_; }
    int last_error() const { return last_error_; }     // errno of the last failed send, 0: none yet
    const std::string& peer() const { return peer_; }  // "address:port", as resolved

private:
    Fd socket_;
    std::string peer_;
    std::uint64_t not_sent_ = 0;
    std::uint64_t messages_not_sent_ = 0;
    int last_error_ = 0;
    std::chrono::steady_clock::time_point next_send_{};  // when the bucket lets the next message go
};

// Messages written back to back (RFC 5655), one write per message. Error
// (exit_code::runtime) when the file cannot be created; a failed or short
// write counts the message's records as not sent, as UDP does.
class FileSink final : public Sink {
public:
    explicit FileSink(const std::string& path);
    void send(const std::vector<std::uint8_t>& message, std::size_t data_records) override;
    std::uint64_t records_not_sent() const override { return not_sent_; }
    int last_error() const { return last_error_; }

private:
    Fd file_;
    std::string path_;
    std::uint64_t not_sent_ = 0;
    int last_error_ = 0;
};

}  // namespace trafstat::ipfix
