// The pinned layout of trafstat's attachments (docs/agent.md): what `attach`
// leaves counting with no process, and `agent`, `status`, `dump`, `detach`
// and `control` find again.
//
//   <pin-dir>/v<TS_LAYOUT_VERSION>/<ifname>/<hook>/link        the bpf_link
//                                                 /control     ts_control (.bss)
//                                                 /stats       per-CPU ts_stats
//                                                 /tables      keyed-table slots
//                                                 /table_used  their bitmap
//                                                 /key_totals  totals per key since attach
//
// The version directory keeps an older or newer layout apart: it is refused,
// never read.
#pragma once

#include "base/names.hpp"

#include <trafstat/abi.h>

#include <string>
#include <string_view>
#include <vector>

namespace trafstat {

inline constexpr std::string_view kDefaultPinDir = "/sys/fs/bpf/trafstat";

enum class Pin { link, control, stats, tables, table_used, key_totals };
inline constexpr auto kPinNames = name_table<Pin>({
    {Pin::link, "link"},
    {Pin::control, "control"},
    {Pin::stats, "stats"},
    {Pin::tables, "tables"},
    {Pin::table_used, "table_used"},
    {Pin::key_totals, "key_totals"},
});

// "<pin-dir>/v1"
std::string layout_dir(const std::string& pin_dir);
// "<pin-dir>/v1/<ifname>/<hook>"
std::string attachment_dir(const std::string& pin_dir, std::string_view ifname, std::string_view hook);
// "<dir>/<name>"
std::string pin_path(const std::string& dir, Pin pin);

// Checks `pin_dir` before use: it must be on a BPF filesystem (created
// there with `create`, owner-only like any directory it needs), neither it nor a
// directory above it may be changed by another user (writable by group or others
// without the sticky bit, or owned by neither root nor us), and it must hold no
// layout of another version. Throws
// Error(exit_code::pin_dir) saying what is wrong and, for another version,
// how to remove it.
void check_pin_dir(const std::string& pin_dir, bool create);

// One attachment directory of the current layout.
struct PinnedDir {
    std::string ifname;
    std::string hook;
    std::string path;
};
// Every attachment directory under `pin_dir` (none when it does not exist).
std::vector<PinnedDir> list_pinned(const std::string& pin_dir);

// Pins `fd` (a map or link) at `path`. Throws Error(exit_code::attach).
void pin_object(int fd, const std::string& path);
// Opens a pinned object; -1 when absent (errno ENOENT). Throws Error for any
// other failure (exit_code::privileges for EPERM/EACCES).
int open_pinned(const std::string& path);
// Removes the pins of one attachment directory, then the directory and its
// empty parents up to `pin_dir` (kept). Only the names of kPinNames are
// removed: anything else found there is reported in `left` and kept.
void remove_pinned(const std::string& pin_dir, const std::string& dir, std::vector<std::string>& left);

// An exclusive lock on an attachment directory, held by the one agent that
// serves it for as long as it runs (released when the process dies, even by
// SIGKILL). `status` and `dump` test it.
class DirLock {
public:
    // Takes the lock without waiting; valid() is false when another process holds it.
    explicit DirLock(const std::string& dir);
    DirLock(DirLock&& o) noexcept;
    DirLock& operator=(DirLock&&) = delete;
    ~DirLock();
    bool valid() const { return fd_ >= 0; }
    // Whether a process holds the lock of `dir` now.
    static bool held(const std::string& dir);

private:
    int fd_ = -1;
};

}  // namespace trafstat
