#include "bpf/drop_reasons.hpp"

#include <trafstat/abi.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace trafstat {
namespace {

// "SKB_DROP_REASON_NO_SOCKET" → "no_socket"; "SKB_CONSUMED" → "consumed".
std::string reason_name(std::string_view enumerator)
{
    for (const std::string_view prefix : {"SKB_DROP_REASON_", "SKB_"}) {
        if (enumerator.starts_with(prefix)) {
            enumerator.remove_prefix(prefix.size());
            break;
        }
    }
    std::string name(enumerator);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    return name;
}

}  // namespace

DropReasons DropReasons::of_running_kernel()
{
    const std::unique_ptr<struct btf, void (*)(struct btf*)> vmlinux(btf__load_vmlinux_btf(), btf__free);
    return vmlinux ? from_btf(vmlinux.get()) : DropReasons{};
}

DropReasons DropReasons::from_btf(const struct btf* btf)
{
    DropReasons reasons;
    const int id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
    if (id < 0)
        return reasons;
    const struct btf_type* type = btf__type_by_id(btf, static_cast<__u32>(id));
    const struct btf_enum* values = btf_enum(type);
    for (int i = 0; i < btf_vlen(type); ++i) {
        const std::string_view enumerator = btf__name_by_offset(btf, values[i].name_off);
        const auto value = static_cast<std::uint32_t>(values[i].val);
        // MAX is a bound, not a reason; a value past the counters' limit is
        // counted as unknown (a subsystem's reasons: SKB_DROP_REASON_SUBSYS_MASK).
        if (enumerator == "SKB_DROP_REASON_MAX" || value >= TS_DROP_KERNEL_REASONS)
            continue;
        if (value >= reasons.names_.size())
            reasons.names_.resize(value + 1);
        reasons.names_[value] = reason_name(enumerator);
    }
    return reasons;
}

std::string_view DropReasons::name(std::uint32_t reason) const
{
    switch (reason) {
    case TS_DROP_REASON_XDP_ABORTED:
        return "xdp_aborted";
    case TS_DROP_REASON_XDP_INVALID:
        return "xdp_invalid";
    default:
        if (reason < names_.size() && !names_[reason].empty())
            return names_[reason];
        return "unknown";
    }
}

}  // namespace trafstat
