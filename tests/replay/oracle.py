"""The replay oracle: tshark's reading of a capture, in trafstat's terms (rules: docs/replay-oracle.md).

  part 1  dissect(): every record of a capture as tshark 4.0 dissects it (its PDML, -T pdml: every
          protocol layer, with its fields, their values and their byte positions)
  part 2  classify(): one dissected record -> trafstat's classes and bytes (a Verdict), read from
          tshark's layers and fields only: the oracle never parses packet bytes itself
  part 3  tshark's statistics (-z endpoints, -z conv) and field extracts, for the talkers and flows
          views (docs/tables.md)

No trafstat here: oracle_test.py compares trafstat with it, and tests it on its own (TestOracle).
"""

import dataclasses
import functools
import xml.etree.ElementTree as ET

import testlib
from testlib import ETH_HLEN
from frames import ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6

# ---------------------------------------------------------------------------
# The oracle, part 1: tshark's dissection of every record, from its PDML.
# ---------------------------------------------------------------------------

TSHARK = "tshark"
# tshark 4.0 preferences (names checked with `tshark -G currentprefs`): no reassembly, so that each
# record is dissected on its own, as trafstat sees it.
TSHARK_PREFS = (
    "ip.defragment:FALSE",
    "ipv6.defragment:FALSE",
    "tcp.desegment_tcp_streams:FALSE",
    "tcp.analyze_sequence_numbers:FALSE",
    "tcp.reassemble_out_of_order:FALSE",
)
# 802.1ad S-tags dissected like 802.1Q C-tags: the ieee8021ad dissector has no field for the
# ethertype after the tag, the vlan dissector has (vlan.etype). Both tags are 4 bytes: TCI, type.
TSHARK_DECODE_AS = ("ethertype==0x88a8,vlan",)


def tshark(path, *args, check=True, text=True):
    """`tshark -n -r path ARGS` with the oracle's preferences, to completion (300 s at most)."""
    prefs = [arg for pref in TSHARK_PREFS for arg in ("-o", pref)]
    return testlib.run_command(
        [TSHARK, "-n", "-r", path, *args, *prefs], check=check, timeout=300, text=text, output_tail=2000
    )


@dataclasses.dataclass
class Field:
    show: str
    pos: int
    size: int

    def int(self):
        return int(self.show, 0)


@dataclasses.dataclass
class Layer:
    """One <proto> of the PDML, with the fields directly under it (nested fields included,
    nested protocols not: those are layers of their own, in document order)."""

    name: str
    pos: int
    size: int
    fields: dict

    def field(self, name):
        found = self.fields.get(name)
        return found[0] if found else None

    def int(self, name):
        f = self.field(name)
        return None if f is None else f.int()


@dataclasses.dataclass
class Frame:
    number: int  # tshark's frame number (records of any kind, counted from 1)
    time_ns: object  # int ns since the epoch, None when the record has no timestamp
    wire: int  # frame.len: the original length of the record
    cap: int  # frame.cap_len: the bytes the record holds
    encap: object  # frame.encap_type (wiretap encapsulation), None: not a packet
    protocols: str  # frame.protocols, for reports
    layers: list  # Layer, in document order
    errors: list  # tshark's [Malformed Packet: X] / [Packet size limited ...] notes

    def find(self, name, pos):
        """The layer `name` that starts at byte `pos`, or None."""
        for layer in self.layers:
            if layer.name == name and layer.pos == pos:
                return layer
        return None

    def at(self, pos):
        """Names of the layers that start at byte `pos`."""
        return [layer.name for layer in self.layers if layer.pos == pos]


def _time_ns(show):
    sec, _, frac = show.partition(".")
    return int(sec) * 1_000_000_000 + int((frac + "000000000")[:9])


