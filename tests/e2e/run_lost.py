#!/usr/bin/python3
"""trafstat knows when its attachment is gone (docs/attaching.md, "Losing the attachment").

Run as root:  /usr/bin/python3 tests/e2e/run_lost.py --trafstat build/trafstat [-v] [-k PATTERN]

Fresh network namespaces per test (tslost-<pid>-<n>-snd / -rcv, veth pairs va<i>/vb<i> as
run_e2e.py builds them); trafstat counts on vb<i> in the receiving namespace, pings come from the
sender. The runner starts itself again under `unshare -m` (agentlib) so that the agent's pins live
in a BPF filesystem of its own. Everything is removed on every exit path.

  TestLiveLoss    the interface deleted under XDP native, XDP generic, TCX and clsact (both
                  directions): exit 13 within two intervals, one stderr line per attachment, a JSON
                  `lost` line before the summary, the counts up to the loss equal to the kernel's;
                  the clsact filter removed or replaced (theirs stays after the exit), the TCX link
                  detached (bpftool) by someone else: exit
                  13 likewise; the peer's network
                  namespace deleted (the veth pair dies with it): the interface was deleted
  TestForce       --force (a link too): `xdpdrv off` refused by the kernel, the link detached by
                  someone else, the interface deleted: exit 13 likewise, the user's program back
                  after the link was detached
  TestNotALoss    link down and up: counting goes on, exact, exit 0; the MTU raised to 9000: a loss
                  (13) under native XDP, whose program counts a frame's first buffer only, and
                  exact counting on (0) under TCX
  TestAgent       two interfaces served, one deleted: the agent says so once on stderr, /status and
                  `trafstat status` mark it stale, trafstat_attachment_up is 0 for it and 1 for
                  the other, /healthz answers, the other counts on exactly
  TestLeftovers   a second clsact run names the live owner (pid, comm) of both filters; after a
                  SIGKILL both filters are "left by a killed trafstat", in one line, with the
                  commands that remove them

Privileges: without root (or without the ability to create a netns) the run SKIPs with exit
code 77, unless CI=true, where it fails.
"""

import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import agentlib  # noqa: E402  (tests/support/agentlib.py)
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import in_ns  # noqa: E402

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test
BASELINE_OBJ = ""  # set by main(): an XDP object with baseline_pass (XDP_PASS), the "user's program"

H = testlib.Harness("lost", "tslost-", run_timeout=30)

EXIT_OK, EXIT_ATTACH, EXIT_LOST = 0, 5, 13  # docs/exit-codes.md
INTERVAL = 0.2  # -i of every run here
LOST_WITHIN = 2 * INTERVAL + 0.6  # from the fault to the exit: two intervals, and the summary
METRICS = "127.0.0.1:9481"  # the agent's, on the receiving namespace's own loopback
FILTER_DEL = "tc filter del dev {} {} handle 0x7a5 prio 1957 bpf"


def lost_lines(err):
    return [x for x in err.splitlines() if x.startswith("trafstat: lost the attachment")]


def links_held(pid):
    """The ids of the BPF links process `pid` holds, from its fdinfo (`link_id:`)."""
    ids = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:bpf_link":
            continue
        with open(f"/proc/{pid}/fdinfo/{fd}") as f:
            ids += [line.split()[1] for line in f if line.startswith("link_id:")]
    return ids


