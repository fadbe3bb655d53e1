#!/usr/bin/python3
"""trafstat end-to-end tests: private network namespaces, veth pairs, real traffic.

Run as root:  /usr/bin/python3 tests/e2e/run_e2e.py --trafstat build/trafstat [-v] [-k PATTERN]

Every test builds its own world: two network namespaces named after this process
(tse2e-<pid>-<n>-snd / -rcv) joined by one or two veth pairs with static MACs,
static neighbours, IPv6 off and offloads off, so that the only packets on the
wire are the ones a test sends and each skb is one packet. trafstat runs the way
a user runs it (`ip netns exec <ns> trafstat --json ... <veth>`) and its --json
summary is compared exactly, class by class, with an independent oracle: the
traffic the test generated (ping, socat, tcpreplay of a capture whose every
frame is annotated with its classes: tests/support/frames.py) or the veth's own
kernel counters.

Safety: trafstat is attached only to veths created here, inside namespaces
created here; all of it is removed on every exit path (class cleanups, a final
sweep in main(), atexit, and SIGINT/SIGTERM/SIGHUP handlers). Nothing touches a
pre-existing interface or namespace.

Privileges: without root (or without the ability to create a netns) the run
SKIPs with exit code 77, unless CI=true, where it fails.

Test classes (one topology each):
  TestPing, TestUdp, TestTcp, TestReplay   one test per attach mode (MODES): xdp native/generic
                                           and tc-ingress on the receiver, tc-egress on the sender,
                                           tc-ingress through the legacy clsact path
  TestUdpBothDirections                    --hook tc: datagrams one way, ICMP errors the other
  TestMetadataVlanTag                      a VLAN tag carried in skb metadata
  TestHeadersBeyondTheLinearPart           4.6 KB AF_PACKET frames whose UDP header lies past the linear
                                           part (2 KB IPv6 option): udp at every TC hook and XDP
  TestVxlanSuperPackets                    TCP over VXLAN: TC egress and ingress (GRO) count the wire's
                                           segments and bytes, against a capture after segmentation
  TestClsact                               --tc-mode clsact counts and removes its filters
  TestTwoInterfaces                        two receivers in one run, and their total
  TestDrop, TestForce, TestBusy            -d, --force, an XDP hook already held by a link
  TestSigkill                              SIGKILL leaves nothing attached or loaded
  TestCli                                  exit codes, -c/-t/intervals, SIGTERM, closed stdout
Every run that ends with SIGINT/SIGTERM is also checked to leave nothing behind.
"""

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import types
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import CLASSES, ETH_HLEN, compact, compact_l4, counts, in_ns  # noqa: E402
from frames import LINKTYPE_ETHERNET, T0_NS, Record, e2e_mix, pcap, write  # noqa: E402  (tests/support/frames.py)

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test
BASELINE_OBJ = ""  # set by main(): build/bpf/baseline.bpf.o (a foreign XDP program)

# ---------------------------------------------------------------------------
# Processes: every child is registered so that any exit path can end it.
# ---------------------------------------------------------------------------

H = testlib.Harness("e2e", "tse2e-", run_timeout=30)
run, spawn, reap = H.run, H.spawn, H.reap


# ---------------------------------------------------------------------------
# Topology (testlib.Topology): namespaces snd and rcv; one or two veth pairs va<i> (snd) <-> vb<i>
# (rcv), 10.77.<i>.0/24, static neighbours, IPv6 off (on every veth too), each end up as configured.
# ---------------------------------------------------------------------------


def link_stats(ns, ifname):
    """The veth's own kernel counters: {'rx': {...}, 'tx': {...}} from `ip -s -j link show`."""
    return json.loads(run(["ip", "-n", ns, "-s", "-j", "link", "show", "dev", ifname]).stdout)[0]["stats64"]


def xdp_of(ns, ifname):
    """The `xdp` object of `ip -j link show`, or None when nothing is attached."""
    return json.loads(run(["ip", "-n", ns, "-j", "link", "show", "dev", ifname]).stdout)[0].get("xdp")


# ---------------------------------------------------------------------------
# trafstat: started as a user starts it, stopped with a signal, output parsed.
# ---------------------------------------------------------------------------


class Result(testlib.Result):
    def iface(self, name, hook=None):
        found = [i for i in self.summary["interfaces"] if i["name"] == name and (hook is None or i["hook"] == hook)]
        assert len(found) == 1, f"expected one entry for {name} {hook or ''} in {self.summary['interfaces']}"
        return found[0]


class Trafstat(testlib.LiveTrafstat):
    """testlib's live trafstat, with the BPF objects it created (held_bpf_objects) once attached."""

    result = Result

    def __init__(self, ns, *args):
        super().__init__(spawn, TRAFSTAT, ns, *args)
        self.owned = None  # BPF objects trafstat created, see held_bpf_objects()

    def start(self, ready_timeout=20):
        super().start(ready_timeout)
        self.owned = held_bpf_objects(self.proc.pid)
        return self


def trafstat_once(ns, *args, timeout=20, user=None, binary=None):
    """Runs trafstat to completion (for error exits and self-terminating runs), as `user` if given."""
    prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user is not None else []
    p = run(in_ns(ns, *prefix, binary or TRAFSTAT, *args), check=False, timeout=timeout)
    return Result(p.returncode, p.stdout, p.stderr)


# ---------------------------------------------------------------------------
# BPF object bookkeeping: what a trafstat process holds, and proof it is gone.
# ---------------------------------------------------------------------------


def bpftool_json(*args, ns=None):
    cmd = ["bpftool", "-j", *args]
    # bpftool lists objects by id, then opens each: one that another process
    # closes in between fails the listing ("can't get ... by id"). Try again.
    for _ in range(5):
        res = run(in_ns(ns, *cmd) if ns else cmd, check=False)
        if res.returncode == 0 or "by id" not in res.stdout:
            break
    if res.returncode != 0:
        raise AssertionError(f"command failed (exit {res.returncode}): {' '.join(cmd)}\n{res.stdout}{res.stderr}")
    return json.loads(res.stdout or "null")


def held_bpf_objects(pid):
    """Program, map and link ids held by pid's fds, restricted to trafstat's own (trafstat_* programs).

    With --force trafstat also holds the foreign program it swapped out; that one must survive.
    """
    progs, maps, links = set(), set(), {}
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except OSError:
            continue
        info = {k.strip(): v.strip() for k, v in info.items()}
        if "link_id" in info:
            links[int(info["link_id"])] = int(info.get("prog_id", 0))
        elif "prog_id" in info:
            progs.add(int(info["prog_id"]))
        elif "map_id" in info:
            maps.add(int(info["map_id"]))
    all_progs = {p["id"]: p for p in bpftool_json("prog", "show")}
    own = {i for i in progs if all_progs.get(i, {}).get("name", "").startswith("trafstat_")}
    own_maps = {m for i in own for m in all_progs[i].get("map_ids", [])} & maps
    return {"progs": own, "maps": own_maps, "links": {lid for lid, prog in links.items() if prog in own}}


