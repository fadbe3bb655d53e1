#!/usr/bin/python3
"""Writes the seed corpus (and libFuzzer dictionary) of one fuzz target into a directory.

capture: small, valid captures built byte by byte (so nothing binary is committed):
pcap in both byte orders, nanosecond pcap, pcapng (one and two interfaces,
simple packet blocks), and every supported link type (Ethernet, raw IP,
DLT_IPV4/IPV6, Linux cooked SLL/SLL2) plus an unsupported one; gzip and zstd
copies of a few (one member or frame, and two), for the decompressing path
(zstd's with the zstd tool, when installed). Then the
sample captures of python3-dpkt, pcapfix and gopacket when they are
installed (the project's install-deps pulls them in); absent ones are
skipped.

options: command lines (arguments separated by NUL bytes) of every command, and a
dictionary of every option the parser declares (read from src/cli/options.cpp).

http: requests to the agent's HTTP side: its paths, methods it refuses, keep-alive,
bodies, chunks, ranges, bad request lines; a dictionary of HTTP's words.

usage: make_corpus.py capture|options|http DIR  (the dictionary is written to DIR.dict)
"""

import gzip
import os
import re
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from frames import (  # noqa: E402
    ARP,
    ETHERTYPE_ARP,
    ETHERTYPE_IPV4,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_TCP,
    IPPROTO_UDP,
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_RAW,
    LINKTYPE_USER0,
    NS,
    Interface,
    Record,
    ether,
    icmp_echo,
    ip_ethertype,
    ipv4,
    ipv6,
    pcap,
    pcapng,
    sll,
    sll2,
    tcp,
    udp,
    vlan,
)

MAX_SEED_BYTES = 64 * 1024
SYSTEM_SEEDS = [
    "/usr/share/doc/python3-dpkt/examples/data",
    "/usr/share/doc/pcapfix/examples",
    "/usr/share/gocode/src/github.com/google/gopacket/pcapgo/tests/le",
    "/usr/share/gocode/src/github.com/google/gopacket/pcapgo/tests/be",
]

IP_PACKETS = [
    ipv4(IPPROTO_UDP, udp(b"query")),
    ipv4(IPPROTO_TCP, tcp()),
    ipv4(IPPROTO_ICMP, icmp_echo()),
    ipv4(IPPROTO_UDP, udp(b"x"), frag=0x2000),  # first fragment
    ipv6(IPPROTO_UDP, udp(b"query6")),
    ipv6(IPPROTO_TCP, tcp()),
    ipv6(IPPROTO_ICMPV6, struct.pack("!BBHHH", 128, 0, 0, 1, 1)),
]

ETHER_FRAMES = [ether(ip_ethertype(p), p) for p in IP_PACKETS] + [
    ether(ETHERTYPE_ARP, ARP),
    vlan(10, ETHERTYPE_IPV4, IP_PACKETS[0]),
    ether(ETHERTYPE_IPV4, b"\x45\x00"),  # truncated IPv4 header
]


# --- files -------------------------------------------------------------------


def records(packets, nano=False):
    """One record a second from 1700000000 s, a fixed fraction after it; the second record's original
    length 4 bytes more than it holds."""
    frac = 123456789 if nano else 123456000
    return [Record(p, (1700000000 + i) * NS + frac, len(p) + (4 if i == 1 else 0)) for i, p in enumerate(packets)]


def numbered(packets, ts0=1700000000123456789, interfaces=1):
    """Records at ts0, ts0 + 1 ns, ...; record i on interface i % interfaces (pcapng)."""
    return [Record(p, ts0 + i, interface=i % interfaces) for i, p in enumerate(packets)]


