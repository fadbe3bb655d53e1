#!/usr/bin/python3
"""Pinned attachments and the agent end to end: attach, status, dump, detach, control, agent, bpftool.

Run as root:  /usr/bin/python3 tests/e2e/run_agent.py --trafstat build/trafstat [-v] [-k PATTERN]
It starts itself again under `unshare -m --propagation private`: a mount namespace of its own, where
its bpffs and every pin in it vanish with the run, whatever happens to it.

Every test class builds its own world with tests/support/testlib.py: two network namespaces named
after this process (tsagent-<pid>-<n>-snd / -rcv) joined by one veth pair va0 (snd) <-> vb0 (rcv),
static MACs and neighbours, IPv6 off, offloads off, one queue per CPU on both ends (gen's frames
land exactly, docs/gen.md). Pins live in a private BPF filesystem mounted on a temp dir
(agentlib.PrivateBpffs): `--pin-dir <bpffs>/trafstat` everywhere; each test starts and ends with it
empty.

  TestAttach        attach, N frames, no process: dump total == N, reconciled; status shows the
                    attachment; detach leaves no pin and no XDP program; --hook tc: two TCX links
  TestBpftool       the bpftool commands of docs/agent.md ("Reading the pins with bpftool") on the
                    pins: named fields of control and key_totals, the link
  TestControl       --flows off and on again at run time: counted == A + C, paused == B
  TestRestarts      gen sends for ~15 s while the agent is SIGKILLed 5 times and restarted (once
                    from another binary file): no /metrics counter ever decreases, and the final
                    dump holds exactly what gen sent
  TestAgentAdopts   the agent adopts the same options, refuses others (5), --replace re-attaches,
                    --detach-on-exit leaves nothing, a plain SIGTERM leaves it counting
  TestBadInput      each a one-line error and its exit code (docs/exit-codes.md)
  TestForeground    a SIGKILLed foreground trafstat leaves nothing attached, nothing pinned

Safety: trafstat attaches only to the veths created here, inside namespaces created here; all of
it is removed on every exit path (class cleanups, atexit, SIGINT/SIGTERM/SIGHUP handlers, a sweep
of a SIGKILLed earlier run's leftovers), and the pins vanish with the private mount namespace.

Privileges: without root (or without the ability to create a netns) the run SKIPs with exit code 77,
unless CI=true, where it fails. A kernel without live frames (gen exits 8) is treated the same way.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import agentlib  # noqa: E402  (tests/support/agentlib.py)
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import compact, in_ns  # noqa: E402

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test

H = testlib.Harness("agent", "tsagent-", run_timeout=60)
run, spawn = H.run, H.spawn

EXIT_USAGE, EXIT_ATTACH, EXIT_UNSUPPORTED = 2, 5, 8
EXIT_ADDRESS, EXIT_PIN_DIR, EXIT_NOT_ATTACHED = 9, 10, 11
METRICS = "127.0.0.1:9469"  # in the receiving namespace, on its own loopback
PING_FRAME = 98  # ping's default: 56 bytes of data + ICMP 8 + IPv4 20 + Ethernet 14
TABLE_PARTS = ("counted", "overflow", "paused", "unkeyed")


# ---------------------------------------------------------------------------
# Commands.
# ---------------------------------------------------------------------------


def trafstat(ns, *args, timeout=60):
    """A trafstat command in `ns` to completion: CompletedProcess (not checked)."""
    return run(in_ns(ns, TRAFSTAT, *args), check=False, timeout=timeout)


def gen_json(ns, *args, timeout=60):
    """`trafstat gen --json ...` that must succeed: its summary object."""
    p = trafstat(ns, "gen", "--json", *args, timeout=timeout)
    assert p.returncode == 0, f"trafstat gen exited {p.returncode}: {p.stderr}{p.stdout}"
    (line,) = testlib.json_lines(p.stdout)
    return line


def make_topology():
    return testlib.multiqueue_pair(H, "10.83")


class AgentCase(unittest.TestCase):
    """Base: a fresh topology and a private bpffs per test class; every test leaves the bpffs as
    it found it (empty: its cleanup detaches whatever a failed test left)."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.topo, cls.pair = make_topology()
        cls.addClassCleanup(cls.topo.destroy)
        cls.bpffs = agentlib.PrivateBpffs(H)
        cls.addClassCleanup(cls.bpffs.close)
        cls.pin_dir = cls.bpffs.pin_dir

    def setUp(self):
        self.assert_no_pins("the bpffs is empty before each test")
        self.addCleanup(self.detach_leftovers)

    def assert_no_pins(self, why):
        """Nothing but the pin dir itself (detach keeps it), if even that."""
        self.assertIn(self.bpffs.pins(), ([], ["trafstat"]), why)

    def detach_leftovers(self):
        """A failed test's attachments: detached (on an interface of ours, in namespaces of ours)."""
        if len(self.bpffs.pins()) > 1:
            for ns in (self.pair.rcv_ns, self.pair.snd_ns):
                trafstat(ns, "detach", "--all", "--pin-dir", self.pin_dir)

    # -- commands with --pin-dir ---------------------------------------------------------------

    def ts(self, ns, cmd, *args, timeout=60):
        return trafstat(ns, cmd, "--pin-dir", self.pin_dir, *args, timeout=timeout)

    def ok(self, ns, cmd, *args):
        p = self.ts(ns, cmd, *args)
        self.assertEqual(p.returncode, 0, f"trafstat {cmd} {' '.join(args)}: {p.stderr}{p.stdout}")
        return p

    def status(self, ns):
        """`status --json`: {(ifname, hook): attachment}."""
        s = json.loads(self.ok(ns, "status", "--json").stdout)
        self.assertEqual((s["pin_dir"], s["layout"]), (self.pin_dir, "v1"))
        return {(a["ifname"], a["hook"]): a for a in s["attachments"]}

    def dump(self, ns, *ifaces):
        """`dump --json`: {(name, hook): interface entry}, each reconciled (classes and tables)."""
        p = self.ok(ns, "dump", "--json", *ifaces)
        (summary,) = testlib.json_lines(p.stdout)
        self.assertEqual(summary["type"], "summary")
        entries = {(e["name"], e["hook"]): e for e in summary["interfaces"]}
        for e in entries.values():
            testlib.assert_reconciles(self, e, per_l4=True)
            for name in e.get("tables", {}):
                self.assert_table_reconciles(e, name)
        return entries

    def assert_table_reconciles(self, entry, name):
        """docs/json.md: counted + overflow + paused + unkeyed = ipv4 + ipv6, packets and bytes."""
        t = entry["tables"][name]
        for k in ("packets", "bytes"):
            ip = entry["classes"]["ipv4"][k] + entry["classes"]["ipv6"][k]
            self.assertEqual(sum(t[part][k] for part in TABLE_PARTS), ip, f"table {name} {k}: {t}")

    def assert_one_line_error(self, p, code, *parts):
        """Exit `code`; one error line naming `parts`, maybe followed by indented hint lines (main.cpp)."""
        self.assertEqual(p.returncode, code, p.stderr)
        first, *hints = p.stderr.rstrip("\n").split("\n")
        self.assertTrue(first.startswith("trafstat: "), p.stderr)
        self.assertTrue(all(h.startswith("  ") for h in hints), f"one error line, then hints:\n{p.stderr}")
        for part in parts:
            self.assertIn(part, first)

    # -- the interface -------------------------------------------------------------------------

    def xdp_on(self, ns, ifname):
        """The XDP program `ip link` shows on the interface, or None."""
        (link,) = json.loads(run(["ip", "-n", ns, "-j", "link", "show", "dev", ifname]).stdout)
        return link.get("xdp")

    @staticmethod
    def link_ids():
        """The ids of every BPF link of the host (bpftool 7.1 shows no TCX link in `net show`)."""
        return {link["id"] for link in json.loads(run(["bpftool", "-j", "link", "show"]).stdout)}

    def assert_nothing_left(self, ns, ifname, attached):
        """No pin, no XDP program on the interface, none of the links of `attached` (status
        entries) alive."""
        self.assert_no_pins("no pin is left")
        self.assertIsNone(self.xdp_on(ns, ifname), "no XDP program is left")
        self.assertFalse({a["link_id"] for a in attached} & self.link_ids(), "no link is left")

    # -- traffic -------------------------------------------------------------------------------

    def send(self, n, *args):
        """n frames from va0 to vb0's XDP (64-byte UDP, one flow); gen's summary."""
        s = gen_json(self.pair.snd_ns, "-n", str(n), *args, self.pair.snd_if)
        self.assertEqual(s["packets"], n)
        time.sleep(0.3)  # let the last frames land in vb0's NAPI
        return s

    def agent(self, *args, binary=None):
        """An agentlib.Agent on vb0's namespace (not started)."""
        return agentlib.Agent(H, binary or TRAFSTAT, self.pair.rcv_ns, self.pin_dir, *args)