def leftovers(owned, ns, ifname, allow_xdp_prog=None):
    """What of trafstat's attachment is still there; an empty list means nothing."""
    found = []
    xdp = xdp_of(ns, ifname)
    if xdp is not None and (allow_xdp_prog is None or xdp.get("prog", {}).get("id") != allow_xdp_prog):
        found.append(f"ip link: xdp still attached to {ifname}: {xdp}")
    for entry in bpftool_json("net", "show", "dev", ifname, ns=ns) or []:
        for kind, progs in entry.items():
            progs = [p for p in progs if allow_xdp_prog is None or p.get("id", p.get("prog_id")) != allow_xdp_prog]
            if kind != "flow_dissector" and progs:
                found.append(f"bpftool net: {kind} program(s) on {ifname}: {progs}")
    for link in bpftool_json("link", "show") or []:
        # Links are global and ifindexes repeat across namespaces (other runs may be testing
        # beside us), and bpftool 7.1 prints no ifindex for XDP/TCX links: trafstat's links
        # are recognised by the ids its process held, and by the programs they carry.
        if link["id"] in owned["links"] or link.get("prog_id") in owned["progs"]:
            found.append(f"bpftool link: trafstat's link still exists: {link}")
    for prog in bpftool_json("prog", "show") or []:
        if prog["id"] in owned["progs"] or (
            prog.get("name", "").startswith("trafstat_") and set(prog.get("map_ids", [])) & owned["maps"]
        ):
            found.append(f"bpftool prog: trafstat's program still loaded: {prog['id']} {prog.get('name')}")
    return found


def wait_released(owned, ns, ifname, allow_xdp_prog=None, within=3.0):
    """Polls until nothing of trafstat's is left (the kernel frees links asynchronously)."""
    deadline = time.monotonic() + within
    while True:
        found = leftovers(owned, ns, ifname, allow_xdp_prog)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


# ---------------------------------------------------------------------------
# Expected counters.
# ---------------------------------------------------------------------------


def uniform(n, size, *names):
    """counts() with each of `names` (plus all) at n packets of `size` bytes."""
    return counts(**{c: (n, n * size) for c in ("all", *names)})


# ---------------------------------------------------------------------------
# Attach modes: which end of the pair trafstat watches, and with which flags.
# ---------------------------------------------------------------------------


class Mode:
    def __init__(self, name, side, hook, mode, args):
        self.name, self.side, self.hook, self.mode, self.args = name, side, hook, mode, args

    def where(self, pair):
        """(namespace, interface) trafstat attaches to for this mode."""
        return (pair.rcv_ns, pair.rcv_if) if self.side == "rcv" else (pair.snd_ns, pair.snd_if)


MODES = {
    m.name: m
    for m in (
        Mode("xdp_native", "rcv", "xdp", "native", ["--hook", "xdp", "--xdp-mode", "native"]),
        Mode("xdp_generic", "rcv", "xdp", "generic", ["--hook", "xdp", "--xdp-mode", "generic"]),
        Mode("tc_ingress", "rcv", "tc-ingress", "tcx", ["--hook", "tc-ingress", "--tc-mode", "tcx"]),
        Mode("tc_egress", "snd", "tc-egress", "tcx", ["--hook", "tc-egress", "--tc-mode", "tcx"]),
        Mode("tc_ingress_clsact", "rcv", "tc-ingress", "clsact", ["--hook", "tc-ingress", "--tc-mode", "clsact"]),
    )
}


def for_each_mode(cls):
    """Turns cls.check(self, mode) into one named test per attach mode: test_xdp_native, ..."""
    for name in MODES:

        def test(self, name=name):
            self.check(MODES[name])

        test.__name__ = f"test_{name}"
        setattr(cls, test.__name__, test)
    return cls


# ---------------------------------------------------------------------------
# Traffic generators: real tools in the sender namespace.
# ---------------------------------------------------------------------------


def ping(pair, n, size):
    """ping -c n -s size from snd to rcv; returns the number of replies."""
    p = run(
        in_ns(pair.snd_ns, "ping", "-q", "-n", "-c", str(n), "-s", str(size), "-i", "0.05", "-W", "1", pair.rcv_ip),
        check=False,
        timeout=30,
    )
    m = re.search(r"(\d+) received", p.stdout)
    assert m, f"unexpected ping output: {p.stdout}{p.stderr}"
    return int(m.group(1))


def udp_send(pair, n, size, port=9999):
    """n datagrams of `size` payload bytes: socat writes each block it reads as one datagram."""
    run(
        in_ns(
            pair.snd_ns,
            "socat",
            "-u",
            "-b",
            str(size),
            f"OPEN:/dev/zero,readbytes={n * size}",
            f"UDP-SENDTO:{pair.rcv_ip}:{port}",
        )
    )


