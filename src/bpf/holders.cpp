#include "bpf/holders.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <system_error>

namespace trafstat {
namespace {

std::string read_text(const std::filesystem::path& path)
{
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::optional<int> pid_of(const std::string& name)
{
    int pid = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || end != name.data() + name.size())
        return std::nullopt;
    return pid;
}

// Whether process `proc` holds the program; `readable` turns false when its
// fds cannot be listed for want of permission (one that exited meanwhile holds nothing).
bool holds(const std::filesystem::path& proc, unsigned prog_id, bool& readable)
{
    std::error_code ec;
    std::filesystem::directory_iterator fds(proc / "fd", ec);
    if (ec == std::errc::permission_denied)
        readable = false;
    for (const auto& fd : fds) {
        std::error_code link_ec;
        const std::string target = std::filesystem::read_symlink(fd.path(), link_ec).string();
        // Programs are anon_inode:bpf-prog, links anon_inode:bpf_link.
        if (link_ec || target.rfind("anon_inode:bpf", 0) != 0)
            continue;
        if (fdinfo_program_id(read_text(proc / "fdinfo" / fd.path().filename())) == prog_id)
            return true;
    }
    return false;
}

}  // namespace

std::optional<unsigned> fdinfo_program_id(std::string_view fdinfo)
{
    constexpr std::string_view kField = "prog_id:";
    for (std::size_t at = 0; at < fdinfo.size();) {
        std::size_t eol = fdinfo.find('\n', at);
        if (eol == std::string_view::npos)
            eol = fdinfo.size();
        std::string_view line = fdinfo.substr(at, eol - at);
        at = eol + 1;
        if (line.rfind(kField, 0) != 0)
            continue;
        line.remove_prefix(kField.size());
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            line.remove_prefix(1);
        unsigned id = 0;
        const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), id);
        if (ec != std::errc() || end == line.data())
            return std::nullopt;
        return id;
    }
    return std::nullopt;
}

ProgramHolders program_holders(unsigned prog_id)
{
    ProgramHolders out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const auto pid = pid_of(entry.path().filename().string());
        if (!pid || !holds(entry.path(), prog_id, out.complete))
            continue;
        std::string comm = read_text(entry.path() / "comm");
        if (!comm.empty() && comm.back() == '\n')
            comm.pop_back();
        out.found.push_back({*pid, std::move(comm)});
    }
    if (ec)
        out.complete = false;
    std::sort(out.found.begin(), out.found.end(),
              [](const ProgramHolder& a, const ProgramHolder& b) { return a.pid < b.pid; });
    return out;
}

std::string describe(const ProgramHolder& holder)
{
    return holder.comm.empty() ? fmt::format("pid {}", holder.pid)
                               : fmt::format("pid {} ({})", holder.pid, holder.comm);
}

}  // namespace trafstat