# ---------------------------------------------------------------------------
# Tests.
# ---------------------------------------------------------------------------


class TestAttach(AgentCase):
    N = 20000

    def test_xdp_counts_with_no_process(self):
        p = self.pair
        self.ok(p.rcv_ns, "attach", "--xdp-mode", "native", "--flows", p.rcv_if)
        self.assertIsNotNone(self.xdp_on(p.rcv_ns, p.rcv_if), "the pinned link holds the program")
        self.send(self.N)

        (a,) = self.status(p.rcv_ns).values()
        self.assertEqual((a["ifname"], a["hook"], a["mode"], a["state"]), (p.rcv_if, "xdp", "native", "counting"))
        self.assertEqual(a["dir"], f"{self.pin_dir}/v1/{p.rcv_if}/xdp")
        self.assertEqual(a["agent"], {"pid": 0, "serving": False})
        self.assertGreater(a["program_id"], 0)
        self.assertGreater(a["link_id"], 0)
        self.assertEqual(self.xdp_on(p.rcv_ns, p.rcv_if)["prog"]["id"], a["program_id"])
        self.assertEqual(list(a["tables"]), ["flows"])
        self.assertEqual(a["tables"]["flows"]["capacity"], testlib.table_capacity(65536))
        self.assertTrue(a["tables"]["flows"]["active"])
        self.assertEqual(a["total"], {"packets": self.N, "bytes": self.N * 64})

        entries = self.dump(p.rcv_ns)
        entry = entries[(p.rcv_if, "xdp")]
        self.assertEqual(
            compact(entry["classes"], ["all", "ipv4", "udp"]),
            {c: (self.N, self.N * 64) for c in ("all", "ipv4", "udp")},
        )
        self.assertEqual(entry["tables"]["flows"]["counted"], {"packets": self.N, "bytes": self.N * 64})
        self.assertEqual(entry["tables"]["flows"]["entries"], 1)
        self.assertEqual(entry["mode"], "native")

        self.ok(p.rcv_ns, "detach", p.rcv_if)
        self.assert_nothing_left(p.rcv_ns, p.rcv_if, [a])

    def test_tc_both_directions(self):
        p, n = self.pair, 50
        self.ok(p.snd_ns, "attach", "--hook", "tc", p.snd_if)
        attached = self.status(p.snd_ns)
        self.assertEqual(sorted(attached), [(p.snd_if, "tc-egress"), (p.snd_if, "tc-ingress")])
        for a in attached.values():
            self.assertEqual((a["mode"], a["state"], a["agent"]["serving"]), ("tcx", "counting", False))
            self.assertGreater(a["link_id"], 0)
        self.assertEqual(len({a["link_id"] for a in attached.values()} & self.link_ids()), 2, "two TCX links")
        self.assertEqual(sorted(os.listdir(os.path.join(self.pin_dir, "v1", p.snd_if))), ["tc-egress", "tc-ingress"])
        # n echo requests out of va0, n replies into it: nothing else (static neighbours, no IPv6)
        run(in_ns(p.snd_ns, "ping", "-q", "-c", str(n), "-i", "0.01", "-W", "2", p.rcv_ip))
        time.sleep(0.2)
        entries = self.dump(p.snd_ns, p.snd_if)
        for hook in ("tc-ingress", "tc-egress"):
            self.assertEqual(
                compact(entries[(p.snd_if, hook)]["classes"], ["all", "ipv4", "icmp"]),
                {c: (n, n * PING_FRAME) for c in ("all", "ipv4", "icmp")},
                hook,
            )
        self.ok(p.snd_ns, "detach", p.snd_if)
        self.assert_nothing_left(p.snd_ns, p.snd_if, attached.values())


