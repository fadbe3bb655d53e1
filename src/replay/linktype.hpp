// Turning a captured record of any supported link type into the Ethernet
// frame the XDP program expects. Pure: unit-tested and fuzzed.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace trafstat {

// The link types replay accepts (libpcap DLT_* values).
bool linktype_supported(int dlt);
// "EN10MB (DLT 1)", "LINUX_SLL2 (DLT 276)", ... or "DLT 147" for one libpcap cannot name.
std::string linktype_name(int dlt);

struct EthernetFrame {
    std::span<const std::uint8_t> bytes;  // what the program parses (caplen bytes, header included)
    std::uint32_t wire_len = 0;           // original length as an Ethernet frame: the bytes counted
};

// Ethernet passes through. Raw IPv4/IPv6 (DLT_RAW, DLT_IPV4, DLT_IPV6) and
// Linux cooked captures (SLL, SLL2) get a synthesised 14-byte Ethernet header
// (zero MACs, the ethertype from the IP version or the cooked header), built
// in `scratch`; the original length grows by the same 14 bytes minus the
// cooked header. A cooked record too short for its own header becomes an
// empty frame (the program counts it malformed). nullopt only for a link type
// that linktype_supported() rejects.
std::optional<EthernetFrame> to_ethernet(int dlt, std::span<const std::uint8_t> record, std::uint32_t orig_len,
                                         std::vector<std::uint8_t>& scratch);

}  // namespace trafstat
