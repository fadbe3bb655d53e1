#!/usr/bin/python3
"""`trafstat --tui` end to end, run as a person runs it: in a terminal (tmux), typed at a shell prompt.

Run as root:  /usr/bin/python3 tests/e2e/run_tui.py --trafstat build/trafstat [-v] [-k PATTERN]

Each test class builds its own world with tests/support/testlib.py: two network namespaces named after
this process (tstui-<pid>-<n>-snd / -rcv) joined by one veth pair va0 (snd) <-> vb0 (rcv), IPv6 off,
static neighbours, as many queues on both ends as there are CPUs (as tests/e2e/run_gen.py does). The
terminal is a detached tmux session on a private server socket (tmux -L tstui-<pid>, no config file),
120x40, TERM=xterm-256color, LANG=C.UTF-8, running `bash --norc`; commands are typed into it with
send-keys and the screen is read with capture-pane. Traffic: `trafstat gen --rate 20k --flows 50
--proto udp4` from va0.

  TestScreen     what the screen shows while traffic flows (interface, class rows with non-zero rates,
                 flows from 198.18.0.x, table occupancy, a sparkline); keys t (talkers: 198.19.0.1),
                 s (sort label), space (PAUSED, the screen frozen, then live again), p (a view not
                 enabled: said in the status line), h; resizes to 80x20, 50x10 and back; q: exit 0,
                 the shell's screen back (alternate screen off, cursor visible, keypad off), the
                 summary printed after it, nothing left on vb0
  TestScrollAndSide  scrolling the 50 flows on a 40-line screen (paused, so the rows stand still): Down/Up,
                 j/k, PgDn/PgUp, End/Home as tmux sends them, the "rows F-L of N" heading, every flow seen
                 on some page, the last page kept live; t starts the talkers at their top; d orders them
                 by src (198.19.0.1, which sent nothing, last at 0 pps) and dst (it alone first), in the
                 title and status line; the help lists the keys; --talkers-by dst is the first side
  TestStops      SIGTERM: exit 0 and the terminal restored; the terminal closed under it (the tmux
                 session killed): it stops by itself, exit 0, nothing left on vb0
  TestLost       vb0 deleted under the TUI: the terminal restored, then the one line saying so, the
                 summary, exit 13
  TestFallback   stdout not a terminal: line output and a one-line note; --tui --json: usage (2)

Safety: trafstat attaches only to vb0 in the namespace created here; the namespaces, the tmux server
and every child are removed on every exit path (class cleanups, atexit, SIGINT/SIGTERM/SIGHUP
handlers, and a sweep of a SIGKILLed earlier run's namespaces and tmux server).

Privileges: without root (or without the ability to create a netns) the run SKIPs with exit code 77,
unless CI=true, where it fails. A missing tool (tmux, ethtool, ip) is a failure.
"""

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import in_ns  # noqa: E402

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test

H = testlib.Harness("tui", "tstui-", run_timeout=60)
run, spawn, reap = H.run, H.spawn, H.reap

CPUS = len(os.sched_getaffinity(0))
TOOLS = ("ip", "ethtool", "sysctl", "tmux")
SOCKET = f"tstui-{os.getpid()}"  # our own tmux server: never anybody else's sessions
WIDTH, HEIGHT = 120, 40
PROMPT = "tui$ "
EXIT_MARK = "TRAFSTAT_EXIT="
BARS = "▁▂▃▄▅▆▇█"


def tmux(*args, check=True):
    return run(["tmux", "-L", SOCKET, "-f", "/dev/null", *args], check=check, timeout=20)


def tmux_socket_dir():
    return os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.geteuid()}")


def kill_tmux_server(socket=SOCKET):
    """Ends our tmux server (and with it every session and shell in it), and removes its socket."""
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=20)
    try:
        os.unlink(os.path.join(tmux_socket_dir(), socket))
    except OSError:
        pass