class LostCase(unittest.TestCase):
    """Base: a fresh topology per test (most of them destroy it), torn down whatever happens."""

    PAIRS = 1

    def setUp(self):
        self.topo = testlib.Topology(H, subnet="10.91", pairs=self.PAIRS, link_sysctl=True, up_each=True)
        self.addCleanup(self.topo.destroy)
        self.topo.create()
        self.pair = self.topo.pairs[0]

    def live(self, *args):
        t = testlib.LiveTrafstat(
            H.spawn, TRAFSTAT, self.pair.rcv_ns, "--json", "-i", str(INTERVAL), *args, self.pair.rcv_if
        )
        t.start()
        self.addCleanup(testlib.interrupt, t.proc)
        return t

    def ping(self, n, pair=None, size=56):
        p = pair or self.pair
        H.run(in_ns(p.snd_ns, "ping", "-c", str(n), "-i", "0.01", "-s", str(size), "-q", "-W", "1", p.rcv_ip))

    def kernel(self, pair=None, direction="rx", native=False):
        """The receiving end's own counters: (packets, frame bytes as trafstat counts them)."""
        p = pair or self.pair
        out = H.run(["ip", "-n", p.rcv_ns, "-s", "-j", "link", "show", "dev", p.rcv_if]).stdout
        s = json.loads(out)[0]["stats64"][direction]
        # A veth counts the frames its native XDP program passed without their Ethernet header.
        return s["packets"], s["bytes"] + (testlib.ETH_HLEN * s["packets"] if native else 0)

    def traffic_counted(self, native=False, size=56):
        """Pings 5 times, lets them land; what the kernel counted on vb0 meanwhile (rx, tx deltas).
        native: trafstat counts with native XDP there."""
        rx0, tx0 = self.kernel(native=native), self.kernel(direction="tx")
        self.ping(5, size=size)
        time.sleep(0.2)
        rx1, tx1 = self.kernel(native=native), self.kernel(direction="tx")
        return {"rx": (rx1[0] - rx0[0], rx1[1] - rx0[1]), "tx": (tx1[0] - tx0[0], tx1[1] - tx0[1])}

    def assertLost(self, t, fault, reason, hooks, within=LOST_WITHIN):
        """Runs `fault`, then: exit 13 within `within` s, one stderr line per hook naming `reason`,
        the JSON `lost` lines before the summary. The finished Result."""
        start = time.monotonic()
        fault()
        r = t.wait(timeout=10)
        took = time.monotonic() - start
        self.assertEqual(r.rc, EXIT_LOST, r.stderr)
        self.assertLess(took, within, r.stderr)
        lines = lost_lines(r.stderr)
        self.assertEqual(len(lines), len(hooks), r.stderr)
        for line, (hook, mode) in zip(lines, hooks):
            self.assertEqual(line, f"trafstat: lost the attachment on {self.pair.rcv_if} ({hook}, {mode}): {reason}")
        out = r.lines
        types = [x["type"] for x in out]
        self.assertEqual(types[-1 - len(hooks) :], ["lost"] * len(hooks) + ["summary"], types)
        self.assertTrue(set(types[: -1 - len(hooks)]) <= {"interval"}, types)
        for event, (hook, mode) in zip(out[-1 - len(hooks) : -1], hooks):
            self.assertEqual(
                {k: event[k] for k in ("name", "hook", "mode", "reason")},
                {"name": self.pair.rcv_if, "hook": hook, "mode": mode, "reason": reason},
            )
        return r

    def assertCounted(self, entry, packets_bytes):
        got = entry["classes"]["all"]
        self.assertEqual((got["packets"], got["bytes"]), packets_bytes, entry["classes"])

    def summary_entries(self, r):
        return {x["hook"]: x for x in r.summary["interfaces"]}


