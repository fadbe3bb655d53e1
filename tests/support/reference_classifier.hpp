// The reference classifier of the differential test (tests/bpf/differential_test.cpp):
// what trafstat must count for one Ethernet frame, written from the contract
// (docs/classes.md, docs/tables.md, include/trafstat/abi.h) alone. It shares no
// code with the BPF parser (bpf/parse.bpf.h) and is not a translation of it, so
// that a disagreement between the two points at a bug in one of them. Pure: no
// libbpf, no privileges.
#pragma once

#include "stats/flows.hpp"

#include <trafstat/abi.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace trafstat::test {

struct ReferenceVerdict {
    ts_class l3 = TS_CLASS_MALFORMED;  // one of TS_L3_FIRST..TS_L3_LAST
    std::optional<ts_class> l4;        // IPv4 and IPv6 only: one of TS_L4_FIRST..TS_L4_LAST
    bool vlan = false;
    bool pppoe = false;
    // The flows table's key (5-tuple); none when the IP header is unreadable
    // (the packet counts as table_unkeyed) or the frame is not IP.
    std::optional<FlowKey> key;
    std::uint8_t tcp_flags = 0;  // the TCP header's flags byte (FIN..CWR), tcp only
    std::uint64_t packets = 1;
    std::uint64_t bytes = 0;
    // A tunnel's super-packet repeats the inner headers too: for VXLAN, Geneve,
    // GRE, IPIP and SIT (docs/classes.md), where the inner L4 header ends; 0
    // for no tunnel, or one whose inner headers cannot be read. Not compared.
    std::size_t tunnel_headers = 0;
    // Where the L4 header ends (L2 + L3 + L4 header bytes), for the classes
    // with a header (tcp, udp, icmp, icmpv6, sctp, gre, esp), what each segment
    // of a GSO super-packet repeats; 0 for the others. Not compared: the
    // program reports only the bytes it makes (as_super_packet()).
    std::size_t l4_end = 0;

    friend bool operator==(const ReferenceVerdict& a, const ReferenceVerdict& b);
};

// One frame as the program sees it (`frame`, its bytes from the destination
// MAC) and the bytes it counts for it (`wire_bytes`).
ReferenceVerdict classify_frame(std::span<const std::uint8_t> frame, std::uint64_t wire_bytes);

// The same frame as a TC GSO/GRO super-packet of `segments` (> 1) segments:
// that many packets, and the headers once more for each segment after the
// first, a tunnel's inner headers included (docs/classes.md, Bytes and
// packets per hook).
ReferenceVerdict as_super_packet(ReferenceVerdict v, std::uint32_t segments);

// "ipv4/udp vlan key 4 192.0.2.1:1234 > 198.51.100.2:53 proto 17 flags 0x00 bytes 60"
std::string describe(const ReferenceVerdict& v);

}  // namespace trafstat::test