class TestBpftool(AgentCase):
    """The commands of docs/agent.md, "Reading the pins with bpftool"."""

    N = 1000

    def bpftool(self, *args):
        out = run(["bpftool", "-j", *args]).stdout
        return json.loads(out)

    def test_pins_read_with_bpftool(self):
        p = self.pair
        self.ok(p.rcv_ns, "attach", "--flows", p.rcv_if)
        self.addCleanup(self.ts, p.rcv_ns, "detach", p.rcv_if)
        self.send(self.N, "--threads", "1")
        self.dump(p.rcv_ns)  # merges the flows table into key_totals
        (a,) = self.status(p.rcv_ns).values()
        d = a["dir"]

        # As docs/agent.md shows them (text), then as JSON for the checks.
        for what, name in (("map dump", "control"), ("map dump", "key_totals"), ("link show", "link")):
            out = run(["bpftool", *what.split(), "pinned", f"{d}/{name}"]).stdout
            self.assertTrue(out.strip(), f"bpftool {what} pinned {d}/{name} printed nothing")

        (control,) = self.bpftool("map", "dump", "pinned", f"{d}/control")
        c = control["formatted"]["value"][".bss"][0]["control"]
        self.assertEqual((c["ifname"], c["hook"], c["mode"]), (p.rcv_if, "xdp", a["mode"]))
        self.assertEqual((c["layout_version"], c["tables_on"], c["tables_active"]), (1, 4, 4), "flows: bit 2")
        self.assertGreater(c["counting_epoch"], 0)
        self.assertEqual(c["last_merged_epoch"], c["counting_epoch"] - 1, "dump merged the closed epoch")

        totals = [e["formatted"] for e in self.bpftool("map", "dump", "pinned", f"{d}/key_totals")]
        keyed = [t for t in totals if t["key"]["key"]["ip_version"]]
        self.assertEqual(len(keyed), 1, "gen --flows 1: one 5-tuple")
        (flow,) = keyed
        self.assertEqual(flow["key"]["table"], 2)
        self.assertEqual((flow["key"]["key"]["ip_version"], flow["key"]["key"]["proto"]), (4, 17))
        self.assertEqual((flow["value"]["packets"], flow["value"]["bytes"]), (self.N, self.N * 64))
        others = [t for t in totals if not t["key"]["key"]["ip_version"]]
        self.assertTrue(others and all(t["value"]["packets"] == 0 for t in others), "the `other` rows: empty")

        link = self.bpftool("link", "show", "pinned", f"{d}/link")
        self.assertEqual((link["id"], link["prog_id"], link["type"]), (a["link_id"], a["program_id"], "xdp"))


