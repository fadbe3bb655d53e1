#!/usr/bin/python3
"""trafstat replay against an independent oracle: tshark's dissection of the same capture.

Run as root:  /usr/bin/python3 tests/replay/oracle_test.py --trafstat build/trafstat [-v] [-k PATTERN]

`trafstat replay --json FILE` runs every record of a capture through trafstat's own XDP program
(BPF_PROG_TEST_RUN). This suite proves that its per-class packets and bytes EQUAL what tshark 4.0
says about the same records, mapped onto trafstat's classes (docs/classes.md) by the rules written
down in docs/replay-oracle.md. The mapping reads tshark's PDML (-T pdml): every protocol layer
tshark dissected, with its fields, their values and their byte positions; it never parses packet
bytes itself.

Three modules: oracle.py, tshark's side (the dissection, its mapping onto trafstat's classes, its
statistics); captures.py, the catalogue (which captures, how each is made); this one, the tests.
The frames of the generated captures are tests/support/frames.py's.

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
import json
import os
import re
import shutil
import sys
import unittest
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import CLASSES, ETH_HLEN, L4, check_classes, counts, in_ns  # noqa: E402
from frames import (  # noqa: E402
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_RAW,
    ORACLE_SRC_MAC,
    T0_NS,
    Record,
    Row,
    e2e_mix,
    link_variants,
    no_verdict_rows,
    oracle_mix,
    pcap,
    write,
)
from oracle import (  # noqa: E402
    BYTES_DELTA,
    ENCAP_ETHERNET,
    ENCAP_RAW,
    ENCAP_RAW4,
    OracleError,
    classify,
    conversation_frames,
    dissect,
    endpoints,
    flow_times,
    nested_ip_frames,
    non_first_ipv6_fragments,
    packets_of,
    tally,
)
from captures import (  # noqa: E402
    COMPRESSIONS,
    GENERATED_NAMES,
    LIBPCAP_LIMITS,
    REJECTED_LINKTYPES,
    TSHARK_ERRORS_TOO,
    Catalogue,
    compressed_copy,
    installed_captures,
    test_name,
    topology,
)

TRAFSTAT = ""  # set by main(): absolute path of the binary under test
WORK = ""  # set by main(): this run's temp directory
CAPTURES = None  # set by main(): this run's Catalogue

# ---------------------------------------------------------------------------
# Processes: every child is registered so that any exit path can end it.
# ---------------------------------------------------------------------------

H = testlib.Harness("replay-oracle", "tsrpl-", run_timeout=60, output_tail=2000)
run, spawn, reap = H.run, H.spawn, H.reap


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
COVERAGE = collections.OrderedDict()  # capture -> description


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
    groups = collections.OrderedDict()  # (oracle classes, trafstat classes, byte difference) -> frames
    candidates = [(f, v) for f, v in verdicts if v.classes & differing or "all" in differing]
    for f, v in candidates[:limit]:
        classes, nbytes = single_record_classes(path, f)
        if classes != v.classes or nbytes != v.bytes:
            shown = sorted(classes) if isinstance(classes, frozenset) else classes
            key = (str(sorted(v.classes)), str(shown), None if nbytes is None else nbytes - v.bytes)
            groups.setdefault(key, []).append((f, v, nbytes))
    lines = []
    for (oracle, trafstat, delta), frames in groups.items():
        lines.append(
            f"  {len(frames)} record(s): tshark oracle {oracle}, trafstat {trafstat}"
            + (f", trafstat bytes {delta:+d} each" if delta else "")
            + ", e.g."
        )
        for f, v, nbytes in frames[:3]:
            lines.append(
                f"    frame {f.number} ({f.protocols}, {f.cap} of {f.wire} bytes captured): oracle "
                f"{v.bytes} B [{v.why}], trafstat {nbytes} B"
            )
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
    COVERAGE[label] = f"{len(frames)} packet records" + (f", trafstat exit {expect_rc}" if expect_rc else "")
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
        g = CAPTURES.generated
        path = g.files[name]
        frames = packets_of(dissect(path))
        want = g.annotations[path]
        self.assertEqual(len(frames), len(want), f"{name}: tshark sees {len(frames)} records, wrote {len(want)}")
        wrong = []
        for f, classes in zip(frames, want):
            v = classify(f)
            if v.classes != classes:
                wrong.append(
                    f"frame {f.number} ({f.protocols}): oracle {sorted(v.classes)} [{v.why}], "
                    f"annotated {sorted(classes)}"
                )
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
        g = CAPTURES.generated
        eth = {r.name: len(r.frame) for r in oracle_mix()}
        for name, lt in (
            ("mix_raw_101.pcap", LINKTYPE_RAW),
            ("mix_sll_113.pcap", LINKTYPE_LINUX_SLL),
            ("mix_sll2_276.pcap", LINKTYPE_LINUX_SLL2),
            ("mix_ipv4_228.pcap", LINKTYPE_IPV4),
        ):
            names = [n for n, _d, _c in link_variants(oracle_mix(), lt)]
            frames = packets_of(dissect(g.files[name]))
            for n, f in zip(names, frames):
                if n in eth:
                    self.assertEqual(classify(f).bytes, eth[n], f"{name} {n}")

    def test_e2e_annotations(self):
        """The end-to-end suite's annotated mix (frames.e2e_mix, tcpreplayed by tests/e2e/run_e2e.py)."""
        table = e2e_mix(ORACLE_SRC_MAC)
        path = write(
            os.path.join(WORK, "e2e_table.pcap"),
            pcap(LINKTYPE_ETHERNET, [Record(r.frame, T0_NS + i) for i, r in enumerate(table)]),
        )
        frames = packets_of(dissect(path))
        self.assertEqual(len(frames), len(table))
        wrong = [
            f"{r.name}: oracle {sorted(classify(f).classes)} [{classify(f).why}], e2e {sorted(r.classes)}"
            for f, r in zip(frames, table)
            if classify(f).classes != r.classes
        ]
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
            COVERAGE[path] = (
                f"{len(packets_of(dissect(path)))} packet records, link type "
                f"{REJECTED_LINKTYPES[base]}: trafstat exit {res.rc}"
            )
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
            compare_with_oracle(self, CAPTURES.generated.files[name], label=f"generated/{name}")

        test.__name__ = "test_" + re.sub(r"\W+", "_", name)
        setattr(TestGeneratedCaptures, test.__name__, test)