class TestLiveLoss(LostCase):
    def deleted(self, args, hooks):
        t = self.live(*args)
        kernel = self.traffic_counted("native" in args)
        r = self.assertLost(
            t,
            lambda: H.run(["ip", "-n", self.pair.rcv_ns, "link", "del", self.pair.rcv_if]),
            "the interface was deleted",
            hooks,
        )
        entries = self.summary_entries(r)
        for hook, _ in hooks:
            self.assertCounted(entries[hook], kernel["tx" if hook == "tc-egress" else "rx"])
        self.assertGreaterEqual(kernel["rx"][0], 5)

    def test_interface_deleted_xdp_native(self):
        self.deleted(["--xdp-mode", "native"], [("xdp", "native")])

    def test_interface_deleted_xdp_generic(self):
        self.deleted(["--xdp-mode", "generic"], [("xdp", "generic")])

    def test_interface_deleted_tcx(self):
        self.deleted(["--hook", "tc-ingress", "--tc-mode", "tcx"], [("tc-ingress", "tcx")])

    def test_interface_deleted_clsact(self):
        self.deleted(["--hook", "tc", "--tc-mode", "clsact"], [("tc-ingress", "clsact"), ("tc-egress", "clsact")])

    def test_clsact_filter_removed(self):
        t = self.live("--hook", "tc-ingress", "--tc-mode", "clsact")
        kernel = self.traffic_counted()
        command = FILTER_DEL.format(self.pair.rcv_if, "ingress").split()
        r = self.assertLost(
            t,
            lambda: H.run(in_ns(self.pair.rcv_ns, *command)),
            "its clsact filter was removed by someone else",
            [("tc-ingress", "clsact")],
        )
        self.assertCounted(self.summary_entries(r)["tc-ingress"], kernel["rx"])

    def test_clsact_filter_replaced(self):
        # Someone else's filter in its place (trafstat's own program, loaded by tc): a loss, and
        # their filter stays when trafstat exits.
        t = self.live("--hook", "tc-ingress", "--tc-mode", "clsact")
        kernel = self.traffic_counted()
        counter_obj = os.path.join(os.path.dirname(TRAFSTAT), "bpf", "counter.bpf.o")
        replace = ["tc", "filter", "replace", "dev", self.pair.rcv_if, "ingress", "handle", "0x7a5", "prio", "1957"]
        H.run(in_ns(self.pair.rcv_ns, *replace, "bpf", "da", "obj", counter_obj, "sec", "tc"))
        theirs = re.search(r" id (\d+) ", self.filters()).group(1)
        r = self.assertLost(
            t,
            lambda: None,
            f"its clsact filter was replaced by someone else (now program {theirs})",
            [("tc-ingress", "clsact")],
        )
        self.assertCounted(self.summary_entries(r)["tc-ingress"], kernel["rx"])
        self.assertIn(f" id {theirs} ", self.filters(), "their filter was removed")

    def filters(self):
        return H.run(in_ns(self.pair.rcv_ns, "tc", "filter", "show", "dev", self.pair.rcv_if, "ingress")).stdout

    def test_link_detached_by_someone_else(self):
        t = self.live("--hook", "tc-ingress", "--tc-mode", "tcx")
        kernel = self.traffic_counted()
        ids = links_held(t.proc.pid)
        self.assertEqual(len(ids), 1, ids)
        r = self.assertLost(
            t,
            lambda: H.run(["bpftool", "link", "detach", "id", ids[0]]),
            "its link was detached by someone else",
            [("tc-ingress", "tcx")],
        )
        self.assertCounted(self.summary_entries(r)["tc-ingress"], kernel["rx"])

    def test_peer_namespace_deleted(self):
        # The veth pair dies with the sender's namespace: the watched vb0 is deleted.
        t = self.live("--xdp-mode", "native")
        kernel = self.traffic_counted(native=True)
        # The kernel destroys a deleted namespace's devices later, in a work queue: give it time.
        r = self.assertLost(
            t,
            lambda: H.delete_namespace(self.pair.snd_ns),
            "the interface was deleted",
            [("xdp", "native")],
            within=LOST_WITHIN + 2,
        )
        self.assertCounted(self.summary_entries(r)["xdp"], kernel["rx"])


class TestForce(LostCase):
    """--force holds trafstat's program by a link too: the watch reads the link, and on a loss the
    user's program goes back."""

    def forced(self):
        H.run(
            ["ip", "-n", self.pair.rcv_ns, "link", "set", "dev", self.pair.rcv_if, "xdpdrv", "obj", BASELINE_OBJ]
            + ["program", "baseline_pass"]
        )
        return self.live("--force", "--xdp-mode", "native")

    def users_program(self):
        link = json.loads(H.run(["ip", "-n", self.pair.rcv_ns, "-j", "link", "show", self.pair.rcv_if]).stdout)[0]
        return link.get("xdp", {}).get("prog", {}).get("name")

    def test_link_detached_by_someone_else(self):
        t = self.forced()
        kernel = self.traffic_counted(native=True)
        off = ["ip", "-n", self.pair.rcv_ns, "link", "set", "dev", self.pair.rcv_if, "xdpdrv", "off"]
        self.assertNotEqual(H.run(off, check=False).returncode, 0, "netlink removed a program held by a link")
        ids = links_held(t.proc.pid)
        self.assertEqual(len(ids), 1, ids)
        r = self.assertLost(
            t,
            lambda: H.run(["bpftool", "link", "detach", "id", ids[0]]),
            "its link was detached by someone else",
            [("xdp", "native")],
        )
        self.assertCounted(self.summary_entries(r)["xdp"], kernel["rx"])
        self.assertEqual(self.users_program(), "baseline_pass", "the user's program was not put back")

    def test_interface_deleted(self):
        t = self.forced()
        kernel = self.traffic_counted(native=True)
        r = self.assertLost(
            t,
            lambda: H.run(["ip", "-n", self.pair.rcv_ns, "link", "del", self.pair.rcv_if]),
            "the interface was deleted",
            [("xdp", "native")],
        )
        self.assertCounted(self.summary_entries(r)["xdp"], kernel["rx"])


