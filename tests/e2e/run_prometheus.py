#!/usr/bin/python3
"""`trafstat agent` scraped by a real Prometheus: what the query API says equals what was sent, exactly.

Run as root:  unshare -m --propagation private /usr/bin/python3 tests/e2e/run_prometheus.py \
                  --trafstat build/trafstat [-v] [-k PATTERN]

(CTest starts it so: the BPF filesystem of --pin-dir is mounted in that private mount namespace by
tests/support/agentlib.py and vanishes with it.) Every test class builds its own world with
tests/support/testlib.py: network namespaces named after this process (tsprom-<pid>-<n>-snd / -rcv),
veth pairs va0 (snd) <-> vb0 (rcv) with static MACs and neighbours, IPv6 off, offloads off. The agent
counts on vb0 (native XDP) in the rcv namespace and serves /metrics on that namespace's loopback;
Prometheus (Debian's, with a temp dir of its own) runs in the same namespace, on its loopback,
scraping the agent every second; the test reads Prometheus's HTTP query API.

  TestGen          N frames of `trafstat gen`: sum(trafstat_packets_total) and the bytes are exactly
                   N and N x size once a scrape after the traffic is in; the agent SIGKILLed and
                   started again (it adopts the pinned attachment), M more frames: N + M, and
                   resets() over the whole run is 0. `promtool check metrics` on a live scrape
                   (the agent runs with --flows --metrics-top 10: per-flow series too).
  TestReplay       tcpreplay of a capture of real traffic (python3-dpkt's http.pcap, which the
                   replay oracle also reads): frames and bytes equal what tshark says it holds.
  TestFleet        docs/fleet.md in small: three nodes (a rcv namespace each, its own veth pair,
                   agent and different traffic), each with Prometheus in agent mode scraping its
                   agent and remote-writing to a central Prometheus in a namespace of its own,
                   joined to each node by a veth of private addresses; the configs are made from
                   dist/prometheus/node-agent.yml and central.yml (with the alert rules loaded).
                   On the central: sum by (node) (trafstat_packets_total) is each node's N.

Safety: traffic and attachments only on the veths created here, inside namespaces created here;
Prometheus listens on those namespaces' loopback and private veth addresses only. All of it (and
every process, by its pid) is removed on every exit path (class cleanups, atexit,
SIGINT/SIGTERM/SIGHUP handlers, a sweep of a SIGKILLed earlier run's leftovers).

Privileges: without root (or without the ability to create a netns) the run SKIPs with exit code 77,
unless CI=true, where it fails.
"""

import os
import sys
import time
import unittest

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import agentlib  # noqa: E402  (tests/support/agentlib.py)
import testlib  # noqa: E402  (tests/support/testlib.py)
from promlib import DIST, PROM_PORT, Prometheus, node_config  # noqa: E402  (tests/support/promlib.py)
from testlib import in_ns  # noqa: E402

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test
# A capture of real traffic (an HTTP download, DNS), Ethernet, nothing truncated, no frame above 1514.
REAL_CAPTURE = "/usr/share/doc/python3-dpkt/examples/data/http.pcap"

H = testlib.Harness("prometheus", "tsprom-", run_timeout=60)
run = H.run

AGENT_PORT = 9469  # the agent's default, on each namespace's own loopback
SETTLE = 0.5  # after the sender is done, for the last frames to be counted


# ---------------------------------------------------------------------------
# Prometheus configs.
# ---------------------------------------------------------------------------


def central_config(listen):
    """dist/prometheus/central.yml, made for the test: the alert rules loaded as shipped, no
    Alertmanager (none here), its self-scrape at `listen`."""
    with open(os.path.join(DIST, "central.yml")) as f:
        config = yaml.safe_load(f)
    del config["alerting"]
    config["global"]["evaluation_interval"] = "1s"
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [listen]}]
    return config


# ---------------------------------------------------------------------------
# Traffic.
# ---------------------------------------------------------------------------


def gen(pair, n, size):
    """`trafstat gen` of n UDP frames of `size` bytes out of pair's va0; its JSON summary."""
    p = run(in_ns(pair.snd_ns, TRAFSTAT, "gen", "--json", "-n", str(n), "-s", str(size), pair.snd_if), check=False)
    if p.returncode != 0:
        raise AssertionError(f"trafstat gen exited {p.returncode}: {p.stderr}{p.stdout}")
    (summary,) = testlib.json_lines(p.stdout)
    assert (summary["packets"], summary["bytes"]) == (n, n * size), summary
    return summary


