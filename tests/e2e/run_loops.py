#!/usr/bin/python3
"""trafstat's loops end: the floor of -i, stop signals while busy or reading, write errors.

Run as root:  /usr/bin/python3 tests/e2e/run_loops.py --trafstat build/trafstat [-v] [-k PATTERN]

One pair of network namespaces named after this process (tsloops-<pid>-<n>-snd / -rcv) joined by
a veth pair, as run_e2e.py builds them; live counting and gen run only there, replay on captures
written here (tests/support/frames.py). Everything is removed on every exit path (class cleanups,
atexit, SIGINT/SIGTERM/SIGHUP handlers).

  TestIntervalFloor   -i below the floor is a one-line usage error (exit 2) for live, replay and
                      the agent; live at the floor with -c ends by itself; a run stopped
                      (SIGSTOP) skips the missed intervals in one line whose interval_s shows it
  TestStopWhileBusy   live at the floor with tables and traffic, replay at the floor over a
                      capture of a million bins: SIGINT and SIGTERM end each within 1 s, with the
                      documented code (0 live, 130 replay) and the report
  TestStopWhileReading replay blocked on a FIFO without a writer, a FIFO that never gets data,
                      a pipe on stdin: SIGINT gives 130 within 1 s, not a damaged capture (7)
  TestWriteErrors     replay and gen with stdout on /dev/full: one line on stderr, exit 12
                      (output); a closed pipe stays a clean stop (0)

Privileges: without root (or without the ability to create a netns) the run SKIPs with exit
code 77, unless CI=true, where it fails.
"""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testlib  # noqa: E402  (tests/support/testlib.py)
from testlib import in_ns  # noqa: E402
from frames import LINKTYPE_ETHERNET, T0_NS, Record, ether, ipv4, pcap, udp, write  # noqa: E402

TRAFSTAT = ""  # set by H.main(): absolute path of the binary under test

H = testlib.Harness("loops", "tsloops-", run_timeout=30)

FLOOR = "0.01"  # -i of live and the agent (README)
BIN_FLOOR = "0.000001"  # -i of replay (docs/replay.md)
EXIT_USAGE, EXIT_OUTPUT, EXIT_INTERRUPTED = 2, 12, 130  # docs/exit-codes.md
STOP_WITHIN = 1.0  # seconds from a stop signal to the exit


def capture(path, gaps_ns):
    """A capture of one UDP frame per gap: record k at T0 + the sum of the first k gaps."""
    frame = ether(0x0800, ipv4(17, udp(b"x" * 18)))
    ts, records = T0_NS, []
    for gap in [0, *gaps_ns]:
        ts += gap
        records.append(Record(frame, ts))
    write(path, pcap(LINKTYPE_ETHERNET, records))
    return path


def signalled(proc, sig):
    """Sends sig; (exit code, stdout, stderr, seconds to the exit). Killed and failed past 10 s."""
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=5)
        raise AssertionError(f"did not exit within 10 s of signal {sig}")
    took = time.monotonic() - sent
    text = [b.decode(errors="replace") if b is not None else "" for b in (out, err)]
    return proc.returncode, text[0], text[1], took


