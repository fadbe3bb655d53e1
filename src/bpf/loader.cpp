#include "bpf/loader.hpp"

#include "error.hpp"
#include "exit_codes.hpp"

#include "counter.skel.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <deque>
#include <fmt/format.h>
#include <mutex>
#include <sstream>
#include <vector>

namespace trafstat {
namespace {

// Linux 6.3 UAPI; the 6.1 headers lack it.
constexpr __u32 kBpfFXdpDevBoundOnly = 1U << 6;

bool g_verbose = false;
std::deque<std::string> g_log;  // recent libbpf lines, for error reports
constexpr std::size_t kMaxLogLines = 400;

int libbpf_print(enum libbpf_print_level level, const char* format, va_list args)
{
    char buf[4096];
    va_list copy;
    va_copy(copy, args);
    std::vsnprintf(buf, sizeof buf, format, copy);
    va_end(copy);

    std::istringstream lines(buf);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty())
            continue;
        g_log.push_back(line);
        if (g_log.size() > kMaxLogLines)
            g_log.pop_front();
    }
    (void)level;
    if (g_verbose)
        std::fputs(buf, stderr);
    return 0;
}

}  // namespace

void init_libbpf_logging(bool verbose)
{
    g_verbose = verbose;
    libbpf_set_print(libbpf_print);
}

std::string libbpf_log_tail(std::size_t lines)
{
    std::string out;
    std::size_t start = g_log.size() > lines ? g_log.size() - lines : 0;
    for (std::size_t i = start; i < g_log.size(); ++i) {
        out += "  ";
        out += g_log[i];
        out += '\n';
    }
    return out;
}

void CounterProgram::Deleter::operator()(counter* skel) const
{
    counter__destroy(skel);
}

CounterProgram CounterProgram::load(const LoadOptions& options)
{
    std::unique_ptr<counter, Deleter> skel(counter__open());
    if (!skel) {
        int err = errno;
        throw Error(exit_code::load, fmt::format("cannot open the BPF object: {}", errno_text(err)));
    }
    skel->rodata->drop_mode = options.drop_mode;
    skel->rodata->replay_mode = options.replay_mode;
    bpf_program__set_autoload(skel->progs.trafstat_replay, options.replay_mode);
    // The device-bound entry loads only on request: it cannot load unbound.
    bpf_program* xdpdev = skel->progs.trafstat_xdpdev;
    bpf_program__set_autoload(xdpdev, options.xdp_dev_bound_ifindex != 0);
    if (options.xdp_dev_bound_ifindex) {
        bpf_program__set_ifindex(xdpdev, static_cast<__u32>(options.xdp_dev_bound_ifindex));
        bpf_program__set_flags(xdpdev, bpf_program__flags(xdpdev) | kBpfFXdpDevBoundOnly);
    }

    if (int err = counter__load(skel.get()); err) {
        if (err == -EPERM) {
            throw Error(exit_code::privileges,
                        "permission denied loading the BPF program: trafstat needs CAP_BPF and CAP_NET_ADMIN",
                        "  run it as root (sudo trafstat ...), or grant the capabilities once:\n"
                        "  sudo setcap cap_bpf,cap_net_admin,cap_perfmon+ep $(command -v trafstat)\n");
        }
        throw Error(exit_code::load,
                    fmt::format("the kernel rejected the BPF program: {}", errno_text(err)),
                    fmt::format("  verifier log (tail; -v shows all):\n{}", libbpf_log_tail(25)));
    }
    return CounterProgram(std::move(skel), options.xdp_dev_bound_ifindex != 0);
}

int CounterProgram::xdp_fd() const
{
    return bpf_program__fd(dev_bound_ ? skel_->progs.trafstat_xdpdev : skel_->progs.trafstat_xdp);
}
int CounterProgram::replay_fd() const { return bpf_program__fd(skel_->progs.trafstat_replay); }
int CounterProgram::tc_fd() const { return bpf_program__fd(skel_->progs.trafstat_tc); }
int CounterProgram::stats_map_fd() const { return bpf_map__fd(skel_->maps.stats); }

ClassCounters CounterProgram::read() const
{
    static const int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0)
        throw Error(exit_code::runtime, fmt::format("cannot count possible CPUs: {}", errno_text(ncpus)));
    std::vector<ts_stats> per_cpu(static_cast<std::size_t>(ncpus));
    const __u32 key = 0;
    if (int err = bpf_map__lookup_elem(skel_->maps.stats, &key, sizeof key, per_cpu.data(),
                                       per_cpu.size() * sizeof(ts_stats), 0);
        err) {
        throw Error(exit_code::runtime, fmt::format("cannot read the counters map: {}", errno_text(err)));
    }
    return sum_per_cpu(per_cpu);
}

}  // namespace trafstat