class TestControl(AgentCase):
    A, B, C = 3000, 5000, 7000

    def test_flows_off_then_on(self):
        p = self.pair
        self.ok(p.rcv_ns, "attach", "--flows", p.rcv_if)
        self.addCleanup(self.ts, p.rcv_ns, "detach", p.rcv_if)
        self.send(self.A)
        off = self.ok(p.rcv_ns, "control", p.rcv_if, "--flows", "off")
        self.assertIn("flows off", off.stderr)
        self.assertFalse(self.status(p.rcv_ns)[(p.rcv_if, "xdp")]["tables"]["flows"]["active"])
        self.send(self.B)
        self.ok(p.rcv_ns, "control", p.rcv_if, "--flows", "on")
        self.assertTrue(self.status(p.rcv_ns)[(p.rcv_if, "xdp")]["tables"]["flows"]["active"])
        self.send(self.C)

        entry = self.dump(p.rcv_ns)[(p.rcv_if, "xdp")]
        t = entry["tables"]["flows"]
        self.assertEqual(t["counted"], {"packets": self.A + self.C, "bytes": (self.A + self.C) * 64})
        self.assertEqual(t["paused"], {"packets": self.B, "bytes": self.B * 64})
        self.assertEqual((t["overflow"]["packets"], t["unkeyed"]["packets"]), (0, 0))
        total = self.A + self.B + self.C
        self.assertEqual(compact(entry["classes"], ["all"])["all"], (total, total * 64))


