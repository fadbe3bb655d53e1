#!/usr/bin/python3
"""`trafstat --drops` end to end: real drops, counted exactly as the kernel's own counters count them.

Run as root:  /usr/bin/python3 tests/e2e/run_drops.py --trafstat build/trafstat [-v] [-k PATTERN]
It starts itself again under `unshare -m --propagation private` (tests/support/agentlib.py): the agent's
pins go to a BPF filesystem of that mount namespace and vanish with the run.

Every test makes its drops in a world of its own (tests/support/testlib.py): namespaces
tsdrops-<pid>-<n>-snd / -rcv joined by one veth pair va0 (snd) <-> vb0 (rcv), 10.94.0.1 <-> 10.94.0.2,
static neighbours, IPv6 off, offloads off, so that nothing but the test's own packets crosses the
pair. trafstat runs as a user runs it, `ip netns exec <ns> trafstat --drops --json -i 0.2 --top 0
IFACE` (the default hook, native XDP, unless said), until SIGINT. Every output line must reconcile (per interface and direction the reasons add
up to the packets, each reason's classes to the reason; the summary's dropped_flows plus
flow_overflow to the packets), the interval lines must add up to the summary, and the drops must
equal the kernel's own counter of the same drops, exactly, and sit on the right flow and reason.
UDP frames are 100 bytes (58 bytes of payload); bytes are counted from the L2 header (docs/json.md).

  TestNetfilterDrop   an nftables input rule in rcv drops one UDP flow (300 datagrams); a second flow
                      (200) reaches a socket. Oracle: the rule's counter (`nft -j list ruleset`);
                      netfilter_drop, received on vb0, on the first flow's 5-tuple only
  TestClosedPort      300 UDP datagrams to a port nothing listens on, trafstat with --hook tc-ingress.
                      Oracle: nstat UdpNoPorts in rcv; no_socket
  TestReceiveBuffer   300 datagrams to a socket with the smallest SO_RCVBUF, never read: the first few
                      are queued, the rest dropped. Oracle: UdpRcvbufErrors and the socket's own drops
                      column of /proc/net/udp; socket_rcvbuff
  TestBadIpChecksum   200 IPv4 headers with a wrong checksum, sent with scapy. Oracle: IpInHdrErrors
                      (and IpExtInCsumErrors); ip_csum
  TestEgressQdisc     a tbf of 8 kbit/s, 2000 bytes of burst and queue on va0 (this kernel has no
                      netem: CONFIG_NET_SCH_NETEM is off), 300 datagrams at once: the burst passes, the
                      queue fills, the rest is dropped. trafstat counts on va0 in snd with --hook tc.
                      Oracles: `tc -s -j qdisc` drops, and UdpSndbufErrors in snd (the ENOBUFS UDP
                      swallows); tc's sent + dropped + queued = what tc-egress counted; qdisc_drop,
                      leaving va0
  TestTcpClosedPort   200 connects from one source port to a closed TCP port: each SYN is answered
                      with a RST and dropped. Oracle: TcpOutRsts (and TcpInSegs) in rcv; the reason
                      this kernel gives the SYN is no_socket (tcp_v4_rcv: no socket, reset, drop)
  TestFloodNothingDropped   gen: 50000 ICMP echo requests at 200 kpps into a native-XDP trafstat on
                      vb0, every one answered (IcmpInEchos = IcmpOutEchoReps = what the counter
                      counted): not one drop on vb0, in any line, in either direction
  TestFloodAllDropped gen: 100000 frames of 100 bytes at 100 kpps, six protocols, 10 flows each, into
                      vb0, where an nftables netdev ingress rule drops everything. Oracle: the rule's
                      counter; the drops equal, class by class and flow by flow, what trafstat's own
                      counter (native XDP, --flows) counted on vb0 in the same run. Again with
                      --drop-flow-table-size 16: flow_overflow takes what the 16 rows cannot
  TestAgent           `trafstat agent --drops --detach-on-exit vb0` in rcv (--pin-dir in the private
                      bpffs, /metrics on rcv's loopback), scraped every second by a real Prometheus
                      (promlib.py) in rcv. Three drops: 300 datagrams to a closed port (UdpNoPorts;
                      no_socket), 200 of a flow an nftables input rule drops (the rule's counter;
                      netfilter_drop), 150 frames of an EtherType nothing handles, sent with scapy
                      (vb0's own rx_dropped in sysfs; unhandled_proto, class other_l3). /metrics
                      directly: trafstat_drops_total{device, direction="received", reason, ip, class}
                      equals each oracle, trafstat_drop_bytes_total the frames' bytes, every
                      trafstat_link_stat_total the growth of vb0's sysfs statistics, the same
                      after the agent's own drains; PromQL `sum by (reason) (trafstat_drops_total
                      {device="vb0"})` answers the oracles; `promtool check metrics` accepts the text;
                      after SIGTERM nothing is pinned, vb0 has no XDP program and none of the agent's
                      BPF links (its /proc/PID/fdinfo, `trafstat status`) is left

Safety: the namespaces and their veths are created here and removed on every exit path (class
cleanups, atexit, SIGINT/SIGTERM/SIGHUP handlers, and a sweep of a SIGKILLed earlier run's
leftovers); nftables rules and qdiscs live in those namespaces and go with them. Senders, sinks, the
agent and Prometheus run inside them (listening on their loopback only) and are stopped by PID; pins
only in the private bpffs. Nothing touches a pre-existing interface or namespace.

Privileges: without root (or without the ability to create a netns or a mount namespace) the run SKIPs
with exit code 77, unless CI=true, where it fails.
"""

import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import agentlib  # noqa: E402  (tests/support/agentlib.py)
import promlib  # noqa: E402  (tests/support/promlib.py)
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import ETH_HLEN, in_ns  # noqa: E402

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test

H = testlib.Harness("drops", "tsdrops-", run_timeout=60)
run, spawn = H.run, H.spawn

