"""Helpers of the agent's test runners (tests/e2e/run_agent.py, run_prometheus.py, run_drops.py): a
private BPF filesystem for the pins, `trafstat agent` processes, and /metrics read as numbers.

The runners run as root under `unshare -m --propagation private` (they start themselves again so,
reexec_in_private_mount_namespace): the BPF filesystem they mount is then in a mount namespace of their own and vanishes with it, whatever happens to the run,
so no pin is ever left on the host. `ip netns exec` copies that namespace, so trafstat run in a test
namespace sees the same pins.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

from testlib import collect, in_ns, read_stderr_until


def private_mount_namespace():
    """Whether this process has a mount namespace of its own: not init's, or, where init's cannot
    be read (a container), not its parent's (CTest's, the shell's)."""
    ours = os.readlink("/proc/self/ns/mnt")
    try:
        return ours != os.readlink("/proc/1/ns/mnt")
    except PermissionError:
        return ours != os.readlink(f"/proc/{os.getppid()}/ns/mnt")


def private_mount_namespace_missing():
    """Why this runner has no mount namespace of its own (a reason for skip_or_fail), or None."""
    return None if private_mount_namespace() else "cannot enter a mount namespace of its own (unshare -m)"


def reexec_in_private_mount_namespace():
    """Root outside a mount namespace of its own: this runner starts again as itself under
    `unshare -m --propagation private` (never returns). Anything else returns, so that a run
    without root reaches the skip-or-fail policy (unshare needs CAP_SYS_ADMIN, and would only fail)."""
    if os.geteuid() == 0 and not private_mount_namespace():
        cmd = ["unshare", "-m", "--propagation", "private", sys.executable, *sys.argv]
        os.execvp(cmd[0], cmd)


class PrivateBpffs:
    """A BPF filesystem mounted on a fresh temp dir; `pin_dir` is trafstat's --pin-dir inside it.
    Refuses to mount in the host's mount namespace."""

    def __init__(self, harness):
        if not private_mount_namespace():
            raise RuntimeError("run under `unshare -m --propagation private`: pins must not reach the host")
        self.harness = harness
        self.root = harness.mkdtemp()
        harness.run(["mount", "-t", "bpf", "bpf", self.root])
        # What the kernel puts in every new bpffs (bpf_preload: maps.debug, progs.debug): not ours.
        self.kernel_entries = set(os.listdir(self.root))
        self.pin_dir = os.path.join(self.root, "trafstat")

    def pins(self):
        """Every path under the mount, relative to it, but the kernel's own entries (what a clean
        run must leave empty)."""
        out = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in dirnames + filenames:
                path = os.path.relpath(os.path.join(dirpath, name), self.root)
                if path not in self.kernel_entries:
                    out.append(path)
        return sorted(out)

    def close(self):
        subprocess.run(["umount", self.root], check=False)
        os.rmdir(self.root)


class Agent:
    """One `trafstat agent` in a namespace, as a context manager (SIGTERM at the end of the block,
    SIGKILL after 10 s). `args` are the agent's options and interfaces (without --pin-dir)."""

    READY = "trafstat: agent serving"

    def __init__(self, harness, binary, ns, pin_dir, *args):
        self.harness, self.binary, self.ns, self.pin_dir, self.args = harness, binary, ns, pin_dir, list(args)
        self.proc = None
        self.stderr_head = ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.stop()

    def start(self, ready_timeout=30):
        cmd = in_ns(self.ns, self.binary, "agent", "--pin-dir", self.pin_dir, *self.args)
        self.proc = self.harness.spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        head, stopped = read_stderr_until(self.proc, self.READY, ready_timeout)
        if stopped is not None:
            self.proc.kill()
            out, err = collect(self.proc, 10, "agent did not exit")
            raise AssertionError(f"agent not ready ({stopped}): {head}{err}{out}")
        # The rest of the ready line (the metrics address) follows the marker.
        line_end = time.monotonic() + 5
        while "\n" not in head.split(self.READY, 1)[1] and time.monotonic() < line_end:
            more, _ = read_stderr_until(self.proc, "\n", 1)
            head += more
        self.stderr_head = head
        return self

    def metrics_url(self):
        found = re.search(r"metrics on (http://\S+/metrics)", self.stderr_head)
        return found.group(1) if found else None

    def stop(self, timeout=10):
        """SIGTERM, then waits; returns (returncode, stderr)."""
        self.proc.terminate()
        _, err = collect(self.proc, timeout, f"agent did not exit within {timeout}s of SIGTERM")
        return self.proc.returncode, self.stderr_head + err

    def kill(self):
        """SIGKILL, as a crash would."""
        self.proc.kill()
        self.proc.wait(timeout=10)


def scrape(ns, url, timeout=10):
    """GET `url` from inside namespace `ns` (where the agent listens); the body as text."""
    if ns is None:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode()
    done = subprocess.run(
        in_ns(
            ns,
            "python3",
            "-c",
            f"import urllib.request,sys; sys.stdout.write(urllib.request.urlopen({url!r}, timeout={timeout}).read().decode())",
        ),
        capture_output=True,
        text=True,
        timeout=timeout + 5,
        check=True,
    )
    return done.stdout


class Scraper:
    """GETs `url` every `period` seconds from inside namespace `ns`, in one child process, until
    stop(); stop() returns every scrape in order: {"t": monotonic time, "body": text} or
    {"t": ..., "error": why} (an agent being restarted does not answer)."""

    LOOP = """
import json, sys, time, urllib.request
url, period = sys.argv[1], float(sys.argv[2])
while True:
    t = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            line = {"t": t, "body": r.read().decode()}
    except Exception as e:
        line = {"t": t, "error": str(e)}
    print(json.dumps(line), flush=True)
    time.sleep(max(0.0, t + period - time.monotonic()))
"""

    def __init__(self, harness, ns, url, period=0.1):
        self.proc = harness.spawn(
            in_ns(ns, "python3", "-c", self.LOOP, url, str(period)), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.scrapes = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.scrapes.append(json.loads(line))

    def stop(self):
        """Ends the child (by its pid) and returns the scrapes; idempotent."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.reader.join(10)
        return self.scrapes


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """The exposition text as {(name, frozenset of (label, value))): float}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError(f"not a sample line: {line!r}")
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric_sum(samples, name, **labels):
    """The sum of `name`'s samples whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))