def _frame_of(packet):
    layers, errors, frame_fields = [], [], {}

    def walk(elem, current):
        for child in elem:
            if child.tag == "proto":
                name = child.get("name", "")
                if name.startswith("_ws."):
                    if name in ("_ws.malformed", "_ws.short") and child.get("hide") != "yes":
                        errors.append(child.get("showname", name))
                    continue
                if name in ("geninfo", "fake-field-wrapper"):
                    continue
                layer = Layer(name, int(child.get("pos", 0)), int(child.get("size", 0)), {})
                if name == "frame":
                    frame_fields.update({"layer": layer})
                else:
                    layers.append(layer)
                walk(child, layer)
            elif child.tag == "field":
                if current is not None and child.get("show") is not None:
                    current.fields.setdefault(child.get("name"), []).append(
                        Field(child.get("show"), int(child.get("pos", 0)), int(child.get("size", 0)))
                    )
                walk(child, current)

    walk(packet, None)
    frame = frame_fields["layer"]
    encap = frame.int("frame.encap_type")
    t = frame.field("frame.time_epoch")
    return Frame(
        number=frame.int("frame.number"),
        time_ns=_time_ns(t.show) if t else None,
        wire=frame.int("frame.len"),
        cap=frame.int("frame.cap_len"),
        encap=encap,
        protocols=(frame.field("frame.protocols") or Field("", 0, 0)).show,
        layers=layers,
        errors=errors,
    )


@functools.lru_cache(maxsize=None)
def dissect(path, allow_error=False):
    """tshark's dissection of every record of `path`: a tuple of Frame (packets and other records).
    allow_error: the file is known to be damaged after its first records (tshark stops with an error)."""
    decode_as = [arg for rule in TSHARK_DECODE_AS for arg in ("-d", rule)]
    p = tshark(path, "-T", "pdml", *decode_as, check=False, text=False)
    if p.returncode != 0 and not allow_error:
        raise AssertionError(f"tshark failed on {path} (exit {p.returncode}): {p.stderr.decode()[-1000:]}")
    out = p.stdout
    if p.returncode != 0 and b"</pdml>" not in out[-20:]:
        out += b"</pdml>\n"  # tshark stopped mid-file: close the document it started
    root = ET.fromstring(out)
    return tuple(_frame_of(packet) for packet in root.iter("packet"))


# ---------------------------------------------------------------------------
# The oracle, part 2: tshark's layers -> trafstat's classes (rules: docs/replay-oracle.md).
# ---------------------------------------------------------------------------

# Wiretap encapsulations (frame.encap_type) of the link types trafstat replays, and what trafstat
# does to their length: bytes = frame.len + delta (a synthesised 14-byte Ethernet header replaces
# nothing, the 16-byte SLL or the 20-byte SLL2 header).
ENCAP_ETHERNET, ENCAP_RAW, ENCAP_RAW4, ENCAP_RAW6, ENCAP_SLL, ENCAP_SLL2 = 1, 7, 129, 130, 25, 210
BYTES_DELTA = {
    ENCAP_ETHERNET: 0,
    ENCAP_RAW: ETH_HLEN,
    ENCAP_RAW4: ETH_HLEN,
    ENCAP_RAW6: ETH_HLEN,
    ENCAP_SLL: ETH_HLEN - 16,
    ENCAP_SLL2: ETH_HLEN - 20,
}

ETHERTYPE_PPPOE_SESSION = 0x8864
TAG_ETHERTYPES = (0x8100, 0x88A8)  # docs/classes.md: 802.1Q and 802.1ad, nothing else
MAX_TAGS = 2
PPP_IPV4, PPP_IPV6 = 0x0021, 0x0057
# IPv6 extension headers trafstat walks, by next-header value: tshark's layer for each.
IPV6_EXT = {0: "ipv6.hopopts", 43: "ipv6.routing", 44: "ipv6.fraghdr", 60: "ipv6.dstopts", 51: "ah"}
MAX_IPV6_EXT = 8
# L4 classes by IP protocol number, tshark's layer for each, and the header bytes that must be there.
L4_BY_PROTO = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6", 132: "sctp", 47: "gre", 50: "esp"}
L4_LAYER = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "icmpv6", "sctp": "sctp", "gre": "gre", "esp": "esp"}
L4_MIN_BYTES = {"tcp": 20, "udp": 8, "icmp": 8, "icmpv6": 8, "sctp": 12, "gre": 4, "esp": 8}


class OracleError(AssertionError):
    """tshark's dissection lacks what a rule needs: the oracle has no verdict for this frame."""


@dataclasses.dataclass(frozen=True)
class Verdict:
    classes: frozenset  # one L3 class, one L4 class for IP, flags
    bytes: int
    why: str  # the path through tshark's layers, for reports


