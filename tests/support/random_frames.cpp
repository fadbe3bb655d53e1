#include "support/random_frames.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <utility>

namespace trafstat::test {
namespace {

using Frame = std::vector<std::uint8_t>;

class Draw {
public:
    explicit Draw(std::mt19937_64& rng) : rng_(rng) {}
    bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
    std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
    std::size_t between(std::size_t lo, std::size_t hi) { return lo + below(hi - lo + 1); }
    std::uint8_t byte() { return static_cast<std::uint8_t>(rng_()); }
    // One of `values`, by weight.
    template <class T>
    T weighted(std::initializer_list<std::pair<T, unsigned>> values)
    {
        unsigned total = 0;
        for (const auto& [v, w] : values)
            total += w;
        std::size_t r = below(total);
        for (const auto& [v, w] : values) {
            if (r < w)
                return v;
            r -= w;
        }
        return values.begin()->first;
    }

private:
    std::mt19937_64& rng_;
};

void put16(Frame& f, unsigned v)
{
    f.push_back(static_cast<std::uint8_t>(v >> 8));
    f.push_back(static_cast<std::uint8_t>(v));
}

void put_random(Frame& f, Draw& d, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i)
        f.push_back(d.byte());
}

// A few addresses, so that keys repeat, and now and then any address.
void put_address(Frame& f, Draw& d, std::size_t size)
{
    if (d.chance(0.2)) {
        put_random(f, d, size);
        return;
    }
    const std::uint8_t host = static_cast<std::uint8_t>(1 + d.below(4));
    if (size == 4) {
        f.insert(f.end(), {192, 0, 2, host});
        return;
    }
    f.insert(f.end(), {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, host});
}

std::uint8_t pick_protocol(Draw& d)
{
    return d.weighted<std::uint8_t>({{6, 20},
                                     {17, 20},
                                     {1, 6},
                                     {58, 6},
                                     {132, 5},
                                     {47, 5},
                                     {50, 5},
                                     {59, 3},
                                     {4, 3},
                                     {41, 3},
                                     {0, 2},
                                     {43, 1},
                                     {44, 2},
                                     {60, 1},
                                     {51, 1},
                                     {static_cast<std::uint8_t>(d.byte()), 6}});
}

void put_ipv4(Frame& f, Draw& d, int depth);
void put_ipv6(Frame& f, Draw& d, int depth);

// A tunnel's inner frame: counted by the outer headers alone.
void put_inner_ethernet(Frame& f, Draw& d, int depth)
{
    put_random(f, d, 12);
    const bool v4 = d.chance(0.5);
    put16(f, v4 ? 0x0800u : 0x86ddu);
    if (v4)
        put_ipv4(f, d, depth);
    else
        put_ipv6(f, d, depth);
}

void put_l4(Frame& f, Draw& d, std::uint8_t proto, int depth)
{
    switch (proto) {
    case 6: {
        put16(f, static_cast<unsigned>(d.below(65536)));
        put16(f, d.weighted<unsigned>({{80, 1}, {443, 1}, {static_cast<unsigned>(d.below(65536)), 2}}));
        put_random(f, d, 8);  // sequence and acknowledgement numbers
        const std::size_t words = d.weighted<std::size_t>({{5, 12}, {d.between(6, 15), 6}, {d.below(5), 2}});
        f.push_back(static_cast<std::uint8_t>(words << 4 | d.below(16)));
        f.push_back(d.byte());  // flags
        put_random(f, d, 6);    // window, checksum, urgent pointer
        if (words > 5)
            put_random(f, d, (words - 5) * 4);
        return;
    }
    case 17:
        if (depth < 2 && d.chance(0.1)) {  // VXLAN
            put16(f, static_cast<unsigned>(d.below(65536)));
            put16(f, 4789);
            put_random(f, d, 4);  // length, checksum
            f.insert(f.end(), {0x08, 0, 0, 0, 0, 0, 42, 0});
            put_inner_ethernet(f, d, depth + 1);
            return;
        }
        [[fallthrough]];
    case 132:
        put16(f, static_cast<unsigned>(d.below(65536)));
        put16(f, static_cast<unsigned>(d.below(65536)));
        put_random(f, d, proto == 17 ? 4 : 8);
        return;
    case 47: {  // GRE: IPv4, IPv6 or Ethernet inside
        f.insert(f.end(), {0, 0});
        const unsigned inner = d.weighted<unsigned>({{0x0800, 1}, {0x86dd, 1}, {0x6558, 1}});
        put16(f, inner);
        if (depth >= 2)
            return;
        if (inner == 0x0800)
            put_ipv4(f, d, depth + 1);
        else if (inner == 0x86dd)
            put_ipv6(f, d, depth + 1);
        else
            put_inner_ethernet(f, d, depth + 1);
        return;
    }
    case 1:
    case 58:
        f.push_back(d.weighted<std::uint8_t>({{0, 1}, {8, 1}, {3, 1}, {128, 1}, {135, 1}, {d.byte(), 2}}));
        f.push_back(d.chance(0.5) ? 0 : d.byte());
        put_random(f, d, 6);
        return;
    case 4:
        if (depth < 2)
            put_ipv4(f, d, depth + 1);
        return;
    case 41:
        if (depth < 2)
            put_ipv6(f, d, depth + 1);
        return;
    default:
        put_random(f, d, d.below(12));
        return;
    }
}

void put_ipv4(Frame& f, Draw& d, int depth)
{
    const std::size_t words = d.weighted<std::size_t>({{5, 14}, {d.between(6, 15), 4}, {d.below(5), 2}});
    const unsigned version = d.chance(0.96) ? 4 : static_cast<unsigned>(d.below(16));
    f.push_back(static_cast<std::uint8_t>(version << 4 | words));
    f.push_back(d.byte());                            // DSCP, ECN
    put16(f, static_cast<unsigned>(d.below(65536)));  // total length: never checked
    put16(f, static_cast<unsigned>(d.below(65536)));  // identification
    const unsigned offset =
        d.chance(0.75) ? 0
                       : static_cast<unsigned>(d.weighted<std::size_t>({{1, 1}, {185, 1}, {d.between(1, 0x1fff), 2}}));
    put16(f, static_cast<unsigned>(d.below(8)) << 13 | offset);  // flags (MF, DF, reserved), offset
    f.push_back(d.byte());                                       // TTL
    const std::uint8_t proto = pick_protocol(d);
    f.push_back(proto);
    put_random(f, d, 2);  // checksum: never checked
    put_address(f, d, 4);
    put_address(f, d, 4);
    if (words > 5)
        put_random(f, d, (words - 5) * 4);
    put_l4(f, d, proto, depth);
}

void put_ipv6(Frame& f, Draw& d, int depth)
{
    const unsigned version = d.chance(0.96) ? 6 : static_cast<unsigned>(d.below(16));
    f.push_back(static_cast<std::uint8_t>(version << 4 | d.below(16)));
    put_random(f, d, 3);                              // traffic class, flow label
    put16(f, static_cast<unsigned>(d.below(65536)));  // payload length: never checked
    const std::size_t next_at = f.size();
    f.push_back(0);
    f.push_back(d.byte());  // hop limit
    put_address(f, d, 16);
    put_address(f, d, 16);
    const std::size_t chain =
        d.weighted<std::size_t>({{0, 10}, {d.between(1, 3), 6}, {d.between(4, 8), 3}, {d.between(9, 11), 2}});
    std::size_t link = next_at;  // where the next header's number goes
    for (std::size_t i = 0; i < chain; ++i) {
        const std::uint8_t type = d.weighted<std::uint8_t>({{0, 2}, {43, 1}, {44, 2}, {60, 2}, {51, 1}});
        f[link] = type;
        link = f.size();
        f.push_back(0);
        const std::uint8_t length =
            d.weighted<std::uint8_t>({{0, 8}, {1, 3}, {static_cast<std::uint8_t>(d.below(4)), 2}, {d.byte(), 1}});
        if (type == 44) {
            f.push_back(d.byte());  // reserved
            const unsigned offset = d.chance(0.6) ? 0 : static_cast<unsigned>(d.between(1, 0x1fff));
            put16(f, offset << 3 | static_cast<unsigned>(d.below(8)));
            put_random(f, d, 4);  // identification
            continue;
        }
        f.push_back(length);
        const std::size_t size = type == 51 ? (length + 2u) * 4 : (length + 1u) * 8;
        put_random(f, d, std::min<std::size_t>(size, 4096) - 2);
    }
    const std::uint8_t proto = pick_protocol(d);
    f[link] = proto;
    put_l4(f, d, proto, depth);
}

}  // namespace

