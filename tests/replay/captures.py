"""The replay oracle's capture catalogue: which captures oracle_test.py compares, and how each is made.

  installed   every capture shipped by the Debian packages the suite depends on (python3-dpkt,
              pcapfix, golang-github-google-gopacket-dev), and what libpcap and trafstat make of
              the ones they cannot read whole
  generated   the oracle's mix (tests/support/frames.py) as every link type trafstat replays,
              snap-length-truncated copies (editcap -s), nanosecond pcap and pcapng, time going
              backwards
  recorded    real traffic between two network namespaces, recorded with dumpcap
  compressed  gzip (python's gzip module) and zstd (the zstd tool) copies of any of them
"""

import collections
import functools
import glob
import gzip
import os
import re
import signal
import subprocess
import time

import testlib
from testlib import FLAGS, in_ns
from frames import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_RAW,
    T0_NS,
    Interface,
    Record,
    link_variants,
    oracle_mix,
    pcap,
    pcapng,
    write,
)

# ---------------------------------------------------------------------------
# Installed by Debian packages, and generated here.
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
NOT_HERE = (
    "/usr/share/doc/pcapfix/examples/test_damaged.pcap",
    "/usr/share/doc/pcapfix/examples/test_without_pcap_header.pcap",
)

# Installed captures trafstat (through libpcap 1.10) cannot read whole: basename -> (packet records
# read before the failure, what the one-line error must say). Most are valid pcapng files tshark
# reads whole: the pcapng test suite (pcapng/pcapng-test-generator, shipped by gopacket, in both
# byte orders) with interfaces of different snap lengths or link types.
LIBPCAP_LIMITS = {
    "test002.pcapng": (0, "no Interface Description Blocks"),  # no IDB, no packet
    "test017.pcapng": (0, "no Interface Description Blocks"),  # custom blocks only
    "test004.pcapng": (0, "snapshot length 128 different"),  # two IDBs, snaplen 96 and 128
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
            rel = rel[len(prefix) :]
            break
    if rel.startswith("src/github.com/google/"):
        rel = rel[len("src/github.com/google/") :]
    return "test_" + re.sub(r"[^0-9A-Za-z]+", "_", rel.replace("gopacket", "gopacket_")).strip("_")


COMPRESSIONS = ("gzip", "zstd")


def compressed_copy(path, compression, directory):
    """A gzip or zstd copy of `path` in `directory`, named after the whole path (so copies of
    same-named captures differ) with the usual suffix; replay tells it by content anyway."""
    with open(path, "rb") as f:
        data = f.read()
    if compression == "gzip":
        data, suffix = gzip.compress(data, mtime=0), ".gz"
    else:
        data, suffix = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout, ".zst"
    os.makedirs(directory, exist_ok=True)
    return write(os.path.join(directory, re.sub(r"[^0-9A-Za-z.]+", "_", path.strip("/")) + suffix), data)


class GeneratedCaptures:
    """Every generated capture of this run, written into `directory`; `run`: the runner's command runner
    (for editcap)."""

    def __init__(self, run, directory):
        self.run, self.dir = run, directory
        os.makedirs(self.dir, exist_ok=True)
        self.files = collections.OrderedDict()  # name -> path
        self.annotations = {}  # path -> [classes per record] (hand-written)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        return write(self.path(name), data)

    def build(self):
        rows = oracle_mix()
        recs = [Record(r.frame, T0_NS + i * 10_000_000) for i, r in enumerate(rows)]
        self.add(
            "mix_ethernet.pcap",
            self.write("mix_ethernet.pcap", pcap(LINKTYPE_ETHERNET, recs)),
            [r.classes for r in rows],
        )
        live = [r for r in rows if r.live]
        self.add(
            "mix_live.pcap",
            self.write(
                "mix_live.pcap",
                pcap(LINKTYPE_ETHERNET, [Record(r.frame, T0_NS + i * 10_000_000) for i, r in enumerate(live)]),
            ),
            [r.classes for r in live],
        )
        for name, lt in (
            ("mix_raw_101.pcap", LINKTYPE_RAW),
            ("mix_ipv4_228.pcap", LINKTYPE_IPV4),
            ("mix_ipv6_229.pcap", LINKTYPE_IPV6),
            ("mix_sll_113.pcap", LINKTYPE_LINUX_SLL),
            ("mix_sll2_276.pcap", LINKTYPE_LINUX_SLL2),
        ):
            v = link_variants(rows, lt)
            if lt in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
                v = [(n, d, c - set(FLAGS)) for n, d, c in v]
            self.add(
                name,
                self.write(name, pcap(lt, [Record(d, T0_NS + i * 1000) for i, (_n, d, _c) in enumerate(v)])),
                [c for _n, _d, c in v],
            )
        # Nanosecond pcapng and pcap: records 1 ns before and exactly at whole seconds after the first.
        t0 = T0_NS + 123_456_789
        ns_recs = [Record(r.frame, ts) for r, ts in zip(rows, self.boundary_stamps(t0, len(rows)))]
        self.add(
            "mix_ethernet_ns.pcapng",
            self.write("mix_ethernet_ns.pcapng", pcapng([Interface(LINKTYPE_ETHERNET)], ns_recs)),
            [r.classes for r in rows],
        )
        self.add(
            "mix_ethernet_ns.pcap",
            self.write("mix_ethernet_ns.pcap", pcap(LINKTYPE_ETHERNET, ns_recs, nano=True)),
            [r.classes for r in rows],
        )
        # Time going backwards: every fifth record is stamped 1.5 s before its predecessor, across
        # bin boundaries and, for the second record, before the first.
        back = [
            Record(r.frame, ts - 1_500_000_000 if i % 5 == 1 else ts)
            for i, (r, ts) in enumerate(zip(rows, self.boundary_stamps(t0, len(rows))))
        ]
        self.add(
            "mix_ethernet_backwards.pcapng",
            self.write("mix_ethernet_backwards.pcapng", pcapng([Interface(LINKTYPE_ETHERNET)], back)),
            [r.classes for r in rows],
        )
        # Snap-length truncated copies (caplen < len), by editcap: inside IP/L4 headers, inside L2,
        # inside the cooked headers.
        for src, snap in (
            ("mix_ethernet.pcap", 60),
            ("mix_ethernet.pcap", 38),
            ("mix_ethernet.pcap", 16),
            ("mix_ethernet.pcap", 10),
            ("mix_sll_113.pcap", 40),
            ("mix_sll_113.pcap", 10),
            ("mix_sll2_276.pcap", 44),
            ("mix_sll2_276.pcap", 12),
            ("mix_raw_101.pcap", 24),
            ("mix_ethernet_ns.pcapng", 54),
        ):
            stem, ext = src.rsplit(".", 1)
            name = f"{stem}_snap{snap}.{ext}"
            self.run(["editcap", "-s", str(snap), self.files[src], self.path(name)])
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


GENERATED_NAMES = (
    "mix_ethernet.pcap",
    "mix_live.pcap",
    "mix_raw_101.pcap",
    "mix_ipv4_228.pcap",
    "mix_ipv6_229.pcap",
    "mix_sll_113.pcap",
    "mix_sll2_276.pcap",
    "mix_ethernet_ns.pcapng",
    "mix_ethernet_ns.pcap",
    "mix_ethernet_snap60.pcap",
    "mix_ethernet_snap38.pcap",
    "mix_ethernet_snap16.pcap",
    "mix_ethernet_snap10.pcap",
    "mix_sll_113_snap40.pcap",
    "mix_sll_113_snap10.pcap",
    "mix_sll2_276_snap44.pcap",
    "mix_sll2_276_snap12.pcap",
    "mix_raw_101_snap24.pcap",
    "mix_ethernet_ns_snap54.pcapng",
    "mix_ethernet_backwards.pcapng",
)


# ---------------------------------------------------------------------------
# Network namespaces: two namespaces, one veth pair.
# ---------------------------------------------------------------------------


def topology(harness, ipv6, neighbours):
    """Namespaces snd and rcv joined by veth va0 (snd) <-> vb0 (rcv), created inside them:
    10.78.0.1|2/24 and, with ipv6, fd00:78::1|2/64; static neighbours or none."""
    return testlib.Topology(harness, subnet="10.78", ipv6=ipv6, ip6_net="fd00:78", neighbours=neighbours)


# ---------------------------------------------------------------------------
# Recording real traffic between two namespaces.
# ---------------------------------------------------------------------------


def wait_for(predicate, what, timeout=15):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def record_traffic(h, work):
    """A pcapng (its path) recorded by dumpcap on the receiver's veth while real tools talk across it,
    in namespaces of harness `h`. IPv6 on, no static neighbours: ARP, ND, MLD and router
    solicitations are part of it."""
    run, spawn, reap = h.run, h.spawn, h.reap
    topo = topology(h, ipv6=True, neighbours=False).create(up=False)
    veth = topo.pairs[0]
    try:
        path = os.path.join(work, "recorded.pcapng")
        topo.up(("rcv",))
        dumpcap = spawn(
            in_ns(topo.rcv_ns, "dumpcap", "-i", veth.rcv_if, "-w", path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_for(
            lambda: os.path.exists(path) and os.path.getsize(path) > 0 or dumpcap.poll() is not None, "dumpcap to start"
        )
        assert dumpcap.poll() is None, f"dumpcap exited: {dumpcap.stderr.read().decode()}"
        topo.up(("snd",))  # the link coming up: DAD, MLD reports, router solicitations
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
        listener = spawn(
            in_ns(r, "socat", "-u", f"TCP-LISTEN:5001,bind={veth.rcv_ip},reuseaddr", "OPEN:/dev/null"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: f"{veth.rcv_ip}:5001" in run(in_ns(r, "ss", "-Hltn")).stdout, "the TCP listener")
        sh(s, "socat", "-u", "OPEN:/dev/zero,readbytes=65536", f"TCP:{veth.rcv_ip}:5001")
        reap(listener)
        # Hundreds of concurrent flows: 200 UDP senders to 200 ports, 40 TCP connections at once.
        listener = spawn(
            in_ns(r, "socat", "-u", f"TCP-LISTEN:5002,bind={veth.rcv_ip},reuseaddr,fork,backlog=64", "OPEN:/dev/null"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: f"{veth.rcv_ip}:5002" in run(in_ns(r, "ss", "-Hltn")).stdout, "the TCP listener")
        sh(
            s,
            "sh",
            "-c",
            f"for p in $(seq 20000 20199); do socat -u OPEN:/dev/zero,readbytes=600 "
            f"UDP-SENDTO:{veth.rcv_ip}:$p,sndbuf=65536 & done; "
            f"for i in $(seq 40); do socat -u OPEN:/dev/zero,readbytes=8000 "
            f"TCP:{veth.rcv_ip}:5002 & done; wait",
        )
        time.sleep(0.5)
        listener.send_signal(signal.SIGTERM)  # a forking listener: it never ends by itself
        reap(listener)
        time.sleep(0.5)
        sh(s, "ping", "-q", "-n", "-c", "3", "-i", "0.3", "-s", "4000", "-W", "1", veth.rcv_ip)  # IPv4 fragments
        sh(s, "ping", "-6", "-q", "-n", "-c", "3", "-i", "0.3", "-s", "3000", "-W", "1", veth.rcv_ip6)  # IPv6 fragments
        time.sleep(0.5)
        dumpcap.send_signal(signal.SIGINT)
        reap(dumpcap, timeout=15)
    finally:
        topo.destroy()
    return path


class Catalogue:
    """This run's generated and recorded captures, each made once, on first use, into `work`;
    namespaces and commands through the runner's harness."""

    def __init__(self, harness, work):
        self.h, self.work = harness, work

    @functools.cached_property
    def generated(self):
        return GeneratedCaptures(self.h.run, os.path.join(self.work, "generated")).build()

    @functools.cached_property
    def recorded(self):
        return record_traffic(self.h, self.work)
