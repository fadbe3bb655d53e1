"""Shared helpers of trafstat's Python test runners (tests/e2e/run_*.py, tests/replay/*.py).

The runners are started by CTest as `/usr/bin/python3 <runner> ...`; each puts this directory on
sys.path and imports this module (and frames.py, the frames and captures they send and replay).
Nothing here has side effects on import and nothing is configured module-wide: what differs between
runners (log tag, namespace prefix, default timeout) lives in a Harness object of each runner.

Contents:
  - the JSON schema's classes, their rules (check_classes), and helpers that compare or sum
    {class: (packets, bytes)} tables;
  - Harness: commands with timeouts, children and namespaces registered for cleanup on every exit
    path, sweeping of a dead earlier run's leftovers, the root/CI=true skip-or-fail policy, and the
    signal-safe run of the unittest suite;
  - Topology and VethPair: two namespaces joined by veth pairs, created inside them;
  - live trafstat processes: waiting for the ready line, stopping, collecting output.
"""

import argparse
import atexit
import contextlib
import functools
import importlib.util
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

SKIP_EXIT = 77  # CTest's SKIP_RETURN_CODE
ETH_HLEN = 14

# Every class of the JSON schema, in ABI order (include/trafstat/abi.h).
CLASSES = (
    "all",
    "ipv4",
    "ipv6",
    "arp",
    "other_l3",
    "malformed",
    "tcp",
    "udp",
    "icmp",
    "icmpv6",
    "sctp",
    "gre",
    "esp",
    "other_l4",
    "fragment",
    "malformed_l4",
    "vlan",
    "pppoe",
)
L3 = ("ipv4", "ipv6", "arp", "other_l3", "malformed")
L4 = ("tcp", "udp", "icmp", "icmpv6", "sctp", "gre", "esp", "other_l4", "fragment", "malformed_l4")
FLAGS = ("vlan", "pppoe")

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


# ---------------------------------------------------------------------------
# Runner entry points: arguments, skip-or-fail policy, the unittest run.
# ---------------------------------------------------------------------------


def possible_cpus():
    """The CPUs the kernel may ever bring up: what trafstat sizes its per-CPU maps by."""
    with open("/sys/devices/system/cpu/possible") as f:
        total = 0
        for part in f.read().strip().split(","):
            first, _, last = part.partition("-")
            total += int(last or first) - int(first) + 1
        return total


