#!/bin/bash
# The cost of --drops (issue 13), each case against its reference in the same rounds, on a
# veth pair in two network namespaces of its own (removed on every exit path): 64-byte
# frames from `trafstat gen` (one thread, pinned to the last CPU, XDP_TX) out of va0 into
# vb0, where the receiver under test holds native XDP. vb0's namespace routes them on:
#
#   pass flood  forwarded out of sink0, an ifb device, which frees every packet routed to it
#               as consumed (dev_kfree_skb is consume_skb: no skb:kfree_skb event): a flood
#               through the stack in which nothing is dropped.
#   drop flood  the same frames, every one dropped by an nftables rule on vb0's ingress
#               (netdev family): one skb:kfree_skb, reason NETFILTER_DROP, a packet.
#
# Receivers on vb0: a bare XDP_PASS (trafstat-bench attach: no trafstat at all, the kernel's
# own cost of forwarding or of dropping a packet), trafstat, and trafstat --drops.
#
# CPU per packet: gen's thread does all the work on its CPU, its system calls and, in its
# context, vb0's receive path (the veth's NAPI softirq, charged to gen's system time when the
# kernel does not account IRQ time apart); the rest runs in that CPU's ksoftirqd. So: gen's
# user + system time plus ksoftirqd's, over the packets that reached XDP (the kernel's own
# per-queue counter, ethtool -S). Unlike Mpps, it does not move when other work on the
# machine takes the CPU from gen. Medians over the rounds (receivers interleaved in each
# round); what --drops adds is the median of each round's difference. Then one more drop
# run with the kernel's BPF run-time statistics on (for that run only: they slow every
# BPF program on the machine): the drop program's and the XDP counter's own time per run.
#
# Every run must count exactly: trafstat's packets = reached XDP; with --drops, the drops
# counted on vb0 = 0 (pass flood), or = reached XDP = the rule's counter, 64 bytes each,
# all netfilter_drop (drop flood).
#
# Usage: bench/drops.sh [BUILD_DIR]   (root; DURATION=seconds per run, default 2;
#                                      ROUNDS, default 5)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_dirs "${1:-}"
dur=${DURATION:-2}
rounds=${ROUNDS:-5}
send_cpu=$(($(nproc) - 1))
ksoftirqd=$(pgrep -x "ksoftirqd/$send_cpu")
stats_holder=""
veth_pair "tsbench-dg-$$" "tsbench-dr-$$"
on_exit 'stop_pid "$stats_holder"'
# gen's sources (198.18.0.1) behind vb0, its destination (198.19.0.1) behind sink0.
ip -n "$ns_r" addr add 198.18.0.254/16 dev vb0
ip -n "$ns_r" link add sink0 type ifb
ip -n "$ns_r" link set sink0 up
ip -n "$ns_r" route add 198.19.0.0/16 dev sink0
ip netns exec "$ns_r" sysctl -qw net.ipv4.ip_forward=1
# Addressed to vb0 (gen's default is broadcast, which a router does not forward).
vb0_mac=$(ip netns exec "$ns_r" cat /sys/class/net/vb0/address)

ksoftirqd_ticks() { awk '{print $14 + $15}' "/proc/$ksoftirqd/stat"; }

drop_rule() {
    in_r nft -f - <<'EOF'
table netdev tsbench_drops {
    chain ingress {
        type filter hook ingress device "vb0" priority filter; policy accept;
        counter drop
    }
}
EOF
}
rule_packets() { in_r nft list table netdev tsbench_drops | awk '/counter packets/ {print $3}'; }

# The receiver under test runs in vb0's namespace on CPU 0, away from the sending CPU.
holder_out=$out/drops-holder.json
holder_err=$out/drops-holder.err
receiver() { start_holder "$ns_r" taskset -c 0 "$@"; }
# The flood: prints "packets-sent seconds cpu-seconds" (gen's own user + system time).
send() {
    local TIMEFORMAT='%3U %3S' json times
    times=$({ time in_g taskset -c "$send_cpu" "$T" gen -t "$dur" -s 64 --threads 1 --dst-mac "$vb0_mac" \
        --json va0 > "$out/drops-gen.json" 2> /dev/null; } 2>&1)
    json=$(python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["packets"], d["duration_s"])' \
        < "$out/drops-gen.json")
    echo "$json $(calc 3 "${times/ / + }")"
}

# From the receiver's summary line: "packets counted", and with --drops "drops counted on
# vb0, their bytes, their reasons".
summary_counts() {
    grep '"type":"summary"' "$holder_out" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
print(d["interfaces"][0]["classes"]["all"]["packets"], end=" ")
if "drops" in d:
    r = d["drops"][0]["received"]
    print(r["packets"], r["bytes"], ",".join(sorted(r["reasons"])) or "none", end="")
print()'
}

