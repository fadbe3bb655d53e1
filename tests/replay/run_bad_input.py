#!/usr/bin/python3
"""trafstat replay against bad input, end to end (root: BPF_PROG_TEST_RUN).

Run as root:  /usr/bin/python3 tests/replay/run_bad_input.py --trafstat build/trafstat [-v] [-k PATTERN]

Runs `trafstat replay [--json] FILE` the way a user does on files that are
missing, empty, not captures, cut short, damaged, of an unsupported link type,
or read from standard input, and checks the contract of docs/exit-codes.md:

- exit code 7 for every bad input, 2 for a bad flag; never a crash (killed by
  a signal, or an exit code >= 128) and never a hang (every run has a timeout);
- one line on stderr, "trafstat: ...", naming the file and the packet number
  or byte offset (for an unsupported link type: the link type);
- for a damaged capture, the report of what was read before the damage still
  on stdout: with --json, a {"type":"summary",...} line whose
  classes.all.packets (and bytes) are exactly those of the good records.

Compressed captures (gzip, zstd: told by content, whatever the name) that are cut short,
corrupt, with a bad checksum, with garbage after the magic, empty or holding no capture get
the same contract, the message naming the compression and the compressed byte.

Captures are built byte by byte (tests/support/frames.py, stdlib only), so every count is
known. Nothing is attached to any interface.

Without root the run SKIPs (exit code 77), unless CI=true, where it fails.
"""

import gzip
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testlib  # noqa: E402  (tests/support/testlib.py)
from frames import (  # noqa: E402
    ARP,
    ETHERTYPE_ARP,
    ETHERTYPE_IPV4,
    ETHERTYPE_IPV6,
    IPPROTO_UDP,
    LINKTYPE_ETHERNET,
    LINKTYPE_RAW,
    NS,
    PCAP_HEADER_LEN,
    PCAP_RECORD_HEADER_LEN,
    Interface,
    Record,
    ether,
    ipv4,
    ipv6,
    pcap,
    pcapng,
    udp,
)
from frames import write as write_file  # noqa: E402  (write() here writes into WORK)

EXIT_USAGE = 2
EXIT_PRIVILEGES = 4
EXIT_LOAD = 6
EXIT_CAPTURE = 7
TIMEOUT_S = 60

PCAPFIX_DAMAGED = "/usr/share/doc/pcapfix/examples/test_damaged.pcap"

TRAFSTAT = None  # set by main()
WORK = None  # temporary directory, set by main()


# --- captures ---------------------------------------------------------------------

# Frames of different sizes and classes: any miscount shows.
FRAMES = [
    ether(ETHERTYPE_IPV4, ipv4(IPPROTO_UDP, udp(b"a" * 18, dport=9999))),
    ether(ETHERTYPE_IPV6, ipv6(IPPROTO_UDP, udp(b"b" * 40, dport=9999))),
    ether(ETHERTYPE_ARP, ARP),
    ether(ETHERTYPE_IPV4, ipv4(IPPROTO_UDP, udp(b"c" * 100, dport=9999))),
    ether(ETHERTYPE_IPV4, ipv4(IPPROTO_UDP, udp(b"d" * 300, dport=9999))),
    ether(ETHERTYPE_IPV6, ipv6(IPPROTO_UDP, udp(b"e" * 7, dport=9999))),
]
TS0 = 1700000000  # the first record's second


def pcap_of(frames, linktype=LINKTYPE_ETHERNET, seconds=None):
    """A microsecond pcap of `frames`, 1 s and 1 ms apart (or at the whole `seconds` given)."""
    stamps = (
        [(TS0 + i) * NS + i * 1_000_000 for i in range(len(frames))] if seconds is None else [s * NS for s in seconds]
    )
    return pcap(linktype, [Record(f, ts) for f, ts in zip(frames, stamps)], snaplen=65535)


def record_offset(frames, index):
    """Byte offset of record `index` (0-based) in pcap_of(frames)."""
    return PCAP_HEADER_LEN + sum(PCAP_RECORD_HEADER_LEN + len(f) for f in frames[:index])


def pcapng_of(frames):
    """A microsecond pcapng (no if_tsresol) of `frames`, 1 s apart."""
    records = [Record(f, (TS0 + i) * NS) for i, f in enumerate(frames)]
    return pcapng([Interface(LINKTYPE_ETHERNET, snaplen=65535, tsresol=None)], records)


