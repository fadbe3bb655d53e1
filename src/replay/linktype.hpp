// Turning a captured record of any supported link type into the Ethernet
// frame the XDP program expects. Pure: unit-tested and fuzzed.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace trafstat {

// A pcap file's link-type field (its header's last word): the link type in
// bits 0-15, bits 16-25 and 27 reserved, and with bit 26 set an FCS length in
// bits 28-31 (the bytes of frame check sequence ending each frame). libpcap
// gives its DLT_* from bits 0-25 and the rest apart (CaptureReader::linktype_field
// puts them together again). A plain DLT_* value is a field without those bits.
constexpr std::uint32_t k_fcs_length_present = 0x04000000;
constexpr std::uint32_t k_fcs_length_bits = 0xF0000000;
// Bytes of FCS each frame ends with, 0 when bit 26 is clear.
unsigned fcs_length(std::uint32_t field);

// The link types replay accepts (libpcap DLT_* values), with or without an FCS
// length; reserved bits set are refused.
bool linktype_supported(std::uint32_t field);
// "EN10MB (DLT 1)", "LINUX_SLL2 (DLT 276)", ... or "DLT 147" for one libpcap
// cannot name; a field with more than a link type in it is written as it is, its
// parts named: "0x7fffffff (bits 0-15: DLT 65535; reserved bits 0x0bff0000 set;
// FCS length 7 (bits 26, 28-31))".
std::string linktype_name(std::uint32_t field);

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