class Classifier:
    """Maps one Frame onto trafstat's classes. Each step reads tshark's layers and fields; the
    only numbers of its own are the class rules of docs/classes.md."""

    def __init__(self, frame):
        self.f = frame
        self.trace = []
        self.flags = set()

    def note(self, text):
        self.trace.append(text)

    def present(self, end):
        """The record holds bytes up to offset `end` (exclusive)."""
        return end <= self.f.cap

    def fail(self, why):
        raise OracleError(f"frame {self.f.number} ({self.f.protocols}): {why}; trace: {' > '.join(self.trace)}")

    def verdict(self, *classes):
        return Verdict(
            frozenset((*classes, *self.flags)), self.f.wire + BYTES_DELTA[self.f.encap], " > ".join(self.trace)
        )

    # -- link layer ----------------------------------------------------------------------------

    def classify(self):
        f = self.f
        if f.encap not in BYTES_DELTA:
            self.fail(f"encapsulation {f.encap} is not one trafstat replays")
        if f.encap == ENCAP_ETHERNET:
            eth = f.find("eth", 0)
            etype = eth and (eth.field("eth.type") or eth.field("eth.len"))
            if etype is None or not self.present(etype.pos + 2):
                self.note("eth: cut")
                return self.verdict("malformed")
            self.note(f"eth {etype.int():#06x}")
            return self.ethertype(etype.int(), etype.pos + 2)
        if f.encap in (ENCAP_SLL, ENCAP_SLL2):
            sll = f.find("sll", 0)
            proto = sll and (sll.field("sll.etype") or sll.field("sll.ltype") or sll.field("sll.gretype"))
            hlen = 16 if f.encap == ENCAP_SLL else 20
            if proto is None or not self.present(hlen):
                self.note("sll: cut")
                return self.verdict("malformed")
            if sll.size != hlen:
                self.fail(f"cooked header of {sll.size} bytes")
            self.note(f"sll {proto.int():#06x}")
            return self.ethertype(proto.int(), hlen)
        if f.encap == ENCAP_RAW4:
            return self.ethertype(ETHERTYPE_IPV4, 0)
        if f.encap == ENCAP_RAW6:
            return self.ethertype(ETHERTYPE_IPV6, 0)
        # Raw IP: tshark's raw dissector picks IPv4 or IPv6 by the version nibble, as trafstat does.
        names = [n for n in f.at(0) if n != "raw"]
        if "ip" in names:
            return self.ethertype(ETHERTYPE_IPV4, 0)
        if "ipv6" in names:
            return self.ethertype(ETHERTYPE_IPV6, 0)
        if f.protocols in ("raw", "raw:data"):  # an empty record, or no IP version tshark knows
            self.note("raw: no IP version")
            return self.verdict("other_l3")
        self.fail(f"raw record dissected as {f.protocols}")

    def ethertype(self, etype, off):
        f = self.f
        tags = 0
        while etype in TAG_ETHERTYPES:
            if tags == MAX_TAGS:
                self.note("third tag")
                return self.verdict("other_l3")
            tag = f.find("vlan", off)
            inner = tag and (tag.field("vlan.etype") or tag.field("vlan.len"))
            if inner is None or not self.present(off + 4):
                if self.present(off + 4):
                    self.fail("a complete tag tshark did not dissect")
                self.note("tag: cut")
                return self.verdict("malformed")
            self.flags.add("vlan")
            tags += 1
            etype, off = inner.int(), off + 4
            self.note(f"tag {etype:#06x}")
        if etype == ETHERTYPE_PPPOE_SESSION:
            ppp = f.find("ppp", off + 6)
            proto = ppp and ppp.field("ppp.protocol")
            if not self.present(off + 8):
                self.note("pppoe: cut")
                return self.verdict("malformed")
            if f.find("pppoes", off) is None or proto is None:
                self.fail("a complete PPPoE session header tshark did not dissect")
            self.flags.add("pppoe")
            # PPP protocol-field compression (a 1-byte protocol): tshark decodes it, trafstat reads
            # two bytes, which then never name IPv4 or IPv6.
            if proto.size != 2:
                self.note(f"ppp {proto.int():#06x} compressed")
                return self.verdict("other_l3")
            self.note(f"ppp {proto.int():#06x}")
            etype = {PPP_IPV4: ETHERTYPE_IPV4, PPP_IPV6: ETHERTYPE_IPV6}.get(proto.int())
            if etype is None:
                return self.verdict("other_l3")
            off += 8
        if etype == ETHERTYPE_IPV4:
            return self.verdict("ipv4", self.ipv4(off))
        if etype == ETHERTYPE_IPV6:
            return self.verdict("ipv6", self.ipv6(off))
        if etype == ETHERTYPE_ARP:
            return self.verdict("arp")
        return self.verdict("other_l3")

    # -- IP ------------------------------------------------------------------------------------

    def ipv4(self, off):
        f = self.f
        if not self.present(off + 1):
            self.note("ip: no byte")
            return "malformed_l4"
        ip = f.find("ip", off)
        if ip is None and f.find("ipv6", off) is not None:
            # tshark's IPv4 dissector hands a version-6 header to IPv6 (for raw IPv4 without a layer
            # of its own): not version 4.
            self.note("ip: tshark found IPv6")
            return "malformed_l4"
        if ip is None:
            self.fail("an IPv4 header tshark did not dissect")
        version, hdr_len = ip.int("ip.version"), ip.int("ip.hdr_len")
        self.note(f"ip v{version} hl {hdr_len}")
        if version != 4 or hdr_len is None or hdr_len < 20 or not self.present(off + hdr_len):
            return "malformed_l4"
        frag, proto = ip.int("ip.frag_offset"), ip.int("ip.proto")
        if frag is None or proto is None:
            self.fail("tshark stopped inside a complete IPv4 header")
        if frag != 0:
            self.note(f"frag {frag}")
            return "fragment"
        return self.l4(proto, off + hdr_len)

    def ipv6(self, off):
        f = self.f
        if not self.present(off + 1):
            self.note("ipv6: no byte")
            return "malformed_l4"
        ip6 = f.find("ipv6", off)
        if ip6 is None:
            self.fail("an IPv6 header tshark did not dissect")
        version = ip6.int("ipv6.version")
        self.note(f"ipv6 v{version}")
        if version != 6 or not self.present(off + 40):
            return "malformed_l4"
        nxt, pos = ip6.int("ipv6.nxt"), off + 40
        for _ in range(MAX_IPV6_EXT):
            name = IPV6_EXT.get(nxt)
            if name is None:
                return self.l4(nxt, pos)
            # Next header and length (2 bytes), or the whole 8-byte fragment header.
            if not self.present(pos + (8 if name == "ipv6.fraghdr" else 2)):
                self.note(f"{name}: cut")
                return "malformed_l4"
            hdr = f.find(name, pos)
            if hdr is None:
                self.fail(f"an extension header {name} at {pos} tshark did not dissect")
            if name == "ipv6.fraghdr":
                length, offset = 8, hdr.int("ipv6.fraghdr.offset")
                if offset != 0:
                    self.note(f"fraghdr offset {offset}")
                    return "fragment"
                nxt = hdr.int("ipv6.fraghdr.nxt")
            elif name == "ah":
                length, nxt = (hdr.int("ah.length") + 2) * 4, hdr.int("ah.next_header")  # RFC 4302
            else:
                length, nxt = hdr.int(f"{name}.len_oct"), hdr.int(f"{name}.nxt")
            self.note(f"{name} {length}")
            if length is None or nxt is None:
                self.fail(f"tshark gave no length/next header for {name}")
            if not self.present(pos + length):
                return "malformed_l4"
            pos += length
        if nxt in IPV6_EXT:
            self.note("ninth extension header")
            return "other_l4"
        return self.l4(nxt, pos)

    def l4(self, proto, off):
        f = self.f
        cls = L4_BY_PROTO.get(proto, "other_l4")
        self.note(f"proto {proto} at {off}")
        if cls == "other_l4":
            return cls
        # tshark's layer at the L4 offset must be the one the protocol number names (ICMP errors,
        # GRE and other tunnels carry more layers after it: the first one decides).
        layer = f.find(L4_LAYER[cls], off)
        others = [n for n in f.at(off) if n not in ("data", L4_LAYER[cls])]
        if layer is None and others:
            self.fail(f"tshark dissected {others} where protocol {proto} starts")
        if not self.present(off + L4_MIN_BYTES[cls]):
            return "malformed_l4"
        if cls == "tcp":
            hdr_len = layer and layer.int("tcp.hdr_len")
            if hdr_len is None:
                self.fail("a TCP header tshark did not dissect")
            self.note(f"tcp hl {hdr_len}")
            if hdr_len < 20 or not self.present(off + hdr_len):
                return "malformed_l4"
        return cls


