#include "output/gen_summary.hpp"

#include "gen/frame.hpp"

#include <fmt/format.h>

namespace trafstat::gen {

double mpps(std::uint64_t packets, double seconds)
{
    return seconds > 0 ? static_cast<double>(packets) / seconds / 1e6 : 0.0;
}

double gbps(std::uint64_t bytes, double seconds)
{
    return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e9 : 0.0;
}

double wire_gbps(std::uint64_t packets, std::uint64_t bytes, double seconds)
{
    return gbps(bytes + packets * kWireOverhead, seconds);
}

std::string summary_text(const Summary& s)
{
    std::string out = fmt::format("trafstat gen: {} {} frames of {} bytes ({} bytes) on {} in {:.3f} s{}\n",
                                  s.inject ? "injected" : "sent", s.packets, s.frame_size, s.bytes, s.ifname,
                                  s.duration_s, s.interrupted ? " (interrupted)" : "");
    out += fmt::format("  {:.3f} Mpps  {:.3f} Gbps of frames  {:.3f} Gbps on the wire (+{} bytes a frame: preamble, "
                       "inter-frame gap, FCS)\n",
                       mpps(s.packets, s.duration_s), gbps(s.bytes, s.duration_s),
                       wire_gbps(s.packets, s.bytes, s.duration_s), kWireOverhead);
    out += fmt::format("  {} thread{}, {} flow{}, {}", s.threads, s.threads == 1 ? "" : "s", s.flows,
                       s.flows == 1 ? "" : "s", s.inject ? "XDP_PASS (injected as received)" : "XDP_TX");
    for (const ProtoCount& p : s.protos)
        out += fmt::format("\n  {:<6} {:>14} packets {:>16} bytes", p.proto, p.packets, p.bytes);
    return out;
}

nlohmann::ordered_json summary_json(const Summary& s)
{
    nlohmann::ordered_json protos = nlohmann::ordered_json::object();
    for (const ProtoCount& p : s.protos)
        protos[p.proto] = {{"packets", p.packets}, {"bytes", p.bytes}};
    return {
        {"type", "gen"},
        {"interface", s.ifname},
        {"action", s.inject ? "pass" : "tx"},
        {"packets", s.packets},
        {"bytes", s.bytes},
        {"duration_s", s.duration_s},
        {"mpps", mpps(s.packets, s.duration_s)},
        {"gbps", gbps(s.bytes, s.duration_s)},
        {"wire_gbps", wire_gbps(s.packets, s.bytes, s.duration_s)},
        {"frame_size", s.frame_size},
        {"threads", s.threads},
        {"flows", s.flows},
        {"protos", protos},
        {"interrupted", s.interrupted},
    };
}

}  // namespace trafstat::gen