class LoopCase(unittest.TestCase):
    """Base: a fresh topology and temp dir per test class, torn down whatever happens."""

    @classmethod
    def setUpClass(cls):
        cls.topo = testlib.Topology(H, subnet="10.79", link_sysctl=True, up_each=True)
        cls.addClassCleanup(cls.topo.destroy)
        cls.topo.create()
        cls.pair = cls.topo.pairs[0]
        cls.tmp = H.mkdtemp()
        cls.addClassCleanup(lambda: subprocess.run(["rm", "-rf", cls.tmp], check=False))

    def live(self, *args):
        """A live trafstat on the receiver, ready; its stdout goes to a file, so that it never
        waits for a reader. (process, path of its stdout)."""
        out_path = os.path.join(self.tmp, f"live-{time.monotonic_ns()}.json")
        with open(out_path, "w") as out:
            proc = H.spawn(
                in_ns(self.pair.rcv_ns, TRAFSTAT, *args, self.pair.rcv_if), stdout=out, stderr=subprocess.PIPE
            )
        head, stopped = testlib.read_stderr_until(proc, testlib.LiveTrafstat.READY, 20)
        if stopped is not None:
            testlib.interrupt(proc)
            raise AssertionError(f"trafstat not ready ({stopped}): {head}")
        self.addCleanup(testlib.interrupt, proc)
        return proc, out_path

    def once(self, *args, ns=None):
        p = H.run(in_ns(ns or self.pair.rcv_ns, TRAFSTAT, *args), check=False, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def assertOneLine(self, err, *words):
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertTrue(err.startswith("trafstat: "), err)
        for w in words:
            self.assertIn(w, err)


class TestIntervalFloor(LoopCase):
    def test_below_the_floor_is_a_usage_error(self):
        two = capture(os.path.join(self.tmp, "two.pcap"), [5_000_000])
        for args in (
            ["-i", "1e-8", "-c", "3", self.pair.rcv_if],
            ["-i", "0.009", self.pair.rcv_if],
            ["replay", "-i", "1e-10", two],
            ["replay", "-i", "0.0000009", two],
            ["agent", "-i", "0.001", self.pair.rcv_if],
        ):
            with self.subTest(args=args):
                rc, out, err = self.once(*args)
                self.assertEqual(rc, EXIT_USAGE, err)
                self.assertOneLine(err, "--interval")
                self.assertEqual(out, "")

    def test_live_at_the_floor_with_a_count_ends_by_itself(self):
        start = time.monotonic()
        rc, out, err = self.once("--json", "-i", FLOOR, "-c", "3", self.pair.rcv_if)
        self.assertEqual(rc, 0, err)
        lines = testlib.json_lines(out)
        self.assertEqual([x["type"] for x in lines], ["interval"] * 3 + ["summary"])
        self.assertLess(time.monotonic() - start, 10)

    def test_a_loop_that_fell_behind_skips_in_one_line(self):
        proc, out_path = self.live("--json", "-i", FLOOR)
        time.sleep(0.3)
        proc.send_signal(signal.SIGSTOP)
        time.sleep(0.6)
        proc.send_signal(signal.SIGCONT)
        time.sleep(0.3)
        rc, _out, err, _took = signalled(proc, signal.SIGINT)
        self.assertEqual(rc, 0, err)
        with open(out_path) as f:
            lines = testlib.json_lines(f.read())
        intervals = [x["interval_s"] for x in lines if x["type"] == "interval"]
        stopped = [i for i, s in enumerate(intervals) if s >= 0.5]
        self.assertEqual(len(stopped), 1, intervals)  # the stop shows in one line, as long as it was
        # No burst of the ~60 missed ticks after it: about one line per interval of the last 0.3 s.
        after = intervals[stopped[0] + 1 :]
        self.assertTrue(5 < len(after) <= 0.3 / 0.01 + 10, intervals)
        self.assertLess(len(intervals), 1.5 / 0.01, intervals)


class TestStopWhileBusy(LoopCase):
    def test_live_at_the_floor_stops_within_a_second(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(sig=sig.name):
                proc, out_path = self.live("--json", "-i", FLOOR, "--flows", "--talkers", "--ports")
                flood = H.spawn(
                    in_ns(self.pair.snd_ns, "ping", "-f", "-q", "-w", "5", self.pair.rcv_ip),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                try:
                    time.sleep(1)
                    rc, _out, err, took = signalled(proc, sig)
                finally:
                    flood.kill()
                    flood.wait()
                self.assertEqual(rc, 0, err)
                self.assertLess(took, STOP_WITHIN, err)
                with open(out_path) as f:
                    lines = testlib.json_lines(f.read())
                self.assertEqual(lines[-1]["type"], "summary")
                self.assertGreater(len(lines), 20)  # it was busy: many intervals
                self.assertGreater(lines[-1]["interfaces"][0]["classes"]["icmp"]["packets"], 0)

    def test_replay_at_the_floor_finishes_quickly(self):
        # 1 ms between records: 1000 bins of 1 µs each, 2 records.
        path = capture(os.path.join(self.tmp, "ms.pcap"), [1_000_000])
        start = time.monotonic()
        rc, out, err = self.once("replay", "--json", "-i", BIN_FLOOR, path)
        self.assertEqual(rc, 0, err)
        self.assertLess(time.monotonic() - start, 10)
        lines = testlib.json_lines(out)
        intervals = [x for x in lines if x["type"] == "interval"]
        self.assertEqual(len(intervals), 1001)
        self.assertEqual(sum(x["interfaces"][0]["classes"]["udp"]["packets"] for x in intervals), 2)
        self.assertEqual({x["interval_s"] for x in intervals}, {1e-6})

    def test_replay_at_the_floor_stops_within_a_second(self):
        # A second between records: a million bins, 10 000 of them printed per gap.
        path = capture(os.path.join(self.tmp, "s.pcap"), [1_000_000_000] * 100)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(sig=sig.name):
                proc = H.spawn(
                    [TRAFSTAT, "replay", "--json", "-i", BIN_FLOOR, path],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                time.sleep(0.5)
                rc, out, err, took = signalled(proc, sig)
                self.assertEqual(rc, EXIT_INTERRUPTED, err)
                self.assertLess(took, STOP_WITHIN, err)
                self.assertIn("interrupted after", err)
                self.assertEqual(json.loads(out.splitlines()[-1])["type"], "summary")


class TestStopWhileReading(LoopCase):
    def interrupted(self, cmd, **kw):
        proc = H.spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
        time.sleep(0.5)
        self.assertIsNone(proc.poll(), "replay ended before the signal")
        rc, out, err, took = signalled(proc, signal.SIGINT)
        self.assertEqual(rc, EXIT_INTERRUPTED, err)
        self.assertLess(took, STOP_WITHIN, err)
        self.assertOneLine(err, "interrupted after 0 packets")
        self.assertEqual(testlib.json_lines(out)[-1]["type"], "summary")

    def fifo(self, name):
        path = os.path.join(self.tmp, name)
        os.mkfifo(path)
        return path

    def test_fifo_without_a_writer(self):
        self.interrupted([TRAFSTAT, "replay", "--json", self.fifo("nowriter")])

    def test_fifo_that_never_gets_data(self):
        path = self.fifo("nodata")
        writer = os.open(path, os.O_RDWR)  # holds a writer, writes nothing
        try:
            self.interrupted([TRAFSTAT, "replay", "--json", path])
        finally:
            os.close(writer)

    def test_pipe_on_stdin(self):
        read_end, write_end = os.pipe()
        try:
            self.interrupted([TRAFSTAT, "replay", "--json", "-"], stdin=read_end)
        finally:
            os.close(read_end)
            os.close(write_end)


class TestWriteErrors(LoopCase):
    def full(self, *args, ns=None):
        with open("/dev/full", "w") as full:
            p = subprocess.run(
                in_ns(ns or self.pair.rcv_ns, TRAFSTAT, *args), stdout=full, stderr=subprocess.PIPE, timeout=60
            )
        err = p.stderr.decode(errors="replace")
        self.assertEqual(p.returncode, EXIT_OUTPUT, err)
        self.assertIn("trafstat: cannot write to standard output: No space left on device", err)
        self.assertEqual(len([x for x in err.splitlines() if x.startswith("trafstat: cannot write")]), 1, err)

    def test_replay_to_a_full_disk(self):
        path = capture(os.path.join(self.tmp, "full.pcap"), [1_000_000])
        for args in (["--json"], [], ["--json", "-i", "0.0001"]):
            with self.subTest(args=args):
                self.full("replay", *args, path)

    def test_gen_to_a_full_disk(self):
        for args in (["--json"], []):
            with self.subTest(args=args):
                self.full("gen", *args, "-n", "10", "--threads", "1", self.pair.snd_if, ns=self.pair.snd_ns)

    def test_live_to_a_full_disk(self):
        self.full("--json", "-i", FLOOR, "-c", "3", self.pair.rcv_if)

    def test_help_to_a_full_disk(self):
        self.full("--help")

    def test_a_closed_pipe_is_a_clean_stop(self):
        path = capture(os.path.join(self.tmp, "pipe.pcap"), [1_000_000])
        proc = H.spawn(
            [TRAFSTAT, "replay", "--json", "-i", BIN_FLOOR, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        proc.stdout.readline()
        proc.stdout.close()
        rc = H.reap(proc)
        err = proc.stderr.read().decode(errors="replace")
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")


TOOLS = ("ip", "ethtool", "ping", "sysctl")


def main():
    return H.main(
        __doc__,
        __name__,
        suite="loop tests",
        not_root="the loop tests create network namespaces and attach BPF programs",
        tools=TOOLS,
    )


if __name__ == "__main__":
    sys.exit(main())
