# shellcheck shell=bash
# What booting Debian 12's own 6.1 kernel under software emulation takes, shared by the
# many-vCPU benchmark (bench/vm/run.sh) and the vm test tier (tests/vm/run.sh). Sourced by bash:
#   vm_kernel CACHE            the kernel image (apt-get download, unpacked, never installed)
#   vm_initramfs WORK INIT BINARIES MODULES   busybox, the binaries with their libraries, the
#                              modules (and what they depend on, after depmod), INIT as /init
#   vm_boot WORK NAME VCPUS MEM_MB APPEND     boots, prints the guest's progress, kills it after
#                              VM_TIMEOUT seconds, unpacks the tar it left on its disk
# The guest (qemu TCG: KVM does not work on these machines) has no network device, one raw
# virtio disk (/dev/vda) to tar its results onto, and its console on the host's file.
# Console lines "$VM_MARKER ..." are its progress; nothing else is parsed.

VM_MARKER=${VM_MARKER:-VMGUEST}
VM_TIMEOUT=${VM_TIMEOUT:-3600}
vm_started=${vm_started:-$SECONDS}
vm_qemu_pid=""

vm_progress() { printf '[%5ds] %s\n' $((SECONDS - vm_started)) "$*"; }

# Kills a guest still running (the caller's EXIT trap calls it).
vm_cleanup() {
    if [ -n "$vm_qemu_pid" ]; then
        kill "$vm_qemu_pid" 2>/dev/null || true
        wait "$vm_qemu_pid" 2>/dev/null || true
        vm_qemu_pid=""
    fi
}

