"""Frames and captures of trafstat's Python tests: the one place where they are built.

The runners put this directory on sys.path and import what they use by name (`from frames import
...`: several runners have variables called `frames`). Nothing here has side effects on import, and
scapy is imported only by the functions that build with it, so the stdlib-only users (the fuzz
corpus, the bad-input runner) do not need it.

Contents:
  - frames built byte by byte (stdlib): ether, vlan, ipv4, ipv6, udp, tcp, icmp_echo, ARP, and the
    Linux cooked headers sll and sll2;
  - capture files: Record, Interface, pcap(), pcapng(), write(), the LINKTYPE_* values;
  - annotated corpora (scapy): every frame with the classes docs/classes.md gives it, written by
    hand: e2e_mix() for the end-to-end suite, oracle_mix() and no_verdict_rows() for the replay
    oracle, and link_variants(), the oracle's mix as records of the other link types.
"""

import dataclasses
import functools
import struct

from testlib import ETH_HLEN, check_classes

# ---------------------------------------------------------------------------
# Frames, byte by byte.
# ---------------------------------------------------------------------------

ETHERTYPE_IPV4, ETHERTYPE_ARP, ETHERTYPE_VLAN, ETHERTYPE_IPV6 = 0x0800, 0x0806, 0x8100, 0x86DD
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 = 1, 6, 17, 58

MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
IP4_A, IP4_B = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
IP6_A, IP6_B = b"\xfd" + b"\x00" * 14 + b"\x01", b"\xfd" + b"\x00" * 14 + b"\x02"


def ether(ethertype, payload):
    """MAC_A -> MAC_B."""
    return MAC_B + MAC_A + struct.pack("!H", ethertype) + payload


def vlan(vid, ethertype, payload):
    """MAC_A -> MAC_B with one 802.1Q tag."""
    return MAC_B + MAC_A + struct.pack("!HHH", ETHERTYPE_VLAN, vid, ethertype) + payload


def ipv4(proto, payload, frag=0):
    """10.0.0.1 -> 10.0.0.2, no options; `frag`: the flags and fragment offset field."""
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, frag, 64, proto, 0, IP4_A, IP4_B) + payload


def ipv6(next_header, payload):
    """fd00::1 -> fd00::2."""
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, 64, IP6_A, IP6_B) + payload


def ip_ethertype(packet):
    """The ethertype of an IP packet, by its version nibble."""
    return ETHERTYPE_IPV4 if packet[0] >> 4 == 4 else ETHERTYPE_IPV6


def udp(payload, dport=53):
    return struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload


def tcp():
    """A bare SYN, 40000 -> 80."""
    return struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 5 << 4, 0x02, 65535, 0, 0)


def icmp_echo():
    return struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"


ARP = struct.pack("!HHBBH6s4s6s4s", 1, ETHERTYPE_IPV4, 6, 4, 1, MAC_A, IP4_A, b"\x00" * 6, IP4_B)


def sll(ethertype, packet, src=MAC_A):
    """A Linux cooked (SLL) record: packet type, ARPHRD_ETHER, address length, address (8), protocol."""
    return struct.pack("!HHH8sH", 0, 1, 6, src + b"\x00\x00", ethertype) + packet


def sll2(ethertype, packet, src=MAC_A):
    """An SLL2 record: protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address (8)."""
    return struct.pack("!HHIHBB8s", ethertype, 0, 2, 1, 0, 6, src + b"\x00\x00") + packet


# ---------------------------------------------------------------------------
# Capture files (struct, so that link type, lengths and timestamps are exactly what we say).
# ---------------------------------------------------------------------------

LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_USER0 = 1, 101, 113, 147
LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2 = 228, 229, 276

PCAP_HEADER_LEN, PCAP_RECORD_HEADER_LEN = 24, 16
NS = 1_000_000_000
T0_NS = 1_700_000_000 * NS  # a capture time of the tests' own: 2023-11-14 22:13:20 UTC


@dataclasses.dataclass
class Record:
    data: bytes  # the bytes the record holds
    ts_ns: int = 0  # nanoseconds since the epoch
    wire: int = None  # original length; None: len(data)
    interface: int = 0  # pcapng: the interface it was captured on

    @property
    def orig_len(self):
        return len(self.data) if self.wire is None else self.wire


