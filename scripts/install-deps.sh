#!/bin/sh
# Installs, from Debian 12's archive, whatever trafstat needs that is not
# installed yet: `install-deps.sh build` what building and running it takes,
# `install-deps.sh` (all) that and what the tests and benchmarks use too,
# `install-deps.sh vm` what the VMs of the vm test tier and the many-vCPU benchmark boot with
# (part of all: `make test` runs the vm tier).
# Idempotent; needs root only when something is missing.
set -eu

BUILD="make cmake g++ clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
       libcli11-dev nlohmann-json3-dev libfmt-dev libgtest-dev libpcap-dev libzstd-dev libclang-rt-14-dev
       netbase libncurses-dev libcpp-httplib-dev libnl-route-3-dev libcap-dev python3 scdoc dpkg-dev"  # zlib1g-dev and libzstd-dev: compressed captures; netbase: /etc/services, the port names of the views; ncurses: --tui; httplib: the agent's /metrics; libnl-route: the links' own counters; libcap: dropping capabilities after start-up; python3 and scdoc: the man page and the completion, generated from --help; dpkg-dev: make deb's dpkg-shlibdeps
TEST="iproute2 iputils-ping ethtool tcpreplay tshark socat python3 clang-format python3-scapy procps bc python3-dpkt pcapfix golang-github-google-gopacket-dev tmux black
      systemd prometheus python3-yaml nfdump softflowd libfixbuf-tools nftables man-db lintian zstd"  # zstd: the compressed copies of the replay tests and bench; nftables: the rules that drop in drops.e2e; systemd-analyze verifies the unit; promtool checks the /metrics text, rules and configs; prometheus scrapes the agent in e2e (python3-yaml: its configs); nfcapd/nfdump, softflowd and ipfixDump check the IPFIX export
# The emulator, the guest's shells (dash runs the test binaries' system()), depmod and cpio for
# its initramfs, setcap and setpriv for its non-root run; the guest kernel is unpacked by
# scripts/vm/lib.sh, not installed.
VM="qemu-system-x86 busybox-static dash kmod cpio libcap2-bin util-linux"

case "${1:-all}" in
    build) WANTED=$BUILD ;;
    all) WANTED="$BUILD $TEST $VM" ;;
    vm) WANTED=$VM ;;
    *) echo "usage: install-deps.sh [build|all|vm]" >&2; exit 2 ;;
esac

missing=""
for p in $WANTED; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing; run as root (sudo make ...)" >&2
    exit 1
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
# prometheus, nfdump and softflowd ship services: the tests start their own on loopback, so
# none is started on install (policy-rc.d refuses every start while apt runs; ours only).
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
