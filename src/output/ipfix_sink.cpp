#include "output/ipfix_sink.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "output/ipfix.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fmt/format.h>
#include <memory>
#include <thread>

namespace trafstat::ipfix {
namespace {

Error bad_collector(const std::string& host_port, const std::string& why)
{
    return Error(exit_code::usage, fmt::format("bad IPFIX collector '{}': {}", host_port, why));
}

std::uint16_t parse_port(const std::string& host_port, std::string_view text)
{
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || port == 0 || port > 65535)
        throw bad_collector(host_port, fmt::format("the port '{}' is not a number from 1 to 65535", text));
    return static_cast<std::uint16_t>(port);
}

std::string address_text(const sockaddr* sa)
{
    char host[NI_MAXHOST] = "?";
    char port[NI_MAXSERV] = "?";
    getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in), host, sizeof host, port,
                sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
    return sa->sa_family == AF_INET6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

}  // namespace

Collector parse_collector(const std::string& host_port)
{
    Collector c;
    std::string_view s(host_port);
    if (s.starts_with('[')) {
        const auto close = s.find(']');
        if (close == std::string_view::npos)
            throw bad_collector(host_port, "no ']' after the IPv6 address");
        c.host = s.substr(1, close - 1);
        const auto rest = s.substr(close + 1);
        if (rest.empty())
            c.port = kDefaultPort;
        else if (rest.starts_with(':'))
            c.port = parse_port(host_port, rest.substr(1));
        else
            throw bad_collector(host_port, "expected ':PORT' after ']'");
    } else if (const auto colon = s.find(':'); colon == std::string_view::npos || s.find(':', colon + 1) != s.npos) {
        c.host = s;  // a host name, or a bare IPv6 address
        c.port = kDefaultPort;
    } else {
        c.host = s.substr(0, colon);
        c.port = parse_port(host_port, s.substr(colon + 1));
    }
    if (c.host.empty())
        throw bad_collector(host_port, "no host");
    return c;
}

UdpSink::UdpSink(const std::string& host_port)
{
    const Collector c = parse_collector(host_port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(c.port);
    if (const int rc = getaddrinfo(c.host.c_str(), port.c_str(), &hints, &found); rc != 0)
        throw bad_collector(host_port, fmt::format("cannot resolve '{}': {}", c.host, gai_strerror(rc)));
    const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
    int err = 0;
    for (const addrinfo* a = found; a; a = a->ai_next) {
        Fd s(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
        if (!s.valid() || ::connect(s.get(), a->ai_addr, a->ai_addrlen) != 0) {
            err = errno;
            continue;
        }
        socket_ = std::move(s);
        peer_ = address_text(a->ai_addr);
        return;
    }
    throw bad_collector(host_port, fmt::format("cannot open a UDP socket to it: {}", errno_text(err)));
}

void UdpSink::send(const std::vector<std::uint8_t>& message, std::size_t data_records)
{
    // Paced (a token bucket): an export at an active timeout can be thousands
    // of messages, and a collector's receive buffer (nfcapd: 208 KiB by
    // default) would lose what it cannot take at once, unseen by us.
    using namespace std::chrono;
    const auto now = steady_clock::now();
    const auto burst =
        duration_cast<steady_clock::duration>(duration<double>(double(kPaceBurstBytes) / kPaceBytesPerSecond));
    next_send_ = std::max(next_send_, now - burst) +
                 duration_cast<steady_clock::duration>(duration<double>(double(message.size()) / kPaceBytesPerSecond));
    if (next_send_ > now)
        std::this_thread::sleep_for(next_send_ - now);
    const ssize_t sent = ::send(socket_.get(), message.data(), message.size(), MSG_NOSIGNAL);
    if (sent == static_cast<ssize_t>(message.size()))
        return;
    last_error_ = sent < 0 ? errno : EMSGSIZE;
    not_sent_ += data_records;
    ++messages_not_sent_;
}

FileSink::FileSink(const std::string& path) : path_(path)
{
    if (path == "-")
        throw Error(exit_code::usage, "an IPFIX file must be a file, not '-' (standard output)");
    file_ = Fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!file_.valid())
        throw Error(exit_code::runtime, fmt::format("{}: cannot create the IPFIX file: {}", path, errno_text(errno)));
}

void FileSink::send(const std::vector<std::uint8_t>& message, std::size_t data_records)
{
    const ssize_t written = ::write(file_.get(), message.data(), message.size());
    if (written == static_cast<ssize_t>(message.size()))
        return;
    last_error_ = written < 0 ? errno : ENOSPC;
    not_sent_ += data_records;
}

}  // namespace trafstat::ipfix
