// The commands of pinned attachments (docs/agent.md): attach, status, dump,
// detach, control; and what the agent shares with them.
#pragma once

#include "cli/options.hpp"
#include "engine/pinned.hpp"
#include "stats/snapshot.hpp"

#include <string>
#include <vector>

namespace trafstat {

int run_attach(const AttachCommandConfig& config);
int run_status(const StatusConfig& config);
int run_dump(const DumpConfig& config);
int run_detach(const DetachConfig& config);
int run_control(const ControlConfig& config);

// The interfaces named, or the one of the default route. Throws Error(exit_code::no_interface).
std::vector<std::string> interfaces_of(const AttachCommandConfig& config);
// The pin directories `config` asks for on `ifname`, one per hook.
std::vector<std::string> pinned_dirs(const AttachCommandConfig& config, const std::string& ifname);
// Attaches and pins as `trafstat attach` does, one interface; returns the
// directories made. Throws Error, leaving no pin behind.
std::vector<std::string> attach_pinned(const AttachCommandConfig& config, const std::string& ifname);
// Removes one attachment's link and pins (after checking the link holds a
// trafstat program). Throws Error.
void detach_pinned(const std::string& pin_dir, const std::string& dir);
// How an adopted attachment differs from what `config` asks for: one line
// per field, empty when it is the same.
std::vector<std::string> config_differences(const AttachCommandConfig& config, const ts_control& control);

// One attachment's state now: its identity, its link, its agent, the
// kernel's totals and its tables (no keys: the agent adds those it exports).
AttachmentStatus status_of(const PinnedDir& dir, const CounterProgram& program);
// Why the attachment no longer counts (its interface deleted, its link
// detached or unpinned), or "" while it does: a few syscalls, for every interval.
std::string stale_reason(const PinnedDir& dir, const ts_control& control);
// Every attachment under `pin_dir`, each adopted for the read.
StatusReport status_report(const std::string& pin_dir);

}  // namespace trafstat