class TestNotALoss(LostCase):
    def test_link_down_and_up_keeps_counting(self):
        for args in (["--xdp-mode", "native"], ["--hook", "tc-ingress", "--tc-mode", "clsact"]):
            with self.subTest(args=args):
                t = self.live(*args)
                before = self.traffic_counted("native" in args)["rx"]
                H.run(["ip", "-n", self.pair.rcv_ns, "link", "set", self.pair.rcv_if, "down"])
                time.sleep(2 * INTERVAL)
                H.run(["ip", "-n", self.pair.rcv_ns, "link", "set", self.pair.rcv_if, "up"])
                time.sleep(0.3)  # the carrier comes back
                after = self.traffic_counted("native" in args)["rx"]
                r = t.stop()
                self.assertEqual(r.rc, EXIT_OK, r.stderr)
                self.assertEqual(lost_lines(r.stderr), [])
                self.assertNotIn("lost", [x["type"] for x in r.lines])
                entry = r.summary["interfaces"][0]
                self.assertCounted(entry, (before[0] + after[0], before[1] + after[1]))
                self.assertGreaterEqual(after[0], 5)

    def raise_mtu(self):
        for ns, ifname in ((self.pair.rcv_ns, self.pair.rcv_if), (self.pair.snd_ns, self.pair.snd_if)):
            H.run(["ip", "-n", ns, "link", "set", ifname, "mtu", "9000"])

    def test_mtu_raised_under_native_xdp_is_a_loss(self):
        # The kernel takes the change (the program is xdp.frags), but the program counts a
        # frame's first buffer only: trafstat stops rather than count frames short.
        t = self.live("--xdp-mode", "native")
        kernel = self.traffic_counted(native=True)
        r = self.assertLost(
            t,
            self.raise_mtu,
            "its MTU rose to 9000, above the 3506 up to which this native XDP program counts whole frames "
            "(larger frames span buffers): start trafstat again to count them whole",
            [("xdp", "native")],
        )
        self.assertCounted(self.summary_entries(r)["xdp"], kernel["rx"])

    def test_mtu_raised_under_tcx_keeps_counting(self):
        t = self.live("--hook", "tc-ingress", "--tc-mode", "tcx")
        small = self.traffic_counted()["rx"]
        self.raise_mtu()
        large = self.traffic_counted(size=8000)["rx"]
        r = t.stop()
        self.assertEqual(r.rc, EXIT_OK, r.stderr)
        self.assertEqual(lost_lines(r.stderr), [])
        self.assertGreater(large[1], 5 * 8000)  # whole jumbo frames arrived
        self.assertCounted(r.summary["interfaces"][0], (small[0] + large[0], small[1] + large[1]))


