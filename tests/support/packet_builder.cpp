#include "packet_builder.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace trafstat::test {

namespace {

void write16(Bytes& b, std::size_t at, std::uint16_t v)
{
    b.at(at) = static_cast<std::uint8_t>(v >> 8);
    b.at(at + 1) = static_cast<std::uint8_t>(v);
}

void write8(Bytes& b, std::size_t at, std::uint8_t v)
{
    b.at(at) = v;
}

std::uint16_t clamp16(std::size_t v)
{
    return static_cast<std::uint16_t>(std::min<std::size_t>(v, 0xffff));
}

}  // namespace

std::uint16_t inet_checksum(std::span<const std::uint8_t> b, std::uint32_t seed)
{
    std::uint64_t sum = seed;
    for (std::size_t i = 0; i + 1 < b.size(); i += 2)
        sum += static_cast<std::uint32_t>(b[i] << 8 | b[i + 1]);
    if (b.size() % 2)
        sum += static_cast<std::uint32_t>(b.back() << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::uint32_t crc32c(std::span<const std::uint8_t> b)
{
    std::uint32_t crc = 0xffffffffu;
    for (std::uint8_t byte : b) {
        crc ^= byte;
        for (int k = 0; k < 8; ++k)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

std::string hex_dump(std::span<const std::uint8_t> b)
{
    std::string out;
    char buf[32];
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i % 16 == 0) {
            std::snprintf(buf, sizeof buf, "%s%04zx ", i ? "\n" : "", i);
            out += buf;
        }
        std::snprintf(buf, sizeof buf, " %02x", b[i]);
        out += buf;
    }
    return out;
}

void PacketBuilder::put16(std::uint16_t v)
{
    put8(static_cast<std::uint8_t>(v >> 8));
    put8(static_cast<std::uint8_t>(v));
}

void PacketBuilder::put32(std::uint32_t v)
{
    put16(static_cast<std::uint16_t>(v >> 16));
    put16(static_cast<std::uint16_t>(v));
}

std::size_t PacketBuilder::last_layer_offset() const
{
    if (layers_.empty())
        throw std::logic_error("PacketBuilder: no layer yet");
    return layers_.back().start;
}

void PacketBuilder::begin(Kind kind, const Ids& ids, const char* name)
{
    if (pad_start_)
        throw std::logic_error(std::string("PacketBuilder: ") + name + " after pad_to()");
    if (pending_) {
        if (!pending_->given) {
            std::optional<std::uint16_t> id;
            switch (pending_->ns) {
            case Ns::ether:
                id = ids.ether;
                break;
            case Ns::ppp:
                id = ids.ppp;
                break;
            case Ns::ip:
                id = ids.ip;
                break;
            }
            if (!id) {
                throw std::logic_error("PacketBuilder: " + pending_->owner + " cannot announce " + name +
                                       ": give its next protocol explicitly");
            }
            if (pending_->ns == Ns::ip)
                write8(buf_, pending_->offset, static_cast<std::uint8_t>(*id));
            else
                write16(buf_, pending_->offset, *id);
        }
        pending_.reset();
    }
    layers_.push_back({kind, buf_.size(), 0});
}

void PacketBuilder::expect_next(Ns ns, std::size_t offset, std::optional<std::uint16_t> given,
                                std::optional<std::uint16_t> fallback, const char* owner)
{
    pending_ = Pending{ns, offset, false, fallback, owner};
    if (given)
        next(*given);
}

PacketBuilder& PacketBuilder::next(std::uint16_t proto)
{
    if (!pending_)
        throw std::logic_error("PacketBuilder: next() without a next-protocol field pending");
    if (pending_->ns == Ns::ip)
        write8(buf_, pending_->offset, static_cast<std::uint8_t>(proto));
    else
        write16(buf_, pending_->offset, proto);
    pending_->given = true;
    return *this;
}

// ---------------------------------------------------------------- L2

PacketBuilder& PacketBuilder::eth(std::optional<std::uint16_t> type, Mac dst, Mac src)
{
    begin(Kind::eth, {.ether = ethertype::teb}, "Ethernet");
    const std::size_t start = buf_.size();
    put(dst);
    put(src);
    put16(0);
    layers_.back().header_len = eth_len;
    expect_next(Ns::ether, start + 12, type, std::nullopt, "Ethernet");
    return *this;
}

PacketBuilder& PacketBuilder::vlan(std::uint16_t vid, std::uint16_t tpid, std::optional<std::uint16_t> type)
{
    begin(Kind::vlan, {.ether = tpid}, "a VLAN tag");
    const std::size_t start = buf_.size();
    put16(static_cast<std::uint16_t>(vid & 0x0fff));  // PCP 0, DEI 0
    put16(0);
    layers_.back().header_len = vlan_len;
    expect_next(Ns::ether, start + 2, type, std::nullopt, "a VLAN tag");
    return *this;
}

PacketBuilder& PacketBuilder::pppoe_session(std::uint16_t session, std::optional<std::uint16_t> ppp_proto)
{
    begin(Kind::pppoe_session, {.ether = ethertype::pppoe_session}, "PPPoE session");
    const std::size_t start = buf_.size();
    put8(0x11);  // version 1, type 1
    put8(0x00);  // code: session data
    put16(session);
    put16(0);  // length: filled by build()
    put16(0);  // PPP protocol
    layers_.back().header_len = pppoe_len;
    expect_next(Ns::ppp, start + 6, ppp_proto, std::nullopt, "PPPoE session");
    return *this;
}

PacketBuilder& PacketBuilder::pppoe_discovery(std::uint8_t code)
{
    begin(Kind::pppoe_discovery, {.ether = ethertype::pppoe_discovery}, "PPPoE discovery");
    put8(0x11);
    put8(code);
    put16(0);       // session 0 during discovery
    put16(0);       // length: filled by build()
    put16(0x0101);  // Service-Name tag, empty: any service
    put16(0);
    layers_.back().header_len = 10;
    return *this;
}

PacketBuilder& PacketBuilder::arp(std::uint16_t op)
{
    begin(Kind::arp, {.ether = ethertype::arp}, "ARP");
    put16(1);       // Ethernet
    put16(0x0800);  // IPv4
    put8(6);
    put8(4);
    put16(op);
    put(Mac{0x02, 0, 0, 0, 0, 0x01});
    put(Ip4Addr{192, 0, 2, 1});
    put(Mac{0, 0, 0, 0, 0, 0});
    put(Ip4Addr{192, 0, 2, 2});
    layers_.back().header_len = arp_len;
    return *this;
}

PacketBuilder& PacketBuilder::lldp()
{
    begin(Kind::lldp, {.ether = ethertype::lldp}, "LLDP");
    const std::size_t start = buf_.size();
    // TLV header: 7-bit type, 9-bit length.
    put({0x02, 0x07, 0x04, 0x02, 0, 0, 0, 0, 0x01});  // chassis ID: MAC address
    put({0x04, 0x03, 0x05, 'e', '0'});                // port ID: interface name
    put({0x06, 0x02, 0x00, 0x78});                    // TTL 120 s
    put({0x00, 0x00});                                // end of LLDPDU
    layers_.back().header_len = buf_.size() - start;
    return *this;
}

// ---------------------------------------------------------------- L3

PacketBuilder& PacketBuilder::ipv4(const Ipv4& h)
{
    if (h.option_words > 10)
        throw std::logic_error("PacketBuilder: at most 10 words of IPv4 options");
    begin(Kind::ipv4, {.ether = ethertype::ipv4, .ppp = pppproto::ipv4, .ip = ipproto::ipip}, "IPv4");
    const std::size_t start = buf_.size();
    const std::uint8_t ihl = h.ihl.value_or(static_cast<std::uint8_t>(5 + h.option_words));
    put8(static_cast<std::uint8_t>(h.version << 4 | (ihl & 0x0f)));
    put8(0);  // DSCP/ECN
    put16(h.total_length.value_or(0));
    put16(0x1c46);  // identification
    put16(static_cast<std::uint16_t>((h.dont_fragment ? 0x4000 : 0) | (h.more_fragments ? 0x2000 : 0) |
                                     (h.fragment_offset & 0x1fff)));
    put8(h.ttl);
    put8(0);   // protocol
    put16(0);  // header checksum: filled by build()
    put(h.src);
    put(h.dst);
    if (h.option_words) {
        // Router Alert, then NOPs, then End of Option List.
        Bytes opts(std::size_t{h.option_words} * 4, 0x01);
        opts[0] = 0x94;
        opts[1] = 0x04;
        opts[2] = 0x00;
        opts[3] = 0x00;
        if (opts.size() > 4)
            opts.back() = 0x00;
        put(opts);
    }
    layers_.back().header_len = buf_.size() - start;
    layers_.back().fixed_length = h.total_length.has_value();
    expect_next(Ns::ip, start + 9, h.protocol, std::nullopt, "IPv4");
    return *this;
}

PacketBuilder& PacketBuilder::ipv6(const Ipv6& h)
{
    begin(Kind::ipv6, {.ether = ethertype::ipv6, .ppp = pppproto::ipv6, .ip = ipproto::ipv6}, "IPv6");
    const std::size_t start = buf_.size();
    put32(static_cast<std::uint32_t>(h.version) << 28);  // traffic class 0, flow label 0
    put16(0);                                            // payload length: filled by build()
    put8(0);                                             // next header
    put8(h.hop_limit);
    put(h.src);
    put(h.dst);
    layers_.back().header_len = ipv6_len;
    expect_next(Ns::ip, start + 6, h.next, std::nullopt, "IPv6");
    return *this;
}

void PacketBuilder::ext6(std::uint8_t type, std::uint8_t hdrlen, std::optional<std::uint8_t> next, const char* name)
{
    begin(Kind::ext6, {.ip = type}, name);
    const std::size_t start = buf_.size();
    const std::size_t total = (std::size_t{hdrlen} + 1) * 8;
    Bytes h(total, 0);
    h[1] = hdrlen;
    if (type == ipproto::routing) {
        h[2] = 4;  // segment routing header
        h[3] = 0;  // segments left
        // Segment list: 2001:db8::2 in every 16-byte slot.
        const Ip6Addr segment{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
        for (std::size_t i = 8; i < total; ++i)
            h[i] = segment[(i - 8) % 16];
    } else {
        h[2] = 0x01;  // PadN over the rest
        h[3] = static_cast<std::uint8_t>(total - 4);
    }
    put(h);
    layers_.back().header_len = total;
    expect_next(Ns::ip, start, next, std::nullopt, name);
}

PacketBuilder& PacketBuilder::hop_by_hop(std::uint8_t hdrlen, std::optional<std::uint8_t> next)
{
    ext6(ipproto::hop_by_hop, hdrlen, next, "a hop-by-hop header");
    return *this;
}

PacketBuilder& PacketBuilder::dest_opts(std::uint8_t hdrlen, std::optional<std::uint8_t> next)
{
    ext6(ipproto::dest_opts, hdrlen, next, "a destination-options header");
    return *this;
}

PacketBuilder& PacketBuilder::routing(std::uint8_t hdrlen, std::optional<std::uint8_t> next)
{
    ext6(ipproto::routing, hdrlen, next, "a routing header");
    return *this;
}

PacketBuilder& PacketBuilder::fragment6(std::uint16_t offset, bool more, std::uint32_t id,
                                        std::optional<std::uint8_t> next)
{
    begin(Kind::ext6, {.ip = ipproto::fragment}, "an IPv6 fragment header");
    const std::size_t start = buf_.size();
    put8(0);  // next header
    put8(0);  // reserved
    put16(static_cast<std::uint16_t>((offset & 0x1fff) << 3 | (more ? 1 : 0)));
    put32(id);
    layers_.back().header_len = ipv6_frag_len;
    expect_next(Ns::ip, start, next, std::nullopt, "an IPv6 fragment header");
    return *this;
}

PacketBuilder& PacketBuilder::ah(std::uint8_t payload_len, std::optional<std::uint8_t> next)
{
    begin(Kind::ext6, {.ip = ipproto::ah}, "an authentication header");
    const std::size_t start = buf_.size();
    const std::size_t total = (std::size_t{payload_len} + 2) * 4;
    Bytes h(std::max<std::size_t>(total, 12), 0);
    h[1] = payload_len;
    h[6] = 0x10;   // SPI 0x1000
    h[11] = 0x01;  // sequence number 1
    for (std::size_t i = 12; i < h.size(); ++i)
        h[i] = static_cast<std::uint8_t>(0xa0 + i);  // ICV
    h.resize(total);
    put(h);
    layers_.back().header_len = total;
    expect_next(Ns::ip, start, next, std::nullopt, "an authentication header");
    return *this;
}

// ---------------------------------------------------------------- L4

PacketBuilder& PacketBuilder::tcp(const Tcp& h)
{
    if (h.option_words > 10)
        throw std::logic_error("PacketBuilder: at most 10 words of TCP options");
    begin(Kind::tcp, {.ip = ipproto::tcp}, "TCP");
    const std::size_t start = buf_.size();
    const std::uint8_t doff = h.doff.value_or(static_cast<std::uint8_t>(5 + h.option_words));
    put16(h.sport);
    put16(h.dport);
    put32(h.seq);
    put32(h.ack);
    put8(static_cast<std::uint8_t>((doff & 0x0f) << 4));
    put8(h.flags);
    put16(h.window);
    put16(0);  // checksum: filled by build()
    put16(0);  // urgent pointer
    // Whole options while they fit (MSS, SACK permitted, timestamps, window scale), then NOPs.
    const std::size_t want = std::size_t{h.option_words} * 4;
    const Bytes chunks[] = {
        {0x02, 0x04, 0x05, 0xb4},
        {0x01, 0x01, 0x04, 0x02},
        {0x01, 0x01, 0x08, 0x0a, 0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00},
        {0x01, 0x03, 0x03, 0x07},
    };
    std::size_t written = 0;
    for (const Bytes& c : chunks) {
        if (written + c.size() <= want) {
            put(c);
            written += c.size();
        }
    }
    for (; written < want; ++written)
        put8(0x01);
    layers_.back().header_len = buf_.size() - start;
    return *this;
}

PacketBuilder& PacketBuilder::udp(std::uint16_t sport, std::uint16_t dport)
{
    begin(Kind::udp, {.ip = ipproto::udp}, "UDP");
    put16(sport);
    put16(dport);
    put16(0);  // length: filled by build()
    put16(0);  // checksum: filled by build()
    layers_.back().header_len = udp_len;
    return *this;
}

PacketBuilder& PacketBuilder::icmp(std::uint8_t type, std::uint8_t code)
{
    begin(Kind::icmp, {.ip = ipproto::icmp}, "ICMP");
    put8(type);
    put8(code);
    put16(0);       // checksum: filled by build()
    put16(0x4242);  // identifier
    put16(1);       // sequence
    layers_.back().header_len = icmp_len;
    return *this;
}

PacketBuilder& PacketBuilder::icmpv6(std::uint8_t type, std::uint8_t code)
{
    begin(Kind::icmpv6, {.ip = ipproto::icmpv6}, "ICMPv6");
    put8(type);
    put8(code);
    put16(0);  // checksum: filled by build()
    put16(0x4242);
    put16(1);
    layers_.back().header_len = icmp_len;
    return *this;
}

PacketBuilder& PacketBuilder::sctp(std::uint16_t sport, std::uint16_t dport, std::uint32_t vtag)
{
    begin(Kind::sctp, {.ip = ipproto::sctp}, "SCTP");
    put16(sport);
    put16(dport);
    put32(vtag);
    put32(0);  // CRC32c: filled by build()
    layers_.back().header_len = sctp_len;
    return *this;
}

PacketBuilder& PacketBuilder::gre(std::optional<std::uint16_t> type)
{
    begin(Kind::gre, {.ip = ipproto::gre}, "GRE");
    const std::size_t start = buf_.size();
    put16(0);  // no checksum, key or sequence; version 0
    put16(0);  // protocol type
    layers_.back().header_len = gre_len;
    expect_next(Ns::ether, start + 2, type, ethertype::ipv4, "GRE");
    return *this;
}

PacketBuilder& PacketBuilder::esp(std::uint32_t spi, std::uint32_t seq)
{
    begin(Kind::esp, {.ip = ipproto::esp}, "ESP");
    put32(spi);
    put32(seq);
    layers_.back().header_len = esp_len;
    return *this;
}

// ---------------------------------------------------------------- anything

PacketBuilder& PacketBuilder::payload(std::size_t n)
{
    begin(Kind::raw, {}, "a payload");
    for (std::size_t i = 0; i < n; ++i)
        put8(static_cast<std::uint8_t>('a' + i % 26));
    return *this;
}

PacketBuilder& PacketBuilder::bytes(std::span<const std::uint8_t> b)
{
    begin(Kind::raw, {}, "raw bytes");
    put(b);
    return *this;
}

PacketBuilder& PacketBuilder::bytes(std::initializer_list<std::uint8_t> b)
{
    return bytes(std::span<const std::uint8_t>(b.begin(), b.size()));
}

PacketBuilder& PacketBuilder::pad_to(std::size_t frame_len)
{
    if (pending_ && !pending_->given && !pending_->fallback)
        throw std::logic_error("PacketBuilder: pad_to() while " + pending_->owner + " announces nothing");
    if (!pad_start_)
        pad_start_ = buf_.size();
    if (buf_.size() < frame_len)
        buf_.resize(frame_len, 0);
    return *this;
}

PacketBuilder& PacketBuilder::cut(std::size_t keep)
{
    const std::size_t at = last_layer_offset() + keep;
    if (at > buf_.size())
        throw std::logic_error("PacketBuilder: cut() beyond the end of the frame");
    truncate_ = at;
    return *this;
}

PacketBuilder& PacketBuilder::truncate(std::size_t frame_len)
{
    truncate_ = frame_len;
    return *this;
}

Bytes PacketBuilder::build() const
{
    Bytes out = buf_;
    if (pending_ && !pending_->given) {
        if (!pending_->fallback)
            throw std::logic_error("PacketBuilder: nothing follows " + pending_->owner +
                                   ": give its next protocol explicitly");
        if (pending_->ns == Ns::ip)
            write8(out, pending_->offset, static_cast<std::uint8_t>(*pending_->fallback));
        else
            write16(out, pending_->offset, *pending_->fallback);
    }

    // Lengths and checksums, innermost layer first so outer checksums cover final bytes.
    const std::size_t end = pad_start_.value_or(out.size());
    auto enclosing_ip = [&](std::size_t i) -> const Layer* {
        while (i-- > 0) {
            if (layers_[i].kind == Kind::ipv4 || layers_[i].kind == Kind::ipv6)
                return &layers_[i];
        }
        return nullptr;
    };
    // Checksum of an L4 segment [start, end) with its IP pseudo header.
    auto l4_checksum = [&](std::size_t i, std::uint8_t proto) -> std::uint16_t {
        const Layer& l = layers_[i];
        const std::size_t len = end - l.start;
        Bytes pseudo;
        if (const Layer* ip = enclosing_ip(i)) {
            if (ip->kind == Kind::ipv4) {
                pseudo.assign(out.begin() + static_cast<std::ptrdiff_t>(ip->start + 12),
                              out.begin() + static_cast<std::ptrdiff_t>(ip->start + 20));
                pseudo.insert(pseudo.end(),
                              {0, proto, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)});
            } else {
                pseudo.assign(out.begin() + static_cast<std::ptrdiff_t>(ip->start + 8),
                              out.begin() + static_cast<std::ptrdiff_t>(ip->start + 40));
                pseudo.insert(pseudo.end(),
                              {static_cast<std::uint8_t>(len >> 24), static_cast<std::uint8_t>(len >> 16),
                               static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len), 0, 0, 0, proto});
            }
        }
        pseudo.insert(pseudo.end(), out.begin() + static_cast<std::ptrdiff_t>(l.start),
                      out.begin() + static_cast<std::ptrdiff_t>(end));
        return inet_checksum(pseudo);
    };

    for (std::size_t i = layers_.size(); i-- > 0;) {
        const Layer& l = layers_[i];
        if (l.start >= end)
            continue;
        const std::size_t len = end - l.start;
        switch (l.kind) {
        case Kind::pppoe_session:
        case Kind::pppoe_discovery:
            if (len >= 6)
                write16(out, l.start + 4, clamp16(len - 6));
            break;
        case Kind::ipv4: {
            if (!l.fixed_length)
                write16(out, l.start + 2, clamp16(len));
            write16(out, l.start + 10, 0);
            const auto hdr = std::span<const std::uint8_t>(out).subspan(l.start, l.header_len);
            write16(out, l.start + 10, inet_checksum(hdr));
            break;
        }
        case Kind::ipv6:
            write16(out, l.start + 4, clamp16(len - ipv6_len));
            break;
        case Kind::tcp:
            write16(out, l.start + 16, 0);
            write16(out, l.start + 16, l4_checksum(i, ipproto::tcp));
            break;
        case Kind::udp: {
            write16(out, l.start + 4, clamp16(len));
            write16(out, l.start + 6, 0);
            const std::uint16_t sum = l4_checksum(i, ipproto::udp);
            write16(out, l.start + 6, sum ? sum : 0xffff);
            break;
        }
        case Kind::icmp:
            write16(out, l.start + 2, 0);
            write16(out, l.start + 2, inet_checksum(std::span<const std::uint8_t>(out).subspan(l.start, len)));
            break;
        case Kind::icmpv6:
            write16(out, l.start + 2, 0);
            write16(out, l.start + 2, l4_checksum(i, ipproto::icmpv6));
            break;
        case Kind::sctp: {
            for (std::size_t k = 8; k < 12; ++k)
                out[l.start + k] = 0;
            const std::uint32_t crc = crc32c(std::span<const std::uint8_t>(out).subspan(l.start, len));
            for (std::size_t k = 0; k < 4; ++k)  // stored as the kernel does: little-endian
                out[l.start + 8 + k] = static_cast<std::uint8_t>(crc >> (8 * k));
            break;
        }
        default:
            break;
        }
    }

    if (truncate_ && *truncate_ < out.size())
        out.resize(*truncate_);
    return out;
}

}  // namespace trafstat::test
