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

# pcap LINKTYPE_* values as written in files.
LT_EN10MB, LT_RAW, LT_LINUX_SLL, LT_USER0 = 1, 101, 113, 147
LT_IPV4, LT_IPV6, LT_LINUX_SLL2 = 228, 229, 276

MAX_SEED_BYTES = 64 * 1024
SYSTEM_SEEDS = [
    "/usr/share/doc/python3-dpkt/examples/data",
    "/usr/share/doc/pcapfix/examples",
    "/usr/share/gocode/src/github.com/google/gopacket/pcapgo/tests/le",
    "/usr/share/gocode/src/github.com/google/gopacket/pcapgo/tests/be",
]


# --- packets -----------------------------------------------------------------

def ipv4(proto, payload, frag=0):
    total = 20 + len(payload)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, frag, 64, proto, 0,
                       bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + payload


def ipv6(next_header, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, 64,
                       b"\xfd" + b"\x00" * 14 + b"\x01",
                       b"\xfd" + b"\x00" * 14 + b"\x02") + payload


def udp(payload):
    return struct.pack("!HHHH", 40000, 53, 8 + len(payload), 0) + payload


def tcp():
    return struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 5 << 4, 0x02, 65535, 0, 0)


def icmp_echo():
    return struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"


MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def ether(ethertype, payload):
    return MAC_B + MAC_A + struct.pack("!H", ethertype) + payload


def vlan(vid, ethertype, payload):
    return MAC_B + MAC_A + struct.pack("!HHH", 0x8100, vid, ethertype) + payload


ARP = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, bytes([10, 0, 0, 1]),
                  b"\x00" * 6, bytes([10, 0, 0, 2]))

IP_PACKETS = [
    ipv4(17, udp(b"query")),
    ipv4(6, tcp()),
    ipv4(1, icmp_echo()),
    ipv4(17, udp(b"x"), frag=0x2000),  # first fragment
    ipv6(17, udp(b"query6")),
    ipv6(6, tcp()),
    ipv6(58, struct.pack("!BBHHH", 128, 0, 0, 1, 1)),
]

ETHER_FRAMES = [ether(0x0800 if p[0] >> 4 == 4 else 0x86DD, p) for p in IP_PACKETS] + [
    ether(0x0806, ARP),
    vlan(10, 0x0800, IP_PACKETS[0]),
    ether(0x0800, b"\x45\x00"),  # truncated IPv4 header
]


def sll(packet, ethertype):
    # packet type, ARPHRD_ETHER, address length, address (8), protocol
    return struct.pack("!HHH8sH", 0, 1, 6, MAC_A + b"\x00\x00", ethertype) + packet


def sll2(packet, ethertype):
    # protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address (8)
    return struct.pack("!HHIHBB8s", ethertype, 0, 2, 1, 0, 6, MAC_A + b"\x00\x00") + packet


def ethertype_of(packet):
    return 0x0800 if packet[0] >> 4 == 4 else 0x86DD


# --- files -------------------------------------------------------------------

def pcap(linktype, records, endian="<", nano=False, snaplen=262144):
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for i, data in enumerate(records):
        frac = 123456789 if nano else 123456
        out += struct.pack(endian + "IIII", 1700000000 + i, frac, len(data), len(data) + (4 if i == 1 else 0))
        out += data
    return out


def block(kind, body):
    body += b"\x00" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


def pcapng(interfaces, packets, simple=False, tsresol=9, ts0=1700000000123456789):
    """interfaces: [linktype]; packets: [(interface, data)]; timestamps ts0, ts0 + 1, ... in 10^-tsresol s."""
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for linktype in interfaces:
        # if_tsresol = 9 (nanoseconds), then opt_endofopt
        options = struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
        out += block(0x00000001, struct.pack("<HHI", linktype, 0, 262144) + options)
    for i, (interface, data) in enumerate(packets):
        if simple:
            out += block(0x00000003, struct.pack("<I", len(data)) + data)
            continue
        ts = ts0 + i
        out += block(0x00000006, struct.pack("<IIIII", interface, ts >> 32, ts & 0xFFFFFFFF,
                                             len(data), len(data)) + data)
    return out


def seeds():
    yield "ether.pcap", pcap(LT_EN10MB, ETHER_FRAMES)
    yield "ether-be.pcap", pcap(LT_EN10MB, ETHER_FRAMES[:3], endian=">")
    yield "ether-nsec.pcap", pcap(LT_EN10MB, ETHER_FRAMES[:3], nano=True)
    yield "ether-snaplen64.pcap", pcap(LT_EN10MB, [f[:64] for f in ETHER_FRAMES[:2]], snaplen=64)
    yield "header-only.pcap", pcap(LT_EN10MB, [])
    yield "raw.pcap", pcap(LT_RAW, IP_PACKETS + [b"\x00junk"])
    yield "ipv4.pcap", pcap(LT_IPV4, [p for p in IP_PACKETS if p[0] >> 4 == 4])
    yield "ipv6.pcap", pcap(LT_IPV6, [p for p in IP_PACKETS if p[0] >> 4 == 6])
    yield "sll.pcap", pcap(LT_LINUX_SLL, [sll(p, ethertype_of(p)) for p in IP_PACKETS] +
                           [sll(ARP, 0x0806), b"\x00" * 10])
    yield "sll2.pcap", pcap(LT_LINUX_SLL2, [sll2(p, ethertype_of(p)) for p in IP_PACKETS] +
                            [sll2(ARP, 0x0806), b"\x00" * 10])
    yield "user0.pcap", pcap(LT_USER0, [b"\x01\x02\x03"])
    yield "ether.pcapng", pcapng([LT_EN10MB], [(0, f) for f in ETHER_FRAMES])
    yield "two-interfaces.pcapng", pcapng([LT_EN10MB, LT_EN10MB],
                                          [(i % 2, f) for i, f in enumerate(ETHER_FRAMES[:4])])
    yield "simple.pcapng", pcapng([LT_EN10MB], [(0, f) for f in ETHER_FRAMES[:3]], simple=True)
    yield "sll2.pcapng", pcapng([LT_LINUX_SLL2], [(0, sll2(p, ethertype_of(p))) for p in IP_PACKETS[:3]])
    yield "truncated.pcap", pcap(LT_EN10MB, ETHER_FRAMES[:3])[:-7]
    # Regressions found by this fuzzer: an original length near 2^32 (wire
    # length overflowed when a header was synthesised), and pcapng timestamps
    # in seconds beyond what int64 nanoseconds hold.
    yield "raw-huge-orig-len.pcap", pcap(LT_RAW, [IP_PACKETS[0]])[:32] + struct.pack(
        "<II", len(IP_PACKETS[0]), 0xFFFFFFFF) + IP_PACKETS[0]
    yield "ts-seconds.pcapng", pcapng([LT_EN10MB], [(0, ETHER_FRAMES[0])], tsresol=0, ts0=1 << 62)


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
            if (name.endswith((".pcap", ".pcapng")) and os.path.isfile(path)
                    and os.path.getsize(path) <= MAX_SEED_BYTES):
                shutil.copyfile(path, os.path.join(directory, f"{prefix}_{name}"))
                count += 1
    print(f"make_corpus: {count} seeds in {directory}")


if __name__ == "__main__":
    main()
