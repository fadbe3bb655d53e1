#!/bin/bash
# IPFIX export speed: `trafstat replay --ipfix` of a large capture with many flows into a local
# nfcapd against the same replay without export (the difference: the flow export, records
# encoded and sent per second), and `softflowd -r` of the same capture into an nfcapd: wall time
# and CPU (user + system) of each, in the same run. Then the agent live: `trafstat agent --flows
# -i 1` on a veth (namespaces, pins in a private bpffs: this script re-runs itself under
# `unshare -m`) while gen keeps LIVE_FLOWS flows active, its CPU with `--ipfix
# --ipfix-active-timeout 1s` (every flow exported every interval) against without.
# Usage: bench/ipfix.sh [BUILD_DIR]   (root)
# PACKETS (2000000) and FLOWS (33334 source ports: 3 * FLOWS + 1 = 100003 flows) size the capture;
# LIVE_FLOWS (100000), LIVE_RATE (gen's --rate, 200000), LIVE_S (CPU measured over, 10).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
private_mounts "$@"
bench_dirs "${1:-}"
trafstat=$build/trafstat
packets=${PACKETS:-2000000}
flows=${FLOWS:-33334}
runs=${RUNS:-3}
out=${OUT:-$build/bench}
mkdir -p "$out"
capture=$out/ipfix-$packets-$flows.pcap
[ -s "$capture" ] || /usr/bin/python3 "$here/make_capture.py" --packets "$packets" --flows "$flows" "$capture"
cat "$capture" > /dev/null   # page cache: measure the export, not the disk

work=$(mktemp -d /tmp/tsbench-ipfix-XXXXXXXX)
collector=""
agent=""
stop_collector() {  # SIGTERM: nfcapd writes its file and prints what it got
    if [ -n "$collector" ]; then kill -TERM "$collector" 2>/dev/null || true; wait "$collector" || true; fi
    collector=""
}
on_exit 'umount "$work/bpffs" 2>/dev/null; rm -rf "$work"'
on_exit 'stop_collector'

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_collector() {  # $1: name [$2: namespace]; an nfcapd on 127.0.0.1:$port, a buffer for a whole burst
    local in=()
    [ -z "${2:-}" ] || in=(ip netns exec "$2")
    mkdir -p "$work/$1"
    "${in[@]}" nfcapd -w "$work/$1" -p "$port" -b 127.0.0.1 -B 67108864 > "$work/$1.log" 2>&1 &
    collector=$!
    for _ in $(seq 100); do "${in[@]}" ss -Hlun "sport = :$port" | grep -q . && return; sleep 0.05; done
    echo "nfcapd did not start: $(cat "$work/$1.log")" >&2; exit 1
}
collected() { grep -o 'Flows: [0-9]*' "$work/$1.log" | tail -n 1 | cut -d' ' -f2; }

measure() {  # best of $runs runs of "$@": "wall_s cpu_s" (cpu: user + system of that run)
    /usr/bin/python3 - "$runs" "$@" <<'PY'
import resource, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if best is None or wall < best[0]:
        best = (wall, cpu)
print(f"{best[0]:.3f} {best[1]:.3f}")
PY
}

read -r t_plain c_plain <<< "$(measure "$trafstat" replay --flows "$capture")"
start_collector trafstat
records=$("$trafstat" replay --ipfix "127.0.0.1:$port" "$capture" 2>&1 >/dev/null | sed -n 's/.*IPFIX: \([0-9]*\) flow records.*/\1/p')
read -r t_ipfix c_ipfix <<< "$(measure "$trafstat" replay --ipfix "127.0.0.1:$port" "$capture")"
stop_collector
got_trafstat=$(( $(collected trafstat) / (runs + 1) ))  # per run: the first run and the measured ones
start_collector softflowd
# -m: a table for every flow (softflowd's default 8192 would expire flows early); -c none: no
# control socket (softflowd 1.1.0 -r waits on it); -6: IPv6 flows too
read -r t_soft c_soft <<< "$(measure softflowd -r "$capture" -v 10 -n "127.0.0.1:$port" -d -6 -m 200000 \
    -p "$work/softflowd.pid" -c none)"
stop_collector
got_soft=$(( $(collected softflowd) / runs ))