def capture_totals(path):
    """(frames, bytes) of a capture as tshark reads it: bytes are the sum of the frame lengths."""
    lengths = run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.len"]).stdout.split()
    return len(lengths), sum(int(n) for n in lengths)


# ---------------------------------------------------------------------------
# Test cases.
# ---------------------------------------------------------------------------

BPFFS = None  # set by main(): the private BPF filesystem every agent pins in


class PromCase(unittest.TestCase):
    """Base: a fresh one-pair topology, an agent on vb0 and a Prometheus scraping it, per class."""

    maxDiff = None
    SUBNET = "10.91"

    @classmethod
    def setUpClass(cls):
        cls.topo, cls.pair = testlib.multiqueue_pair(H, cls.SUBNET)
        cls.addClassCleanup(cls.topo.destroy)
        cls.pin_dir = os.path.join(BPFFS.root, cls.__name__)  # one per namespace: all count on vb0
        cls.agent = agentlib.Agent(
            H,
            TRAFSTAT,
            cls.pair.rcv_ns,
            cls.pin_dir,
            "--hook",
            "xdp",
            "--xdp-mode",
            "native",
            "-i",
            "1",
            "--flows",
            "--metrics-top",
            "10",
            "--detach-on-exit",
            cls.pair.rcv_if,
        ).start()
        cls.addClassCleanup(cls.agent.__exit__)
        cls.prom = Prometheus(H, cls.pair.rcv_ns, node_config(f"127.0.0.1:{AGENT_PORT}")).start()
        cls.addClassCleanup(cls.prom.stop)

    def device_totals(self, after):
        """(packets, bytes) Prometheus has for vb0, once it has a scrape from after `after`."""
        dev = f'device="{self.pair.rcv_if}"'
        self.prom.wait_sample_after(f'trafstat_packets_total{{{dev},class="udp"}}', after)
        return (
            int(self.prom.scalar(f"sum(trafstat_packets_total{{{dev}}})")),
            int(self.prom.scalar(f"sum(trafstat_bytes_total{{{dev}}})")),
        )


class TestGen(PromCase):
    N, M, SIZE = 20000, 7000, 128

    def test_exact_across_agent_restart(self):
        base_packets, base_bytes = self.device_totals(time.time())  # other tests of the class may have sent
        gen(self.pair, self.N, self.SIZE)
        time.sleep(SETTLE)
        self.assertEqual(self.device_totals(time.time()), (base_packets + self.N, base_bytes + self.N * self.SIZE))

        # A crash: the attachment stays pinned and counting; a new agent adopts it.
        self.agent.kill()
        self.agent.start()
        gen(self.pair, self.M, self.SIZE)
        time.sleep(SETTLE)
        total = self.N + self.M
        self.assertEqual(self.device_totals(time.time()), (base_packets + total, base_bytes + total * self.SIZE))
        dev = f'device="{self.pair.rcv_if}"'
        self.assertEqual(self.prom.scalar(f"sum(resets(trafstat_packets_total{{{dev}}}[10m]))"), 0)
        self.assertEqual(self.prom.scalar(f"sum(resets(trafstat_bytes_total{{{dev}}}[10m]))"), 0)

    def test_promtool_accepts_a_live_scrape(self):
        gen(self.pair, 100, self.SIZE)  # a flow of its own series (--metrics-top), whatever ran before
        time.sleep(1 + SETTLE)  # a drain (-i 1): the agent picks the keys it exports
        text = agentlib.scrape(self.pair.rcv_ns, self.agent.metrics_url())
        self.assertIn("trafstat_packets_total", text)
        self.assertRegex(text, r'trafstat_flow_packets_total\{[^}]*proto="udp",src="198\.18\.0\.1"')
        p = run(["promtool", "check", "metrics"], input=text, check=False)
        self.assertEqual(p.returncode, 0, f"promtool check metrics: {p.stdout}{p.stderr}")


