#!/usr/bin/python3
"""Writes the seed corpus of capture_fuzz into a directory.

Small, valid captures built byte by byte (so nothing binary is committed):
pcap in both byte orders, nanosecond pcap, pcapng (one and two interfaces,
simple packet blocks), and every supported link type (Ethernet, raw IP,
DLT_IPV4/IPV6, Linux cooked SLL/SLL2) plus an unsupported one. Then the
sample captures of python3-dpkt, pcapfix and gopacket when they are
installed (the project's install-deps pulls them in); absent ones are
skipped.

usage: make_corpus.py DIR
"""

import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from frames import (  # noqa: E402
    ARP,
    ETHERTYPE_ARP,
    ETHERTYPE_IPV4,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_TCP,
    IPPROTO_UDP,
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_RAW,
    LINKTYPE_USER0,
    NS,
    Interface,
    Record,
    ether,
    icmp_echo,
    ip_ethertype,
    ipv4,
    ipv6,
    pcap,
    pcapng,
    sll,
    sll2,
    tcp,
    udp,
    vlan,
)

MAX_SEED_BYTES = 64 * 1024
SYSTEM_SEEDS = [
    "/usr/share/doc/python3-dpkt/examples/data",
    "/usr/share/doc/pcapfix/examples",
    "/usr/share/gocode/src/github.com/google/gopacket/pcapgo/tests/le",
    "/usr/share/gocode/src/github.com/google/gopacket/pcapgo/tests/be",
]

IP_PACKETS = [
    ipv4(IPPROTO_UDP, udp(b"query")),
    ipv4(IPPROTO_TCP, tcp()),
    ipv4(IPPROTO_ICMP, icmp_echo()),
    ipv4(IPPROTO_UDP, udp(b"x"), frag=0x2000),  # first fragment
    ipv6(IPPROTO_UDP, udp(b"query6")),
    ipv6(IPPROTO_TCP, tcp()),
    ipv6(IPPROTO_ICMPV6, struct.pack("!BBHHH", 128, 0, 0, 1, 1)),
]

ETHER_FRAMES = [ether(ip_ethertype(p), p) for p in IP_PACKETS] + [
    ether(ETHERTYPE_ARP, ARP),
    vlan(10, ETHERTYPE_IPV4, IP_PACKETS[0]),
    ether(ETHERTYPE_IPV4, b"\x45\x00"),  # truncated IPv4 header
]


# --- files -------------------------------------------------------------------


def records(packets, nano=False):
    """One record a second from 1700000000 s, a fixed fraction after it; the second record's original
    length 4 bytes more than it holds."""
    frac = 123456789 if nano else 123456000
    return [Record(p, (1700000000 + i) * NS + frac, len(p) + (4 if i == 1 else 0)) for i, p in enumerate(packets)]


def numbered(packets, ts0=1700000000123456789, interfaces=1):
    """Records at ts0, ts0 + 1 ns, ...; record i on interface i % interfaces (pcapng)."""
    return [Record(p, ts0 + i, interface=i % interfaces) for i, p in enumerate(packets)]


def seeds():
    ether_one = [Interface(LINKTYPE_ETHERNET)]
    yield "ether.pcap", pcap(LINKTYPE_ETHERNET, records(ETHER_FRAMES))
    yield "ether-be.pcap", pcap(LINKTYPE_ETHERNET, records(ETHER_FRAMES[:3]), big_endian=True)
    yield "ether-nsec.pcap", pcap(LINKTYPE_ETHERNET, records(ETHER_FRAMES[:3], nano=True), nano=True)
    yield "ether-snaplen64.pcap", pcap(LINKTYPE_ETHERNET, records([f[:64] for f in ETHER_FRAMES[:2]]), snaplen=64)
    yield "header-only.pcap", pcap(LINKTYPE_ETHERNET, [])
    yield "raw.pcap", pcap(LINKTYPE_RAW, records(IP_PACKETS + [b"\x00junk"]))
    yield "ipv4.pcap", pcap(LINKTYPE_IPV4, records([p for p in IP_PACKETS if p[0] >> 4 == 4]))
    yield "ipv6.pcap", pcap(LINKTYPE_IPV6, records([p for p in IP_PACKETS if p[0] >> 4 == 6]))
    yield "sll.pcap", pcap(
        LINKTYPE_LINUX_SLL,
        records([sll(ip_ethertype(p), p) for p in IP_PACKETS] + [sll(ETHERTYPE_ARP, ARP), b"\x00" * 10]),
    )
    yield "sll2.pcap", pcap(
        LINKTYPE_LINUX_SLL2,
        records([sll2(ip_ethertype(p), p) for p in IP_PACKETS] + [sll2(ETHERTYPE_ARP, ARP), b"\x00" * 10]),
    )
    yield "user0.pcap", pcap(LINKTYPE_USER0, records([b"\x01\x02\x03"]))
    yield "ether.pcapng", pcapng(ether_one, numbered(ETHER_FRAMES))
    yield "two-interfaces.pcapng", pcapng([Interface(LINKTYPE_ETHERNET)] * 2, numbered(ETHER_FRAMES[:4], interfaces=2))
    yield "simple.pcapng", pcapng(ether_one, numbered(ETHER_FRAMES[:3]), simple=True)
    yield "sll2.pcapng", pcapng(
        [Interface(LINKTYPE_LINUX_SLL2)], numbered([sll2(ip_ethertype(p), p) for p in IP_PACKETS[:3]])
    )
    yield "truncated.pcap", pcap(LINKTYPE_ETHERNET, records(ETHER_FRAMES[:3]))[:-7]
    # Regressions found by this fuzzer: an original length near 2^32 (wire
    # length overflowed when a header was synthesised), and pcapng timestamps
    # in seconds beyond what int64 nanoseconds hold.
    huge = records(IP_PACKETS[:1])
    huge[0].wire = 0xFFFFFFFF
    yield "raw-huge-orig-len.pcap", pcap(LINKTYPE_RAW, huge)
    yield "ts-seconds.pcapng", pcapng(
        [Interface(LINKTYPE_ETHERNET, tsresol=0)], [Record(ETHER_FRAMES[0], (1 << 62) * NS)]
    )


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    directory = sys.argv[1]
    os.makedirs(directory, exist_ok=True)
    count = 0
    for name, data in seeds():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
        count += 1
    for source in SYSTEM_SEEDS:
        if not os.path.isdir(source):
            continue
        prefix = source.strip("/").replace("/", "_")
        for name in sorted(os.listdir(source)):
            path = os.path.join(source, name)
            if name.endswith((".pcap", ".pcapng")) and os.path.isfile(path) and os.path.getsize(path) <= MAX_SEED_BYTES:
                shutil.copyfile(path, os.path.join(directory, f"{prefix}_{name}"))
                count += 1
    print(f"make_corpus: {count} seeds in {directory}")


if __name__ == "__main__":
    main()
