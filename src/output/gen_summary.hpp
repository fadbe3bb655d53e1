// `trafstat gen`'s summary, as text or as one JSON object.
// Pure: unit-tested (tests/unit/gen_frame_test.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace trafstat::gen {

struct ProtoCount {
    std::string proto;  // "udp4", ...
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

struct Summary {
    std::string ifname;
    bool inject = false;
    std::size_t frame_size = 0;
    unsigned threads = 0;
    std::uint32_t flows = 0;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    double duration_s = 0;
    bool interrupted = false;        // ended by SIGINT/SIGTERM
    std::vector<ProtoCount> protos;  // per protocol of the --proto list, in its order
};

// Rates over `seconds` (0 when seconds is 0).
double mpps(std::uint64_t packets, double seconds);
double gbps(std::uint64_t bytes, double seconds);
// Also counting what each frame costs on an Ethernet wire besides its bytes:
// preamble and start delimiter (8), inter-frame gap (12) and FCS (4).
double wire_gbps(std::uint64_t packets, std::uint64_t bytes, double seconds);

// Human-readable summary, several lines, no trailing newline.
std::string summary_text(const Summary& s);
// {"type":"gen","interface":...,"packets":n,"bytes":n,"duration_s":x,"mpps":x,"gbps":x,"wire_gbps":x,...}
nlohmann::ordered_json summary_json(const Summary& s);

}  // namespace trafstat::gen
