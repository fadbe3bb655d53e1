#!/bin/bash
# `trafstat agent` serving /metrics: what a scrape costs as the series grow, and what the agent
# costs while nobody asks. On a veth pair in two network namespaces of its own (va0 -> vb0), with
# the pins in a private BPF filesystem (this script re-runs itself under `unshare -m`, so the
# mount and every pin vanish with it), all removed on every exit path. For each case the agent
# counts on vb0 (native XDP) with --flows and --metrics-top K; `trafstat gen --flows F` sends F
# distinct flows so that /metrics has about the series wanted; then:
#   scrape latency   median and p99 of 100 GETs of /metrics (one keep-alive-less client,
#                    from the agent's namespace)
#   idle CPU         the agent's utime + stime (/proc/PID/stat, in clock ticks) over IDLE seconds
#                    with no traffic and no scrape (its drains every -i only), in % of one core;
#                    and the same time to the nanosecond, summed over its threads' schedstat
#                    (the ticks are too coarse for an agent this idle)
#   RSS              VmRSS after the scrapes
#
# Usage: bench/agent.sh [BUILD_DIR]   (root; IDLE=seconds, default 30; INTERVAL=the agent's -i,
#                                      default 5, its default)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
private_mounts "$@"
bench_dirs "${1:-}"
idle=${IDLE:-30}
interval=${INTERVAL:-5}
agent=""
bpffs=$(mktemp -d /tmp/tsbench-agent-XXXXXXXX)
on_exit 'umount "$bpffs" 2>/dev/null; rmdir "$bpffs"'
mount -t bpf bpf "$bpffs"
veth_pair "tsbench-ag-$$" "tsbench-ar-$$"
on_exit 'stop_pid "$agent"'

url=http://127.0.0.1:9469/metrics

# 100 GETs of /metrics from the agent's namespace: "series median_ms p99_ms bytes".
scrape_stats() {
    in_r python3 - "$url" <<'EOF'
import statistics, sys, time, urllib.request
url, times = sys.argv[1], []
for _ in range(100):
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as r:
        body = r.read()
    times.append(time.perf_counter() - t0)
times.sort()
series = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
print(series, f"{statistics.median(times) * 1e3:.3f}", f"{times[98] * 1e3:.3f}", len(body))
EOF
}

# CPU time of the agent's live threads, in ns (schedstat's first field).
thread_cpu_ns() { cat /proc/"$agent"/task/*/schedstat | awk '{s += $1} END {printf "%d", s}'; }

results=()
# One case: NAME, the agent's --metrics-top, gen's --flows.
agent_case() {
    local name=$1 top=$2 flows=$3
    local pins=$bpffs/$name err=$out/agent-$name.err
    # Started by ip itself (not through a function: $! must be the agent, which ip execs).
    ip netns exec "$ns_r" "$T" agent --pin-dir "$pins" --detach-on-exit -i "$interval" --xdp-mode native --flows \
        --metrics-top "$top" vb0 2> "$err" &
    agent=$!
    for _ in $(seq 100); do
        grep -q "agent serving" "$err" && break
        kill -0 "$agent" 2>/dev/null || { cat "$err" >&2; return 1; }
        sleep 0.1
    done
    ip netns exec "$ns_g" "$T" gen -n $((flows * 4)) --flows "$flows" --threads 1 va0 > /dev/null 2>&1
    sleep $((interval + 1)) # a drain: the top keys are chosen and kept
    local series median p99 size
    read -r series median p99 size < <(scrape_stats)
    local tick c0 c1 n0 n1 t0 t1 rss pct ms
    tick=$(getconf CLK_TCK)
    t0=$(date +%s.%N)
    c0=$(awk '{print $14 + $15}' "/proc/$agent/stat")
    n0=$(thread_cpu_ns)
    sleep "$idle"
    c1=$(awk '{print $14 + $15}' "/proc/$agent/stat")
    n1=$(thread_cpu_ns)
    t1=$(date +%s.%N)
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
    pct=$(calc 3 "100 * ($c1 - $c0) / $tick / ($t1 - $t0)")
    ms=$(calc 3 "($n1 - $n0) / 1000000")
    kill "$agent"
    wait "$agent" || true
    agent=""
    printf '%-14s %7s %9s %10s %10s %12s %14s %10s\n' "$name" "$top" "$series" "$median" "$p99" "$pct" "$ms" "$rss"
    results+=("{\"name\":\"$name\",\"metrics_top\":$top,\"flows\":$flows,\"series\":$series,\"body_bytes\":$size,\"scrape_median_ms\":$median,\"scrape_p99_ms\":$p99,\"idle_cpu_percent\":$pct,\"idle_cpu_ms\":$ms,\"rss_kib\":$rss}")
}

echo "== trafstat agent --flows --metrics-top K on vb0 (-i $interval): 100 scrapes, then ${idle}s idle"
printf '%-14s %7s %9s %10s %10s %12s %14s %10s\n' case top series "median ms" "p99 ms" "idle CPU %" "idle CPU ms" "RSS KiB"
agent_case series_100 20 20
agent_case series_10k 5000 5000
agent_case series_20k 10000 10000

(
    IFS=,
    echo "{\"bench\":\"agent\",\"interval_s\":$interval,\"idle_s\":$idle,\"results\":[${results[*]}]}"
) > "$out/agent.json"
echo "results: $out/agent.json"
