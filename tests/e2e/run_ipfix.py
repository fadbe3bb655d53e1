#!/usr/bin/python3
"""IPFIX flow export end to end: trafstat's records read by real collectors and decoders.

Run as root:  /usr/bin/python3 tests/e2e/run_ipfix.py --trafstat build/trafstat [-v] [-k PATTERN]

Every collector listens on 127.0.0.1, in the root namespace (replay) or on the loopback of a
namespace created here (live). docs/ipfix.md describes what is exported.

  TestNfdumpAgainstTshark  `trafstat replay --json --ipfix` of the replay oracle's captures
                   (tests/replay/captures.py: installed, generated, recorded in a netns) into
                   nfcapd; nfdump's records summed per 5-tuple equal trafstat's JSON flows and
                   tshark's per-direction frames and bytes (sum of frame.len) of the same capture,
                   and each 5-tuple's first start and last end are its first and last frame times
                   to the millisecond
  TestDecoders     ipfixDump reads an --ipfix-file export with no error or warning; in its reading
                   the TCP flows that end with FIN say end-of-flow
  TestSoftflowd    `softflowd -r` of the same captures into a second nfcapd: per 5-tuple the same
                   packets; bytes differ by the Ethernet header (softflowd counts IP bytes)
  TestLive         gen sends thousands of flows through a veth for several active timeouts into
                   live `trafstat --ipfix` exporting to nfcapd in the receiver's namespace: the
                   collected totals equal what gen sent; records with the active-timeout end
                   reason; tshark's IPFIX dissector on the captured export: no malformed packet, no
                   expert error, the same packets
  TestAgent        the same through `trafstat agent --flows --ipfix`, pins in a private bpffs (the
                   runner starts itself again under `unshare -m`), stopped by SIGTERM
  TestReconcile    a flow table of 16 keys and 2000 flows: the collected records' packets plus the
                   last options record's ignoredPacketTotalCount equal the packets sent
  TestBadInput     unresolvable or bad collector, too small MTU, unwritable file: one line, exit
                   code; a refused port: the run ends normally and says how many records were lost

Safety: namespaces tsipfix-<pid>-<n>-snd/-rcv and temp dirs tsipfix-<pid>-* are created here and
removed on every exit path; collectors and softflowd are started here and stopped by PID (nfcapd by
SIGTERM, so that it writes its file).

Privileges: without root the run SKIPs with exit code 77, unless CI=true, where it fails.
"""

import atexit
import collections
import datetime
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "replay"))
import agentlib  # noqa: E402  (tests/support/agentlib.py)
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import ETH_HLEN, in_ns  # noqa: E402
from captures import Catalogue, GOPACKET  # noqa: E402  (tests/replay/captures.py)
from oracle import nested_ip_frames, tshark  # noqa: E402  (tests/replay/oracle.py)

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test
WORK = ""  # set by main(): this run's temp directory
CAPTURES = None  # set by main(): this run's Catalogue

H = testlib.Harness("ipfix", "tsipfix-", run_timeout=120, output_tail=3000)
run, spawn, reap = H.run, H.spawn, H.reap

PROTO_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "icmpv6": 58, "sctp": 132}
ICMP = (1, 58)
# Data record length per template id (docs/ipfix.md): flow records, then the options records.
RECORD_LENGTHS = {256: 53, 257: 51, 258: 53, 259: 51, 260: 77, 261: 75, 262: 77, 263: 75, 264: 56, 265: 56}
END_REASON_ACTIVE_TIMEOUT = 2  # docs/ipfix.md, IANA flowEndReason

# Ethernet captures of the replay oracle (so that tshark's frame.len is trafstat's L2 byte count):
# installed, generated (the oracle's mix, nanosecond pcapng) and the recording of real traffic.
INSTALLED = (
    "/usr/share/doc/python3-dpkt/examples/data/http.pcap",
    "/usr/share/doc/python3-dpkt/examples/data/dns_icmp.pcap",
    "/usr/share/doc/python3-dpkt/examples/data/nb6-http.pcap",
    f"{GOPACKET}/pcap/test_ethernet.pcap",
    "/usr/share/doc/pcapfix/examples/test.pcap",
)
GENERATED = ("mix_ethernet.pcap", "mix_ethernet_ns.pcapng")