def classify(frame):
    return Classifier(frame).classify()


def packets_of(frames):
    """The packet records of a dissection (pcapng custom blocks and the like are not packets)."""
    return [f for f in frames if f.encap is not None]


def tally(verdicts):
    """{class: (packets, bytes)} and {ipv4|ipv6: {l4: (packets, bytes)}}, as in the JSON summary."""
    return testlib.tally((v.classes, v.bytes) for v in verdicts)


# ---------------------------------------------------------------------------
# The oracle, part 3: tshark's statistics, for the talkers and flows views (docs/tables.md).
# ---------------------------------------------------------------------------


def tshark_stat(path, stat):
    """The rows of `tshark -q -z STAT` (endpoints,ip / conv,tcp ...), with the oracle's preferences."""
    out = tshark(path, "-q", "-z", stat).stdout
    return [
        line.split()
        for line in out.splitlines()
        if line and not line.startswith(("=", "Filter", " ", "IPv", "TCP", "UDP"))
    ]


def endpoints(path, layer):
    """{address or (address, port): (packets, bytes, tx packets, tx bytes, rx packets, rx bytes)}."""
    out = {}
    for row in tshark_stat(path, f"endpoints,{layer}"):
        if layer in ("ip", "ipv6"):
            addr, nums = row[0], row[1:7]
            out[addr] = tuple(int(x) for x in nums)
        else:
            addr, port, nums = row[0], int(row[1]), row[2:8]
            out[(addr, port)] = tuple(int(x) for x in nums)
    return out