def sweep_stale_tmux_servers():
    """Ends the tmux servers of earlier runs that were SIGKILLed (atexit never ran): recognised by
    their socket name tstui-<pid>, and only when that pid is gone."""
    sockets = tmux_socket_dir()
    if not os.path.isdir(sockets):
        return
    for name in os.listdir(sockets):
        m = re.match(r"^tstui-(\d+)$", name)
        if m and int(m.group(1)) != os.getpid() and not os.path.exists(f"/proc/{m.group(1)}"):
            H.log(f"ending the tmux server {name} of a dead earlier run")
            kill_tmux_server(name)


def make_topology():
    """One veth pair in fresh namespaces, CPUS queues on both ends (as tests/e2e/run_gen.py)."""
    return testlib.multiqueue_pair(H, "10.81")


def xdp_attached(ns, ifname):
    link = json.loads(run(["ip", "-n", ns, "-j", "-d", "link", "show", "dev", ifname]).stdout)[0]
    return "xdp" in link


class Pane:
    """One tmux session (a terminal) running an interactive bash with a known prompt."""

    count = 0

    def __init__(self, width=WIDTH, height=HEIGHT, lang="C.UTF-8"):
        Pane.count += 1
        self.name = f"t{Pane.count}"
        shell = (
            f"env -i PATH={os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')} TERM=xterm-256color "
            f"LANG={lang} HOME=/root PS1='{PROMPT}' bash --norc --noprofile -i"
        )
        tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), shell)
        self.wait_for(lambda s: PROMPT.rstrip() in s, "the shell prompt")

    def screen(self):
        return tmux("capture-pane", "-p", "-t", self.name).stdout

    def history(self):
        """The screen and the lines scrolled off it."""
        return tmux("capture-pane", "-p", "-S", "-", "-t", self.name).stdout

    def flag(self, name):
        return tmux("display-message", "-p", "-t", self.name, f"#{{{name}}}").stdout.strip()

    def type(self, text, enter=True):
        tmux("send-keys", "-t", self.name, "-l", text)
        if enter:
            tmux("send-keys", "-t", self.name, "Enter")

    def key(self, key):
        tmux("send-keys", "-t", self.name, key)

    def resize(self, width, height):
        tmux("resize-window", "-t", self.name, "-x", str(width), "-y", str(height))

    def wait_for(self, pred, what, timeout=20):
        deadline, screen = time.monotonic() + timeout, ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if pred(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; the screen:\n{screen}")

    def kill(self):
        tmux("kill-session", "-t", self.name, check=False)


def title(screen):
    return screen.split("\n")[0]


def row(screen, name):
    """The class row `name` of the top part (two spaces, the name, its numbers), or None."""
    for line in screen.split("\n"):
        if re.match(rf"^  {re.escape(name)}\s+\d", line):
            return line
    return None


def nonzero_rate(line):
    """A class or view row's pps is above zero."""
    m = re.search(r"\s([\d.]+) ([KMG]?)pps\s", line or "")
    return bool(m) and float(m.group(1)) > 0


class TuiCase(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.topo, cls.pair = make_topology()
        cls.addClassCleanup(cls.topo.destroy)

    def setUp(self):
        self.pane = None
        self.gen_proc = None
        self.addCleanup(self.cleanup)

    def cleanup(self):
        if self.gen_proc and self.gen_proc.poll() is None:
            self.gen_proc.kill()
            self.gen_proc.wait(timeout=5)
        if self.pane:
            self.pane.kill()
        # whatever still runs in the receiving namespace is ours: a trafstat that did not stop
        for pid in run(["ip", "netns", "pids", self.pair.rcv_ns], check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass

    def command(self, *extra):
        p = self.pair
        args = " ".join(["--tui", *extra, "--xdp-mode", "native", p.rcv_if])
        return f"ip netns exec {p.rcv_ns} {TRAFSTAT} {args}; echo {EXIT_MARK}$?"

    def start_tui(self, *extra, lang="C.UTF-8"):
        self.pane = Pane(lang=lang)
        self.pane.type(self.command(*extra))
        return self.pane.wait_for(
            lambda s: title(s).startswith("trafstat") and "vb0 xdp/native" in s, "the TUI to show vb0"
        )

    def start_gen(self, seconds=60):
        """gen at 20 000 frames/s in 50 flows, for `seconds` or until the test's cleanup ends it."""
        p = self.pair
        self.gen_proc = spawn(
            in_ns(
                p.snd_ns,
                TRAFSTAT,
                "gen",
                "-t",
                str(seconds),
                "--rate",
                "20k",
                "--flows",
                "50",
                "--proto",
                "udp4",
                p.snd_if,
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def trafstat_pid(self):
        pids = run(["ip", "netns", "pids", self.pair.rcv_ns]).stdout.split()
        self.assertEqual(len(pids), 1, f"expected trafstat alone in {self.pair.rcv_ns}: {pids}")
        return int(pids[0])

    def wait_exit(self):
        screen = self.pane.wait_for(
            lambda s: EXIT_MARK in s and s.rstrip().endswith(PROMPT.rstrip()),
            "trafstat to exit and the prompt to come back",
            timeout=20,
        )
        m = re.search(rf"{EXIT_MARK}(\d+)", screen)
        return int(m.group(1)), screen

    def assert_restored(self, screen):
        """The terminal is the shell's again: no alternate screen, a visible cursor, keypad mode off,
        no TUI title on the screen; nothing left attached to vb0, no trafstat left."""
        self.assertEqual(self.pane.flag("alternate_on"), "0", "still in the alternate screen")
        self.assertEqual(self.pane.flag("cursor_flag"), "1", "the cursor is still hidden")
        self.assertEqual(self.pane.flag("keypad_flag"), "0", "keypad transmit mode still on")
        self.assertNotIn("view: ", screen, "the TUI is still on the screen")
        self.assertFalse(xdp_attached(self.pair.rcv_ns, self.pair.rcv_if), "XDP left on vb0")
        self.assertEqual(run(["ip", "netns", "pids", self.pair.rcv_ns]).stdout.split(), [], "trafstat still runs")


class TestScreen(TuiCase):
    def test_screen_keys_resize_quit(self):
        s = self.start_tui("--flows", "--talkers", "-i", "0.5")
        self.assertEqual(self.pane.flag("alternate_on"), "1", "the TUI draws in the alternate screen")
        self.assertIn("view: flows  sort: bps", title(s))
        self.start_gen()

        # Traffic flows: class rows with rates, flows from gen's sources, the table's occupancy.
        def flowing(scr):
            return (
                nonzero_rate(row(scr, "all"))
                and nonzero_rate(row(scr, "ipv4"))
                and nonzero_rate(row(scr, "udp"))
                and "udp 198.18.0." in scr
            )

        s = self.pane.wait_for(flowing, "non-zero rates and flows from 198.18.0.x")
        self.assertIn("vb0 xdp/native  all ", s)
        self.assertFalse(nonzero_rate(row(s, "tcp")), s)
        m = re.search(r"flows table: (\d+) of (\d+) slots \([\d.]+%\), overflow 0 packets", s)
        self.assertIsNotNone(m, s)
        self.assertEqual(int(m.group(2)), testlib.table_capacities(65536, 65536)[0], s)  # flows and talkers
        # A flow seen on several CPUs holds a slot on each (docs/tables.md); the view merges them.
        s = self.pane.wait_for(lambda scr: "flows: 50 this interval" in scr, "all 50 flows in one interval")
        m = re.search(r"flows table: (\d+) of", s)
        self.assertTrue(m and 50 <= int(m.group(1)) <= 50 * CPUS, s)
        flows = [line for line in s.split("\n") if re.match(r"^  udp 198\.18\.0\.\d+:\d+ > 198\.19\.0\.1:9\s", line)]
        self.assertGreaterEqual(len(flows), 20, s)  # every row that fits
        self.assertTrue(all(nonzero_rate(f) for f in flows), s)
        head = next(line for line in s.split("\n") if line.startswith("vb0 xdp/native"))
        self.assertTrue(any(b in head for b in BARS), f"no sparkline in: {head}")
        self.assertIn("peak", head)
        # gen's frames are 64 bytes: the whole size histogram in its first bucket
        sizes = next(line for line in s.split("\n") if line.startswith("  sizes "))
        self.assertRegex(sizes, r"^  sizes  0-64 \S100% 65-127  0% ", sizes)
        self.assertTrue(all(len(line) <= WIDTH for line in s.split("\n")))

        # t: talkers, 198.19.0.1 (every packet's destination) at the top.
        self.pane.key("t")
        s = self.pane.wait_for(lambda scr: "view: talkers" in title(scr) and "talkers:" in scr, "the talkers view")
        talkers = [line for line in s.split("\n") if re.match(r"^  \d+\.\d+\.\d+\.\d+\s", line)]
        self.assertTrue(talkers and talkers[0].startswith("  198.19.0.1 "), s)
        self.assertTrue(nonzero_rate(talkers[0]), s)

        # s: the sort cycles bps -> pps, in the title and the column heading.
        self.pane.key("s")
        s = self.pane.wait_for(lambda scr: "sort: pps" in title(scr), "sort: pps")
        self.assertIn("[pps]", s)
        self.pane.key("s")
        self.pane.wait_for(lambda scr: "sort: bytes" in title(scr), "sort: bytes")

        # space: paused; the screen stays as it was while intervals pass; space again: live.
        self.pane.key("Space")
        s = self.pane.wait_for(lambda scr: "PAUSED" in title(scr), "PAUSED in the title")
        time.sleep(1.6)  # three intervals
        self.assertEqual(self.pane.screen(), s, "the paused screen changed")
        self.pane.key("Space")
        self.pane.wait_for(lambda scr: "PAUSED" not in title(scr), "live again")

        # p: the ports view is not enabled; said in the status line, the view stays.
        self.pane.key("p")
        s = self.pane.wait_for(lambda scr: "ports view is off" in scr, "the status line about --ports")
        self.assertIn("view: talkers", title(s))
        self.pane.key("h")
        self.pane.wait_for(lambda scr: "space pause/resume" in scr, "the help line")
        self.pane.key("f")
        self.pane.wait_for(lambda scr: "view: flows" in title(scr), "back to flows")

        # Resizes: the layout follows, the header stays, nothing wider than the window.
        for w, h in ((80, 20), (50, 10), (WIDTH, HEIGHT)):
            self.pane.resize(w, h)
            s = self.pane.wait_for(
                lambda scr, w=w, h=h: (
                    len(scr.rstrip("\n").split("\n")) <= h
                    and title(scr).startswith("trafstat")
                    and all(len(line) <= w for line in scr.split("\n"))
                ),
                f"the layout at {w}x{h}",
            )
            self.assertIn("vb0 xdp/native", s)
            self.assertEqual(self.pane.flag("window_width"), str(w))
        s = self.pane.wait_for(lambda scr: "udp 198.18.0." in scr, "the flows back at full size")

        # q: a clean exit; the summary after the screen is gone.
        self.pane.key("q")
        rc, s = self.wait_exit()
        self.assertEqual(rc, 0, s)
        self.assertIn("summary after", s)
        self.assert_restored(s)


def position(screen):
    """The view table's "rows FIRST-LAST of TOTAL" as three ints, or None."""
    m = re.search(r"this interval, by .*  rows (\d+)-(\d+) of (\d+)", screen)
    return tuple(int(g) for g in m.groups()) if m else None


def status(screen):
    return screen.rstrip("\n").split("\n")[-1]


def flow_rows(screen):
    """The flow labels of the view table, top to bottom."""
    return [m.group(1) for m in re.finditer(r"^  (udp 198\.18\.0\.\d+:\d+ > 198\.19\.0\.1:9)\s", screen, re.M)]


def talker_rows(screen):
    """The talker rows of the view table, top to bottom."""
    return [line for line in screen.split("\n") if re.match(r"^  \d+\.\d+\.\d+\.\d+\s", line)]


class TestScrollAndSide(TuiCase):
    def test_scroll_rows_and_talkers_by(self):
        """50 flows, more than the 40-line screen has rows for: the arrows, PgUp/PgDn, Home/End (as tmux
        sends them) and j/k move over all of them, the heading says where; then d orders the talkers by
        what they sent and by what they received."""
        self.start_tui("--flows", "--talkers", "-i", "0.5")
        self.start_gen()
        s = self.pane.wait_for(
            lambda scr: "flows: 50 this interval" in scr and position(scr),
            "all 50 flows in one interval, with the position",
        )
        first, page, total = position(s)
        self.assertEqual((first, total), (1, 50), s)
        self.assertLess(page, 50, "the screen holds every row: nothing to scroll")
        self.assertEqual(len(flow_rows(s)), page, s)
        self.assertIn("j/k scroll", status(s))

        # Paused, the table stands still while we move over it.
        self.pane.key("Space")
        top = flow_rows(self.pane.wait_for(lambda scr: "PAUSED" in title(scr), "PAUSED"))
        self.assertEqual(len(top), page)
        self.pane.key("Down")
        s = self.pane.wait_for(lambda scr: position(scr) == (2, page + 1, 50), f"rows 2-{page + 1} of 50")
        self.assertEqual(flow_rows(s)[0], top[1], s)
        self.pane.key("k")
        self.pane.wait_for(lambda scr: position(scr) == (1, page, 50), "back to the first row (k)")
        self.pane.key("j")
        self.pane.wait_for(lambda scr: position(scr) == (2, page + 1, 50), "one row down (j)")
        self.pane.key("Up")
        self.pane.wait_for(lambda scr: position(scr) == (1, page, 50), "back to the first row (Up)")

        self.pane.key("PageDown")
        want = (page + 1, min(2 * page, 50), 50)
        s = self.pane.wait_for(lambda scr: position(scr) == want, "the next page: rows {}-{} of {}".format(*want))
        second = flow_rows(s)
        self.assertTrue(second and not set(second) & set(top), f"the second page repeats the first:\n{s}")

        self.pane.key("End")
        want = (51 - page, 50, 50)
        s = self.pane.wait_for(lambda scr: position(scr) == want, "the last page: rows {}-{} of {}".format(*want))
        last = flow_rows(s)
        self.assertEqual(len(last), page, s)
        self.assertEqual(len(set(top) | set(second) | set(last)), 50, "not every flow could be seen")
        self.pane.key("Down")  # nothing below the end
        self.pane.key("PageUp")
        want = (max(1, 51 - 2 * page), 50 - page, 50)
        self.pane.wait_for(lambda scr: position(scr) == want, "a page up: rows {}-{} of {}".format(*want))
        self.pane.key("Home")
        s = self.pane.wait_for(lambda scr: position(scr) == (1, page, 50), "Home: the first row")
        self.assertEqual(flow_rows(s), top, "the paused table changed")

        # Live again at the end: new intervals keep the last page.
        self.pane.key("End")
        s = self.pane.wait_for(lambda scr: position(scr) == (51 - page, 50, 50), "the last page")
        self.pane.key("Space")
        stamp = title(s).split()[1]
        self.pane.wait_for(
            lambda scr: "PAUSED" not in title(scr)
            and title(scr).split()[1] != stamp
            and position(scr) == (51 - page, 50, 50),
            "a new interval, still at the last page",
        )

        # Another view starts at its top. Talkers: 50 sources and the one destination.
        self.pane.key("t")
        s = self.pane.wait_for(
            lambda scr: "view: talkers" in title(scr) and (position(scr) or (0,))[0] == 1,
            "the talkers view from its first row",
        )
        self.assertEqual(position(s)[2], 51, s)
        self.assertIn("by: total", title(s))
        self.assertIn("d talkers by total", status(s))
        self.assertIn("(sent + received)", s)
        self.assertTrue(talker_rows(s)[0].startswith("  198.19.0.1 "), s)

        # d: by what they sent. The destination sent nothing: the last row, at 0 pps.
        self.pane.key("d")
        s = self.pane.wait_for(lambda scr: "by: src" in title(scr), "talkers by src")
        self.assertIn("d talkers by src", status(s))
        self.assertIn("(sent: as source)", s)
        s = self.pane.wait_for(
            lambda scr: talker_rows(scr) and talker_rows(scr)[0].startswith("  198.18.0."), "a source first"
        )
        self.assertNotIn("  198.19.0.1 ", "\n".join(talker_rows(s)), s)
        self.pane.key("End")
        s = self.pane.wait_for(lambda scr: position(scr) and position(scr)[1] == 51, "the last talker")
        self.assertTrue(talker_rows(s)[-1].startswith("  198.19.0.1 "), s)
        self.assertFalse(nonzero_rate(talker_rows(s)[-1]), s)
        self.assertTrue(nonzero_rate(talker_rows(s)[0]), s)

        # d: by what they received: the destination first, the sources received nothing.
        self.pane.key("d")
        self.pane.key("Home")
        s = self.pane.wait_for(
            lambda scr: "by: dst" in title(scr)
            and (position(scr) or (0,))[0] == 1
            and talker_rows(scr)[0].startswith("  198.19.0.1 "),
            "talkers by dst",
        )
        self.assertIn("d talkers by dst", status(s))
        self.assertIn("(received: as destination)", s)
        self.assertTrue(nonzero_rate(talker_rows(s)[0]), s)
        self.assertFalse(any(nonzero_rate(r) for r in talker_rows(s)[1:]), s)
        self.pane.key("d")
        self.pane.wait_for(lambda scr: "by: total" in title(scr), "talkers by total again")

        # h: the help has the new keys.
        self.pane.key("h")
        s = self.pane.wait_for(lambda scr: "space pause/resume" in scr, "the help")
        for key in (
            "d talkers by total/src/dst (now total)",
            "Up/Down j/k scroll a row",
            "PgUp/PgDn a page",
            "Home/End g/G first/last row",
        ):
            self.assertIn(key, s)

        self.pane.key("q")
        rc, s = self.wait_exit()
        self.assertEqual(rc, 0, s)
        self.assert_restored(s)

    def test_talkers_by_option_is_the_first_side(self):
        self.start_tui("--talkers", "--talkers-by", "dst", "-i", "0.5")
        s = self.pane.wait_for(lambda scr: "view: talkers" in title(scr), "the talkers view")
        self.assertIn("by: dst", title(s))
        self.assertIn("d talkers by dst", status(s))
        self.pane.key("d")
        s = self.pane.wait_for(lambda scr: "by: total" in title(scr), "d: dst -> total")
        self.assertIn("d talkers by total", status(s))
        self.pane.key("q")
        rc, s = self.wait_exit()
        self.assertEqual(rc, 0, s)
        self.assert_restored(s)


class TestStops(TuiCase):
    def test_sigterm(self):
        """Also: in a locale that is not UTF-8 the sparkline is ASCII."""
        self.start_tui("-i", "0.5", lang="C")
        self.start_gen(20)
        s = self.pane.wait_for(lambda scr: "udp 198.18.0." in scr, "flows (--tui alone turns --flows on)")
        head = next(line for line in s.split("\n") if line.startswith("vb0 xdp/native"))
        self.assertRegex(head, r"  all .*bps  [_.:=+*#-]+  peak ")
        self.assertTrue(s.isascii(), s)
        self.assertTrue(xdp_attached(self.pair.rcv_ns, self.pair.rcv_if))
        os.kill(self.trafstat_pid(), signal.SIGTERM)
        rc, s = self.wait_exit()
        self.assertEqual(rc, 0, s)
        self.assertIn("summary after", s)
        self.assert_restored(s)

    def test_terminal_closed(self):
        """The terminal goes away under it (SIGHUP, and its input hangs up): it stops cleanly by itself.
        The command runs in a wrapper that ignores SIGHUP itself and records trafstat's exit code."""
        status = os.path.join(H.mkdtemp(), "status")
        self.addCleanup(shutil.rmtree, os.path.dirname(status), True)
        self.pane = Pane()
        p = self.pair
        self.pane.type(
            f'bash -c \'trap "" HUP; ip netns exec {p.rcv_ns} {TRAFSTAT} --tui -i 0.5 '
            f"--xdp-mode native {p.rcv_if}; echo $? > {status}'"
        )
        self.pane.wait_for(lambda scr: "vb0 xdp/native" in scr, "the TUI")
        pid = self.trafstat_pid()
        self.pane.kill()
        deadline = time.monotonic() + 15
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(os.path.exists(f"/proc/{pid}"), "trafstat still runs after its terminal closed")
        deadline = time.monotonic() + 5
        while not os.path.exists(status) and time.monotonic() < deadline:
            time.sleep(0.1)
        with open(status) as f:
            self.assertEqual(f.read().strip(), "0")
        self.assertFalse(xdp_attached(p.rcv_ns, p.rcv_if), "XDP left on vb0")


class TestLost(TuiCase):
    def test_interface_deleted(self):
        """vb0 deleted under the TUI: the terminal is the shell's again, then the one line saying
        why, the summary, exit 13 (docs/attaching.md)."""
        self.start_tui("-i", "0.2")
        run(["ip", "-n", self.pair.rcv_ns, "link", "del", self.pair.rcv_if])
        rc, s = self.wait_exit()
        self.assertEqual(rc, 13, s)
        self.assertEqual(self.pane.flag("alternate_on"), "0", "still in the alternate screen")
        self.assertEqual(self.pane.flag("cursor_flag"), "1", "the cursor is still hidden")
        self.assertNotIn("view: ", s, "the TUI is still on the screen")
        lost = "trafstat: lost the attachment on vb0 (xdp, native): the interface was deleted"
        self.assertIn(lost, s)
        self.assertLess(s.index(lost), s.index("summary after"), s)


class TestFallback(TuiCase):
    def test_not_a_terminal_prints_lines(self):
        p = self.pair
        r = run(
            in_ns(p.rcv_ns, TRAFSTAT, "--tui", "-c", "2", "-i", "0.2", "--xdp-mode", "native", p.rcv_if),
            check=False,
            timeout=30,
        )
        self.assertEqual(r.returncode, 0, r.stderr)
        notes = [line for line in r.stderr.splitlines() if "--tui" in line]
        self.assertEqual(
            notes,
            ["trafstat: note: --tui needs a terminal (stdout is not a terminal): " "printing lines instead"],
            r.stderr,
        )
        self.assertIn("class                pps", r.stdout)
        self.assertIn("vb0 xdp/native flows", r.stdout)  # --tui alone turned --flows on
        self.assertIn("summary after", r.stdout)
        self.assertFalse(xdp_attached(p.rcv_ns, p.rcv_if))

    def test_unusable_term_prints_lines(self):
        """A terminal, but TERM names nothing curses knows: lines, and the note says why."""
        self.pane = Pane()
        p = self.pair
        self.pane.type(
            f"TERM=no-such-terminal ip netns exec {p.rcv_ns} {TRAFSTAT} --tui -c 1 -i 0.2 "
            f"--xdp-mode native {p.rcv_if}; echo {EXIT_MARK}$?"
        )
        rc, s = self.wait_exit()
        self.assertEqual(rc, 0, s)
        notes = [line for line in self.pane.history().split("\n") if line.startswith("trafstat: note: --tui")]
        self.assertEqual(
            notes,
            [
                "trafstat: note: --tui needs a terminal (TERM=no-such-terminal is not a terminal "
                "curses knows): printing lines instead"
            ],
        )
        self.assertIn("summary after", s)

    def test_json_is_a_usage_error(self):
        r = run([TRAFSTAT, "--tui", "--json", "vb0"], check=False)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("--tui and --json cannot be combined", r.stderr)


def main():
    atexit.register(kill_tmux_server)
    return H.main(
        __doc__,
        __name__,
        suite="TUI tests",
        not_root="the TUI tests create network namespaces and attach XDP",
        tools=TOOLS,
        prepare=sweep_stale_tmux_servers,
        finish=kill_tmux_server,
    )


if __name__ == "__main__":
    sys.exit(main())
