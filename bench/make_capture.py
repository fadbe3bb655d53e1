#!/usr/bin/python3
"""Writes a synthetic Ethernet pcap for replay benchmarks: N frames cycling through a
mix of IPv4/IPv6 TCP/UDP/ICMP frames of several sizes, 1 us apart. Stdlib only, fast.
--flows F: the TCP and UDP source ports (and the ICMP identifier) cycle through F values,
one step per round of the mix: 3 F + 1 flows (trafstat keys ICMP by type and code)."""
import argparse
import struct


def ipv4(proto, l4):
    total = 20 + len(l4)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, proto, 0,
                       bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + l4


def ipv6(nxt, l4):
    return struct.pack("!IHBB16s16s", 6 << 28, len(l4), nxt, 64, b"\xfd" + b"\0" * 14 + b"\1",
                       b"\xfd" + b"\0" * 14 + b"\2") + l4


def tcp(payload):
    return struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + payload


def udp(payload):
    return struct.pack("!HHHH", 40000, 53, 8 + len(payload), 0) + payload


def icmp(payload):
    return struct.pack("!BBHHH", 8, 0, 0, 1, 1) + payload


def frame(ethertype, l3):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + struct.pack("!H", ethertype) + l3


def mix():
    out = []
    for size in (18, 100, 500, 1400):
        pad = b"\0" * size
        out += [frame(0x0800, ipv4(6, tcp(pad))), frame(0x0800, ipv4(17, udp(pad))),
                frame(0x0800, ipv4(1, icmp(pad))), frame(0x86DD, ipv6(17, udp(pad)))]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--flows", type=int, default=1)
    ap.add_argument("out")
    a = ap.parse_args()
    frames = mix()

    def port_at(fr):  # where a frame's source port (ICMP: identifier) is, after the IP header
        v4 = fr[12:14] == b"\x08\x00"
        return 14 + (20 if v4 else 40) + (4 if v4 and fr[23] == 1 else 0)

    ports = [port_at(fr) for fr in frames]
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(a.packets):
            k = i % len(frames)
            fr = frames[k]
            if a.flows > 1:
                fr = bytearray(fr)
                fr[ports[k] : ports[k] + 2] = struct.pack("!H", 1024 + (i // len(frames)) % a.flows)
            f.write(struct.pack("<IIII", 1_700_000_000 + i // 1_000_000, i % 1_000_000, len(fr), len(fr)))
            f.write(fr)


if __name__ == "__main__":
    main()
