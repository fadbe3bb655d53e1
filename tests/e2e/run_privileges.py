#!/usr/bin/python3
"""The capabilities each mode keeps once started (docs/privileges.md), read from /proc/PID/status.

Run as root:  /usr/bin/python3 tests/e2e/run_privileges.py --trafstat build/trafstat [-v] [-k PATTERN]
It starts itself again under `unshare -m --propagation private` (the agent's pins go to a private
BPF filesystem that vanishes with the run, as run_agent.py does).

One pair of network namespaces named after this process (tspriv-<pid>-<n>-snd / -rcv) joined by a
veth pair va0 (snd) <-> vb0 (rcv), as run_e2e.py builds them. Each mode runs once as root and once
as user nobody from a copy of the binary with file capabilities (cap_bpf,cap_net_admin,cap_perfmon+ep,
the README's setcap, in a temp dir); while it runs, every one of its threads must hold exactly
the documented set (CapEff, CapPrm), nothing inheritable or ambient, and as root (which may drop
them) nothing more in the bounding set. Counting still works after the drop: the frames gen sends
are counted exactly.

  TestLive     XDP and TCX: nothing kept; clsact: CAP_NET_ADMIN (its filters are deleted at exit by
               netlink), and no filter is left after the exit
  TestReplay   replay from a FIFO, held open mid-capture: nothing kept
  TestGen      gen sending: nothing kept
  TestAgent    the agent serving, /status and /metrics answered: nothing kept; its pin dir 0700 and
               pins 0600; --detach-on-exit leaves no pin

CAP_BPF is kept in every mode only where the kernel checks it on every bpf() command (Linux before
6.5 with kernel.unprivileged_bpf_disabled set): expected() adds it there.

Privileges: without root (or without the ability to create a netns) the run SKIPs with exit code 77,
unless CI=true, where it fails.
"""

import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import agentlib  # noqa: E402  (tests/support/agentlib.py)
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import in_ns  # noqa: E402
from frames import ETHERTYPE_IPV4, LINKTYPE_ETHERNET, T0_NS, Record, ether, ipv4, pcap, udp  # noqa: E402

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test

H = testlib.Harness("privileges", "tspriv-", run_timeout=60)
TOOLS = ("ip", "ethtool", "sysctl", "ping", "tc", "setcap", "setpriv", "unshare", "mount", "umount")

CAP_NET_ADMIN, CAP_PERFMON, CAP_BPF = 12, 38, 39
FILE_CAPS = "cap_bpf,cap_net_admin,cap_perfmon+ep"
NOBODY = 65534
FRAMES = 2000
PINGS = 20


def kernel_gates_bpf():
    """Whether every bpf() command needs CAP_BPF here (before 6.5, unprivileged BPF disabled)."""
    major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    with open("/proc/sys/kernel/unprivileged_bpf_disabled") as f:
        disabled = f.read().strip() != "0"
    return disabled and (major, minor) < (6, 5)


def expected(*caps):
    """The documented set as a CapEff/CapPrm mask."""
    kept = set(caps) | ({CAP_BPF} if kernel_gates_bpf() else set())
    return sum(1 << c for c in kept)


def capabilities(pid):
    """{thread id: {"CapEff": mask, ...}} for every thread of `pid`."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            out[tid] = {k: int(v, 16) for k, v in (line.split(":\t") for line in f) if k.startswith("Cap")}
    return out


def own_bounding_set():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1], 16) for line in f if line.startswith("CapBnd:"))


class PrivilegeCase(unittest.TestCase):
    """A topology per class; `as_user` runs each mode as root and as nobody with file capabilities."""

    @classmethod
    def setUpClass(cls):
        cls.topo, cls.pair = testlib.multiqueue_pair(H, "10.86")
        cls.addClassCleanup(cls.topo.destroy)
        cls.copy_dir = H.mkdtemp()
        cls.addClassCleanup(shutil.rmtree, cls.copy_dir, True)
        os.chmod(cls.copy_dir, 0o755)
        capable_copy = shutil.copy2(TRAFSTAT, cls.copy_dir)
        H.run(["setcap", FILE_CAPS, capable_copy])
        # setpriv and the copy exec in turn: the pid stays trafstat's.
        cls.as_nobody = os.path.join(cls.copy_dir, "trafstat-as-nobody")
        with open(cls.as_nobody, "w") as f:
            f.write(f'#!/bin/sh\nexec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups {capable_copy} "$@"\n')
        os.chmod(cls.as_nobody, 0o755)

    def users(self):
        """(label, binary): root, then nobody with file capabilities."""
        return (("root", TRAFSTAT), ("file caps", self.as_nobody))

    def check_caps(self, pid, user, keep, what):
        """Every thread of `pid` holds exactly `keep` (a mask) in effect and permitted, nothing
        inheritable or ambient; as root, nothing else in the bounding set either."""
        for tid, caps in capabilities(pid).items():
            where = f"{what} as {user}, thread {tid}: {caps}"
            self.assertEqual(caps["CapEff"], keep, where)
            self.assertEqual(caps["CapPrm"], keep, where)
            self.assertEqual(caps["CapInh"], 0, where)
            self.assertEqual(caps["CapAmb"], 0, where)
            # Without CAP_SETPCAP the bounding set cannot shrink; it then stays the parent's.
            self.assertEqual(caps["CapBnd"], keep if user == "root" else own_bounding_set(), where)

    def gen(self, *args):
        return H.run(in_ns(self.pair.snd_ns, TRAFSTAT, "gen", "--threads", "1", *args, self.pair.snd_if))


class TestLive(PrivilegeCase):
    def live(self, user, binary, keep, *args):
        """XDP counts gen's frames; TC (ingress) the echo requests of a ping, as gen's XDP_TX
        frames reach the peer's XDP hook only."""
        with testlib.LiveTrafstat(H.spawn, binary, self.pair.rcv_ns, "--json", *args, self.pair.rcv_if) as t:
            self.check_caps(t.proc.pid, user, keep, f"live {' '.join(args)}")
            if "xdp" in args:
                self.gen("-n", str(FRAMES))
                sent, l4 = FRAMES, "udp"
            else:
                sent, l4 = PINGS, "icmp"
                H.run(
                    in_ns(self.pair.snd_ns, "ping", "-q", "-c", str(PINGS), "-i", "0.01", "-W", "2", self.pair.rcv_ip)
                )
            res = t.stop()
        self.assertEqual(res.rc, 0, res.stderr)
        self.assertEqual(res.summary["total"]["classes"][l4]["packets"], sent, res.stderr)

    def test_xdp(self):
        for user, binary in self.users():
            with self.subTest(user=user):
                self.live(user, binary, expected(), "--hook", "xdp")

    def test_tcx(self):
        for user, binary in self.users():
            with self.subTest(user=user):
                self.live(user, binary, expected(), "--hook", "tc-ingress", "--tc-mode", "tcx")

    def test_clsact_keeps_net_admin_to_detach(self):
        for user, binary in self.users():
            with self.subTest(user=user):
                self.live(user, binary, expected(CAP_NET_ADMIN), "--hook", "tc-ingress", "--tc-mode", "clsact")
                left = H.run(in_ns(self.pair.rcv_ns, "tc", "filter", "show", "dev", self.pair.rcv_if, "ingress"))
                self.assertEqual(left.stdout.strip(), "", "a clsact filter was left")


