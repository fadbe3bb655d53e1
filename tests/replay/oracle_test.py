#!/usr/bin/python3
"""trafstat replay against an independent oracle: tshark's dissection of the same capture.

Run as root:  /usr/bin/python3 tests/replay/oracle_test.py --trafstat build/trafstat [-v] [-k PATTERN]

`trafstat replay --json FILE` runs every record of a capture through trafstat's own XDP program
(BPF_PROG_TEST_RUN). This suite proves that its per-class packets and bytes EQUAL what tshark 4.0
says about the same records, mapped onto trafstat's classes (docs/classes.md) by the rules written
down in docs/replay-oracle.md. The mapping reads tshark's PDML (-T pdml): every protocol layer
tshark dissected, with its fields, their values and their byte positions; it never parses packet
bytes itself.

Captures (one named test each):
  installed   every capture shipped by the Debian packages this suite depends on (python3-dpkt,
              pcapfix, golang-github-google-gopacket-dev); the ones libpcap cannot read, or whose
              link type trafstat rejects, must fail with exit 7, a one-line reason, and a report
              equal to the oracle's for the records read before the failure
  generated   a scapy mix (VLAN, QinQ, PPPoE, ARP, SCTP, GRE, ESP, IPv6 extension headers, tunnels,
              truncated and malformed headers) as Ethernet, raw IP (linktypes 101, 228, 229), Linux
              cooked (113, 276), snap-length-truncated copies (editcap -s), and pcapng with
              nanosecond timestamps
  recorded    real traffic between two network namespaces created here, recorded with dumpcap:
              ARP, IPv6 ND/MLD, ping, ping -6, UDP, a TCP transfer, IPv4 and IPv6 fragments
Other tests:
  oracle      the tshark mapping reproduces the hand-written class of every generated frame
              (no trafstat involved: it tests the oracle itself)
  divergence  one frame per documented rule where trafstat and tshark's dissection disagree on
              purpose (tunnels, PPP protocol compression, 0x9100 tags, IP length fields, ...)
  live        tcpreplay of the mix across a veth into live `trafstat --hook xdp|tc-ingress`:
              the live summary equals `trafstat replay` of the same file, class by class
  intervals   `replay -i SECONDS`: each interval line holds exactly the records whose capture
              timestamps fall in [t0 + k*i, t0 + (k+1)*i), class by class, and they add up

Safety: namespaces and veths are created here (tsrpl-<pid>-<n>-snd/-rcv) and removed on every exit
path (class cleanups, atexit, SIGINT/SIGTERM/SIGHUP handlers, a sweep of a dead earlier run's
leftovers). trafstat attaches only to those veths; no other interface is touched.

Privileges: without root the run SKIPs with exit code 77, unless CI=true, where it fails.
"""

import atexit
import collections
import dataclasses
import functools
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import CLASSES, ETH_HLEN, L4, FLAGS, check_classes, counts, in_ns  # noqa: E402
from frames import (ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, LINKTYPE_ETHERNET, LINKTYPE_IPV4,  # noqa: E402
                    LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW, ORACLE_SRC_MAC, T0_NS,
                    Interface, Record, Row, e2e_mix, link_variants, no_verdict_rows, oracle_mix, pcap, pcapng, write)

TRAFSTAT = ""       # set by main(): absolute path of the binary under test
TSHARK = "tshark"
WORK = ""           # set by main(): this run's temp directory

# ---------------------------------------------------------------------------
# Processes: every child is registered so that any exit path can end it.
# ---------------------------------------------------------------------------

H = testlib.Harness("replay-oracle", "tsrpl-", run_timeout=60, output_tail=2000)
run, spawn, reap = H.run, H.spawn, H.reap


# ---------------------------------------------------------------------------
# The oracle, part 1: tshark's dissection of every record, from its PDML.
# ---------------------------------------------------------------------------

# tshark 4.0 preferences (names checked with `tshark -G currentprefs`): no reassembly, so that each
# record is dissected on its own, as trafstat sees it.
TSHARK_PREFS = ("ip.defragment:FALSE", "ipv6.defragment:FALSE", "tcp.desegment_tcp_streams:FALSE",
                "tcp.analyze_sequence_numbers:FALSE", "tcp.reassemble_out_of_order:FALSE")
# 802.1ad S-tags dissected like 802.1Q C-tags: the ieee8021ad dissector has no field for the
# ethertype after the tag, the vlan dissector has (vlan.etype). Both tags are 4 bytes: TCI, type.
TSHARK_DECODE_AS = ("ethertype==0x88a8,vlan",)


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
    number: int              # tshark's frame number (records of any kind, counted from 1)
    time_ns: object          # int ns since the epoch, None when the record has no timestamp
    wire: int                # frame.len: the original length of the record
    cap: int                 # frame.cap_len: the bytes the record holds
    encap: object            # frame.encap_type (wiretap encapsulation), None: not a packet
    protocols: str           # frame.protocols, for reports
    layers: list             # Layer, in document order
    errors: list             # tshark's [Malformed Packet: X] / [Packet size limited ...] notes

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
                        Field(child.get("show"), int(child.get("pos", 0)), int(child.get("size", 0))))
                walk(child, current)

    walk(packet, None)
    frame = frame_fields["layer"]
    encap = frame.int("frame.encap_type")
    t = frame.field("frame.time_epoch")
    return Frame(number=frame.int("frame.number"), time_ns=_time_ns(t.show) if t else None,
                 wire=frame.int("frame.len"), cap=frame.int("frame.cap_len"), encap=encap,
                 protocols=(frame.field("frame.protocols") or Field("", 0, 0)).show,
                 layers=layers, errors=errors)


@functools.lru_cache(maxsize=None)
def dissect(path, allow_error=False):
    """tshark's dissection of every record of `path`: a tuple of Frame (packets and other records).
    allow_error: the file is known to be damaged after its first records (tshark stops with an error)."""
    cmd = [TSHARK, "-n", "-r", path, "-T", "pdml"]
    for pref in TSHARK_PREFS:
        cmd += ["-o", pref]
    for rule in TSHARK_DECODE_AS:
        cmd += ["-d", rule]
    p = run(cmd, check=False, timeout=300, text=False)
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
BYTES_DELTA = {ENCAP_ETHERNET: 0, ENCAP_RAW: ETH_HLEN, ENCAP_RAW4: ETH_HLEN, ENCAP_RAW6: ETH_HLEN,
               ENCAP_SLL: ETH_HLEN - 16, ENCAP_SLL2: ETH_HLEN - 20}

ETHERTYPE_PPPOE_SESSION = 0x8864
TAG_ETHERTYPES = (0x8100, 0x88A8)       # docs/classes.md: 802.1Q and 802.1ad, nothing else
MAX_TAGS = 2
PPP_IPV4, PPP_IPV6 = 0x0021, 0x0057
# IPv6 extension headers trafstat walks, by next-header value: tshark's layer for each.
IPV6_EXT = {0: "ipv6.hopopts", 43: "ipv6.routing", 44: "ipv6.fraghdr", 60: "ipv6.dstopts", 51: "ah"}
MAX_IPV6_EXT = 8
# L4 classes by IP protocol number, tshark's layer for each, and the header bytes that must be there.
L4_BY_PROTO = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6", 132: "sctp", 47: "gre", 50: "esp"}
L4_LAYER = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "icmpv6", "sctp": "sctp", "gre": "gre",
            "esp": "esp"}