def write(name, data):
    return write_file(os.path.join(WORK, name), data)


# --- running trafstat ----------------------------------------------------------------


class Run:
    def __init__(self, argv, returncode, stdout, stderr):
        self.argv, self.returncode, self.stdout, self.stderr = argv, returncode, stdout, stderr

    def __str__(self):
        return (
            f"$ {' '.join(map(shlex.quote, self.argv))}\n-> exit {self.returncode}\n"
            f"stderr: {self.stderr!r}\nstdout: {self.stdout[:2000]!r}"
        )

    def summary(self):
        """The --json summary object (the last line), or None."""
        objects = testlib.json_lines(self.stdout, skip_blank=True)
        summaries = [o for o in objects if o.get("type") == "summary"]
        return summaries[-1] if summaries else None


def replay(*args, stdin_data=None, shell=None):
    """`trafstat replay ARGS`, or a shell pipeline ending in it (`shell` with {trafstat})."""
    if shell is not None:
        argv = ["/bin/sh", "-c", shell.format(trafstat=shlex.quote(TRAFSTAT))]
    else:
        argv = [TRAFSTAT, "replay", *args]
    try:
        p = subprocess.run(
            argv,
            input=stdin_data,
            capture_output=True,
            timeout=TIMEOUT_S,
            stdin=None if stdin_data is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as e:
        raise AssertionError(
            f"hang: {' '.join(argv)} still running after {TIMEOUT_S} s " f"(stderr so far: {e.stderr!r})"
        ) from None
    return Run(argv, p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))


class BadInputCase(unittest.TestCase):
    maxDiff = None

    def no_crash(self, run):
        self.assertTrue(0 <= run.returncode < 128, f"crashed (signal or exit >= 128):\n{run}")

    def assert_capture_error(self, run, *must_name):
        """Exit 7 and one stderr line "trafstat: ..." containing every `must_name`."""
        self.no_crash(run)
        self.assertEqual(run.returncode, EXIT_CAPTURE, f"expected exit {EXIT_CAPTURE}:\n{run}")
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"expected one line on stderr:\n{run}")
        self.assertTrue(lines[0].startswith("trafstat: "), f"stderr does not start with 'trafstat: ':\n{run}")
        for name in must_name:
            self.assertIn(name, lines[0], f"stderr does not name {name!r}:\n{run}")
        return lines[0]

    def assert_summary(self, run, frames):
        """The --json summary counts exactly `frames` (Ethernet: bytes are the frame lengths)."""
        try:
            summary = run.summary()
        except json.JSONDecodeError as e:
            self.fail(f"stdout is not NDJSON ({e}):\n{run}")
        self.assertIsNotNone(summary, f"no summary line on stdout:\n{run}")
        everything = summary["total"]["classes"]["all"]
        self.assertEqual(everything["packets"], len(frames), f"packets of the good records:\n{run}")
        self.assertEqual(everything["bytes"], sum(len(f) for f in frames), f"bytes of the good records:\n{run}")
        return summary


# --- the cases ---------------------------------------------------------------------------


class TestNotACapture(BadInputCase):
    def test_missing_file(self):
        path = os.path.join(WORK, "no-such-file.pcap")
        for json_flag in ([], ["--json"]):
            self.assert_capture_error(replay(*json_flag, path), path)

    def test_empty_file(self):
        path = write("empty.pcap", b"")
        for json_flag in ([], ["--json"]):
            self.assert_capture_error(replay(*json_flag, path), path, "byte offset 0")

    def test_text_file(self):
        path = write("notes.txt", b"this is a text file, not a capture\n" * 20)
        for json_flag in ([], ["--json"]):
            self.assert_capture_error(replay(*json_flag, path), path, "byte offset 0")

    def test_global_header_cut_short(self):
        path = write("short-header.pcap", pcap_of([])[:10])
        self.assert_capture_error(replay("--json", path), path, "byte offset 0")

    def test_directory(self):
        self.assert_capture_error(replay("--json", WORK), WORK)

    def test_empty_stdin(self):
        self.assert_capture_error(replay("--json", "-", stdin_data=b""))