# vm_kernel CACHE: sets VM_KVER and VM_VMLINUZ (and VM_KERNEL_DIR, its unpacked package): the 6.1
# image linux-image-cloud-amd64 points at (KERNEL_PACKAGE overrides it), downloaded and unpacked
# once under CACHE, or the newest one already there. Returns 1 when there is none.
vm_kernel() {
    local cache=$1 package=${KERNEL_PACKAGE:-}
    mkdir -p "$cache"
    [ -n "$package" ] || package=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\./ { print $2; exit }')
    [ -n "$package" ] || package=$(find "$cache" -mindepth 1 -maxdepth 1 -name 'linux-image-6.1.*' -printf '%f\n' |
        sort -V | tail -n 1)
    if [ -z "$package" ]; then
        echo "no linux-image-6.1.*-cloud-amd64 in apt's lists nor in $cache" >&2
        return 1
    fi
    VM_KERNEL_DIR=$cache/$package
    if [ ! -d "$VM_KERNEL_DIR/boot" ]; then
        vm_progress "downloading and unpacking $package"
        rm -rf "$VM_KERNEL_DIR.tmp"
        mkdir -p "$VM_KERNEL_DIR.tmp/deb"
        if ! (cd "$VM_KERNEL_DIR.tmp/deb" && apt-get download -q "$package") ||
            ! dpkg-deb -x "$VM_KERNEL_DIR.tmp"/deb/*.deb "$VM_KERNEL_DIR.tmp"; then
            echo "cannot download or unpack $package" >&2
            rm -rf "$VM_KERNEL_DIR.tmp"
            return 1
        fi
        rm -rf "$VM_KERNEL_DIR.tmp/deb"
        depmod -b "$VM_KERNEL_DIR.tmp" "$(ls "$VM_KERNEL_DIR.tmp/lib/modules")"
        mv "$VM_KERNEL_DIR.tmp" "$VM_KERNEL_DIR"
    fi
    VM_KVER=$(ls "$VM_KERNEL_DIR/lib/modules")
    VM_VMLINUZ=$VM_KERNEL_DIR/boot/vmlinuz-$VM_KVER
}

# vm_initramfs WORK INIT "BINARIES" "MODULES": writes WORK/initramfs.cpio.gz (sets VM_INITRD),
# for the kernel vm_kernel found. BINARIES go to /bin, stripped of their debug information, with
# every shared library they load at its own path; every busybox applet they do not replace is a
# link to busybox (whose shell still runs its own applets first: call the others by path).
vm_initramfs() {
    local work=$1 init=$2 binaries=$3 modules=$4
    local root=$work/initramfs b lib m ko rel applet f
    vm_progress "building the initramfs ($VM_KVER)"
    rm -rf "$root"
    mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc,lib64,run} "$root/lib/modules/$VM_KVER"
    for b in $binaries; do
        strip --strip-debug -o "$root/bin/$(basename "$b")" "$b"
        for lib in $(ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
            [ -e "$root$lib" ] || cp -L --parents "$lib" "$root"
        done
    done
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(busybox --list); do
        [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
    done
    for f in /etc/services /etc/protocols; do
        [ -e "$f" ] && cp "$f" "$root/etc/"
    done
    for m in $modules; do
        for ko in $(modprobe -d "$VM_KERNEL_DIR" -S "$VM_KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'); do
            rel=${ko#"$VM_KERNEL_DIR"/}
            mkdir -p "$root/$(dirname "$rel")"
            cp "$ko" "$root/$rel"
        done
    done
    cp "$VM_KERNEL_DIR/lib/modules/$VM_KVER"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$VM_KVER/"
    depmod -b "$root" "$VM_KVER"
    cp "$init" "$root/init"
    VM_INITRD=$work/initramfs.cpio.gz
    (cd "$root" && find . | cpio -o -H newc --quiet) | gzip > "$VM_INITRD"
    vm_progress "initramfs: $(du -h "$VM_INITRD" | cut -f1)"
}

# vm_boot WORK NAME VCPUS MEM_MB APPEND: one guest; its console goes to WORK/console-NAME.log,
# what it tarred onto its disk to WORK/out-NAME (sets VM_RESULTS). Sets VM_BOOTED (seconds
# until its first progress line, empty if none) and VM_TOTAL. Returns 1, with the end of the
# console, when the disk holds no tar.
vm_boot() {
    local work=$1 name=$2 vcpus=$3 mem=$4 append=$5
    local console=$work/console-$name.log img=$work/out-$name.img
    VM_RESULTS=$work/out-$name
    rm -f "$img" && truncate -s 1G "$img"
    vm_progress "booting $VM_KVER: $vcpus vCPUs, $mem MiB (console: $console)"
    local boot_started=$SECONDS seen=0 lines last_beat=$SECONDS
    VM_BOOTED=""
    qemu-system-x86_64 -accel tcg -cpu max -smp "$vcpus" -m "$mem" -nographic -no-reboot -nic none \
        -kernel "$VM_VMLINUZ" -initrd "$VM_INITRD" -drive "file=$img,format=raw,if=virtio" \
        -append "console=ttyS0 panic=-1 quiet $append" < /dev/null > "$console" 2>&1 &
    vm_qemu_pid=$!
    while kill -0 "$vm_qemu_pid" 2>/dev/null; do
        sleep 2
        lines=$(grep -a -o "$VM_MARKER .*" "$console" | tr -d '\r' || true)
        if [ -n "$lines" ] && [ "$(echo "$lines" | wc -l)" -gt "$seen" ]; then
            echo "$lines" | tail -n +$((seen + 1)) | while read -r line; do vm_progress "guest: ${line#"$VM_MARKER" }"; done
            seen=$(echo "$lines" | wc -l)
            last_beat=$SECONDS
            [ -z "$VM_BOOTED" ] && VM_BOOTED=$((SECONDS - boot_started))
        elif [ $((SECONDS - last_beat)) -ge 60 ]; then
            vm_progress "still running (${VM_BOOTED:+booted; }$((SECONDS - boot_started)) s since qemu started)"
            last_beat=$SECONDS
        fi
        if [ $((SECONDS - boot_started)) -ge "$VM_TIMEOUT" ]; then
            vm_progress "timed out after $VM_TIMEOUT s: killing qemu"
            kill "$vm_qemu_pid"
        fi
    done
    wait "$vm_qemu_pid" || true
    vm_qemu_pid=""
    VM_TOTAL=$((SECONDS - boot_started))
    vm_progress "guest $name done in $VM_TOTAL s"
    rm -rf "$VM_RESULTS"
    mkdir -p "$VM_RESULTS"
    if ! tar -xf "$img" -C "$VM_RESULTS" 2>/dev/null; then
        echo "no results from the guest; the end of its console:" >&2
        tail -n 40 "$console" >&2
        return 1
    fi
    rm -f "$img"
}
