// Who holds a BPF program: the processes with an fd that refers to it (the
// program itself, or a link holding it), found in /proc/*/fdinfo. Tells a
// clsact filter of a running trafstat from one a killed run left.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trafstat {

struct ProgramHolder {
    int pid = 0;
    std::string comm;  // /proc/PID/comm, "" when unreadable
};

// The `prog_id:` of one /proc/PID/fdinfo/FD text (a bpf-prog or bpf_link fd), if it has one.
std::optional<unsigned> fdinfo_program_id(std::string_view fdinfo);

struct ProgramHolders {
    std::vector<ProgramHolder> found;  // each once, by pid; this process included
    bool complete = true;  // false: some process's fds could not be read (another user's, without privileges)
};

// Every process holding program `prog_id` through an fd.
ProgramHolders program_holders(unsigned prog_id);

// "pid 1234 (trafstat)", for messages.
std::string describe(const ProgramHolder& holder);

}  // namespace trafstat
