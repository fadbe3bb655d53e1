#!/bin/bash
# Live benchmarks, each against its reference in the same run, on a veth pair
# this script creates in two network namespaces of its own (and removes on
# every exit path): frames from `trafstat gen` (BPF live frames, XDP_TX) out
# of va0 into vb0, where the program under test runs in native XDP mode.
#
#   XDP: Mpps reaching the program on vb0 (the kernel's own per-queue XDP
#        counter, ethtool -S) and whether trafstat counted every one of them.
#        At 64k flows, also the peers' map designs (bench/peers.bpf.c), each
#        attached by trafstat-bench in the same rounds.
#   TC:  gen --inject into va0's receive path; Mpps with trafstat on TC
#        ingress against no program at all.
#   Userspace: trafstat's CPU time at a 1 s interval with 64k live flows,
#        idle, and its peak RSS.
#
# Usage: bench/live.sh [BUILD_DIR]   (root; DURATION=seconds per case, default 5)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_dirs "${1:-}"
dur=${DURATION:-5}
veth_pair "tsbench-g-$$" "tsbench-r-$$"

json_get() { python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print($1)"; }
holder_out=$out/holder.json
holder_err=$out/holder.err

declare -A mpps counted delivered
results=()

# One XDP run: NAME, gen options, then the receiver command. Keeps the
# case's best Mpps over the rounds; every run must count exactly.
lost=0
xdp_case() {
    local name=$1 gen_opts=$2
    shift 2
    start_holder "$ns_r" "$@"
    local before after g
    before=$(xdp_packets)
    g=$(in_g "$T" gen -t "$dur" -s 64 --json $gen_opts va0 2>/dev/null)
    after=$(xdp_packets)
    stop_holder
    local seconds rate got=""
    seconds=$(echo "$g" | json_get 'd["duration_s"]')
    rate=$(calc 3 "($after - $before) / $seconds / 1000000")
    if grep -q '"type":"summary"' "$holder_out"; then
        got=$(json_get 'd["interfaces"][0]["classes"]["all"]["packets"]' < "$holder_out")
        [ "$got" = $((after - before)) ] || { echo "LOST COUNTS in $name: counted $got of $((after - before))"; lost=1; }
    fi
    if [ -z "${mpps[$name]:-}" ] || [ "$(echo "$rate > ${mpps[$name]}" | bc -l)" = 1 ]; then
        mpps[$name]=$rate
        delivered[$name]=$((after - before))
        counted[$name]=$got
    fi
}

rounds=${ROUNDS:-3}
peers=(pktstat node_agent netobserv)
echo "== live XDP: 64-byte frames from trafstat gen (2 threads) into vb0, native XDP, best of $rounds rounds of ${dur}s"
for _ in $(seq "$rounds"); do
    xdp_case bare_drop "" "$B" attach vb0 drop
    xdp_case trafstat_drop "" "$T" --json -d --xdp-mode native vb0
    xdp_case bare_pass "" "$B" attach vb0 pass
    xdp_case trafstat_protocols "" "$T" --json --xdp-mode native vb0
    xdp_case trafstat_full_1flow "" "$T" --json --xdp-mode native --flows vb0
    xdp_case trafstat_full_64kflows "--flows 65536" "$T" --json --xdp-mode native --flows vb0
    xdp_case trafstat_tables_64kflows "--flows 65536" "$T" --json --xdp-mode native --talkers --ports --flows vb0
    xdp_case bare_pass_64kflows "--flows 65536" "$B" attach vb0 pass
    for peer in "${peers[@]}"; do
        xdp_case "${peer}_64kflows" "--flows 65536" "$B" attach vb0 "$peer"
    done
done
for name in bare_drop trafstat_drop bare_pass trafstat_protocols trafstat_full_1flow trafstat_full_64kflows \
    trafstat_tables_64kflows; do
    printf '%-28s %9s Mpps  delivered %-10s counted %s\n' "$name" "${mpps[$name]}" "${delivered[$name]}" \
        "${counted[$name]:--}"
    results+=("{\"name\":\"$name\",\"mpps\":${mpps[$name]},\"delivered\":${delivered[$name]},\"counted\":${counted[$name]:-null}}")
done

ratio() { calc 3 "${mpps[$1]} / ${mpps[$2]}"; }
echo "trafstat -d / bare XDP_DROP:            $(ratio trafstat_drop bare_drop)x"
echo "trafstat (protocols) / bare XDP_PASS:   $(ratio trafstat_protocols bare_pass)x"
echo "trafstat --flows / bare XDP_PASS:       $(ratio trafstat_full_1flow bare_pass)x (1 flow), $(ratio trafstat_full_64kflows bare_pass)x (64k flows)"
echo "trafstat --talkers --ports --flows / bare XDP_PASS: $(ratio trafstat_tables_64kflows bare_pass)x (64k flows)"
[ $lost = 0 ] && echo "every packet that reached the program was counted, in every run"

echo
echo "== live Mpps at 64k flows: trafstat --flows against the peers' map designs, same rounds as above"
for name in bare_pass_64kflows trafstat_full_64kflows "${peers[@]/%/_64kflows}"; do
    printf '%-28s %9s Mpps  %sx bare XDP_PASS\n' "$name" "${mpps[$name]}" "$(ratio "$name" bare_pass_64kflows)"
    [ "$name" = trafstat_full_64kflows ] ||
        results+=("{\"name\":\"$name\",\"mpps\":${mpps[$name]},\"delivered\":${delivered[$name]}}")
done

echo
echo "== live TC: trafstat gen --inject into va0's receive path (2 threads), best of $rounds rounds of ${dur}s"
declare -A sent
tc_case() {
    local name=$1
    shift
    : > "$holder_out"
    if [ $# -gt 0 ]; then start_holder "$ns_g" "$@"; fi
    local g rate n got=""
    g=$(in_g "$T" gen -t "$dur" -s 64 --inject --json va0 2>/dev/null)
    if [ $# -gt 0 ]; then stop_holder; fi
    rate=$(echo "$g" | json_get '"%.3f" % d["mpps"]')
    n=$(echo "$g" | json_get 'd["packets"]')
    if grep -q '"type":"summary"' "$holder_out" 2>/dev/null; then
        got=$(json_get 'd["interfaces"][0]["classes"]["all"]["packets"]' < "$holder_out")
        [ "$got" = "$n" ] || { echo "LOST COUNTS in $name: counted $got of $n"; lost=1; }
    fi
    if [ -z "${mpps[$name]:-}" ] || [ "$(echo "$rate > ${mpps[$name]}" | bc -l)" = 1 ]; then
        mpps[$name]=$rate
        sent[$name]=$n
        counted[$name]=$got
    fi
}
for _ in $(seq "$rounds"); do
    tc_case tc_no_program
    tc_case tc_bare_program "$B" attach va0 tc
    tc_case tc_trafstat "$T" --json --hook tc-ingress va0
    tc_case tc_trafstat_flows "$T" --json --hook tc-ingress --flows va0
done
for name in tc_no_program tc_bare_program tc_trafstat tc_trafstat_flows; do
    printf '%-28s %9s Mpps  sent %-10s counted %s\n' "$name" "${mpps[$name]}" "${sent[$name]}" "${counted[$name]:--}"
    results+=("{\"name\":\"$name\",\"mpps\":${mpps[$name]},\"sent\":${sent[$name]},\"counted\":${counted[$name]:-null}}")
done
echo "bare TC program / no program:           $(ratio tc_bare_program tc_no_program)x"
echo "trafstat TC ingress / no program:       $(ratio tc_trafstat tc_no_program)x"
echo "trafstat TC ingress --flows / none:     $(ratio tc_trafstat_flows tc_no_program)x"

echo
echo "== userspace: trafstat --flows -i 1 on vb0, CPU time over ${dur}s"
cpu_case() {
    local name=$1 gen_opts=$2
    start_holder "$ns_r" "$T" --json --xdp-mode native --flows -i 1 vb0
    local t0 c0 t1 c1
    t0=$(date +%s.%N)
    c0=$(awk '{print $14 + $15}' "/proc/$holder/stat")
    if [ -n "$gen_opts" ]; then
        in_g "$T" gen -t "$dur" -s 64 $gen_opts va0 > /dev/null 2>&1
    else
        sleep "$dur"
    fi
    c1=$(awk '{print $14 + $15}' "/proc/$holder/stat")
    t1=$(date +%s.%N)
    local rss
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$holder/status")
    stop_holder
    local tick pct
    tick=$(getconf CLK_TCK)
    pct=$(calc 2 "100 * ($c1 - $c0) / $tick / ($t1 - $t0)")
    local flows_seen
    flows_seen=$(json_get 'd["interfaces"][0]["tables"]["flows"]["entries"]' < "$holder_out")
    printf '%-28s CPU %6s%% of a core   peak RSS %6d KiB   distinct flows %s\n' "$name" "$pct" "$rss" "$flows_seen"
    results+=("{\"name\":\"$name\",\"cpu_percent\":$pct,\"peak_rss_kib\":$rss,\"flows\":$flows_seen}")
}
cpu_case idle ""
cpu_case flows_64k "--threads 1 --rate 1M --flows 65536"

(
    IFS=,
    echo "{\"bench\":\"live\",\"duration_s\":$dur,\"results\":[${results[*]}]}"
) > "$out/live.json"
echo "results: $out/live.json"
