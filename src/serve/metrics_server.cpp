#include "serve/metrics_server.hpp"

#include "serve/metrics_routes.hpp"
#include "serve/request_reader.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <string_view>
#include <vector>

namespace trafstat {
namespace {

// The HTTP side's bounds (docs/metrics.md, "Limits"). A connection costs a
// thread only while a whole request waits in it: until then (idle, or a
// request still arriving) it waits in one epoll set, for a limited time.
constexpr std::size_t kServerThreads = 4;
// Connections open at once; one more closes the one idle longest.
constexpr std::size_t kMaxConnections = 512;
// How long a request may take to arrive whole (line and headers), from the
// connection's start or the end of its previous request.
constexpr auto kArrivalTime = std::chrono::seconds(5);
// Reading a request's body, handling it and writing the answer.
constexpr auto kRequestTime = std::chrono::seconds(5);
constexpr std::size_t kRequestsPerConnection = 100;

using Clock = std::chrono::steady_clock;

// Waits until `sock` is ready for `events`, `wake` is readable (stop), or the
// deadline passes; true only in the first case.
bool wait_for(int sock, short events, int wake, Clock::time_point deadline)
{
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0)
            return false;
        pollfd fds[2] = {{sock, events, 0}, {wake, POLLIN, 0}};
        const int n = poll(fds, 2, static_cast<int>(left));
        if (n < 0 && errno == EINTR)
            continue;
        return n > 0 && !(fds[1].revents & POLLIN) && (fds[0].revents & (events | POLLHUP | POLLERR));
    }
}