declare -A mpps cpu_ns checks
exact=1
mismatch() {
    echo "MISMATCH: $*"
    exact=0
}
# One run: FLOOD (pass|drop), RECEIVER name, then the receiver's command. Values are
# appended per round, in round order.
run_case() {
    local flood=$1 name=$2
    shift 2
    local key=$flood/$name x0 x1 r0=0 r1=0 k0 k1 sent seconds cpu
    receiver "$@"
    [ "$flood" = pass ] || r0=$(rule_packets)
    x0=$(xdp_packets)
    k0=$(ksoftirqd_ticks)
    read -r sent seconds cpu < <(send)
    k1=$(ksoftirqd_ticks)
    x1=$(xdp_packets)
    [ "$flood" = pass ] || r1=$(rule_packets)
    stop_holder
    local packets=$((x1 - x0))
    [ "$packets" -gt 0 ] || { echo "no packet reached XDP on vb0 ($sent sent)" >&2; return 1; }
    mpps[$key]+=" $(calc 3 "$packets / $seconds / 1000000")"
    cpu_ns[$key]+=" $(calc 1 "($cpu + ($k1 - $k0) / $(getconf CLK_TCK)) * 1000000000 / $packets")"
    if [ "$flood" = drop ] && [ $((r1 - r0)) != "$packets" ]; then
        mismatch "$key: the rule dropped $((r1 - r0)) of $packets"
    fi
    [ "$name" != bare ] || return 0
    local counted dropped bytes reasons
    read -r counted dropped bytes reasons < <(summary_counts)
    [ "$counted" = "$packets" ] || mismatch "$key: counted $counted of $packets"
    [ -n "$dropped" ] || return 0
    if [ "$flood" = pass ]; then
        [ "$dropped" = 0 ] || mismatch "$key: counted $dropped drops ($reasons) where nothing was dropped"
    else
        [ "$dropped" = "$packets" ] && [ "$bytes" = $((packets * 64)) ] && [ "$reasons" = netfilter_drop ] ||
            mismatch "$key: counted $dropped drops ($bytes bytes, $reasons) of $packets 64-byte frames dropped by the rule"
    fi
    checks[$key]+=" $dropped/$packets"
}

receivers=(bare trafstat trafstat_drops)
receive() {
    case $2 in
        bare) run_case "$1" bare "$B" attach vb0 pass ;;
        trafstat) run_case "$1" trafstat "$T" --json --xdp-mode native vb0 ;;
        trafstat_drops) run_case "$1" trafstat_drops "$T" --json --xdp-mode native --drops vb0 ;;
    esac
}

echo "== --drops: 64-byte frames from trafstat gen (1 thread, CPU $send_cpu) into vb0 (native XDP), forwarded (pass) or all dropped by nftables (drop); median of $rounds rounds of ${dur}s"
order=("${receivers[@]}")
for _ in $(seq "$rounds"); do
    for name in "${order[@]}"; do receive pass "$name"; done
    drop_rule
    for name in "${order[@]}"; do receive drop "$name"; done
    in_r nft delete table netdev tsbench_drops
    # Every other round in reverse, so that no receiver always runs first after a change.
    mapfile -t order < <(printf '%s\n' "${order[@]}" | tac)
done

