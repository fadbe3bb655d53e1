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
# once, under BUILD_DIR/vm/kernel.
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
mkdir -p "$work/kernel" "$out"

qemu_pid=""
cleanup() {
    if [ -n "$qemu_pid" ]; then
        kill "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$SECONDS
progress() { printf '[%5ds] %s\n' $((SECONDS - started)) "$*"; }

"$here/../../scripts/install-deps.sh" vm

# The kernel: the 6.1 image linux-image-cloud-amd64 points at, or the newest one already unpacked.
kernel_package=${KERNEL_PACKAGE:-$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\./ { print $2; exit }')}
if [ -z "$kernel_package" ]; then
    kernel_package=$(find "$work/kernel" -mindepth 1 -maxdepth 1 -name 'linux-image-6.1.*' -printf '%f\n' |
        sort -V | tail -n 1)
fi
[ -n "$kernel_package" ] || { echo "no linux-image-6.1.*-cloud-amd64 in apt's lists nor in $work/kernel" >&2; exit 1; }
kernel_dir=$work/kernel/$kernel_package
if [ ! -d "$kernel_dir/boot" ]; then
    progress "downloading and unpacking $kernel_package"
    rm -rf "$kernel_dir.tmp"
    mkdir -p "$kernel_dir.tmp/deb"
    (cd "$kernel_dir.tmp/deb" && apt-get download -q "$kernel_package")
    dpkg-deb -x "$kernel_dir.tmp"/deb/*.deb "$kernel_dir.tmp"
    rm -rf "$kernel_dir.tmp/deb"
    kver=$(ls "$kernel_dir.tmp/lib/modules")
    depmod -b "$kernel_dir.tmp" "$kver"
    mv "$kernel_dir.tmp" "$kernel_dir"
fi
kver=$(ls "$kernel_dir/lib/modules")
vmlinuz=$kernel_dir/boot/vmlinuz-$kver

# The initramfs, rebuilt each run from BUILD_DIR's binaries.
progress "building the initramfs ($kver, binaries of $build)"
root=$work/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc,lib64} "$root/lib/modules/$kver"
# copy_binary FILE: into /bin, with every shared library it loads, at the same paths.
copy_binary() {
    local lib
    strip --strip-debug -o "$root/bin/$(basename "$1")" "$1"
    for lib in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
        [ -e "$root$lib" ] || cp -L --parents "$lib" "$root"
    done
}
for b in "$build/trafstat" "$build/trafstat-bench" "$(command -v bpftool)" "$(command -v ip)" \
    "$(command -v ethtool)"; do
    copy_binary "$b"
done
cp /bin/busybox "$root/bin/busybox"
for applet in $(busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
for f in /etc/services /etc/protocols; do
    [ -e "$f" ] && cp "$f" "$root/etc/"
done
for m in virtio_pci virtio_blk veth sch_ingress cls_bpf; do
    for ko in $(modprobe -d "$kernel_dir" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'); do
        rel=${ko#"$kernel_dir"/}
        mkdir -p "$root/$(dirname "$rel")"
        cp "$ko" "$root/$rel"
    done
done
cp "$kernel_dir/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
depmod -b "$root" "$kver"
cp "$here/init" "$root/init"
initrd=$work/initramfs.cpio.gz
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip > "$initrd"
progress "initramfs: $(du -h "$initrd" | cut -f1)"

# boot N: one guest with N vCPUs; its raw results end up in $work/out-N.
boot() {
    local n=$1 mem=${MEM_MB:-$((1024 + 160 * $1))}
    local console=$work/console-$n.log img=$work/out-$n.img results=$work/out-$n
    rm -f "$img" && truncate -s 1G "$img"
    progress "booting $n vCPUs, ${mem} MiB (console: $console)"
    local boot_started=$SECONDS
    qemu-system-x86_64 -accel tcg -cpu max -smp "$n" -m "$mem" -nographic -no-reboot -nic none \
        -kernel "$vmlinuz" -initrd "$initrd" \
        -drive "file=$img,format=raw,if=virtio" \
        -append "console=ttyS0 panic=-1 quiet VMB_PACKETS=$packets VMB_FLOWS=$flows VMB_BURST=$burst \
VMB_INTERVALS=$intervals VMB_INTERVAL_S=$interval_s VMB_READ_ENTRIES=$read_entries VMB_BIG_TABLE=$big_table" \
        < /dev/null > "$console" 2>&1 &
    qemu_pid=$!
    local seen=0 lines booted="" last_beat=$SECONDS
    while kill -0 "$qemu_pid" 2>/dev/null; do
        sleep 2
        lines=$(grep -a -o 'VMBENCH .*' "$console" | tr -d '\r' || true)
        if [ -n "$lines" ] && [ "$(echo "$lines" | wc -l)" -gt "$seen" ]; then
            echo "$lines" | tail -n +$((seen + 1)) | while read -r line; do progress "guest: ${line#VMBENCH }"; done
            seen=$(echo "$lines" | wc -l)
            last_beat=$SECONDS
            [ -z "$booted" ] && booted=$((SECONDS - boot_started))
        elif [ $((SECONDS - last_beat)) -ge 60 ]; then
            progress "still running (${booted:+booted; }$((SECONDS - boot_started)) s since qemu started)"
            last_beat=$SECONDS
        fi
        if [ $((SECONDS - boot_started)) -ge "$timeout_s" ]; then
            progress "timed out after $timeout_s s: killing qemu"
            kill "$qemu_pid"
        fi
    done
    wait "$qemu_pid" || true
    qemu_pid=""
    local total=$((SECONDS - boot_started))
    progress "guest with $n vCPUs done in $total s"
    rm -rf "$results"
    mkdir -p "$results"
    if ! tar -xf "$img" -C "$results" 2>/dev/null || [ ! -e "$results/cpus" ]; then
        echo "no results from the guest; the end of its console:" >&2
        tail -n 40 "$console" >&2
        return 1
    fi
    rm -f "$img"
    echo "${booted:-null}" > "$results/host_boot_s"
    echo "$total" > "$results/host_total_s"
    echo "$mem" > "$results/mem_mb"
    grep -a -o 'VMBENCH ERROR .*' "$console" | tr -d '\r' > "$results/errors" || true
}

dirs=()
for n in ${vcpus_list//,/ }; do
    boot "$n"
    dirs+=("$work/out-$n")
done
python3 "$here/summarize.py" --json "$out/vm.json" --intervals "$intervals" "${dirs[@]}"