def pcap(linktype, records, *, nano=False, big_endian=False, snaplen=262144):
    """A pcap file: microsecond (or nanosecond) timestamps, little-endian (or big-endian)."""
    order = ">" if big_endian else "<"
    out = struct.pack(order + "IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)
    for r in records:
        sec, frac = divmod(r.ts_ns, NS)
        if not nano:
            frac //= 1000
        out += struct.pack(order + "IIII", sec, frac, len(r.data), r.orig_len) + r.data
    return out


@dataclasses.dataclass
class Interface:
    linktype: int
    snaplen: int = 262144
    tsresol: int = 9  # the if_tsresol option: 10^-tsresol s; None: no option (microseconds)


def pcapng(interfaces, records, *, simple=False):
    """A little-endian pcapng file: one section, `interfaces`, then one enhanced packet block per
    record (simple packet blocks, which have no timestamp or interface, with `simple`)."""

    def block(kind, body):
        body += b"\x00" * (-len(body) % 4)
        return struct.pack("<II", kind, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for i in interfaces:
        options = b"" if i.tsresol is None else struct.pack("<HHB3xHH", 9, 1, i.tsresol, 0, 0)
        out += block(0x00000001, struct.pack("<HHI", i.linktype, 0, i.snaplen) + options)
    for r in records:
        if simple:
            out += block(0x00000003, struct.pack("<I", len(r.data)) + r.data)
            continue
        resol = interfaces[r.interface].tsresol
        ts = r.ts_ns // 10 ** (9 - (6 if resol is None else resol))
        head = struct.pack("<IIIII", r.interface, ts >> 32, ts & 0xFFFFFFFF, len(r.data), r.orig_len)
        out += block(0x00000006, head + r.data)
    return out


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


# ---------------------------------------------------------------------------
# Annotated corpora: frames with their classes written by hand from docs/classes.md.
# ---------------------------------------------------------------------------

OTHER_HOST = "02:00:00:00:00:99"  # not a receiver's MAC: a receiving stack drops these silently
ORACLE_SRC_MAC = "02:00:00:00:0a:01"
MAX_VETH_FRAME = 1514  # what a veth carries at MTU 1500
# LLDP: chassis, port, ttl, end
LLDP = bytes.fromhex("0207040200000000a1" "040302" "0001" "060200" "78" "0000")


@dataclasses.dataclass
class Row:
    name: str
    frame: bytes  # Ethernet frame
    classes: frozenset  # trafstat's classes by docs/classes.md
    tshark: str = ""  # where tshark's own dissection reads it otherwise: the documented rule
    live: bool = True  # can cross a veth (<= 1514 bytes and the kernel delivers it to TC)


def raw(pkt):
    return bytes(pkt)


def ppp(proto):
    """A PPP protocol field as scapy's Raw. Two bytes always: scapy's PPP layer compresses protocols
    < 0x100 to one byte (RFC 1661 PFC), which PPPoE does not use and trafstat rightly does not decode."""
    from scapy.packet import Raw

    return Raw(proto.to_bytes(2, "big"))


def _annotated(rows):
    """Rows of scapy packets -> Rows of bytes, each annotation checked against the class rules."""
    out = []
    for r in rows:
        frame, classes = bytes(r.frame), frozenset(r.classes)
        check_classes(classes, r.name)
        assert len(frame) >= ETH_HLEN, r.name
        out.append(Row(r.name, frame, classes, r.tshark, r.live and len(frame) <= MAX_VETH_FRAME))
    names = [r.name for r in out]
    assert len(names) == len(set(names)), "duplicate row names"
    return tuple(out)


@functools.lru_cache(maxsize=None)
def e2e_mix(src_mac):
    """The end-to-end suite's mix, sent from `src_mac` (tests/e2e/run_e2e.py tcpreplays it across a
    veth). Expected classes follow abi.h / parse.bpf.h."""
    from scapy.layers.inet import IP, TCP, UDP, ICMP, IPOption_RR
    from scapy.layers.inet6 import (
        IPv6,
        IPv6ExtHdrHopByHop,
        IPv6ExtHdrDestOpt,
        IPv6ExtHdrRouting,
        IPv6ExtHdrFragment,
        ICMPv6EchoRequest,
    )
    from scapy.layers.l2 import Ether, ARP, Dot1Q, Dot1AD, GRE
    from scapy.layers.ppp import PPPoE, PPPoED
    from scapy.layers.sctp import SCTP, SCTPChunkData
    from scapy.layers.ipsec import ESP, AH
    from scapy.packet import Raw

    def eth(**kw):
        return Ether(dst=OTHER_HOST, src=src_mac, **kw)

    ip4 = dict(src="10.77.0.1", dst="10.77.0.2")
    ip6 = dict(src="fd00:77::1", dst="fd00:77::2")
    udp = UDP(sport=4000, dport=4001)

    rows = [
        # IPv4, one per L4 class
        ("ipv4_tcp", eth() / IP(**ip4) / TCP(sport=4000, dport=80, flags="S") / Raw(b"t" * 10), {"ipv4", "tcp"}),
        ("ipv4_udp", eth() / IP(**ip4) / udp / Raw(b"u" * 30), {"ipv4", "udp"}),
        ("ipv4_icmp", eth() / IP(**ip4) / ICMP(id=1, seq=1) / Raw(b"i" * 56), {"ipv4", "icmp"}),
        (
            "ipv4_sctp",
            eth() / IP(**ip4) / SCTP(sport=5000, dport=5001) / SCTPChunkData(data=b"s" * 16),
            {"ipv4", "sctp"},
        ),
        ("ipv4_gre", eth() / IP(**ip4) / GRE() / IP(**ip4) / udp, {"ipv4", "gre"}),
        ("ipv4_esp", eth() / IP(**ip4) / ESP(spi=0x100, seq=1, data=b"e" * 32), {"ipv4", "esp"}),
        ("ipv4_other_l4", eth() / IP(proto=253, **ip4) / Raw(b"o" * 20), {"ipv4", "other_l4"}),
        (
            "ipv4_options_udp",
            eth() / IP(options=[IPOption_RR(routers=["10.77.0.1", "0.0.0.0"])], **ip4) / udp / Raw(b"p" * 8),
            {"ipv4", "udp"},
        ),
        ("ipv4_first_fragment", eth() / IP(flags="MF", frag=0, **ip4) / udp / Raw(b"f" * 40), {"ipv4", "udp"}),
        ("ipv4_nonfirst_fragment", eth() / IP(frag=6, proto=17, **ip4) / Raw(b"g" * 24), {"ipv4", "fragment"}),
        ("ipv4_udp_1400", eth() / IP(**ip4) / udp / Raw(b"L" * 1400), {"ipv4", "udp"}),
        # IPv6
        ("ipv6_udp", eth() / IPv6(**ip6) / udp / Raw(b"u" * 20), {"ipv6", "udp"}),
        ("ipv6_icmpv6", eth() / IPv6(**ip6) / ICMPv6EchoRequest(id=1, seq=1, data=b"x" * 8), {"ipv6", "icmpv6"}),
        (
            "ipv6_hbh_dst_rt_udp",
            eth()
            / IPv6(**ip6)
            / IPv6ExtHdrHopByHop()
            / IPv6ExtHdrDestOpt()
            / IPv6ExtHdrRouting()
            / udp
            / Raw(b"h" * 4),
            {"ipv6", "udp"},
        ),
        (
            "ipv6_first_fragment_icmpv6",
            eth() / IPv6(**ip6) / IPv6ExtHdrFragment(offset=0, m=1, id=7) / ICMPv6EchoRequest(data=b"y" * 16),
            {"ipv6", "icmpv6"},
        ),
        (
            "ipv6_nonfirst_fragment",
            eth() / IPv6(**ip6) / IPv6ExtHdrFragment(offset=3, m=0, id=7, nh=17) / Raw(b"z" * 16),
            {"ipv6", "fragment"},
        ),
        (
            "ipv6_ah_tcp",
            eth()
            / IPv6(nh=51, **ip6)
            / AH(nh=6, payloadlen=4, spi=1, seq=1, icv=b"\0" * 12)
            / TCP(sport=4000, dport=80, flags="A"),
            {"ipv6", "tcp"},
        ),
        (
            "ipv6_nine_ext_hdrs",
            eth()
            / IPv6(**ip6)
            / (
                IPv6ExtHdrDestOpt()
                / IPv6ExtHdrDestOpt()
                / IPv6ExtHdrDestOpt()
                / IPv6ExtHdrDestOpt()
                / IPv6ExtHdrDestOpt()
                / IPv6ExtHdrDestOpt()
                / IPv6ExtHdrDestOpt()
                / IPv6ExtHdrDestOpt()
                / IPv6ExtHdrDestOpt()
            )
            / udp,
            {"ipv6", "other_l4"},
        ),  # beyond the 8-header bound
        # Other L3
        ("arp_request", eth() / ARP(op=1, hwsrc=src_mac, psrc="10.77.0.1", pdst="10.77.0.3"), {"arp"}),
        ("lldp", eth(type=0x88CC) / Raw(LLDP), {"other_l3"}),
        # VLAN
        ("vlan_ipv4_udp", eth() / Dot1Q(vlan=100) / IP(**ip4) / udp / Raw(b"v" * 12), {"ipv4", "udp", "vlan"}),
        ("vlan_prio_tag_ipv4_icmp", eth() / Dot1Q(vlan=0, prio=5) / IP(**ip4) / ICMP(), {"ipv4", "icmp", "vlan"}),
        (
            "vlan_arp",
            eth() / Dot1Q(vlan=100) / ARP(op=1, hwsrc=src_mac, psrc="10.77.0.1", pdst="10.77.0.3"),
            {"arp", "vlan"},
        ),
        (
            "qinq_ipv4_tcp",
            eth() / Dot1AD(vlan=200) / Dot1Q(vlan=100) / IP(**ip4) / TCP(sport=1, dport=2),
            {"ipv4", "tcp", "vlan"},
        ),
        (
            "qinq_8021q_8021q_ipv6_udp",
            eth() / Dot1Q(vlan=300) / Dot1Q(vlan=100) / IPv6(**ip6) / udp,
            {"ipv6", "udp", "vlan"},
        ),
        (
            "three_vlan_tags",
            eth() / Dot1AD(vlan=200) / Dot1Q(vlan=100) / Dot1Q(vlan=50) / IP(**ip4) / udp,
            {"other_l3", "vlan"},
        ),  # the third tag is beyond the parser's bound
        # PPPoE
        ("pppoe_ipv4_udp", eth() / PPPoE(sessionid=7) / ppp(0x0021) / IP(**ip4) / udp, {"ipv4", "udp", "pppoe"}),
        (
            "pppoe_ipv6_icmpv6",
            eth() / PPPoE(sessionid=7) / ppp(0x0057) / IPv6(**ip6) / ICMPv6EchoRequest(),
            {"ipv6", "icmpv6", "pppoe"},
        ),
        (
            "pppoe_lcp",
            eth() / PPPoE(sessionid=7) / ppp(0xC021) / Raw(bytes.fromhex("09010008deadbeef")),
            {"other_l3", "pppoe"},
        ),
        ("pppoe_discovery_padi", eth() / PPPoED(code=0x09) / Raw(bytes.fromhex("01010000")), {"other_l3"}),
        (
            "vlan_pppoe_ipv4_tcp",
            eth() / Dot1Q(vlan=100) / PPPoE(sessionid=7) / ppp(0x0021) / IP(**ip4) / TCP(sport=1, dport=2),
            {"ipv4", "tcp", "vlan", "pppoe"},
        ),
        # Bare and truncated frames
        ("bare_14_other_ethertype", eth(type=0x88B5), {"other_l3"}),
        ("bare_14_ipv4_ethertype", eth(type=0x0800), {"ipv4", "malformed_l4"}),
        ("bare_14_pppoe_ethertype", eth(type=0x8864), {"malformed"}),
        ("truncated_pppoe_header", eth(type=0x8864) / Raw(b"\x11\x00\x00\x07"), {"malformed"}),
        ("truncated_ipv4_header", eth(type=0x0800) / Raw(raw(IP(**ip4) / udp)[:12]), {"ipv4", "malformed_l4"}),
        ("ipv4_ihl_4", eth(type=0x0800) / Raw(b"\x44" + raw(IP(**ip4) / udp)[1:]), {"ipv4", "malformed_l4"}),
        (
            "ipv4_options_beyond_packet",
            eth(type=0x0800) / Raw(b"\x4f" + raw(IP(**ip4))[1:] + b"\x01" * 4),
            {"ipv4", "malformed_l4"},
        ),
        (
            "truncated_tcp_header",
            eth() / IP(proto=6, **ip4) / Raw(raw(TCP(sport=1, dport=2))[:10]),
            {"ipv4", "malformed_l4"},
        ),
        ("tcp_doff_beyond_packet", eth() / IP(**ip4) / TCP(sport=1, dport=2, dataofs=15), {"ipv4", "malformed_l4"}),
        ("truncated_udp_header", eth() / IP(proto=17, **ip4) / Raw(b"\x0f\xa0\x0f\xa1"), {"ipv4", "malformed_l4"}),
        ("truncated_ipv6_header", eth(type=0x86DD) / Raw(raw(IPv6(**ip6))[:20]), {"ipv6", "malformed_l4"}),
        (
            "vlan_truncated_ipv4",
            eth() / Dot1Q(vlan=100, type=0x0800) / Raw(raw(IP(**ip4))[:10]),
            {"ipv4", "malformed_l4", "vlan"},
        ),
    ]
    return _annotated(Row(*r) for r in rows)


@functools.lru_cache(maxsize=None)
def oracle_mix():
    """The replay oracle's mix (tests/replay): its captures of every link type are made of it."""
    from scapy.layers.inet import IP, TCP, UDP, ICMP, IPOption_RR
    from scapy.layers.inet6 import (
        IPv6,
        IPv6ExtHdrHopByHop,
        IPv6ExtHdrDestOpt,
        IPv6ExtHdrRouting,
        IPv6ExtHdrFragment,
        ICMPv6EchoRequest,
        ICMPv6ND_NS,
        ICMPv6DestUnreach,
        ICMPv6MLReport,
        RouterAlert,
        PadN,
    )
    from scapy.layers.l2 import Ether, ARP, Dot1Q, Dot1AD, GRE, LLC, STP
    from scapy.layers.ppp import PPPoE, PPPoED
    from scapy.layers.sctp import SCTP, SCTPChunkData, SCTPChunkInit
    from scapy.layers.ipsec import ESP, AH
    from scapy.packet import Raw

    def eth(**kw):
        return Ether(dst=OTHER_HOST, src=ORACLE_SRC_MAC, **kw)

    ip4 = dict(src="10.78.0.1", dst="10.78.0.2")
    ip6 = dict(src="fd00:78::1", dst="fd00:78::2")

    def udp(n=8):
        return UDP(sport=4000, dport=4001) / Raw(b"u" * n)

    tcp_syn = TCP(
        sport=40000,
        dport=5001,
        flags="S",
        seq=1,
        options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)],
    )
    dst8 = IPv6ExtHdrDestOpt
    pad_2046 = [PadN(optdata=b"\0" * 255)] * 7 + [PadN(optdata=b"\0" * 245)]  # the largest header: 2048 bytes
    pad_1022 = [PadN(optdata=b"\0" * 255)] * 3 + [PadN(optdata=b"\0" * 249)]  # a 1024-byte header

    R = Row
    rows = [
        # IPv4: one row per L4 class and the tunnels
        R("ipv4_tcp_syn_options", eth() / IP(**ip4) / tcp_syn, {"ipv4", "tcp"}),
        R(
            "ipv4_tcp_data",
            eth() / IP(**ip4) / TCP(sport=5001, dport=40000, flags="PA") / Raw(b"d" * 100),
            {"ipv4", "tcp"},
        ),
        R("ipv4_udp", eth() / IP(**ip4) / udp(30), {"ipv4", "udp"}),
        R("ipv4_udp_1472", eth() / IP(**ip4) / udp(1472), {"ipv4", "udp"}),
        R("ipv4_icmp_echo", eth() / IP(**ip4) / ICMP(id=1, seq=1) / Raw(b"i" * 56), {"ipv4", "icmp"}),
        R(
            "ipv4_icmp_error_quoting_udp",
            eth() / IP(**ip4) / ICMP(type=3, code=3) / IP(**ip4) / udp(4),
            {"ipv4", "icmp"},
            "ICMP error: tshark dissects the quoted IP/UDP too; the first L4 decides",
        ),
        R("ipv4_igmp", eth() / IP(proto=2, **ip4) / Raw(bytes.fromhex("1600fa04e0000016")), {"ipv4", "other_l4"}),
        R("ipv4_sctp_init", eth() / IP(**ip4) / SCTP(sport=5000, dport=5001) / SCTPChunkInit(), {"ipv4", "sctp"}),
        R(
            "ipv4_sctp_data",
            eth() / IP(**ip4) / SCTP(sport=5000, dport=5001) / SCTPChunkData(data=b"s" * 16),
            {"ipv4", "sctp"},
        ),
        R(
            "ipv4_gre_ipv4_udp",
            eth() / IP(**ip4) / GRE() / IP(**ip4) / udp(),
            {"ipv4", "gre"},
            "tunnel: tshark dissects the inner IP/UDP; the outer header decides",
        ),
        R(
            "ipv4_gre_ethernet",
            eth() / IP(**ip4) / GRE(proto=0x6558) / Ether(dst=OTHER_HOST) / IP(**ip4) / udp(),
            {"ipv4", "gre"},
            "tunnel",
        ),
        R("ipv4_esp", eth() / IP(**ip4) / ESP(spi=0x100, seq=1, data=b"e" * 32), {"ipv4", "esp"}),
        R(
            "ipv4_ah_tcp",
            eth() / IP(**ip4) / AH(nh=6, payloadlen=4, spi=1, seq=1, icv=b"\0" * 12) / TCP(sport=1, dport=2),
            {"ipv4", "other_l4"},
            "AH in IPv4 is not walked: tshark dissects the TCP behind it, trafstat counts other_l4",
        ),
        R(
            "ipv4_ipip",
            eth() / IP(proto=4, **ip4) / IP(**ip4) / udp(),
            {"ipv4", "other_l4"},
            "IP-in-IP: tshark dissects the inner IP/UDP; the outer protocol 4 is other_l4",
        ),
        R(
            "ipv4_6in4",
            eth() / IP(proto=41, **ip4) / IPv6(**ip6) / udp(),
            {"ipv4", "other_l4"},
            "IPv6-in-IPv4: protocol 41 is other_l4",
        ),
        R(
            "ipv4_udplite",
            eth() / IP(proto=136, **ip4) / Raw(b"\x0f\xa0\x0f\xa1\x00\x08\x00\x00"),
            {"ipv4", "other_l4"},
        ),
        R("ipv4_proto_253_empty", eth() / IP(proto=253, **ip4), {"ipv4", "other_l4"}),
        R(
            "ipv4_options_rr_udp",
            eth() / IP(options=[IPOption_RR(routers=["10.78.0.1", "0.0.0.0"])], **ip4) / udp(8),
            {"ipv4", "udp"},
        ),
        R("ipv4_first_fragment_udp", eth() / IP(flags="MF", frag=0, **ip4) / udp(40), {"ipv4", "udp"}),
        R(
            "ipv4_middle_fragment",
            eth() / IP(flags="MF", frag=6, proto=17, **ip4) / Raw(b"g" * 48),
            {"ipv4", "fragment"},
        ),
        R("ipv4_last_fragment", eth() / IP(frag=12, proto=17, **ip4) / Raw(b"g" * 24), {"ipv4", "fragment"}),
        R("ipv4_fragment_without_payload", eth() / IP(frag=12, proto=6, **ip4), {"ipv4", "fragment"}),
        R(
            "ipv4_total_length_beyond_frame",
            eth() / IP(len=1000, **ip4) / udp(8),
            {"ipv4", "udp"},
            "IP total length is not checked: tshark flags the length, trafstat counts the UDP header",
        ),
        R(
            "ipv4_total_length_20_udp_behind",
            eth() / IP(len=20, **ip4) / UDP(sport=1, dport=2),
            {"ipv4", "udp"},
            "IP total length 20 says no payload: tshark dissects no UDP, trafstat reads the UDP header there",
        ),
        R("ipv4_padded_to_60", eth() / IP(**ip4) / UDP(sport=1, dport=2) / Raw(b"\0" * 18), {"ipv4", "udp"}),
        # IPv6
        R("ipv6_udp", eth() / IPv6(**ip6) / udp(20), {"ipv6", "udp"}),
        R("ipv6_tcp", eth() / IPv6(**ip6) / tcp_syn, {"ipv6", "tcp"}),
        R("ipv6_icmpv6_echo", eth() / IPv6(**ip6) / ICMPv6EchoRequest(id=1, seq=1, data=b"x" * 8), {"ipv6", "icmpv6"}),
        R(
            "ipv6_nd_neighbor_solicitation",
            eth() / IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt="fd00:78::2"),
            {"ipv6", "icmpv6"},
        ),
        R(
            "ipv6_icmpv6_error_quoting_udp",
            eth() / IPv6(**ip6) / ICMPv6DestUnreach(code=4) / IPv6(**ip6) / udp(),
            {"ipv6", "icmpv6"},
            "ICMPv6 error: the first L4 decides",
        ),
        R(
            "ipv6_hbh_mld_report",
            eth()
            / IPv6(src="fe80::1", dst="ff02::16", hlim=1)
            / IPv6ExtHdrHopByHop(options=[RouterAlert(), PadN(optdata=b"")])
            / ICMPv6MLReport(),
            {"ipv6", "icmpv6"},
        ),
        R(
            "ipv6_hbh_dst_rt_udp",
            eth() / IPv6(**ip6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting() / udp(4),
            {"ipv6", "udp"},
        ),
        R(
            "ipv6_first_fragment_udp",
            eth() / IPv6(**ip6) / IPv6ExtHdrFragment(offset=0, m=1, id=7) / udp(40),
            {"ipv6", "udp"},
        ),
        R(
            "ipv6_atomic_fragment_udp",
            eth() / IPv6(**ip6) / IPv6ExtHdrFragment(offset=0, m=0, id=8) / udp(),
            {"ipv6", "udp"},
        ),
        R(
            "ipv6_nonfirst_fragment",
            eth() / IPv6(**ip6) / IPv6ExtHdrFragment(offset=3, m=0, id=7, nh=17) / Raw(b"z" * 16),
            {"ipv6", "fragment"},
        ),
        R(
            "ipv6_ah_tcp",
            eth()
            / IPv6(nh=51, **ip6)
            / AH(nh=6, payloadlen=4, spi=1, seq=1, icv=b"\0" * 12)
            / TCP(sport=4000, dport=80, flags="A"),
            {"ipv6", "tcp"},
        ),
        R("ipv6_esp", eth() / IPv6(**ip6) / ESP(spi=0x200, seq=1, data=b"e" * 24), {"ipv6", "esp"}),
        R(
            "ipv6_dstopt_esp",
            eth() / IPv6(**ip6) / IPv6ExtHdrDestOpt(nh=50) / ESP(spi=0x201, seq=2, data=b"e" * 8),
            {"ipv6", "esp"},
        ),
        R(
            "ipv6_sctp",
            eth() / IPv6(**ip6) / SCTP(sport=5000, dport=5001) / SCTPChunkData(data=b"s" * 4),
            {"ipv6", "sctp"},
        ),
        R("ipv6_gre_ipv4", eth() / IPv6(**ip6) / GRE() / IP(**ip4) / udp(), {"ipv6", "gre"}, "tunnel"),
        R("ipv6_no_next_header", eth() / IPv6(nh=59, **ip6) / Raw(b"n" * 8), {"ipv6", "other_l4"}),
        R("ipv6_in_ipv6", eth() / IPv6(nh=41, **ip6) / IPv6(**ip6) / udp(), {"ipv6", "other_l4"}, "tunnel"),
        R("ipv4_in_ipv6", eth() / IPv6(nh=4, **ip6) / IP(**ip4) / udp(), {"ipv6", "other_l4"}, "tunnel"),
        R("ipv6_carrying_protocol_1", eth() / IPv6(nh=1, **ip6) / ICMP(), {"ipv6", "icmp"}),
        R(
            "ipv6_mobility_header",
            eth() / IPv6(nh=135, **ip6) / Raw(bytes.fromhex("3b00010000000000")),
            {"ipv6", "other_l4"},
        ),
        R(
            "ipv6_eight_ext_hdrs_udp",
            eth() / IPv6(**ip6) / dst8() / dst8() / dst8() / dst8() / dst8() / dst8() / dst8() / dst8() / udp(),
            {"ipv6", "udp"},
        ),
        R(
            "ipv6_nine_ext_hdrs_udp",
            eth()
            / IPv6(**ip6)
            / dst8()
            / dst8()
            / dst8()
            / dst8()
            / dst8()
            / dst8()
            / dst8()
            / dst8()
            / dst8()
            / udp(),
            {"ipv6", "other_l4"},
            "beyond the 8-header bound: tshark dissects the UDP, trafstat stops at other_l4",
        ),
        # Other L3
        R("arp_request", eth() / ARP(op=1, hwsrc=ORACLE_SRC_MAC, psrc="10.78.0.1", pdst="10.78.0.3"), {"arp"}),
        R(
            "arp_reply",
            eth() / ARP(op=2, hwsrc=ORACLE_SRC_MAC, psrc="10.78.0.1", hwdst=OTHER_HOST, pdst="10.78.0.3"),
            {"arp"},
        ),
        R("lldp", eth(type=0x88CC) / Raw(LLDP), {"other_l3"}),
        R("stp_8023_llc", eth() / LLC() / STP(), {"other_l3"}),
        R("mpls_unicast", eth(type=0x8847) / Raw(bytes.fromhex("0001a140")) / IP(**ip4) / udp(), {"other_l3"}),
        R("bare_14_local_experimental", eth(type=0x88B5), {"other_l3"}),
        R("ethertype_0000_8023_length_0", eth(type=0x0000) / Raw(bytes.fromhex("424203") + b"\0" * 43), {"other_l3"}),
        # VLAN
        R("vlan_ipv4_udp", eth() / Dot1Q(vlan=100) / IP(**ip4) / udp(12), {"ipv4", "udp", "vlan"}),
        R("vlan_prio_tag_icmp", eth() / Dot1Q(vlan=0, prio=5) / IP(**ip4) / ICMP(), {"ipv4", "icmp", "vlan"}),
        R(
            "vlan_arp",
            eth() / Dot1Q(vlan=100) / ARP(op=1, hwsrc=ORACLE_SRC_MAC, psrc="10.78.0.1", pdst="10.78.0.3"),
            {"arp", "vlan"},
        ),
        R("vlan_ipv6_icmpv6", eth() / Dot1Q(vlan=7) / IPv6(**ip6) / ICMPv6EchoRequest(), {"ipv6", "icmpv6", "vlan"}),
        R("vlan_8023_llc", eth() / Dot1Q(vlan=7) / LLC() / STP(), {"other_l3", "vlan"}),
        R(
            "qinq_88a8_8100_tcp",
            eth() / Dot1AD(vlan=200) / Dot1Q(vlan=100) / IP(**ip4) / TCP(sport=1, dport=2),
            {"ipv4", "tcp", "vlan"},
        ),
        R(
            "qinq_8100_8100_ipv6_udp",
            eth() / Dot1Q(vlan=300) / Dot1Q(vlan=100) / IPv6(**ip6) / udp(),
            {"ipv6", "udp", "vlan"},
        ),
        R("s_tag_only_ipv4_udp", eth() / Dot1AD(vlan=200) / IP(**ip4) / udp(), {"ipv4", "udp", "vlan"}),
        R(
            "three_vlan_tags",
            eth() / Dot1AD(vlan=200) / Dot1Q(vlan=100) / Dot1Q(vlan=50) / IP(**ip4) / udp(),
            {"other_l3", "vlan"},
            "beyond the 2-tag bound: tshark dissects the IPv4/UDP, trafstat other_l3",
        ),
        R(
            "tag_9100_ipv4_udp",
            eth(type=0x9100) / Raw(bytes.fromhex("00640800")) / IP(**ip4) / udp(),
            {"other_l3"},
            "0x9100 is no tag for trafstat: tshark (vlan.qinq_ethertype) dissects a VLAN tag",
        ),
        # PPPoE
        R("pppoe_ipv4_udp", eth() / PPPoE(sessionid=7) / ppp(0x0021) / IP(**ip4) / udp(), {"ipv4", "udp", "pppoe"}),
        R(
            "pppoe_ipv6_icmpv6",
            eth() / PPPoE(sessionid=7) / ppp(0x0057) / IPv6(**ip6) / ICMPv6EchoRequest(),
            {"ipv6", "icmpv6", "pppoe"},
        ),
        R(
            "pppoe_lcp",
            eth() / PPPoE(sessionid=7) / ppp(0xC021) / Raw(bytes.fromhex("09010008deadbeef")),
            {"other_l3", "pppoe"},
        ),
        R(
            "pppoe_ipcp",
            eth() / PPPoE(sessionid=7) / ppp(0x8021) / Raw(bytes.fromhex("0101000a0306c0a80001")),
            {"other_l3", "pppoe"},
        ),
        R("pppoe_discovery_padi", eth() / PPPoED(code=0x09) / Raw(bytes.fromhex("01010000")), {"other_l3"}),
        R(
            "vlan_pppoe_ipv4_tcp",
            eth() / Dot1Q(vlan=100) / PPPoE(sessionid=7) / ppp(0x0021) / IP(**ip4) / TCP(sport=1, dport=2),
            {"ipv4", "tcp", "vlan", "pppoe"},
        ),
        R(
            "pppoe_compressed_protocol_ipv4",
            eth() / PPPoE(sessionid=7) / Raw(b"\x21") / IP(**ip4) / udp(),
            {"other_l3", "pppoe"},
            "PPP protocol-field compression (1 byte): tshark decodes IPv4, trafstat reads 2 bytes: other_l3",
        ),
        # Frames too short for their L2 headers
        # live=False: XDP counts these two, but the kernel drops them before TC ingress.
        R("vlan_cut_inside_tag", eth(type=0x8100) / Raw(b"\x00\x64"), {"malformed"}, live=False),
        R(
            "vlan_second_tag_cut",
            eth() / Dot1Q(vlan=100, type=0x8100) / Raw(b"\x00"),
            {"malformed", "vlan"},
            live=False,
        ),
        R("bare_14_pppoe", eth(type=0x8864), {"malformed"}),
        R("pppoe_cut_before_ppp", eth(type=0x8864) / Raw(bytes.fromhex("110000070002")), {"malformed"}),
        R("pppoe_cut_inside_ppp", eth(type=0x8864) / Raw(bytes.fromhex("11000007000200")), {"malformed"}),
        # IP headers that claim more than the frame holds
        R("bare_14_ipv4", eth(type=0x0800), {"ipv4", "malformed_l4"}),
        R("bare_14_ipv6", eth(type=0x86DD), {"ipv6", "malformed_l4"}),
        R("ipv4_header_cut_at_12", eth(type=0x0800) / Raw(raw(IP(**ip4) / udp())[:12]), {"ipv4", "malformed_l4"}),
        R("ipv4_ihl_4", eth(type=0x0800) / Raw(b"\x44" + raw(IP(**ip4) / udp())[1:]), {"ipv4", "malformed_l4"}),
        R(
            "ipv4_ihl_15_beyond_frame",
            eth(type=0x0800) / Raw(b"\x4f" + raw(IP(len=64, **ip4) / udp(8))[1:]),
            {"ipv4", "malformed_l4"},
        ),
        R(
            "ipv4_version_6_under_0800",
            eth(type=0x0800) / IPv6(**ip6) / udp(),
            {"ipv4", "malformed_l4"},
            "the ethertype decides L3: tshark flags the version and dissects IPv6/UDP, trafstat ipv4 malformed_l4",
        ),
        R("ipv6_version_4_under_86dd", eth(type=0x86DD) / IP(**ip4) / udp(20), {"ipv6", "malformed_l4"}),
        R("ipv6_header_cut_at_20", eth(type=0x86DD) / Raw(raw(IPv6(**ip6))[:20]), {"ipv6", "malformed_l4"}),
        R(
            "ipv6_hbh_cut",
            eth(type=0x86DD) / Raw(raw(IPv6(**ip6) / IPv6ExtHdrHopByHop(len=1) / udp())[: 40 + 10]),
            {"ipv6", "malformed_l4"},
        ),
        R(
            "ipv6_fraghdr_cut",
            eth(type=0x86DD) / Raw(raw(IPv6(**ip6) / IPv6ExtHdrFragment(offset=3))[: 40 + 4]),
            {"ipv6", "malformed_l4"},
        ),
        # L4 headers that claim more than the frame holds
        R("tcp_cut_at_10", eth() / IP(proto=6, **ip4) / Raw(raw(TCP(sport=1, dport=2))[:10]), {"ipv4", "malformed_l4"}),
        R("tcp_doff_beyond_frame", eth() / IP(**ip4) / TCP(sport=1, dport=2, dataofs=15), {"ipv4", "malformed_l4"}),
        R("tcp_doff_4", eth() / IP(**ip4) / TCP(sport=1, dport=2, dataofs=4) / Raw(b"t" * 8), {"ipv4", "malformed_l4"}),
        R("udp_cut_at_4", eth() / IP(proto=17, **ip4) / Raw(b"\x0f\xa0\x0f\xa1"), {"ipv4", "malformed_l4"}),
        R("icmp_cut_at_4", eth() / IP(proto=1, **ip4) / Raw(b"\x08\x00\xf7\xff"), {"ipv4", "malformed_l4"}),
        R(
            "sctp_cut_at_8",
            eth() / IP(proto=132, **ip4) / Raw(raw(SCTP(sport=1, dport=2))[:8]),
            {"ipv4", "malformed_l4"},
        ),
        R("gre_cut_at_2", eth() / IP(proto=47, **ip4) / Raw(b"\x00\x00"), {"ipv4", "malformed_l4"}),
        R("esp_cut_at_4", eth() / IP(proto=50, **ip4) / Raw(b"\x00\x00\x01\x00"), {"ipv4", "malformed_l4"}),
        R("icmpv6_cut_at_4", eth() / IPv6(nh=58, **ip6) / Raw(b"\x80\x00\x00\x00"), {"ipv6", "malformed_l4"}),
        R("ipv6_udp_cut_at_6", eth() / IPv6(nh=17, **ip6) / Raw(b"\x0f\xa0\x0f\xa1\x00\x08"), {"ipv6", "malformed_l4"}),
        R(
            "vlan_ipv4_cut",
            eth() / Dot1Q(vlan=100, type=0x0800) / Raw(raw(IP(**ip4))[:10]),
            {"ipv4", "malformed_l4", "vlan"},
        ),
        # Larger than a veth carries at MTU 1500: replayed, not sent live
        R("jumbo_9000_udp", eth() / IP(**ip4) / udp(9000 - 28), {"ipv4", "udp"}, live=False),
        R(
            "ipv6_udp_header_at_byte_3126",
            eth() / IPv6(**ip6) / IPv6ExtHdrDestOpt(options=pad_2046) / IPv6ExtHdrDestOpt(options=pad_1022) / udp(),
            {"ipv6", "udp"},
            live=False,
        ),
    ]
    return _annotated(rows)


