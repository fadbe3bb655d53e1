// The packet builder checked on its own (no privileges): the packet tests are
// only as good as the frames they feed the program, so the fields the cases
// lie about (IHL, doff, fragment fields, lengths, truncation) are verified here
// byte by byte, and the checksums it fills are verified by recomputation.
#include "support/packet_builder.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string_view>

namespace trafstat::test {
namespace {

using B = PacketBuilder;

std::uint16_t be16(const Bytes& b, std::size_t at)
{
    return static_cast<std::uint16_t>(b.at(at) << 8 | b.at(at + 1));
}

std::span<const std::uint8_t> sub(const Bytes& b, std::size_t at, std::size_t n)
{
    return std::span<const std::uint8_t>(b).subspan(at, n);
}

// Sum of an L4 segment with its IPv4 pseudo header: 0 when its checksum is right.
std::uint16_t verify_l4_v4(const Bytes& f, std::size_t ip, std::size_t l4, std::uint8_t proto)
{
    Bytes p(f.begin() + static_cast<std::ptrdiff_t>(ip + 12), f.begin() + static_cast<std::ptrdiff_t>(ip + 20));
    const std::size_t len = f.size() - l4;
    p.insert(p.end(), {0, proto, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)});
    p.insert(p.end(), f.begin() + static_cast<std::ptrdiff_t>(l4), f.end());
    return inet_checksum(p);
}

std::uint16_t verify_l4_v6(const Bytes& f, std::size_t ip, std::size_t l4, std::uint8_t proto)
{
    Bytes p(f.begin() + static_cast<std::ptrdiff_t>(ip + 8), f.begin() + static_cast<std::ptrdiff_t>(ip + 40));
    const std::size_t len = f.size() - l4;
    p.insert(p.end(), {0, 0, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len), 0, 0, 0, proto});
    p.insert(p.end(), f.begin() + static_cast<std::ptrdiff_t>(l4), f.end());
    return inet_checksum(p);
}

TEST(PacketBuilder, ChecksumKnownAnswers)
{
    // RFC 1071, section 3: the example's one's complement sum is 0xddf2.
    const Bytes rfc1071 = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(inet_checksum(rfc1071), 0x220d);
    const std::string_view digits = "123456789";
    const Bytes check(digits.begin(), digits.end());
    EXPECT_EQ(crc32c(check), 0xe3069283u);  // the CRC-32C check value
}

TEST(PacketBuilder, EthernetVlanIpv4TcpLayout)
{
    const Bytes f = B().eth()
                        .vlan(300, ethertype::qinq)
                        .vlan(100)
                        .ipv4({.option_words = 2})
                        .tcp({.option_words = 3})
                        .payload(10)
                        .build();
    ASSERT_EQ(f.size(), eth_len + 2 * vlan_len + 28 + 32 + 10);
    EXPECT_EQ(be16(f, 12), ethertype::qinq);
    EXPECT_EQ(be16(f, 14) & 0x0fff, 300);
    EXPECT_EQ(be16(f, 16), ethertype::vlan);
    EXPECT_EQ(be16(f, 18) & 0x0fff, 100);
    EXPECT_EQ(be16(f, 20), ethertype::ipv4);
    const std::size_t ip = 22, tcp = ip + 28;
    EXPECT_EQ(f[ip], 0x47);                    // version 4, IHL 7
    EXPECT_EQ(be16(f, ip + 2), 28 + 32 + 10);  // total length
    EXPECT_EQ(f[ip + 9], ipproto::tcp);
    EXPECT_EQ(inet_checksum(sub(f, ip, 28)), 0);  // header checksum verifies
    EXPECT_EQ(f[tcp + 12] >> 4, 8);               // doff
    EXPECT_EQ(verify_l4_v4(f, ip, tcp, ipproto::tcp), 0);
}

TEST(PacketBuilder, LiesAreWrittenAsAsked)
{
    const Bytes a = B().eth().ipv4({.ihl = 3}).tcp({.doff = 15}).build();
    EXPECT_EQ(a[14], 0x43);
    EXPECT_EQ(a[34 + 12] >> 4, 15);
    EXPECT_EQ(a.size(), eth_len + ipv4_len + tcp_len);

    const Bytes b = B().eth().ipv4({.version = 6}).udp().build();
    EXPECT_EQ(b[14], 0x65);

    const Bytes c =
        B().eth().ipv4({.protocol = ipproto::udp, .more_fragments = true, .fragment_offset = 185}).payload(8).build();
    EXPECT_EQ(be16(c, 14 + 6), 0x2000 | 185);
    EXPECT_EQ(c[14 + 9], ipproto::udp);

    const Bytes d = B().eth().ipv4({.dont_fragment = true}).tcp().build();
    EXPECT_EQ(be16(d, 14 + 6), 0x4000);
}

