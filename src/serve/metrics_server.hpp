// The agent's HTTP endpoint (cpp-httplib): /metrics, /status and /healthz,
// each answered by a function the agent gives. docs/metrics.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace trafstat {

// The agent's default --metrics: loopback only; another address only when asked.
inline constexpr std::string_view kDefaultMetricsAddress = "127.0.0.1";
inline constexpr std::uint16_t kDefaultMetricsPort = 9469;

struct ListenAddress {
    std::string address;  // an IPv4 or IPv6 address (without brackets), or a host name
    std::uint16_t port = kDefaultMetricsPort;
    friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// "127.0.0.1:9469", "[::1]:9469", "localhost:9469"; without ":PORT", the
// default port. Anything else (an unbracketed IPv6 address, a port that is
// not 1..65535) is a usage error (exit_code::usage) naming what is wrong.
ListenAddress parse_listen_address(std::string_view text);
// The inverse: "127.0.0.1:9469", "[::1]:9469".
std::string format_listen_address(const ListenAddress& a);

// What each path answers. A function may throw: the request gets 500 and the
// exception's message, the server carries on. Calls are serialised (one at
// a time), so the functions need no locking of their own.
struct MetricsHandlers {
    std::function<std::string()> metrics;  // text exposition format 0.0.4
    std::function<std::string()> status;   // JSON, as `trafstat status --json`
    std::function<std::string()> healthz = [] { return std::string("ok\n"); };
};

// Binds in the constructor, so a bad address fails before anything else
// starts: Error(exit_code::address) naming it. GET (and HEAD) only; any
// other path or method gets 404. Port 0 binds any free port (tests), port()
// tells which. Requests are bounded in size, time and concurrency
// (docs/metrics.md, "Limits"); no thread runs before start().
class MetricsServer {
public:
    MetricsServer(std::string address, std::uint16_t port, MetricsHandlers handlers);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Serves on a thread of its own from now on; returns once it accepts.
    void start();
    // Stops accepting, finishes the requests under way and joins the thread.
    // Idempotent; the destructor calls it.
    void stop();

    std::uint16_t port() const { return port_; }
    // "127.0.0.1:9469", with the port actually bound.
    std::string address() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string address_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

}  // namespace trafstat
