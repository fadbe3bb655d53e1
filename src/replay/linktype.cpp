#include "replay/linktype.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <limits>
#include <pcap/pcap.h>

namespace trafstat {
namespace {

constexpr std::size_t kEthHeader = 14;
constexpr std::size_t kSllHeader = 16;   // protocol at offset 14
constexpr std::size_t kSll2Header = 20;  // protocol at offset 0
constexpr std::uint16_t kEthIpv4 = 0x0800;
constexpr std::uint16_t kEthIpv6 = 0x86DD;

// Raw IP records: ethertype from the version nibble; anything else stays
// unknown (0) and counts as other_l3.
std::uint16_t ethertype_of_ip(std::span<const std::uint8_t> ip)
{
    if (ip.empty())
        return 0;
    switch (ip[0] >> 4) {
    case 4:
        return kEthIpv4;
    case 6:
        return kEthIpv6;
    default:
        return 0;
    }
}

std::uint32_t minus(std::uint32_t len, std::size_t header)
{
    return len > header ? len - static_cast<std::uint32_t>(header) : 0;
}

// The wire length once a synthesised Ethernet header replaces the link
// header. Saturates: a record header may claim an original length near 2^32.
std::uint32_t with_ethernet_header(std::uint32_t payload_wire_len)
{
    constexpr std::uint32_t kMax = std::numeric_limits<std::uint32_t>::max();
    return payload_wire_len > kMax - kEthHeader ? kMax : payload_wire_len + static_cast<std::uint32_t>(kEthHeader);
}

EthernetFrame synthesise(std::uint16_t ethertype, std::span<const std::uint8_t> payload, std::uint32_t payload_wire_len,
                         std::vector<std::uint8_t>& scratch)
{
    scratch.assign(kEthHeader, 0);
    scratch[12] = static_cast<std::uint8_t>(ethertype >> 8);
    scratch[13] = static_cast<std::uint8_t>(ethertype & 0xff);
    scratch.insert(scratch.end(), payload.begin(), payload.end());
    return EthernetFrame{scratch, with_ethernet_header(payload_wire_len)};
}

}  // namespace

unsigned fcs_length(std::uint32_t field)
{
    return (field & k_fcs_length_present) ? field >> 28 : 0;
}

bool linktype_supported(std::uint32_t field)
{
    if (field & k_fcs_length_present)
        field &= ~(k_fcs_length_present | k_fcs_length_bits);
    switch (field) {
    case DLT_EN10MB:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
        return true;
    default:
        return false;
    }
}

std::string linktype_name(std::uint32_t field)
{
    const auto dlt = static_cast<int>(field & 0xffff);
    const char* name = pcap_datalink_val_to_name(dlt);
    std::string type = name ? fmt::format("{} (DLT {})", name, dlt) : fmt::format("DLT {}", dlt);
    if (field <= 0xffff)
        return type;
    const std::uint32_t fcs_bits = (field & k_fcs_length_present) ? k_fcs_length_present | k_fcs_length_bits : 0;
    const std::uint32_t reserved = field & ~fcs_bits & 0xffff0000;
    std::string text = fmt::format("{:#010x} (bits 0-15: {}", field, type);
    if (reserved)
        text += fmt::format("; reserved bits {:#010x} set", reserved);
    if (fcs_bits)
        text += fmt::format("; FCS length {} (bits 26, 28-31)", fcs_length(field));
    return text + ")";
}

std::optional<EthernetFrame> to_ethernet(int dlt, std::span<const std::uint8_t> record, std::uint32_t orig_len,
                                         std::vector<std::uint8_t>& scratch)
{
    // A record never claims less than it holds.
    orig_len = std::max<std::uint32_t>(orig_len, static_cast<std::uint32_t>(record.size()));
    switch (dlt) {
    case DLT_EN10MB:
        return EthernetFrame{record, orig_len};
    case DLT_RAW:
        return synthesise(ethertype_of_ip(record), record, orig_len, scratch);
    case DLT_IPV4:
        return synthesise(kEthIpv4, record, orig_len, scratch);
    case DLT_IPV6:
        return synthesise(kEthIpv6, record, orig_len, scratch);
    case DLT_LINUX_SLL:
        if (record.size() < kSllHeader)  // malformed, counted as the Ethernet frame it stood for
            return EthernetFrame{{}, with_ethernet_header(minus(orig_len, kSllHeader))};
        return synthesise(static_cast<std::uint16_t>(record[14] << 8 | record[15]), record.subspan(kSllHeader),
                          minus(orig_len, kSllHeader), scratch);
    case DLT_LINUX_SLL2:
        if (record.size() < kSll2Header)
            return EthernetFrame{{}, with_ethernet_header(minus(orig_len, kSll2Header))};
        return synthesise(static_cast<std::uint16_t>(record[0] << 8 | record[1]), record.subspan(kSll2Header),
                          minus(orig_len, kSll2Header), scratch);
    default:
        return std::nullopt;
    }
}

}  // namespace trafstat
