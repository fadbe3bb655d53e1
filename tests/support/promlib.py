"""A real Prometheus for the runners that check the agent's metrics through it (tests/e2e/run_prometheus.py,
run_drops.py): Debian's prometheus in a test namespace, on its loopback or its private veth addresses, with
a temp dir of its own, stopped by its pid; its HTTP query API; the shipped configs made for a test.
"""

import json
import os
import shutil
import subprocess
import time
import urllib.parse

import yaml

import agentlib
from testlib import in_ns

DIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "dist", "prometheus")
PROM_PORT = 9090


def http_get(ns, url, timeout=5):
    """GET `url` from inside `ns`: the body, or None when it cannot be had (refused, not 2xx)."""
    try:
        return agentlib.scrape(ns, url, timeout=timeout)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None


def eventually(what, probe, timeout=30, every=0.25):
    """probe()'s first truthy value within `timeout` s; AssertionError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(every)


class Prometheus:
    """One Prometheus in namespace `ns`, with a temp dir of its own (config, storage, log), listening
    on `listen` (the test reaches it at `address`: the same, or a loopback one when `listen` is every
    address); started by the runner's Harness.spawn, stopped by its pid (SIGTERM, then SIGKILL)."""

    every = []  # all of this run's, for the runner's final cleanup (an interrupted run skips class cleanups)

    def __init__(self, harness, ns, config, *, listen=f"127.0.0.1:{PROM_PORT}", agent_mode=False, extra_files=()):
        self.harness, self.ns, self.listen, self.agent_mode = harness, ns, listen, agent_mode
        self.address = listen.replace("0.0.0.0:", "127.0.0.1:")
        self.dir = harness.mkdtemp()
        Prometheus.every.append(self)
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            yaml.safe_dump(config, f, sort_keys=False)
        for path in extra_files:  # e.g. the rule files the config names, next to it
            shutil.copy(path, self.dir)
        self.proc = None
        self.log_path = os.path.join(self.dir, "prometheus.log")

    def start(self):
        storage = os.path.join(self.dir, "data")
        mode = ["--enable-feature=agent", f"--storage.agent.path={storage}"] if self.agent_mode else []
        cmd = in_ns(
            self.ns,
            "prometheus",
            f"--config.file={self.config}",
            f"--web.listen-address={self.listen}",
            *(mode or [f"--storage.tsdb.path={storage}", "--web.enable-remote-write-receiver"]),
        )
        with open(self.log_path, "w") as log:
            self.proc = self.harness.spawn(cmd, stdout=log, stderr=subprocess.STDOUT)
        eventually(f"Prometheus ready in {self.ns}{self.log_tail()}", self.ready, timeout=30)
        return self

    def ready(self):
        assert self.proc.poll() is None, f"Prometheus exited {self.proc.returncode}:{self.log_tail()}"
        return http_get(self.ns, f"http://{self.address}/-/ready") is not None

    def log_tail(self):
        try:
            with open(self.log_path) as f:
                return "\n" + "".join(f.readlines()[-15:])
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, True)

    def query(self, expr):
        """The instant query's vector as [(labels, value)]; AssertionError when the API fails."""
        url = f"http://{self.address}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        body = http_get(self.ns, url)
        assert body is not None, f"query failed: {expr}{self.log_tail()}"
        answer = json.loads(body)
        assert answer["status"] == "success", answer
        assert answer["data"]["resultType"] == "vector", answer
        return [(r["metric"], float(r["value"][1])) for r in answer["data"]["result"]]

    def scalar(self, expr):
        """The value of a query that must answer one sample."""
        result = self.query(expr)
        assert len(result) == 1, f"{expr}: {result}"
        return result[0][1]

    def wait_sample_after(self, selector, after, timeout=30):
        """Waits until every series of `selector` has a sample stored later than wall-clock time
        `after` (a scrape, or a remote write, of what the agent said after it)."""

        def fresh():
            stamps = [v for _, v in self.query(f"timestamp({selector})")]
            return stamps and min(stamps) > after

        eventually(f"a sample of {selector} after {after:.3f}", fresh, timeout=timeout)


def node_config(agent_target, *, node=None, remote_write=None):
    """dist/prometheus/node-agent.yml, made for the test: scrape every second the agent at
    `agent_target`; with `node`, the external label; with `remote_write`, that URL (and a short batch
    deadline); without, no remote write. node_exporter's job is left out (there is none here)."""
    with open(os.path.join(DIST, "node-agent.yml")) as f:
        config = yaml.safe_load(f)
    config["global"].update(scrape_interval="1s", scrape_timeout="1s")
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "trafstat"]
    job["static_configs"] = [{"targets": [agent_target]}]
    config["scrape_configs"] = [job]
    if node:
        config["global"]["external_labels"] = {"node": node}
    else:
        del config["global"]["external_labels"]
    if remote_write:
        (rw,) = config["remote_write"]
        rw["url"] = remote_write
        rw["queue_config"] = {"batch_send_deadline": "1s"}
    else:
        del config["remote_write"]
    return config