class TestAgent(LostCase):
    PAIRS = 2

    def setUp(self):
        super().setUp()
        self.bpffs = agentlib.PrivateBpffs(H)
        self.addCleanup(self.bpffs.close)

    def status(self):
        p = H.run(in_ns(self.pair.rcv_ns, TRAFSTAT, "status", "--json", "--pin-dir", self.bpffs.pin_dir))
        return {a["ifname"]: a for a in json.loads(p.stdout)["attachments"]}

    def test_one_interface_deleted(self):
        gone, kept = self.topo.pairs
        agent = agentlib.Agent(
            H,
            TRAFSTAT,
            gone.rcv_ns,
            self.bpffs.pin_dir,
            "-i",
            str(INTERVAL),
            "--metrics",
            METRICS,
            gone.rcv_if,
            kept.rcv_if,
        )
        with agent:
            url = agent.metrics_url()
            rx0 = self.kernel(kept)
            self.ping(5, pair=gone)
            H.run(["ip", "-n", gone.rcv_ns, "link", "del", gone.rcv_if])
            time.sleep(2 * INTERVAL + 0.2)
            self.ping(5, pair=kept)
            time.sleep(2 * INTERVAL + 0.2)
            rx1 = self.kernel(kept)
            samples = agentlib.parse_metrics(agentlib.scrape(gone.rcv_ns, url))
            status = json.loads(agentlib.scrape(gone.rcv_ns, url.replace("/metrics", "/status")))
            healthz = agentlib.scrape(gone.rcv_ns, url.replace("/metrics", "/healthz"))
            self.assertIsNone(agent.proc.poll(), "the agent exited")
            rc, err = agent.stop()
        self.assertEqual(rc, EXIT_OK, err)
        self.assertEqual(
            lost_lines(err),
            [
                f"trafstat: lost the attachment on {gone.rcv_if} (xdp, native): the interface was deleted; it is "
                "marked stale, the agent serves the others"
            ],
        )
        self.assertTrue(healthz)
        self.assertEqual(agentlib.metric_sum(samples, "trafstat_attachment_up", device=gone.rcv_if), 0)
        self.assertEqual(agentlib.metric_sum(samples, "trafstat_attachment_up", device=kept.rcv_if), 1)
        served = {a["ifname"]: a for a in status["attachments"]}
        self.assertEqual(served[gone.rcv_if]["state"], "stale")
        self.assertEqual(served[gone.rcv_if]["stale"], "the interface was deleted")
        self.assertEqual(served[kept.rcv_if]["state"], "counting")
        counted = agentlib.metric_sum(samples, "trafstat_packets_total", device=kept.rcv_if)
        self.assertEqual(counted, rx1[0] - rx0[0])
        self.assertGreaterEqual(counted, 5)
        # Without an agent, `trafstat status` says it too.
        after = self.status()
        self.assertEqual(after[gone.rcv_if]["state"], "stale")
        self.assertEqual(after[gone.rcv_if]["stale"], "the interface was deleted")
        self.assertEqual(after[kept.rcv_if]["state"], "counting")
        H.run(in_ns(kept.rcv_ns, TRAFSTAT, "detach", "--pin-dir", self.bpffs.pin_dir), check=False)


class TestLeftovers(LostCase):
    ARGS = ("-c", "1", "--hook", "tc", "--tc-mode", "clsact")

    def second(self):
        p = H.run(in_ns(self.pair.rcv_ns, TRAFSTAT, *self.ARGS, self.pair.rcv_if), check=False)
        self.assertEqual(p.returncode, EXIT_ATTACH, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        return p.stderr

    def test_live_owner_named_then_killed_owner(self):
        t = self.live("--hook", "tc", "--tc-mode", "clsact")
        err = self.second()
        self.assertEqual(err.count(f"held by a running trafstat, pid {t.proc.pid} (trafstat): stop it first"), 2, err)
        self.assertNotIn("killed", err)
        t.proc.kill()
        t.proc.wait(timeout=10)
        err = self.second()
        self.assertEqual(err.count("left by a killed trafstat"), 2, err)
        for direction in ("ingress", "egress"):
            self.assertIn(f"on {direction} (program ", err)
            command = FILTER_DEL.format(self.pair.rcv_if, direction)
            self.assertIn(f"`{command}`", err)
            H.run(in_ns(self.pair.rcv_ns, *command.split()))
        # Removed as told: a run attaches again.
        p = H.run(in_ns(self.pair.rcv_ns, TRAFSTAT, *self.ARGS, self.pair.rcv_if), check=False)
        self.assertEqual(p.returncode, EXIT_OK, p.stderr)


TOOLS = ("ip", "ethtool", "ping", "sysctl", "tc", "unshare", "mount", "bpftool")


def main():
    agentlib.reexec_in_private_mount_namespace()

    def files(args):
        global BASELINE_OBJ
        BASELINE_OBJ = testlib.baseline_obj(args)
        return (BASELINE_OBJ,)

    return H.main(
        __doc__,
        __name__,
        suite="loss tests",
        not_root="the loss tests create network namespaces, mount a bpffs and attach BPF programs",
        tools=TOOLS,
        files=files,
        arguments=testlib.add_baseline_obj_argument,
        ready=agentlib.private_mount_namespace_missing,
    )


if __name__ == "__main__":
    sys.exit(main())
