// The names of the kernel's drop reasons (enum skb_drop_reason), read from
// the running kernel's BTF: names and values change between kernel versions.
#pragma once

#include "stats/drops.hpp"

struct btf;

namespace trafstat {

// From /sys/kernel/btf/vmlinux. A kernel without the enum (before 5.17) or
// without BTF gives no names: every drop is then "unknown".
DropReasons drop_reasons_of_running_kernel();
// From the enum skb_drop_reason in `btf` (none when it has no such enum).
DropReasons drop_reasons_from_btf(const struct btf* btf);

}  // namespace trafstat