_add_generated_tests()


class TestRecorded(OracleCase):
    """Real traffic recorded with dumpcap in namespaces created here."""

    def test_recorded_pcapng(self):
        path = CAPTURES.recorded
        want, verdicts = compare_with_oracle(self, path, label="recorded/recorded.pcapng")
        # The recording must hold what it was made for, or this test proves little.
        for c in ("arp", "icmp", "icmpv6", "udp", "tcp", "fragment"):
            self.assertGreater(want[c][0], 0, f"the recording has no {c}: {want}")
        v6_frag = [f for f, v in verdicts if {"ipv6", "fragment"} <= v.classes]
        self.assertTrue(v6_frag, "no IPv6 fragment recorded")
        hbh = [f for f, _v in verdicts if any(layer.name == "ipv6.hopopts" for layer in f.layers)]
        self.assertTrue(hbh, "no IPv6 hop-by-hop header (MLD) recorded")

    def test_recorded_pcapng_snap60(self):
        src = CAPTURES.recorded
        path = os.path.join(WORK, "recorded_snap60.pcapng")
        run(["editcap", "-s", "60", src, path])
        compare_with_oracle(self, path, label="recorded/recorded_snap60.pcapng")


class TestCompressedCopies(OracleCase):
    """gzip and zstd copies replay exactly as their capture: the same exit code, the same JSON but
    for the name, the same error line but for the name and the offset's words (docs/replay.md)."""

    def check_copies(self, path):
        plain = replay(path)
        for compression in COMPRESSIONS:
            with self.subTest(capture=path, compression=compression):
                copy = compressed_copy(path, compression, os.path.join(WORK, "compressed"))
                res = replay(copy)
                COVERAGE[f"compressed/{os.path.basename(copy)}"] = f"as {path}, trafstat exit {res.rc}"
                self.assertEqual(res.rc, plain.rc, res.stderr)
                self.assertEqual(res.stdout.replace(copy, path), plain.stdout)
                offset_words = f" of the decompressed {compression} data"
                self.assertEqual(res.stderr.replace(copy, path).replace(offset_words, ""), plain.stderr)

    def test_installed_captures(self):
        for _package, _pattern, paths in installed_captures():
            for path in paths:
                self.check_copies(path)

    def test_generated_captures(self):
        for name in GENERATED_NAMES:
            self.check_copies(CAPTURES.generated.files[name])

    def test_recorded(self):
        self.check_copies(CAPTURES.recorded)

    def test_oracle_on_a_gzip_copy(self):
        path = compressed_copy(CAPTURES.generated.files["mix_ethernet.pcap"], "gzip", os.path.join(WORK, "oracle"))
        compare_with_oracle(self, path, label="compressed/mix_ethernet.pcap.gz")

    def test_oracle_on_a_zstd_copy(self):
        path = compressed_copy(CAPTURES.recorded, "zstd", os.path.join(WORK, "oracle"))
        compare_with_oracle(self, path, label="compressed/recorded.pcapng.zst")


