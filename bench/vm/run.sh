#!/bin/bash
# Many CPUs, simulated (issue 14): boots Debian's 6.1 cloud kernel under
# software emulation (qemu TCG; KVM does not work on this machine) with VCPUS
# vCPUs, from an initramfs of busybox, the kernel modules and the binaries of
# BUILD_DIR, and runs bench/vm/init there: the kernel memory of trafstat's
# maps (bpftool), exact counting with gen's threads on every vCPU, and the
# drain's CPU time with few and many keys. Emulated speed means nothing: only
# the drain's share of the CPU and what bpftool reports are results.
# All networking happens inside the guest (qemu has no network device).
#
# Usage: bench/vm/run.sh BUILD_DIR   (root; prints a table, writes BUILD_DIR/bench/vm.json)
#   VCPUS="8 32"     vCPU counts, one boot each (default 32)
#   MEM_MB=...       guest memory (default 1024 + 160 per vCPU: the 1M-slot flow table)
#   PACKETS, FLOWS   the exactness run: gen -n PACKETS --flows FLOWS on every vCPU (default
#                    400000, 4096: every vCPU sends every flow)
#   INTERVALS, INTERVAL_S   trafstat's CPU time is measured over INTERVALS intervals of
#                    INTERVAL_S seconds (default 6 of 10)
#   BURST            frames gen sends (FLOWS flows, from every vCPU but the first) at the start
#                    of each interval of the "many keys" case (default 65536); INTERVAL_S leaves
#                    it time to end before the drain (a burst that does not is reported)
#   READ_ENTRIES     trafstat-bench read --entries (default 1,65536)
#   BIG_TABLE=0      skips the idle drain of a 1M-slot flow table
#   TIMEOUT          seconds before a guest is killed (default 3600)
#   KERNEL_PACKAGE   the kernel package (default: what linux-image-cloud-amd64 depends on)
# The kernel is downloaded (apt-get download, never installed) and unpacked
# once, under BUILD_DIR/vm/kernel (scripts/vm/lib.sh, shared with the vm test tier).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ]; then
    echo "usage: bench/vm/run.sh BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
work=$build/vm
out=$build/bench
vcpus_list=${VCPUS:-32}
packets=${PACKETS:-400000}
flows=${FLOWS:-4096}
intervals=${INTERVALS:-6}
interval_s=${INTERVAL_S:-10}
burst=${BURST:-65536}
read_entries=${READ_ENTRIES:-1,65536}
big_table=${BIG_TABLE:-1}
timeout_s=${TIMEOUT:-3600}
for f in trafstat trafstat-bench; do
    [ -x "$build/$f" ] || { echo "no $build/$f: build it first" >&2; exit 1; }
done
mkdir -p "$out"

# shellcheck source=scripts/vm/lib.sh
. "$here/../../scripts/vm/lib.sh"
VM_MARKER=VMBENCH
VM_TIMEOUT=$timeout_s
trap vm_cleanup EXIT
trap 'exit 130' INT TERM

"$here/../../scripts/install-deps.sh" vm
vm_kernel "$work/kernel"
vm_initramfs "$work" "$here/init" "$build/trafstat $build/trafstat-bench $(command -v bpftool) \
$(command -v ip) $(command -v ethtool)" "virtio_pci virtio_blk veth sch_ingress cls_bpf"

# boot N: one guest with N vCPUs; its raw results end up in $work/out-N.
boot() {
    local n=$1 mem=${MEM_MB:-$((1024 + 160 * $1))}
    vm_boot "$work" "$n" "$n" "$mem" "VMB_PACKETS=$packets VMB_FLOWS=$flows VMB_BURST=$burst \
VMB_INTERVALS=$intervals VMB_INTERVAL_S=$interval_s VMB_READ_ENTRIES=$read_entries VMB_BIG_TABLE=$big_table" ||
        return 1
    [ -e "$VM_RESULTS/cpus" ] || { echo "the guest with $n vCPUs wrote no results" >&2; return 1; }
    echo "${VM_BOOTED:-null}" > "$VM_RESULTS/host_boot_s"
    echo "$VM_TOTAL" > "$VM_RESULTS/host_total_s"
    echo "$mem" > "$VM_RESULTS/mem_mb"
    grep -a -o 'VMBENCH ERROR .*' "$work/console-$n.log" | tr -d '\r' > "$VM_RESULTS/errors" || true
}

dirs=()
for n in ${vcpus_list//,/ }; do
    boot "$n"
    dirs+=("$work/out-$n")
done
python3 "$here/summarize.py" --json "$out/vm.json" --intervals "$intervals" "${dirs[@]}"
