#!/usr/bin/python3
"""`trafstat gen` end-to-end tests: frames sent from the kernel, counted by trafstat, read by tshark.

Run as root:  /usr/bin/python3 tests/e2e/run_gen.py --trafstat build/trafstat [-v] [-k PATTERN]

Every test class builds its own world with tests/support/testlib.py: two network namespaces named
after this process (tsgen-<pid>-<n>-snd / -rcv) joined by one veth pair va0 (snd) <-> vb0 (rcv), static
MACs and neighbours, IPv6 off, offloads off, and as many queues on both ends as gen has sending CPUs
(a veth hands XDP_TX frames to one ring per peer queue, picked by CPU: CPUs sharing a ring can
overflow it). trafstat and `trafstat gen` run as a user runs them (`ip netns exec <ns> trafstat ...`).

  TestSendToPeer   gen -n 100000 --flows 1000 --proto udp4,tcp6,icmp4 -s 128 va0 into a native-XDP
                   trafstat on vb0: exactly 100000 packets, 12800000 bytes, the per-class split gen
                   reports; the JSON summary line
  TestIntervalsReconcile  3 s of sustained gen traffic through -i 0.1 lines, native XDP with --flows and
                   TC ingress with all three tables: every line reconciles (tables, histogram), the
                   lines add up to the summary, the summary to what gen sent
  TestInject       --inject into va0 with trafstat --hook tc-ingress on va0: exact counts
  TestRate         --rate roughly honoured; -t; SIGINT ends a run with its summary (exit 0, or 130
                   before --count)
  TestTshark       24 frames captured on vb0: tshark finds every checksum good, no warning, and
                   --flows distinct UDP and TCP conversations per IP version
  TestBadInput     missing interface (3), bad or too large size (2), not Ethernet (2), unprivileged
                   (4): each one line on stderr

Safety: gen sends only on the veths created here, inside namespaces created here; all of it is
removed on every exit path (class cleanups, atexit, SIGINT/SIGTERM/SIGHUP handlers, and a sweep of a
SIGKILLed earlier run's leftovers). Nothing touches a pre-existing interface or namespace.

Privileges: without root (or without the ability to create a netns) the run SKIPs with exit code 77,
unless CI=true, where it fails. A kernel without live frames (gen exits 8) is treated the same way.
"""

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import CLASSES, compact, compact_l4, in_ns, table_capacity  # noqa: E402

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test

H = testlib.Harness("gen", "tsgen-", run_timeout=60)
run, spawn, reap = H.run, H.spawn, H.reap

CPUS = len(os.sched_getaffinity(0))  # gen's default: one sending thread per CPU we may run on
EXIT_UNSUPPORTED = 8  # gen: the kernel cannot send live frames
# Per protocol of gen: its (L3, L4) classes in trafstat's schema.
PROTO_CLASSES = {
    "udp4": ("ipv4", "udp"),
    "tcp4": ("ipv4", "tcp"),
    "icmp4": ("ipv4", "icmp"),
    "udp6": ("ipv6", "udp"),
    "tcp6": ("ipv6", "tcp"),
    "icmp6": ("ipv6", "icmpv6"),
}


# ---------------------------------------------------------------------------
# Processes.
# ---------------------------------------------------------------------------


class Trafstat(testlib.LiveTrafstat):
    """testlib's live trafstat; stop() returns the one interface entry of the summary."""

    def __init__(self, ns, *args):
        super().__init__(spawn, TRAFSTAT, ns, *args)

    def stop(self, settle=0.4):
        """Lets in-flight frames land, SIGINT, waits; returns the last interface entry of the summary."""
        res = super().stop(settle=settle)
        assert res.rc == 0, f"trafstat exited {res.rc}: {res.stderr}"
        (entry,) = res.summary["interfaces"]
        return entry