class TestDivergences(OracleCase):
    """One frame per documented rule where tshark's own reading differs from trafstat's classes
    (docs/replay-oracle.md): the frame alone, trafstat's classes exact, tshark's reading shown."""

    def one(self, row, linktype=LINKTYPE_ETHERNET, data=None):
        path = write(
            os.path.join(WORK, f"div_{row.name}.pcap"),
            pcap(linktype, [Record(row.frame if data is None else data, T0_NS)]),
        )
        res = replay(path)
        self.assertEqual(res.rc, 0, res.stderr)
        got = compact(replay_entry(self, res, path)["classes"])
        size = (
            len(row.frame if data is None else data)
            + BYTES_DELTA[
                {LINKTYPE_ETHERNET: ENCAP_ETHERNET, LINKTYPE_RAW: ENCAP_RAW, LINKTYPE_IPV4: ENCAP_RAW4}[linktype]
            ]
        )
        want = counts(**{c: (1, size) for c in ("all", *row.classes)})
        if got != want:
            FINDINGS.append(
                f"divergence case {row.name}: want {sorted(row.classes)}, trafstat "
                f"{sorted(c for c in CLASSES if got[c][0] and c != 'all')} ({got['all']})"
            )
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
        cls.topo = topology(H, ipv6=False, neighbours=True)
        cls.addClassCleanup(cls.topo.destroy)
        cls.topo.create()

    def check(self, args, hook, path=None):
        t = self.topo.pairs[0]
        path = path or CAPTURES.generated.files["mix_live.pcap"]
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
            FINDINGS.append(
                f"live {hook} ({' '.join(args)}) != replay of {os.path.basename(path)}: "
                f"{ {c: {'live': got[c], 'replay': want[c]} for c in CLASSES if got[c] != want[c]} }"
            )
        self.assertEqual(got, want, "live counts != replay counts")
        self.assertEqual(compact_l4(entry["l4_by_ip"]), want_l4)

    def test_xdp(self):
        self.check(["--hook", "xdp"], "xdp")

    def test_views_of_recorded_traffic_equal_tshark(self):
        """The recording of real traffic (hundreds of concurrent UDP and TCP flows from socat, pings,
        fragments) tcpreplayed across the veth into live trafstat --talkers --flows: its talkers and
        flows must equal tshark's endpoints and conversations of the same file."""
        t = self.topo.pairs[0]
        path = CAPTURES.recorded
        self.assertEqual(nested_ip_frames(path), 0)
        with LiveTrafstat(
            t.rcv_ns, "--json", "-i", "60", "--hook", "xdp", "--xdp-mode", "native", "--talkers", "--flows", t.rcv_if
        ) as ts:
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
        self.assertEqual(
            [x["type"] for x in lines],
            ["interval"] * nbins + ["summary"],
            f"want {nbins} interval lines, then the summary",
        )
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
        self.check(CAPTURES.recorded, "1", 1_000_000_000, "recorded/recorded.pcapng")

    def test_nanosecond_pcapng_boundaries(self):
        """Records 1 ns before and exactly at each bin boundary: nanosecond timestamps must bin
        exactly (a microsecond reader would move the first of each pair into the next bin)."""
        self.check(
            CAPTURES.generated.files["mix_ethernet_ns.pcapng"], "1", 1_000_000_000, "generated/mix_ethernet_ns.pcapng"
        )

    def test_time_going_backwards_stays_in_current_bin(self):
        path = CAPTURES.generated.files["mix_ethernet_backwards.pcapng"]
        stamps = [f.time_ns for f in packets_of(dissect(path))]
        self.assertTrue(any(b < a for a, b in zip(stamps, stamps[1:])), "the capture must go backwards")
        self.check(path, "1", 1_000_000_000, "generated/mix_ethernet_backwards.pcapng")

    def test_nanosecond_pcap_half_second_bins(self):
        self.check(
            CAPTURES.generated.files["mix_ethernet_ns.pcap"], "0.5", 500_000_000, "generated/mix_ethernet_ns.pcap"
        )


