#!/usr/bin/python3
"""`--force` never leaves the host worse: a killed run leaves the user's program or trafstat's passing one.

Run as root:  /usr/bin/python3 tests/e2e/run_force.py --trafstat build/trafstat [-v] [-k PATTERN]

One pair of network namespaces named after this process (tsforce-<pid>-<n>-snd / -rcv) joined by a
veth pair va0 (snd) <-> vb0 (rcv), as run_e2e.py builds them. The user's program is baseline_pass
(build/bpf/baseline.bpf.o, XDP_PASS) attached to vb0 with `ip link set dev vb0 xdpdrv obj ...`, as
a user would; trafstat runs in rcv on vb0 (docs/attaching.md).

  TestForceWithDrop   `--force -d` is a one-line usage error (exit 2), and the user's program stays
  TestKilledForce     `--force` (counting) SIGKILLed 10 times, 0-300 ms after its start: vb0 then has
                      the user's program or trafstat's counting program, never anything else (no
                      drop program), and ping crosses the pair. Once trafstat's program is left
                      (also SIGKILLed once attached, over a native and a generic program, so the
                      case is always seen), a later run, with
                      or without --force, refuses it (exit 5, one line, the command that removes
                      it) and leaves it as it is: it never "restores" trafstat's program as if it
                      were the user's; the command named removes it
  TestKilledDrop      `-d` alone attaches through a BPF link: SIGKILLed once attached, nothing stays
                      on vb0 and ping crosses the pair

Safety: the namespaces and their veths are created here and removed on every exit path (class
cleanups, atexit, SIGINT/SIGTERM/SIGHUP handlers, and a sweep of a SIGKILLed earlier run's
leftovers); every program attached here is attached to vb0 inside them.

Privileges: without root (or without the ability to create a netns) the run SKIPs with exit code
77, unless CI=true, where it fails.
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import in_ns  # noqa: E402

TRAFSTAT = ""  # set by main(): absolute path of the binary under test
BASELINE_OBJ = ""  # set by main(): build/bpf/baseline.bpf.o (the user's XDP program)

H = testlib.Harness("force", "tsforce-", run_timeout=30)

EXIT_USAGE, EXIT_ATTACH = 2, 5  # docs/exit-codes.md
KILLS = 10
KILL_WITHIN = 0.3  # seconds after the start


class ForceCase(unittest.TestCase):
    """Base: a fresh topology per test class, torn down whatever happens."""

    @classmethod
    def setUpClass(cls):
        cls.topo = testlib.Topology(H, subnet="10.86", link_sysctl=True, up_each=True)
        cls.addClassCleanup(cls.topo.destroy)
        cls.topo.create()
        cls.pair = cls.topo.pairs[0]
        cls.ns, cls.ifname = cls.pair.rcv_ns, cls.pair.rcv_if

    def setUp(self):
        self.addCleanup(self.detach_all)

    def detach_all(self):
        for mode in ("xdpdrv", "xdpgeneric"):
            H.run(["ip", "-n", self.ns, "link", "set", "dev", self.ifname, mode, "off"], check=False)

    def xdp(self):
        """vb0's XDP program as (id, name), or None."""
        link = json.loads(H.run(["ip", "-n", self.ns, "-j", "link", "show", "dev", self.ifname]).stdout)[0]
        prog = link.get("xdp", {}).get("prog")
        return (prog["id"], prog["name"]) if prog else None

    def attach_users_program(self, ip_mode="xdpdrv"):
        H.run(
            ["ip", "-n", self.ns, "link", "set", "dev", self.ifname, ip_mode, "obj", BASELINE_OBJ]
            + ["program", "baseline_pass"]
        )
        users = self.xdp()
        self.assertEqual(users[1], "baseline_pass")
        return users

    def ping_crosses(self):
        p = H.run(
            in_ns(self.pair.snd_ns, "ping", "-q", "-n", "-c", "2", "-i", "0.05", "-W", "1", self.pair.rcv_ip),
            check=False,
        )
        self.assertIn(" 2 received", p.stdout, f"traffic does not cross the pair: {p.stdout}{p.stderr}")

    def trafstat(self, *args):
        """One trafstat run to its end: (exit code, stderr)."""
        p = H.run(in_ns(self.ns, TRAFSTAT, *args, self.ifname), check=False, timeout=30)
        return p.returncode, p.stderr

    def killed(self, *args, delay=None):
        """trafstat on vb0, SIGKILLed `delay` seconds after its start, or (None) once it counts."""
        proc = H.spawn(in_ns(self.ns, TRAFSTAT, *args, self.ifname), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if delay is None:
            head, stopped = testlib.read_stderr_until(proc, testlib.LiveTrafstat.READY, 20)
            self.assertIsNone(stopped, f"trafstat not ready ({stopped}): {head}")
        else:
            time.sleep(delay)
        proc.kill()
        proc.communicate(timeout=10)

    def assertOneLine(self, err, *words):
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertTrue(err.startswith("trafstat: "), err)
        for w in words:
            self.assertIn(w, err)


class TestForceWithDrop(ForceCase):
    def test_refused_and_the_users_program_stays(self):
        users = self.attach_users_program()
        for args in (["--force", "-d"], ["-d", "--force", "--xdp-mode", "native"]):
            with self.subTest(args=args):
                rc, err = self.trafstat(*args)
                self.assertEqual(rc, EXIT_USAGE, err)
                self.assertOneLine(err, "--force cannot be combined with --drop", "detach the other XDP program")
                self.assertEqual(self.xdp(), users)
        self.ping_crosses()


class TestKilledForce(ForceCase):
    def assertTrafstatsRefused(self, left, ip_mode="xdpdrv"):
        """A run over trafstat's left program refuses it, names the way out, and leaves it be."""
        for extra in (["--force"], []):
            rc, err = self.trafstat("--json", "-c", "1", "-i", "0.1", *extra)
            self.assertEqual(rc, EXIT_ATTACH, err)
            self.assertOneLine(err, "trafstat's own", left[1], f"ip link set dev {self.ifname} {ip_mode} off")
            self.assertEqual(self.xdp(), left, "a later run replaced trafstat's left program")

    def remove_left(self, err_hint):
        """Removes trafstat's program with the command its refusal names."""
        cmd = re.search(r"ip link set dev \S+ \S+ off", err_hint).group(0).split()
        H.run(["ip", "-n", self.ns, *cmd[1:]])
        self.assertIsNone(self.xdp())

    def killed_once_counting(self, ip_mode):
        users = self.attach_users_program(ip_mode)
        self.killed("--force", "--json", "-i", "60")
        left = self.xdp()
        self.assertNotEqual(left, users)
        self.assertTrue(left[1].startswith("trafstat_"), left)
        self.ping_crosses()
        self.assertTrafstatsRefused(left, ip_mode)
        _rc, err = self.trafstat("--force")
        self.remove_left(err)
        self.ping_crosses()

    def test_killed_once_counting_leaves_trafstats_passing_program_native(self):
        self.killed_once_counting("xdpdrv")

    def test_killed_once_counting_leaves_trafstats_passing_program_generic(self):
        self.killed_once_counting("xdpgeneric")

    def test_killed_at_random_moments(self):
        rng = random.Random(int(os.environ.get("TRAFSTAT_FORCE_SEED", time.time_ns())))
        outcomes = []
        users = self.attach_users_program()
        for _ in range(KILLS):
            delay = rng.uniform(0, KILL_WITHIN)
            self.killed("--force", "--json", "-i", "60", delay=delay)
            now = self.xdp()
            self.assertIsNotNone(now, f"killed after {delay:.3f} s: nothing left, the user's program is lost")
            if now == users:
                outcomes.append(f"{delay * 1000:.0f} ms: the user's")
            else:
                self.assertTrue(now[1].startswith("trafstat_"), f"killed after {delay:.3f} s: {now} on vb0")
                outcomes.append(f"{delay * 1000:.0f} ms: trafstat's")
            self.ping_crosses()
            if now != users:
                self.assertTrafstatsRefused(now)
                _rc, err = self.trafstat("--force")
                self.remove_left(err)
                users = self.attach_users_program()
        H.log(f"{KILLS} SIGKILLs within {KILL_WITHIN} s of the start left: {', '.join(outcomes)}")


class TestKilledDrop(ForceCase):
    def test_drop_alone_is_a_link_and_goes_with_the_process(self):
        self.killed("-d", "--json", "-i", "60")
        self.assertIsNone(self.xdp(), "a SIGKILLed -d left its program on vb0")
        self.ping_crosses()


TOOLS = ("ip", "ethtool", "ping", "sysctl")


def main():
    global TRAFSTAT, BASELINE_OBJ
    ap = testlib.arg_parser(__doc__)
    ap.add_argument("--baseline-obj", help="XDP object with baseline_pass (default: <bindir>/bpf/baseline.bpf.o)")
    args, unittest_args = ap.parse_known_args()
    TRAFSTAT = os.path.abspath(args.trafstat)
    BASELINE_OBJ = os.path.abspath(
        args.baseline_obj or os.path.join(os.path.dirname(TRAFSTAT), "bpf", "baseline.bpf.o")
    )
    failed = H.preflight(
        "not root: the --force tests create network namespaces and attach XDP programs",
        "--force tests",
        TOOLS,
        (TRAFSTAT, BASELINE_OBJ),
    )
    if failed is not None:
        return failed
    return H.run_guarded(lambda: testlib.run_unittests(__name__, unittest_args))


if __name__ == "__main__":
    sys.exit(main())