class TestDamaged(BadInputCase):
    def cut(self, name, frames, good, size, *must_name):
        """A capture of `frames` cut to `size` bytes, damaged after `good` records."""
        path = write(name, pcap_of(frames)[:size])
        run = replay("--json", path)
        self.assert_capture_error(run, path, f"packet {good + 1}", f"byte offset {size}", *must_name)
        self.assert_summary(run, frames[:good])
        # The line report too: the summary is printed before the error.
        run = replay(path)
        self.assert_capture_error(run, path, f"packet {good + 1}")
        self.assertIn("summary", run.stdout, f"no report on stdout:\n{run}")

    def test_cut_in_record_data(self):
        size = record_offset(FRAMES, 3) + PCAP_RECORD_HEADER_LEN + 20  # 20 bytes into record 4's data
        self.cut("cut-data.pcap", FRAMES, 3, size, "truncated")

    def test_cut_in_record_header(self):
        size = record_offset(FRAMES, 4) + 9  # 9 of record 5's 16 header bytes
        self.cut("cut-header.pcap", FRAMES, 4, size, "truncated")

    def test_cut_one_byte_short(self):
        size = len(pcap_of(FRAMES)) - 1
        self.cut("cut-last-byte.pcap", FRAMES, len(FRAMES) - 1, size)

    def test_cut_at_a_record_boundary_is_a_clean_end(self):
        path = write("cut-boundary.pcap", pcap_of(FRAMES)[: record_offset(FRAMES, 2)])
        run = replay("--json", path)
        self.no_crash(run)
        self.assertEqual(run.returncode, 0, f"a capture ending between records is whole:\n{run}")
        self.assert_summary(run, FRAMES[:2])

    def test_absurd_caplen(self):
        # Record 3 claims 2 GiB: refused before reading it, at the end of its header.
        data = bytearray(pcap_of(FRAMES))
        at = record_offset(FRAMES, 2)
        data[at + 8 : at + 16] = struct.pack("<II", 0x7FFFFFFF, 0x7FFFFFFF)
        path = write("absurd-caplen.pcap", bytes(data))
        run = replay("--json", path)
        self.assert_capture_error(run, path, "packet 3", f"byte offset {at + PCAP_RECORD_HEADER_LEN}")
        self.assert_summary(run, FRAMES[:2])

    def test_pcapng_block_cut_short(self):
        data = pcapng_of(FRAMES)
        path = write("cut.pcapng", data[: len(data) - 30])  # in the last packet block
        run = replay("--json", path)
        self.assert_capture_error(run, path, f"packet {len(FRAMES)}", f"byte offset {len(data) - 30}")
        self.assert_summary(run, FRAMES[:-1])

    @unittest.skipUnless(os.path.isfile(PCAPFIX_DAMAGED), f"{PCAPFIX_DAMAGED} not installed (pcapfix)")
    def test_pcapfix_damaged_example(self):
        # Packet 1 (74 bytes) is intact; a stray byte turns packet 2's caplen into 16896.
        run = replay("--json", PCAPFIX_DAMAGED)
        self.assert_capture_error(run, PCAPFIX_DAMAGED, "packet 2", f"byte offset {os.path.getsize(PCAPFIX_DAMAGED)}")
        summary = run.summary()
        self.assertIsNotNone(summary, f"no summary line on stdout:\n{run}")
        self.assertEqual(summary["total"]["classes"]["all"], {"packets": 1, "bytes": 74}, str(run))