# "type name runs run_time_ns" of each of the receiver's BPF programs (the prog_id of its
# program and link descriptors).
prog_stats() {
    local id
    for id in $(cat /proc/"$holder"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ {print $2}' | sort -u); do
        bpftool prog show id "$id" --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(p["type"], p["name"], p.get("run_cnt", 0), p.get("run_time_ns", 0))'
    done
}
# One more run of FLOOD with trafstat --drops and the kernel's BPF run-time statistics on:
# how often the drop program ran for the packets that reached XDP, its time a run, and the
# XDP counter's.
declare -A stat_packets drop_runs drop_ns xdp_ns
stats_run() {
    local flood=$1 x0 x1 type name runs ns
    [ "$flood" = pass ] || drop_rule
    receiver "$T" --json --xdp-mode native --drops vb0
    # BPF_ENABLE_STATS: on while the descriptor it returns is open, so off when this exits.
    python3 -c '
import ctypes, os, signal, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
attr = struct.pack("I", 0).ljust(128, b"\0")  # BPF_STATS_RUN_TIME
nr_bpf = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
if libc.syscall(nr_bpf, 32, attr, len(attr)) < 0:  # 32: BPF_ENABLE_STATS
    sys.exit("BPF_ENABLE_STATS: " + os.strerror(ctypes.get_errno()))
print("on", flush=True)
signal.pause()' > "$out/drops-stats.out" &
    stats_holder=$!
    for _ in $(seq 50); do grep -q on "$out/drops-stats.out" && break; sleep 0.1; done
    x0=$(xdp_packets)
    send > /dev/null
    x1=$(xdp_packets)
    stat_packets[$flood]=$((x1 - x0))
    while read -r type name runs ns; do
        if [ "$name" = trafstat_drop ]; then
            drop_runs[$flood]=$runs
            drop_ns[$flood]=$([ "$runs" = 0 ] && echo 0 || calc 1 "$ns / $runs")
        elif [ "$type" = xdp ]; then
            xdp_ns[$flood]=$(calc 1 "$ns / $runs")
        fi
    done < <(prog_stats)
    kill "$stats_holder"
    wait "$stats_holder" 2>/dev/null || true
    stats_holder=""
    stop_holder
    [ "$flood" = pass ] || in_r nft delete table netdev tsbench_drops
}
stats_run pass
stats_run drop

results=()
table=()
m() { median ${mpps[$1]}; }
c() { median ${cpu_ns[$1]}; }
best() { printf '%s\n' ${cpu_ns[$1]} | sort -g | head -n 1; }
printf '%-6s %-15s %7s %8s %11s %9s %9s  %s\n' flood receiver Mpps "x bare" "CPU ns/pkt" "x bare" "best" "drops counted/reached XDP"
for flood in pass drop; do
    for name in "${receivers[@]}"; do
        key=$flood/$name
        rate=$(m "$key")
        cpu=$(c "$key")
        low=$(best "$key")
        rate_x=$(calc 3 "$rate / $(m "$flood/bare")")
        cpu_x=$(calc 3 "$cpu / $(c "$flood/bare")")
        printf '%-6s %-15s %7s %8s %11s %9s %9s  %s\n' "$flood" "$name" "$rate" "$rate_x" "$cpu" "$cpu_x" "$low" \
            "${checks[$key]:--}"
        table+=("| $flood | $name | $rate ($rate_x) | $cpu ($cpu_x) | $low | ${checks[$key]:-} |")
        results+=("{\"flood\":\"$flood\",\"receiver\":\"$name\",\"mpps\":$rate,\"mpps_x_bare\":$rate_x,\"cpu_ns_per_packet\":$cpu,\"cpu_x_bare\":$cpu_x,\"best_cpu_ns_per_packet\":$low,\"rounds_mpps\":[$(echo ${mpps[$key]} | tr ' ' ,)],\"rounds_cpu_ns\":[$(echo ${cpu_ns[$key]} | tr ' ' ,)]}")
    done
done
# What --drops adds: the median of each round's difference (runs seconds apart share the
# machine's state more than the rounds do), and the difference of the best runs.
added() {
    local with without differences=()
    read -ra with <<< "${cpu_ns[$1/trafstat_drops]}"
    read -ra without <<< "${cpu_ns[$1/trafstat]}"
    for i in "${!with[@]}"; do differences+=("$(calc 1 "${with[$i]} - ${without[$i]}")"); done
    median "${differences[@]}"
}
added_best() { calc 1 "$(best "$1/trafstat_drops") - $(best "$1/trafstat")"; }
declare -A added_median added_low
for flood in pass drop; do
    added_median[$flood]=$(added $flood)
    added_low[$flood]=$(added_best $flood)
done
summary=(
    "--drops where nothing is dropped: ${added_median[pass]} ns CPU a packet (best runs: ${added_low[pass]}), $(calc 3 "$(m pass/trafstat_drops) / $(m pass/trafstat)")x trafstat's Mpps; with run-time statistics on, the drop program ran ${drop_runs[pass]} times (the machine's other drops) while ${stat_packets[pass]} packets crossed vb0"
    "--drops where every packet is dropped: ${added_median[drop]} ns CPU a dropped packet (best runs: ${added_low[drop]}), $(calc 3 "$(m drop/trafstat_drops) / $(m drop/trafstat)")x trafstat's Mpps; the drop program's own time ${drop_ns[drop]} ns a run (${drop_runs[drop]} runs for ${stat_packets[drop]} packets dropped), trafstat's XDP counter's ${xdp_ns[drop]} ns"
    "with no trafstat at all, the kernel spends $(c drop/bare) ns of CPU on a packet dropped at vb0's ingress, $(c pass/bare) ns on one forwarded"
)
printf '%s\n' "${summary[@]}"
[ $exact = 1 ] && echo "every run exact: trafstat counted every packet that reached XDP; --drops no drop in the pass flood, every one in the drop flood"

# The same as a fragment for docs/performance.md.
{
    echo "| flood | receiver on vb0 | Mpps (x bare) | CPU ns/packet (x bare) | best run, ns | drops counted / reached XDP, each round |"
    echo "|---|---|---:|---:|---:|---|"
    printf '%s\n' "${table[@]}"
    echo
    printf -- '- %s\n' "${summary[@]}"
} > "$out/drops.md"
(
    IFS=,
    echo "{\"bench\":\"drops\",\"duration_s\":$dur,\"rounds\":$rounds,\"send_cpu\":$send_cpu,\"exact\":$([ $exact = 1 ] && echo true || echo false),\"pass_added_cpu_ns\":${added_median[pass]},\"pass_added_cpu_ns_best\":${added_low[pass]},\"drop_added_cpu_ns\":${added_median[drop]},\"drop_added_cpu_ns_best\":${added_low[drop]},\"pass_drop_prog_runs\":${drop_runs[pass]},\"pass_packets\":${stat_packets[pass]},\"drop_prog_ns_per_run\":${drop_ns[drop]},\"drop_prog_runs\":${drop_runs[drop]},\"drop_packets\":${stat_packets[drop]},\"xdp_prog_ns_per_run\":${xdp_ns[drop]},\"results\":[${results[*]}]}"
) > "$out/drops.json"
echo "results: $out/drops.json $out/drops.md"
