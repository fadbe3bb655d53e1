#!/bin/bash
# Replay speed: `trafstat replay` against `tshark -q -z io,phs` on the same
# capture, in the same run (absolute numbers on shared machines are noisy; the
# ratio is what to compare); then replay of its gzip and zstd copies (gzip -6 and
# zstd -3, the tools' defaults), against the plain replay. The capture's zero
# payloads compress far better than real traffic: decompression is at its fastest.
# Usage: bench/replay.sh [TRAFSTAT] [PACKETS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
trafstat=${1:-$here/../build/trafstat}
packets=${2:-2000000}
runs=${RUNS:-3}
out=${OUT:-$here/../build/bench}
mkdir -p "$out"
capture=$out/replay-mix-$packets.pcap

[ -s "$capture" ] || /usr/bin/python3 "$here/make_capture.py" --packets "$packets" "$capture"
[ -s "$capture.gz" ] || gzip -c "$capture" > "$capture.gz"
[ -s "$capture.zst" ] || zstd -q -c "$capture" > "$capture.zst"
cat "$capture" "$capture.gz" "$capture.zst" > /dev/null   # page cache: measure replay, not the disk

best() {  # best wall time of $runs runs of "$@", seconds
    local best_s=""
    for _ in $(seq "$runs"); do
        local t0 t1 s
        t0=$(date +%s.%N)
        "$@" > /dev/null
        t1=$(date +%s.%N)
        s=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$best_s" ] || [ "$(echo "$s < $best_s" | bc -l)" = 1 ]; then best_s=$s; fi
    done
    echo "$best_s"
}

for file in "$capture" "$capture.gz" "$capture.zst"; do
    counted=$("$trafstat" replay --json "$file" | tail -n 1 | /usr/bin/python3 -c \
        'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["classes"]["all"]["packets"])')
    [ "$counted" = "$packets" ] || { echo "replay of $file counted $counted of $packets packets" >&2; exit 1; }
done

t_trafstat=$(best "$trafstat" replay "$capture")
t_gzip=$(best "$trafstat" replay "$capture.gz")
t_zstd=$(best "$trafstat" replay "$capture.zst")
t_tshark=$(RUNS=1 best tshark -n -q -r "$capture" -z io,phs)

mpps() { echo "scale=3; $packets / $1 / 1000000" | bc -l; }
ratio=$(echo "scale=1; $t_tshark / $t_trafstat" | bc -l)
of_plain() { echo "scale=2; $t_trafstat / $1" | bc -l; }  # the plain replay's time over this one's
printf '%-34s %10s %10s\n' "replay of $packets packets" "seconds" "Mpps"
printf '%-34s %10.3f %10.3f\n' "trafstat replay (best of $runs)" "$t_trafstat" "$(mpps "$t_trafstat")"
printf '%-34s %10.3f %10.3f\n' "tshark -q -z io,phs" "$t_tshark" "$(mpps "$t_tshark")"
printf '%-34s %10sx\n' "trafstat speed-up over tshark" "$ratio"
printf '%-34s %10.3f %10.3f %6.2fx of plain (%s MB)\n' "trafstat replay of the gzip copy" "$t_gzip" \
    "$(mpps "$t_gzip")" "$(of_plain "$t_gzip")" "$(($(stat -c %s "$capture.gz") / 1000000))"
printf '%-34s %10.3f %10.3f %6.2fx of plain (%s MB)\n' "trafstat replay of the zstd copy" "$t_zstd" \
    "$(mpps "$t_zstd")" "$(of_plain "$t_zstd")" "$(($(stat -c %s "$capture.zst") / 1000000))"
cat > "$out/replay.json" <<JSON
{"bench":"replay","packets":$packets,"cpus":$(nproc),"trafstat_s":$t_trafstat,"trafstat_mpps":$(mpps "$t_trafstat"),"tshark_s":$t_tshark,"tshark_mpps":$(mpps "$t_tshark"),"speedup":$ratio,"gzip_s":$t_gzip,"gzip_mpps":$(mpps "$t_gzip"),"gzip_of_plain":$(of_plain "$t_gzip"),"zstd_s":$t_zstd,"zstd_mpps":$(mpps "$t_zstd"),"zstd_of_plain":$(of_plain "$t_zstd")}
JSON
echo "results: $out/replay.json"