class TestLinkType(BadInputCase):
    def unsupported(self, linktype, *names):
        path = write(f"linktype-{linktype}.pcap", pcap_of([b"\x00" * 40], linktype=linktype))
        for json_flag in ([], ["--json"]):
            line = self.assert_capture_error(replay(*json_flag, path), path)
            self.assertTrue(any(n in line for n in names), f"the link type is not named ({names}): {line}")

    def test_user0(self):
        self.unsupported(147, "147", "USER0")

    def test_ieee802_11(self):
        self.unsupported(105, "IEEE802_11", "802.11", "105")

    def test_field_as_written(self):
        # All 32 bits of the field: libpcap keeps bits 0-25 as the DLT (67108863 here).
        path = write("linktype-7fffffff.pcap", pcap_of([b"\x00" * 40], linktype=0x7FFFFFFF))
        line = self.assert_capture_error(replay("--json", path), path, "0x7fffffff", "reserved bits", "FCS length 7")
        self.assertNotIn("67108863", line)

    def test_fcs_is_not_counted(self):
        # Bit 26 and bits 28-31: each frame ends with a 4-byte FCS; bytes exclude it (docs/json.md).
        path = write("fcs.pcap", pcap_of([f + b"\xde\xad\xbe\xef" for f in FRAMES], linktype=0x44000000 | 1))
        run = replay("--json", path)
        self.no_crash(run)
        self.assertEqual(run.returncode, 0, str(run))
        self.assert_summary(run, FRAMES)

    def test_supported_non_ethernet(self):
        # Raw IPv4/IPv6 (LINKTYPE_RAW 101) replays: a control for the cases above.
        ip = [f[14:] for f in FRAMES if f[12:14] in (b"\x08\x00", b"\x86\xdd")]
        path = write("raw.pcap", pcap_of(ip, linktype=LINKTYPE_RAW))
        run = replay("--json", path)
        self.no_crash(run)
        self.assertEqual(run.returncode, 0, str(run))
        self.assertEqual(
            run.summary()["total"]["classes"]["all"],
            {"packets": len(ip), "bytes": sum(len(p) + 14 for p in ip)},
            str(run),
        )


class TestStdin(BadInputCase):
    def without_name(self, summary):
        for attachment in summary.get("interfaces", []):
            attachment.pop("name", None)
        return summary

    def test_zcat_pipe_equals_the_file(self):
        if shutil.which("zcat") is None:
            self.skipTest("no zcat")
        path = write("whole.pcap", pcap_of(FRAMES))
        subprocess.run(["gzip", "-k", "-f", path], check=True)
        from_file = replay("--json", path)
        from_pipe = replay(shell=f"zcat {shlex.quote(path + '.gz')} | {{trafstat}} replay --json -")
        for run in (from_file, from_pipe):
            self.no_crash(run)
            self.assertEqual(run.returncode, 0, str(run))
            self.assertEqual(run.stderr, "", str(run))
        self.assert_summary(from_file, FRAMES)
        self.assertEqual(
            self.without_name(from_pipe.summary()), self.without_name(from_file.summary()), f"{from_file}\n{from_pipe}"
        )

    def test_damaged_pipe_names_the_packet(self):
        size = record_offset(FRAMES, 3) + PCAP_RECORD_HEADER_LEN + 20
        path = write("cut-for-pipe.pcap", pcap_of(FRAMES)[:size])
        run = replay(shell=f"cat {shlex.quote(path)} | {{trafstat}} replay --json -")
        self.assert_capture_error(run, "packet 4")
        self.assert_summary(run, FRAMES[:3])


# --- compressed captures ------------------------------------------------------------------


def zstd(data):
    """A zstd frame of `data`, as the zstd tool writes it (with a checksum)."""
    return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout


def gz(data):
    return gzip.compress(data, mtime=0)


COMPRESSORS = {"gzip": gz, "zstd": zstd}