def table_capacities(*keys):
    """Slots per interval of each keyed table that is on, sized for `keys` each
    (docs/tables.md): the shared table of twice the keys, then a cache per CPU
    from what is left of 64 MiB (a slot: 64 bytes and a bitmap bit, in each
    parity), shared equally, a power of two between 16 and the table's keys."""
    shared = [2 << (k - 1).bit_length() for k in keys]
    cpus = possible_cpus()
    slot_bytes = 2 * 64 + 1
    left = max((64 << 20) - sum(shared) * slot_bytes, 0)
    per_cpu = left // len(keys) // cpus // slot_bytes
    floor = 1 << (per_cpu.bit_length() - 1) if per_cpu else 0
    return [cpus * min(s // 2, max(16, floor)) + s for s in shared]


def table_capacity(keys):
    """table_capacities() of one table alone."""
    return table_capacities(keys)[0]


def arg_parser(doc):
    """The runners' command line: --trafstat, described by the first line of the runner's docstring;
    everything not parsed goes to unittest (parse_known_args)."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--trafstat", required=True, help="path of the trafstat binary under test")
    return ap


def add_baseline_obj_argument(ap):
    """--baseline-obj, for the runners that attach the user's own XDP program (baseline_pass)."""
    ap.add_argument("--baseline-obj", help="XDP object with baseline_pass (default: <bindir>/bpf/baseline.bpf.o)")


def baseline_obj(args):
    """The absolute path of --baseline-obj, by default next to the binary under test."""
    return os.path.abspath(args.baseline_obj or os.path.join(os.path.dirname(args.trafstat), "bpf", "baseline.bpf.o"))


def _stderr(msg):
    print(msg, file=sys.stderr, flush=True)


def skip_or_fail(reason, suite, *, log=_stderr, banner=False):
    """A host that cannot run `suite` (no root, no netns, no BPF): exit SKIP_EXIT, unless CI=true,
    where it is a failure (exit 1). `banner`: the skip stands out in a framed block."""
    if os.environ.get("CI", "").lower() == "true":
        log(f"FAIL: CI=true and {reason}")
        return 1
    if banner:
        line = "#" * 78
        _stderr(
            f"{line}\n# SKIPPED: trafstat {suite} did not run\n# reason: {reason}\n"
            f"# run them as root: sudo make test\n{line}"
        )
    else:
        _stderr(f"SKIP: trafstat {suite} did not run: {reason}")
    return SKIP_EXIT


def run_unittests(module, unittest_args):
    """Runs the test cases of `module` (verbose); exit code 0 only when tests ran and all passed."""
    prog = unittest.main(
        module=module, argv=[sys.argv[0], *unittest_args], exit=False, testRunner=unittest.TextTestRunner(verbosity=2)
    )
    return 0 if prog.result.wasSuccessful() and prog.result.testsRun > 0 else 1


class Interrupted(KeyboardInterrupt):
    """Raised by the signal handlers; unittest lets KeyboardInterrupt through."""


def _on_signal(signum, _frame):
    raise Interrupted(signum)


def in_ns(ns, *cmd):
    return ["ip", "netns", "exec", ns, *cmd]


def run_command(cmd, *, timeout, check=True, input=None, text=True, output_tail=None):
    """Runs cmd to completion (bounded by timeout); returns CompletedProcess. AssertionError when it
    times out, or fails with `check`: its output quoted stripped whole, or its last `output_tail`
    characters."""
    try:
        p = subprocess.run(cmd, input=input, capture_output=True, text=text, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"timed out after {timeout}s: {' '.join(map(str, cmd))}") from e
    if check and p.returncode != 0:

        def quote(output):
            return output.strip() if output_tail is None else str(output)[-output_tail:]

        raise AssertionError(
            f"command failed (exit {p.returncode}): {' '.join(map(str, cmd))}\n"
            f"stdout: {quote(p.stdout)}\nstderr: {quote(p.stderr)}"
        )
    return p


# ---------------------------------------------------------------------------
# Harness: processes and namespaces of one runner, and their cleanup.
# ---------------------------------------------------------------------------


class Harness:
    """One runner's commands, children and namespaces.

    tag          prefix of its log lines on stderr ("<tag>: ...")
    prefix       its namespaces are <prefix><pid>-<n>-snd/-rcv, its temp dirs <prefix><pid>-XXXXXXXX:
                 how a later run recognises what a SIGKILLed run left behind
    run_timeout  default timeout of run(), in seconds
    output_tail  how a failed command's output is quoted: None, stripped whole; N, its last N characters
    """

    def __init__(self, tag, prefix, *, run_timeout, output_tail=None):
        self.tag, self.prefix = tag, prefix
        self.run_timeout, self.output_tail = run_timeout, output_tail
        self.ns_pattern = re.compile(rf"^{re.escape(prefix)}(\d+)-\d+-(snd|rcv)$")
        self.tmp_pattern = re.compile(rf"^{re.escape(prefix)}(\d+)-[a-z0-9_]{{8}}$")  # mkdtemp()
        self._children = []  # Popen objects started by this run
        self._namespaces = set()  # namespaces created by this run and not yet deleted
        self._ns_counter = 0

    def log(self, msg):
        print(f"{self.tag}: {msg}", file=sys.stderr, flush=True)

    # -- processes -----------------------------------------------------------------------------

    def run(self, cmd, *, check=True, timeout=None, input=None, text=True):
        """run_command() with this runner's default timeout and output quoting."""
        return run_command(
            cmd,
            check=check,
            timeout=self.run_timeout if timeout is None else timeout,
            input=input,
            text=text,
            output_tail=self.output_tail,
        )

    def spawn(self, cmd, **kw):
        """Starts a background child, registered for cleanup."""
        p = subprocess.Popen(cmd, **kw)
        self._children.append(p)
        return p

    @staticmethod
    def reap(p, timeout=10):
        """Waits for p, SIGKILLing it (by its pid) when it does not end in time."""
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
            raise AssertionError(f"did not exit within {timeout}s, killed: {' '.join(map(str, p.args))}")

    def cleanup_everything(self):
        """Idempotent last-resort teardown: our children (by pid), then our namespaces."""
        for p in self._children:
            if p.poll() is None:
                try:
                    p.kill()
                    p.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        for ns in sorted(self._namespaces):
            self.delete_namespace(ns)

    def mkdtemp(self):
        """A temp dir named so that sweep_stale_leftovers() of a later run recognises it."""
        return tempfile.mkdtemp(prefix=f"{self.prefix}{os.getpid()}-")

    @contextlib.contextmanager
    def binary_for_user(self, ns, binary, uid):
        """`binary` as user `uid` can run it: itself, or, when the build tree is not reachable by
        that user, a world-readable copy removed at the end of the block."""
        probe = self.run(
            in_ns(ns, "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "test", "-x", binary),
            check=False,
        )
        if probe.returncode == 0:
            yield binary
            return
        copy_dir = self.mkdtemp()
        try:
            os.chmod(copy_dir, 0o755)
            yield shutil.copy2(binary, copy_dir)
        finally:
            shutil.rmtree(copy_dir, True)

    # -- namespaces ----------------------------------------------------------------------------

    def namespace_base(self):
        """A fresh <prefix><pid>-<n>, n counting from 1 within this run."""
        self._ns_counter += 1
        return f"{self.prefix}{os.getpid()}-{self._ns_counter}"

    def add_namespace(self, ns, *, ipv6=False):
        """Creates `ns` (registered for cleanup) with lo up and IPv6 on or off for the interfaces
        created in it later (set before any exists: with IPv6 off there is no ND/MLD/RS)."""
        self.run(["ip", "netns", "add", ns])
        self._namespaces.add(ns)
        off = "0" if ipv6 else "1"
        self.run(
            in_ns(
                ns,
                "sysctl",
                "-qw",
                f"net.ipv6.conf.all.disable_ipv6={off}",
                f"net.ipv6.conf.default.disable_ipv6={off}",
            )
        )
        self.run(["ip", "-n", ns, "link", "set", "lo", "up"])

    def delete_namespace(self, ns):
        """Ends whatever still runs inside `ns` (ours: we created it), then deletes it and its veths."""
        if not os.path.exists(f"/run/netns/{ns}"):
            self._namespaces.discard(ns)
            return
        for pid in self.run(["ip", "netns", "pids", ns], check=False, timeout=10).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        self.run(["ip", "netns", "del", ns], check=False, timeout=10)
        self._namespaces.discard(ns)

    def sweep_stale_leftovers(self):
        """Deletes namespaces and temp dirs left by an earlier run of this suite that was SIGKILLed
        (atexit never ran); recognised by name, and only when the pid in the name is gone."""

        def dead(pid):
            return int(pid) != os.getpid() and not os.path.exists(f"/proc/{pid}")

        for line in self.run(["ip", "netns", "list"], check=False).stdout.splitlines():
            name = line.split(" ")[0]
            m = self.ns_pattern.match(name)
            if m and dead(m.group(1)):
                self.log(f"removing stale namespace {name} of a dead earlier run")
                self.delete_namespace(name)
        tmp = tempfile.gettempdir()
        for name in os.listdir(tmp):
            m = self.tmp_pattern.match(name)
            if m and dead(m.group(1)):
                shutil.rmtree(os.path.join(tmp, name), True)

    # -- entry point ---------------------------------------------------------------------------

    def cannot_run_reason(self, not_root):
        """Why this host cannot run the suite (`not_root`, or no netns can be created), or None."""
        if os.geteuid() != 0:
            return not_root
        probe = f"{self.prefix}{os.getpid()}-0-snd"
        p = self.run(["ip", "netns", "add", probe], check=False)
        if p.returncode != 0:
            return f"cannot create a network namespace: {p.stderr.strip()}"
        self._namespaces.add(probe)
        self.delete_namespace(probe)
        return None

    def skip_or_fail(self, reason, suite):
        return skip_or_fail(reason, suite, log=self.log, banner=True)

    def preflight(self, not_root, suite, tools, files):
        """Before a runner's tests: the exit code when this host cannot run `suite` (skip, or fail
        under CI: cannot_run_reason) or lacks a tool or file (report_missing); None when it can."""
        reason = self.cannot_run_reason(not_root)
        if reason:
            return self.skip_or_fail(reason, suite)
        if self.report_missing(tools, files):
            return 1
        return None

    def report_missing(self, tools, files):
        """Logs the tools (and python3-scapy) and files this host lacks; True when anything is missing."""
        missing = [t for t in tools if shutil.which(t) is None]
        if importlib.util.find_spec("scapy") is None:
            missing.append("python3-scapy (for /usr/bin/python3)")
        missing += [path for path in files if not os.path.isfile(path)]
        if missing:
            self.log(f"FAIL: missing: {', '.join(missing)} (scripts/install-deps.sh installs the tools)")
        return bool(missing)

    def main(
        self,
        doc,
        module,
        *,
        suite,
        not_root,
        tools,
        files=lambda args: (),
        arguments=None,
        ready=None,
        prepare=None,
        finish=None,
    ):
        """A runner's whole main(): parses its command line (arg_parser(doc), plus `arguments(ap)`),
        sets the runner's global TRAFSTAT (the binary's absolute path), lets `files(args)` set its
        other globals and name the other files it needs, then preflight(), then, guarded
        (run_guarded with prepare/finish), `ready()` (a reason this host cannot run `suite`, or
        None) and the test cases of `module`. Returns the exit code."""
        ap = arg_parser(doc)
        if arguments:
            arguments(ap)
        args, unittest_args = ap.parse_known_args()
        runner = sys.modules[module] if isinstance(module, str) else module
        runner.TRAFSTAT = os.path.abspath(args.trafstat)
        failed = self.preflight(f"not root: {not_root}", suite, tools, (runner.TRAFSTAT, *files(args)))
        if failed is not None:
            return failed

        def body():
            why = ready() if ready else None
            if why:
                return self.skip_or_fail(why, suite)
            return run_unittests(module, unittest_args)

        return self.run_guarded(body, prepare=prepare, finish=finish)

    def run_guarded(self, body, *, prepare=None, finish=None):
        """Returns body()'s exit code, with every exit path cleaned up: SIGINT/SIGTERM/SIGHUP raise
        Interrupted (exit 128 + signal), atexit and a final cleanup end our children and delete our
        namespaces; an earlier run's leftovers are swept first. prepare() runs after the sweep,
        finish() after the final cleanup."""
        for sig in SIGNALS:
            signal.signal(sig, _on_signal)
        atexit.register(self.cleanup_everything)
        self.sweep_stale_leftovers()
        if prepare:
            prepare()
        try:
            return body()
        except Interrupted as e:
            self.log(f"interrupted by signal {e.args[0]}: cleaning up")
            return 128 + e.args[0]
        finally:
            for sig in SIGNALS:  # let the cleanup finish
                signal.signal(sig, signal.SIG_IGN)
            self.cleanup_everything()
            if finish:
                finish()


# ---------------------------------------------------------------------------
# Topology: two namespaces, veth pairs between them.
# ---------------------------------------------------------------------------


class VethPair:
    """One veth pair: va<i> in the snd namespace, vb<i> in rcv, static MACs 02:00:00:00:0a|0b:<i+1>,
    IPv4 <subnet>.<i>.1|2/24 and, with ip6_net, IPv6 <ip6_net>::1|2/64."""

    def __init__(self, index, snd_ns, rcv_ns, subnet, ip6_net=None):
        self.snd_ns, self.rcv_ns = snd_ns, rcv_ns
        self.snd_if, self.rcv_if = f"va{index}", f"vb{index}"
        self.snd_mac, self.rcv_mac = f"02:00:00:00:0a:{index + 1:02x}", f"02:00:00:00:0b:{index + 1:02x}"
        self.snd_ip, self.rcv_ip = f"{subnet}.{index}.1", f"{subnet}.{index}.2"
        self.snd_ip6, self.rcv_ip6 = (f"{ip6_net}::1", f"{ip6_net}::2") if ip6_net else (None, None)

    def create(self, h, *, ipv6, neighbours, link_sysctl, up):
        """Creates the pair and configures both ends, offloads off (one skb == one packet).
        ipv6: IPv6 addresses too (nodad); neighbours: static neighbour entries (no ARP, ever);
        link_sysctl: IPv6 off on the interface itself too; up: each end set up as it is configured."""
        sn, rn = self.snd_ns, self.rcv_ns
        # Created directly inside the namespaces: nothing ever exists in the root namespace.
        h.run(
            [
                "ip",
                "-n",
                sn,
                "link",
                "add",
                self.snd_if,
                "address",
                self.snd_mac,
                "type",
                "veth",
                "peer",
                "name",
                self.rcv_if,
                "address",
                self.rcv_mac,
                "netns",
                rn,
            ]
        )
        for ns, ifname, ip, ip6, peer_ip, peer_mac in (
            (sn, self.snd_if, self.snd_ip, self.snd_ip6, self.rcv_ip, self.rcv_mac),
            (rn, self.rcv_if, self.rcv_ip, self.rcv_ip6, self.snd_ip, self.snd_mac),
        ):
            if link_sysctl:
                h.run(in_ns(ns, "sysctl", "-qw", f"net.ipv6.conf.{ifname}.disable_ipv6=1"))
            # No segmentation offload, no receive coalescing.
            h.run(in_ns(ns, "ethtool", "-K", ifname, "tso", "off", "gso", "off", "gro", "off"))
            h.run(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", ifname])
            if ipv6:
                h.run(["ip", "-n", ns, "addr", "add", f"{ip6}/64", "dev", ifname, "nodad"])
            if up:
                h.run(["ip", "-n", ns, "link", "set", ifname, "up"])
            if neighbours:
                h.run(
                    ["ip", "-n", ns, "neigh", "replace", peer_ip, "lladdr", peer_mac, "dev", ifname, "nud", "permanent"]
                )


class Topology:
    """Namespaces <prefix><pid>-<n>-snd and -rcv (the harness's prefix); `pairs` VethPairs between them.

    ipv6, ip6_net   IPv6 on in the namespaces, with addresses in ip6_net (one pair only)
    neighbours      static neighbour entries for the peer's address
    link_sysctl     IPv6 also switched off on each veth itself (IPv6 off only)
    up_each         each end is set up as it is configured, before its neighbour entry; otherwise
                    create(up=True) sets both ends up at the end, or up() does it later
    """

    def __init__(
        self, harness, *, subnet, pairs=1, ipv6=False, ip6_net=None, neighbours=True, link_sysctl=False, up_each=False
    ):
        assert not ipv6 or (ip6_net and pairs == 1)
        self.h = harness
        base = harness.namespace_base()
        self.snd_ns, self.rcv_ns = f"{base}-snd", f"{base}-rcv"
        self.pairs = [VethPair(i, self.snd_ns, self.rcv_ns, subnet, ip6_net) for i in range(pairs)]
        self.ipv6, self.neighbours, self.link_sysctl, self.up_each = ipv6, neighbours, link_sysctl, up_each

    def create(self, up=True):
        try:
            for ns in (self.snd_ns, self.rcv_ns):
                self.h.add_namespace(ns, ipv6=self.ipv6)
            for p in self.pairs:
                p.create(
                    self.h, ipv6=self.ipv6, neighbours=self.neighbours, link_sysctl=self.link_sysctl, up=self.up_each
                )
            if up and not self.up_each:
                self.up()
        except BaseException:
            self.destroy()
            raise
        return self

    def up(self, which=("rcv", "snd")):
        for p in self.pairs:
            for side in which:
                ns, ifname = (p.rcv_ns, p.rcv_if) if side == "rcv" else (p.snd_ns, p.snd_if)
                self.h.run(["ip", "-n", ns, "link", "set", ifname, "up"])

    def destroy(self):
        for ns in (self.snd_ns, self.rcv_ns):
            self.h.delete_namespace(ns)


# ---------------------------------------------------------------------------
# Live trafstat processes.
# ---------------------------------------------------------------------------


def multiqueue_pair(harness, subnet):
    """One veth pair in fresh namespaces with one queue per CPU we may run on at both ends, so that
    `trafstat gen`'s sending threads (one per CPU) do not share one receive ring; (topology, pair)."""
    cpus = len(os.sched_getaffinity(0))
    topo = Topology(harness, subnet=subnet, link_sysctl=True, up_each=True)
    topo.create()
    pair = topo.pairs[0]
    try:
        for ns, ifname in ((pair.snd_ns, pair.snd_if), (pair.rcv_ns, pair.rcv_if)):
            if cpus > 1:
                harness.run(in_ns(ns, "ethtool", "-L", ifname, "rx", str(cpus), "tx", str(cpus)))
    except BaseException:
        topo.destroy()
        raise
    return topo, pair


def read_stderr_until(proc, marker, timeout):
    """Reads proc's stderr pipe until `marker` shows in it. Returns (the text read, why it stopped):
    None, the marker came; "eof", proc closed its stderr first (it exited); "timeout", after timeout s."""
    fd, buf, deadline = proc.stderr.fileno(), b"", time.monotonic() + timeout
    while marker.encode() not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return buf.decode(errors="replace"), "timeout"
        ready, _, _ = select.select([fd], [], [], left)
        chunk = os.read(fd, 4096) if ready else b""
        if ready and not chunk:
            return buf.decode(errors="replace"), "eof"
        buf += chunk
    return buf.decode(errors="replace"), None


def interrupt(proc):
    """Stops a still running proc the clean way (SIGINT: a SIGKILLed clsact filter would stay),
    SIGKILL when it takes more than 10 s."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate(timeout=5)


def collect(proc, timeout, failure):
    """proc's (stdout, stderr), decoded, once it ends; SIGKILL and AssertionError(failure) when it
    does not end within timeout s."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=5)
        raise AssertionError(failure)
    return out.decode(errors="replace"), err.decode(errors="replace")


# ---------------------------------------------------------------------------
# trafstat's JSON output.
# ---------------------------------------------------------------------------


def json_lines(text, skip_blank=False):
    """NDJSON: every line (every non-blank one with skip_blank) must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if not skip_blank or line.strip()]


class Result:
    """A finished trafstat run whose stdout is --json output."""

    def __init__(self, rc, stdout, stderr):
        self.rc, self.stdout, self.stderr = rc, stdout, stderr

    @functools.cached_property
    def lines(self):
        """stdout as NDJSON: every line must be one JSON object."""
        return json_lines(self.stdout)

    @property
    def summary(self):
        assert (
            self.lines and self.lines[-1].get("type") == "summary"
        ), f"last stdout line is not a summary:\n{self.stdout[-2000:]}\nstderr: {self.stderr}"
        return self.lines[-1]


class LiveTrafstat:
    """One live trafstat process in a namespace, as a context manager: it never outlives the block.
    `spawn`: the runner's Harness.spawn. Subclasses set `result` (the Result class returned) and
    `settle` (how long stop() lets in-flight packets land)."""

    READY = "Ctrl-C to stop"  # the end of trafstat's "counting on ...; Ctrl-C to stop" line
    result = Result
    settle = 0.4

    def __init__(self, spawn, binary, ns, *args):
        self.spawn, self.binary, self.ns, self.args = spawn, binary, ns, list(args)
        self.proc = None
        self.stderr_head = ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        interrupt(self.proc)  # a test failed midway: stop it the clean way first

    def start(self, ready_timeout=20):
        self.proc = self.spawn(in_ns(self.ns, self.binary, *self.args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        head, stopped = read_stderr_until(self.proc, self.READY, ready_timeout)
        if stopped == "timeout":
            self.proc.kill()
            raise AssertionError(f"trafstat not ready after {ready_timeout}s: {head}")
        if stopped == "eof":  # it exited before attaching
            rc = self.proc.wait(timeout=5)
            out = self.proc.stdout.read().decode(errors="replace")
            raise AssertionError(f"trafstat exited {rc} before attaching: {head}{out}")
        self.stderr_head = head
        return self

    def stop(self, sig=signal.SIGINT, settle=None, timeout=15):
        """Lets in-flight packets land, signals, waits; returns a Result."""
        time.sleep(self.settle if settle is None else settle)
        self.proc.send_signal(sig)
        return self._collect(timeout, f"did not exit within {timeout}s of signal {sig}")

    def wait(self, timeout=15):
        """For runs that end by themselves (-c, -t): waits, returns a Result."""
        return self._collect(timeout, f"did not end by itself within {timeout}s")

    def _collect(self, timeout, failure):
        out, err = collect(self.proc, timeout, f"trafstat {failure}")
        return self.result(self.proc.returncode, out, self.stderr_head + err)


def check_classes(classes, where):
    """The class rules of abi.h hold for one packet's `classes`: one L3 class, one L4 class for IPv4
    and IPv6 (none otherwise), and flags; AssertionError naming `where` if not."""
    assert len(classes & set(L3)) == 1, f"{where}: not one L3 class: {sorted(classes)}"
    ip = classes & {"ipv4", "ipv6"}
    assert len(classes & set(L4)) == (1 if ip else 0), f"{where}: L4 classes do not fit: {sorted(classes)}"
    assert classes <= set(L3) | set(L4) | set(FLAGS), f"{where}: unknown class: {sorted(classes)}"


def compact(classes, names=None):
    """JSON classes object -> {class: (packets, bytes)}, for readable exact comparisons; `names`:
    those classes (each must be there), None: every class the object holds."""
    return {c: (classes[c]["packets"], classes[c]["bytes"]) for c in (classes if names is None else names)}


def compact_l4(l4_by_ip, names=None):
    return {v: compact(row, names) for v, row in l4_by_ip.items()}


def counts(**classes):
    """A full {class: (packets, bytes)} table; classes not named are (0, 0)."""
    table = {c: (0, 0) for c in CLASSES}
    for name, value in classes.items():
        assert name in table, name
        table[name] = value
    return table


def tally(records):
    """Sums (classes, bytes) records: ({class: (packets, bytes)}, {ipv4|ipv6: {l4: (packets, bytes)}}),
    the compact form of a JSON summary's classes and l4_by_ip."""
    cls = {c: [0, 0] for c in CLASSES}
    by_ip = {v: {c: [0, 0] for c in L4} for v in ("ipv4", "ipv6")}
    for classes, nbytes in records:
        for c in ("all", *classes):
            cls[c][0] += 1
            cls[c][1] += nbytes
        for v in ("ipv4", "ipv6"):
            if v in classes:
                (l4,) = classes & set(L4)
                by_ip[v][l4][0] += 1
                by_ip[v][l4][1] += nbytes
    return (
        {c: tuple(x) for c, x in cls.items()},
        {v: {c: tuple(x) for c, x in row.items()} for v, row in by_ip.items()},
    )


def assert_reconciles(test, entry, *, per_l4=False):
    """The ABI's reconciliation rules hold for an interface entry: all = sum of the L3 classes,
    sum of the L4 classes = ipv4 + ipv6, ipv4/ipv6 = the sums of their l4_by_ip rows; per_l4: also
    each L4 class = its ipv4 + ipv6 columns of l4_by_ip."""
    c, by_ip = compact(entry["classes"], CLASSES), compact_l4(entry["l4_by_ip"], L4)

    def total(names, table):
        return tuple(sum(table[n][i] for n in names) for i in (0, 1))

    test.assertEqual(c["all"], total(L3, c), "all != sum of L3 classes")
    test.assertEqual(total(L4, c), total(("ipv4", "ipv6"), c), "sum of L4 classes != ipv4 + ipv6")
    for v in ("ipv4", "ipv6"):
        test.assertEqual(c[v], total(L4, by_ip[v]), f"{v} != sum of l4_by_ip.{v}")
    if per_l4:
        for l4 in L4:
            test.assertEqual(c[l4], total(("ipv4", "ipv6"), {v: by_ip[v][l4] for v in by_ip}), l4)
