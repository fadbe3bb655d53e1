// The network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14): the id BPF
// programs read from a device (net->net_cookie), so userspace and the kernel
// name a namespace alike; interface indexes repeat across namespaces.
#pragma once

#include <cstdint>

namespace trafstat {

// The caller's network namespace. Throws Error(exit_code::runtime).
std::uint64_t current_netns_cookie();

}  // namespace trafstat