class TestCompressed(BadInputCase):
    """Three good records in a first member (frame), the damage in a second one: the report
    counts exactly those three."""

    def setUp(self):
        if shutil.which("zstd") is None:
            self.skipTest("no zstd tool (scripts/install-deps.sh installs it)")
        data = pcap_of(FRAMES)
        self.split = record_offset(FRAMES, 3)
        self.head, self.tail = data[: self.split], data[self.split :]

    def damaged(self, name, make_tail, *must_name, good=3):
        for compression, compress in COMPRESSORS.items():
            with self.subTest(compression=compression):
                first = compress(self.head)
                path = write(f"{name}.{compression}", first + make_tail(compress(self.tail)))
                run = replay("--json", path)
                line = self.assert_capture_error(
                    run, path, f"damaged {compression} stream at compressed byte ", *must_name
                )
                self.assert_summary(run, FRAMES[:good])
                self.assertIn(f"(packet {good + 1})", line)

    def test_whole_copies_equal_the_capture(self):
        plain = replay("--json", write("whole.pcap", pcap_of(FRAMES)))
        self.assertEqual((plain.returncode, plain.stderr), (0, ""), str(plain))
        for compression, compress in COMPRESSORS.items():
            with self.subTest(compression=compression):
                # Told by content: the name says nothing.
                path = write(f"whole-{compression}.pcap", compress(self.head) + compress(self.tail))
                for run in (replay("--json", path), replay("--json", "-", stdin_data=open(path, "rb").read())):
                    self.assertEqual((run.returncode, run.stderr), (0, ""), str(run))
                    self.assertEqual(
                        TestStdin.without_name(self, run.summary()), TestStdin.without_name(self, plain.summary())
                    )

    def test_truncated(self):
        self.damaged("truncated", lambda tail: tail[:5], "truncated")

    def test_corrupt_bytes(self):
        # The second part's header (gzip) or frame header (zstd) overwritten.
        self.damaged("corrupt", lambda tail: tail[:2] + b"\xff" * 12 + tail[14:])

    def test_bad_checksum(self):
        # Every record decompresses; the check at the end of the stream fails (its last 4 bytes
        # are gzip's ISIZE after the CRC-32, zstd's checksum itself).
        for compression, compress in COMPRESSORS.items():
            with self.subTest(compression=compression):
                data = bytearray(compress(pcap_of(FRAMES)))
                data[-8 if compression == "gzip" else -4] ^= 0xFF  # gzip: CRC-32, ISIZE; zstd: XXH64's low 4 bytes
                path = write(f"checksum.{compression}", bytes(data))
                run = replay("--json", path)
                self.assert_capture_error(run, path, f"damaged {compression} stream at compressed byte {len(data) - 4}")
                self.assert_summary(run, FRAMES)

    def test_garbage_after_the_magic(self):
        for compression, magic in (("gzip", b"\x1f\x8b"), ("zstd", b"\x28\xb5\x2f\xfd")):
            with self.subTest(compression=compression):
                path = write(f"garbage.{compression}", magic + b"\xa5" * 300)
                run = replay("--json", path)
                self.assert_capture_error(run, path, f"damaged {compression} stream at compressed byte ")
                self.assert_summary(run, [])

    def test_empty_or_not_a_capture_inside(self):
        for compression, compress in COMPRESSORS.items():
            for what, inside in (("empty", b""), ("text", b"this is a text file, not a capture\n" * 20)):
                with self.subTest(compression=compression, inside=what):
                    path = write(f"{what}.{compression}", compress(inside))
                    run = replay("--json", path)
                    self.assert_capture_error(
                        run, path, f"not a readable capture (byte offset 0 of the decompressed {compression} data)"
                    )
                    self.assert_summary(run, [])

    def test_damaged_capture_in_a_whole_stream(self):
        size = record_offset(FRAMES, 3) + PCAP_RECORD_HEADER_LEN + 20
        for compression, compress in COMPRESSORS.items():
            with self.subTest(compression=compression):
                path = write(f"cut-inside.{compression}", compress(pcap_of(FRAMES)[:size]))
                run = replay(shell=f"cat {shlex.quote(path)} | {{trafstat}} replay --json -")
                self.assert_capture_error(
                    run, "packet 4", f"(byte offset {size} of the decompressed {compression} data)", "truncated"
                )
                self.assert_summary(run, FRAMES[:3])


class TestOdd(BadInputCase):
    def test_header_only(self):
        path = write("header-only.pcap", pcap_of([]))
        run = replay("--json", path)
        self.no_crash(run)
        self.assertEqual(run.returncode, 0, str(run))
        self.assert_summary(run, [])

    def test_timestamps_jumping_and_going_back(self):
        # Intervals are binned in capture time: a jump of decades, and a record
        # from 1970 after it, must neither hang nor print a line per empty second.
        path = write("time-jumps.pcap", pcap_of(FRAMES[:1] * 4, seconds=(TS0, 4000000000, 1000, 1700000001)))
        run = replay("--json", "-i", "1", path)
        self.no_crash(run)
        self.assertEqual(run.returncode, 0, str(run))
        self.assertLess(len(run.stdout.splitlines()), 100, f"a line per empty interval?\n{run}")
        self.assert_summary(run, FRAMES[:1] * 4)


