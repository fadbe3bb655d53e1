// Which build of the counter a kernel gets (bpf/counter_builds.hpp), from
// the kfuncs its BTF has, and what each build holds (no privileges: the
// objects are opened, not loaded).
#include "bpf/counter_builds.hpp"

#include <trafstat/abi.h>

#include "counter.skel.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>

namespace trafstat::test {
namespace {

using BtfPtr = std::unique_ptr<struct btf, void (*)(struct btf*)>;

// A BTF with a function of each name (int f(void), as the kernel's kfuncs need not match).
BtfPtr btf_with_functions(std::initializer_list<const char*> names)
{
    BtfPtr btf(btf__new_empty(), btf__free);
    const int int_type = btf__add_int(btf.get(), "int", 4, BTF_INT_SIGNED);
    const int proto = btf__add_func_proto(btf.get(), int_type);
    for (const char* name : names)
        EXPECT_GT(btf__add_func(btf.get(), name, BTF_FUNC_GLOBAL, proto), 0) << name;
    return btf;
}

constexpr const char* kCasts[] = {"bpf_cast_to_kern_ctx", "bpf_rdonly_cast"};
constexpr const char* kVlan = "bpf_xdp_metadata_rx_vlan_tag";

TEST(CounterBuildFor, EveryKfuncIsTheFullBuild)
{
    EXPECT_EQ(counter_build_for(btf_with_functions({"bpf_xdp_get_buff_len", kCasts[0], kCasts[1], kVlan}).get()),
              CounterBuild::full);
}

TEST(CounterBuildFor, TheCastsAloneLeaveTheVlanKfuncOut)
{
    EXPECT_EQ(counter_build_for(btf_with_functions({kCasts[0], kCasts[1]}).get()), CounterBuild::no_vlan_kfunc);
}

TEST(CounterBuildFor, AMissingCastLeavesEveryKfuncOut)
{
    EXPECT_EQ(counter_build_for(btf_with_functions({kCasts[0], kVlan}).get()), CounterBuild::no_kfuncs);
    EXPECT_EQ(counter_build_for(btf_with_functions({kCasts[1], kVlan}).get()), CounterBuild::no_kfuncs);
    EXPECT_EQ(counter_build_for(btf_with_functions({"bpf_xdp_get_buff_len"}).get()), CounterBuild::no_kfuncs);
}

TEST(CounterBuildFor, NoBtfIsTheBuildWithoutKfuncs)
{
    EXPECT_EQ(counter_build_for(nullptr), CounterBuild::no_kfuncs);
}

TEST(CounterBuildFor, OnlyReadsStrippedVlanTagsWithTheKfunc)
{
    EXPECT_TRUE(reads_stripped_vlan_tags(CounterBuild::full));
    EXPECT_FALSE(reads_stripped_vlan_tags(CounterBuild::no_vlan_kfunc));
    EXPECT_FALSE(reads_stripped_vlan_tags(CounterBuild::no_kfuncs));
}

// Which of the counter's kfuncs a build's object declares (libbpf's open
// rewrites their extern linkage: by name).
std::string kfuncs_of(CounterBuild build)
{
    const std::unique_ptr<counter, void (*)(counter*)> skel(open_counter(build), counter__destroy);
    EXPECT_TRUE(skel) << "cannot open the " << build_name(build) << " build";
    if (!skel)
        return "?";
    std::string names;
    for (const char* name : {kCasts[0], kCasts[1], kVlan})
        if (btf__find_by_name_kind(bpf_object__btf(skel->obj), name, BTF_KIND_FUNC) > 0)
            names += std::string(names.empty() ? "" : " ") + name;
    return names;
}

TEST(CounterBuilds, DeclareOnlyTheirKfuncs)
{
    EXPECT_EQ(kfuncs_of(CounterBuild::full), "bpf_cast_to_kern_ctx bpf_rdonly_cast bpf_xdp_metadata_rx_vlan_tag");
    EXPECT_EQ(kfuncs_of(CounterBuild::no_vlan_kfunc), "bpf_cast_to_kern_ctx bpf_rdonly_cast");
    EXPECT_EQ(kfuncs_of(CounterBuild::no_kfuncs), "");
}

}  // namespace
}  // namespace trafstat::test