TEST(PacketBuilder, Ipv6ExtensionChainIsLinked)
{
    const Bytes f = B().eth().ipv6().hop_by_hop().dest_opts(1).routing().fragment6(100, true).ah().udp().build();
    EXPECT_EQ(be16(f, 12), ethertype::ipv6);
    EXPECT_EQ(f[14] >> 4, 6);
    std::size_t at = 14 + ipv6_len;
    EXPECT_EQ(f[14 + 6], ipproto::hop_by_hop);
    EXPECT_EQ(f[at], ipproto::dest_opts);
    at += 8;
    EXPECT_EQ(f[at], ipproto::routing);
    EXPECT_EQ(f[at + 1], 1);
    at += 16;
    EXPECT_EQ(f[at], ipproto::fragment);
    EXPECT_EQ(f[at + 2], 4);  // segment routing
    at += 24;
    EXPECT_EQ(f[at], ipproto::ah);
    EXPECT_EQ(be16(f, at + 2), 100 << 3 | 1);
    at += 8;
    EXPECT_EQ(f[at], ipproto::udp);
    EXPECT_EQ(f[at + 1], 4);  // AH: (4 + 2) * 4 = 24 bytes
    at += 24;
    EXPECT_EQ(f.size(), at + udp_len);
    EXPECT_EQ(be16(f, 14 + 4), f.size() - 14 - ipv6_len);  // payload length
    EXPECT_EQ(be16(f, at + 4), udp_len);                   // UDP length
    EXPECT_EQ(verify_l4_v6(f, 14, at, ipproto::udp), 0);
}

TEST(PacketBuilder, PppoeCarriesPppProtocolAndLength)
{
    const Bytes f = B().eth().pppoe_session(0x1234).ipv6().icmpv6().build();
    EXPECT_EQ(be16(f, 12), ethertype::pppoe_session);
    EXPECT_EQ(f[14], 0x11);
    EXPECT_EQ(be16(f, 16), 0x1234);
    EXPECT_EQ(be16(f, 18), 2 + ipv6_len + icmp_len);  // PPP protocol field + payload
    EXPECT_EQ(be16(f, 20), pppproto::ipv6);
    EXPECT_EQ(verify_l4_v6(f, 22, 22 + ipv6_len, ipproto::icmpv6), 0);

    const Bytes lcp = B().eth().pppoe_session(1, pppproto::lcp).bytes({1, 1, 0, 4}).build();
    EXPECT_EQ(be16(lcp, 20), pppproto::lcp);
}

TEST(PacketBuilder, TruncationKeepsTheClaimedLengths)
{
    const Bytes f = B().eth().ipv4().tcp().payload(100).build();
    const Bytes cut = B().eth().ipv4().tcp().cut(19).build();
    ASSERT_EQ(cut.size(), eth_len + ipv4_len + 19);
    EXPECT_EQ(be16(cut, 16), ipv4_len + tcp_len);  // the IP header still claims a full TCP header
    EXPECT_TRUE(std::equal(cut.begin(), cut.end(), B().eth().ipv4().tcp().build().begin()));

    const Bytes t = B().eth().ipv4().tcp().payload(100).truncate(20).build();
    EXPECT_EQ(t.size(), 20u);
    EXPECT_TRUE(std::equal(t.begin(), t.end(), f.begin()));
}

TEST(PacketBuilder, PaddingIsNotCountedInIpLengths)
{
    const Bytes f = B().eth().ipv4().udp().payload(4).pad_to(60).build();
    ASSERT_EQ(f.size(), 60u);
    EXPECT_EQ(be16(f, 16), ipv4_len + udp_len + 4);
    EXPECT_EQ(be16(f, 34 + 4), udp_len + 4);
    for (std::size_t i = 14 + 32; i < 60; ++i)
        EXPECT_EQ(f[i], 0) << i;
}

TEST(PacketBuilder, OtherProtocols)
{
    const Bytes sctp = B().eth().ipv6().sctp().build();
    Bytes zeroed = sctp;
    for (std::size_t k = 8; k < 12; ++k)
        zeroed[54 + k] = 0;
    const std::uint32_t crc = crc32c(sub(zeroed, 54, sctp_len));
    EXPECT_EQ(sctp[54 + 8], crc & 0xff);  // little-endian, as Linux stores it

    const Bytes gre = B().eth().ipv4().gre().ipv6().udp().build();
    EXPECT_EQ(gre[14 + 9], ipproto::gre);
    EXPECT_EQ(be16(gre, 34 + 2), ethertype::ipv6);

    const Bytes arp = B().eth().arp().build();
    EXPECT_EQ(be16(arp, 12), ethertype::arp);
    EXPECT_EQ(arp.size(), eth_len + arp_len);

    const Bytes esp = B().eth().ipv4().esp(0x1000, 7).build();
    EXPECT_EQ(esp[14 + 9], ipproto::esp);
    EXPECT_EQ(esp.size(), eth_len + ipv4_len + esp_len);
}

TEST(PacketBuilder, RefusesToGuess)
{
    EXPECT_THROW(B().eth().build(), std::logic_error);         // Ethernet announces nothing
    EXPECT_THROW(B().eth().ipv4().build(), std::logic_error);  // nor does IPv4
    EXPECT_THROW(B().eth().payload(10), std::logic_error);     // a payload has no ethertype
    EXPECT_THROW(B().eth().ipv4().arp(), std::logic_error);    // ARP has no IP protocol number
    EXPECT_THROW(B().eth().ipv4().tcp().cut(21), std::logic_error);
    EXPECT_NO_THROW(B().eth(0x1234).build());
    EXPECT_NO_THROW(B().eth().ipv4({.protocol = 200}).build());
}

}  // namespace
}  // namespace trafstat::test