L4_MIN_BYTES = {"tcp": 20, "udp": 8, "icmp": 8, "icmpv6": 8, "sctp": 12, "gre": 4, "esp": 8}


class OracleError(AssertionError):
    """tshark's dissection lacks what a rule needs: the oracle has no verdict for this frame."""


@dataclasses.dataclass(frozen=True)
class Verdict:
    classes: frozenset  # one L3 class, one L4 class for IP, flags
    bytes: int
    why: str            # the path through tshark's layers, for reports


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
        return Verdict(frozenset((*classes, *self.flags)), self.f.wire + BYTES_DELTA[self.f.encap],
                       " > ".join(self.trace))

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
# trafstat replay: run, parse, compare.
# ---------------------------------------------------------------------------

Result = testlib.Result


def replay(path, *args, timeout=300):
    p = run([TRAFSTAT, "replay", "--json", *args, path], check=False, timeout=timeout)
    return Result(p.returncode, p.stdout, p.stderr)


def compact(classes):
    """{class: (packets, bytes)} of every class of the schema (each must be there)."""
    return testlib.compact(classes, CLASSES)


def compact_l4(l4_by_ip):
    return testlib.compact_l4(l4_by_ip, L4)


def replay_entry(test, res, path):
    """The one interface object of a replay summary, checked for shape and reconciliation."""
    s = res.summary
    test.assertEqual(len(s["interfaces"]), 1, s)
    entry = s["interfaces"][0]
    test.assertEqual((entry["name"], entry["hook"], entry["mode"]), (path, "xdp", "replay"))
    test.assertEqual(compact(s["total"]["classes"]), compact(entry["classes"]), "total != the one interface")
    assert_reconciles(test, entry)
    return entry


def assert_reconciles(test, entry):
    testlib.assert_reconciles(test, entry)


# Every mismatch found, for the report printed at the end of the run.
FINDINGS = []
COVERAGE = collections.OrderedDict()   # capture -> description


def single_record_classes(path, frame):
    """trafstat's classes for one record, replayed alone (editcap keeps the file's format and link type)."""
    one = os.path.join(WORK, f"single-{os.getpid()}-{frame.number}.{'pcapng' if path.endswith('ng') else 'pcap'}")
    run(["editcap", "-r", path, one, str(frame.number)])
    try:
        res = replay(one)
        if res.rc != 0:
            return f"exit {res.rc}: {res.stderr.strip()}", None
        entry = res.summary["interfaces"][0]
        got = compact(entry["classes"])
        return frozenset(c for c in CLASSES if c != "all" and got[c][0]), got["all"][1]
    finally:
        os.unlink(one)


def diagnose(path, verdicts, want, got, limit=300):
    """Finds the records behind a mismatch: each record of a class that differs, replayed alone."""
    differing = {c for c in CLASSES if want[c] != got[c]}
    groups = collections.OrderedDict()   # (oracle classes, trafstat classes, byte difference) -> frames
    candidates = [(f, v) for f, v in verdicts if v.classes & differing or "all" in differing]
    for f, v in candidates[:limit]:
        classes, nbytes = single_record_classes(path, f)
        if classes != v.classes or nbytes != v.bytes:
            shown = sorted(classes) if isinstance(classes, frozenset) else classes
            key = (str(sorted(v.classes)), str(shown), None if nbytes is None else nbytes - v.bytes)
            groups.setdefault(key, []).append((f, v, nbytes))
    lines = []
    for (oracle, trafstat, delta), frames in groups.items():
        lines.append(f"  {len(frames)} record(s): tshark oracle {oracle}, trafstat {trafstat}"
                     + (f", trafstat bytes {delta:+d} each" if delta else "") + ", e.g.")
        for f, v, nbytes in frames[:3]:
            lines.append(f"    frame {f.number} ({f.protocols}, {f.cap} of {f.wire} bytes captured): oracle "
                         f"{v.bytes} B [{v.why}], trafstat {nbytes} B")
    if len(candidates) > limit:
        lines.append(f"  ({len(candidates) - limit} more candidate records not replayed one by one)")
    return lines


def compare_with_oracle(test, path, *, frames=None, expect_rc=0, reason=None, records_read=None, label=None):
    """trafstat replay of `path` against the oracle of its packet records (the first `records_read`
    of them when trafstat must stop early with exit 7 and `reason`)."""
    frames = packets_of(dissect(path) if frames is None else frames)
    if records_read is not None:
        frames = frames[:records_read]
    verdicts = [(f, classify(f)) for f in frames]
    for f, v in verdicts:
        check_classes(v.classes, f"{path} frame {f.number}: {v}")
    want, want_l4 = tally(v for _f, v in verdicts)
    res = replay(path)
    label = label or path
    COVERAGE[label] = (f"{len(frames)} packet records" + (f", trafstat exit {expect_rc}" if expect_rc else ""))
    if expect_rc == 0:
        test.assertEqual(res.rc, 0, f"trafstat replay {path}: {res.stderr}")
    else:
        test.assertEqual(res.rc, expect_rc, f"trafstat replay {path}: {res.stderr}")
        err = res.stderr.strip().splitlines()
        test.assertTrue(err and err[0].startswith("trafstat: ") and path in err[0], res.stderr)
        test.assertIn(reason, err[0])
    entry = replay_entry(test, res, path)
    got = compact(entry["classes"])
    if got != want or compact_l4(entry["l4_by_ip"]) != want_l4:
        detail = diagnose(path, verdicts, want, got) if got != want else ["  (l4_by_ip differs only)"]
        diff = {c: {"tshark": want[c], "trafstat": got[c]} for c in CLASSES if want[c] != got[c]}
        FINDINGS.append(f"{label}: {diff}\n" + "\n".join(detail))
        test.fail(f"trafstat replay != tshark oracle for {path}:\n{json.dumps(diff)}\n" + "\n".join(detail))
    test.assertEqual(compact_l4(entry["l4_by_ip"]), want_l4)
    return want, verdicts


# ---------------------------------------------------------------------------
# Captures: installed by Debian packages, generated here, recorded here.
# ---------------------------------------------------------------------------

GOPACKET = "/usr/share/gocode/src/github.com/google/gopacket"
INSTALLED_GLOBS = (
    ("python3-dpkt", "/usr/share/doc/python3-dpkt/examples/data/*.pcap"),
    ("pcapfix", "/usr/share/doc/pcapfix/examples/test.pcap"),
    ("pcapfix", "/usr/share/doc/pcapfix/examples/test_2018.pcap"),
    ("golang-github-google-gopacket-dev", f"{GOPACKET}/pcap/*.pcap"),
    ("golang-github-google-gopacket-dev", f"{GOPACKET}/pcapgo/tests/le/*.pcapng"),
    ("golang-github-google-gopacket-dev", f"{GOPACKET}/pcapgo/tests/be/*.pcapng"),
)
# The damaged pcapfix examples belong to the bad-input tests, not here.
NOT_HERE = ("/usr/share/doc/pcapfix/examples/test_damaged.pcap",
            "/usr/share/doc/pcapfix/examples/test_without_pcap_header.pcap")

