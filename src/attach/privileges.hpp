#pragma once

namespace trafstat {

// Throws Error(exit_code::privileges) unless the process can load BPF programs
// and attach them to interfaces (CAP_BPF or CAP_SYS_ADMIN, and CAP_NET_ADMIN).
void require_bpf_privileges();

}  // namespace trafstat