class TestReplay(PromCase):
    SUBNET = "10.92"

    def test_real_capture_exact(self):
        frames, nbytes = capture_totals(REAL_CAPTURE)
        p = run(in_ns(self.pair.snd_ns, "tcpreplay", "-t", "-i", self.pair.snd_if, REAL_CAPTURE))
        self.assertIn(f"Successful packets:        {frames}", p.stdout)
        time.sleep(SETTLE)
        self.assertEqual(self.device_totals(time.time()), (frames, nbytes))


class TestFleet(unittest.TestCase):
    NODES = {"node1": 3000, "node2": 5000, "node3": 8000}  # frames each node's agent counts
    SIZE = 100

    def test_central_sums_by_node(self):
        central_ns = H.namespace_base() + "-rcv"  # named so that a later run's sweep knows it
        H.add_namespace(central_ns)
        self.addCleanup(H.delete_namespace, central_ns)
        nodes = []
        for k, name in enumerate(self.NODES, start=1):
            topo, pair = testlib.multiqueue_pair(H, f"10.{92 + k}")
            self.addCleanup(topo.destroy)
            # The node's way to the central store: a veth of private addresses, va<k> (central)
            # 10.99.<k>.1 <-> vb<k> (node) 10.99.<k>.2; vb0 stays the only counted interface.
            link = testlib.VethPair(k, central_ns, pair.rcv_ns, "10.99")
            link.create(H, ipv6=False, neighbours=True, link_sysctl=False, up=True)
            agent = agentlib.Agent(
                H,
                TRAFSTAT,
                pair.rcv_ns,
                os.path.join(BPFFS.root, name),
                "--hook",
                "xdp",
                "--xdp-mode",
                "native",
                "--detach-on-exit",
                pair.rcv_if,
            ).start()
            self.addCleanup(agent.__exit__)
            nodes.append((name, pair, link))

        central = Prometheus(
            H,
            central_ns,
            central_config(f"127.0.0.1:{PROM_PORT}"),
            listen=f"0.0.0.0:{PROM_PORT}",  # the central namespace's own veths and loopback only
            extra_files=[os.path.join(DIST, "trafstat-alerts.yml")],
        )
        self.addCleanup(central.stop)
        central.start()
        for name, pair, link in nodes:
            config = node_config(
                f"127.0.0.1:{AGENT_PORT}", node=name, remote_write=f"http://{link.snd_ip}:{PROM_PORT}/api/v1/write"
            )
            node_prom = Prometheus(H, pair.rcv_ns, config, agent_mode=True)
            self.addCleanup(node_prom.stop)
            node_prom.start()

        for (name, pair, _link), n in zip(nodes, self.NODES.values()):
            gen(pair, n, self.SIZE)
        time.sleep(SETTLE)
        sent = time.time()
        for name in self.NODES:
            central.wait_sample_after(f'trafstat_packets_total{{node="{name}",class="udp"}}', sent, timeout=60)
        got = {labels["node"]: int(v) for labels, v in central.query("sum by (node) (trafstat_packets_total)")}
        self.assertEqual(got, self.NODES)
        got_bytes = {labels["node"]: int(v) for labels, v in central.query("sum by (node) (trafstat_bytes_total)")}
        self.assertEqual(got_bytes, {name: n * self.SIZE for name, n in self.NODES.items()})
        self.assertEqual(central.scalar("count(count by (node) (trafstat_packets_total))"), len(self.NODES))


# ---------------------------------------------------------------------------
# Entry point.
# ---------------------------------------------------------------------------

TOOLS = ("ip", "ethtool", "sysctl", "prometheus", "promtool", "tcpreplay", "tshark", "mount", "umount")


def main():
    agentlib.reexec_in_private_mount_namespace()

    def files(args):
        return (REAL_CAPTURE,)

    def prepare():
        global BPFFS
        BPFFS = agentlib.PrivateBpffs(H)

    def finish():
        for prom in Prometheus.every:
            prom.stop()
        if BPFFS:
            BPFFS.close()

    return H.main(
        __doc__,
        sys.modules[__name__],
        suite="Prometheus end-to-end tests",
        not_root="the Prometheus end-to-end tests need network namespaces and BPF",
        tools=TOOLS,
        files=files,
        prepare=prepare,
        finish=finish,
    )


if __name__ == "__main__":
    sys.exit(main())
