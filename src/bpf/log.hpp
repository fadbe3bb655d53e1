// libbpf's messages: kept for error reports, printed only on request (-v).
#pragma once

#include <cstddef>
#include <string>

namespace trafstat {

// Routes libbpf's messages: always kept (for error tails), printed only when verbose.
void init_libbpf_logging(bool verbose);
// The last `lines` lines libbpf printed (verifier log included).
std::string libbpf_log_tail(std::size_t lines);

}  // namespace trafstat