def seeds():
    ether_one = [Interface(LINKTYPE_ETHERNET)]
    yield "ether.pcap", pcap(LINKTYPE_ETHERNET, records(ETHER_FRAMES))
    yield "ether-be.pcap", pcap(LINKTYPE_ETHERNET, records(ETHER_FRAMES[:3]), big_endian=True)
    yield "ether-nsec.pcap", pcap(LINKTYPE_ETHERNET, records(ETHER_FRAMES[:3], nano=True), nano=True)
    yield "ether-snaplen64.pcap", pcap(LINKTYPE_ETHERNET, records([f[:64] for f in ETHER_FRAMES[:2]]), snaplen=64)
    yield "header-only.pcap", pcap(LINKTYPE_ETHERNET, [])
    yield "raw.pcap", pcap(LINKTYPE_RAW, records(IP_PACKETS + [b"\x00junk"]))
    yield "ipv4.pcap", pcap(LINKTYPE_IPV4, records([p for p in IP_PACKETS if p[0] >> 4 == 4]))
    yield "ipv6.pcap", pcap(LINKTYPE_IPV6, records([p for p in IP_PACKETS if p[0] >> 4 == 6]))
    yield "sll.pcap", pcap(
        LINKTYPE_LINUX_SLL,
        records([sll(ip_ethertype(p), p) for p in IP_PACKETS] + [sll(ETHERTYPE_ARP, ARP), b"\x00" * 10]),
    )
    yield "sll2.pcap", pcap(
        LINKTYPE_LINUX_SLL2,
        records([sll2(ip_ethertype(p), p) for p in IP_PACKETS] + [sll2(ETHERTYPE_ARP, ARP), b"\x00" * 10]),
    )
    yield "user0.pcap", pcap(LINKTYPE_USER0, records([b"\x01\x02\x03"]))
    yield "ether.pcapng", pcapng(ether_one, numbered(ETHER_FRAMES))
    yield "two-interfaces.pcapng", pcapng([Interface(LINKTYPE_ETHERNET)] * 2, numbered(ETHER_FRAMES[:4], interfaces=2))
    yield "simple.pcapng", pcapng(ether_one, numbered(ETHER_FRAMES[:3]), simple=True)
    yield "sll2.pcapng", pcapng(
        [Interface(LINKTYPE_LINUX_SLL2)], numbered([sll2(ip_ethertype(p), p) for p in IP_PACKETS[:3]])
    )
    yield "truncated.pcap", pcap(LINKTYPE_ETHERNET, records(ETHER_FRAMES[:3]))[:-7]
    # Regressions found by this fuzzer: an original length near 2^32 (wire
    # length overflowed when a header was synthesised), and pcapng timestamps
    # in seconds beyond what int64 nanoseconds hold.
    huge = records(IP_PACKETS[:1])
    huge[0].wire = 0xFFFFFFFF
    yield "raw-huge-orig-len.pcap", pcap(LINKTYPE_RAW, huge)
    yield "ts-seconds.pcapng", pcapng(
        [Interface(LINKTYPE_ETHERNET, tsresol=0)], [Record(ETHER_FRAMES[0], (1 << 62) * NS)]
    )


COMPRESSED_SEEDS = ["ether.pcap", "ether.pcapng", "sll2.pcap", "truncated.pcap"]


def zstd(data):
    """A zstd frame of `data` with a checksum, as the zstd tool writes it."""
    return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout


def compressed(plain):
    """gzip and zstd copies of the seeds named in COMPRESSED_SEEDS: whole, and in two members or frames."""
    compressors = [("gz", lambda d: gzip.compress(d, mtime=0))]
    if shutil.which("zstd"):
        compressors.append(("zst", zstd))
    for name, data in plain:
        if name not in COMPRESSED_SEEDS:
            continue
        half = len(data) // 2
        for suffix, compress in compressors:
            yield f"{name}.{suffix}", compress(data)
            yield f"two-parts-{name}.{suffix}", compress(data[:half]) + compress(data[half:])


def capture_seeds():
    plain = list(seeds())
    yield from plain
    yield from compressed(plain)
    for source in SYSTEM_SEEDS:
        if not os.path.isdir(source):
            continue
        prefix = source.strip("/").replace("/", "_")
        for name in sorted(os.listdir(source)):
            path = os.path.join(source, name)
            if name.endswith((".pcap", ".pcapng")) and os.path.isfile(path) and os.path.getsize(path) <= MAX_SEED_BYTES:
                with open(path, "rb") as f:
                    yield f"{prefix}_{name}", f.read()


# --- command lines -------------------------------------------------------------

OPTIONS_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "cli", "options.cpp")

COMMAND_LINES = [
    [],
    ["eth0"],
    ["-i", "0.5", "-c", "10", "eth0"],
    ["--hook", "tc", "veth0", "veth1"],
    ["--json", "-t", "30s", "eth0"],
    ["--tui", "--talkers", "--ports", "eth0"],
    ["--flows", "--flow-table-size", "1024", "--top", "5", "--sort", "pps", "--idle-timeout", "5m", "eth0"],
    ["--talkers", "--talkers-by", "src", "--ip-table-size", "65536", "--histogram", "eth0"],
    ["--xdp-mode", "generic", "--force", "-d", "eth0"],
    ["--hook", "tc-egress", "--tc-mode", "clsact", "-z", "eth0"],
    ["--drops", "--drop-flow-table-size", "4096", "eth0"],
    ["--ipfix", "collector:4739", "eth0"],
    ["--ipfix-file", "out.ipfix", "--flows", "eth0"],
    ["--version"],
    ["--help"],
    ["replay", "--json", "-i", "1", "capture.pcapng"],
    ["replay", "--flows", "--ipfix-file", "x.ipfix", "-"],
    ["gen", "-n", "1000", "-s", "1514", "--proto", "udp4,tcp6", "--flows", "16", "--rate", "100k", "va0"],
    ["gen", "--inject", "--src-ip", "10.0.0.1", "--dst-ip", "fd00::1", "--dst-mac", "02:00:00:00:00:01", "va0"],
    ["gen", "--threads", "2", "--batch", "64", "-t", "2s", "--json", "va0"],
    ["attach", "--flows", "--pin-dir", "/sys/fs/bpf/trafstat", "--totals-size", "1000", "eth0"],
    ["agent", "--flows", "--metrics-top", "20", "--metrics", "[::1]:9469", "eth0"],
    ["agent", "--no-metrics", "-i", "5", "--detach-on-exit", "--replace", "eth0"],
    ["agent", "--metrics", "localhost", "--drops", "eth0"],
    ["status", "--json"],
    ["dump", "--json", "--top", "3", "eth0"],
    ["detach", "--all"],
    ["control", "eth0", "--hook", "xdp", "--talkers", "on", "--flows", "off"],
]