rate() { echo "scale=0; $records / ($1)" | bc -l; }
export_s=$(LC_ALL=C printf '%.3f' "$(echo "$t_ipfix - $t_plain" | bc -l)")  # JSON: a leading 0
export_cpu=$(LC_ALL=C printf '%.3f' "$(echo "$c_ipfix - $c_plain" | bc -l)")
if [ "$(echo "$export_s > 0.001" | bc -l)" = 1 ]; then rps=$(rate "$export_s"); else rps=0; fi
printf '%-44s %9s %9s %12s\n' "$packets packets, $records flow records" "wall s" "CPU s" "collected/run"
printf '%-44s %9.3f %9.3f %12s\n' "trafstat replay --flows (no export)" "$t_plain" "$c_plain" "-"
printf '%-44s %9.3f %9.3f %12s\n' "trafstat replay --ipfix (best of $runs)" "$t_ipfix" "$c_ipfix" "$got_trafstat"
printf '%-44s %9.3f %9.3f %12s\n' "softflowd -r -v 10 (best of $runs)" "$t_soft" "$c_soft" "$got_soft"
printf '%-44s %9.3f %9.3f\n' "the export alone (difference)" "$export_s" "$export_cpu"
printf '%-44s %9s\n' "records encoded and sent per second" "$rps"

# The agent live, LIVE_FLOWS active flows per interval.
live_flows=${LIVE_FLOWS:-100000}
live_rate=${LIVE_RATE:-200000}
live_s=${LIVE_S:-10}
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
veth_pair "tsbench-ig-$$" "tsbench-ir-$$"
on_exit 'stop_pid "$agent"'

agent_cpu() {  # "$@": the agent's extra options; prints "cpu_percent records"
    local err=$work/agent.err tick c0 c1 t0 t1
    ip netns exec "$ns_r" "$trafstat" agent --pin-dir "$work/bpffs/trafstat" --detach-on-exit -i 1 --xdp-mode native \
        --flows --flow-table-size 262144 "$@" vb0 2> "$err" &
    agent=$!
    for _ in $(seq 100); do
        grep -q "agent serving" "$err" && break
        kill -0 "$agent" 2>/dev/null || { cat "$err" >&2; exit 1; }
        sleep 0.1
    done
    ip netns exec "$ns_g" "$trafstat" gen --flows "$live_flows" --rate "$live_rate" -t $((live_s + 4))s --threads 1 \
        va0 > /dev/null 2>&1 &
    local gen=$!
    sleep 3 # every flow active, the first exports out
    tick=$(getconf CLK_TCK)
    t0=$(date +%s.%N)
    c0=$(awk '{print $14 + $15}' "/proc/$agent/stat")
    sleep "$live_s"
    c1=$(awk '{print $14 + $15}' "/proc/$agent/stat")
    t1=$(date +%s.%N)
    wait "$gen"
    kill -TERM "$agent"
    wait "$agent" || true
    agent=""
    local records
    records=$(sed -n 's/.*IPFIX: \([0-9]*\) flow records.*/\1/p' "$err")
    echo "$(LC_ALL=C printf '%.1f' "$(echo "100 * ($c1 - $c0) / $tick / ($t1 - $t0)" | bc -l)") ${records:-0}"
}
read -r cpu_plain _ <<< "$(agent_cpu)"
start_collector agent "$ns_r"
read -r cpu_ipfix live_records <<< "$(agent_cpu --ipfix "127.0.0.1:$port" --ipfix-active-timeout 1s)"
stop_collector
got_live=$(collected agent)
printf '%-44s %9s\n' "agent, $live_flows flows active (-i 1)" "CPU %"
printf '%-44s %9s\n' "trafstat agent --flows" "$cpu_plain"
printf '%-44s %9s   %s records, %s collected\n' "same + --ipfix --ipfix-active-timeout 1s" "$cpu_ipfix" "$live_records" "$got_live"

cat > "$out/ipfix.json" <<JSON
{"bench":"ipfix","packets":$packets,"flow_records":$records,"cpus":$(nproc),"replay_s":$t_plain,"replay_cpu_s":$c_plain,"replay_ipfix_s":$t_ipfix,"replay_ipfix_cpu_s":$c_ipfix,"export_s":$export_s,"records_per_s":$rps,"softflowd_s":$t_soft,"softflowd_cpu_s":$c_soft,"collected_trafstat":$got_trafstat,"collected_softflowd":$got_soft,"live_flows":$live_flows,"live_rate":$live_rate,"agent_cpu_percent":$cpu_plain,"agent_ipfix_cpu_percent":$cpu_ipfix,"agent_records":$live_records,"agent_collected":$got_live}
JSON
echo "results: $out/ipfix.json"