def tcp_listener(pair, port=5001):
    """A socat sink listening on the receiver; returns once it accepts connections."""
    listener = spawn(
        in_ns(pair.rcv_ns, "socat", "-u", f"TCP-LISTEN:{port},bind={pair.rcv_ip},reuseaddr", "OPEN:/dev/null"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while f"{pair.rcv_ip}:{port}" not in run(in_ns(pair.rcv_ns, "ss", "-Hltn")).stdout:
        assert time.monotonic() < deadline and listener.poll() is None, "TCP listener did not come up"
        time.sleep(0.05)
    return listener


def tcp_send(pair, nbytes, listener, port=5001):
    """Sends nbytes over one TCP connection from snd to the listener; returns once both sides closed."""
    run(in_ns(pair.snd_ns, "socat", "-u", f"OPEN:/dev/zero,readbytes={nbytes}", f"TCP:{pair.rcv_ip}:{port}"))
    assert reap(listener) == 0, listener.stderr.read()


class Capture:
    """dumpcap on `ifname` in `ns` into a file of the test's own, running once the object exists;
    frame_lengths() stops it and reads every frame's length with tshark."""

    def __init__(self, test, ns, ifname, *dumpcap_args):
        tmp = H.mkdtemp()
        test.addCleanup(shutil.rmtree, tmp, True)
        self.path = os.path.join(tmp, "capture.pcap")
        self.proc = spawn(
            in_ns(ns, "dumpcap", "-q", "-i", ifname, *dumpcap_args, "-w", self.path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        test.addCleanup(lambda: self.proc.poll() is None and self.proc.kill())
        deadline = time.monotonic() + 15
        while not (os.path.exists(self.path) and os.path.getsize(self.path) > 0):
            assert time.monotonic() < deadline, "dumpcap did not start"
            time.sleep(0.05)

    def frame_lengths(self):
        self.proc.send_signal(signal.SIGINT)
        reap(self.proc)
        return [int(x) for x in run(["tshark", "-r", self.path, "-T", "fields", "-e", "frame.len"]).stdout.split()]


# ---------------------------------------------------------------------------
# The capture: a known mix of frames, each annotated with its classes (the oracle): frames.e2e_mix.
# ---------------------------------------------------------------------------


def expected_from_table(table):
    """Sums the annotated table: (classes, l4_by_ip) in the compact form of the JSON summary."""
    return testlib.tally((r.classes, len(r.frame)) for r in table)


_capture_path = None


def capture_file(src_mac):
    """Writes the capture once per run (pcap, into a temp dir removed at exit)."""
    global _capture_path
    if _capture_path is None:
        tmp = H.mkdtemp()
        atexit.register(shutil.rmtree, tmp, True)
        records = [Record(r.frame, T0_NS + i) for i, r in enumerate(e2e_mix(src_mac))]
        _capture_path = write(os.path.join(tmp, "mix.pcap"), pcap(LINKTYPE_ETHERNET, records))
    return _capture_path


def replay(pair, table):
    p = run(in_ns(pair.snd_ns, "tcpreplay", "-t", "-i", pair.snd_if, capture_file(pair.snd_mac)), timeout=60)
    sent = int(re.search(r"Successful packets:\s+(\d+)", p.stdout).group(1))
    assert sent == len(table), f"tcpreplay sent {sent} of {len(table)} frames:\n{p.stdout}{p.stderr}"


# ---------------------------------------------------------------------------
# Test cases.
# ---------------------------------------------------------------------------


class E2ECase(unittest.TestCase):
    """Base: a fresh topology per test class, torn down whatever happens."""

    PAIRS = 1
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.topo = testlib.Topology(H, subnet="10.77", pairs=cls.PAIRS, link_sysctl=True, up_each=True)
        cls.addClassCleanup(cls.topo.destroy)
        cls.topo.create()
        cls.pair = cls.topo.pairs[0]

    def start(self, mode, pair=None, *extra):
        ns, ifname = mode.where(pair or self.pair)
        return Trafstat(ns, "--json", "-i", "60", *mode.args, *extra, ifname)

    def finish(self, ts, ns, ifname, hook, mode, sig=signal.SIGINT):
        """SIGINT, exit 0, the entry for (ifname, hook) with the right mode, reconciled, nothing left behind."""
        res = ts.stop(sig)
        self.assertEqual(res.rc, 0, res.stderr)
        entry = res.iface(ifname, hook)
        self.assertEqual((entry["hook"], entry["mode"]), (hook, mode))
        for e in res.summary["interfaces"]:
            self.assert_reconciles(e)
        self.assertEqual(wait_released(ts.owned, ns, ifname), [], "trafstat left something behind after SIGINT")
        return res, entry

    def assert_reconciles(self, entry):
        """The ABI's reconciliation rules hold for every interface entry."""
        testlib.assert_reconciles(self, entry, per_l4=True)


@for_each_mode
class TestPing(E2ECase):
    """ping -c N -s S: N ICMP echo requests of 14+20+8+S bytes where the mode watches."""

    N, SIZE = 5, 100

    def check(self, mode):
        ns, ifname = mode.where(self.pair)
        with self.start(mode) as ts:
            self.assertEqual(ping(self.pair, self.N, self.SIZE), self.N)
            _res, entry = self.finish(ts, ns, ifname, mode.hook, mode.mode)
        frame = ETH_HLEN + 20 + 8 + self.SIZE
        self.assertEqual(compact(entry["classes"]), uniform(self.N, frame, "ipv4", "icmp"))


class TestJumboFrames(E2ECase):
    """MTU 9000: a ping of 8000 bytes is one 8042-byte frame, which native XDP gets as a multi-buffer
    frame (more than a page). trafstat must count it whole: it loads the frame-length helper for an
    MTU above one buffer (docs/attaching.md). Both ends, every mode that sees the requests."""

    N, SIZE = 5, 8000

    def test_native_and_generic_xdp_count_multi_buffer_frames_whole(self):
        p = self.pair
        for ns, ifname in ((p.snd_ns, p.snd_if), (p.rcv_ns, p.rcv_if)):
            run(in_ns(ns, "ip", "link", "set", "dev", ifname, "mtu", "9000"))
            self.addCleanup(run, in_ns(ns, "ip", "link", "set", "dev", ifname, "mtu", "1500"))
        frame = ETH_HLEN + 20 + 8 + self.SIZE
        for name in ("xdp_native", "xdp_generic"):
            with self.subTest(mode=name):
                mode = MODES[name]
                ns, ifname = mode.where(p)
                with self.start(mode) as ts:
                    self.assertEqual(ping(p, self.N, self.SIZE), self.N)
                    _res, entry = self.finish(ts, ns, ifname, mode.hook, mode.mode)
                self.assertEqual(compact(entry["classes"]), uniform(self.N, frame, "ipv4", "icmp"))


class TestHeadersBeyondTheLinearPart(E2ECase):
    """MTU 9000: frames of 4 KB and more sent through AF_PACKET (tcpreplay) leave the kernel as
    non-linear skbs whose linear part is the Ethernet header alone. With a 512- or 2048-byte IPv6
    destination option before UDP, the UDP header lies past the bytes TC pulls first: it is not
    short, so every hook must say udp, as XDP and replay do (TC pulls the rest of the headers)."""

    OPTIONS, SIZE = (512, 2048), 4600

    def frames(self):
        from scapy.layers.inet import UDP
        from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, PadN
        from scapy.layers.l2 import Ether

        p, out = self.pair, []
        for option in self.OPTIONS:
            # The option header takes 2 bytes; PadN options (2 + at most 255 bytes each) fill the rest.
            rest = option - 2
            k = -(-rest // 257)
            data = rest - 2 * k
            pads = [PadN(optdata=b"\0" * (data // k + (1 if i < data % k else 0))) for i in range(k)]
            ext = IPv6ExtHdrDestOpt(options=pads)
            head = Ether(src=p.snd_mac, dst=p.rcv_mac) / IPv6(src="fd00:77::1", dst="fd00:77::2") / ext
            udp = UDP(sport=4000, dport=4001)
            pad = self.SIZE - len(head / udp)
            frame = bytes(head / udp / (b"x" * pad))
            assert len(frame) == self.SIZE and len(bytes(ext)) == option, (len(frame), len(bytes(ext)))
            out.append(frame)
        return out

    def send(self):
        tmp = H.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        path = write(
            os.path.join(tmp, "long-headers.pcap"), pcap(LINKTYPE_ETHERNET, [Record(f, T0_NS) for f in self.frames()])
        )
        out = run(in_ns(self.pair.snd_ns, "tcpreplay", "-i", self.pair.snd_if, path), timeout=60).stdout
        self.assertIn(f"Successful packets:        {len(self.OPTIONS)}", out)

    def test_every_hook_says_udp(self):
        p = self.pair
        for ns, ifname in ((p.snd_ns, p.snd_if), (p.rcv_ns, p.rcv_if)):
            run(in_ns(ns, "ip", "link", "set", "dev", ifname, "mtu", "9000"))
            self.addCleanup(run, in_ns(ns, "ip", "link", "set", "dev", ifname, "mtu", "1500"))
        n = len(self.OPTIONS)
        for name in ("tc_egress", "tc_ingress", "tc_ingress_clsact", "xdp_native"):
            with self.subTest(mode=name):
                mode = MODES[name]
                ns, ifname = mode.where(p)
                with self.start(mode) as ts:
                    self.send()
                    _res, entry = self.finish(ts, ns, ifname, mode.hook, mode.mode)
                self.assertEqual(compact(entry["classes"]), uniform(n, self.SIZE, "ipv6", "udp"))


@for_each_mode
class TestUdp(E2ECase):
    """N datagrams of S bytes to a closed port. The ICMP port-unreachable replies travel rcv->snd,
    so neither the receiver's ingress nor the sender's egress may see them."""

    N, SIZE = 20, 200

    def check(self, mode):
        ns, ifname = mode.where(self.pair)
        with self.start(mode) as ts:
            udp_send(self.pair, self.N, self.SIZE)
            _res, entry = self.finish(ts, ns, ifname, mode.hook, mode.mode)
        self.assertEqual(compact(entry["classes"]), uniform(self.N, ETH_HLEN + 20 + 8 + self.SIZE, "ipv4", "udp"))


class TestUdpBothDirections(E2ECase):
    """--hook tc sees both ways: UDP one way, one ICMP port-unreachable per datagram the other way."""

    N, SIZE = 20, 200

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # No ICMP rate limit in the receiver's namespace (per-netns sysctl): one reply per datagram.
        run(in_ns(cls.pair.rcv_ns, "sysctl", "-qw", "net.ipv4.icmp_ratemask=0"))

    def both(self, ns, ifname, udp_hook, icmp_hook):
        udp_frame = ETH_HLEN + 20 + 8 + self.SIZE
        icmp_frame = ETH_HLEN + min(576, 20 + 8 + 20 + 8 + self.SIZE)  # error quotes the datagram, <= 576
        with Trafstat(ns, "--json", "-i", "60", "--hook", "tc", ifname) as ts:
            udp_send(self.pair, self.N, self.SIZE)
            res, entry = self.finish(ts, ns, ifname, udp_hook, "tcx")
        self.assertEqual(compact(entry["classes"]), uniform(self.N, udp_frame, "ipv4", "udp"))
        other = res.iface(ifname, icmp_hook)
        self.assertEqual(compact(other["classes"]), uniform(self.N, icmp_frame, "ipv4", "icmp"))
        self.assertEqual(
            compact(res.summary["total"]["classes"]),
            counts(
                all=(2 * self.N, self.N * (udp_frame + icmp_frame)),
                ipv4=(2 * self.N, self.N * (udp_frame + icmp_frame)),
                udp=(self.N, self.N * udp_frame),
                icmp=(self.N, self.N * icmp_frame),
            ),
        )

    def test_receiver(self):
        self.both(self.pair.rcv_ns, self.pair.rcv_if, "tc-ingress", "tc-egress")

    def test_sender(self):
        self.both(self.pair.snd_ns, self.pair.snd_if, "tc-egress", "tc-ingress")


@for_each_mode
class TestTcp(E2ECase):
    """A 256 KiB TCP transfer, checked against the veth's own counters (rx on the receiver, tx on the
    sender): with offloads off one skb is one packet, and everything seen is TCP over IPv4."""

    NBYTES = 256 * 1024

    def check(self, mode):
        ns, ifname = mode.where(self.pair)
        direction = "rx" if mode.side == "rcv" else "tx"
        listener = tcp_listener(self.pair)
        self.addCleanup(lambda: listener.poll() is None and listener.kill())
        with self.start(mode) as ts:
            before = link_stats(ns, ifname)[direction]
            tcp_send(self.pair, self.NBYTES, listener)
            time.sleep(0.4)
            after = link_stats(ns, ifname)[direction]
            _res, entry = self.finish(ts, ns, ifname, mode.hook, mode.mode)
        packets, nbytes = after["packets"] - before["packets"], after["bytes"] - before["bytes"]
        if mode.name == "xdp_native":
            # Kernel quirk, not trafstat's: with an XDP program on a veth, frames take the veth's NAPI
            # path, whose counters add skb->len after eth_type_trans(), i.e. without the 14-byte
            # Ethernet header (a 142-byte ping frame counts 128). Put the header back.
            nbytes += ETH_HLEN * packets
        self.assertGreater(packets, self.NBYTES // 1500)
        self.assertEqual(
            compact(entry["classes"]), counts(all=(packets, nbytes), ipv4=(packets, nbytes), tcp=(packets, nbytes))
        )


class TestGroAtTcIngress(E2ECase):
    """GRO on the receiving veth merges the sender's segments into super-packets before TC ingress.
    trafstat must count what crossed the wire: gso_segs packets, each with its own headers. Oracle:
    the sender's tx counters (TSO/GSO off there, so one skb is one wire packet)."""

    NBYTES = 4 * 1024 * 1024

    def test_counts_wire_packets_not_super_packets(self):
        p = self.pair
        run(in_ns(p.rcv_ns, "ethtool", "-K", p.rcv_if, "gro", "on"))
        self.addCleanup(run, in_ns(p.rcv_ns, "ethtool", "-K", p.rcv_if, "gro", "off"))
        listener = tcp_listener(p)
        self.addCleanup(lambda: listener.poll() is None and listener.kill())
        # A capture on the receiver sees the skbs after GRO: proof that super-packets were formed.
        capture = Capture(self, p.rcv_ns, p.rcv_if, "-s", "96")
        mode = MODES["tc_ingress"]
        with self.start(mode) as ts:
            before, rx_before = link_stats(p.snd_ns, p.snd_if)["tx"], link_stats(p.rcv_ns, p.rcv_if)["rx"]
            tcp_send(p, self.NBYTES, listener)
            time.sleep(0.4)
            after, rx_after = link_stats(p.snd_ns, p.snd_if)["tx"], link_stats(p.rcv_ns, p.rcv_if)["rx"]
            _res, entry = self.finish(ts, p.rcv_ns, p.rcv_if, mode.hook, mode.mode)
        lengths = capture.frame_lengths()
        self.assertGreater(max(lengths), 1514, "GRO formed no super-packet: the test proves nothing")
        packets = after["packets"] - before["packets"]
        # veth quirk (see TestTcp): in NAPI mode (GRO on) the receiver's counters, and here the
        # sender's tx counters too, add skb->len after eth_type_trans(); compare the two sides'
        # packet counts, and bytes through the receiver's NAPI counters plus the Ethernet header.
        self.assertEqual(rx_after["packets"] - rx_before["packets"], packets)
        nbytes = rx_after["bytes"] - rx_before["bytes"] + ETH_HLEN * packets
        self.assertGreater(packets, self.NBYTES // 1500)
        self.assertEqual(
            compact(entry["classes"]), counts(all=(packets, nbytes), ipv4=(packets, nbytes), tcp=(packets, nbytes))
        )


class TestVxlanSuperPackets(E2ECase):
    """TCP over VXLAN devices on the veth pair: the sender's VXLAN super-packets reach TC egress
    whole (the veth does no UDP-tunnel segmentation: the stack segments after TC), and GRO on the
    receiving veth merges them again before TC ingress. Each wire segment repeats the outer
    headers, the VXLAN header and the inner Ethernet/IP/TCP headers: both hooks must count the
    wire's packets and bytes. Oracle: a capture on the sender's veth, after segmentation (frames
    from the sender's address). This kernel has no GRE, Geneve, IPIP or SIT devices: those rules
    are packet tests (tests/bpf/packet_test.cpp, Gso)."""

    NBYTES = 4 * 1024 * 1024

    def vxlan(self, ns, ifname, local, remote, inner):
        run(
            in_ns(
                ns,
                "ip",
                "link",
                "add",
                "vx0",
                "type",
                "vxlan",
                "id",
                "42",
                "local",
                local,
                "remote",
                remote,
                "dstport",
                "4789",
                "dev",
                ifname,
            )
        )
        self.addCleanup(run, in_ns(ns, "ip", "link", "del", "vx0"))
        run(in_ns(ns, "ip", "addr", "add", f"{inner}/24", "dev", "vx0"))
        run(in_ns(ns, "ip", "link", "set", "vx0", "up"))

    def test_tc_counts_the_wire_segments(self):
        p = self.pair
        self.vxlan(p.snd_ns, p.snd_if, p.snd_ip, p.rcv_ip, "10.88.0.1")
        self.vxlan(p.rcv_ns, p.rcv_if, p.rcv_ip, p.snd_ip, "10.88.0.2")
        run(
            in_ns(
                p.snd_ns,
                "ethtool",
                "-K",
                p.snd_if,
                "tx-udp_tnl-segmentation",
                "off",
                "tx-udp_tnl-csum-segmentation",
                "off",
            )
        )
        run(in_ns(p.rcv_ns, "ethtool", "-K", p.rcv_if, "gro", "on"))
        self.addCleanup(run, in_ns(p.rcv_ns, "ethtool", "-K", p.rcv_if, "gro", "off"))
        inner = types.SimpleNamespace(snd_ns=p.snd_ns, rcv_ns=p.rcv_ns, rcv_ip="10.88.0.2")
        listener = tcp_listener(inner)
        self.addCleanup(lambda: listener.poll() is None and listener.kill())
        capture = Capture(self, p.snd_ns, p.snd_if, "-s", "128", "-f", f"src host {p.snd_ip}")
        egress, ingress = MODES["tc_egress"], MODES["tc_ingress"]
        with self.start(egress) as out_ts, self.start(ingress) as in_ts:
            tcp_send(inner, self.NBYTES, listener)
            time.sleep(0.4)
            _res, sent = self.finish(out_ts, p.snd_ns, p.snd_if, egress.hook, egress.mode)
            _res, received = self.finish(in_ts, p.rcv_ns, p.rcv_if, ingress.hook, ingress.mode)
        time.sleep(0.2)
        lengths = capture.frame_lengths()
        wire = (len(lengths), sum(lengths))
        self.assertGreater(wire[0], self.NBYTES // 1500, "the transfer crossed the wire")
        self.assertLessEqual(max(lengths), 1514, "the capture holds wire segments")
        for name, entry in (("tc-egress", sent), ("tc-ingress with GRO", received)):
            with self.subTest(hook=name):
                self.assertEqual(compact(entry["classes"]), counts(all=wire, ipv4=wire, udp=wire))


def tcp_segments_sent(ns):
    """Every TCP segment the namespace sent (/proc/net/snmp): OutSegs counts new data and control
    segments only, RetransSegs the retransmissions (a tail loss probe, say)."""
    head, values = [
        line.split() for line in run(in_ns(ns, "cat", "/proc/net/snmp")).stdout.splitlines() if line.startswith("Tcp:")
    ]
    return int(values[head.index("OutSegs")]) + int(values[head.index("RetransSegs")])


class TestGsoAtGenericXdp(E2ECase):
    """TSO on the sender, GRO off on the receiver: generic XDP on the receiving veth gets the
    sender's super-packets (skbs of up to 64 KB) as single frames. trafstat counts each as the
    segments it stands for (gso_segs, as at TC), and says how many super-packets it saw.
    Oracle: the sender's TCP OutSegs + RetransSegs; its tx counter counts skbs, the frames XDP saw."""

    NBYTES = 8 * 1024 * 1024

    def send(self, mode):
        p = self.pair
        run(in_ns(p.snd_ns, "ethtool", "-K", p.snd_if, "tso", "on", "gso", "on"))
        self.addCleanup(run, in_ns(p.snd_ns, "ethtool", "-K", p.snd_if, "tso", "off", "gso", "off"))
        listener = tcp_listener(p)
        self.addCleanup(lambda: listener.poll() is None and listener.kill())
        with self.start(mode) as ts:
            segs_before, tx_before = tcp_segments_sent(p.snd_ns), link_stats(p.snd_ns, p.snd_if)["tx"]
            tcp_send(p, self.NBYTES, listener)
            time.sleep(0.4)
            res, entry = self.finish(ts, p.rcv_ns, p.rcv_if, mode.hook, mode.mode)
        # Read once trafstat has stopped: a segment it counted was sent before.
        segs = tcp_segments_sent(p.snd_ns) - segs_before
        frames = link_stats(p.snd_ns, p.snd_if)["tx"]["packets"] - tx_before["packets"]
        H.log(
            f"{mode.name}: {frames} frames, {segs} TCP segments sent; counted tcp {entry['classes']['tcp']},"
            f" super-packets {entry.get('super_packets')}"
        )
        self.assertLess(frames, segs, "the sender formed no super-packet: the test proves nothing")
        # Only TCP crossed (no ARP or neighbour traffic: the test pair has static neighbours).
        self.assertEqual(entry["classes"]["tcp"]["packets"], segs)
        self.assertEqual(entry["classes"]["all"]["packets"], segs)
        return res, entry, frames, segs

    def test_generic_xdp_counts_segments(self):
        res, entry, frames, segs = self.send(MODES["xdp_generic"])
        self.assertIs(entry["segments_counted"], True)
        supers = entry["super_packets"]
        self.assertGreater(supers["packets"], 0)
        self.assertLessEqual(supers["packets"], frames)
        # Each super-packet stood for several segments: segments - super-packets more than frames.
        self.assertGreaterEqual(segs - frames, supers["packets"])

    def test_tc_ingress_counts_segments(self):
        _res, entry, _frames, _segs = self.send(MODES["tc_ingress"])
        self.assertNotIn("super_packets", entry)


@for_each_mode
class TestReplay(E2ECase):
    """tcpreplay of the annotated capture; the summary must equal the table's sums, class by class,
    identically in every mode (TC puts back a VLAN tag the stack moved into metadata)."""

    def check(self, mode):
        table = e2e_mix(self.pair.snd_mac)
        want_classes, want_l4 = expected_from_table(table)
        ns, ifname = mode.where(self.pair)
        with self.start(mode) as ts:
            replay(self.pair, table)
            res, entry = self.finish(ts, ns, ifname, mode.hook, mode.mode)
        self.assertEqual(compact(entry["classes"]), want_classes)
        self.assertEqual(compact_l4(entry["l4_by_ip"]), want_l4)
        self.assertEqual(compact(res.summary["total"]["classes"]), want_classes)


# A TC program for the sender that puts an 802.1Q tag into skb metadata, as a VLAN device over a
# veth (tx-vlan-offload) does; this host may lack the 8021q module, clang is a build dependency.
VLAN_PUSH_SRC = r"""
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int e2e_vlan_push(struct __sk_buff *skb)
{
	if (skb->protocol == bpf_htons(ETH_P_IP))
		bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 100);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
"""


class TestMetadataVlanTag(E2ECase):
    """A tag that arrives in skb metadata, not in the frame (veth with tx-vlan-offload, like NICs with
    rx-vlan-offload): the frame still carried it, so every hook must count vlan and its 4 bytes."""

    N, SIZE = 5, 100

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tmp = H.mkdtemp()
        cls.addClassCleanup(shutil.rmtree, tmp, True)
        src, obj = os.path.join(tmp, "vlan_push.bpf.c"), os.path.join(tmp, "vlan_push.bpf.o")
        with open(src, "w") as f:
            f.write(VLAN_PUSH_SRC)
        multiarch = sysconfig.get_config_var("MULTIARCH") or ""
        run(
            [
                shutil.which("clang") or "clang",
                "-O2",
                "-g",
                "-target",
                "bpf",
                f"-I/usr/include/{multiarch}",
                "-c",
                src,
                "-o",
                obj,
            ]
        )
        ns, ifname = cls.pair.snd_ns, cls.pair.snd_if
        run(in_ns(ns, "tc", "qdisc", "add", "dev", ifname, "clsact"))
        run(in_ns(ns, "tc", "filter", "add", "dev", ifname, "egress", "bpf", "da", "obj", obj, "sec", "tc"))

    def check(self, mode):
        ns, ifname = mode.where(self.pair)
        with self.start(mode) as ts:
            udp_send(self.pair, self.N, self.SIZE)
            _res, entry = self.finish(ts, ns, ifname, mode.hook, mode.mode)
        frame = ETH_HLEN + 4 + 20 + 8 + self.SIZE
        self.assertEqual(compact(entry["classes"]), uniform(self.N, frame, "ipv4", "udp", "vlan"))

    def test_tc_ingress(self):
        self.check(MODES["tc_ingress"])

    # Native XDP loads device-bound and asks the driver (bpf_xdp_metadata_rx_vlan_tag, Linux 6.8+).
    def test_xdp_native(self):
        self.check(MODES["xdp_native"])

    def test_xdp_generic_documented_limit(self):
        """Generic XDP cannot see a tag held in skb metadata (docs/classes.md): the frame counts
        without vlan and 4 bytes short. Asserted exactly, so a change in either direction shows."""
        mode = MODES["xdp_generic"]
        ns, ifname = mode.where(self.pair)
        with self.start(mode) as ts:
            udp_send(self.pair, self.N, self.SIZE)
            _res, entry = self.finish(ts, ns, ifname, mode.hook, mode.mode)
        frame = ETH_HLEN + 20 + 8 + self.SIZE
        self.assertEqual(compact(entry["classes"]), uniform(self.N, frame, "ipv4", "udp"))


class TestClsact(E2ECase):
    """--hook tc --tc-mode clsact: the legacy filter path counts like TCX and removes its filters."""

    HANDLE = "handle 0x7a5 "

    def filters(self, direction):
        return run(in_ns(self.pair.rcv_ns, "tc", "filter", "show", "dev", self.pair.rcv_if, direction)).stdout

    def test_counts_and_removes_its_filters(self):
        table = e2e_mix(self.pair.snd_mac)
        want_classes, want_l4 = expected_from_table(table)
        ns, ifname = self.pair.rcv_ns, self.pair.rcv_if
        with Trafstat(ns, "--json", "-i", "60", "--hook", "tc", "--tc-mode", "clsact", ifname) as ts:
            for direction in ("ingress", "egress"):
                self.assertIn(self.HANDLE, self.filters(direction), f"no trafstat filter on {direction}")
            replay(self.pair, table)
            res, ingress = self.finish(ts, ns, ifname, "tc-ingress", "clsact")
        self.assertEqual(compact(ingress["classes"]), want_classes)
        self.assertEqual(compact_l4(ingress["l4_by_ip"]), want_l4)
        egress = res.iface(ifname, "tc-egress")
        self.assertEqual(egress["mode"], "clsact")
        self.assertEqual(compact(egress["classes"]), counts(), "the receiver sent something back")
        for direction in ("ingress", "egress"):
            self.assertNotIn(self.HANDLE, self.filters(direction), f"trafstat's {direction} filter left behind")


class TestTwoInterfaces(E2ECase):
    """trafstat on two receivers at once: each interface its own counts, total their sum."""

    PAIRS = 2

    def test_xdp_on_both_receivers(self):
        p0, p1 = self.topo.pairs
        (n0, s0), (n1, s1) = (4, 100), (6, 300)
        f0, f1 = ETH_HLEN + 28 + s0, ETH_HLEN + 28 + s1
        with Trafstat(p0.rcv_ns, "--json", "-i", "60", p0.rcv_if, p1.rcv_if) as ts:
            self.assertEqual(ping(p0, n0, s0), n0)
            self.assertEqual(ping(p1, n1, s1), n1)
            res, e0 = self.finish(ts, p0.rcv_ns, p0.rcv_if, "xdp", "native")
        self.assertEqual(wait_released(ts.owned, p1.rcv_ns, p1.rcv_if), [])
        self.assertEqual(len(res.summary["interfaces"]), 2)
        self.assertEqual(compact(e0["classes"]), uniform(n0, f0, "ipv4", "icmp"))
        self.assertEqual(compact(res.iface(p1.rcv_if, "xdp")["classes"]), uniform(n1, f1, "ipv4", "icmp"))
        both = (n0 + n1, n0 * f0 + n1 * f1)
        self.assertEqual(compact(res.summary["total"]["classes"]), counts(all=both, ipv4=both, icmp=both))


class TestDrop(E2ECase):
    """-d: XDP drops everything after counting it; TC refuses the flag."""

    def test_xdp_drop_blackholes_ping(self):
        n, size = 5, 56
        ns, ifname = self.pair.rcv_ns, self.pair.rcv_if
        with Trafstat(ns, "--json", "-i", "60", "-d", ifname) as ts:
            self.assertIn("DROPPING", ts.stderr_head)
            self.assertEqual(ping(self.pair, n, size), 0, "ping got replies through XDP drop mode")
            res = ts.stop()
        self.assertEqual(res.rc, 0, res.stderr)
        # Drop mode counts totals only: no header is read.
        self.assertEqual(compact(res.iface(ifname, "xdp")["classes"]), counts(all=(n, n * (ETH_HLEN + 28 + size))))
        self.assertEqual(wait_released(ts.owned, ns, ifname), [])
        self.assertEqual(ping(self.pair, 2, size), 2, "traffic still dropped after trafstat exited")

    def test_drop_with_tc_is_a_usage_error(self):
        res = trafstat_once(self.pair.rcv_ns, "-d", "--hook", "tc-ingress", self.pair.rcv_if)
        self.assertEqual(res.rc, 2, res.stderr)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)
        self.assertIn("--drop", res.stderr)


class TestForce(E2ECase):
    """A foreign XDP program: refused without --force; swapped out and restored with it, in its mode."""

    def attach_foreign(self, ip_mode):
        ns, ifname = self.pair.rcv_ns, self.pair.rcv_if
        run(["ip", "-n", ns, "link", "set", "dev", ifname, ip_mode, "obj", BASELINE_OBJ, "program", "baseline_pass"])
        self.addCleanup(run, ["ip", "-n", ns, "link", "set", "dev", ifname, ip_mode, "off"], check=False)
        xdp = xdp_of(ns, ifname)
        self.assertEqual(xdp["prog"]["name"], "baseline_pass")
        return xdp["prog"]["id"]

    def test_refused_without_force(self):
        foreign_id = self.attach_foreign("xdpgeneric")
        res = trafstat_once(self.pair.rcv_ns, "--json", "-c", "1", "-i", "0.1", self.pair.rcv_if)
        self.assertEqual(res.rc, 5, res.stderr)
        self.assertIn("baseline_pass", res.stderr)
        self.assertEqual(xdp_of(self.pair.rcv_ns, self.pair.rcv_if)["prog"]["id"], foreign_id)

    def force(self, ip_mode, mode):
        foreign_id = self.attach_foreign(ip_mode)
        n, size = 3, 64
        ns, ifname = self.pair.rcv_ns, self.pair.rcv_if
        with Trafstat(ns, "--json", "-i", "60", "--force", ifname) as ts:
            self.assertIn("--force", ts.stderr_head)  # the warning that it swapped a program out
            attached = xdp_of(ns, ifname)["prog"]
            # generic XDP has entries of its own (super-packets counted as segments)
            want = "trafstat_xdpgen" if mode == "generic" else "trafstat_xdp"
            self.assertEqual(attached["name"], want, "--force did not swap the program in")
            self.assertEqual(ping(self.pair, n, size), n)
            res = ts.stop()
        self.assertEqual(res.rc, 0, res.stderr)
        entry = res.iface(ifname, "xdp")
        self.assertEqual(entry["mode"], mode)  # it takes the foreign program's mode
        self.assertEqual(compact(entry["classes"]), uniform(n, ETH_HLEN + 28 + size, "ipv4", "icmp"))
        after = xdp_of(ns, ifname)
        self.assertIsNotNone(after, "the foreign program was not restored")
        self.assertEqual((after["prog"]["id"], after["prog"]["name"]), (foreign_id, "baseline_pass"))
        self.assertEqual(after["mode"], {"generic": 2, "native": 1}[mode], "restored in another mode")
        self.assertEqual(wait_released(ts.owned, ns, ifname, allow_xdp_prog=foreign_id), [])

    def test_force_generic_counts_then_restores(self):
        self.force("xdpgeneric", "generic")

    def test_force_native_counts_then_restores(self):
        self.force("xdpdrv", "native")


class TestBusy(E2ECase):
    """A second trafstat on an interface whose XDP hook a first one holds through a link."""

    def test_second_instance_refused_even_with_force(self):
        ns, ifname = self.pair.rcv_ns, self.pair.rcv_if
        with Trafstat(ns, "--json", "-i", "60", ifname) as first:
            for extra in ([], ["--force"]):
                res = trafstat_once(ns, "--json", "-c", "1", "-i", "0.1", *extra, ifname)
                self.assertEqual(res.rc, 5, res.stderr)
                self.assertIn("trafstat_xdp", res.stderr)
                self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)
            self.assertEqual(ping(self.pair, 2, 56), 2)
            _res, entry = self.finish(first, ns, ifname, "xdp", "native")
        self.assertEqual(compact(entry["classes"]), uniform(2, ETH_HLEN + 28 + 56, "ipv4", "icmp"))


class TestSigkill(E2ECase):
    """SIGKILL mid-run: links die with the process, so nothing stays attached or loaded."""

    def killed(self, *args):
        ns, ifname = self.pair.rcv_ns, self.pair.rcv_if
        with Trafstat(ns, "--json", "-i", "60", *args, ifname) as ts:
            self.assertTrue(ts.owned["progs"] and ts.owned["links"], f"no program/link held: {ts.owned}")
            seen = leftovers(ts.owned, ns, ifname)  # the checks below must see a live attachment
            self.assertTrue(any(s.startswith("bpftool link") for s in seen), seen)
            if "xdp" in args:
                self.assertTrue(any(s.startswith("ip link") for s in seen), seen)
            self.assertEqual(ping(self.pair, 2, 56), 2)
            res = ts.stop(sig=signal.SIGKILL, settle=0.1)
        self.assertEqual(res.rc, -signal.SIGKILL)
        self.assertEqual(wait_released(ts.owned, ns, ifname), [])

    def test_xdp(self):
        self.killed("--hook", "xdp")

    def test_tc_ingress_tcx(self):
        self.killed("--hook", "tc-ingress", "--tc-mode", "tcx")


class TestCli(E2ECase):
    """Exit codes and output framing of trafstat as a command."""

    def test_missing_interface_exits_3(self):
        res = trafstat_once(self.pair.rcv_ns, "--json", "nosuch0")
        self.assertEqual(res.rc, 3, res.stderr)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)
        self.assertIn("nosuch0", res.stderr)

    def test_bad_flag_exits_2(self):
        res = trafstat_once(self.pair.rcv_ns, "--no-such-flag", self.pair.rcv_if)
        self.assertEqual(res.rc, 2, res.stderr)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)
        self.assertEqual(xdp_of(self.pair.rcv_ns, self.pair.rcv_if), None)

    def test_unprivileged_exits_4(self):
        nobody = 65534
        with H.binary_for_user(self.pair.rcv_ns, TRAFSTAT, nobody) as binary:
            res = trafstat_once(self.pair.rcv_ns, "--json", self.pair.rcv_if, user=nobody, binary=binary)
        self.assertEqual(res.rc, 4, res.stderr)
        self.assertIn("CAP_BPF", res.stderr)
        self.assertIn("CAP_NET_ADMIN", res.stderr)
        self.assertEqual(xdp_of(self.pair.rcv_ns, self.pair.rcv_if), None)

    def test_count_ends_by_itself(self):
        res = trafstat_once(self.pair.rcv_ns, "--json", "-c", "2", "-i", "0.2", self.pair.rcv_if)
        self.assertEqual(res.rc, 0, res.stderr)
        self.assertEqual([line["type"] for line in res.lines], ["interval", "interval", "summary"])
        for line in res.lines[:2]:
            self.assertEqual([i["name"] for i in line["interfaces"]], [self.pair.rcv_if])
        self.assertEqual(xdp_of(self.pair.rcv_ns, self.pair.rcv_if), None)

    def test_intervals_add_up_to_summary(self):
        n, size = 5, 56
        ns, ifname = self.pair.rcv_ns, self.pair.rcv_if
        with Trafstat(ns, "--json", "-i", "0.3", "-c", "5", ifname) as ts:
            self.assertEqual(ping(self.pair, n, size), n)  # ~0.25 s, well inside the 1.5 s run
            res = ts.wait()
        self.assertEqual(res.rc, 0, res.stderr)
        self.assertEqual([line["type"] for line in res.lines], ["interval"] * 5 + ["summary"])
        want = uniform(n, ETH_HLEN + 28 + size, "ipv4", "icmp")
        self.assertEqual(compact(res.iface(ifname)["classes"]), want)
        summed = {c: [0, 0] for c in CLASSES}
        for line in res.lines[:-1]:
            self.assertGreater(line["interval_s"], 0)
            for c, v in compact(line["interfaces"][0]["classes"]).items():
                summed[c][0] += v[0]
                summed[c][1] += v[1]
        self.assertEqual({c: tuple(v) for c, v in summed.items()}, want, "interval deltas do not add up")

    def test_sigterm_prints_summary(self):
        n, size = 2, 56
        ns, ifname = self.pair.rcv_ns, self.pair.rcv_if
        with Trafstat(ns, "--json", "-i", "60", "--hook", "tc-ingress", ifname) as ts:
            self.assertEqual(ping(self.pair, n, size), n)
            res, entry = self.finish(ts, ns, ifname, "tc-ingress", "tcx", sig=signal.SIGTERM)
        self.assertEqual(compact(entry["classes"]), uniform(n, ETH_HLEN + 28 + size, "ipv4", "icmp"))

    def test_timeout_ends_by_itself(self):
        res = trafstat_once(self.pair.rcv_ns, "--json", "-t", "700ms", "-i", "0.3", self.pair.rcv_if)
        self.assertEqual(res.rc, 0, res.stderr)
        self.assertEqual([line["type"] for line in res.lines], ["interval", "interval", "summary"])
        self.assertTrue(0.65 <= res.summary["duration_s"] < 1.5, res.summary["duration_s"])

    def test_closed_stdout_ends_cleanly(self):
        ns, ifname = self.pair.rcv_ns, self.pair.rcv_if
        ts = spawn(in_ns(ns, TRAFSTAT, "--json", "-i", "0.1", ifname), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        head = spawn(["head", "-n", "1"], stdin=ts.stdout, stdout=subprocess.PIPE)
        ts.stdout.close()  # head holds the only read end now
        try:
            first, _ = head.communicate(timeout=30)
            rc = reap(ts, timeout=10)
        finally:
            for p in (ts, head):
                if p.poll() is None:
                    p.kill()
        err = ts.stderr.read().decode(errors="replace")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(first)["type"], "interval")
        self.assertEqual(xdp_of(ns, ifname), None)


# ---------------------------------------------------------------------------
# Entry point: privilege policy, tool checks, signal-safe run.
# ---------------------------------------------------------------------------

TOOLS = (
    "ip",
    "tc",
    "ethtool",
    "ping",
    "socat",
    "tcpreplay",
    "bpftool",
    "setpriv",
    "ss",
    "head",
    "sysctl",
    "clang",
    "dumpcap",
    "tshark",
)


def main():
    def files(args):
        global BASELINE_OBJ
        BASELINE_OBJ = testlib.baseline_obj(args)
        return (BASELINE_OBJ,)

    return H.main(
        __doc__,
        __name__,
        suite="end-to-end tests",
        not_root="the end-to-end tests create network namespaces and attach BPF programs",
        tools=TOOLS,
        files=files,
        arguments=testlib.add_baseline_obj_argument,
    )


if __name__ == "__main__":
    sys.exit(main())
