// The agent's HTTP endpoint on loopback, with httplib's client: its paths,
// a handler that throws, a port in use; and the --metrics address parser.
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "serve/metrics_server.hpp"
#include "serve/request_reader.hpp"

#include <httplib.h>

#include <gtest/gtest.h>

#include <stdexcept>

namespace trafstat {
namespace {

TEST(ListenAddress, Parses)
{
    EXPECT_EQ(parse_listen_address("127.0.0.1:9469"), (ListenAddress{"127.0.0.1", 9469}));
    EXPECT_EQ(parse_listen_address("0.0.0.0:80"), (ListenAddress{"0.0.0.0", 80}));
    EXPECT_EQ(parse_listen_address("[::1]:9470"), (ListenAddress{"::1", 9470}));
    EXPECT_EQ(parse_listen_address("localhost:65535"), (ListenAddress{"localhost", 65535}));
    EXPECT_EQ(parse_listen_address("127.0.0.1"), (ListenAddress{"127.0.0.1", kDefaultMetricsPort}));
    EXPECT_EQ(parse_listen_address("[::1]"), (ListenAddress{"::1", kDefaultMetricsPort}));
}

TEST(ListenAddress, FormatsBack)
{
    EXPECT_EQ(format_listen_address({"127.0.0.1", 9469}), "127.0.0.1:9469");
    EXPECT_EQ(format_listen_address({"::1", 9469}), "[::1]:9469");
    EXPECT_EQ(format_listen_address(parse_listen_address("[2001:db8::1]:80")), "[2001:db8::1]:80");
}

TEST(ListenAddress, RefusesJunkAsUsageError)
{
    for (const char* junk :
         {"", ":9469", "::1:9469", "::1", "[::1", "[::1]9469", "[::1]:", "[10.0.0.1]:1", "127.0.0.1:", "127.0.0.1:0",
          "127.0.0.1:65536", "127.0.0.1:http", "127.0.0.1:+80", "a b:1", "host/x:1"}) {
        try {
            parse_listen_address(junk);
            ADD_FAILURE() << "accepted '" << junk << "'";
        } catch (const Error& e) {
            EXPECT_EQ(e.exit_code(), exit_code::usage) << junk;
            EXPECT_NE(std::string(e.what()).find("--metrics"), std::string::npos) << e.what();
        }
    }
}

MetricsHandlers fixed_handlers()
{
    MetricsHandlers h;
    h.metrics = [] { return std::string("trafstat_build_info{version=\"x\"} 1\n"); };
    h.status = [] { return std::string("{\"attachments\":[]}"); };
    return h;
}

// The agent's front hands a connection to a thread once a whole head (or the
// budget's worth) has arrived: a blank line with CRLF or bare LF, as httplib reads it.
TEST(RequestArrived, AtABlankLineOrTheBudget)
{
    EXPECT_TRUE(request_arrived("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(request_arrived("GET / HTTP/1.1\nHost: x\n\n"));
    EXPECT_TRUE(request_arrived("GET / HTTP/1.1\r\nX-A: b\n\r\n"));  // a fuzz find: httplib ends the head here
    EXPECT_FALSE(request_arrived(""));
    EXPECT_FALSE(request_arrived("GET / HTTP/1.1\r\nHost: x\r\n"));
    EXPECT_FALSE(request_arrived(std::string(kRequestBytes - 1, 'a')));
    EXPECT_TRUE(request_arrived(std::string(kRequestBytes, 'a')));
}

TEST(MetricsServer, ServesItsPaths)
{
    MetricsServer server("127.0.0.1", 0, fixed_handlers());
    ASSERT_NE(server.port(), 0);
    EXPECT_EQ(server.address(), "127.0.0.1:" + std::to_string(server.port()));
    server.start();
    httplib::Client client("127.0.0.1", server.port());

    const auto metrics = client.Get("/metrics");
    ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
    EXPECT_EQ(metrics->status, 200);
    EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(metrics->body, "trafstat_build_info{version=\"x\"} 1\n");

    const auto head = client.Head("/metrics");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->body, "");

    const auto status = client.Get("/status");
    ASSERT_TRUE(status);
    EXPECT_EQ(status->status, 200);
    EXPECT_EQ(status->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(status->body, "{\"attachments\":[]}");

    const auto healthz = client.Get("/healthz");
    ASSERT_TRUE(healthz);
    EXPECT_EQ(healthz->status, 200);
    EXPECT_EQ(healthz->body, "ok\n");

    const auto missing = client.Get("/metrics/x");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    const auto root = client.Get("/");
    ASSERT_TRUE(root);
    EXPECT_EQ(root->status, 404);
    const auto post = client.Post("/metrics", "x", "text/plain");
    ASSERT_TRUE(post);
    EXPECT_EQ(post->status, 404);

    server.stop();
    server.stop();  // idempotent
    EXPECT_FALSE(httplib::Client("127.0.0.1", server.port()).Get("/healthz"));
}

TEST(MetricsServer, AHandlerThatThrowsGets500AndTheServerCarriesOn)
{
    MetricsHandlers h = fixed_handlers();
    h.metrics = []() -> std::string { throw std::runtime_error("cannot read the counters map: gone"); };
    MetricsServer server("127.0.0.1", 0, std::move(h));
    server.start();
    httplib::Client client("127.0.0.1", server.port());
    for (int i = 0; i < 3; ++i) {
        const auto res = client.Get("/metrics");
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 500);
        EXPECT_EQ(res->body, "cannot read the counters map: gone\n");
    }
    const auto healthz = client.Get("/healthz");
    ASSERT_TRUE(healthz);
    EXPECT_EQ(healthz->status, 200);
}

TEST(MetricsServer, APortInUseIsExitCode9NamingTheAddress)
{
    MetricsServer first("127.0.0.1", 0, fixed_handlers());
    first.start();
    const std::string where = "127.0.0.1:" + std::to_string(first.port());
    try {
        MetricsServer second("127.0.0.1", first.port(), fixed_handlers());
        FAIL() << "a second server bound " << where;
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), exit_code::address);
        EXPECT_EQ(exit_code::address, 9);
        EXPECT_EQ(std::string(e.what()), "cannot listen on " + where + ": Address already in use (EADDRINUSE)");
    }
    // The first one still serves.
    const auto res = httplib::Client("127.0.0.1", first.port()).Get("/healthz");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
}

TEST(MetricsServer, AnAddressNotOfThisHostIsExitCode9)
{
    try {
        MetricsServer server("192.0.2.1", 9469, fixed_handlers());  // TEST-NET-1: on no host
        FAIL() << "bound 192.0.2.1";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), exit_code::address);
        EXPECT_EQ(std::string(e.what()),
                  "cannot listen on 192.0.2.1:9469: Cannot assign requested address (EADDRNOTAVAIL)");
    }
}

// The port is free again once a server is gone, started or not.
TEST(MetricsServer, ReleasesItsPort)
{
    std::uint16_t port = 0;
    {
        MetricsServer never_started("127.0.0.1", 0, fixed_handlers());
        port = never_started.port();
    }
    {
        MetricsServer again("127.0.0.1", port, fixed_handlers());
        again.start();
        ASSERT_TRUE(httplib::Client("127.0.0.1", port).Get("/healthz"));
    }
    MetricsServer third("127.0.0.1", port, fixed_handlers());
    EXPECT_EQ(third.port(), port);
}

}  // namespace
}  // namespace trafstat
