#!/usr/bin/python3
"""trafstat replay's memory and interrupts, end to end (root: BPF_PROG_TEST_RUN).

Run as root:  /usr/bin/python3 tests/replay/run_memory.py --trafstat build/trafstat [-v] [-k PATTERN]

docs/replay.md promises, without keyed tables, a peak RSS under a fixed bound whatever the
capture, and an answer to SIGINT within a second (exit 130, the report of what was read).
Checked on generated captures whose counts are known:

- 40 000 frames of 9 000 bytes (360 MB; each runs alone, as a frame too large for a batch);
- 1 000 000 records shorter than an Ethernet header (each runs alone too);
- a 2 GiB sparse file (a pcap header, then zeros: empty records), interrupted with SIGINT;
- a FIFO nobody writes to, SIGINT or SIGTERM at several moments from start (exit 130 within
  a second, the empty report);
- compressed: 10 000 frames of 9 000 bytes as gzip, and as zstd with the largest window replay
  takes (16 MiB); SIGINT while waiting on a pipe that gave half a gzip stream;
- the summary of 200 000 flows (--flows --json, every row): its peak no more than 1.5 times
  the peak of the same run with line output (the top rows only).

Peak RSS is the child's ru_maxrss (wait4). Nothing is attached to any interface.
Without root the run SKIPs (exit code 77), unless CI=true, where it fails.
"""

import gzip
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testlib  # noqa: E402  (tests/support/testlib.py)
from frames import ETHERTYPE_IPV4, IPPROTO_UDP, LINKTYPE_ETHERNET, NS, T0_NS, ether, ipv4, udp  # noqa: E402

EXIT_INTERRUPTED = 130
TIMEOUT_S = 120
# docs/replay.md, "Memory": peak RSS without keyed tables, whatever the capture.
RSS_BOUND_MIB = 48

TRAFSTAT = None  # set by main()
WORK = None  # temporary directory, set by main()


def pcap_header():
    return struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, LINKTYPE_ETHERNET)


def write_capture(name, records):
    """A nanosecond pcap of (frame, ts_ns) records, written as they come (no capture in memory)."""
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(pcap_header())
        for frame, ts in records:
            sec, ns = divmod(ts, NS)
            f.write(struct.pack("<IIII", sec, ns, len(frame), len(frame)) + frame)
    return path


def run(*args):
    """`trafstat replay ARGS` to the end: (exit code, stdout, stderr, peak RSS in MiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([TRAFSTAT, "replay", *args], stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        rc, peak_mib = wait_with_rusage(proc, TIMEOUT_S)
        out.seek(0)
        err.seek(0)
        return rc, out.read().decode(errors="replace"), err.read().decode(errors="replace"), peak_mib


def wait_with_rusage(proc, timeout):
    """Waits for proc (SIGKILL after timeout s): (its exit code as subprocess gives it, its peak RSS in MiB)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_maxrss / 1024
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"trafstat replay did not end within {timeout} s")
        time.sleep(0.01)


def summary_of(stdout):
    lines = [o for o in testlib.json_lines(stdout, skip_blank=True) if o.get("type") == "summary"]
    assert len(lines) == 1, stdout[:2000]
    return lines[0]


