// libFuzzer target: arbitrary bytes as what a client sends the agent's HTTP
// side, one connection's worth (keep-alive requests back to back).
//
// The server is the agent's own (install_metrics_routes on an httplib::Server,
// as MetricsServer sets it up), fed through an in-memory httplib::Stream and
// the library's own per-request entry point, process_request: every byte goes
// through cpp-httplib's request line, header, body and range parsing and the
// path/method dispatch, without the cost of a socket per input. The socket
// itself (accept, timeouts) is the e2e tests' and the load test's.
//
// Invariants checked (a violation aborts, which libFuzzer reports as a crash):
// - every answer is an HTTP/1.1 status line with a three-digit code;
// - a request the server could read gets an answer.
// Crashes, hangs and leaks are the sanitizers' and libFuzzer's job.
#include "serve/metrics_routes.hpp"

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

// One client connection: reads the input, keeps what the server writes.
class InputStream : public httplib::Stream {
public:
    explicit InputStream(std::string_view input) : input_(input) {}

    bool is_readable() const override { return position_ < input_.size(); }
    bool is_writable() const override { return true; }
    ssize_t read(char* ptr, std::size_t size) override
    {
        const std::size_t n = std::min(size, input_.size() - position_);
        std::memcpy(ptr, input_.data() + position_, n);
        position_ += n;
        return static_cast<ssize_t>(n);
    }
    ssize_t write(const char* ptr, std::size_t size) override
    {
        output_.append(ptr, size);
        return static_cast<ssize_t>(size);
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override
    {
        ip = "127.0.0.1";
        port = 40000;
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override
    {
        ip = "127.0.0.1";
        port = 9469;
    }
    socket_t socket() const override { return INVALID_SOCKET; }

    bool exhausted() const { return position_ >= input_.size(); }
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
    InputStream stream({reinterpret_cast<const char*>(data), size});
    // As the library's keep-alive loop: request after request until the
    // client has nothing more, the server closes, or a request is bad.
    for (int request = 0; request < 100 && !stream.exhausted(); ++request) {
        bool connection_closed = false;
        const bool served = server.serve_one(stream, connection_closed);
        const std::string output = stream.take_output();
        if (!output.empty())
            check_answer(output);
        else if (served)
            violated("a request was served without an answer");
        if (!served || connection_closed)
            break;
    }
    return 0;
}
