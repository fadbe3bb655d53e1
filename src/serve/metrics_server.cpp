#include "serve/metrics_server.hpp"

#include "serve/metrics_routes.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <mutex>

namespace trafstat {
namespace {

// Enough for a scrape, a /healthz probe and a person's curl at once: each
// keep-alive connection holds a thread until it closes.
constexpr std::size_t kServerThreads = 4;

// httplib's server closes a socket it bound only if it listened on it.
class BoundServer : public httplib::Server {
public:
    ~BoundServer() override
    {
        const socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
        if (sock != INVALID_SOCKET)
            ::close(sock);
    }
};

Error usage_error(std::string_view text, std::string_view why)
{
    return Error(exit_code::usage,
                 fmt::format("--metrics {}: {} (expected ADDR:PORT, [IPV6]:PORT or ADDR; default {}:{})", text, why,
                             kDefaultMetricsAddress, kDefaultMetricsPort));
}

bool is_host_name(std::string_view host)
{
    for (const char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'))
            return false;
    return !host.empty();
}

}  // namespace

ListenAddress parse_listen_address(std::string_view text)
{
    ListenAddress out;
    std::string_view host = text, port;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos)
            throw usage_error(text, "no ']' after the IPv6 address");
        host = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':'))
            throw usage_error(text, "':PORT' expected after ']'");
        port = rest.empty() ? rest : rest.substr(1);
        in6_addr v6{};
        if (inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1)
            throw usage_error(text, fmt::format("'{}' is not an IPv6 address", host));
        if (!rest.empty() && port.empty())
            throw usage_error(text, "no port after ':'");
    } else {
        const auto colon = text.rfind(':');
        if (colon != std::string_view::npos) {
            host = text.substr(0, colon);
            port = text.substr(colon + 1);
            if (host.find(':') != std::string_view::npos)
                throw usage_error(text, "an IPv6 address goes in brackets, as [::1]:9469");
            if (port.empty())
                throw usage_error(text, "no port after ':'");
        }
        if (!is_host_name(host))
            throw usage_error(text, host.empty() ? "no address" : fmt::format("'{}' is not an address", host));
    }
    out.address = std::string(host);
    if (!port.empty()) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value < 1 || value > 65535)
            throw usage_error(text, fmt::format("the port '{}' is not a number from 1 to 65535", port));
        out.port = static_cast<std::uint16_t>(value);
    }
    return out;
}

std::string format_listen_address(const ListenAddress& a)
{
    return a.address.find(':') != std::string::npos ? fmt::format("[{}]:{}", a.address, a.port)
                                                    : fmt::format("{}:{}", a.address, a.port);
}

void install_metrics_routes(httplib::Server& server, MetricsHandlers handlers, std::mutex& one_call_at_a_time)
{
    const auto serve = [&server, &one_call_at_a_time](const char* path, std::function<std::string()> answer,
                                                      const char* type) {
        if (!answer)
            return;
        server.Get(path, [&one_call_at_a_time, answer = std::move(answer), type](const httplib::Request&,
                                                                                 httplib::Response& res) {
            try {
                const std::lock_guard lock(one_call_at_a_time);
                res.set_content(answer(), type);
            } catch (const std::exception& e) {
                res.status = 500;
                res.set_content(fmt::format("{}\n", e.what()), "text/plain; charset=utf-8");
            } catch (...) {
                res.status = 500;
                res.set_content("unknown error\n", "text/plain; charset=utf-8");
            }
        });
    };
    serve("/metrics", std::move(handlers.metrics), "text/plain; version=0.0.4; charset=utf-8");
    serve("/status", std::move(handlers.status), "application/json");
    serve("/healthz", std::move(handlers.healthz), "text/plain; charset=utf-8");
}

struct MetricsServer::Impl {
    BoundServer server;
    std::mutex one_call_at_a_time;
    std::atomic<bool> listen_returned{false};
};

MetricsServer::MetricsServer(std::string address, std::uint16_t port, MetricsHandlers handlers)
    : impl_(std::make_unique<Impl>()), address_(std::move(address))
{
    httplib::Server& server = impl_->server;
    // SO_REUSEADDR alone: httplib's default also sets SO_REUSEPORT, and with it
    // a second agent would bind the same port and share the scrapes.
    server.set_socket_options([](socket_t sock) {
        const int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    // Headers and body go out in separate writes: without TCP_NODELAY a small
    // answer waits for the client's delayed ACK (40 ms per scrape on Linux).
    server.set_tcp_nodelay(true);
    server.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
    install_metrics_routes(server, std::move(handlers), impl_->one_call_at_a_time);

    errno = 0;
    const int bound = port == 0 ? server.bind_to_any_port(address_) : server.bind_to_port(address_, port) ? port : -1;
    if (bound < 0) {
        const int err = errno;  // bind()'s; 0 when the name did not resolve
        throw Error(exit_code::address,
                    fmt::format("cannot listen on {}: {}", format_listen_address({address_, port}),
                                err ? errno_text(err) : "no such address"),
                    "  choose another with --metrics ADDR:PORT (`ss -ltnp` lists what listens where)");
    }
    port_ = static_cast<std::uint16_t>(bound);
}

MetricsServer::~MetricsServer()
{
    stop();
}

void MetricsServer::start()
{
    if (thread_.joinable())
        return;
    thread_ = std::thread([impl = impl_.get()] {
        impl->server.listen_after_bind();
        impl->listen_returned = true;
    });
    // stop() before the server runs would not stop it: wait until it does.
    while (!impl_->server.is_running() && !impl_->listen_returned)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void MetricsServer::stop()
{
    if (!thread_.joinable())
        return;
    impl_->server.stop();
    thread_.join();
}

std::string MetricsServer::address() const
{
    return format_listen_address({address_, port_});
}

}  // namespace trafstat
