// Seeded random Ethernet frames for the differential test: structure-aware
// (VLAN stacks of 0-3 tags, PPPoE sessions, ARP, IPv4 with options, odd IHLs and
// fragments, IPv6 extension chains up to and beyond the parser's bound, TCP,
// UDP, ICMP, ICMPv6, SCTP, GRE, ESP and unknown protocols, tunnels: IP in IP,
// GRE, VXLAN), then mutated: truncated (now and then at every offset in turn),
// bytes flipped, headers lying about their lengths, jumbo frames. Pure: no
// libbpf, no privileges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace trafstat::test {

class RandomFrames {
public:
    // Frames are at least `min_size` bytes (what BPF_PROG_TEST_RUN accepts)
    // and at most `max_size`, but for one in fifty, which a random payload
    // makes a jumbo frame of up to `jumbo_size` bytes (none when not larger).
    RandomFrames(std::uint64_t seed, std::size_t min_size, std::size_t max_size, std::size_t jumbo_size = 0)
        : rng_(seed), min_size_(min_size), max_size_(max_size), jumbo_size_(jumbo_size)
    {}
    std::vector<std::uint8_t> next();
    // Real frames (of captures) to mutate: one frame in six is one of them,
    // mutated, once there are some.
    void add_seed_frames(std::vector<std::vector<std::uint8_t>> frames) { seeds_ = std::move(frames); }

private:
    std::vector<std::uint8_t> structured();
    void mutate(std::vector<std::uint8_t>& frame);

    std::mt19937_64 rng_;
    std::size_t min_size_;
    std::size_t max_size_;
    std::size_t jumbo_size_;
    // Every truncation of one frame, queued when that mutation is drawn.
    std::deque<std::vector<std::uint8_t>> truncations_;
    std::vector<std::vector<std::uint8_t>> seeds_;
};

}  // namespace trafstat::test