# ---------------------------------------------------------------------------
# Talkers and flows against tshark's endpoints and conversations.
# ---------------------------------------------------------------------------


def compare_flow_times(test, entry, path, label):
    """Replay: each TCP/UDP flow's first_seen and last_seen are its earliest and latest capture times."""
    want = flow_times(path)
    got = {
        (f["src"], f["sport"], f["dst"], f["dport"], f["proto"]): (f["first_seen"], f["last_seen"])
        for f in entry["flows"]
        if f["proto"] in ("tcp", "udp") and (f["sport"], f["dport"]) != (0, 0)
    }
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
    got = {
        t["ip"]: [
            t["packets"],
            t["bytes"],
            t["sent"]["packets"],
            t["sent"]["bytes"],
            t["received"]["packets"],
            t["received"]["bytes"],
        ]
        for t in entry["talkers"]
    }
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
        got_conv = {
            (a, pa, b, pb): (pairs.get((b, pb, a, pa), 0), pairs.get((a, pa, b, pb), 0)) for (a, pa, b, pb) in conv
        }
        test.assertEqual(got_conv, conv, f"{label}: {proto} flows != tshark conv,{proto}")
        test.assertEqual(
            sum(pairs.values()),
            sum(x + y for x, y in conv.values()),
            f"{label}: {proto} flows tshark has no conversation for",
        )
        test.assertEqual(
            {k: tuple(v) for k, v in ends.items()},
            endpoints(path, proto),
            f"{label}: {proto} flows != tshark endpoints,{proto}",
        )
    COVERAGE[f"{label} views"] = (
        f"{len(entry['talkers'])} talkers, {len(entry['flows'])} flows "
        f"equal to tshark endpoints/conv ({len(fragments)} non-first IPv6 fragments set aside)"
    )


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
        path = CAPTURES.recorded
        self.assertEqual(nested_ip_frames(path), 0, "the recording has nested IP headers: nothing compared")
        self.check_views(path, "recorded/recorded.pcapng")
        flows = len(conversation_frames(path, "udp")) + len(conversation_frames(path, "tcp"))
        self.assertGreaterEqual(flows, 240, "the recording should hold hundreds of concurrent flows")


# ---------------------------------------------------------------------------
# Entry point: privilege policy, tool checks, signal-safe run, the report.
# ---------------------------------------------------------------------------

TOOLS = ("ip", "ethtool", "ping", "socat", "tcpreplay", "tshark", "dumpcap", "editcap", "ss", "sysctl", "zstd")


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

    failed = H.preflight(
        "not root: replay needs CAP_BPF, the live tests create network namespaces",
        "replay oracle tests",
        TOOLS,
        (TRAFSTAT,),
    )
    if failed is not None:
        return failed
    probe = run([TRAFSTAT, "replay", "--help"], check=False)
    if probe.returncode != 0:
        H.log(f"FAIL: {TRAFSTAT} has no working `replay` command (exit {probe.returncode}): {probe.stderr.strip()}")
        return 1

    def make_work():
        global WORK, CAPTURES
        WORK = H.mkdtemp()
        atexit.register(shutil.rmtree, WORK, True)
        CAPTURES = Catalogue(H, WORK)

    def tests():
        code = testlib.run_unittests(__name__, unittest_args)
        print_report()
        return code

    return H.run_guarded(tests, prepare=make_work, finish=lambda: shutil.rmtree(WORK, True))


if __name__ == "__main__":
    sys.exit(main())