# Installed captures trafstat (through libpcap 1.10) cannot read whole: basename -> (packet records
# read before the failure, what the one-line error must say). Most are valid pcapng files tshark
# reads whole: the pcapng test suite (pcapng/pcapng-test-generator, shipped by gopacket, in both
# byte orders) with interfaces of different snap lengths or link types.
LIBPCAP_LIMITS = {
    "test002.pcapng": (0, "no Interface Description Blocks"),      # no IDB, no packet
    "test017.pcapng": (0, "no Interface Description Blocks"),      # custom blocks only
    "test004.pcapng": (0, "snapshot length 128 different"),        # two IDBs, snaplen 96 and 128
    "test005.pcapng": (1, "snapshot length 128 different"),
    "test008.pcapng": (1, "snapshot length 128 different"),
    "test200.pcapng": (0, "snapshot length 0 different"),
    "test006.pcapng": (0, "type 0 different from the type of the first interface"),  # + a NULL IDB
    "test014.pcapng": (0, "type 0 different from the type of the first interface"),
    "test100.pcapng": (1, "type 0 different from the type of the first interface"),
    "test101.pcapng": (0, "type 0 different from the type of the first interface"),
    "test102.pcapng": (0, "type 0 different from the type of the first interface"),
    "test201.pcapng": (0, "type 0 different from the type of the first interface"),
    "test202.pcapng": (0, "type 0 different from the type of the first interface"),
    "test901.pcapng": (1, "unknown pcapng savefile major version number 2"),  # 2nd section: version 2.0
    # python3-dpkt: 7 stray bytes after the one record (tshark too stops: "cut short")
    "truncated_dns_2.pcap": (1, "truncated dump file; tried to read 16 header bytes, only got 7"),
}
TSHARK_ERRORS_TOO = ("test901.pcapng", "truncated_dns_2.pcap")  # tshark exits 2 after the first record
# Link types trafstat refuses outright (exit 7, nothing replayed): basename -> libpcap's name.
REJECTED_LINKTYPES = {"test_loopback.pcap": "NULL"}


def installed_captures():
    found = []
    for package, pattern in INSTALLED_GLOBS:
        paths = sorted(p for p in glob.glob(pattern) if p not in NOT_HERE)
        found.append((package, pattern, paths))
    return found


def test_name(path):
    rel = path
    for prefix in ("/usr/share/doc/", f"{GOPACKET}/", "/usr/share/"):
        if rel.startswith(prefix):
            rel = rel[len(prefix):]
            break
    if rel.startswith("src/github.com/google/"):
        rel = rel[len("src/github.com/google/"):]
    return "test_" + re.sub(r"[^0-9A-Za-z]+", "_", rel.replace("gopacket", "gopacket_")).strip("_")


class GeneratedCaptures:
    """Every generated capture of this run, written once into WORK."""

    def __init__(self):
        self.dir = os.path.join(WORK, "generated")
        os.makedirs(self.dir, exist_ok=True)
        self.files = collections.OrderedDict()     # name -> path
        self.annotations = {}                     # path -> [classes per record] (hand-written)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        return write(self.path(name), data)

    def build(self):
        rows = oracle_mix()
        recs = [Record(r.frame, T0_NS + i * 10_000_000) for i, r in enumerate(rows)]
        self.add("mix_ethernet.pcap", self.write("mix_ethernet.pcap", pcap(LINKTYPE_ETHERNET, recs)),
                 [r.classes for r in rows])
        live = [r for r in rows if r.live]
        self.add("mix_live.pcap", self.write("mix_live.pcap", pcap(LINKTYPE_ETHERNET, [
                 Record(r.frame, T0_NS + i * 10_000_000) for i, r in enumerate(live)])), [r.classes for r in live])
        for name, lt in (("mix_raw_101.pcap", LINKTYPE_RAW), ("mix_ipv4_228.pcap", LINKTYPE_IPV4),
                         ("mix_ipv6_229.pcap", LINKTYPE_IPV6), ("mix_sll_113.pcap", LINKTYPE_LINUX_SLL),
                         ("mix_sll2_276.pcap", LINKTYPE_LINUX_SLL2)):
            v = link_variants(rows, lt)
            if lt in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
                v = [(n, d, c - set(FLAGS)) for n, d, c in v]
            self.add(name, self.write(name, pcap(lt, [Record(d, T0_NS + i * 1000) for i, (_n, d, _c) in enumerate(v)])),
                     [c for _n, _d, c in v])
        # Nanosecond pcapng and pcap: records 1 ns before and exactly at whole seconds after the first.
        t0 = T0_NS + 123_456_789
        ns_recs = [Record(r.frame, ts) for r, ts in zip(rows, self.boundary_stamps(t0, len(rows)))]
        self.add("mix_ethernet_ns.pcapng", self.write("mix_ethernet_ns.pcapng", pcapng(
                 [Interface(LINKTYPE_ETHERNET)], ns_recs)), [r.classes for r in rows])
        self.add("mix_ethernet_ns.pcap", self.write("mix_ethernet_ns.pcap", pcap(LINKTYPE_ETHERNET, ns_recs, nano=True)),
                 [r.classes for r in rows])
        # Time going backwards: every fifth record is stamped 1.5 s before its predecessor, across
        # bin boundaries and, for the second record, before the first.
        back = [Record(r.frame, ts - 1_500_000_000 if i % 5 == 1 else ts)
                for i, (r, ts) in enumerate(zip(rows, self.boundary_stamps(t0, len(rows))))]
        self.add("mix_ethernet_backwards.pcapng", self.write("mix_ethernet_backwards.pcapng", pcapng(
                 [Interface(LINKTYPE_ETHERNET)], back)), [r.classes for r in rows])
        # Snap-length truncated copies (caplen < len), by editcap: inside IP/L4 headers, inside L2,
        # inside the cooked headers.
        for src, snap in (("mix_ethernet.pcap", 60), ("mix_ethernet.pcap", 38), ("mix_ethernet.pcap", 16),
                          ("mix_ethernet.pcap", 10), ("mix_sll_113.pcap", 40), ("mix_sll_113.pcap", 10),
                          ("mix_sll2_276.pcap", 44), ("mix_sll2_276.pcap", 12), ("mix_raw_101.pcap", 24),
                          ("mix_ethernet_ns.pcapng", 54)):
            stem, ext = src.rsplit(".", 1)
            name = f"{stem}_snap{snap}.{ext}"
            run(["editcap", "-s", str(snap), self.files[src], self.path(name)])
            self.add(name, self.path(name))
        return self

    @staticmethod
    def boundary_stamps(t0, n):
        """n increasing timestamps from t0: 300 ms steps, with records 1 ns before and exactly at
        whole seconds after t0 (the bin boundaries of -i 1 and -i 0.5)."""
        out, k = [t0], 1
        while len(out) < n:
            edge = t0 + k * 1_000_000_000
            for ts in (edge - 1, edge, edge + 300_000_000, edge + 600_000_000):
                if ts > out[-1] and len(out) < n:
                    out.append(ts)
            k += 1
        return out

    def add(self, name, path, annotations=None):
        self.files[name] = path
        if annotations is not None:
            self.annotations[path] = annotations


_generated = None


def generated():
    global _generated
    if _generated is None:
        _generated = GeneratedCaptures().build()
    return _generated


GENERATED_NAMES = ("mix_ethernet.pcap", "mix_live.pcap", "mix_raw_101.pcap", "mix_ipv4_228.pcap",
                   "mix_ipv6_229.pcap", "mix_sll_113.pcap", "mix_sll2_276.pcap", "mix_ethernet_ns.pcapng",
                   "mix_ethernet_ns.pcap", "mix_ethernet_snap60.pcap", "mix_ethernet_snap38.pcap",
                   "mix_ethernet_snap16.pcap", "mix_ethernet_snap10.pcap", "mix_sll_113_snap40.pcap",
                   "mix_sll_113_snap10.pcap", "mix_sll2_276_snap44.pcap", "mix_sll2_276_snap12.pcap",
                   "mix_raw_101_snap24.pcap", "mix_ethernet_ns_snap54.pcapng",
                   "mix_ethernet_backwards.pcapng")