class TestRestarts(AgentCase):
    """Counting never depends on the agent: gen sends at a fixed rate for ~15 s while the agent is
    SIGKILLed at random moments and started again. Its counters come from the kernel (and the
    pinned key_totals) at scrape time, so none may ever decrease, and the final dump holds every
    frame sent."""

    RATE, SECONDS, KILLS, TOP = 20000, 15, 5, "5"
    FLOWS = "50"  # per protocol: 100 flows, more than --metrics-top, so `other` series count too

    def test_sigkills_lose_nothing(self):
        p = self.pair
        seed = random.randrange(1 << 30)
        H.log(f"TestRestarts: random seed {seed}")
        rnd = random.Random(seed)
        # "Another build of the same layout": a copy of the binary under another path. A real
        # rebuild is not needed: what matters is another executable file adopting the same pins.
        other_dir = H.mkdtemp()
        self.addCleanup(shutil.rmtree, other_dir, True)
        other_binary = shutil.copy2(TRAFSTAT, os.path.join(other_dir, "trafstat-rebuilt"))
        options = ("--flows", "-i", "0.2", "--metrics", METRICS, "--metrics-top", self.TOP, p.rcv_if)
        url = f"http://{METRICS}/metrics"

        agent = self.agent(*options).start()
        self.addCleanup(agent.__exit__)
        self.addCleanup(self.ts, p.rcv_ns, "detach", p.rcv_if)
        scraper = agentlib.Scraper(H, p.rcv_ns, url, period=0.1)
        self.addCleanup(scraper.stop)
        n = self.RATE * self.SECONDS
        sender = spawn(
            in_ns(
                p.snd_ns,
                TRAFSTAT,
                "gen",
                "--json",
                "-n",
                str(n),
                "--rate",
                str(self.RATE),
                "--flows",
                self.FLOWS,
                "--proto",
                "udp4,tcp6",
                "-s",
                "100",
                p.snd_if,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.addCleanup(testlib.interrupt, sender)
        binaries = [TRAFSTAT] * self.KILLS
        binaries[rnd.randrange(self.KILLS)] = other_binary
        for binary in binaries:
            time.sleep(rnd.uniform(0.8, 2.0))
            agent.kill()
            time.sleep(rnd.uniform(0, 0.3))
            agent = self.agent(*options, binary=binary).start()
            self.addCleanup(agent.__exit__)
        self.assertIsNone(sender.poll(), "gen still sending after the restarts: they happened under traffic")
        out, err = testlib.collect(sender, self.SECONDS * 3, "gen did not finish")
        self.assertEqual(sender.returncode, 0, err)
        (s,) = testlib.json_lines(out)
        self.assertEqual(s["packets"], n)
        time.sleep(1.0)  # in-flight frames land; the agent drains the last interval (-i 0.2)
        final = agentlib.parse_metrics(agentlib.scrape(p.rcv_ns, url))
        scrapes = scraper.stop()

        ok = [x for x in scrapes if "body" in x]
        H.log(f"TestRestarts: {len(ok)} scrapes answered, {len(scrapes) - len(ok)} not (agent restarting)")
        self.assertGreaterEqual(len(ok), 50, f"scrapes that answered: {len(ok)} of {len(scrapes)}")
        self.assert_never_decreasing([agentlib.parse_metrics(x["body"]) for x in ok] + [final])

        # The last scrape: every frame, and the flows family reconciles (docs/metrics.md).
        self.assertEqual(agentlib.metric_sum(final, "trafstat_packets_total", device=p.rcv_if), n)
        ip = sum(agentlib.metric_sum(final, "trafstat_packets_total", ip=v) for v in ("ipv4", "ipv6"))
        keyed = (
            sum(
                agentlib.metric_sum(final, f"trafstat_{name}_packets_total", table="flows")
                for name in ("table_overflow", "table_paused")
            )
            + agentlib.metric_sum(final, "trafstat_table_unkeyed_packets_total")
            + agentlib.metric_sum(final, "trafstat_flow_packets_total")
        )
        self.assertEqual((ip, keyed), (n, n))
        flow_series = [dict(labels) for name, labels in final if name == "trafstat_flow_packets_total"]
        self.assertEqual(
            len(flow_series), int(self.TOP) + 1, f"--metrics-top {self.TOP} flows and `other`: {flow_series}"
        )

        code, stderr = agent.stop()
        self.assertEqual(code, 0, stderr)
        entry = self.dump(p.rcv_ns)[(p.rcv_if, "xdp")]
        self.assertEqual(compact(entry["classes"], ["all"])["all"], (n, n * 100))
        self.assertEqual(
            compact(entry["classes"], ["ipv4", "ipv6"]),
            {
                "ipv4": (s["protos"]["udp4"]["packets"], s["protos"]["udp4"]["bytes"]),
                "ipv6": (s["protos"]["tcp6"]["packets"], s["protos"]["tcp6"]["bytes"]),
            },
        )
        t = entry["tables"]["flows"]
        self.assertEqual(sum(t[part]["packets"] for part in TABLE_PARTS), n)
        self.assertEqual((t["counted"]["packets"], t["entries"]), (n, 100))

    def assert_never_decreasing(self, samples):
        """Every `_total` series, once seen, is in every later scrape and never smaller."""
        last = {}
        for i, scrape in enumerate(samples):
            for key, before in last.items():
                self.assertIn(key, scrape, f"scrape {i}: series {key} disappeared")
                self.assertGreaterEqual(scrape[key], before, f"scrape {i}: {key} decreased")
            last = {k: v for k, v in scrape.items() if k[0].endswith("_total")}
        self.assertTrue(any(k[0] == "trafstat_flow_packets_total" for k in last), "per-flow series exported")


class TestAgentAdopts(AgentCase):
    N = 4000

    def test_same_options_adopted_others_refused(self):
        p = self.pair
        self.ok(p.rcv_ns, "attach", "--flows", p.rcv_if)
        (before,) = self.status(p.rcv_ns).values()
        with self.agent("--flows", p.rcv_if) as agent:
            (a,) = self.status(p.rcv_ns).values()
            self.assertEqual(a["agent"], {"pid": agent.proc.pid, "serving": True})
            self.assertEqual((a["program_id"], a["link_id"]), (before["program_id"], before["link_id"]), "adopted")

            # other options: refused, naming the difference (the serving agent is not disturbed)
            for args, named in ((("--talkers", "--flows"), "--talkers"), ((), "--flows")):
                q = self.ts(p.rcv_ns, "agent", "--metrics", "127.0.0.1:9470", *args, p.rcv_if)
                self.assert_one_line_error(q, EXIT_ATTACH, named, "--replace")
            code, err = agent.stop()
        self.assertEqual(code, 0, err)

        # --replace: attached anew (another program and link, counts from zero)
        self.send(self.N)
        with self.agent("--talkers", "--replace", p.rcv_if) as agent:
            self.assertIn("--replace", agent.stderr_head)
            (a,) = self.status(p.rcv_ns).values()
            self.assertNotEqual(a["program_id"], before["program_id"])
            self.assertEqual(list(a["tables"]), ["talkers"])
            self.assertEqual(a["total"]["packets"], 0)
            code, err = agent.stop()
        self.assertEqual(code, 0, err)

        # a plain SIGTERM leaves it counting
        self.assertFalse(self.status(p.rcv_ns)[(p.rcv_if, "xdp")]["agent"]["serving"])
        self.send(self.N)
        entry = self.dump(p.rcv_ns)[(p.rcv_if, "xdp")]
        self.assertEqual(compact(entry["classes"], ["all"])["all"], (self.N, self.N * 64))
        self.assertEqual(entry["tables"]["talkers"]["counted"]["packets"], self.N)

        # --detach-on-exit: SIGTERM leaves nothing
        with self.agent("--talkers", "--detach-on-exit", p.rcv_if) as agent:
            attached = self.status(p.rcv_ns).values()
            code, err = agent.stop()
        self.assertEqual(code, 0, err)
        self.assertIn("--detach-on-exit: detached", err)
        self.assert_nothing_left(p.rcv_ns, p.rcv_if, attached)


class TestBadInput(AgentCase):
    def test_pin_dir_not_on_bpffs(self):
        tmp = H.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        p = trafstat(self.pair.rcv_ns, "attach", "--pin-dir", f"{tmp}/trafstat", self.pair.rcv_if)
        self.assert_one_line_error(p, EXIT_PIN_DIR, "not on a BPF filesystem")
        self.assertIsNone(self.xdp_on(self.pair.rcv_ns, self.pair.rcv_if))
        for cmd in ("status", "dump"):
            q = trafstat(self.pair.rcv_ns, cmd, "--pin-dir", tmp)
            self.assert_one_line_error(q, EXIT_PIN_DIR, "not on a BPF filesystem")

    def test_layout_mismatch(self):
        p = self.pair
        os.makedirs(self.pin_dir, exist_ok=True)
        os.mkdir(os.path.join(self.pin_dir, "v2"))
        self.addCleanup(os.rmdir, os.path.join(self.pin_dir, "v2"))
        for args in (("status",), ("dump",), ("attach", p.rcv_if), ("agent", p.rcv_if)):
            q = self.ts(p.rcv_ns, *args)
            self.assert_one_line_error(q, EXIT_PIN_DIR, "v2", "trafstat detach")
        self.assertIsNone(self.xdp_on(p.rcv_ns, p.rcv_if))

    def test_attach_over_an_attachment(self):
        p = self.pair
        self.ok(p.rcv_ns, "attach", p.rcv_if)
        self.addCleanup(self.ts, p.rcv_ns, "detach", p.rcv_if)
        q = self.ts(p.rcv_ns, "attach", "--flows", p.rcv_if)
        self.assert_one_line_error(q, EXIT_ATTACH, "attached already", "trafstat detach")

    def test_metrics_port_in_use(self):
        p = self.pair
        holder = spawn(
            in_ns(
                p.rcv_ns,
                "python3",
                "-c",
                "import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1', 9469)); s.listen();"
                " print('bound', flush=True); time.sleep(60)",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.addCleanup(testlib.interrupt, holder)
        self.assertEqual(holder.stdout.readline(), b"bound\n")
        q = self.ts(p.rcv_ns, "agent", "--metrics", METRICS, p.rcv_if)
        self.assert_one_line_error(q, EXIT_ADDRESS, METRICS)
        self.assert_no_pins("bound before attaching: nothing attached")
        self.assertIsNone(self.xdp_on(p.rcv_ns, p.rcv_if))

    def test_nothing_attached(self):
        p = self.pair
        self.assert_one_line_error(self.ts(p.rcv_ns, "detach", p.rcv_if), EXIT_NOT_ATTACHED, p.rcv_if)
        self.assert_one_line_error(self.ts(p.rcv_ns, "detach", "--all"), EXIT_NOT_ATTACHED)
        self.assert_one_line_error(self.ts(p.rcv_ns, "dump", p.rcv_if), EXIT_NOT_ATTACHED, p.rcv_if)
        self.assert_one_line_error(self.ts(p.rcv_ns, "control", p.rcv_if, "--flows", "on"), EXIT_NOT_ATTACHED)

    def test_control_of_a_table_not_loaded(self):
        p = self.pair
        self.ok(p.rcv_ns, "attach", "--talkers", p.rcv_if)
        self.addCleanup(self.ts, p.rcv_ns, "detach", p.rcv_if)
        q = self.ts(p.rcv_ns, "control", p.rcv_if, "--flows", "off")
        self.assert_one_line_error(q, EXIT_USAGE, "flows table was not loaded", "switched off", "--flows")

    def test_offload_on_veth(self):
        p = self.pair
        q = self.ts(p.rcv_ns, "attach", "--xdp-mode", "offload", p.rcv_if)
        self.assert_one_line_error(q, EXIT_ATTACH, "offload")
        self.assertIsNone(self.xdp_on(p.rcv_ns, p.rcv_if))
        self.assert_no_pins("nothing attached")


class TestForeground(AgentCase):
    def test_sigkill_leaves_nothing(self):
        p = self.pair
        live = testlib.LiveTrafstat(spawn, TRAFSTAT, p.rcv_ns, "--flows", p.rcv_if).start()
        self.assertIsNotNone(self.xdp_on(p.rcv_ns, p.rcv_if))
        live.proc.kill()
        live.proc.wait(timeout=10)
        time.sleep(0.2)  # the kernel releases the link with the last fd
        self.assert_nothing_left(p.rcv_ns, p.rcv_if, [])


# ---------------------------------------------------------------------------
# Entry point: privilege policy, tool checks, live-frames probe, signal-safe run.
# ---------------------------------------------------------------------------

TOOLS = ("ip", "ethtool", "sysctl", "ping", "bpftool", "mount", "umount")


def live_frames_missing():
    """None when gen can send here, else why not (the kernel refuses live frames: gen exits 8)."""
    topo, pair = make_topology()
    try:
        p = trafstat(pair.snd_ns, "gen", "-n", "1", pair.snd_if)
    finally:
        topo.destroy()
    if p.returncode == EXIT_UNSUPPORTED:
        return f"this kernel cannot send live frames: {p.stderr.strip()}"
    return None


def main():
    agentlib.reexec_in_private_mount_namespace()

    return H.main(
        __doc__,
        __name__,
        suite="agent tests",
        not_root="the agent tests create network namespaces, mount a bpffs and attach BPF",
        tools=TOOLS,
        ready=lambda: agentlib.private_mount_namespace_missing() or live_frames_missing(),
    )


if __name__ == "__main__":
    sys.exit(main())