class Memory(unittest.TestCase):
    def assert_bounded(self, peak_mib, what):
        self.assertLess(peak_mib, RSS_BOUND_MIB, f"{what}: peak RSS {peak_mib:.1f} MiB, bound {RSS_BOUND_MIB} MiB")

    def test_large_frames(self):
        size, count = 9000, 40_000
        frame = ether(ETHERTYPE_IPV4, ipv4(IPPROTO_UDP, udp(b"j" * (size - 14 - 20 - 8), dport=9)))
        self.assertEqual(len(frame), size)
        path = write_capture("jumbo.pcap", ((frame, T0_NS + i * 1000) for i in range(count)))
        rc, out, err, peak = run("--json", path)
        self.assertEqual(rc, 0, err)
        classes = summary_of(out)["interfaces"][0]["classes"]
        self.assertEqual(classes["all"], {"packets": count, "bytes": count * size})
        self.assertEqual(classes["udp"], {"packets": count, "bytes": count * size})
        self.assert_bounded(peak, "40 000 frames of 9 000 bytes")

    def test_records_shorter_than_an_ethernet_header(self):
        count = 1_000_000
        path = write_capture("short.pcap", ((bytes(range(10)), T0_NS + i) for i in range(count)))
        rc, out, err, peak = run("--json", path)
        self.assertEqual(rc, 0, err)
        classes = summary_of(out)["interfaces"][0]["classes"]
        self.assertEqual(classes["all"], {"packets": count, "bytes": count * 10})
        self.assertEqual(classes["malformed"], {"packets": count, "bytes": count * 10})
        self.assert_bounded(peak, "1 000 000 records of 10 bytes")

    def test_sigint_on_a_sparse_capture(self):
        path = os.path.join(WORK, "sparse.pcap")
        with open(path, "wb") as f:
            f.write(pcap_header())
            f.truncate(2 << 30)  # zeros: records of 0 bytes, at time 0
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen([TRAFSTAT, "replay", "--json", path], stdout=out, stderr=err)
            time.sleep(2)
            self.assertIsNone(proc.poll(), "still replaying after 2 s")
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            rc, peak = wait_with_rusage(proc, 30)
            took = time.monotonic() - sent
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(), err.read().decode()
        self.assertEqual(rc, EXIT_INTERRUPTED, stderr)
        self.assertLess(took, 1.0, f"SIGINT answered after {took:.2f} s")
        self.assertIn("interrupted after", stderr)
        replayed = int(stderr.split("interrupted after ")[1].split()[0])
        self.assertGreater(replayed, 0)
        self.assertEqual(summary_of(stdout)["interfaces"][0]["classes"]["all"]["packets"], replayed)
        self.assert_bounded(peak, "a 2 GiB sparse capture")

    def test_stop_while_waiting_for_a_fifo_writer(self):
        # docs/exit-codes.md: 130 within a second, whenever the signal comes; the first moment
        # is as soon as the stop handlers are in place (/proc/PID/status SigCgt), before the open.
        fifo = os.path.join(WORK, "nobody-writes")
        os.mkfifo(fifo)
        for sig in (signal.SIGINT, signal.SIGTERM):
            for delay in (None, 0.0005, 0.005, 0.05, 0.5):
                with self.subTest(signal=sig.name, delay=delay):
                    proc = subprocess.Popen(
                        [TRAFSTAT, "replay", "--json", fifo], stdout=subprocess.PIPE, stderr=subprocess.PIPE
                    )
                    wait_for_stop_handlers(proc)
                    if delay is not None:
                        time.sleep(delay)
                    sent = time.monotonic()
                    proc.send_signal(sig)
                    try:
                        stdout, stderr = proc.communicate(timeout=5)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.communicate()
                        self.fail(f"{sig.name} after {delay} s: still waiting for a writer after 5 s")
                    took = time.monotonic() - sent
                    self.assertEqual(proc.returncode, EXIT_INTERRUPTED, stderr.decode())
                    self.assertLess(took, 1.0, f"{sig.name} answered after {took:.2f} s")
                    self.assertIn("interrupted after 0 packets", stderr.decode())
                    self.assertEqual(summary_of(stdout.decode())["interfaces"][0]["classes"]["all"]["packets"], 0)

    def test_compressed_large_frames(self):
        if shutil.which("zstd") is None:
            self.skipTest("no zstd tool (scripts/install-deps.sh installs it)")
        size, count = 9000, 10_000
        frame = ether(ETHERTYPE_IPV4, ipv4(IPPROTO_UDP, udp(b"j" * (size - 14 - 20 - 8), dport=9)))
        path = write_capture("jumbo-z.pcap", ((frame, T0_NS + i * 1000) for i in range(count)))
        for name, argv in (("gzip", ["gzip", "-1", "-c"]), ("zstd", ["zstd", "-q", "-c", "--zstd=wlog=24"])):
            with self.subTest(compression=name):
                with open(path, "rb") as plain, open(f"{path}.{name}", "wb") as packed:
                    subprocess.run(argv, stdin=plain, stdout=packed, check=True)
                rc, out, err, peak = run("--json", f"{path}.{name}")
                self.assertEqual(rc, 0, err)
                self.assertEqual(
                    summary_of(out)["interfaces"][0]["classes"]["all"], {"packets": count, "bytes": count * size}
                )
                self.assert_bounded(peak, f"10 000 frames of 9 000 bytes, {name}")

    def test_sigint_while_a_compressed_pipe_is_silent(self):
        data = gzip.compress(pcap_header() + struct.pack("<IIII", 1, 0, 60, 60) + bytes(60) * 1, mtime=0)
        proc = subprocess.Popen(
            [TRAFSTAT, "replay", "--json", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            proc.stdin.write(data[: len(data) // 2])  # the writer then waits: so does replay
            proc.stdin.flush()
            wait_for_stop_handlers(proc)
            time.sleep(0.5)
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            self.fail("SIGINT: still waiting on the pipe after 5 s")
        took = time.monotonic() - sent
        self.assertEqual(proc.returncode, EXIT_INTERRUPTED, stderr.decode())
        self.assertLess(took, 1.0, f"SIGINT answered after {took:.2f} s")
        self.assertIn("interrupted after 0 packets", stderr.decode())

    def test_summary_of_200000_flows(self):
        count = 200_000

        def records():
            for i in range(count):
                packet = ipv4(IPPROTO_UDP, udp(b"", dport=9))
                # Distinct addresses per record: rewrite the source and destination of the template.
                packet = packet[:12] + bytes([10, 1, i >> 16, i >> 8 & 255]) + bytes([10, 2, 0, i & 255]) + packet[20:]
                yield ether(ETHERTYPE_IPV4, packet), T0_NS + i * 1000

        path = write_capture("flows.pcap", records())
        args = ("--flows", "--flow-table-size", "262144", path)
        rc, out, err, steady = run(*args)
        self.assertEqual(rc, 0, err)
        rc, out, err, peak = run("--json", *args)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(summary_of(out)["interfaces"][0]["flows"]), count)
        self.assertLessEqual(
            peak, 1.5 * steady, f"--json summary peaks at {peak:.0f} MiB, line output at {steady:.0f} MiB"
        )


def wait_for_stop_handlers(proc, timeout_s=10):
    """Until `proc` catches SIGINT (its stop handlers are installed), or it ends."""
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                caught = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
        except (OSError, StopIteration):
            caught = 0
        if caught & (1 << (signal.SIGINT - 1)):
            return


def main():
    global TRAFSTAT, WORK
    ap = testlib.arg_parser(__doc__)
    args, unittest_args = ap.parse_known_args()
    TRAFSTAT = os.path.abspath(args.trafstat)
    if os.geteuid() != 0:
        return testlib.skip_or_fail("not root (replay runs the BPF program with BPF_PROG_TEST_RUN)", "replay memory")
    with tempfile.TemporaryDirectory(prefix="trafstat-replay-memory-") as work:
        WORK = work
        return testlib.run_unittests(__name__, unittest_args)


if __name__ == "__main__":
    sys.exit(main())