# Rows whose IP-level length fields make tshark give no L4 verdict at all: they are not in the mix
# captures (the oracle would have nothing to compare); each has a dedicated divergence test.
@functools.lru_cache(maxsize=None)
def no_verdict_rows():
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    eth = Ether(dst=OTHER_HOST, src=ORACLE_SRC_MAC, type=0x0800)
    ip4 = dict(src="10.78.0.1", dst="10.78.0.2")
    rows = [
        Row(
            "ipv4_total_length_below_header",
            eth / Raw(b"\x46" + raw(IP(len=20, options=[b"\x01" * 4], **ip4) / UDP(sport=1, dport=2))[1:]),
            {"ipv4", "udp"},
            "IP total length 20 < IHL 24: tshark stops ('Bogus IP length'); trafstat honours IHL, reads UDP",
        ),
    ]
    return _annotated(rows)


def link_variants(rows, linktype):
    """The rows as records of another link type: [(name, record bytes, the classes trafstat must give
    them)], without the rows that have no place in that link type. Raw IP loses the VLAN/PPPoE
    layers; cooked captures keep whatever follows the ethertype."""
    out = []
    src = bytes.fromhex(ORACLE_SRC_MAC.replace(":", ""))
    for r in rows:
        etype, payload = int.from_bytes(r.frame[12:14], "big"), r.frame[ETH_HLEN:]
        if linktype in (LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2):
            cooked = sll if linktype == LINKTYPE_LINUX_SLL else sll2
            out.append((r.name, cooked(etype, payload, src), r.classes))
            continue
        want = {
            LINKTYPE_RAW: (ETHERTYPE_IPV4, ETHERTYPE_IPV6),
            LINKTYPE_IPV4: (ETHERTYPE_IPV4,),
            LINKTYPE_IPV6: (ETHERTYPE_IPV6,),
        }[linktype]
        if etype not in want:
            continue
        if linktype == LINKTYPE_RAW:
            version = payload[0] >> 4 if payload else None
            if (version, etype) not in ((4, ETHERTYPE_IPV4), (6, ETHERTYPE_IPV6)):
                continue  # raw IP decides by the version nibble: the records added below
        out.append((r.name, payload, r.classes))
    if linktype == LINKTYPE_RAW:
        out += [
            ("raw_empty_record", b"", frozenset({"other_l3"})),
            ("raw_version_5", b"\x50" + b"\0" * 39, frozenset({"other_l3"})),
            ("raw_version_0", b"\x05" + b"\xaa" * 19, frozenset({"other_l3"})),
        ]
    return out
