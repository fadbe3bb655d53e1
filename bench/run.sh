#!/bin/bash
# `make bench`: every benchmark, one table each, results in build/bench/.
# Not a test: run it on a quiet machine; the ratios are what to compare, each
# measured against its reference in the same run. Needs root (BPF).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
out=${OUT:-$build/bench}
mkdir -p "$out"

echo "== machine: $(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "== program cost: BPF_PROG_TEST_RUN, 64-byte IPv4/UDP frame, best of 7 interleaved rounds of 2M repeats"
"$build/trafstat-bench" --json "$out/prog.json" prog
echo
echo "== keyed tables against the peers' map designs: BPF_PROG_TEST_RUN per frame over N distinct 5-tuples"
"$build/trafstat-bench" --json "$out/peers.json" peers
echo
echo "== reading a flow table: trafstat's drain against bpftool map dump of the same pinned map"
"$build/trafstat-bench" --json "$out/read.json" read
echo
OUT=$out "$here/live.sh" "$build"
echo
OUT=$out "$here/drops.sh" "$build"
echo
echo "== replay: trafstat replay against tshark -q -z io,phs on the same capture"
OUT=$out "$here/replay.sh" "$build/trafstat"
echo
OUT=$out "$here/agent.sh" "$build"
echo
echo "== IPFIX export: trafstat replay --ipfix against the same replay without it, and softflowd -r, into nfcapd"
OUT=$out "$here/ipfix.sh" "$build"
echo
echo "results: $out/prog.json $out/peers.json $out/read.json $out/live.json $out/drops.json $out/replay.json $out/agent.json $out/ipfix.json"
