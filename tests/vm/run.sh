#!/bin/bash
# The vm tier: Debian 12's own 6.1 kernel, which has no TCX, booted under software emulation
# (scripts/vm/lib.sh, shared with bench/vm) with the packet tier's binaries, trafstat and
# iproute2; tests/vm/init runs there the packet tier and a small end-to-end tier (XDP native
# and generic, drop mode, the clsact fallback and what a SIGKILL leaves, XDP, TC and --drops
# as a non-root user with file capabilities), counts checked
# exactly. Prints the guest's log; exits 1 on any failure, 77 when qemu or the kernel is
# unavailable (a failure under CI=true). Nothing is timed: the CPU is emulated.
#
# Usage: tests/vm/run.sh BUILD_DIR   (root; the kernel is cached under BUILD_DIR/vm/kernel)
#   TIMEOUT      seconds before the guest is killed (default 600)
#   VCPUS        guest vCPUs (default 2)
#   TIERS        what the guest runs, comma-separated (default packet,e2e)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: tests/vm/run.sh BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
work=$build/vm-test

# Packet tests that cannot pass on the emulated 6.1 (a newer kernel's behaviour, emulation's timing),
# excluded by name, each with its reason, and printed: never skipped unseen.
excluded_on_6_1=(
    "DropReasons.NamesTheRunningKernelsReasonsByTheirValues  wants reason 1 named consumed: SKB_CONSUMED is Linux 6.2+ (on 6.1, 1 is not_specified)"
    "DropCounter.CountsXdpAbortedOnTheInterface  wants all 100 datagrams aborted by generic XDP on lo just attached: under emulation some pass it (18 once, as the drop counter counted: 82 aborted, 18 no_socket)"
)

# shellcheck source=scripts/vm/lib.sh
. "$here/../../scripts/vm/lib.sh"
VM_MARKER=VMTEST
VM_TIMEOUT=${TIMEOUT:-600}
trap vm_cleanup EXIT
trap 'exit 130' INT TERM

# cannot_run WHY: skip (77), or fail under CI=true, where this tier must run.
cannot_run() {
    if [ "${CI:-}" = true ]; then
        echo "vm tier: cannot run: $*; CI=true: failing" >&2
        exit 1
    fi
    echo "vm tier: SKIPPED: $*" >&2
    exit 77
}
[ "$(id -u)" -eq 0 ] || cannot_run "needs root (depmod, the kernel package)"
for tool in qemu-system-x86_64 busybox dash depmod cpio setcap setpriv; do
    command -v "$tool" > /dev/null || cannot_run "no $tool (scripts/install-deps.sh vm)"
done
for f in trafstat tests/packet_tests tests/differential_tests; do
    [ -x "$build/$f" ] || { echo "no $build/$f: build it first" >&2; exit 1; }
done
mkdir -p "$work"
vm_kernel "$build/vm/kernel" || cannot_run "no Debian 6.1 kernel"
vm_initramfs "$work" "$here/init" "$build/trafstat $build/tests/packet_tests $build/tests/differential_tests \
$(command -v ip) $(command -v tc) $(command -v bpftool) $(command -v dash) $(command -v setcap) $(command -v setpriv)" "virtio_pci virtio_blk veth sch_ingress cls_bpf"

if [ ${#excluded_on_6_1[@]} -gt 0 ]; then
    echo "vm tier: packet tests excluded on 6.1:"
    printf '  %s\n' "${excluded_on_6_1[@]}"
fi
filter=$(IFS=:; echo "${excluded_on_6_1[*]%%  *}")
vm_boot "$work" guest "${VCPUS:-2}" 1024 \
    "ipv6.disable=1 TIERS=${TIERS:-packet,e2e} EXCLUDED_ON_6_1=$filter PER_FRAME_SUITES=Packets/PacketTest.*:Flows/FlowKeyTest.*:Gso/GsoTest.*:DropMode/DropModeTest.* \
SAMPLE_SHARDS=16 DIFFERENTIAL_FRAMES=${DIFFERENTIAL_FRAMES:-5000}" || exit 1
echo "---- the guest's log ----"
cat "$VM_RESULTS/log" 2> /dev/null || true
echo "---- end of the guest's log ----"
status=$(cat "$VM_RESULTS/status" 2> /dev/null || echo "none (the guest did not finish)")
echo "vm tier on $(cat "$VM_RESULTS/kernel" 2> /dev/null): $(cat "$VM_RESULTS/passed" 2> /dev/null || echo 0) passed," \
    "$(cat "$VM_RESULTS/failed" 2> /dev/null || echo '?') failed; status $status; guest ran $VM_TOTAL s"
[ "$status" = pass ]