def conversation_frames(path, layer):
    """{(A, portA, B, portB): (frames B->A, frames A->B)} of `-z conv,tcp|udp` (bytes there are rounded)."""
    out = {}
    for row in tshark_stat(path, f"conv,{layer}"):
        a, b = row[0].rsplit(":", 1), row[2].rsplit(":", 1)
        # "<-": frames B -> A, then its bytes (with a unit); "->": frames A -> B
        units = ("bytes", "kB", "MB", "GB")
        nums = [x for x in row[3:] if x not in units]
        out[(a[0], int(a[1]), b[0], int(b[1]))] = (int(nums[0]), int(nums[2]))
    return out


def nested_ip_frames(path):
    """Frames with more than one IP header (tunnels): tshark's taps count each IP layer, trafstat the
    outer one alone (docs/tables.md), so those captures are not compared. ICMP errors quote a packet's
    IP header too, but tshark's taps skip what an error quotes, as trafstat does: not counted here.
    (Each count on its own: `count(ip) + count(ipv6)` has no value where either field is absent.)"""
    nested = (
        "(count(ip) > 1 or count(ipv6) > 1 or (ip and ipv6)) "
        "and not (icmp.type in {3, 4, 5, 11, 12} or icmpv6.type < 128)"
    )
    return len(tshark(path, "-Y", nested, "-T", "fields", "-e", "frame.number").stdout.split())


def non_first_ipv6_fragments(path):
    """(src, dst, frame length) of every non-first IPv6 fragment, per tshark."""
    fields = tshark(
        path,
        "-Y",
        "ipv6.fraghdr.offset > 0",
        "-T",
        "fields",
        "-E",
        "separator=,",
        "-e",
        "ipv6.src",
        "-e",
        "ipv6.dst",
        "-e",
        "frame.len",
    )
    out = []
    for line in fields.stdout.splitlines():
        src, dst, length = line.split(",")
        out.append((src, dst, int(length)))
    return out


def flow_times(path):
    """{(src, sport, dst, dport, proto): (first, last)} over every TCP/UDP frame: tshark's frame.time_epoch."""
    # ICMP errors quote a TCP/UDP header: not a packet of that flow
    fields = tshark(
        path,
        "-Y",
        "(tcp or udp) and not icmp and not icmpv6",
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=f",
        "-e",
        "frame.time_epoch",
        "-e",
        "ip.src",
        "-e",
        "ipv6.src",
        "-e",
        "ip.dst",
        "-e",
        "ipv6.dst",
        "-e",
        "tcp.srcport",
        "-e",
        "udp.srcport",
        "-e",
        "tcp.dstport",
        "-e",
        "udp.dstport",
    )
    out = {}
    for line in fields.stdout.splitlines():
        t, src4, src6, dst4, dst6, tsport, usport, tdport, udport = line.split("|")
        key = (src4 or src6, int(tsport or usport), dst4 or dst6, int(tdport or udport), "tcp" if tsport else "udp")
        times = out.setdefault(key, [])
        # A pcapng simple packet block has no time; a time of 0 (the epoch) is no time to trafstat
        if t and float(t) != 0:
            times.append(float(t))
    return {k: (min(v), max(v)) if v else (None, None) for k, v in out.items()}
