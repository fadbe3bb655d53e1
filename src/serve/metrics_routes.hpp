// The agent's HTTP side on an httplib::Server: its paths and their answers.
// Apart from MetricsServer (which adds the socket) so that the fuzz target
// tests/fuzz/http_fuzz.cpp drives the very same server in process.
#pragma once

#include "serve/metrics_server.hpp"

#include <httplib.h>
#include <mutex>

namespace trafstat {

// GET (and HEAD) of /metrics, /status and /healthz, each answered by its
// handler (a missing one: 404) under one_call_at_a_time; a handler that throws
// gives 500 and its message.
void install_metrics_routes(httplib::Server& server, MetricsHandlers handlers, std::mutex& one_call_at_a_time);

}  // namespace trafstat
