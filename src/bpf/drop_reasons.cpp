#include "bpf/drop_reasons.hpp"

#include <trafstat/abi.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

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

DropReasons drop_reasons_of_running_kernel()
{
    const std::unique_ptr<struct btf, void (*)(struct btf*)> vmlinux(btf__load_vmlinux_btf(), btf__free);
    return vmlinux ? drop_reasons_from_btf(vmlinux.get()) : DropReasons{};
}

DropReasons drop_reasons_from_btf(const struct btf* btf)
{
    std::vector<std::string> names;
    const int id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
    if (id < 0)
        return DropReasons{};
    const struct btf_type* type = btf__type_by_id(btf, static_cast<__u32>(id));
    const struct btf_enum* values = btf_enum(type);
    for (int i = 0; i < btf_vlen(type); ++i) {
        const std::string_view enumerator = btf__name_by_offset(btf, values[i].name_off);
        const auto value = static_cast<std::uint32_t>(values[i].val);
        // MAX is a bound, not a reason; a value past the counters' limit is
        // counted as unknown (a subsystem's reasons: SKB_DROP_REASON_SUBSYS_MASK).
        if (enumerator == "SKB_DROP_REASON_MAX" || value >= TS_DROP_KERNEL_REASONS)
            continue;
        if (value >= names.size())
            names.resize(value + 1);
        names[value] = reason_name(enumerator);
    }
    return DropReasons(std::move(names));
}

}  // namespace trafstat