class TestTableMemory(BadInputCase):
    def test_a_table_larger_than_the_default_states_its_memory(self):
        path = write("memory.pcap", pcap_of(FRAMES))
        default = replay("--json", "--flows", path)
        self.assertEqual((default.returncode, default.stderr), (0, ""), str(default))
        run = replay("--json", "--flows", "--flow-table-size", "1000000", path)
        self.assertEqual(run.returncode, 0, str(run))
        lines = run.stderr.splitlines()
        self.assertEqual(len(lines), 1, f"one line on stderr:\n{run}")
        # docs/tables.md: 64-byte slots and a bit per slot, both epoch parities
        slots = testlib.table_capacity(1 << 20)
        mib = 2 * (slots * 64 + (slots + 63) // 64 * 8) / (1 << 20)
        self.assertIn(f"flows of 1048576 keys) take {mib:.0f} MiB of kernel memory", lines[0], str(run))
        self.assert_summary(run, FRAMES)


class TestFlags(BadInputCase):
    def test_bad_flags_exit_2(self):
        path = write("flags.pcap", pcap_of(FRAMES[:1]))
        for args in (["--bogus", path], [], ["-i", "abc", path], ["-i", "0", path], [path, path]):
            run = replay(*args)
            self.no_crash(run)
            self.assertEqual(run.returncode, EXIT_USAGE, f"expected exit {EXIT_USAGE}:\n{run}")
            self.assertTrue(run.stderr.startswith("trafstat: "), str(run))


class TestNamesFromOutside(BadInputCase):
    """A newline or a terminal escape in a name never splits or colours the one error line."""

    NAME = "new\nline\x1b[31mred.pcap"
    PRINTED = "new\\nline\\x1b[31mred.pcap"  # the name as the message writes it

    def assert_escaped(self, line):
        self.assertNotIn("\x1b", line, f"a raw ESC in the message: {line!r}")
        self.assertIn(self.PRINTED, line, f"the name is not written escaped: {line!r}")

    def test_missing_file(self):
        run = replay("--json", os.path.join(WORK, self.NAME))
        self.assert_escaped(self.assert_capture_error(run))

    def test_damaged_file(self):
        size = record_offset(FRAMES, 3) + PCAP_RECORD_HEADER_LEN + 20
        path = write(self.NAME, pcap_of(FRAMES)[:size])
        run = replay("--json", path)
        self.assert_escaped(self.assert_capture_error(run, "packet 4"))
        self.assert_summary(run, FRAMES[:3])

    def test_bad_option_value(self):
        run = replay("-i", "1\n2\x1b[0m", write("value.pcap", pcap_of(FRAMES[:1])))
        self.no_crash(run)
        self.assertEqual(run.returncode, EXIT_USAGE, str(run))
        lines = run.stderr.splitlines()
        self.assertEqual(len(lines), 1, f"expected one line on stderr:\n{run}")
        self.assertIn("'1\\n2\\x1b[0m'", lines[0], str(run))
        self.assertNotIn("\x1b", lines[0], str(run))


# --- main ------------------------------------------------------------------------------


def cannot_load_reason():
    """Why replay cannot run its BPF program here (a container without BPF), or None."""
    probe = write("probe.pcap", pcap_of(FRAMES[:1]))
    run = replay("--json", probe)
    if run.returncode in (EXIT_PRIVILEGES, EXIT_LOAD):
        return f"cannot load the BPF program here: {run.stderr.strip()}"
    return None


def skip_or_fail(reason):
    return testlib.skip_or_fail(reason, "replay bad-input tests")


def main():
    global TRAFSTAT, WORK
    ap = testlib.arg_parser(__doc__)
    args, unittest_args = ap.parse_known_args()
    TRAFSTAT = os.path.abspath(args.trafstat)

    if os.geteuid() != 0:
        return skip_or_fail("not root (replay runs the BPF program with BPF_PROG_TEST_RUN); run as root")
    if not os.access(TRAFSTAT, os.X_OK):
        print(f"FAIL: no trafstat binary at {TRAFSTAT}", file=sys.stderr)
        return 1
    help_run = subprocess.run([TRAFSTAT, "replay", "--help"], capture_output=True, timeout=TIMEOUT_S)
    if help_run.returncode != 0:
        print(f"FAIL: {TRAFSTAT} has no working replay subcommand (exit {help_run.returncode})", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="trafstat-bad-input-") as work:
        WORK = work
        reason = cannot_load_reason()
        if reason:
            return skip_or_fail(reason)
        return testlib.run_unittests(__name__, unittest_args)


if __name__ == "__main__":
    sys.exit(main())