def options_seeds():
    for i, words in enumerate(COMMAND_LINES):
        yield f"line-{i:02d}", b"\0".join(w.encode() for w in words)


def options_dictionary():
    with open(OPTIONS_SOURCE) as f:
        source = f.read()
    words = set()
    for declared in re.findall(r'"(-{1,2}[A-Za-z][\w-]*(?:,-{1,2}[\w-]+)*)"', source):
        words.update(declared.split(","))
    for line in COMMAND_LINES:
        words.update(line)
    return sorted(words)


# --- HTTP requests ---------------------------------------------------------------


def request(method, path, headers=(), body=b"", version="HTTP/1.1"):
    head = f"{method} {path} {version}\r\nHost: 127.0.0.1:9469\r\n" + "".join(f"{h}\r\n" for h in headers)
    return head.encode() + b"\r\n" + body


HTTP_REQUESTS = {
    "metrics": request("GET", "/metrics", ["Accept: text/plain", "Accept-Encoding: gzip"]),
    "status": request("GET", "/status"),
    "healthz-head": request("HEAD", "/healthz"),
    "http10": request("GET", "/healthz", version="HTTP/1.0"),
    "not-found": request("GET", "/metrics/../etc/passwd?x=%2e%2e&y"),
    "post": request("POST", "/metrics", ["Content-Type: text/plain", "Content-Length: 5"], b"hello"),
    "chunked": request("PUT", "/status", ["Transfer-Encoding: chunked"], b"5\r\nhello\r\n0\r\n\r\n"),
    "range": request("GET", "/metrics", ["Range: bytes=0-10,20-"]),
    "expect": request("POST", "/x", ["Expect: 100-continue", "Content-Length: 3"], b"abc"),
    "keep-alive": request("GET", "/healthz") + request("GET", "/metrics", ["Connection: close"]),
    "options": request("OPTIONS", "*"),
    "bad-line": b"GET\r\n\r\n",
    "folded": request("GET", "/healthz", ["X-A: 1", " continued", "Content-Length: -1"]),
    # The agent's front and budget (src/serve/request_reader.hpp): heads ended by a bare LF, a
    # head that fills the 16 KiB budget exactly, one larger than it, a body past it.
    "lf-only": b"GET /healthz HTTP/1.1\nHost: x\n\n",
    "lf-then-crlf": b"GET /healthz HTTP/1.1\r\nX-A: b\n\r\n",
    "head-at-budget": request("GET", "/healthz", ["X-Pad: " + "a" * (16 * 1024 - 60)]),
    "head-over-budget": request("GET", "/metrics", ["X-Pad: " + "a" * (17 * 1024)]),
    "body-over-budget": request("POST", "/status", ["Content-Length: 20000"], b"b" * 20000),
}

HTTP_WORDS = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HTTP/1.1", "HTTP/1.0", "\r\n", "\r\n\r\n",
    "/metrics", "/status", "/healthz", "Content-Length: ", "Transfer-Encoding: chunked", "Range: bytes=",
    "Connection: close", "Connection: keep-alive", "Expect: 100-continue", "Accept-Encoding: gzip, br",
    "Content-Type: multipart/form-data; boundary=", "Content-Encoding: gzip", "%00", "?", "&", "=", "-", ",",
]  # fmt: skip


def http_seeds():
    for name, data in HTTP_REQUESTS.items():
        yield name, data


# --- main ------------------------------------------------------------------------------

TARGETS = {
    "capture": (capture_seeds, None),
    "options": (options_seeds, options_dictionary),
    "http": (http_seeds, lambda: HTTP_WORDS),
}


def dictionary_entry(word):
    escaped = "".join(c if c.isprintable() and c not in '"\\' else f"\\x{ord(c):02x}" for c in word)
    return f'"{escaped}"\n'


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in TARGETS:
        sys.exit(__doc__.strip().splitlines()[-1])
    target, directory = sys.argv[1:]
    make_seeds, make_dictionary = TARGETS[target]
    os.makedirs(directory, exist_ok=True)
    count = 0
    for name, data in make_seeds():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
        count += 1
    words = make_dictionary() if make_dictionary else []
    if words:
        with open(directory.rstrip("/") + ".dict", "w") as f:
            f.writelines(dictionary_entry(w) for w in words)
    print(
        f"make_corpus: {target}: {count} seeds in {directory}" + (f", {len(words)} dictionary words" if words else "")
    )


if __name__ == "__main__":
    main()