void endpoint(int sock, bool peer, std::string& ip, int& port)
{
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if ((peer ? getpeername : getsockname)(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return;
    char text[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
        inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
        port = ntohs(a.sin6_port);
    } else {
        const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
        inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
        port = ntohs(a.sin_port);
    }
    ip = text;
}

// A client's socket: waits end at the request's deadline, or when the server stops (`wake`).
class SocketConnection final : public Connection {
public:
    SocketConnection(int sock, int wake) : sock_(sock), wake_(wake) {}

    bool ready(short events) const override { return wait_for(sock_, events, wake_, deadline_); }
    ssize_t receive(char* ptr, std::size_t size) override { return recv(sock_, ptr, size, 0); }
    ssize_t send(const char* ptr, std::size_t size) override { return ::send(sock_, ptr, size, MSG_NOSIGNAL); }
    void endpoint(bool peer, std::string& ip, int& port) const override { trafstat::endpoint(sock_, peer, ip, port); }
    int socket() const override { return sock_; }

private:
    int sock_, wake_;
    Clock::time_point deadline_ = Clock::now() + kRequestTime;
};

// Whether a whole request head, or more than a request may hold, waits in `sock`.
bool request_waiting(int sock)
{
    static thread_local std::string peek(kRequestBytes, '\0');
    const ssize_t n = recv(sock, peek.data(), peek.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0)
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);  // closed, or failed: let a thread see it
    return request_arrived(std::string_view(peek.data(), static_cast<std::size_t>(n)));
}

// httplib hands each accepted connection to a TaskQueue: this one runs the
// job on the accepting thread, where process_and_close_socket only files the
// connection with the server's epoll set.
class InlineQueue final : public httplib::TaskQueue {
public:
    void enqueue(std::function<void()> fn) override { fn(); }
    void shutdown() override {}
};

// The agent's server: connections wait in an epoll set (one thread) until a
// whole request head has arrived, then a thread of kServerThreads serves that
// one request; idle or slow connections are closed at their deadline, and the
// oldest when too many are open. Also closes a socket it bound but never
// listened on (httplib closes only those it listened on).
class BoundedServer final : public httplib::Server {
public:
    BoundedServer()
    {
        new_task_queue = [] { return new InlineQueue; };
        set_payload_max_length(kRequestBytes);  // a larger body: 413
        epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, std::array{epoll_event{EPOLLIN, {.fd = wake_}}}.data());
    }
    ~BoundedServer() override
    {
        stop_serving();
        if (waiter_.joinable())
            waiter_.join();
        for (std::thread& t : workers_)
            t.join();
        for (const auto& [sock, c] : waiting_)
            ::close(sock);
        for (const Ready& r : ready_)
            ::close(r.sock);
        const socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
        if (sock != INVALID_SOCKET)
            ::close(sock);
        ::close(epoll_);
        ::close(wake_);
    }
    // The threads start here, not with the server: the agent drops its
    // capabilities in between, and a thread keeps those it starts with.
    void start_threads()
    {
        waiter_ = std::thread([this] { wait_for_requests(); });
        for (std::size_t i = 0; i < kServerThreads; ++i)
            workers_.emplace_back([this] { serve_requests(); });
    }
    // Ends every wait of every connection, then stops accepting. Idempotent.
    void stop_serving()
    {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        ready_cv_.notify_all();
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(wake_, &one, sizeof one);
        stop();
    }

private:
    struct Waiting {
        Clock::time_point deadline;
        std::size_t served;
    };
    struct Ready {
        int sock;
        std::size_t served;
    };

    bool process_and_close_socket(socket_t sock) override
    {
        wait_for_request(sock, 0);
        return true;
    }

    // Files `sock` with the epoll set until its next request arrives.
    void wait_for_request(int sock, std::size_t served)
    {
        const std::lock_guard lock(mutex_);
        if (stopping_) {
            ::close(sock);
            return;
        }
        if (waiting_.size() >= kMaxConnections) {
            const auto oldest = std::min_element(waiting_.begin(), waiting_.end(), [](const auto& a, const auto& b) {
                return a.second.deadline < b.second.deadline;
            });
            ::close(oldest->first);  // leaves the epoll set with its last fd
            waiting_.erase(oldest);
        }
        waiting_[sock] = {Clock::now() + kArrivalTime, served};
        epoll_event ev{EPOLLIN | EPOLLRDHUP | EPOLLET, {.fd = sock}};
        epoll_ctl(epoll_, EPOLL_CTL_ADD, sock, &ev);
    }

    // The epoll thread: hands on the connections whose request has arrived,
    // closes those past their deadline.
    void wait_for_requests()
    {
        std::array<epoll_event, 64> events{};
        for (;;) {
            const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
            const std::lock_guard lock(mutex_);
            if (stopping_)
                return;
            for (int i = 0; i < n; ++i) {
                const int sock = events[static_cast<std::size_t>(i)].data.fd;
                const auto found = waiting_.find(sock);
                if (sock == wake_ || found == waiting_.end() || !request_waiting(sock))
                    continue;
                epoll_ctl(epoll_, EPOLL_CTL_DEL, sock, nullptr);
                ready_.push_back({sock, found->second.served});
                waiting_.erase(found);
                ready_cv_.notify_one();
            }
            const auto now = Clock::now();
            std::erase_if(waiting_, [now](const auto& w) {
                if (w.second.deadline > now)
                    return false;
                ::close(w.first);
                return true;
            });
        }
    }

    void serve_requests()
    {
        for (;;) {
            Ready r{};
            {
                std::unique_lock lock(mutex_);
                ready_cv_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
                if (stopping_)
                    return;
                r = ready_.front();
                ready_.pop_front();
            }
            SocketConnection connection(r.sock, wake_);
            BoundedStream stream(connection);
            bool closed = false;
            const bool last = r.served + 1 >= kRequestsPerConnection;
            if (process_request(stream, last, closed, nullptr) && !closed && !last) {
                wait_for_request(r.sock, r.served + 1);
            } else {
                ::shutdown(r.sock, SHUT_RDWR);
                ::close(r.sock);
            }
        }
    }

    int wake_ = eventfd(0, EFD_CLOEXEC);
    int epoll_ = epoll_create1(EPOLL_CLOEXEC);
    std::mutex mutex_;
    std::map<int, Waiting> waiting_;  // in the epoll set
    std::deque<Ready> ready_;         // a request arrived: for the next free thread
    std::condition_variable ready_cv_;
    bool stopping_ = false;
    std::thread waiter_;
    std::vector<std::thread> workers_;
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
    BoundedServer server;
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
    impl_->server.start_threads();
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
    impl_->server.stop_serving();
    thread_.join();
}

std::string MetricsServer::address() const
{
    return format_listen_address({address_, port_});
}

}  // namespace trafstat
