// The names of the kernel's drop reasons (enum skb_drop_reason), read from
// the running kernel's BTF: names and values change between kernel versions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct btf;

namespace trafstat {

class DropReasons {
public:
    // From /sys/kernel/btf/vmlinux. A kernel without the enum (before 5.17)
    // or without BTF gives no names: every drop is then "unknown".
    static DropReasons of_running_kernel();
    // From the enum skb_drop_reason in `btf` (none when it has no such enum).
    static DropReasons from_btf(const struct btf* btf);

    // Whether the kernel names its drop reasons.
    bool known() const { return !names_.empty(); }
    // The name of a reason index of the drop counters (abi.h TS_DROP_REASON_*,
    // or the kernel's value): "no_socket", "unknown", "xdp_aborted", ...
    std::string_view name(std::uint32_t reason) const;

private:
    std::vector<std::string> names_;  // by kernel value; "" where it names none
};

}  // namespace trafstat
