// libFuzzer target: arbitrary bytes as what a client sends the agent's HTTP
// side, one connection's worth (keep-alive requests back to back).
//
// The bytes take the agent's own path: its front (request_arrived: a request
// is handed to a thread only once its head, or 16 KiB, has arrived) and its
// reader (BoundedStream over a Connection, here in memory: reads stop at the
// request's byte budget), then cpp-httplib's per-request entry process_request
// on the agent's routes (install_metrics_routes, as MetricsServer sets them
// up): request line, headers, body and range parsing and the path/method
// dispatch, without the cost of a socket per input. The socket itself (accept,
// timeouts, the epoll set) is the e2e tests' and the load test's.
//
// Invariants checked (a violation aborts, which libFuzzer reports as a crash):
// - every answer is an HTTP/1.1 status line with a three-digit code;
// - a request the server could read gets an answer;
// - no request reads past its budget, and one whose head does not fit in it is
//   never answered 2xx.
// Crashes, hangs and leaks are the sanitizers' and libFuzzer's job.
#include "serve/metrics_routes.hpp"
#include "serve/request_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace {

[[noreturn]] void violated(const char* what, std::string_view detail = {})
{
    std::fprintf(stderr, "http_fuzz: invariant violated: %s%s%.*s\n", what, detail.empty() ? "" : ": ",
                 static_cast<int>(std::min<std::size_t>(detail.size(), 200)), detail.data());
    std::abort();
}

// One client connection in memory: the input, then the client's end of file;
// keeps what the server writes.
class MemoryConnection final : public trafstat::Connection {
public:
    explicit MemoryConnection(std::string_view input) : input_(input) {}

    bool ready(short) const override { return true; }
    ssize_t receive(char* ptr, std::size_t size) override
    {
        const std::size_t n = std::min(size, input_.size() - position_);
        std::memcpy(ptr, input_.data() + position_, n);
        position_ += n;
        return static_cast<ssize_t>(n);
    }
    ssize_t send(const char* ptr, std::size_t size) override
    {
        output_.append(ptr, size);
        return static_cast<ssize_t>(size);
    }
    void endpoint(bool peer, std::string& ip, int& port) const override
    {
        ip = "127.0.0.1";
        port = peer ? 40000 : 9469;
    }
    int socket() const override { return -1; }

    // What the agent's front peeks at before it hands the connection to a thread.
    std::string_view waiting() const
    {
        return input_.substr(position_, std::min(input_.size() - position_, trafstat::kRequestBytes));
    }
    std::string take_output() { return std::exchange(output_, {}); }

private:
    std::string_view input_;
    std::size_t position_ = 0;
    std::string output_;
};

// process_request is the library's entry for one request on a connection
// (protected: what its own accept loop calls).
class AgentServer : public httplib::Server {
public:
    AgentServer()
    {
        set_payload_max_length(trafstat::kRequestBytes);  // as BoundedServer
        trafstat::MetricsHandlers handlers;
        handlers.metrics = [] { return std::string("# TYPE trafstat_up gauge\ntrafstat_up 1\n"); };
        // The 500 path: a handler that fails (the agent's status when the pins are gone).
        handlers.status = []() -> std::string { throw std::runtime_error("no attachment"); };
        trafstat::install_metrics_routes(*this, std::move(handlers), one_call_at_a_time_);
    }
    bool serve_one(httplib::Stream& stream, bool& connection_closed)
    {
        return process_request(stream, false, connection_closed, nullptr);
    }

private:
    std::mutex one_call_at_a_time_;
};

void check_answer(const std::string& output)
{
    constexpr std::string_view status_line = "HTTP/1.1 ";
    if (output.size() < status_line.size() + 3 || output.compare(0, status_line.size(), status_line) != 0)
        violated("an answer without an HTTP/1.1 status line", output);
    for (std::size_t i = status_line.size(); i < status_line.size() + 3; ++i)
        if (output[i] < '0' || output[i] > '9')
            violated("a status code that is not three digits", output);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static AgentServer server;
    MemoryConnection connection({reinterpret_cast<const char*>(data), size});
    // As the agent's keep-alive loop: a request is served once its head has
    // arrived (else the agent closes the connection at its deadline), until
    // the server closes or a request is bad.
    for (int request = 0; request < 100 && trafstat::request_arrived(connection.waiting()); ++request) {
        const std::string_view waiting = connection.waiting();
        // A blank line ends the head: "\r\n\r\n", or with bare LFs "\n\n" and "\n\r\n".
        const bool head_within_budget =
            waiting.find("\n\n") != std::string_view::npos || waiting.find("\n\r\n") != std::string_view::npos;
        trafstat::BoundedStream stream(connection);
        bool connection_closed = false;
        const bool served = server.serve_one(stream, connection_closed);
        if (stream.bytes_read() > trafstat::kRequestBytes)
            violated("a request read past its budget");
        const std::string output = connection.take_output();
        if (!output.empty())
            check_answer(output);
        else if (served)
            violated("a request was served without an answer");
        if (!head_within_budget && output.compare(0, 10, "HTTP/1.1 2") == 0)
            violated("a request whose head exceeds the budget was answered 2xx", output);
        if (!served || connection_closed)
            break;
    }
    return 0;
}