class TestReplay(PrivilegeCase):
    def test_replay(self):
        records = [
            Record(ether(ETHERTYPE_IPV4, ipv4(17, udp(b"x" * 18, 1000 + i))), T0_NS + i * 1000) for i in range(5000)
        ]
        capture = pcap(LINKTYPE_ETHERNET, records)
        for user, binary in self.users():
            with self.subTest(user=user):
                fifo = os.path.join(self.copy_dir, f"replay-{user.replace(' ', '-')}.pcap")
                os.mkfifo(fifo, 0o644)
                proc = H.spawn([binary, "replay", "--json", fifo], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                with open(fifo, "wb") as w:
                    w.write(capture[: len(capture) // 2])
                    w.flush()
                    time.sleep(1)  # it has read what there is, and waits for the rest
                    self.check_caps(proc.pid, user, expected(), "replay")
                    w.write(capture[len(capture) // 2 :])
                out, err = testlib.collect(proc, 30, "replay did not end")
                os.unlink(fifo)
                self.assertEqual(proc.returncode, 0, err)
                summary = testlib.json_lines(out)[-1]
                self.assertEqual(summary["total"]["classes"]["udp"]["packets"], len(records), err)


class TestGen(PrivilegeCase):
    def test_gen(self):
        for user, binary in self.users():
            with self.subTest(user=user):
                proc = H.spawn(
                    in_ns(
                        self.pair.snd_ns, binary, "gen", "--threads", "2", "--rate", "2000", "-t", "3", self.pair.snd_if
                    ),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                _, stopped = testlib.read_stderr_until(proc, "Ctrl-C to stop", 20)
                self.assertIsNone(stopped)
                time.sleep(1)  # the sending threads run
                self.check_caps(proc.pid, user, expected(), "gen")
                _, err = testlib.collect(proc, 30, "gen did not end")
                self.assertEqual(proc.returncode, 0, err)


class TestAgent(PrivilegeCase):
    def test_agent(self):
        for user, binary in self.users():
            with self.subTest(user=user):
                bpffs = agentlib.PrivateBpffs(H)
                try:
                    if user != "root":
                        os.chown(bpffs.root, NOBODY, NOBODY)  # the user's own BPF filesystem
                    self.agent(user, binary, bpffs)
                    self.assertEqual(bpffs.pins(), ["trafstat"], "--detach-on-exit left pins")
                finally:
                    bpffs.close()

    def agent(self, user, binary, bpffs):
        args = ("--metrics", "127.0.0.1:9469", "--detach-on-exit", "-i", "0.5", self.pair.rcv_if)
        with agentlib.Agent(H, binary, self.pair.rcv_ns, bpffs.pin_dir, *args) as agent:
            self.check_caps(agent.proc.pid, user, expected(), "agent")
            self.assertEqual(os.stat(bpffs.pin_dir).st_mode & 0o777, 0o700)
            for dirpath, _, files in os.walk(bpffs.pin_dir):
                self.assertEqual(os.stat(dirpath).st_mode & 0o777, 0o700, dirpath)
                for name in files:
                    self.assertEqual(os.stat(os.path.join(dirpath, name)).st_mode & 0o777, 0o600, name)
            url = agent.metrics_url()
            self.gen("-n", str(FRAMES))
            time.sleep(1.2)  # two drains
            status = agentlib.scrape(self.pair.rcv_ns, url.replace("/metrics", "/status"))
            self.assertIn(self.pair.rcv_if, status)
            metrics = agentlib.parse_metrics(agentlib.scrape(self.pair.rcv_ns, url))
            udp = agentlib.metric_sum(metrics, "trafstat_packets_total", **{"class": "udp"})
            self.assertEqual(udp, FRAMES, "the agent's count after dropping its capabilities")
            rc, err = agent.stop()
            self.assertEqual(rc, 0, err)


def main():
    agentlib.reexec_in_private_mount_namespace()

    return H.main(
        __doc__,
        __name__,
        suite="privilege tests",
        not_root="the privilege tests create network namespaces, attach BPF programs and set file capabilities",
        tools=TOOLS,
    )


if __name__ == "__main__":
    sys.exit(main())