# ---------------------------------------------------------------------------
# Network namespaces: two namespaces, one veth pair.
# ---------------------------------------------------------------------------

def topology(ipv6, neighbours):
    """Namespaces snd and rcv joined by veth va0 (snd) <-> vb0 (rcv), created inside them:
    10.78.0.1|2/24 and, with ipv6, fd00:78::1|2/64; static neighbours or none."""
    return testlib.Topology(H, subnet="10.78", ipv6=ipv6, ip6_net="fd00:78", neighbours=neighbours)


# ---------------------------------------------------------------------------
# Recording real traffic between two namespaces.
# ---------------------------------------------------------------------------

_recorded = None


def wait_for(predicate, what, timeout=15):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def record_traffic():
    """A pcapng recorded by dumpcap on the receiver's veth while real tools talk across it; once per
    run. IPv6 on, no static neighbours: ARP, ND, MLD and router solicitations are part of it."""
    global _recorded
    if _recorded is not None:
        return _recorded
    topo = topology(ipv6=True, neighbours=False).create(up=False)
    veth = topo.pairs[0]
    try:
        path = os.path.join(WORK, "recorded.pcapng")
        topo.up(("rcv",))
        dumpcap = spawn(in_ns(topo.rcv_ns, "dumpcap", "-i", veth.rcv_if, "-w", path),
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0 or dumpcap.poll() is not None,
                 "dumpcap to start")
        assert dumpcap.poll() is None, f"dumpcap exited: {dumpcap.stderr.read().decode()}"
        topo.up(("snd",))   # the link coming up: DAD, MLD reports, router solicitations
        time.sleep(1.0)
        s, r = topo.snd_ns, topo.rcv_ns

        def sh(ns, *cmd, timeout=60):
            return run(in_ns(ns, *cmd), timeout=timeout)

        sh(s, "ping", "-q", "-n", "-c", "4", "-i", "0.3", "-W", "1", veth.rcv_ip)
        sh(s, "ping", "-6", "-q", "-n", "-c", "4", "-i", "0.3", "-W", "1", veth.rcv_ip6)
        # UDP: 10 datagrams to a closed port (ICMP port unreachable back) and 5 over IPv6
        sh(s, "socat", "-u", "-b", "200", "OPEN:/dev/zero,readbytes=2000", f"UDP-SENDTO:{veth.rcv_ip}:9999")
        sh(s, "socat", "-u", "-b", "100", "OPEN:/dev/zero,readbytes=500", f"UDP6-SENDTO:[{veth.rcv_ip6}]:9999")
        time.sleep(0.5)
        listener = spawn(in_ns(r, "socat", "-u", f"TCP-LISTEN:5001,bind={veth.rcv_ip},reuseaddr", "OPEN:/dev/null"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: f"{veth.rcv_ip}:5001" in run(in_ns(r, "ss", "-Hltn")).stdout, "the TCP listener")
        sh(s, "socat", "-u", "OPEN:/dev/zero,readbytes=65536", f"TCP:{veth.rcv_ip}:5001")
        reap(listener)
        # Hundreds of concurrent flows: 200 UDP senders to 200 ports, 40 TCP connections at once.
        listener = spawn(in_ns(r, "socat", "-u", f"TCP-LISTEN:5002,bind={veth.rcv_ip},reuseaddr,fork,backlog=64",
                               "OPEN:/dev/null"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: f"{veth.rcv_ip}:5002" in run(in_ns(r, "ss", "-Hltn")).stdout, "the TCP listener")
        sh(s, "sh", "-c", f"for p in $(seq 20000 20199); do socat -u OPEN:/dev/zero,readbytes=600 "
                          f"UDP-SENDTO:{veth.rcv_ip}:$p,sndbuf=65536 & done; "
                          f"for i in $(seq 40); do socat -u OPEN:/dev/zero,readbytes=8000 "
                          f"TCP:{veth.rcv_ip}:5002 & done; wait")
        time.sleep(0.5)
        listener.send_signal(signal.SIGTERM)  # a forking listener: it never ends by itself
        reap(listener)
        time.sleep(0.5)
        sh(s, "ping", "-q", "-n", "-c", "3", "-i", "0.3", "-s", "4000", "-W", "1", veth.rcv_ip)   # IPv4 fragments
        sh(s, "ping", "-6", "-q", "-n", "-c", "3", "-i", "0.3", "-s", "3000", "-W", "1", veth.rcv_ip6)  # IPv6 fragments
        time.sleep(0.5)
        dumpcap.send_signal(signal.SIGINT)
        reap(dumpcap, timeout=15)
    finally:
        topo.destroy()
    _recorded = path
    return path


# ---------------------------------------------------------------------------
# Live trafstat, for the live-vs-replay comparison.
# ---------------------------------------------------------------------------

class LiveTrafstat(testlib.LiveTrafstat):
    settle = 0.5

    def __init__(self, ns, *args):
        super().__init__(spawn, TRAFSTAT, ns, *args)


# ---------------------------------------------------------------------------
# Test cases.
# ---------------------------------------------------------------------------

class OracleCase(unittest.TestCase):
    maxDiff = None


class TestOracle(OracleCase):
    """The oracle itself, without trafstat: tshark's dissection mapped by the rules must give the
    hand-written classes of every generated record (docs/classes.md applied by hand)."""

    def check_annotated(self, name):
        g = generated()
        path = g.files[name]
        frames = packets_of(dissect(path))
        want = g.annotations[path]
        self.assertEqual(len(frames), len(want), f"{name}: tshark sees {len(frames)} records, wrote {len(want)}")
        wrong = []
        for f, classes in zip(frames, want):
            v = classify(f)
            if v.classes != classes:
                wrong.append(f"frame {f.number} ({f.protocols}): oracle {sorted(v.classes)} [{v.why}], "
                             f"annotated {sorted(classes)}")
        self.assertEqual(wrong, [], f"{name}: the oracle disagrees with the annotations")

    def test_mix_ethernet(self):
        self.check_annotated("mix_ethernet.pcap")

    def test_mix_raw_101(self):
        self.check_annotated("mix_raw_101.pcap")

    def test_mix_ipv4_228(self):
        self.check_annotated("mix_ipv4_228.pcap")

    def test_mix_ipv6_229(self):
        self.check_annotated("mix_ipv6_229.pcap")

    def test_mix_sll_113(self):
        self.check_annotated("mix_sll_113.pcap")

    def test_mix_sll2_276(self):
        self.check_annotated("mix_sll2_276.pcap")

    def test_mix_ethernet_ns_pcapng(self):
        self.check_annotated("mix_ethernet_ns.pcapng")

    def test_bytes_follow_the_link_type(self):
        """Each variant of a row counts the bytes of the row's Ethernet frame (a synthesised 14-byte
        header replaces the cooked one, or is added to raw IP)."""
        g = generated()
        eth = {r.name: len(r.frame) for r in oracle_mix()}
        for name, lt in (("mix_raw_101.pcap", LINKTYPE_RAW), ("mix_sll_113.pcap", LINKTYPE_LINUX_SLL),
                         ("mix_sll2_276.pcap", LINKTYPE_LINUX_SLL2), ("mix_ipv4_228.pcap", LINKTYPE_IPV4)):
            names = [n for n, _d, _c in link_variants(oracle_mix(), lt)]
            frames = packets_of(dissect(g.files[name]))
            for n, f in zip(names, frames):
                if n in eth:
                    self.assertEqual(classify(f).bytes, eth[n], f"{name} {n}")

    def test_e2e_annotations(self):
        """The end-to-end suite's annotated mix (frames.e2e_mix, tcpreplayed by tests/e2e/run_e2e.py)."""
        table = e2e_mix(ORACLE_SRC_MAC)
        path = write(os.path.join(WORK, "e2e_table.pcap"),
                     pcap(LINKTYPE_ETHERNET, [Record(r.frame, T0_NS + i) for i, r in enumerate(table)]))
        frames = packets_of(dissect(path))
        self.assertEqual(len(frames), len(table))
        wrong = [f"{r.name}: oracle {sorted(classify(f).classes)} [{classify(f).why}], e2e {sorted(r.classes)}"
                 for f, r in zip(frames, table) if classify(f).classes != r.classes]
        self.assertEqual(wrong, [])

    def test_no_verdict_rows_have_no_verdict(self):
        """The rows kept out of the mixes: tshark indeed stops before the L4 header."""
        for row in no_verdict_rows():
            path = write(os.path.join(WORK, f"nv_{row.name}.pcap"), pcap(LINKTYPE_ETHERNET, [Record(row.frame, T0_NS)]))
            (frame,) = packets_of(dissect(path))
            self.assertEqual(frame.protocols, "eth:ethertype:ip", row.name)
            with self.assertRaises(OracleError, msg=row.name):
                classify(frame)


class TestInstalledCaptures(OracleCase):
    """Every capture the Debian packages ship (test methods added below, one per file)."""

    def check(self, path):
        base = os.path.basename(path)
        if base in REJECTED_LINKTYPES:
            res = replay(path)
            COVERAGE[path] = f"{len(packets_of(dissect(path)))} packet records, link type " \
                             f"{REJECTED_LINKTYPES[base]}: trafstat exit {res.rc}"
            self.assertEqual(res.rc, 7, res.stderr)
            err = res.stderr.strip().splitlines()
            self.assertEqual(len(err), 1, res.stderr)
            self.assertTrue(err[0].startswith("trafstat: ") and path in err[0], res.stderr)
            self.assertIn(f"link type {REJECTED_LINKTYPES[base]}", err[0])
            self.assertEqual(compact(replay_entry(self, res, path)["classes"]), counts())
            return
        if base in LIBPCAP_LIMITS:
            read, reason = LIBPCAP_LIMITS[base]
            frames = dissect(path, allow_error=base in TSHARK_ERRORS_TOO)
            compare_with_oracle(self, path, frames=frames, expect_rc=7, reason=reason, records_read=read)
            return
        compare_with_oracle(self, path)


def _add_installed_tests():
    for package, pattern, paths in installed_captures():
        if not paths:
            def missing(self, package=package, pattern=pattern):
                self.fail(f"no capture matches {pattern}: is {package} installed? (scripts/install-deps.sh)")
            setattr(TestInstalledCaptures, "test_" + re.sub(r"\W+", "_", pattern).strip("_"), missing)
        for path in paths:
            def test(self, path=path):
                self.check(path)
            name = test_name(path)
            assert not hasattr(TestInstalledCaptures, name), name
            test.__name__ = name
            setattr(TestInstalledCaptures, name, test)


_add_installed_tests()


class TestGeneratedCaptures(OracleCase):
    """The generated captures: the scapy mix as every link type, truncated copies, nanoseconds."""


def _add_generated_tests():
    for name in GENERATED_NAMES:
        def test(self, name=name):
            compare_with_oracle(self, generated().files[name], label=f"generated/{name}")
        test.__name__ = "test_" + re.sub(r"\W+", "_", name)
        setattr(TestGeneratedCaptures, test.__name__, test)


_add_generated_tests()


class TestRecorded(OracleCase):
    """Real traffic recorded with dumpcap in namespaces created here."""

    def test_recorded_pcapng(self):
        path = record_traffic()
        want, verdicts = compare_with_oracle(self, path, label="recorded/recorded.pcapng")
        # The recording must hold what it was made for, or this test proves little.
        for c in ("arp", "icmp", "icmpv6", "udp", "tcp", "fragment"):
            self.assertGreater(want[c][0], 0, f"the recording has no {c}: {want}")
        v6_frag = [f for f, v in verdicts if {"ipv6", "fragment"} <= v.classes]
        self.assertTrue(v6_frag, "no IPv6 fragment recorded")
        hbh = [f for f, _v in verdicts if any(layer.name == "ipv6.hopopts" for layer in f.layers)]
        self.assertTrue(hbh, "no IPv6 hop-by-hop header (MLD) recorded")

    def test_recorded_pcapng_snap60(self):
        src = record_traffic()
        path = os.path.join(WORK, "recorded_snap60.pcapng")
        run(["editcap", "-s", "60", src, path])
        compare_with_oracle(self, path, label="recorded/recorded_snap60.pcapng")


class TestDivergences(OracleCase):
    """One frame per documented rule where tshark's own reading differs from trafstat's classes
    (docs/replay-oracle.md): the frame alone, trafstat's classes exact, tshark's reading shown."""

    def one(self, row, linktype=LINKTYPE_ETHERNET, data=None):
        path = write(os.path.join(WORK, f"div_{row.name}.pcap"),
                     pcap(linktype, [Record(row.frame if data is None else data, T0_NS)]))
        res = replay(path)
        self.assertEqual(res.rc, 0, res.stderr)
        got = compact(replay_entry(self, res, path)["classes"])
        size = len(row.frame if data is None else data) + BYTES_DELTA[
            {LINKTYPE_ETHERNET: ENCAP_ETHERNET, LINKTYPE_RAW: ENCAP_RAW, LINKTYPE_IPV4: ENCAP_RAW4}[linktype]]
        want = counts(**{c: (1, size) for c in ("all", *row.classes)})
        if got != want:
            FINDINGS.append(f"divergence case {row.name}: want {sorted(row.classes)}, trafstat "
                            f"{sorted(c for c in CLASSES if got[c][0] and c != 'all')} ({got['all']})")
        self.assertEqual(got, want, row.tshark)
        return packets_of(dissect(path))[0]

    def row(self, name):
        (r,) = [r for r in (*oracle_mix(), *no_verdict_rows()) if r.name == name]
        return r

    def test_gre_counts_the_outer_header(self):
        f = self.one(self.row("ipv4_gre_ipv4_udp"))
        self.assertEqual(f.protocols, "eth:ethertype:ip:gre:ip:udp:data")

    def test_ip_in_ip_is_other_l4(self):
        f = self.one(self.row("ipv4_ipip"))
        self.assertEqual(f.protocols, "eth:ethertype:ip:ip:udp:data")

    def test_ipv6_in_ipv6_is_other_l4(self):
        f = self.one(self.row("ipv6_in_ipv6"))
        self.assertEqual(f.protocols, "eth:ethertype:ipv6:ipv6:udp:data")

    def test_icmp_error_counts_icmp(self):
        f = self.one(self.row("ipv4_icmp_error_quoting_udp"))
        self.assertEqual(f.protocols, "eth:ethertype:ip:icmp:ip:udp:data")

    def test_ipv4_ah_is_other_l4(self):
        f = self.one(self.row("ipv4_ah_tcp"))
        self.assertEqual(f.protocols, "eth:ethertype:ip:ah:tcp")

    def test_ninth_ipv6_extension_header_is_other_l4(self):
        f = self.one(self.row("ipv6_nine_ext_hdrs_udp"))
        self.assertTrue(f.protocols.endswith(":ipv6.dstopts:udp:data"), f.protocols)

    def test_third_vlan_tag_is_other_l3(self):
        f = self.one(self.row("three_vlan_tags"))
        self.assertEqual(f.protocols, "eth:ethertype:vlan:ethertype:vlan:ethertype:vlan:ethertype:ip:udp:data")

    def test_ethertype_9100_is_no_tag(self):
        f = self.one(self.row("tag_9100_ipv4_udp"))
        self.assertEqual(f.protocols, "eth:ethertype:vlan:ethertype:ip:udp:data")

    def test_ppp_protocol_compression_is_other_l3(self):
        f = self.one(self.row("pppoe_compressed_protocol_ipv4"))
        self.assertEqual(f.protocols, "eth:ethertype:pppoes:ppp:ip:udp:data")

    def test_ipv4_ethertype_decides_over_the_version(self):
        f = self.one(self.row("ipv4_version_6_under_0800"))
        self.assertEqual(f.protocols, "eth:ethertype:ip:ipv6:udp:data")

    def test_linktype_ipv4_decides_over_the_version(self):
        """DLT_IPV4 (228) says IPv4 whatever the version nibble: an IPv6 packet in it is ipv4
        malformed_l4 (tshark flags the version and dissects IPv6)."""
        r = self.row("ipv6_udp")
        row = Row("linktype_228_holding_ipv6", r.frame, frozenset({"ipv4", "malformed_l4"}))
        f = self.one(row, LINKTYPE_IPV4, r.frame[ETH_HLEN:])
        self.assertEqual(f.protocols, "ip:ipv6:udp:data")

    def test_ethertype_0000_is_other_l3(self):
        """Ethertype field 0x0000 (an 802.3 length of 0): "any other ethertype" is other_l3."""
        f = self.one(self.row("ethertype_0000_8023_length_0"))
        self.assertEqual(f.protocols, "eth:ethertype:data")

    def test_raw_record_without_ip_version_is_other_l3(self):
        for name, data, classes in link_variants([], LINKTYPE_RAW):
            with self.subTest(name):
                self.one(Row(name, data, classes), LINKTYPE_RAW, data)

    def test_ipv4_total_length_beyond_frame(self):
        f = self.one(self.row("ipv4_total_length_beyond_frame"))
        self.assertEqual(f.protocols, "eth:ethertype:ip:udp:data")

    def test_ipv4_total_length_20_with_udp_behind(self):
        f = self.one(self.row("ipv4_total_length_20_udp_behind"))
        self.assertEqual(f.protocols, "eth:ethertype:ip")

    def test_ipv4_total_length_below_header_length(self):
        f = self.one(self.row("ipv4_total_length_below_header"))
        self.assertEqual(f.protocols, "eth:ethertype:ip")

    def test_udp_header_at_byte_3126(self):
        """docs/classes.md bounds the extension-header chain by count (8), not by depth: UDP behind
        a 2048- and a 1024-byte destination-options header (a 3142-byte frame, within a page) is udp."""
        f = self.one(self.row("ipv6_udp_header_at_byte_3126"))
        self.assertEqual(f.protocols, "eth:ethertype:ipv6:ipv6.dstopts:ipv6.dstopts:udp:data")
        self.assertEqual(f.wire, 3142)


class TestLiveVsReplay(OracleCase):
    """tcpreplay of the mix across a veth into live trafstat; its summary must equal replay's."""

    @classmethod
    def setUpClass(cls):
        cls.topo = topology(ipv6=False, neighbours=True)
        cls.addClassCleanup(cls.topo.destroy)
        cls.topo.create()

    def check(self, args, hook, path=None):
        t = self.topo.pairs[0]
        path = path or generated().files["mix_live.pcap"]
        rep = replay(path)
        self.assertEqual(rep.rc, 0, rep.stderr)
        want = compact(replay_entry(self, rep, path)["classes"])
        want_l4 = compact_l4(rep.summary["interfaces"][0]["l4_by_ip"])
        with LiveTrafstat(t.rcv_ns, "--json", "-i", "60", *args, t.rcv_if) as ts:
            p = run(in_ns(t.snd_ns, "tcpreplay", "-t", "-i", t.snd_if, path), timeout=60)
            sent = int(re.search(r"Successful packets:\s+(\d+)", p.stdout).group(1))
            res = ts.stop()
        self.assertEqual(res.rc, 0, res.stderr)
        self.assertEqual(sent, want["all"][0], f"tcpreplay sent {sent} frames:\n{p.stdout}")
        entry = res.summary["interfaces"][0]
        self.assertEqual((entry["name"], entry["hook"]), (t.rcv_if, hook))
        assert_reconciles(self, entry)
        got = compact(entry["classes"])
        if got != want:
            FINDINGS.append(f"live {hook} ({' '.join(args)}) != replay of {os.path.basename(path)}: "
                            f"{ {c: {'live': got[c], 'replay': want[c]} for c in CLASSES if got[c] != want[c]} }")
        self.assertEqual(got, want, "live counts != replay counts")
        self.assertEqual(compact_l4(entry["l4_by_ip"]), want_l4)

    def test_xdp(self):
        self.check(["--hook", "xdp"], "xdp")

    def test_views_of_recorded_traffic_equal_tshark(self):
        """The recording of real traffic (hundreds of concurrent UDP and TCP flows from socat, pings,
        fragments) tcpreplayed across the veth into live trafstat --talkers --flows: its talkers and
        flows must equal tshark's endpoints and conversations of the same file."""
        t = self.topo.pairs[0]
        path = record_traffic()
        self.assertEqual(nested_ip_frames(path), 0)
        with LiveTrafstat(t.rcv_ns, "--json", "-i", "60", "--hook", "xdp", "--xdp-mode", "native", "--talkers",
                          "--flows", t.rcv_if) as ts:
            run(in_ns(t.snd_ns, "tcpreplay", "-t", "-i", t.snd_if, path), timeout=60)
            res = ts.stop()
        self.assertEqual(res.rc, 0, res.stderr)
        entry = res.summary["interfaces"][0]
        assert_reconciles(self, entry)
        compare_views(self, entry, path, "live tcpreplay of recorded/recorded.pcapng")

    def test_xdp_generic(self):
        self.check(["--hook", "xdp", "--xdp-mode", "generic"], "xdp")

    def test_tc_ingress(self):
        self.check(["--hook", "tc-ingress"], "tc-ingress")

    def deep_headers(self, args, hook):
        """A 3142-byte frame whose UDP header starts at byte 3126: it fits one page, so native XDP
        and TC see it whole (MTU 3400 on the veths for this test)."""
        (row,) = [r for r in oracle_mix() if r.name == "ipv6_udp_header_at_byte_3126"]
        path = write(os.path.join(WORK, "deep_headers.pcap"), pcap(LINKTYPE_ETHERNET, [Record(row.frame, T0_NS)]))
        t = self.topo.pairs[0]
        for ns, ifname in ((t.snd_ns, t.snd_if), (t.rcv_ns, t.rcv_if)):
            run(["ip", "-n", ns, "link", "set", ifname, "mtu", "3400"])
            self.addCleanup(run, ["ip", "-n", ns, "link", "set", ifname, "mtu", "1500"], check=False)
        self.check(args, hook, path)

    def test_xdp_udp_header_at_byte_3126(self):
        self.deep_headers(["--hook", "xdp", "--xdp-mode", "native"], "xdp")

    def test_tc_ingress_udp_header_at_byte_3126(self):
        self.deep_headers(["--hook", "tc-ingress"], "tc-ingress")


def iso_ms(ns):
    """The JSON `time` of a bin ending at capture time `ns` (docs/json.md: UTC, milliseconds)."""
    dt = datetime.fromtimestamp(ns // 1_000_000_000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{(ns % 1_000_000_000) // 1_000_000:03d}Z"


class TestIntervals(OracleCase):
    """replay -i: bins of capture time [t0 + k*i, t0 + (k+1)*i), t0 the first record's timestamp."""

    def check(self, path, width_s, width_ns, label):
        frames = packets_of(dissect(path))
        t0 = frames[0].time_ns
        # Records go to bins in file order; one whose time goes backwards (real captures on a
        # multi-CPU host, merged files) stays in the current bin (docs/replay.md).
        bins, current = collections.defaultdict(list), 0
        for f in frames:
            current = max(current, (f.time_ns - t0) // width_ns)
            bins[current].append(classify(f))
        nbins = max(bins) + 1
        self.assertGreaterEqual(nbins, 3, f"{path} spans too little time to test binning")
        res = replay(path, "-i", width_s)
        self.assertEqual(res.rc, 0, res.stderr)
        lines = res.lines
        self.assertEqual([x["type"] for x in lines], ["interval"] * nbins + ["summary"],
                         f"want {nbins} interval lines, then the summary")
        summed = {c: [0, 0] for c in CLASSES}
        for k, line in enumerate(lines[:-1]):
            self.assertEqual(len(line["interfaces"]), 1)
            entry = line["interfaces"][0]
            self.assertEqual((entry["name"], entry["hook"], entry["mode"]), (path, "xdp", "replay"))
            # Which records land in which bin is what this test is about: `all` must be exact. The
            # classes of each record are the other tests' business (a record the oracle and trafstat
            # classify differently fails there); here they must add up over the lines.
            want, _ = tally(bins.get(k, []))
            got = {c: (entry["classes"][c]["packets"], entry["classes"][c]["bytes"]) for c in CLASSES}
            self.assertEqual(got["all"], want["all"], f"bin {k} [t0+{k}*{width_s}s, t0+{k + 1}*{width_s}s)")
            assert_reconciles(self, entry)
            self.assertEqual(line["interval_s"], float(width_s))
            self.assertEqual(line["time"], iso_ms(t0 + (k + 1) * width_ns), f"bin {k}: end time")
            for c in CLASSES:
                summed[c][0] += got[c][0]
                summed[c][1] += got[c][1]
        total = compact(lines[-1]["interfaces"][0]["classes"])
        self.assertEqual({c: tuple(v) for c, v in summed.items()}, total, "interval lines do not add up")
        self.assertEqual(total["all"][0], len(frames))
        COVERAGE[f"{label} -i {width_s}"] = f"{len(frames)} records in {nbins} bins"

    def test_recorded_one_second_bins(self):
        self.check(record_traffic(), "1", 1_000_000_000, "recorded/recorded.pcapng")

    def test_nanosecond_pcapng_boundaries(self):
        """Records 1 ns before and exactly at each bin boundary: nanosecond timestamps must bin
        exactly (a microsecond reader would move the first of each pair into the next bin)."""
        self.check(generated().files["mix_ethernet_ns.pcapng"], "1", 1_000_000_000, "generated/mix_ethernet_ns.pcapng")

    def test_time_going_backwards_stays_in_current_bin(self):
        path = generated().files["mix_ethernet_backwards.pcapng"]
        stamps = [f.time_ns for f in packets_of(dissect(path))]
        self.assertTrue(any(b < a for a, b in zip(stamps, stamps[1:])), "the capture must go backwards")
        self.check(path, "1", 1_000_000_000, "generated/mix_ethernet_backwards.pcapng")

    def test_nanosecond_pcap_half_second_bins(self):
        self.check(generated().files["mix_ethernet_ns.pcap"], "0.5", 500_000_000, "generated/mix_ethernet_ns.pcap")


# ---------------------------------------------------------------------------
# Talkers and flows against tshark's endpoints and conversations.
# ---------------------------------------------------------------------------

def tshark_stat(path, stat):
    """The rows of `tshark -q -z STAT` (endpoints,ip / conv,tcp ...), with the oracle's preferences."""
    cmd = [TSHARK, "-n", "-r", path, "-q", "-z", stat]
    for pref in TSHARK_PREFS:
        cmd += ["-o", pref]
    out = run(cmd, timeout=300).stdout
    return [line.split() for line in out.splitlines()
            if line and not line.startswith(("=", "Filter", " ", "IPv", "TCP", "UDP"))]


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
    nested = ("(count(ip) > 1 or count(ipv6) > 1 or (ip and ipv6)) "
              "and not (icmp.type in {3, 4, 5, 11, 12} or icmpv6.type < 128)")
    cmd = [TSHARK, "-n", "-r", path, "-Y", nested, "-T", "fields", "-e", "frame.number"]
    for pref in TSHARK_PREFS:
        cmd += ["-o", pref]
    return len(run(cmd, timeout=300).stdout.split())


def non_first_ipv6_fragments(path):
    """(src, dst, frame length) of every non-first IPv6 fragment, per tshark."""
    cmd = [TSHARK, "-n", "-r", path, "-Y", "ipv6.fraghdr.offset > 0", "-T", "fields",
           "-E", "separator=,", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "frame.len"]
    for pref in TSHARK_PREFS:
        cmd += ["-o", pref]
    out = []
    for line in run(cmd, timeout=300).stdout.splitlines():
        src, dst, length = line.split(",")
        out.append((src, dst, int(length)))
    return out


def flow_times(path):
    """{(src, sport, dst, dport, proto): (first, last)} over every TCP/UDP frame: tshark's frame.time_epoch."""
    # ICMP errors quote a TCP/UDP header: not a packet of that flow
    cmd = [TSHARK, "-n", "-r", path, "-Y", "(tcp or udp) and not icmp and not icmpv6", "-T", "fields", "-E", "separator=|",
           "-E", "occurrence=f", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ipv6.src", "-e", "ip.dst", "-e", "ipv6.dst",
           "-e", "tcp.srcport", "-e", "udp.srcport", "-e", "tcp.dstport", "-e", "udp.dstport"]
    for pref in TSHARK_PREFS:
        cmd += ["-o", pref]
    out = {}
    for line in run(cmd, timeout=300).stdout.splitlines():
        t, src4, src6, dst4, dst6, tsport, usport, tdport, udport = line.split("|")
        key = (src4 or src6, int(tsport or usport), dst4 or dst6, int(tdport or udport), "tcp" if tsport else "udp")
        times = out.setdefault(key, [])
        # A pcapng simple packet block has no time; a time of 0 (the epoch) is no time to trafstat
        if t and float(t) != 0:
            times.append(float(t))
    return {k: (min(v), max(v)) if v else (None, None) for k, v in out.items()}


def compare_flow_times(test, entry, path, label):
    """Replay: each TCP/UDP flow's first_seen and last_seen are its earliest and latest capture times."""
    want = flow_times(path)
    got = {(f["src"], f["sport"], f["dst"], f["dport"], f["proto"]): (f["first_seen"], f["last_seen"])
           for f in entry["flows"] if f["proto"] in ("tcp", "udp") and (f["sport"], f["dport"]) != (0, 0)}
    test.assertEqual(set(got), set(want), f"{label}: TCP/UDP flows != tshark's")
    # JSON seconds keep microseconds of a present-day time; captures hold micro- or nanoseconds
    def near(a, b):
        return a == b if a is None or b is None else abs(a - b) <= 2e-6

    off = {k: (got[k], want[k]) for k in want if not (near(got[k][0], want[k][0]) and near(got[k][1], want[k][1]))}
    test.assertEqual(off, {}, f"{label}: first/last seen != tshark frame.time_epoch (flow: (trafstat, tshark))")
    COVERAGE[f"{label} flow times"] = f"{len(want)} flows: first and last seen equal to tshark's frame times"


def compare_views(test, entry, path, label):
    """trafstat's talkers and flows (a summary's interface entry) against tshark on `path`."""
    for name in ("talkers", "flows"):
        table = entry["tables"][name]
        test.assertEqual((table["overflow"]["packets"], table["unkeyed"]["packets"]), (0, 0), name)
    # talkers == endpoints,ip + endpoints,ipv6, but for one difference (docs/tables.md): without
    # reassembly tshark's IPv6 endpoints leave non-first fragments out (its IPv4 endpoints count
    # them); trafstat's talkers count every IP packet. Those frames are taken out of trafstat's side.
    want = {**endpoints(path, "ip"), **endpoints(path, "ipv6")}
    got = {t["ip"]: [t["packets"], t["bytes"], t["sent"]["packets"], t["sent"]["bytes"],
                     t["received"]["packets"], t["received"]["bytes"]] for t in entry["talkers"]}
    fragments = non_first_ipv6_fragments(path)
    for src, dst, length in fragments:
        for addr, tx in ((src, True), (dst, False)):
            g = got[addr]
            g[0] -= 1
            g[1] -= length
            g[2 if tx else 4] -= 1
            g[3 if tx else 5] -= length
    got = {a: tuple(v) for a, v in got.items() if v[0] > 0}
    differ = {a: (got.get(a), want.get(a)) for a in set(got) | set(want) if got.get(a) != want.get(a)}
    test.assertEqual(differ, {}, f"{label}: talkers != tshark endpoints (address: (trafstat, tshark))")
    # flows == conv,tcp/udp frames each way; per (address, port) bytes == endpoints,tcp/udp
    for proto in ("tcp", "udp"):
        flows = [f for f in entry["flows"] if f["proto"] == proto and (f["sport"], f["dport"]) != (0, 0)]
        pairs = collections.Counter()
        ends = collections.defaultdict(lambda: [0, 0, 0, 0, 0, 0])
        for f in flows:
            pairs[(f["src"], f["sport"], f["dst"], f["dport"])] += f["packets"]
            for end, tx in (((f["src"], f["sport"]), True), ((f["dst"], f["dport"]), False)):
                e = ends[end]
                e[0] += f["packets"]
                e[1] += f["bytes"]
                e[2 if tx else 4] += f["packets"]
                e[3 if tx else 5] += f["bytes"]
        conv = conversation_frames(path, proto)
        got_conv = {(a, pa, b, pb): (pairs.get((b, pb, a, pa), 0), pairs.get((a, pa, b, pb), 0))
                    for (a, pa, b, pb) in conv}
        test.assertEqual(got_conv, conv, f"{label}: {proto} flows != tshark conv,{proto}")
        test.assertEqual(sum(pairs.values()), sum(x + y for x, y in conv.values()),
                         f"{label}: {proto} flows tshark has no conversation for")
        test.assertEqual({k: tuple(v) for k, v in ends.items()}, endpoints(path, proto),
                         f"{label}: {proto} flows != tshark endpoints,{proto}")
    COVERAGE[f"{label} views"] = (f"{len(entry['talkers'])} talkers, {len(entry['flows'])} flows "
                                  f"equal to tshark endpoints/conv ({len(fragments)} non-first IPv6 fragments set aside)")


class TestViewsAgainstTshark(OracleCase):
    """replay --talkers --flows against tshark -z endpoints,ip/ipv6 (every address: packets, bytes, tx,
    rx) and -z conv,tcp/udp + endpoints,tcp/udp (every 5-tuple: frames each way, bytes per endpoint)."""

    def check_views(self, path, label):
        nested = nested_ip_frames(path)
        if nested:
            COVERAGE[f"{label} views"] = f"not compared: {nested} frames with nested IP headers"
            return False
        res = replay(path, "--talkers", "--flows")
        self.assertEqual(res.rc, 0, res.stderr)
        compare_views(self, res.summary["interfaces"][0], path, label)
        compare_flow_times(self, res.summary["interfaces"][0], path, label)
        return True

    def test_installed_captures(self):
        compared = 0
        for _package, _pattern, paths in installed_captures():
            for path in paths:
                base = os.path.basename(path)
                if base in LIBPCAP_LIMITS or base in REJECTED_LINKTYPES:
                    continue
                with self.subTest(capture=path):
                    compared += self.check_views(path, test_name(path))
        self.assertGreaterEqual(compared, 5, "too few installed captures without nested IP to compare")

    def test_recorded(self):
        path = record_traffic()
        self.assertEqual(nested_ip_frames(path), 0, "the recording has nested IP headers: nothing compared")
        self.check_views(path, "recorded/recorded.pcapng")
        flows = len(conversation_frames(path, "udp")) + len(conversation_frames(path, "tcp"))
        self.assertGreaterEqual(flows, 240, "the recording should hold hundreds of concurrent flows")


# ---------------------------------------------------------------------------
# Entry point: privilege policy, tool checks, signal-safe run, the report.
# ---------------------------------------------------------------------------

TOOLS = ("ip", "ethtool", "ping", "socat", "tcpreplay", "tshark", "dumpcap", "editcap", "ss", "sysctl")


def print_report():
    if COVERAGE:
        H.log("captures covered:")
        for name, what in COVERAGE.items():
            print(f"  {name}: {what}", file=sys.stderr)
    if FINDINGS:
        H.log(f"{len(FINDINGS)} mismatch(es) between trafstat and the oracle:")
        for f in FINDINGS:
            print(f"  {f}", file=sys.stderr)
    sys.stderr.flush()


def main():
    global TRAFSTAT
    ap = testlib.arg_parser(__doc__)
    args, unittest_args = ap.parse_known_args()
    TRAFSTAT = os.path.abspath(args.trafstat)

    failed = H.preflight("not root: replay needs CAP_BPF, the live tests create network namespaces", "replay oracle tests", TOOLS, (TRAFSTAT,))
    if failed is not None:
        return failed
    probe = run([TRAFSTAT, "replay", "--help"], check=False)
    if probe.returncode != 0:
        H.log(f"FAIL: {TRAFSTAT} has no working `replay` command (exit {probe.returncode}): {probe.stderr.strip()}")
        return 1

    def make_work():
        global WORK
        WORK = H.mkdtemp()
        atexit.register(shutil.rmtree, WORK, True)

    def tests():
        code = testlib.run_unittests(__name__, unittest_args)
        print_report()
        return code

    return H.run_guarded(tests, prepare=make_work, finish=lambda: shutil.rmtree(WORK, True))


if __name__ == "__main__":
    sys.exit(main())
