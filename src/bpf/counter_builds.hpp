// The builds of bpf/counter.bpf.c, one per generation of the kfuncs it calls
// (its header comment), and the one the running kernel loads. The full build
// loads everywhere as root, but where the kernel lacks one of its weak kfuncs
// libbpf 1.1 looks for it in the modules' BTF, and listing them needs
// CAP_SYS_ADMIN: the build without them loads with the capabilities
// docs/privileges.md names, and counts the same.
#pragma once

#include "base/names.hpp"

#include <string_view>

struct btf;
struct counter;  // generated skeleton (counter.skel.h)

namespace trafstat {

enum class CounterBuild {
    full,           // every kfunc: Linux 6.8+
    no_vlan_kfunc,  // without bpf_xdp_metadata_rx_vlan_tag (6.3-6.7): no device-bound XDP entry
    no_kfuncs,      // without bpf_cast_to_kern_ctx and bpf_rdonly_cast too (before 6.3)
};

// The first build whose kfuncs `vmlinux` has all of (null, no BTF: no_kfuncs).
CounterBuild counter_build_for(const struct btf* vmlinux);
// For the running kernel, from /sys/kernel/btf/vmlinux (anyone may read it), read once.
CounterBuild counter_build_of_running_kernel();
// Whether the build can count VLAN tags the driver stripped (a device-bound XDP entry).
inline bool reads_stripped_vlan_tags(CounterBuild build)
{
    return build == CounterBuild::full;
}
inline constexpr auto kCounterBuildNames = name_table<CounterBuild>({
    {CounterBuild::full, "full"},
    {CounterBuild::no_vlan_kfunc, "no_vlan_kfunc"},
    {CounterBuild::no_kfuncs, "no_kfuncs"},
});
inline std::string_view build_name(CounterBuild build)
{
    return kCounterBuildNames.name(build);
}

// counter__open() with the bytes of `build`: the builds share the skeleton's
// maps, programs and globals. Null with errno set on failure, as counter__open.
counter* open_counter(CounterBuild build);

}  // namespace trafstat
