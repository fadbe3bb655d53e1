// How the agent's HTTP side reads one request, apart from its sockets and
// threads (BoundedServer, metrics_server.cpp), so that the fuzz target
// tests/fuzz/http_front_fuzz.cpp feeds it bytes the way a client does.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace trafstat {

// One request's line, headers and body together (a scrape needs a few hundred).
constexpr std::size_t kRequestBytes = 16 * 1024;

// Whether `received`, the first bytes a connection holds (at most
// kRequestBytes), are a whole request head (line and headers), or as much as a
// request may hold: then a thread may take it without waiting on the client.
bool request_arrived(std::string_view received);

// Where one request's bytes come from and its answer goes: a socket with its
// deadline (the agent), or memory (the fuzz target).
class Connection {
public:
    virtual ~Connection() = default;
    // Whether the connection is ready for `events` (POLLIN, POLLOUT) before its deadline.
    virtual bool ready(short events) const = 0;
    virtual ssize_t receive(char* ptr, std::size_t size) = 0;
    virtual ssize_t send(const char* ptr, std::size_t size) = 0;
    virtual void endpoint(bool peer, std::string& ip, int& port) const = 0;
    virtual int socket() const = 0;
};

// One request on a connection, as httplib reads it: reads stop at a budget of
// kRequestBytes (which bounds the headers' size and number too).
class BoundedStream final : public httplib::Stream {
public:
    explicit BoundedStream(Connection& connection) : connection_(connection) {}

    bool is_readable() const override;
    bool is_writable() const override;
    ssize_t read(char* ptr, size_t size) override;
    ssize_t write(const char* ptr, size_t size) override;
    void get_remote_ip_and_port(std::string& ip, int& port) const override;
    void get_local_ip_and_port(std::string& ip, int& port) const override;
    socket_t socket() const override;

    std::size_t bytes_read() const { return kRequestBytes - budget_; }

private:
    Connection& connection_;
    std::size_t budget_ = kRequestBytes;
};

}  // namespace trafstat