Frame RandomFrames::structured()
{
    Draw d(rng_);
    Frame f;
    put_random(f, d, 12);  // MAC addresses
    const std::size_t tags = d.weighted<std::size_t>({{0, 11}, {1, 5}, {2, 3}, {3, 1}});
    for (std::size_t i = 0; i < tags; ++i) {
        put16(f, d.chance(0.5) ? 0x8100u : 0x88a8u);
        put16(f, static_cast<unsigned>(d.below(65536)));
    }
    enum class L3 { ipv4, ipv6, other };
    L3 l3 = L3::other;
    if (d.chance(0.15)) {
        put16(f, 0x8864);
        f.push_back(d.chance(0.9) ? 0x11 : d.byte());  // version, type
        f.push_back(0);                                // code: session data
        put16(f, static_cast<unsigned>(d.below(65536)));
        put16(f, static_cast<unsigned>(d.below(1500)));  // length: never checked
        const unsigned ppp = d.weighted<unsigned>(
            {{0x0021, 9}, {0x0057, 9}, {0xc021, 1}, {0x8021, 1}, {static_cast<unsigned>(d.below(65536)), 1}});
        put16(f, ppp);
        l3 = ppp == 0x0021 ? L3::ipv4 : ppp == 0x0057 ? L3::ipv6 : L3::other;
    } else {
        const unsigned type = d.weighted<unsigned>({{0x0800, 38},
                                                    {0x86dd, 38},
                                                    {0x0806, 6},
                                                    {0x8863, 3},
                                                    {0x88cc, 3},
                                                    {static_cast<unsigned>(d.below(65536)), 12}});
        put16(f, type);
        l3 = type == 0x0800 ? L3::ipv4 : type == 0x86dd ? L3::ipv6 : L3::other;
    }
    if (l3 == L3::ipv4)
        put_ipv4(f, d, 0);
    else if (l3 == L3::ipv6)
        put_ipv6(f, d, 0);
    else
        put_random(f, d, d.below(64));
    put_random(f, d, d.chance(0.9) ? d.below(64) : d.below(1024));  // payload
    return f;
}

