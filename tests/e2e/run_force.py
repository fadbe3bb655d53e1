#!/usr/bin/python3
"""`--force` never leaves the host worse: a killed run leaves the user's program or nothing, never trafstat's.

Run as root:  /usr/bin/python3 tests/e2e/run_force.py --trafstat build/trafstat [-v] [-k PATTERN]

One pair of network namespaces named after this process (tsforce-<pid>-<n>-snd / -rcv) joined by a
veth pair va0 (snd) <-> vb0 (rcv), as run_e2e.py builds them. The user's program is baseline_pass
(build/bpf/baseline.bpf.o, XDP_PASS) attached to vb0 with `ip link set dev vb0 xdpdrv obj ...` (or
xdpgeneric), as a user would; trafstat runs in rcv on vb0 (docs/attaching.md).

  TestKilledForce     `--force` and `--force -d` SIGKILLed 12 times, 0-300 ms after the start, then
                      once counting (over a native and a generic program, and once with -d): vb0 then
                      has the user's program or nothing, never a trafstat program (no drop program),
                      and ping crosses the pair
  TestCleanStop       SIGINT, SIGTERM and -c N each put the user's program back: the same program id
                      in its own mode; meanwhile trafstat's program runs in the mode asked for
                      (--xdp-mode generic over a native program, native over a generic one), and
                      with auto in the user's program's mode. A link that cannot be made (offload
                      on a veth) puts the user's program back at once (exit 5)
  TestExactUnderForce `--force` counts exactly what vb0's kernel counters received
  TestRefused         a trafstat program attached without a link (as an older trafstat's --force did)
                      is refused with or without --force (exit 5, one line, the command that removes
                      it) and left as it is; the command named removes it. A program held by another
                      process's BPF link (another trafstat) cannot be replaced (exit 5) and stays
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

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test
BASELINE_OBJ = ""  # set by main(): build/bpf/baseline.bpf.o (the user's XDP program)
COUNTER_OBJ = ""  # set by main(): build/bpf/counter.bpf.o (a trafstat program to attach without a link)

H = testlib.Harness("force", "tsforce-", run_timeout=30)

EXIT_ATTACH = 5  # docs/exit-codes.md
KILLS = 12
KILL_WITHIN = 0.3  # seconds after the start
IP_MODES = {"xdpdrv": "native", "xdpgeneric": "generic"}  # `ip link set` keyword -> XDP mode
ATTACHED = {1: "native", 2: "generic", 3: "offload"}  # `ip -j link`'s xdp mode (XDP_ATTACHED_*)


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
        for mode in IP_MODES:
            H.run(["ip", "-n", self.ns, "link", "set", "dev", self.ifname, mode, "off"], check=False)

    def xdp(self):
        """vb0's XDP program as (id, name, mode), or None."""
        link = json.loads(H.run(["ip", "-n", self.ns, "-j", "link", "show", "dev", self.ifname]).stdout)[0]
        xdp = link.get("xdp", {})
        prog = xdp.get("prog")
        return (prog["id"], prog["name"], ATTACHED.get(xdp["mode"], xdp["mode"])) if prog else None

    def settled_xdp(self, within=2.0):
        """vb0's XDP program once a killed trafstat's link is gone (released with the process, but
        polled for, as the kernel frees links asynchronously)."""
        deadline = time.monotonic() + within
        while True:
            now = self.xdp()
            if not (now and now[1].startswith("trafstat_")) or time.monotonic() > deadline:
                return now
            time.sleep(0.05)

    def attach(self, obj, program, ip_mode="xdpdrv"):
        H.run(["ip", "-n", self.ns, "link", "set", "dev", self.ifname, ip_mode, "obj", obj, "program", program])
        now = self.xdp()
        self.assertEqual(now[1:], (program, IP_MODES[ip_mode]))
        return now

    def attach_users_program(self, ip_mode="xdpdrv"):
        return self.attach(BASELINE_OBJ, "baseline_pass", ip_mode)

    def ping_crosses(self, count=2):
        p = H.run(
            in_ns(self.pair.snd_ns, "ping", "-q", "-n", "-c", str(count), "-i", "0.01", "-W", "1", self.pair.rcv_ip),
            check=False,
        )
        self.assertIn(f" {count} received", p.stdout, f"traffic does not cross the pair: {p.stdout}{p.stderr}")

    def trafstat(self, *args):
        """One trafstat run to its end: (exit code, stderr)."""
        p = H.run(in_ns(self.ns, TRAFSTAT, *args, self.ifname), check=False, timeout=30)
        return p.returncode, p.stderr

    def live(self, *args):
        return testlib.LiveTrafstat(H.spawn, TRAFSTAT, self.ns, *args, self.ifname)

    def killed(self, *args, delay=None):
        """trafstat on vb0, SIGKILLed `delay` seconds after its start, or (None) once it counts."""
        proc = H.spawn(in_ns(self.ns, TRAFSTAT, *args, self.ifname), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if delay is None:
            head, stopped = testlib.read_stderr_until(proc, testlib.LiveTrafstat.READY, 20)
            self.assertIsNone(stopped, f"trafstat not ready ({stopped}): {head}")
            self.assertTrue(self.xdp()[1].startswith("trafstat_"), "trafstat counts, but not on vb0's XDP hook")
        else:
            time.sleep(delay)
        proc.kill()
        proc.communicate(timeout=10)

    def assertOneLine(self, err, *words):
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertTrue(err.startswith("trafstat: "), err)
        for w in words:
            self.assertIn(w, err)


class TestKilledForce(ForceCase):
    def assertUsersOrNothing(self, users, what):
        """After a SIGKILL: the user's program (same id, same mode) or nothing; never trafstat's."""
        now = self.settled_xdp()
        self.assertIn(now, (users, None), f"{what}: {now} left on vb0")
        self.ping_crosses()
        return now

    def test_killed_at_random_moments(self):
        rng = random.Random(int(os.environ.get("TRAFSTAT_FORCE_SEED", time.time_ns())))
        outcomes = []
        users = self.attach_users_program()
        for i in range(KILLS):
            args = ("--force", "-d") if i % 2 else ("--force",)
            delay = rng.uniform(0, KILL_WITHIN)
            self.killed(*args, "--json", "-i", "60", delay=delay)
            now = self.assertUsersOrNothing(users, f"{' '.join(args)} killed after {delay:.3f} s")
            outcomes.append(f"{delay * 1000:.0f} ms {' '.join(args)}: {'the user' if now else 'nothing'}")
            if now is None:
                users = self.attach_users_program()
        H.log(f"{KILLS} SIGKILLs within {KILL_WITHIN} s of the start left: {', '.join(outcomes)}")

    def killed_once_counting(self, ip_mode, *args):
        users = self.attach_users_program(ip_mode)
        self.killed("--force", *args, "--json", "-i", "60")
        # Theirs was detached for the run and ours went with the process: nothing is left.
        self.assertIsNone(self.assertUsersOrNothing(users, f"--force {' '.join(args)} killed while counting"))

    def test_killed_counting_over_native(self):
        self.killed_once_counting("xdpdrv")

    def test_killed_counting_over_generic(self):
        self.killed_once_counting("xdpgeneric")

    def test_killed_dropping_leaves_no_drop_program(self):
        self.killed_once_counting("xdpdrv", "-d")


class TestCleanStop(ForceCase):
    # (the user's program's mode, --xdp-mode, trafstat's mode meanwhile, how the run ends)
    CASES = (
        ("xdpdrv", "auto", "native", "SIGINT"),
        ("xdpgeneric", "auto", "generic", "SIGTERM"),
        ("xdpdrv", "generic", "generic", "-c"),
        ("xdpgeneric", "native", "native", "SIGINT"),
        ("xdpdrv", "native", "native", "SIGTERM"),
        ("xdpgeneric", "generic", "generic", "-c"),
    )

    def test_users_program_back_in_its_own_mode(self):
        for ip_mode, asked, ours_mode, end in self.CASES:
            with self.subTest(users=ip_mode, asked=asked, end=end):
                users = self.attach_users_program(ip_mode)
                count = ("-c", "3", "-i", "0.3") if end == "-c" else ("-i", "60")
                ts = self.live("--force", "--xdp-mode", asked, "--json", *count).start()
                try:
                    ours = self.xdp()
                    self.assertTrue(ours[1].startswith("trafstat_"), ours)
                    self.assertEqual(ours[2], ours_mode, f"--xdp-mode {asked} over a {IP_MODES[ip_mode]} program")
                    self.assertIn(f"detached 'baseline_pass' (id {users[0]}, {IP_MODES[ip_mode]} mode)", ts.stderr_head)
                    res = ts.wait() if end == "-c" else ts.stop(getattr(signal, end), settle=0)
                finally:
                    testlib.interrupt(ts.proc)
                self.assertEqual(res.rc, 0, res.stderr)
                self.assertEqual(res.summary["interfaces"][0]["mode"], ours_mode)
                self.assertNotIn("warning: --force: not putting", res.stderr)
                self.assertEqual(self.xdp(), users, "the user's program is not back as it was")
                self.ping_crosses()
                self.detach_all()

    def test_failed_attach_puts_it_back(self):
        """A veth cannot run XDP in the NIC: the link fails after the user's program came off."""
        users = self.attach_users_program()
        rc, err = self.trafstat("--force", "--xdp-mode", "offload", "-c", "1")
        self.assertEqual(rc, EXIT_ATTACH, err)
        self.assertOneLine(err, "offload (hardware) XDP is not available")
        self.assertEqual(self.xdp(), users)


class TestExactUnderForce(ForceCase):
    PINGS = 50

    def test_counts_what_vb0_received(self):
        users = self.attach_users_program()
        with self.live("--force", "--json", "-i", "60") as ts:
            before = self.rx_packets()
            self.ping_crosses(self.PINGS)
            time.sleep(0.2)
            received = self.rx_packets() - before
            res = ts.stop()
        self.assertEqual(res.rc, 0, res.stderr)
        self.assertEqual(received, self.PINGS)
        self.assertEqual(res.summary["total"]["classes"]["all"]["packets"], received)
        self.assertEqual(self.xdp(), users)

    def rx_packets(self):
        link = json.loads(H.run(["ip", "-n", self.ns, "-s", "-j", "link", "show", "dev", self.ifname]).stdout)[0]
        return link["stats64"]["rx"]["packets"]


class TestRefused(ForceCase):
    def left_by_older_version(self, ip_mode):
        """A trafstat program attached without a link, as an older trafstat's killed --force left it:
        refused with and without --force, left as it is, removed by the command named."""
        left = self.attach(COUNTER_OBJ, "trafstat_xdp", ip_mode)
        err = ""
        for extra in (["--force"], []):
            rc, err = self.trafstat("--json", "-c", "1", "-i", "0.1", *extra)
            self.assertEqual(rc, EXIT_ATTACH, err)
            self.assertOneLine(err, "trafstat's own", "trafstat_xdp", f"ip link set dev {self.ifname} {ip_mode} off")
            self.assertEqual(self.xdp(), left, "a later run replaced trafstat's left program")
        cmd = re.search(r"ip link set dev \S+ \S+ off", err).group(0).split()
        H.run(["ip", "-n", self.ns, *cmd[1:]])
        self.assertIsNone(self.xdp())
        self.ping_crosses()

    def test_left_by_older_version_native(self):
        self.left_by_older_version("xdpdrv")

    def test_left_by_older_version_generic(self):
        self.left_by_older_version("xdpgeneric")

    def test_held_by_another_link(self):
        with self.live("--json", "-i", "60") as holder:
            held = self.xdp()
            rc, err = self.trafstat("--force", "--json", "-c", "1", "-i", "0.1")
            self.assertEqual(rc, EXIT_ATTACH, err)
            self.assertOneLine(err, "held by BPF link", "cannot be replaced, even with --force")
            self.assertEqual(self.xdp(), held)
            self.assertEqual(holder.stop().rc, 0)
        self.assertIsNone(self.settled_xdp())


class TestKilledDrop(ForceCase):
    def test_drop_alone_is_a_link_and_goes_with_the_process(self):
        self.killed("-d", "--json", "-i", "60")
        self.assertIsNone(self.settled_xdp(), "a SIGKILLed -d left its program on vb0")
        self.ping_crosses()


TOOLS = ("ip", "ethtool", "ping", "sysctl")


def main():
    def files(args):
        global BASELINE_OBJ, COUNTER_OBJ
        BASELINE_OBJ = testlib.baseline_obj(args)
        COUNTER_OBJ = os.path.join(os.path.dirname(BASELINE_OBJ), "counter.bpf.o")
        return (BASELINE_OBJ, COUNTER_OBJ)

    return H.main(
        __doc__,
        __name__,
        suite="--force tests",
        not_root="the --force tests create network namespaces and attach XDP programs",
        tools=TOOLS,
        files=files,
        arguments=testlib.add_baseline_obj_argument,
    )


if __name__ == "__main__":
    sys.exit(main())
