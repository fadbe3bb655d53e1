// The documented exit codes (docs/exit-codes.md). Scripts rely on them.
#pragma once

namespace trafstat::exit_code {
inline constexpr int ok = 0;
inline constexpr int runtime = 1;        // unexpected runtime failure (reading maps, an internal error)
inline constexpr int usage = 2;          // bad flags or arguments
inline constexpr int no_interface = 3;   // interface missing, or no default route
inline constexpr int privileges = 4;     // lacking CAP_BPF / CAP_NET_ADMIN
inline constexpr int attach = 5;         // attach refused (busy, unsupported mode, ...)
inline constexpr int load = 6;           // BPF object load / verifier failure
inline constexpr int interrupted = 130;  // replay stopped by SIGINT/SIGTERM before the end (128 + SIGINT)
inline constexpr int capture = 7;        // replay: capture missing, not a capture, damaged, unsupported link type
inline constexpr int unsupported = 8;    // gen: the kernel cannot send live frames (BPF_F_TEST_XDP_LIVE_FRAMES)
inline constexpr int address = 9;        // agent: the metrics address cannot be bound (in use, not local)
inline constexpr int pin_dir = 10;       // the pin dir is not on a BPF filesystem, or holds another layout version
inline constexpr int not_attached = 11;  // detach, dump, control: no trafstat attachment there
inline constexpr int output = 12;        // stdout cannot be written (a full disk, an I/O error); not a closed pipe
inline constexpr int lost = 13;          // live: an attachment lost while counting (interface deleted, ...)
}  // namespace trafstat::exit_code