void RandomFrames::mutate(Frame& f)
{
    Draw d(rng_);
    if (d.chance(0.02)) {
        f.resize(min_size_ + d.below(128));
        for (auto& b : f)
            b = d.byte();
        return;
    }
    if (d.chance(0.1)) {
        const std::size_t flips = d.between(1, 4);
        for (std::size_t i = 0; i < flips; ++i) {
            const std::size_t at = d.chance(0.7) ? d.below(std::min<std::size_t>(f.size(), 96)) : d.below(f.size());
            f[at] ^= static_cast<std::uint8_t>(1u << d.below(8) | (d.chance(0.3) ? d.byte() : 0));
        }
    }
    if (f.size() > max_size_)
        f.resize(max_size_);
    if (d.chance(0.004)) {
        for (std::size_t n = min_size_; n < f.size(); ++n)
            truncations_.emplace_back(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
        return;
    }
    if (d.chance(0.25) && f.size() > min_size_)
        f.resize(d.between(min_size_, f.size() - 1));
}

Frame RandomFrames::next()
{
    if (!truncations_.empty()) {
        Frame f = std::move(truncations_.front());
        truncations_.pop_front();
        return f;
    }
    Draw d(rng_);
    Frame f = !seeds_.empty() && d.chance(1.0 / 6) ? seeds_[d.below(seeds_.size())] : structured();
    mutate(f);
    if (f.size() < min_size_)
        f.resize(min_size_);  // zero padding, as a NIC pads a short frame
    if (jumbo_size_ > max_size_ && d.chance(0.02))
        put_random(f, d, d.between(max_size_ + 1, jumbo_size_) - f.size());
    return f;
}

}  // namespace trafstat::test