# ---------------------------------------------------------------------------
# Collectors.
# ---------------------------------------------------------------------------


def free_udp_port():
    """A UDP port nothing listens on in the root namespace right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scratch():
    """A fresh directory inside this run's WORK (removed with it)."""
    return tempfile.mkdtemp(dir=WORK)


def wait_for(predicate, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def udp_listening(ns, port):
    cmd = ["ss", "-Hlun", f"sport = :{port}"]
    return bool(run(in_ns(ns, *cmd) if ns else cmd).stdout.strip())


class Nfcapd:
    """nfcapd on 127.0.0.1:port (in namespace `ns`, or the root one) writing into a temp dir; a
    context manager; records() after the block: nfdump's flow records."""

    def __init__(self, port, ns=None):
        self.port, self.ns = port, ns
        self.dir = os.path.join(scratch(), "flows")
        os.makedirs(self.dir)
        self.proc = None

    def __enter__(self):
        # -B: a receive buffer that holds a whole export burst (every record of an active timeout
        # comes at once; the default 208 KiB overflows at a few thousand records)
        cmd = ["nfcapd", "-w", self.dir, "-p", str(self.port), "-b", "127.0.0.1", "-B", str(4 << 20)]
        self.proc = spawn(in_ns(self.ns, *cmd) if self.ns else cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for(lambda: udp_listening(self.ns, self.port) or self.proc.poll() is not None, "nfcapd to listen")
        assert self.proc.poll() is None, f"nfcapd exited: {self.proc.stdout.read().decode()}"
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        """SIGTERM: nfcapd writes what it holds into its file and exits."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            reap(self.proc, timeout=15)
            self.log = self.proc.stdout.read().decode(errors="replace")

    def records(self):
        """Every flow record nfdump reads back, as dicts (nfdump -o json, times in UTC)."""
        p = run(["nfdump", "-R", self.dir, "-o", "json"], timeout=120)
        text = p.stdout.strip()
        if "No matching flows" in text:
            return []
        return [r for r in json.loads(text) if r.get("type") == "FLOW"]


def iso_ms(text):
    """nfdump's "2013-05-30T22:45:17.276" (UTC under TZ=UTC) -> Unix milliseconds."""
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000 + d.microsecond // 1000


def nfdump_key(r):
    """(proto, src, sport, dst, dport) of an nfdump record: ICMP's type and code in the ports, as in
    trafstat's JSON flows (docs/json.md)."""
    proto = r["proto"]
    if proto in ICMP:
        ports = (r.get("icmp_type", 0), r.get("icmp_code", 0))
    else:
        ports = (r.get("src_port", 0), r.get("dst_port", 0))
    src = r.get("src4_addr") or r.get("src6_addr")
    dst = r.get("dst4_addr") or r.get("dst6_addr")
    return (proto, src, ports[0], dst, ports[1])


def per_tuple(records):
    """{5-tuple: [packets, bytes, first ms, last ms, records]} of nfdump records."""
    out = {}
    for r in records:
        t = out.setdefault(nfdump_key(r), [0, 0, None, None, 0])
        t[0] += r["in_packets"]
        t[1] += r["in_bytes"]
        first, last = iso_ms(r["first"]), iso_ms(r["last"])
        t[2] = first if t[2] is None else min(t[2], first)
        t[3] = last if t[3] is None else max(t[3], last)
        t[4] += 1
    return out


def counts_only(table):
    return {k: (v[0], v[1]) for k, v in table.items()}


# ---------------------------------------------------------------------------
# trafstat and tshark on a capture.
# ---------------------------------------------------------------------------


def replay_export(path, *args):
    """`trafstat replay --json --ipfix` of `path` into a fresh nfcapd: (JSON summary entry, nfdump
    records, stderr)."""
    port = free_udp_port()
    with Nfcapd(port) as col:
        p = run([TRAFSTAT, "replay", "--json", "--ipfix", f"127.0.0.1:{port}", *args, path], check=False, timeout=120)
        assert p.returncode == 0, f"trafstat replay {path}: exit {p.returncode}: {p.stderr}"
        time.sleep(0.3)  # the last datagrams into nfcapd's socket
    res = testlib.Result(p.returncode, p.stdout, p.stderr)
    return res.summary["interfaces"][0], col.records(), p.stderr


def json_flows(entry):
    """{5-tuple: (packets, bytes)} of trafstat's JSON flows."""
    out = collections.Counter()
    for f in entry["flows"]:
        name = str(f["proto"])  # a name, or the number of a protocol without one
        proto = int(name) if name.isdigit() else PROTO_NUMBERS[name]
        key = (proto, f["src"], f["sport"], f["dst"], f["dport"])
        out[key] = (out[key][0] + f["packets"], out[key][1] + f["bytes"]) if key in out else (f["packets"], f["bytes"])
    return dict(out)


def epoch_ms(text):
    """tshark's frame.time_epoch ("1369953917.276118000") -> Unix milliseconds, exactly."""
    sec, _, frac = text.partition(".")
    return int(sec) * 1000 + int((frac + "000")[:3])


def tshark_tuples(path):
    """Per direction and 5-tuple, from tshark's dissection: {5-tuple: [frames, sum of frame.len,
    first ms, last ms]} of the frames whose IP header is followed by TCP, UDP, ICMP or ICMPv6
    (IPv6 extension headers allowed), or that are fragments (trafstat: the protocol, ports 0), and
    the set of address pairs that also carry other IP frames (tunnels, other protocols): tuples
    of those pairs are not compared, as tshark's key for those frames is not trafstat's."""
    fields = (
        "frame.time_epoch",
        "frame.len",
        "frame.protocols",
        "ip.src",
        "ip.dst",
        "ip.proto",
        "ip.flags.mf",
        "ip.frag_offset",
        "ipv6.src",
        "ipv6.dst",
        "ipv6.fraghdr.nxt",
        "ipv6.fraghdr.offset",
        "tcp.srcport",
        "tcp.dstport",
        "udp.srcport",
        "udp.dstport",
        "icmp.type",
        "icmp.code",
        "icmpv6.type",
        "icmpv6.code",
    )
    args = ["-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
    for f in fields:
        args += ["-e", f]
    out, unclear = {}, set()
    for line in tshark(path, "-Y", "ip or ipv6", *args).stdout.splitlines():
        (
            t,
            flen,
            protos,
            s4,
            d4,
            proto4,
            mf,
            off,
            s6,
            d6,
            frag6,
            off6,
            tsp,
            tdp,
            usp,
            udp,
            it,
            ic,
            i6t,
            i6c,
        ) = line.split("|")
        src, dst = s4 or s6, d4 or d6
        layers = protos.split(":")
        ip_at = next((i for i, x in enumerate(layers) if x in ("ip", "ipv6")), None)
        if ip_at is None:  # IP that tshark does not dissect as IP
            unclear.add(frozenset((src, dst)))
            continue
        rest = [x for x in layers[ip_at + 1 :] if not x.startswith("ipv6.")]
        # trafstat keys a first fragment by its L4 header, a later one by its protocol, ports 0
        later_fragment = off not in ("", "0") or off6 not in ("", "0")
        l4 = rest[0] if rest else ""
        # An IP header right after IP: a tunnel. ICMP errors quoting IP are ICMP (outer fields first).
        if l4 in ("ip", "ipv6") or (not later_fragment and l4 not in ("tcp", "udp", "icmp", "icmpv6")):
            unclear.add(frozenset((src, dst)))
            continue
        try:
            if later_fragment:
                key = (int(proto4 or frag6), src, 0, dst, 0)
            elif l4 == "tcp":
                key = (6, src, int(tsp), dst, int(tdp))
            elif l4 == "udp":
                key = (17, src, int(usp), dst, int(udp))
            elif l4 == "icmp":
                key = (1, src, int(it), dst, int(ic))
            else:
                key = (58, src, int(i6t), dst, int(i6c))
        except ValueError:  # a header cut short: no field to key it by
            unclear.add(frozenset((src, dst)))
            continue
        row = out.setdefault(key, [0, 0, None, None])
        row[0] += 1
        row[1] += int(flen)
        if t and float(t) != 0:
            ms = epoch_ms(t)
            row[2] = ms if row[2] is None else min(row[2], ms)
            row[3] = ms if row[3] is None else max(row[3], ms)
    return out, unclear


def oracle_captures():
    """(label, path) of the captures compared: the installed ones present, the generated, the recorded."""
    paths = [(os.path.relpath(p, "/usr/share"), p) for p in INSTALLED if os.path.isfile(p)]
    paths += [(f"generated/{n}", CAPTURES.generated.files[n]) for n in GENERATED]
    paths.append(("recorded/recorded.pcapng", CAPTURES.recorded))
    return paths


COVERAGE = collections.OrderedDict()  # what each test compared, printed at the end


class IpfixCase(unittest.TestCase):
    maxDiff = None


class TestNfdumpAgainstTshark(IpfixCase):
    """nfcapd/nfdump == trafstat JSON == tshark, per 5-tuple, on replay."""

    def test_oracle_captures(self):
        split = 0
        for label, path in oracle_captures():
            with self.subTest(capture=label):
                # Bins of 200 ms of capture time and an active timeout of 500 ms: long flows come
                # in several records, summed here.
                entry, records, _err = replay_export(path, "-i", "0.2", "--ipfix-active-timeout", "500ms")
                self.assertTrue(records, f"{label}: nfdump read no record")
                got = per_tuple(records)
                split += sum(1 for v in got.values() if v[4] > 1)
                # every record: trafstat's own JSON flows, exactly
                self.assertEqual(counts_only(got), json_flows(entry), f"{label}: nfdump != trafstat JSON flows")
                flows_table = entry["tables"]["flows"]
                self.assertEqual(flows_table["overflow"]["packets"], 0)
                # tshark: every tuple of frames it keys as trafstat does
                want, unclear = tshark_tuples(path)
                compared = {k: v for k, v in want.items() if frozenset((k[1], k[3])) not in unclear}
                nested = nested_ip_frames(path)
                self.assertTrue(compared or nested, f"{label}: nothing to compare with tshark")
                differ = {
                    k: (got.get(k, [None] * 4)[:4], v) for k, v in compared.items() if got.get(k, [None] * 4)[:4] != v
                }
                self.assertEqual(
                    differ, {}, f"{label}: nfdump != tshark, (nfdump, tshark): packets, bytes, first, last ms"
                )
                COVERAGE[f"nfdump vs JSON vs tshark: {label}"] = (
                    f"{len(records)} records, {len(got)} 5-tuples equal to JSON; {len(compared)} equal to tshark"
                    f" (packets, bytes, first/last ms); {len(want) - len(compared)} tuples of address pairs"
                    " with fragments/nested IP/other protocols compared with JSON only"
                )
        self.assertGreater(split, 0, "no 5-tuple was split by the active timeout: the summing was not tested")


class TestDecoders(IpfixCase):
    def test_ipfixdump_reads_the_file_without_error(self):
        path = CAPTURES.recorded
        out = os.path.join(scratch(), "recorded.ipfix")
        p = run([TRAFSTAT, "replay", "--ipfix-file", out, "--ipfix-active-timeout", "1s", path])
        exported = int(p.stderr.split("IPFIX: ")[1].split()[0])
        d = run(["ipfixDump", "--in", out], check=False)
        self.assertEqual(d.returncode, 0, d.stderr)
        self.assertEqual(d.stderr.strip(), "", "ipfixDump warned")
        for word in ("error", "warning", "malformed", "unknown template"):
            self.assertNotIn(word, d.stdout.lower(), f"ipfixDump says {word}")
        # one flowStartMilliseconds per flow record, the options records too
        self.assertEqual(d.stdout.count("flowStartMilliseconds"), exported + 2 * 4, "flow records + 8 templates")
        self.assertIn("ignoredPacketTotalCount", d.stdout)
        COVERAGE["ipfixDump"] = f"{exported} flow records of recorded.pcapng's file export, no error or warning"

    def test_fin_ends_a_tcp_flow(self):
        """http.pcap's two TCP connections end with FIN: their records say end-of-flow (3), in
        ipfixDump's reading; the other records idle out or end with the capture."""
        out = os.path.join(scratch(), "http.ipfix")
        run([TRAFSTAT, "replay", "--ipfix-file", out, "-i", "1", INSTALLED[0]])
        d = run(["ipfixDump", "--in", out]).stdout
        flags = [int(x) for x in re.findall(r"tcpControlBits : (\d+)", d)]
        reasons = [int(x) for x in re.findall(r"flowEndReason : (\d+)", d)]
        self.assertEqual(len(flags), len(reasons))
        ended = [r for f, r in zip(flags, reasons) if f & 0x01]  # FIN seen
        self.assertEqual(ended, [3, 3], f"records with FIN: end reasons {ended}")
        self.assertNotIn(3, [r for f, r in zip(flags, reasons) if not f & 0x05])


class TestSoftflowd(IpfixCase):
    """softflowd -r of the same capture: per 5-tuple the same packets; trafstat's bytes are L2,
    softflowd's IP: trafstat bytes == softflowd bytes + 14 * packets (untagged Ethernet)."""

    def softflowd(self, path):
        port = free_udp_port()
        work = scratch()
        with Nfcapd(port) as col:
            # -c none: no control socket (with one, softflowd 1.1.0 -r waits on it forever)
            p = run(
                [
                    "softflowd",
                    "-r",
                    path,
                    "-v",
                    "10",
                    "-n",
                    f"127.0.0.1:{port}",
                    "-d",
                    "-6",
                    "-p",
                    os.path.join(work, "pid"),
                    "-c",
                    "none",
                ],
                timeout=60,
            )
            self.assertIn("Shutting down after pcap EOF", p.stdout + p.stderr)
            time.sleep(0.3)
        return col.records()

    def test_same_packets_ip_bytes(self):
        for label, path in (("dns_icmp", INSTALLED[1]), ("http", INSTALLED[0]), ("recorded", CAPTURES.recorded)):
            if not os.path.isfile(path):
                continue
            with self.subTest(capture=label):
                _entry, ours, _err = replay_export(path)
                theirs = self.softflowd(path)
                ours_t, theirs_t = counts_only(per_tuple(ours)), counts_only(per_tuple(theirs))
                # softflowd: IPv4 and IPv6 with TCP, UDP, ICMP ports; trafstat keys every IP packet.
                # Compared: what both export.
                common = set(ours_t) & set(theirs_t)
                self.assertTrue(common, f"{label}: no 5-tuple in common")
                # Later IPv6 fragments: softflowd says protocol 0 (it stops at the fragment header),
                # trafstat the protocol after it; ports 0 in both (a first fragment: the same key)
                for k in set(theirs_t) - set(ours_t):
                    self.assertEqual((k[0], k[2], k[4], ":" in k[1]), (0, 0, 0, True), f"{label}: only softflowd: {k}")
                    (ours_k,) = [o for o in ours_t if o[1:] == k[1:] and o not in theirs_t]
                    theirs_t[ours_k] = theirs_t.pop(k)
                common = set(ours_t) & set(theirs_t)
                differ = {
                    k: (ours_t[k], theirs_t[k])
                    for k in common
                    if ours_t[k] != (theirs_t[k][0], theirs_t[k][1] + ETH_HLEN * theirs_t[k][0])
                }
                self.assertEqual(
                    differ, {}, f"{label}: trafstat != softflowd + 14 bytes per packet (trafstat, softflowd)"
                )
                COVERAGE[f"softflowd: {label}"] = (
                    f"{len(common)} common 5-tuples: same packets, bytes + 14/packet; "
                    f"{len(set(ours_t) - common)} trafstat-only tuples: {sorted({k[0] for k in set(ours_t) - common})}"
                )


# ---------------------------------------------------------------------------
# Live: gen through a veth into trafstat --ipfix, collector in the receiver's namespace.
# ---------------------------------------------------------------------------


def gen_json(ns, ifname, *args):
    p = run(in_ns(ns, TRAFSTAT, "gen", "--json", *args, ifname), timeout=120)
    (line,) = testlib.json_lines(p.stdout)
    return line


class LiveExporter:
    """Live `trafstat --ipfix`: SIGINT; its JSON summary kept as `result`."""

    def __init__(self, live):
        self.live, self.result = live, None

    def __enter__(self):
        self.live.start()
        return self

    def __exit__(self, *exc):
        testlib.interrupt(self.live.proc)

    def stop(self):
        self.result = self.live.stop(settle=0)
        return self.result.rc, self.result.stderr


class AgentExporter:
    """`trafstat agent --ipfix`: SIGTERM (its last epoch drained, every flow ended and exported)."""

    def __init__(self, agent):
        self.agent = agent

    def __enter__(self):
        self.agent.start()
        return self

    def __exit__(self, *exc):
        if self.agent.proc.poll() is None:
            self.agent.stop()

    def stop(self):
        return self.agent.stop(timeout=20)


class LiveExport:
    """trafstat --ipfix on the receiver's veth, nfcapd and dumpcap (udp port P on lo) in its
    namespace, gen sending from the other one; the results after the block."""

    def __init__(self, case, *trafstat_args, pin_dir=None):
        """pin_dir: `trafstat agent` with its pins there (a private bpffs) instead of live trafstat."""
        self.case, self.args, self.pin_dir = case, trafstat_args, pin_dir
        self.port = 4739
        self.pcap = os.path.join(scratch(), "export.pcapng")

    def exporter(self, ns, ifname):
        """The exporting trafstat as a context manager whose stop() gives (exit code, stderr)."""
        ipfix = ("--ipfix", f"127.0.0.1:{self.port}", *self.args)
        if self.pin_dir:
            return AgentExporter(
                agentlib.Agent(H, TRAFSTAT, ns, self.pin_dir, "--flows", "--detach-on-exit", *ipfix, ifname)
            )
        return LiveExporter(testlib.LiveTrafstat(spawn, TRAFSTAT, ns, "--json", *ipfix, ifname))

    def run(self, *gen_args):
        topo, pair = testlib.multiqueue_pair(H, "10.81")
        self.case.addCleanup(topo.destroy)
        ns = pair.rcv_ns
        with Nfcapd(self.port, ns) as col:
            dumpcap = spawn(
                in_ns(ns, "dumpcap", "-q", "-i", "lo", "-f", f"udp port {self.port}", "-w", self.pcap),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            wait_for(lambda: os.path.exists(self.pcap) or dumpcap.poll() is not None, "dumpcap to start")
            time.sleep(0.5)
            with self.exporter(ns, pair.rcv_if) as ts:
                self.gen = gen_json(pair.snd_ns, pair.snd_if, *gen_args)
                time.sleep(0.5)  # the last frames land
                self.rc, self.stderr = ts.stop()
            time.sleep(0.5)
            dumpcap.send_signal(signal.SIGINT)
            reap(dumpcap, timeout=15)
        assert self.rc == 0, self.stderr
        self.records = col.records()
        self.collector_log = col.log
        self.exporter_result = getattr(ts, "result", None)
        return self

    def sequence_errors(self):
        """Messages whose sequence number is not the previous one's plus its data records (RFC 7011
        3.1: every Data Record counts, the options records too; nfcapd 1.7 counts the flow records
        only, so it reports a sequence error after every options record: not checked there)."""
        errors, expected = [], None
        for line in self.tshark_fields("udp.payload"):
            msg = bytes.fromhex(line)
            length, seq = struct.unpack("!H", msg[2:4])[0], struct.unpack("!I", msg[8:12])[0]
            if expected is not None and seq != expected:
                errors.append((expected, seq))
            at, records = 16, 0
            while at < length:
                set_id, set_len = struct.unpack("!HH", msg[at : at + 4])
                if set_id >= 256:
                    records += (set_len - 4) // RECORD_LENGTHS[set_id]
                at += set_len
            expected = (seq + records) % (1 << 32)
        return errors

    def tshark_fields(self, *fields):
        args = ["-r", self.pcap, "-d", f"udp.port=={self.port},cflow", "-T", "fields", "-E", "separator=|"]
        for f in fields:
            args += ["-e", f]
        return run(["tshark", *args]).stdout.splitlines()


class TestLive(IpfixCase):
    N, FLOWS = 60000, 3000

    @staticmethod
    def tshark_totals(live):
        """(packets, octets, Counter of end reasons) of the flow records tshark decodes."""
        pk = oc = 0
        reasons = collections.Counter()
        for row in live.tshark_fields("cflow.packets", "cflow.octets", "cflow.flow_end_reason"):
            p, o, r = (x.split(",") if x else [] for x in row.split("|"))
            pk += sum(int(x) for x in p)
            oc += sum(int(x) for x in o)
            reasons.update(int(x) for x in r)
        return pk, oc, reasons

    ARGS = ("--ipfix-active-timeout", "2s", "--ipfix-idle-timeout", "1s", "-i", "0.5")
    GEN = ("--flows", str(FLOWS), "--rate", "10000", "--proto", "udp4,tcp6", "-s", "100")

    def check_export(self, live, label):
        """What a live export over several active timeouts must be: the collected totals equal what
        gen sent; tshark dissects it cleanly and agrees; the sequence numbers are right."""
        self.assertEqual(live.gen["packets"], self.N)
        packets = sum(r["in_packets"] for r in live.records)
        octets = sum(r["in_bytes"] for r in live.records)
        self.assertEqual(
            (packets, octets),
            (self.N, self.N * 100),
            f"nfdump totals != what gen sent; {live.stderr}"
            f"tshark: {self.tshark_totals(live)}; nfcapd: {live.collector_log}",
        )
        tuples = per_tuple(live.records)
        self.assertEqual(len(tuples), 2 * self.FLOWS)
        multi = sum(1 for v in tuples.values() if v[4] > 1)
        self.assertGreater(multi, 0, "no flow was exported in more than one record over 6 s / 2 s active timeout")
        # tshark: the export dissects cleanly, and its flow records hold the same packets
        expert = run(["tshark", "-r", live.pcap, "-d", f"udp.port=={live.port},cflow", "-q", "-z", "expert,error"])
        self.assertNotIn("Malformed", expert.stdout)
        bad = run(
            [
                "tshark",
                "-r",
                live.pcap,
                "-d",
                f"udp.port=={live.port},cflow",
                "-Y",
                "_ws.malformed || _ws.expert.severity >= error",
            ]
        ).stdout
        self.assertEqual(bad.strip(), "", "tshark: malformed or expert errors in the live export")
        pk, oc, reasons = self.tshark_totals(live)
        self.assertEqual((pk, oc), (self.N, self.N * 100), "tshark's cflow.packets/octets != what gen sent")
        self.assertGreater(reasons[END_REASON_ACTIVE_TIMEOUT], 0, f"no active-timeout record: {reasons}")
        self.assertEqual(live.sequence_errors(), [], "sequence numbers (expected, got)")
        self.assertEqual(sum(reasons.values()), len(live.records), "tshark and nfdump: not the same records")
        COVERAGE[
            label
        ] = f"{len(live.records)} records, {len(tuples)} flows, {multi} in several records; end reasons {dict(reasons)}"

    def test_collected_totals_equal_what_gen_sent(self):
        live = LiveExport(self, *self.ARGS, "--flow-table-size", "65536").run("-n", str(self.N), *self.GEN)
        entry = live.exporter_result.summary["interfaces"][0]
        self.assertEqual(entry["classes"]["all"]["packets"], self.N, "trafstat did not count what gen sent")
        self.check_export(live, "live")


class TestAgent(TestLive):
    """The same through `trafstat agent --flows --ipfix` (pins in a private bpffs), stopped by
    SIGTERM: its last epoch drained and every flow exported."""

    def test_collected_totals_equal_what_gen_sent(self):
        bpffs = agentlib.PrivateBpffs(H)
        self.addCleanup(bpffs.close)
        live = LiveExport(self, *self.ARGS, pin_dir=bpffs.pin_dir).run("-n", str(self.N), *self.GEN)
        self.assertIn(bpffs.pins(), ([], ["trafstat"]), "--detach-on-exit left pins")
        self.check_export(live, "agent")


class TestReconcile(IpfixCase):
    N, FLOWS = 60000, 2000

    def test_records_plus_ignored_equal_sent(self):
        live = LiveExport(self, "--flow-table-size", "16", "--ipfix-active-timeout", "1s", "-i", "0.5").run(
            "-n", str(self.N), "--flows", str(self.FLOWS), "--proto", "udp4,tcp6", "-s", "100"
        )
        in_records = sum(r["in_packets"] for r in live.records)
        # the options records, decoded by tshark's cflow dissector: the last one holds the totals
        rows = [r for r in live.tshark_fields("cflow.ignore_packets", "cflow.ignore_octets") if r.strip("|")]
        self.assertTrue(rows, "no options record in the export")
        ignored_packets = int(rows[-1].split("|")[0].split(",")[-1])
        ignored_octets = int(rows[-1].split("|")[1].split(",")[-1])
        self.assertGreater(ignored_packets, 0, "2000 flows cannot fit a table of 16 keys")
        self.assertEqual(in_records + ignored_packets, self.N, "records + ignoredPacketTotalCount != sent")
        octets = sum(r["in_bytes"] for r in live.records)
        self.assertEqual(octets + ignored_octets, self.N * 100, "records + ignoredOctetTotalCount != sent")
        COVERAGE["reconcile"] = f"{in_records} packets in {len(live.records)} records + {ignored_packets} ignored"


# ---------------------------------------------------------------------------
# Bad input.
# ---------------------------------------------------------------------------


class TestBadInput(IpfixCase):
    def replay(self, *args):
        path = "/usr/share/doc/python3-dpkt/examples/data/http.pcap"
        return run([TRAFSTAT, "replay", *args, path], check=False)

    def assert_one_line(self, p, code, *parts):
        err = p.stderr.strip().splitlines()
        self.assertEqual(p.returncode, code, p.stderr)
        self.assertEqual(len(err), 1, p.stderr)
        for part in parts:
            self.assertIn(part, err[0])

    def test_unresolvable_collector(self):
        self.assert_one_line(self.replay("--ipfix", "no.such.host.invalid:4739"), 2, "no.such.host.invalid")

    def test_bad_port(self):
        self.assert_one_line(self.replay("--ipfix", "127.0.0.1:99999"), 2, "99999")

    def test_mtu_too_small_names_the_minimum(self):
        self.assert_one_line(self.replay("--ipfix", "127.0.0.1:4739", "--ipfix-mtu", "100"), 2, "532")

    def test_unwritable_file(self):
        self.assert_one_line(self.replay("--ipfix-file", "/nonexistent/dir/x"), 1, "/nonexistent/dir/x")

    def test_refused_port_is_reported(self):
        port = free_udp_port()  # nothing listens: ICMP port unreachable, then ECONNREFUSED
        p = self.replay("--ipfix", f"127.0.0.1:{port}")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stderr, r"\d+ data records could not be sent")


# ---------------------------------------------------------------------------
# Entry point.
# ---------------------------------------------------------------------------

TOOLS = (
    "ip",
    "ethtool",
    "sysctl",
    "ss",
    "ping",
    "socat",
    "tshark",
    "dumpcap",
    "editcap",
    "nfcapd",
    "nfdump",
    "ipfixDump",
    "softflowd",
)


def main():
    os.environ["TZ"] = "UTC"  # nfdump prints times in local time
    agentlib.reexec_in_private_mount_namespace()  # the agent's bpffs: gone with the run

    def make_work():
        global WORK, CAPTURES
        WORK = H.mkdtemp()
        atexit.register(shutil.rmtree, WORK, True)
        CAPTURES = Catalogue(H, WORK)

    code = H.main(
        __doc__,
        __name__,
        suite="IPFIX tests",
        not_root="replay needs CAP_BPF, the live tests create network namespaces",
        tools=TOOLS,
        prepare=make_work,
        finish=lambda: shutil.rmtree(WORK, True),
    )
    for name, what in COVERAGE.items():
        print(f"  {name}: {what}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
