#include "bpf/counter_builds.hpp"

#include <trafstat/abi.h>  // the types of the skeletons' globals

#include "counter.skel.h"
#include "counter_no_kfuncs.skel.h"
#include "counter_no_vlan_kfunc.skel.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdlib>

#include <initializer_list>
#include <memory>
#include <utility>

namespace trafstat {
namespace {

// counter.skel.h's pointers into the globals must fit every build.
template <class Build>
constexpr bool same_globals = sizeof(*std::declval<Build&>().rodata) == sizeof(*std::declval<counter&>().rodata) &&
                              sizeof(*std::declval<Build&>().bss) == sizeof(*std::declval<counter&>().bss) &&
                              sizeof(Build) == sizeof(counter);
static_assert(same_globals<counter_no_vlan_kfunc> && same_globals<counter_no_kfuncs>,
              "the builds of bpf/counter.bpf.c must declare the same maps, programs and globals");

bool has_functions(const struct btf* vmlinux, std::initializer_list<const char*> names)
{
    for (const char* name : names)
        if (btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) < 0)
            return false;
    return true;
}

const void* elf_bytes(CounterBuild build, std::size_t* size)
{
    switch (build) {
    case CounterBuild::full:
        break;
    case CounterBuild::no_vlan_kfunc:
        return counter_no_vlan_kfunc__elf_bytes(size);
    case CounterBuild::no_kfuncs:
        return counter_no_kfuncs__elf_bytes(size);
    }
    return counter__elf_bytes(size);
}

}  // namespace

CounterBuild counter_build_for(const struct btf* vmlinux)
{
    if (!vmlinux || !has_functions(vmlinux, {"bpf_cast_to_kern_ctx", "bpf_rdonly_cast"}))
        return CounterBuild::no_kfuncs;
    if (!has_functions(vmlinux, {"bpf_xdp_metadata_rx_vlan_tag"}))
        return CounterBuild::no_vlan_kfunc;
    return CounterBuild::full;
}

CounterBuild counter_build_of_running_kernel()
{
    // Read once: every load would parse megabytes of BTF for the same answer.
    static const CounterBuild running = [] {
        const std::unique_ptr<struct btf, void (*)(struct btf*)> vmlinux(btf__load_vmlinux_btf(), btf__free);
        return counter_build_for(vmlinux.get());
    }();
    return running;
}

counter* open_counter(CounterBuild build)
{
    // counter__open_opts, with another build's bytes in the skeleton.
    auto* skel = static_cast<counter*>(calloc(1, sizeof(counter)));
    if (!skel) {
        errno = ENOMEM;
        return nullptr;
    }
    int err = counter__create_skeleton(skel);
    if (!err) {
        skel->skeleton->data = const_cast<void*>(elf_bytes(build, &skel->skeleton->data_sz));
        err = bpf_object__open_skeleton(skel->skeleton, nullptr);
    }
    if (err) {
        counter__destroy(skel);
        errno = -err;
        return nullptr;
    }
    return skel;
}

}  // namespace trafstat
