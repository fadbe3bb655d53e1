#!/usr/bin/python3
"""The agent's HTTP side under a bounded load on loopback, while it counts exactly.

Run as root:  /usr/bin/python3 tests/e2e/run_agent_load.py --trafstat build/trafstat [-v]
It starts itself again under `unshare -m --propagation private` (the agent's pins go to a private
BPF filesystem that vanishes with the run, as run_agent.py does).

One pair of network namespaces named after this process (tsload-<pid>-<n>-snd / -rcv) joined by a
veth pair va0 (snd) <-> vb0 (rcv). The agent serves vb0 with its metrics on the receiving
namespace's own loopback. For LOAD_S seconds, from inside that namespace (this file again, with
--load-client), all at once:
  - scrapers: GET /metrics over and over, a new connection each (thousands in all);
  - slow requests: a header byte every half second; the agent must close each within its
    request time (docs/metrics.md, "Limits");
  - malformed requests: garbage, an oversized header, thousands of headers, an oversized body,
    unknown methods; each answered 4xx or closed, never left hanging;
  - idle connections: hundreds opened and never written to;
  - a /healthz probe every quarter second, each answered "ok" within PROBE_TIMEOUT_S.
Meanwhile gen sends FRAMES frames from va0; afterwards the agent's count equals them exactly, the
agent still answers, and SIGTERM ends it within 2 s.

Privileges: without root (or without the ability to create a netns) the run SKIPs with exit code 77,
unless CI=true, where it fails.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import agentlib  # noqa: E402  (tests/support/agentlib.py)
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import in_ns  # noqa: E402

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test

H = testlib.Harness("agent load", "tsload-", run_timeout=60)
TOOLS = ("ip", "ethtool", "sysctl", "unshare", "mount", "umount")

PORT = 9469
LOAD_S = 12
FRAMES = 24000  # at 2,000 a second: sent during the load
IDLE = 300
SLOW = 16
PROBE_TIMEOUT_S = 5
REQUEST_TIME_S = 5  # the agent's bound on one request (kRequestTime)


# -- the load, run inside the receiving namespace ------------------------------------------------


def request(raw, timeout=8):
    """Sends `raw` on a new connection; (status code or None, seconds until the answer or close)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", PORT), timeout=timeout) as s:
        try:
            s.sendall(raw)
        except OSError:
            pass  # the agent closed first (an oversized request): fine, it answered or closed
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    status = int(data.split()[1]) if data.startswith(b"HTTP/1.1 ") else None
    return status, time.monotonic() - start


