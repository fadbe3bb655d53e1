#pragma once

namespace trafstat {

// Throws Error(exit_code::privileges) unless the process can load BPF programs
// and attach them to interfaces (CAP_BPF or CAP_SYS_ADMIN, and CAP_NET_ADMIN).
void require_bpf_privileges();

// What a mode still needs once it has loaded and attached everything.
struct CapabilitiesAfterStart {
    // Netlink at exit: deleting a clsact filter, or putting back the XDP
    // program --force replaced.
    bool net_admin = false;
};

// Drops every capability but those in `keep` (docs/privileges.md), as
// ebpf_exporter does after start-up: from the effective, permitted and
// inheritable sets, the ambient set, and the bounding set when the process may
// (CAP_SETPCAP). CAP_BPF stays only where the kernel checks it on every bpf()
// command (before Linux 6.5, with kernel.unprivileged_bpf_disabled set): the
// maps are then read through the fds already held. Capabilities are per
// thread: call it before starting any thread. Throws Error on failure.
void drop_capabilities(CapabilitiesAfterStart keep);

}  // namespace trafstat
