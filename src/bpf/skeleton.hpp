// Owning and loading a bpftool skeleton (X__open, X__load, X__destroy) in
// libbpf-bootstrap's fixed order: open → set rodata → load. Failures become
// Error: a refused load carries the setcap hint (EPERM) or the verifier's tail.
//
//   Skeleton<counter> skel = open_skeleton(counter__open, counter__destroy, "the");
//   skel->rodata->... = ...;
//   load_skeleton(counter__load, *skel, "the");
#pragma once

#include <cerrno>
#include <memory>
#include <string_view>

namespace trafstat {

// How to get the capabilities a load needs: printed under a privileges error.
inline constexpr std::string_view kPrivilegesHint =
    "  run it as root (sudo trafstat ...), or grant the capabilities once:\n"
    "  sudo setcap cap_bpf,cap_net_admin,cap_perfmon+ep $(command -v trafstat)\n";

// A skeleton, destroyed with its X__destroy.
template <class Skel>
using Skeleton = std::unique_ptr<Skel, void (*)(Skel*)>;

// Error(exit_code::load): X__open failed with `err`. `whose` names the
// object in the message: "cannot open {whose} BPF object".
[[noreturn]] void throw_open_failed(int err, std::string_view whose);
// X__load failed with `err` (negative errno): Error(exit_code::privileges)
// with the setcap hint for EPERM, else Error(exit_code::load) with the
// verifier's tail ("the kernel rejected {whose} BPF program").
[[noreturn]] void throw_load_failed(int err, std::string_view whose);

// `open`: X__open, or anything returning a Skel* (null with errno set on failure).
template <class Skel, class Open>
Skeleton<Skel> open_skeleton(Open open, void (*destroy)(Skel*), std::string_view whose)
{
    Skeleton<Skel> skel(open(), destroy);
    if (!skel)
        throw_open_failed(errno, whose);
    return skel;
}

template <class Skel>
void load_skeleton(int (*load)(Skel*), Skel& skel, std::string_view whose)
{
    if (const int err = load(&skel); err)
        throw_load_failed(err, whose);
}

}  // namespace trafstat