def load_client(stop_at):
    out = {"scrapes": 0, "scrape_errors": [], "probes": [], "slow": [], "malformed": [], "idle_open": 0}
    lock = threading.Lock()

    def scraper():
        while time.monotonic() < stop_at:
            try:
                status, _ = request(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                with lock:
                    if status == 200:
                        out["scrapes"] += 1
                    else:
                        out["scrape_errors"].append(status)
            except OSError as e:
                with lock:
                    out["scrape_errors"].append(str(e))

    def prober():
        while time.monotonic() < stop_at:
            t = time.monotonic()
            try:
                status, took = request(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=PROBE_TIMEOUT_S)
                out["probes"].append({"status": status, "took": took})
            except OSError as e:
                out["probes"].append({"error": str(e), "took": time.monotonic() - t})
            time.sleep(max(0.0, t + 0.25 - time.monotonic()))

    def slow():
        while time.monotonic() < stop_at:
            start = time.monotonic()
            with socket.create_connection(("127.0.0.1", PORT), timeout=REQUEST_TIME_S + 5) as s:
                try:
                    s.sendall(b"GET /metrics HTTP/1.1\r\n")
                    while time.monotonic() - start < REQUEST_TIME_S + 5:
                        s.sendall(b"X")
                        time.sleep(0.5)
                    closed = False
                except OSError:
                    closed = True
            with lock:
                out["slow"].append({"closed": closed, "took": time.monotonic() - start})

    def malformed():
        cases = [
            b"\x00\xff garbage\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 100_000 + b"\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n",
            b"POST /metrics HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n" + b"z" * 65536,
            b"BREW /healthz HTTP/1.1\r\n\r\n",
            b"GET /" + b"p" * 20000 + b" HTTP/1.1\r\n\r\n",
            b"GET /metrics\r\n\r\n",
        ]
        while time.monotonic() < stop_at:
            for raw in cases:
                try:
                    status, took = request(raw)
                    result = {"case": raw[:24].decode("latin-1"), "status": status, "took": took}
                except OSError as e:
                    result = {"case": raw[:24].decode("latin-1"), "error": str(e), "took": 0}
                with lock:
                    out["malformed"].append(result)

    idle = []
    for _ in range(IDLE):
        try:
            idle.append(socket.create_connection(("127.0.0.1", PORT), timeout=2))
        except OSError:
            break
    out["idle_open"] = len(idle)
    threads = [threading.Thread(target=f) for f in [scraper] * 3 + [prober, malformed] + [slow] * SLOW]
    for t in threads:
        t.start()
    # Idle connections again and again, as the agent closes them.
    while time.monotonic() < stop_at:
        try:
            idle.append(socket.create_connection(("127.0.0.1", PORT), timeout=2))
        except OSError:
            pass
        if len(idle) > IDLE:
            idle.pop(0).close()
        time.sleep(0.01)
    for t in threads:
        t.join()
    for s in idle:
        s.close()
    print(json.dumps(out))


# -- the runner ----------------------------------------------------------------------------------


class TestAgentUnderLoad(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.topo, cls.pair = testlib.multiqueue_pair(H, "10.87")
        cls.addClassCleanup(cls.topo.destroy)
        cls.bpffs = agentlib.PrivateBpffs(H)
        cls.addClassCleanup(cls.bpffs.close)

    def test_counts_exactly_and_answers_healthz_through_the_load(self):
        p = self.pair
        args = ("--metrics", f"127.0.0.1:{PORT}", "--detach-on-exit", "-i", "0.5", p.rcv_if)
        with agentlib.Agent(H, TRAFSTAT, p.rcv_ns, self.bpffs.pin_dir, *args) as agent:
            client = H.spawn(
                in_ns(p.rcv_ns, sys.executable, os.path.abspath(__file__), "--trafstat", TRAFSTAT, "--load-client"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            gen = H.run(
                in_ns(p.snd_ns, TRAFSTAT, "gen", "--threads", "1", "--rate", "2000", "-n", str(FRAMES), p.snd_if),
                timeout=LOAD_S + 30,
            )
            out, err = testlib.collect(client, LOAD_S + 40, "the load client did not end")
            self.assertEqual(client.returncode, 0, err)
            load = json.loads(out)
            time.sleep(1.2)  # two drains after the last frame
            metrics = agentlib.parse_metrics(agentlib.scrape(p.rcv_ns, agent.metrics_url()))
            counted = agentlib.metric_sum(metrics, "trafstat_packets_total", **{"class": "udp"})
            health = agentlib.scrape(p.rcv_ns, agent.metrics_url().replace("/metrics", "/healthz"))
            start = time.monotonic()
            rc, agent_err = agent.stop()
            stop_s = time.monotonic() - start

        H.log(
            f"{load['scrapes']} scrapes, {len(load['probes'])} probes (slowest "
            f"{max(x['took'] for x in load['probes']):.2f} s), {len(load['slow'])} slow, "
            f"{len(load['malformed'])} malformed, {load['idle_open']} idle at once; stop {stop_s:.2f} s"
        )
        self.assertIn(f"{FRAMES} packets", gen.stdout + gen.stderr)
        self.assertEqual(counted, FRAMES, "the agent's count under load")
        self.assertEqual(health, "ok\n")
        self.assertGreaterEqual(load["scrapes"], 1000, load["scrape_errors"][:5])
        self.assertEqual(load["idle_open"], IDLE)
        failed = [x for x in load["probes"] if x.get("status") != 200]
        self.assertEqual(failed, [], "a /healthz probe was not answered")
        self.assertEqual([x for x in load["slow"] if not x["closed"] or x["took"] > REQUEST_TIME_S + 2.5], [])
        hanging = [x for x in load["malformed"] if x["took"] > REQUEST_TIME_S + 1.5]
        self.assertEqual(hanging, [])
        answered = [x for x in load["malformed"] if x.get("status") is not None]
        self.assertTrue(all(400 <= x["status"] < 500 for x in answered), answered[:10])
        self.assertEqual(rc, 0, agent_err)
        self.assertLess(stop_s, 2.0, "SIGTERM under load")


def main():
    if "--load-client" in sys.argv:
        load_client(time.monotonic() + LOAD_S)
        return 0
    agentlib.reexec_in_private_mount_namespace()

    return H.main(
        __doc__,
        __name__,
        suite="agent load test",
        not_root="the load test creates network namespaces and attaches BPF programs",
        tools=TOOLS,
    )


if __name__ == "__main__":
    sys.exit(main())
