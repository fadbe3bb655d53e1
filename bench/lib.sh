# Sourced by the benchmarks that need namespaces (live, drops, agent, ipfix): what they share,
# so that each script holds only its measurement. Bash; the caller sets `set -euo pipefail`.
#
#   bench_dirs [BUILD]     here (bench/), build, out (OUT or BUILD/bench, created), T, B
#   private_mounts "$@"    re-runs the script once in a private mount namespace (for a bpffs of
#                          its own; nothing mounted there is seen by, or left on, the host)
#   on_exit 'COMMAND'      run at exit, last registered first, whatever the exit path (the
#                          command is evaluated then, so it sees the variables' final values):
#                          register a process's stop after the namespace it runs in
#   veth_pair NS_G NS_R    two network namespaces joined by va0 (NS_G) <-> vb0 (NS_R), two
#                          queues each, IPv6 off, lo and the pair up; removed at exit
#   in_g, in_r             run a command in NS_G or NS_R
#   start_holder NS CMD..  starts the receiver under test in NS (stdout to $holder_out, stderr
#                          to $holder_err) and waits until it has attached; stop_holder: SIGINT
#                          and wait (it prints its summary); a holder still running at exit is
#                          killed
#   stop_pid PID           SIGTERM and wait, if PID is set
#   calc DIGITS EXPR       bc arithmetic, printed with DIGITS decimals
#   median N...            the median of its arguments
#   xdp_packets            packets that reached XDP on vb0 (the veth's own per-queue counters)

bench_exit_commands=()
holder=""
on_exit() { bench_exit_commands+=("$1"); }
bench_run_exit_commands() {
    local i
    stop_pid "$holder"
    for ((i = ${#bench_exit_commands[@]} - 1; i >= 0; i--)); do
        eval "${bench_exit_commands[$i]}" || true
    done
}
trap bench_run_exit_commands EXIT
trap 'exit 130' INT TERM

bench_dirs() {
    here=$(cd "$(dirname "$0")" && pwd)
    build=$(cd "${1:-$here/../build}" && pwd)
    out=${OUT:-$build/bench}
    mkdir -p "$out"
    T=$build/trafstat
    B=$build/trafstat-bench
}

private_mounts() {
    if [ -z "${TRAFSTAT_BENCH_PRIVATE_MOUNTS:-}" ]; then
        exec env TRAFSTAT_BENCH_PRIVATE_MOUNTS=1 unshare -m --propagation private "$0" "$@"
    fi
}

stop_pid() {
    if [ -n "${1:-}" ]; then
        kill "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}

veth_pair() {
    ns_g=$1
    ns_r=$2
    on_exit "ip netns del $ns_g 2>/dev/null; ip netns del $ns_r 2>/dev/null"
    ip netns add "$ns_g"
    ip netns add "$ns_r"
    local ns
    for ns in "$ns_g" "$ns_r"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
    ip link add va0 netns "$ns_g" numtxqueues 2 numrxqueues 2 type veth \
        peer name vb0 netns "$ns_r" numtxqueues 2 numrxqueues 2
    ip -n "$ns_g" link set va0 up
    ip -n "$ns_r" link set vb0 up
}
in_g() { ip netns exec "$ns_g" "$@"; }
in_r() { ip netns exec "$ns_r" "$@"; }

start_holder() {
    local ns=$1
    shift
    : > "$holder_out"
    : > "$holder_err"
    # Started by ip itself (not through a function): $! must be the receiver, which ip execs.
    ip netns exec "$ns" "$@" > "$holder_out" 2> "$holder_err" &
    holder=$!
    for _ in $(seq 100); do
        grep -q "counting on\|attached to\|agent serving" "$holder_err" && return 0
        kill -0 "$holder" 2>/dev/null || { cat "$holder_err" >&2; return 1; }
        sleep 0.1
    done
    echo "timed out waiting for: $*" >&2
    return 1
}
stop_holder() {
    kill -INT "$holder"
    wait "$holder" || true
    holder=""
}

calc() { LC_ALL=C printf "%.${1}f" "$(echo "scale=6; $2" | bc -l)"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
xdp_packets() { in_r ethtool -S vb0 | awk '/rx_queue_[0-9]+_xdp_packets/ {s += $2} END {print s + 0}'; }