SUBNET = "10.94"
INTERVAL = 0.2  # seconds between trafstat's lines
PAYLOAD = 58  # UDP payload bytes: frames of 100 bytes
UDP_FRAME = ETH_HLEN + 20 + 8 + PAYLOAD
SYN_FRAME = ETH_HLEN + 20 + 20 + 20  # Linux's SYN: MSS, SACK permitted, timestamps, NOP, window scale
DIRECTIONS = ("received", "leaving")
LINK_COUNTERS = ("rx_dropped", "tx_dropped", "rx_errors", "tx_errors", "rx_missed_errors", "rx_nohandler")
# gen's protocols and the class of their drops
GEN_PROTOS = {
    "udp4": "ipv4/udp",
    "tcp4": "ipv4/tcp",
    "icmp4": "ipv4/icmp",
    "udp6": "ipv6/udp",
    "tcp6": "ipv6/tcp",
    "icmp6": "ipv6/icmpv6",
}

AGENT_METRICS = "127.0.0.1:9469"  # the agent's /metrics, on the rcv namespace's own loopback
BPFFS = None  # set by main(): the private BPF filesystem of the agent's pins

# A dropped_flows row's key (docs/json.md), and its value: (packets, bytes).
Flow = collections.namedtuple("Flow", "interface direction reason cls proto src dst sport dport")


# ---------------------------------------------------------------------------
# Traffic: small programs run inside a namespace (`ip netns exec ns python3 -c ...`).
# ---------------------------------------------------------------------------

# argv: src sport dst dport count payload. Sends `count` datagrams from one socket bound to src:sport
# (without IP_RECVERR, UDP swallows a qdisc's ENOBUFS and counts it as UdpSndbufErrors).
UDP_SENDER = r"""
import socket, sys
src, sport, dst, dport, count, payload = sys.argv[1:7]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, int(sport)))
data = b"x" * int(payload)
for _ in range(int(count)):
    s.sendto(data, (dst, int(dport)))
"""

# argv: addr port rcvbuf. A UDP socket with SO_RCVBUFFORCE `rcvbuf` (the kernel's minimum for a
# tiny one), bound; prints its effective SO_RCVBUF once ready. It reads nothing until a line comes
# on stdin, then reads what its queue holds and prints how many datagrams that was.
UDP_SINK = r"""
import socket, sys
SO_RCVBUFFORCE = 33  # asm-generic/socket.h: Python's socket module does not name it
addr, port, rcvbuf = sys.argv[1:4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, int(rcvbuf))
s.bind((addr, int(port)))
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), flush=True)
sys.stdin.readline()
queued = 0
try:
    while True:
        s.recv(65536, socket.MSG_DONTWAIT)
        queued += 1
except BlockingIOError:
    print(queued, flush=True)
"""

# argv: src sport dst dport count. `count` connects from src:sport to a closed port; each sends one
# SYN and must be refused (the RST comes back before any retransmission).
SYN_SENDER = r"""
import errno, socket, sys
src, sport, dst, dport, count = sys.argv[1:6]
for _ in range(int(count)):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, int(sport)))
        rc = s.connect_ex((dst, int(dport)))
        assert rc == errno.ECONNREFUSED, errno.errorcode.get(rc, rc)
"""

# argv: iface src_mac dst_mac src sport dst dport count payload. `count` copies of one Ethernet frame
# whose IPv4 header checksum is the right one inverted; prints the frame's length.
BAD_CSUM_SENDER = r"""
import sys
from scapy.all import IP, UDP, Ether, Raw, raw, sendp
iface, smac, dmac, src, sport, dst, dport, count, payload = sys.argv[1:10]
l3 = IP(src=src, dst=dst) / UDP(sport=int(sport), dport=int(dport)) / Raw(b"x" * int(payload))
good = IP(raw(l3)).chksum
frame = Ether(src=smac, dst=dmac) / IP(src=src, dst=dst, chksum=good ^ 0xFFFF) / l3.payload
assert IP(raw(frame)[14:]).chksum != good
sendp(frame, iface=iface, count=int(count), verbose=False)
print(len(raw(frame)))
"""


# argv: iface src_mac dst_mac ethertype count length. `count` copies of one Ethernet frame of `length`
# bytes with that EtherType, the rest padding; prints the frame's length.
ETHERTYPE_SENDER = r"""
import sys
from scapy.all import Ether, Raw, raw, sendp
iface, smac, dmac, ethertype, count, length = sys.argv[1:7]
frame = Ether(src=smac, dst=dmac, type=int(ethertype, 0)) / Raw(b"x" * (int(length) - 14))
sendp(frame, iface=iface, count=int(count), verbose=False)
print(len(raw(frame)))
"""


def python_in(ns, script, *args):
    """Runs `script` with /usr/bin/python3 inside `ns` to completion; its stdout."""
    return run(in_ns(ns, "/usr/bin/python3", "-c", script, *map(str, args))).stdout


def send_udp(pair, sport, dport, count):
    """`count` datagrams of PAYLOAD bytes from snd's address:sport to rcv's address:dport."""
    python_in(pair.snd_ns, UDP_SENDER, pair.snd_ip, sport, pair.rcv_ip, dport, count, PAYLOAD)


