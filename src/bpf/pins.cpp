#include "bpf/pins.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <utility>

namespace trafstat {
namespace {

namespace fs = std::filesystem;

std::string version_name(unsigned version)
{
    return fmt::format("v{}", version);
}

bool on_bpffs(const std::string& path)
{
    struct statfs st {};
    return statfs(path.c_str(), &st) == 0 && static_cast<unsigned long>(st.f_type) == BPF_FS_MAGIC;
}

// Why another user could change what is under `dir` (replace or remove the pins
// there), or "": the dir is writable by group or others without the sticky bit,
// or owned by neither root nor us. sshd's StrictModes and systemd's safe path
// transitions reason the same way.
std::string unsafe_because(const fs::path& dir)
{
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0)
        return {};  // not there yet: made owner-only below
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
        return fmt::format("is writable by {} (mode {:04o}, no sticky bit)",
                           (st.st_mode & S_IWOTH) ? "others" : "its group", st.st_mode & 07777);
    if (st.st_uid != 0 && st.st_uid != geteuid())
        return fmt::format("is owned by uid {}, neither root nor this user", st.st_uid);
    return {};
}

// The pin dir and every directory above it: nobody but root and us may change
// them, or the pins under them could be swapped for someone else's.
void check_safe_path(const std::string& pin_dir)
{
    std::error_code ec;
    const fs::path full = fs::absolute(pin_dir, ec).lexically_normal();
    fs::path dir;
    for (const fs::path& part : full) {
        dir /= part;
        if (const std::string why = unsafe_because(dir); !why.empty())
            throw Error(exit_code::pin_dir,
                        fmt::format("{} is not safe for pins: {}{} {}: another user could replace them (make it "
                                    "owner-writable only, or choose another --pin-dir)",
                                    pin_dir, dir.string(), dir == full ? "" : ", a directory above it,", why));
    }
}

// Makes the missing directories of `pin_dir` owner-only (0700, whatever the
// umask), as the pin dir itself: the bpffs root is 0700 under systemd anyway, and
// bpftool makes its directories so.
void create_owner_only(const fs::path& pin_dir)
{
    fs::path dir;
    for (const fs::path& part : pin_dir) {
        dir /= part;
        if (mkdir(dir.c_str(), 0700) == 0) {
            chmod(dir.c_str(), 0700);
        } else if (errno != EEXIST) {
            const int err = errno;
            throw Error(err == EACCES || err == EPERM ? exit_code::privileges : exit_code::pin_dir,
                        fmt::format("cannot create {}: {}", dir.string(), errno_text(err)));
        }
    }
}

}  // namespace

std::string layout_dir(const std::string& pin_dir)
{
    return pin_dir + "/" + version_name(TS_LAYOUT_VERSION);
}

std::string attachment_dir(const std::string& pin_dir, std::string_view ifname, std::string_view hook)
{
    return fmt::format("{}/{}/{}", layout_dir(pin_dir), ifname, hook);
}

std::string pin_path(const std::string& dir, Pin pin)
{
    return fmt::format("{}/{}", dir, kPinNames.name(pin));
}

void check_pin_dir(const std::string& pin_dir, bool create)
{
    std::error_code ec;
    if (create && !fs::exists(pin_dir, ec)) {
        // Only inside a BPF filesystem: a pin dir elsewhere would be a plain directory.
        fs::path existing = fs::path(pin_dir).parent_path();
        while (!existing.empty() && !fs::exists(existing, ec))
            existing = existing.parent_path();
        if (!on_bpffs(existing.string()))
            throw Error(exit_code::pin_dir,
                        fmt::format("{} is not on a BPF filesystem: mount one (mount -t bpf bpf DIR) and choose "
                                    "--pin-dir inside it",
                                    pin_dir));
        check_safe_path(pin_dir);
        // Owner-only, and so are the directories it needs: as the attachment dirs and the pins (0600).
        create_owner_only(fs::absolute(pin_dir, ec).lexically_normal());
    }
    if (!fs::exists(pin_dir, ec))
        return;
    if (!on_bpffs(pin_dir))
        throw Error(exit_code::pin_dir,
                    fmt::format("{} is not on a BPF filesystem (bpffs): pins cannot live there", pin_dir));
    check_safe_path(pin_dir);
    for (const auto& e : fs::directory_iterator(pin_dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.size() > 1 && name[0] == 'v' && name != version_name(TS_LAYOUT_VERSION))
            throw Error(exit_code::pin_dir,
                        fmt::format("{} holds attachments of pin layout {}, and this trafstat reads only {}: "
                                    "detach them with the trafstat that made them (trafstat detach --all "
                                    "--pin-dir {}), or remove {}",
                                    pin_dir, name, version_name(TS_LAYOUT_VERSION), pin_dir, e.path().string()));
    }
}

std::vector<PinnedDir> list_pinned(const std::string& pin_dir)
{
    std::vector<PinnedDir> out;
    std::error_code ec;
    for (const auto& iface : fs::directory_iterator(layout_dir(pin_dir), ec)) {
        if (!iface.is_directory())
            continue;
        for (const auto& hook : fs::directory_iterator(iface.path(), ec))
            if (hook.is_directory())
                out.push_back(
                    {iface.path().filename().string(), hook.path().filename().string(), hook.path().string()});
    }
    std::sort(out.begin(), out.end(), [](const PinnedDir& a, const PinnedDir& b) { return a.path < b.path; });
    return out;
}

void pin_object(int fd, const std::string& path)
{
    if (bpf_obj_pin(fd, path.c_str()) != 0)
        throw Error(errno == EPERM || errno == EACCES ? exit_code::privileges : exit_code::attach,
                    fmt::format("cannot pin {}: {}", path, errno_text(-errno)));
}

int open_pinned(const std::string& path)
{
    const int fd = bpf_obj_get(path.c_str());
    if (fd >= 0 || errno == ENOENT)
        return fd;
    throw Error(errno == EPERM || errno == EACCES ? exit_code::privileges : exit_code::runtime,
                fmt::format("cannot open {}: {}", path, errno_text(-errno)));
}

void remove_pinned(const std::string& pin_dir, const std::string& dir, std::vector<std::string>& left)
{
    // The link first: the program stops counting before its maps go.
    for (const auto& entry : kPinNames.entries) {
        const std::string path = pin_path(dir, entry.value);
        if (unlink(path.c_str()) != 0 && errno != ENOENT)
            throw Error(exit_code::runtime, fmt::format("cannot remove {}: {}", path, errno_text(-errno)));
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        left.push_back(e.path().string());
    // Empty directories up to the pin dir go too; rmdir refuses a non-empty one.
    for (fs::path p = dir; p.string().size() > pin_dir.size() && rmdir(p.c_str()) == 0; p = p.parent_path()) {
    }
}

DirLock::DirLock(const std::string& dir) : fd_(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC))
{
    if (fd_ >= 0 && flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        close(fd_);
        fd_ = -1;
    }
}

DirLock::DirLock(DirLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

DirLock::~DirLock()
{
    if (fd_ >= 0)
        close(fd_);
}

bool DirLock::held(const std::string& dir)
{
    const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}

}  // namespace trafstat