def gen(ns, *args, timeout=60):
    """`trafstat gen` to completion: (exit code, stdout, stderr)."""
    p = run(in_ns(ns, TRAFSTAT, "gen", *args), check=False, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def gen_json(ns, *args, timeout=60):
    """`trafstat gen --json ...` that must succeed: its summary object."""
    rc, out, err = gen(ns, "--json", *args, timeout=timeout)
    assert rc == 0, f"trafstat gen exited {rc}: {err}{out}"
    lines = testlib.json_lines(out)
    assert len(lines) == 1 and lines[0]["type"] == "gen", f"expected one gen summary line, got:\n{out}"
    return lines[0]


def expected_classes(summary):
    """What trafstat must count for a gen summary: ({class: (packets, bytes)}, l4_by_ip rows)."""
    records = []
    for proto, c in summary["protos"].items():
        l3, l4 = PROTO_CLASSES[proto]
        records += [({l3, l4}, c["bytes"] // c["packets"])] * c["packets"] if c["packets"] else []
    return testlib.tally(records)


def wait_packet_socket(ns, ifname, within=10):
    """Waits until a packet socket (dumpcap's) is bound to ifname and running: dumpcap says
    "Capturing on" a little before it receives anything."""
    ifindex = json.loads(run(["ip", "-n", ns, "-j", "link", "show", "dev", ifname]).stdout)[0]["ifindex"]
    deadline = time.monotonic() + within
    while True:
        rows = [line.split() for line in run(in_ns(ns, "cat", "/proc/net/packet")).stdout.splitlines()[1:]]
        if any(len(r) > 5 and r[4] == str(ifindex) and r[5] == "1" for r in rows):
            time.sleep(0.2)  # the socket is there; let its ring settle
            return
        assert time.monotonic() < deadline, f"no packet socket on {ifname} after {within}s"
        time.sleep(0.05)


def make_topology():
    """One veth pair in fresh namespaces, CPUS queues on both ends (see the module docstring)."""
    return testlib.multiqueue_pair(H, "10.79")


class GenCase(unittest.TestCase):
    """Base: a fresh topology per test class, torn down whatever happens."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.topo, cls.pair = make_topology()
        cls.addClassCleanup(cls.topo.destroy)

    def assert_counts(self, entry, summary):
        want_classes, want_by_ip = expected_classes(summary)
        self.assertEqual(compact(entry["classes"], CLASSES), want_classes)
        self.assertEqual(compact_l4(entry["l4_by_ip"], testlib.L4), want_by_ip)
        testlib.assert_reconciles(self, entry, per_l4=True)


# ---------------------------------------------------------------------------
# Tests.
# ---------------------------------------------------------------------------


class TestSendToPeer(GenCase):
    N, SIZE, FLOWS = 100000, 128, 1000

    def test_mix_counted_exactly_by_native_xdp(self):
        p = self.pair
        with Trafstat(p.rcv_ns, "--json", "--hook", "xdp", "--xdp-mode", "native", p.rcv_if) as ts:
            s = gen_json(
                p.snd_ns,
                "-n",
                str(self.N),
                "--flows",
                str(self.FLOWS),
                "--proto",
                "udp4,tcp6,icmp4",
                "-s",
                str(self.SIZE),
                p.snd_if,
            )
            entry = ts.stop()
        # gen's own account: exact, split round-robin per CPU
        self.assertEqual((s["packets"], s["bytes"]), (self.N, self.N * self.SIZE))
        self.assertEqual(list(s["protos"]), ["udp4", "tcp6", "icmp4"])
        self.assertEqual(sum(c["packets"] for c in s["protos"].values()), self.N)
        for proto, c in s["protos"].items():
            self.assertLessEqual(abs(c["packets"] - self.N / 3), CPUS, proto)  # each CPU's round-robin
            self.assertEqual(c["bytes"], c["packets"] * self.SIZE, proto)
        self.assertEqual(
            (s["interface"], s["action"], s["frame_size"], s["flows"], s["threads"]),
            (p.snd_if, "tx", self.SIZE, self.FLOWS, CPUS),
        )
        self.assertFalse(s["interrupted"])
        self.assertGreater(s["duration_s"], 0)
        self.assertAlmostEqual(s["mpps"], self.N / s["duration_s"] / 1e6, places=6)
        self.assertAlmostEqual(s["gbps"], self.N * self.SIZE * 8 / s["duration_s"] / 1e9, places=6)
        self.assertAlmostEqual(s["wire_gbps"], self.N * (self.SIZE + 24) * 8 / s["duration_s"] / 1e9, places=6)
        # trafstat on the peer: every frame, every byte, the right classes
        self.assertEqual(compact(entry["classes"], ["all"])["all"], (self.N, self.N * self.SIZE))
        self.assert_counts(entry, s)
        self.assertEqual(
            compact(entry["classes"], ["ipv6", "tcp"]),
            {
                "ipv6": (s["protos"]["tcp6"]["packets"], s["protos"]["tcp6"]["bytes"]),
                "tcp": (s["protos"]["tcp6"]["packets"], s["protos"]["tcp6"]["bytes"]),
            },
        )

    def test_text_summary(self):
        rc, out, err = gen(self.pair.snd_ns, "-n", "1000", "--threads", "1", self.pair.snd_if)
        self.assertEqual(rc, 0, err)
        self.assertIn("sent 1000 frames of 64 bytes (64000 bytes) on va0", out)
        self.assertIn("Gbps on the wire", out)
        self.assertIn("trafstat gen: sending 1000 frames on va0", err)


def table_of(entry, name="flows"):
    """The keyed table of a report entry, checked against its rule (docs/tables.md): what its entries
    hold + overflow + unkeyed = ipv4 + ipv6, packets and bytes."""
    t = entry["tables"][name]
    ip = [entry["classes"]["ipv4"][k] + entry["classes"]["ipv6"][k] for k in ("packets", "bytes")]
    table = [t["counted"][k] + t["overflow"][k] + t["unkeyed"][k] for k in ("packets", "bytes")]
    assert table == ip, f"table {name} does not reconcile: {t} vs ipv4+ipv6 {ip}"
    return t


class TestKeyedTable(GenCase):
    """trafstat --flows on the peer of gen's frames: one entry per 5-tuple gen made, and a table too
    small for them counts the rest as overflow, so that it reconciles exactly, every interval."""

    N, FLOWS = 60000, 1000

    def run_flows(self, *trafstat_args, interval="0.2", settle=0.4):
        p = self.pair
        with Trafstat(p.rcv_ns, "--json", "--xdp-mode", "native", "-i", interval, *trafstat_args, p.rcv_if) as ts:
            s = gen_json(
                p.snd_ns, "-n", str(self.N), "--flows", str(self.FLOWS), "--proto", "udp4,tcp6", "-s", "100", p.snd_if
            )
            time.sleep(settle)
            ts.proc.send_signal(signal.SIGINT)
            out, err = testlib.collect(ts.proc, 15, "trafstat did not exit within 15 s of SIGINT")
        self.assertEqual(ts.proc.returncode, 0, err)
        lines = testlib.json_lines(out)
        self.assertEqual(lines[-1]["type"], "summary")
        return s, lines

    def test_one_entry_per_flow(self):
        s, lines = self.run_flows("--flows")
        entry = lines[-1]["interfaces"][0]
        self.assert_counts(entry, s)
        t = table_of(entry)
        self.assertEqual(t["entries"], 2 * self.FLOWS, "distinct 5-tuples: --flows per protocol")
        self.assertEqual((t["counted"]["packets"], t["overflow"]["packets"], t["unkeyed"]["packets"]), (self.N, 0, 0))
        self.assertEqual(t["capacity"], table_capacity(65536))
        for line in lines[:-1]:
            table_of(line["interfaces"][0])
        self.assertEqual(sum(h["packets"] for h in entry["histogram"]), self.N)
        self.assertEqual(entry["histogram"][1]["packets"], self.N, "100-byte frames: the 65-127 bucket")

    def test_full_table_overflow_reconciles(self):
        s, lines = self.run_flows("--flows", "--flow-table-size", "16")
        entry = lines[-1]["interfaces"][0]
        self.assert_counts(entry, s)
        t = table_of(entry)
        self.assertGreater(t["overflow"]["packets"], 0, "2000 flows cannot fit a table of 16 keys")
        self.assertEqual(t["capacity"], table_capacity(16))
        intervals = [line["interfaces"][0] for line in lines[:-1]]
        for e in intervals:
            self.assertLessEqual(table_of(e)["entries"], table_capacity(16))
        # the interval lines add up to the summary, table included
        for k in ("counted", "overflow"):
            self.assertEqual(sum(e["tables"]["flows"][k]["packets"] for e in intervals), t[k]["packets"], k)

    def test_views_add_up_to_what_gen_sent(self):
        s, lines = self.run_flows("--flows", "--talkers", "--ports", "--top", "5")
        entry = lines[-1]["interfaces"][0]
        self.assert_counts(entry, s)
        flows, talkers, ports = entry["flows"], entry["talkers"], entry["ports"]
        # the summary has every row, sorted by bps (bytes): largest first
        self.assertEqual(len(flows), 2 * self.FLOWS)
        self.assertEqual([f["bytes"] for f in flows], sorted((f["bytes"] for f in flows), reverse=True))
        self.assertEqual(sum(f["packets"] for f in flows), self.N)
        self.assertEqual({(f["proto"], f["dport"]) for f in flows}, {("udp", 9), ("tcp", 9)})
        self.assertEqual({f["dst"] for f in flows}, {"198.19.0.1", "2001:db8:2::1"})
        self.assertEqual(len({(f["src"], f["sport"], f["proto"]) for f in flows}), 2 * self.FLOWS)
        # talkers: each packet once as sent, once as received
        self.assertEqual(sum(t["sent"]["packets"] for t in talkers), self.N)
        self.assertEqual(sum(t["received"]["packets"] for t in talkers), self.N)
        by_ip = {t["ip"]: t for t in talkers}
        self.assertEqual(by_ip["198.19.0.1"]["received"]["packets"], s["protos"]["udp4"]["packets"])
        self.assertEqual(by_ip["2001:db8:2::1"]["received"]["packets"], s["protos"]["tcp6"]["packets"])
        # ports: port 9 per protocol, named from /etc/services
        by_port = {(p["proto"], p["port"]): p for p in ports}
        self.assertEqual(by_port[("udp", 9)]["as_dst"]["packets"], s["protos"]["udp4"]["packets"])
        self.assertEqual(by_port[("tcp", 9)]["as_dst"]["packets"], s["protos"]["tcp6"]["packets"])
        self.assertEqual(by_port[("udp", 9)]["service"], "discard")
        # interval lines: at most --top rows per view; each view's own table reconciles
        for line in lines[:-1]:
            e = line["interfaces"][0]
            for view in ("flows", "talkers", "ports"):
                self.assertLessEqual(len(e[view]), 5, view)
                table_of(e, view)
        # gen varies the source port and address per flow: as many ports and talker pairs as flows
        self.assertEqual(
            {name: table_of(entry, name)["entries"] for name in ("talkers", "ports", "flows")},
            {"talkers": 2 * self.FLOWS, "ports": 2 * self.FLOWS, "flows": 2 * self.FLOWS},
        )

    def test_a_full_flow_table_leaves_talkers_and_ports_exact(self):
        s, lines = self.run_flows(
            "--flows",
            "--talkers",
            "--ports",
            "--flow-table-size",
            "16",
            "--ip-table-size",
            "16384",
            "--port-table-size",
            "8192",
        )
        entry = lines[-1]["interfaces"][0]
        self.assert_counts(entry, s)
        flows, talkers, ports = (table_of(entry, name) for name in ("flows", "talkers", "ports"))
        self.assertGreater(flows["overflow"]["packets"], 0, "2000 flows cannot fit a table of 16 keys")
        self.assertEqual((talkers["overflow"]["packets"], ports["overflow"]["packets"]), (0, 0))
        self.assertEqual(
            (flows["capacity"], talkers["capacity"], ports["capacity"]),
            tuple(testlib.table_capacities(16, 16384, 8192)),
        )
        # every packet is in a talker and a port row, whatever the flow table lost
        self.assertEqual(sum(t["sent"]["packets"] for t in entry["talkers"]), self.N)
        self.assertEqual(sum(p["as_dst"]["packets"] for p in entry["ports"]), self.N)
        for line in lines[:-1]:
            for name in ("flows", "talkers", "ports"):
                table_of(line["interfaces"][0], name)

    def test_ip_table_size_caps_the_talkers_table(self):
        s, lines = self.run_flows("--talkers", "--ip-table-size", "16")
        entry = lines[-1]["interfaces"][0]
        self.assert_counts(entry, s)
        t = table_of(entry, "talkers")
        self.assertEqual(t["capacity"], table_capacity(16))
        self.assertGreater(t["overflow"]["packets"], 0, "2000 address pairs cannot fit a table of 16 keys")
        self.assertEqual(set(entry["tables"]), {"talkers"}, "only the tables asked for")

    def test_idle_keys_age_out_and_keep_their_counts(self):
        s, lines = self.run_flows("--flows", "--idle-timeout", "400ms", settle=1.5)
        entry = lines[-1]["interfaces"][0]
        self.assert_counts(entry, s)
        t = table_of(entry)  # still reconciles: counted includes the aged keys
        self.assertEqual(t["aged"], {"entries": 2 * self.FLOWS, "packets": self.N, "bytes": self.N * 100})
        self.assertEqual((t["entries"], entry["flows"]), (0, []), "every key idled out of memory")

    def test_talkers_key_has_addresses_only(self):
        s, lines = self.run_flows("--talkers")
        t = table_of(lines[-1]["interfaces"][0], "talkers")
        # gen varies the source address per flow: one pair per flow and IP version
        self.assertEqual(t["entries"], 2 * self.FLOWS)


class TestIntervalsReconcile(GenCase):
    """Every interval line reconciles while traffic flows through it, tables and histogram included:
    an interval's counters and its table entries close together (one counting epoch, abi.h). The
    lines add up to the summary, and the summary to what gen sent."""

    SECONDS, RATE, FLOWS = "3", "150k", "5000"

    def run_sustained(self, ns, ifname, *args, inject=False):
        p = self.pair
        with Trafstat(ns, "--json", "-i", "0.1", *args, ifname) as ts:
            # Read the lines as they come, as a consumer does: a full pipe would hold trafstat up.
            out = []
            reader = threading.Thread(target=lambda: out.append(ts.proc.stdout.read()))
            reader.start()
            s = gen_json(
                p.snd_ns,
                *(["--inject"] if inject else []),
                "-t",
                self.SECONDS,
                "--rate",
                self.RATE,
                "--flows",
                self.FLOWS,
                "--proto",
                "udp4,tcp6",
                "-s",
                "100",
                p.snd_if,
            )
            time.sleep(0.4)
            ts.proc.send_signal(signal.SIGINT)
            reader.join(15)
            _, err = testlib.collect(ts.proc, 15, "trafstat did not exit within 15 s of SIGINT")
        self.assertEqual(ts.proc.returncode, 0, err)
        lines = testlib.json_lines(out[0].decode())
        self.assertEqual(lines[-1]["type"], "summary")
        return s, [line["interfaces"][0] for line in lines[:-1]], lines[-1]["interfaces"][0]

    def assert_every_line_reconciles(self, intervals, summary, tables):
        busy = [e for e in intervals if e["classes"]["all"]["packets"]]
        self.assertGreaterEqual(len(busy), 10, "traffic flowed through many intervals")
        for e in intervals + [summary]:
            testlib.assert_reconciles(self, e, per_l4=True)
            for name in tables:
                table_of(e, name)
            for k in ("packets", "bytes"):
                self.assertEqual(sum(h[k] for h in e["histogram"]), e["classes"]["all"][k], "histogram = all")

        # The summary is the lines plus the last, partial interval, which has no line: it reconciles too.
        def rest(pick):
            return [pick(summary, k) - sum(pick(e, k) for e in intervals) for k in ("packets", "bytes")]

        ip = rest(lambda e, k: e["classes"]["ipv4"][k] + e["classes"]["ipv6"][k])
        self.assertTrue(all(x >= 0 for x in ip), ip)
        for name in tables:
            parts = ("counted", "overflow", "unkeyed")
            self.assertEqual(rest(lambda e, k: sum(e["tables"][name][part][k] for part in parts)), ip, name)

    def test_native_xdp_with_flows(self):
        p = self.pair
        s, intervals, summary = self.run_sustained(p.rcv_ns, p.rcv_if, "--xdp-mode", "native", "--flows")
        self.assert_every_line_reconciles(intervals, summary, ["flows"])
        self.assert_counts(summary, s)

    def test_tc_ingress_with_three_tables(self):
        p = self.pair
        s, intervals, summary = self.run_sustained(
            p.snd_ns, p.snd_if, "--hook", "tc-ingress", "--talkers", "--ports", "--flows", inject=True
        )
        self.assert_every_line_reconciles(intervals, summary, ["talkers", "ports", "flows"])
        self.assert_counts(summary, s)


class TestInject(GenCase):
    N, SIZE = 50000, 100

    def test_injected_frames_counted_at_tc_ingress(self):
        p = self.pair
        with Trafstat(p.snd_ns, "--json", "--hook", "tc-ingress", p.snd_if) as ts:
            s = gen_json(
                p.snd_ns,
                "--inject",
                "-n",
                str(self.N),
                "--flows",
                "10",
                "--proto",
                "udp4,icmp4,tcp6",
                "-s",
                str(self.SIZE),
                p.snd_if,
            )
            entry = ts.stop()
        self.assertEqual((s["packets"], s["bytes"], s["action"]), (self.N, self.N * self.SIZE, "pass"))
        self.assertEqual(entry["hook"], "tc-ingress")
        self.assert_counts(entry, s)

    def test_action_pass_is_inject(self):
        p = self.pair
        with Trafstat(p.snd_ns, "--json", "--hook", "tc-ingress", p.snd_if) as ts:
            s = gen_json(p.snd_ns, "--action", "pass", "-n", "1000", "--threads", "1", p.snd_if)
            entry = ts.stop()
        self.assertEqual(s["action"], "pass")
        self.assertEqual(compact(entry["classes"], ["all", "udp"]), {"all": (1000, 64000), "udp": (1000, 64000)})


class TestRate(GenCase):
    def test_rate_with_count(self):
        n, rate = 20000, 20000
        s = gen_json(self.pair.snd_ns, "-n", str(n), "--rate", str(rate), self.pair.snd_if)
        self.assertEqual(s["packets"], n)
        self.assertGreaterEqual(s["duration_s"], n / rate * 0.9, s)
        self.assertLess(s["duration_s"], n / rate * 3, s)

    def test_rate_with_duration(self):
        s = gen_json(self.pair.snd_ns, "-t", "1", "--rate", "50k", self.pair.snd_if)
        self.assertTrue(40000 <= s["packets"] <= 60000, s)
        self.assertTrue(0.9 <= s["duration_s"] < 2, s)

    def test_duration(self):
        s = gen_json(self.pair.snd_ns, "-t", "700ms", self.pair.snd_if)
        self.assertGreater(s["packets"], 0)
        self.assertTrue(0.65 <= s["duration_s"] < 1.5, s)

    def _interrupted(self, *args):
        proc = spawn(
            in_ns(self.pair.snd_ns, TRAFSTAT, "gen", "--json", *args, self.pair.snd_if),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        head, stopped = testlib.read_stderr_until(proc, "Ctrl-C to stop", 20)
        self.assertIsNone(stopped, head)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = testlib.collect(proc, 15, "trafstat gen did not exit within 15 s of SIGINT")
        (s,) = testlib.json_lines(out)
        self.assertTrue(s["interrupted"], s)
        self.assertGreater(s["packets"], 0)
        self.assertLess(s["duration_s"], 5)
        return proc.returncode, s, head + err

    def test_sigint_ends_cleanly_with_summary(self):
        rc, _s, err = self._interrupted()
        self.assertEqual(rc, 0, err)

    def test_sigint_before_count_exits_130(self):
        rc, s, err = self._interrupted("-n", "1000000000000")
        self.assertEqual(rc, 130, err)
        self.assertIn(f"interrupted after {s['packets']} of 1000000000000 frames", err)


class TestTshark(GenCase):
    """24 frames, one per (protocol, flow) with one thread: 6 protocols x 4 flows."""

    PROTOS, FLOWS, SIZE = "udp4,tcp6,icmp4,udp6,tcp4,icmp6", 4, 128

    def test_frames_dissect_cleanly(self):
        p = self.pair
        n = 6 * self.FLOWS
        tmp = H.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        os.chmod(tmp, 0o777)  # dumpcap may drop privileges to write
        pcap = os.path.join(tmp, "gen.pcapng")
        # The XDP counter on vb0 is what lets the veth take XDP_TX frames (it enables the peer's NAPI).
        with Trafstat(p.rcv_ns, "--json", "--hook", "xdp", "--xdp-mode", "native", p.rcv_if) as ts:
            cap = spawn(
                in_ns(p.rcv_ns, "dumpcap", "-i", p.rcv_if, "-c", str(n), "-a", "duration:20", "-w", pcap),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            head, stopped = testlib.read_stderr_until(cap, "Capturing on", 15)
            self.assertIsNone(stopped, head)
            wait_packet_socket(p.rcv_ns, p.rcv_if)
            s = gen_json(
                p.snd_ns,
                "--threads",
                "1",
                "-n",
                str(n),
                "--flows",
                str(self.FLOWS),
                "--proto",
                self.PROTOS,
                "-s",
                str(self.SIZE),
                p.snd_if,
            )
            _out, err = testlib.collect(cap, 25, "dumpcap did not stop")
            self.assertEqual(cap.returncode, 0, head + err)
            entry = ts.stop()
        self.assertEqual(s["packets"], n)
        self.assertEqual(compact(entry["classes"], ["all"])["all"], (n, n * self.SIZE))

        checks = [
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "tcp.analyze_sequence_numbers:FALSE",
        ]
        fields = [
            "frame.len",
            "ip.checksum.status",
            "udp.checksum.status",
            "tcp.checksum.status",
            "icmp.checksum.status",
            "icmpv6.checksum.status",
            "_ws.expert.severity",
            "_ws.expert.message",
            "_ws.malformed",
            "ip.src",
            "ipv6.src",
            "udp.srcport",
            "tcp.srcport",
            "icmp.ident",
            "icmpv6.echo.identifier",
            "frame.protocols",
        ]
        out = run(
            [
                "tshark",
                "-n",
                "-r",
                pcap,
                *checks,
                "-T",
                "fields",
                "-E",
                "separator=|",
                "-E",
                "occurrence=a",
                *[a for f in fields for a in ("-e", f)],
            ]
        ).stdout
        rows = [dict(zip(fields, line.split("|"))) for line in out.splitlines()]
        self.assertEqual(len(rows), n, out)
        tuples = collections.defaultdict(set)
        for i, r in enumerate(rows, 1):
            self.assertEqual(r["frame.len"], str(self.SIZE), f"frame {i}")
            statuses = [r[f] for f in fields[1:6] if r[f]]
            self.assertTrue(statuses and all(v == "1" for v in statuses), f"frame {i}: checksum status {r}")
            self.assertEqual(r["_ws.malformed"], "", f"frame {i}: malformed {r}")
            severities = [int(v, 0) for v in r["_ws.expert.severity"].split(",") if v]
            self.assertTrue(all(v < 0x600000 for v in severities), f"frame {i}: expert warning {r}")
            protos = r["frame.protocols"].split(":")
            l4 = next(x for x in ("udp", "tcp", "icmpv6", "icmp") if x in protos)
            src = r["ip.src"] or r["ipv6.src"]
            port = r["udp.srcport"] or r["tcp.srcport"] or r["icmp.ident"] or r["icmpv6.echo.identifier"]
            tuples[(l4, "ipv6" if r["ipv6.src"] else "ipv4")].add((src, port))
        self.assertEqual(
            {k: len(v) for k, v in tuples.items()},
            {
                (l4, v): self.FLOWS
                for l4, v in (
                    ("udp", "ipv4"),
                    ("udp", "ipv6"),
                    ("tcp", "ipv4"),
                    ("tcp", "ipv6"),
                    ("icmp", "ipv4"),
                    ("icmpv6", "ipv6"),
                )
            },
        )
        for conv in ("udp", "tcp"):
            stats = run(["tshark", "-n", "-q", "-r", pcap, "-z", f"conv,{conv}"]).stdout
            conversations = [line for line in stats.splitlines() if "<->" in line]
            self.assertEqual(len(conversations), 2 * self.FLOWS, f"{conv}, IPv4 and IPv6:\n{stats}")


class TestBadInput(GenCase):
    def assert_one_line(self, rc, err, code, *parts):
        self.assertEqual(rc, code, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertTrue(err.startswith("trafstat: "), err)
        for part in parts:
            self.assertIn(part, err)

    def test_missing_interface_exits_3(self):
        rc, _out, err = gen(self.pair.snd_ns, "-n", "10", "nosuch0")
        self.assert_one_line(rc, err, 3, "nosuch0")

    def test_bad_size_exits_2(self):
        for size in ("10", "59", "3001", "12x"):
            rc, _out, err = gen(self.pair.snd_ns, "-s", size, self.pair.snd_if)
            self.assert_one_line(rc, err, 2, size)
        rc, _out, err = gen(self.pair.snd_ns, "-s", "64", "--proto", "tcp6", self.pair.snd_if)
        self.assert_one_line(rc, err, 2, "at least 74")

    def test_size_above_mtu_exits_2(self):
        rc, _out, err = gen(self.pair.snd_ns, "-n", "1", "-s", "1515", self.pair.snd_if)
        self.assert_one_line(rc, err, 2, "MTU 1500")

    def test_not_ethernet_exits_2(self):
        rc, _out, err = gen(self.pair.snd_ns, "-n", "1", "lo")  # the namespace's own loopback
        self.assert_one_line(rc, err, 2, "not an Ethernet interface")

    def test_unprivileged_exits_4(self):
        nobody = 65534
        with H.binary_for_user(self.pair.snd_ns, TRAFSTAT, nobody) as binary:
            p = run(
                in_ns(
                    self.pair.snd_ns,
                    "setpriv",
                    f"--reuid={nobody}",
                    f"--regid={nobody}",
                    "--clear-groups",
                    binary,
                    "gen",
                    "-n",
                    "1",
                    self.pair.snd_if,
                ),
                check=False,
            )
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn("CAP_BPF", p.stderr)


# ---------------------------------------------------------------------------
# Entry point: privilege policy, tool checks, live-frames probe, signal-safe run.
# ---------------------------------------------------------------------------

TOOLS = ("ip", "ethtool", "sysctl", "setpriv", "tshark", "dumpcap")


def live_frames_missing():
    """None when gen can send here, else why not (the kernel refuses live frames: gen exits 8)."""
    topo, pair = make_topology()
    try:
        rc, _out, err = gen(pair.snd_ns, "-n", "1", pair.snd_if)
    finally:
        topo.destroy()
    if rc == EXIT_UNSUPPORTED:
        return f"this kernel cannot send live frames: {err.strip()}"
    return None


def main():
    return H.main(
        __doc__,
        __name__,
        suite="gen tests",
        not_root="the gen tests create network namespaces and send from BPF",
        tools=TOOLS,
        ready=live_frames_missing,
    )


if __name__ == "__main__":
    sys.exit(main())