class UdpSink:
    """A UDP socket in `ns` bound to addr:port that is not read until drain() (UDP_SINK), as a
    context manager."""

    def __init__(self, ns, addr, port, rcvbuf):
        self.ns, self.addr, self.port, self.rcvbuf = ns, addr, port, rcvbuf
        self.proc, self.effective_rcvbuf = None, None

    def __enter__(self):
        self.proc = spawn(
            in_ns(self.ns, "/usr/bin/python3", "-c", UDP_SINK, self.addr, str(self.port), str(self.rcvbuf)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        assert line.strip().isdigit(), f"UDP sink did not start: {line!r}"
        self.effective_rcvbuf = int(line)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait(timeout=5)

    def drain(self):
        """Reads every datagram the socket holds; how many there were."""
        out, _ = self.proc.communicate("\n", timeout=10)
        assert out.strip().isdigit(), f"UDP sink: {out!r}"
        return int(out)

    def socket_drops(self):
        """The socket's own drop counter: the last column of its /proc/net/udp line."""
        lines = run(in_ns(self.ns, "cat", "/proc/net/udp")).stdout.splitlines()[1:]
        rows = [r for r in lines if int(r.split()[1].split(":")[1], 16) == self.port]
        assert len(rows) == 1, f"not one socket on port {self.port}: {rows}"
        return int(rows[0].split()[-1])


# ---------------------------------------------------------------------------
# The kernel's own counters: the oracles.
# ---------------------------------------------------------------------------


def nstat(ns):
    """The namespace's SNMP and netstat counters by nstat's names (UdpNoPorts, IpExtInCsumErrors,
    ...), absolute values (-a), the history file left alone (-s)."""
    return json.loads(run(in_ns(ns, "nstat", "-asz", "-j")).stdout)["kernel"]


class NstatDelta:
    """What the namespace's counters grew by over a block: `with NstatDelta(ns) as d: ...; d["UdpNoPorts"]`."""

    def __init__(self, ns):
        self.ns, self.before, self.grew = ns, None, None

    def __enter__(self):
        self.before = nstat(self.ns)
        return self

    def __exit__(self, *exc):
        after = nstat(self.ns)
        self.grew = {k: v - self.before.get(k, 0) for k, v in after.items() if v != self.before.get(k, 0)}

    def __getitem__(self, name):
        return self.grew.get(name, 0)


def nft(ns, ruleset):
    run(in_ns(ns, "nft", "-f", "-"), input=ruleset)


def nft_rule_counters(ns):
    """(packets, bytes) of every counter of every rule in the namespace, in ruleset order."""
    ruleset = json.loads(run(in_ns(ns, "nft", "-j", "list", "ruleset")).stdout)["nftables"]
    return [
        (e["counter"]["packets"], e["counter"]["bytes"])
        for item in ruleset
        if "rule" in item
        for e in item["rule"]["expr"]
        if "counter" in e
    ]


def qdisc_stats(ns, ifname):
    """The root qdisc's `tc -s -j qdisc` object."""
    (root,) = [
        q for q in json.loads(run(in_ns(ns, "tc", "-s", "-j", "qdisc", "show", "dev", ifname)).stdout) if q.get("root")
    ]
    return root


def link_statistics(ns, ifname):
    """The interface's own counters as sysfs shows them in its namespace
    (/sys/class/net/IFACE/statistics/<name>, the names of LINK_COUNTERS): {name: value}."""
    paths = [f"/sys/class/net/{ifname}/statistics/{name}" for name in LINK_COUNTERS]
    out = run(in_ns(ns, "grep", "-H", ".", *paths)).stdout
    return {os.path.basename(path): int(value) for path, value in (line.rsplit(":", 1) for line in out.splitlines())}


def bpf_link_ids():
    """The ids of every BPF link of the host."""
    return {link["id"] for link in json.loads(run(["bpftool", "-j", "link", "show"]).stdout)}


def kernel_drop_reasons():
    """The running kernel's drop reasons, named as trafstat names them: enum skb_drop_reason in its
    BTF, lower case without the SKB_DROP_REASON_ prefix."""
    dump = run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"]).stdout
    return {m.lower() for m in re.findall(r"\bSKB_DROP_REASON_(\w+) = \d+", dump)}


# ---------------------------------------------------------------------------
# trafstat --drops and its JSON.
# ---------------------------------------------------------------------------


class Trafstat(testlib.LiveTrafstat):
    """`trafstat --drops --json -i INTERVAL --top 0 ARGS...` in `ns`; its stdout is read line by line
    as it comes (a full pipe would hold it up); stop() returns a testlib.Result."""

    def __init__(self, ns, *args):
        super().__init__(spawn, TRAFSTAT, ns, "--drops", "--json", "-i", str(INTERVAL), "--top", "0", *args)
        self.out, self.reader = [], None

    def start(self, ready_timeout=20):
        super().start(ready_timeout)
        self.reader = threading.Thread(target=lambda: self.out.extend(iter(self.proc.stdout.readline, b"")))
        self.reader.start()
        return self

    def stop(self, timeout=15):
        """Once two more interval lines came (the second one read the counters after the first was
        printed, so after every drop made before stop()), SIGINT: the last, partial interval has no
        drops, and the interval lines add up to the summary."""
        wanted, deadline = len(self.out) + 2, time.monotonic() + timeout
        while len(self.out) < wanted and self.proc.poll() is None:
            assert time.monotonic() < deadline, f"trafstat printed no interval line within {timeout}s"
            time.sleep(INTERVAL / 4)
        self.proc.send_signal(signal.SIGINT)
        self.reader.join(timeout)
        _, err = testlib.collect(self.proc, timeout, f"trafstat did not exit within {timeout}s of SIGINT")
        res = testlib.Result(self.proc.returncode, b"".join(self.out).decode(errors="replace"), self.stderr_head + err)
        assert res.rc == 0, f"trafstat exited {res.rc}: {res.stderr}"
        return res


def drops_entry(line, ifname):
    (entry,) = [d for d in line["drops"] if d["name"] == ifname]
    return entry


def reason_classes(direction):
    """{(reason, class): (packets, bytes)} of one direction object of a drops entry."""
    return {(reason, cls): pb(c) for reason, r in direction["reasons"].items() for cls, c in r["classes"].items()}


def dropped_flows(line):
    """{Flow: (packets, bytes)} of a line's dropped_flows (one row per key)."""
    out = {}
    for f in line["dropped_flows"]:
        key = Flow(
            f["interface"],
            f["direction"],
            f["reason"],
            f["class"],
            f["proto"],
            f["src"],
            f["dst"],
            f["sport"],
            f["dport"],
        )
        assert key not in out, f"two dropped_flows rows for {key}"
        out[key] = (f["packets"], f["bytes"])
    return out


def add(table, key, value):
    old = table.get(key, (0, 0))
    table[key] = (old[0] + value[0], old[1] + value[1])


def total(values):
    return tuple(sum(v[i] for v in values) for i in (0, 1))


def pb(obj):
    return (obj["packets"], obj["bytes"])


class DropsCase(unittest.TestCase):
    """Base: a fresh topology per test class, torn down whatever happens; the checks every run shares."""

    maxDiff = None
    multiqueue = False  # gen sends into this pair: a queue per CPU at both ends (testlib.multiqueue_pair)

    @classmethod
    def setUpClass(cls):
        if cls.multiqueue:
            cls.topo, cls.pair = testlib.multiqueue_pair(H, SUBNET)
        else:
            cls.topo = testlib.Topology(H, subnet=SUBNET, link_sysctl=True, up_each=True).create()
            cls.pair = cls.topo.pairs[0]
        cls.addClassCleanup(cls.topo.destroy)

    def flow(self, reason, cls, proto, sport, dport, *, interface=None, direction="received", src=None, dst=None):
        p = self.pair
        return Flow(
            interface or p.rcv_if, direction, reason, cls, proto, src or p.snd_ip, dst or p.rcv_ip, sport, dport
        )

    def assert_known_reason(self, reason):
        self.assertIn(reason, KERNEL_REASONS, "not a drop reason of this kernel (bpftool btf dump)")

    def checked(self, res, interfaces):
        """The summary line of `res`, after checking that every line reconciles and that the interval
        lines add up to it: per interface, direction, reason and class; per dropped flow; overflow."""
        lines = res.lines
        self.assertGreaterEqual(len(lines), 2, f"no interval line:\n{res.stdout}")
        *intervals, summary = lines
        self.assertEqual(summary.get("type"), "summary", res.stdout[-2000:])
        for line in lines:
            self.assertEqual([d["name"] for d in line["drops"]], interfaces, "one drops entry per interface, in order")
            for d in line["drops"]:
                self.assertEqual(set(d["link"]), set(LINK_COUNTERS), "the interface's own counters")
                for direction in DIRECTIONS:
                    o, where = d[direction], f"{line.get('type')} {d['name']} {direction}"
                    self.assertEqual(total([pb(r) for r in o["reasons"].values()]), pb(o), f"{where}: sum of reasons")
                    for name, r in o["reasons"].items():
                        self.assertGreater(r["packets"], 0, f"{where}: a reason without drops is listed: {name}")
                        self.assertEqual(
                            total([pb(c) for c in r["classes"].values()]), pb(r), f"{where} {name}: classes"
                        )
        # The summary: every dropped flow, plus the overflow, is every drop.
        flows = dropped_flows(summary)
        for d in summary["drops"]:
            for direction in DIRECTIONS:
                rows = [v for k, v in flows.items() if (k.interface, k.direction) == (d["name"], direction)]
                self.assertEqual(
                    total(rows + [pb(d[direction]["flow_overflow"])]),
                    pb(d[direction]),
                    f"{d['name']} {direction}: flows",
                )
        # The interval lines add up to the summary (Trafstat.stop(): the last, partial interval has no drops).
        sums, interval_flows, summary_table = {}, {}, {}
        for line in intervals:
            self.assertEqual(line.get("type"), "interval")
            for d in line["drops"]:
                for direction in DIRECTIONS:
                    for k, v in reason_classes(d[direction]).items():
                        add(sums, (d["name"], direction, *k), v)
                    add(sums, (d["name"], direction, "flow_overflow"), pb(d[direction]["flow_overflow"]))
            for k, v in dropped_flows(line).items():
                add(interval_flows, k, v)
        for d in summary["drops"]:
            for direction in DIRECTIONS:
                for k, v in reason_classes(d[direction]).items():
                    summary_table[(d["name"], direction, *k)] = v
                add(summary_table, (d["name"], direction, "flow_overflow"), pb(d[direction]["flow_overflow"]))
        self.assertEqual(
            {k: v for k, v in sums.items() if v != (0, 0)}, {k: v for k, v in summary_table.items() if v != (0, 0)}
        )
        self.assertEqual(interval_flows, flows, "the interval lines' dropped_flows add up to the summary's")
        counted = ", ".join(f"{' '.join(k)} {v[0]}/{v[1]}" for k, v in summary_table.items() if v != (0, 0))
        H.log(f"{self.id().split('.')[-2]}: trafstat: {counted or 'no drops'}; {len(flows)} dropped flows")
        return summary


# ---------------------------------------------------------------------------
# Tests.
# ---------------------------------------------------------------------------


class TestNetfilterDrop(DropsCase):
    DROPPED, PASSED = 300, 200

    def test_rule_counter(self):
        p = self.pair
        self.assert_known_reason("netfilter_drop")
        nft(
            p.rcv_ns,
            "table inet tsdrops {\n"
            "  chain input {\n"
            "    type filter hook input priority 0; policy accept;\n"
            f"    ip saddr {p.snd_ip} ip daddr {p.rcv_ip} udp sport 5001 udp dport 7001 counter drop\n"
            "  }\n"
            "}\n",
        )
        with UdpSink(p.rcv_ns, p.rcv_ip, 7002, 16 << 20) as sink, NstatDelta(p.rcv_ns) as kernel:
            with Trafstat(p.rcv_ns, p.rcv_if) as ts:
                send_udp(p, 5001, 7001, self.DROPPED)
                send_udp(p, 5002, 7002, self.PASSED)
                summary = self.checked(ts.stop(), [p.rcv_if])
            self.assertEqual(sink.socket_drops(), 0)
            self.assertEqual(sink.drain(), self.PASSED, "the other flow reached its socket")
        (rule,) = nft_rule_counters(p.rcv_ns)
        self.assertEqual(rule[0], self.DROPPED, "the rule dropped every datagram of its flow")
        self.assertEqual(kernel["UdpInErrors"] + kernel["UdpNoPorts"], 0)
        H.log(f"nft rule counter: {rule[0]} packets, {rule[1]} bytes from the IP header")
        counted = rule[0], rule[1] + ETH_HLEN * rule[0]  # nft counts from the IP header
        vb0 = drops_entry(summary, p.rcv_if)
        self.assertEqual(reason_classes(vb0["received"]), {("netfilter_drop", "ipv4/udp"): counted})
        self.assertEqual(pb(vb0["leaving"]), (0, 0))
        self.assertEqual(dropped_flows(summary), {self.flow("netfilter_drop", "ipv4/udp", "udp", 5001, 7001): counted})


class TestClosedPort(DropsCase):
    N = 300

    def test_udp_no_ports(self):
        p = self.pair
        self.assert_known_reason("no_socket")
        with NstatDelta(p.rcv_ns) as kernel:
            with Trafstat(p.rcv_ns, "--hook", "tc-ingress", p.rcv_if) as ts:
                send_udp(p, 5003, 7003, self.N)
                summary = self.checked(ts.stop(), [p.rcv_if])
        no_ports = kernel["UdpNoPorts"]
        H.log(f"UdpNoPorts +{no_ports}")
        self.assertEqual(no_ports, self.N)
        vb0 = drops_entry(summary, p.rcv_if)
        self.assertEqual(reason_classes(vb0["received"]), {("no_socket", "ipv4/udp"): (no_ports, no_ports * UDP_FRAME)})
        self.assertEqual(pb(vb0["leaving"]), (0, 0))
        self.assertEqual(
            dropped_flows(summary),
            {self.flow("no_socket", "ipv4/udp", "udp", 5003, 7003): (no_ports, no_ports * UDP_FRAME)},
        )


class TestReceiveBuffer(DropsCase):
    N = 300

    def test_udp_rcvbuf_errors(self):
        p = self.pair
        self.assert_known_reason("socket_rcvbuff")
        with UdpSink(p.rcv_ns, p.rcv_ip, 7004, 1) as sink, NstatDelta(p.rcv_ns) as kernel:
            with Trafstat(p.rcv_ns, p.rcv_if) as ts:
                send_udp(p, 5004, 7004, self.N)
                summary = self.checked(ts.stop(), [p.rcv_if])
            socket_drops, queued = sink.socket_drops(), sink.drain()
        errors = kernel["UdpRcvbufErrors"]
        H.log(
            f"SO_RCVBUF {sink.effective_rcvbuf}: {queued} queued; UdpRcvbufErrors +{errors}, socket drops {socket_drops}"
        )
        self.assertGreater(errors, self.N // 2, "the tiny buffer dropped most datagrams")
        self.assertEqual(errors + queued, self.N)
        self.assertEqual(kernel["UdpInErrors"], errors, "every error a receive buffer error")
        self.assertEqual(socket_drops, errors)
        want = (errors, errors * UDP_FRAME)
        vb0 = drops_entry(summary, p.rcv_if)
        self.assertEqual(reason_classes(vb0["received"]), {("socket_rcvbuff", "ipv4/udp"): want})
        self.assertEqual(pb(vb0["leaving"]), (0, 0))
        self.assertEqual(dropped_flows(summary), {self.flow("socket_rcvbuff", "ipv4/udp", "udp", 5004, 7004): want})


class TestBadIpChecksum(DropsCase):
    N = 200

    def test_ip_in_hdr_errors(self):
        p = self.pair
        self.assert_known_reason("ip_csum")
        with NstatDelta(p.rcv_ns) as kernel:
            with Trafstat(p.rcv_ns, p.rcv_if) as ts:
                frame_len = int(
                    python_in(
                        p.snd_ns,
                        BAD_CSUM_SENDER,
                        p.snd_if,
                        p.snd_mac,
                        p.rcv_mac,
                        p.snd_ip,
                        5005,
                        p.rcv_ip,
                        7005,
                        self.N,
                        PAYLOAD,
                    )
                )
                summary = self.checked(ts.stop(), [p.rcv_if])
        self.assertEqual(frame_len, UDP_FRAME)
        errors = kernel["IpInHdrErrors"]
        H.log(f"IpInHdrErrors +{errors}, IpExtInCsumErrors +{kernel['IpExtInCsumErrors']}")
        self.assertEqual(errors, self.N)
        self.assertEqual(kernel["IpExtInCsumErrors"], self.N, "header errors that are checksum errors")
        want = (errors, errors * frame_len)
        vb0 = drops_entry(summary, p.rcv_if)
        self.assertEqual(reason_classes(vb0["received"]), {("ip_csum", "ipv4/udp"): want})
        self.assertEqual(pb(vb0["leaving"]), (0, 0))
        self.assertEqual(dropped_flows(summary), {self.flow("ip_csum", "ipv4/udp", "udp", 5005, 7005): want})


class TestEgressQdisc(DropsCase):
    N = 300

    def test_tbf_drops(self):
        p = self.pair
        self.assert_known_reason("qdisc_drop")
        # 1000 bytes/s: during the test the burst's 20 frames pass, 20 more wait, the rest is dropped
        run(
            in_ns(
                p.snd_ns,
                "tc",
                "qdisc",
                "add",
                "dev",
                p.snd_if,
                "root",
                "tbf",
                "rate",
                "8kbit",
                "burst",
                "2000",
                "limit",
                "2000",
            )
        )
        with UdpSink(p.rcv_ns, p.rcv_ip, 7006, 16 << 20), NstatDelta(p.snd_ns) as kernel:
            with Trafstat(p.snd_ns, "--hook", "tc", p.snd_if) as ts:
                send_udp(p, 5006, 7006, self.N)
                res = ts.stop()
        summary = self.checked(res, [p.snd_if])
        tbf = qdisc_stats(p.snd_ns, p.snd_if)
        drops = tbf["drops"]
        H.log(
            f"tbf: {tbf['packets']} sent, {drops} dropped, {tbf['qlen']} queued; UdpSndbufErrors +{kernel['UdpSndbufErrors']}"
        )
        self.assertGreater(drops, self.N // 2)
        self.assertEqual(kernel["UdpSndbufErrors"], drops, "each datagram the qdisc dropped: ENOBUFS, swallowed")
        (va0,) = [i for i in summary["interfaces"] if i["name"] == p.snd_if and i["hook"] == "tc-egress"]
        self.assertEqual(va0["classes"]["all"]["packets"], self.N, "tc-egress saw every datagram")
        # tbf counted what it sent when trafstat stopped; some left since: sent + dropped + queued, now
        self.assertEqual(tbf["packets"] + drops + tbf["qlen"], self.N)
        want = (drops, drops * UDP_FRAME)
        drops_va0 = drops_entry(summary, p.snd_if)
        self.assertEqual(reason_classes(drops_va0["leaving"]), {("qdisc_drop", "ipv4/udp"): want})
        self.assertEqual(pb(drops_va0["received"]), (0, 0))
        self.assertEqual(
            dropped_flows(summary),
            {self.flow("qdisc_drop", "ipv4/udp", "udp", 5006, 7006, interface=p.snd_if, direction="leaving"): want},
        )


class TestTcpClosedPort(DropsCase):
    N = 200

    def test_syn_answered_with_rst(self):
        p = self.pair
        self.assert_known_reason("no_socket")
        with NstatDelta(p.rcv_ns) as kernel:
            with Trafstat(p.rcv_ns, p.rcv_if) as ts:
                python_in(p.snd_ns, SYN_SENDER, p.snd_ip, 40000, p.rcv_ip, 7007, self.N)
                summary = self.checked(ts.stop(), [p.rcv_if])
        resets = kernel["TcpOutRsts"]
        H.log(f"TcpOutRsts +{resets}, TcpInSegs +{kernel['TcpInSegs']}")
        self.assertEqual((resets, kernel["TcpInSegs"]), (self.N, self.N), "one RST for each SYN")
        want = (resets, resets * SYN_FRAME)
        vb0 = drops_entry(summary, p.rcv_if)
        self.assertEqual(reason_classes(vb0["received"]), {("no_socket", "ipv4/tcp"): want})
        self.assertEqual(pb(vb0["leaving"]), (0, 0), "the RSTs leave: none dropped")
        self.assertEqual(dropped_flows(summary), {self.flow("no_socket", "ipv4/tcp", "tcp", 40000, 7007): want})


def gen_json(pair, *args):
    """`trafstat gen --json ... va0` from snd to vb0 (its MAC): the summary object."""
    p = run(in_ns(pair.snd_ns, TRAFSTAT, "gen", "--json", "--dst-mac", pair.rcv_mac, *args, pair.snd_if))
    (line,) = testlib.json_lines(p.stdout)
    return line


class TestFloodNothingDropped(DropsCase):
    multiqueue = True
    N = 50000

    def test_icmp_echo_flood(self):
        p = self.pair
        with NstatDelta(p.rcv_ns) as kernel:
            with Trafstat(p.rcv_ns, "--xdp-mode", "native", p.rcv_if) as ts:
                sent = gen_json(
                    p,
                    "-n",
                    str(self.N),
                    "--rate",
                    "200k",
                    "--proto",
                    "icmp4",
                    "--src-ip",
                    p.snd_ip,
                    "--dst-ip",
                    p.rcv_ip,
                )
                res = ts.stop()
        summary = self.checked(res, [p.rcv_if])
        self.assertEqual(sent["packets"], self.N)
        (counted,) = summary["interfaces"]
        echoes = kernel["IcmpInEchos"]
        H.log(f"gen sent {sent['packets']}; IcmpInEchos +{echoes}, IcmpOutEchoReps +{kernel['IcmpOutEchoReps']}")
        self.assertEqual(counted["classes"]["all"]["packets"], echoes, "the counter saw every echo request")
        self.assertEqual(kernel["IcmpOutEchoReps"], echoes, "every one answered")
        self.assertGreater(echoes, self.N * 9 // 10)
        for line in res.lines:
            vb0 = drops_entry(line, p.rcv_if)
            self.assertEqual([pb(vb0[d]) for d in DIRECTIONS], [(0, 0), (0, 0)], line.get("type"))
            self.assertEqual(line["dropped_flows"], [], line.get("type"))


class TestFloodAllDropped(DropsCase):
    multiqueue = True
    N, SIZE, FLOWS, RATE = 100000, 100, 10, "100k"  # 1 s: drops in several interval lines

    def flood(self, *args):
        """Drops everything vb0 receives (nft netdev ingress), floods it with gen through a native-XDP
        trafstat --flows --drops: (the summary, its interval lines, the rule's (packets, bytes) from
        the L2 header, the counter's summary entry)."""
        p = self.pair
        self.assert_known_reason("netfilter_drop")
        nft(
            p.rcv_ns,
            "flush ruleset\n"
            "table netdev tsdrops {\n"
            "  chain ingress {\n"
            f"    type filter hook ingress device {p.rcv_if} priority 0; policy accept;\n"
            "    counter drop\n"
            "  }\n"
            "}\n",
        )
        with Trafstat(p.rcv_ns, "--xdp-mode", "native", "--flows", *args, p.rcv_if) as ts:
            sent = gen_json(
                p,
                *("-n", str(self.N), "--rate", self.RATE, "-s", str(self.SIZE), "--flows", str(self.FLOWS)),
                *("--proto", ",".join(GEN_PROTOS)),
            )
            res = ts.stop()
        summary = self.checked(res, [p.rcv_if])
        self.assertEqual(sent["packets"], self.N)
        (rule,) = nft_rule_counters(p.rcv_ns)
        H.log(f"gen sent {sent['packets']}; nft rule counter: {rule[0]} packets, {rule[1]} bytes from the IP header")
        self.assertGreater(rule[0], self.N * 9 // 10, "most of what gen sent arrived")
        busy = [line for line in res.lines[:-1] if drops_entry(line, p.rcv_if)["received"]["packets"]]
        self.assertGreaterEqual(len(busy), 3, "drops in several interval lines")
        (counted,) = summary["interfaces"]
        return summary, res.lines[:-1], (rule[0], rule[1] + ETH_HLEN * rule[0]), counted

    def counter_flows(self, counted):
        """{(proto, src, sport, dst, dport): (packets, bytes)} of the counter's flows."""
        rows = {}
        for f in counted["flows"]:
            add(rows, (f["proto"], f["src"], f["sport"], f["dst"], f["dport"]), pb(f))
        return rows

    def test_netdev_ingress_drops_everything(self):
        summary, _, nft_dropped, counted = self.flood()
        self.assertEqual(pb(counted["classes"]["all"]), nft_dropped, "the counter saw what the rule dropped")
        vb0 = drops_entry(summary, self.pair.rcv_if)
        self.assertEqual(pb(vb0["received"]), nft_dropped)
        self.assertEqual(pb(vb0["leaving"]), (0, 0))
        self.assertEqual(list(vb0["received"]["reasons"]), ["netfilter_drop"])
        # Class by class: the drops are what the counter counted on the same interface.
        by_class = {cls: pb(c) for cls, c in vb0["received"]["reasons"]["netfilter_drop"]["classes"].items()}
        want = {}
        for proto, cls in GEN_PROTOS.items():
            ip, l4 = cls.split("/")
            row = counted["l4_by_ip"][ip][l4]
            self.assertGreater(row["packets"], 0, proto)
            want[cls] = pb(row)
        self.assertEqual(by_class, want)
        # Flow by flow: the dropped flows are the counter's flows (every one keyed: no overflow).
        self.assertEqual(pb(vb0["received"]["flow_overflow"]), (0, 0))
        drop_rows = {(k.proto, k.src, k.sport, k.dst, k.dport): v for k, v in dropped_flows(summary).items()}
        self.assertEqual(len(drop_rows), self.FLOWS * len(GEN_PROTOS))
        self.assertEqual(drop_rows, self.counter_flows(counted))

    def test_flow_table_overflow(self):
        # 16 dropped flows kept per interval, 60 flows dropped: the rest is flow_overflow, and the
        # rows plus the overflow are still every drop (checked())
        summary, intervals, nft_dropped, counted = self.flood("--drop-flow-table-size", "16")
        vb0 = drops_entry(summary, self.pair.rcv_if)
        self.assertEqual(pb(vb0["received"]), nft_dropped)
        overflow = pb(vb0["received"]["flow_overflow"])
        H.log(f"flow_overflow {overflow[0]}/{overflow[1]}")
        self.assertGreater(overflow[0], 0)
        for line in intervals:
            self.assertLessEqual(len(line["dropped_flows"]), 16)
        counter = self.counter_flows(counted)
        for k, (packets, nbytes) in dropped_flows(summary).items():
            key = (k.proto, k.src, k.sport, k.dst, k.dport)
            self.assertIn(key, counter)
            self.assertLessEqual(packets, counter[key][0], key)


class TestAgent(DropsCase):
    CLOSED, FILTERED, UNHANDLED = 300, 200, 150  # datagrams to a closed port, of the dropped flow; frames
    ETHERTYPE = 0x88B5  # IEEE 802 local experimental: no protocol handler takes it

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        p = cls.pair
        cls.agent = agentlib.Agent(
            H,
            TRAFSTAT,
            p.rcv_ns,
            BPFFS.pin_dir,
            "--drops",
            "--detach-on-exit",
            "-i",
            "1",
            "--metrics",
            AGENT_METRICS,
            p.rcv_if,
        )
        cls.addClassCleanup(cls.agent.__exit__)
        cls.prom = promlib.Prometheus(H, p.rcv_ns, promlib.node_config(AGENT_METRICS))
        cls.addClassCleanup(cls.prom.stop)

    def agent_links(self):
        """The ids of the BPF links the agent stands for: the ones it holds open (its
        /proc/PID/fdinfo: the drop programs'; `ip netns exec` execs trafstat in place, so the child's
        pid is the agent's) and the pinned ones of its attachments (`trafstat status`)."""
        pid, held = self.agent.proc.pid, set()
        for fd in os.listdir(f"/proc/{pid}/fdinfo"):
            try:
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    held |= {int(m) for m in re.findall(r"^link_id:\s+(\d+)$", f.read(), re.M)}
            except FileNotFoundError:  # an fd closed meanwhile
                pass
        status = json.loads(
            run(in_ns(self.pair.rcv_ns, TRAFSTAT, "status", "--json", "--pin-dir", BPFFS.pin_dir)).stdout
        )
        pinned = {a["link_id"] for a in status["attachments"]}
        return held, pinned

    def drops_samples(self, text, family):
        """{(direction, reason, ip, class): value} of a /metrics text's nonzero samples of `family`
        on vb0."""
        out = {}
        for (name, labels), value in agentlib.parse_metrics(text).items():
            ls = dict(labels)
            if name == family and ls["device"] == self.pair.rcv_if and value:
                out[(ls["direction"], ls["reason"], ls["ip"], ls["class"])] = value
        return out

    def link_samples(self, text):
        """{stat: value} of trafstat_link_stat_total on vb0."""
        samples = agentlib.parse_metrics(text)
        return {
            dict(ls)["stat"]: int(v)
            for (name, ls), v in samples.items()
            if name == "trafstat_link_stat_total" and dict(ls)["device"] == self.pair.rcv_if
        }

    def test_metrics_and_prometheus_equal_the_kernel(self):
        p = self.pair
        for reason in ("no_socket", "netfilter_drop", "unhandled_proto"):
            self.assert_known_reason(reason)
        nft(
            p.rcv_ns,
            "table inet tsdrops {\n"
            "  chain input {\n"
            "    type filter hook input priority 0; policy accept;\n"
            f"    ip saddr {p.snd_ip} ip daddr {p.rcv_ip} udp sport 5011 udp dport 7011 counter drop\n"
            "  }\n"
            "}\n",
        )
        link_before = link_statistics(p.rcv_ns, p.rcv_if)
        self.agent.start()
        self.prom.start()
        held, pinned = self.agent_links()
        H.log(f"agent: BPF links held {sorted(held)}, pinned {sorted(pinned)}")
        self.assertEqual(len(held), 2, "the drop programs' links: skb:kfree_skb, xdp:xdp_exception")
        self.assertEqual(len(pinned), 1, "vb0's attachment")

        with NstatDelta(p.rcv_ns) as kernel:
            send_udp(p, 5012, 7012, self.CLOSED)
            send_udp(p, 5011, 7011, self.FILTERED)
            frame_len = int(
                python_in(
                    p.snd_ns,
                    ETHERTYPE_SENDER,
                    p.snd_if,
                    p.snd_mac,
                    p.rcv_mac,
                    hex(self.ETHERTYPE),
                    self.UNHANDLED,
                    UDP_FRAME,
                )
            )
        self.assertEqual(frame_len, UDP_FRAME)
        time.sleep(INTERVAL)  # the last frames through vb0's NAPI
        link_grew = {k: v - link_before[k] for k, v in link_statistics(p.rcv_ns, p.rcv_if).items()}
        no_ports = kernel["UdpNoPorts"]
        (rule,) = nft_rule_counters(p.rcv_ns)
        H.log(
            f"agent: UdpNoPorts +{no_ports}; nft rule counter {rule[0]} packets, {rule[1]} bytes from the IP header;"
            f" vb0 grew by {link_grew}"
        )
        self.assertEqual((no_ports, rule[0], link_grew["rx_dropped"]), (self.CLOSED, self.FILTERED, self.UNHANDLED))
        self.assertEqual(rule[1], rule[0] * (UDP_FRAME - ETH_HLEN), "nft counts from the IP header")
        want = {
            ("received", "no_socket", "ipv4", "udp"): no_ports,
            ("received", "netfilter_drop", "ipv4", "udp"): rule[0],
            ("received", "unhandled_proto", "", "other_l3"): link_grew["rx_dropped"],
        }

        # (a) /metrics itself: every nonzero drop series is an oracle's, exactly; bytes = packets x 100.
        url = f"http://{AGENT_METRICS}/metrics"
        text, scraped = agentlib.scrape(p.rcv_ns, url), time.monotonic()
        counted = self.drops_samples(text, "trafstat_drops_total")
        H.log(f"agent: trafstat_drops_total {counted}")
        self.assertEqual(counted, want)
        self.assertEqual(
            self.drops_samples(text, "trafstat_drop_bytes_total"), {k: v * UDP_FRAME for k, v in want.items()}
        )
        self.assertEqual(self.link_samples(text), link_grew, "the interface's own counters since the agent started")

        # (b) Prometheus, once it has a scrape from after the drops.
        dev = f'device="{p.rcv_if}"'
        self.prom.wait_sample_after(f"trafstat_drops_total{{{dev}}}", time.time())
        by_reason = {
            ls["reason"]: int(v) for ls, v in self.prom.query(f"sum by (reason) (trafstat_drops_total{{{dev}}})")
        }
        H.log(f"agent: Prometheus: sum by (reason) {by_reason}")
        self.assertEqual(by_reason, {k[1]: v for k, v in want.items()})
        bytes_by_reason = {
            ls["reason"]: int(v) for ls, v in self.prom.query(f"sum by (reason) (trafstat_drop_bytes_total{{{dev}}})")
        }
        self.assertEqual(bytes_by_reason, {k[1]: v * UDP_FRAME for k, v in want.items()})

        # The agent's own drains since (-i 1: one at least) neither lost nor added a drop.
        time.sleep(max(0.0, scraped + 1.5 - time.monotonic()))
        later = agentlib.scrape(p.rcv_ns, url)
        self.assertEqual(self.drops_samples(later, "trafstat_drops_total"), want, "after the agent's drains")
        self.assertEqual(self.link_samples(later), link_grew)

        # SIGTERM with --detach-on-exit: nothing pinned, no XDP program on vb0, none of its links alive.
        self.assertLessEqual(held | pinned, bpf_link_ids(), "the agent's links, alive while it runs")
        code, err = self.agent.stop()
        self.assertEqual(code, 0, err)
        self.assertIn("--detach-on-exit: detached", err)
        self.assertIn(BPFFS.pins(), ([], ["trafstat"]), "no pin is left")
        (link,) = json.loads(run(["ip", "-n", p.rcv_ns, "-j", "link", "show", "dev", p.rcv_if]).stdout)
        self.assertNotIn("xdp", link, "no XDP program is left on vb0")
        self.assertFalse((held | pinned) & bpf_link_ids(), "none of the agent's links is left")

        # (c) promtool accepts the text of (a) (last: a lint finding must not hide the checks above).
        check = run(["promtool", "check", "metrics"], input=text, check=False)
        self.assertEqual(check.returncode, 0, f"promtool check metrics: {check.stdout}{check.stderr}")


# ---------------------------------------------------------------------------
# Entry point.
# ---------------------------------------------------------------------------

TOOLS = ("ip", "ethtool", "sysctl", "nft", "tc", "nstat", "bpftool", "prometheus", "promtool", "mount", "umount")
KERNEL_REASONS = set()  # set by main()


def main():
    agentlib.reexec_in_private_mount_namespace()

    def ready():
        global KERNEL_REASONS
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            return "this kernel has no BTF (/sys/kernel/btf/vmlinux): no drop reasons"
        KERNEL_REASONS = kernel_drop_reasons()
        return agentlib.private_mount_namespace_missing()

    def prepare():
        global BPFFS
        BPFFS = agentlib.PrivateBpffs(H)

    def finish():
        for prom in promlib.Prometheus.every:
            prom.stop()
        if BPFFS:
            BPFFS.close()

    return H.main(
        __doc__,
        __name__,
        suite="drops tests",
        not_root="the drops tests create network namespaces and attach BPF programs",
        tools=TOOLS,
        ready=ready,
        prepare=prepare,
        finish=finish,
    )


if __name__ == "__main__":
    sys.exit(main())
