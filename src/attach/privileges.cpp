#include "attach/privileges.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/skeleton.hpp"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace trafstat {
namespace {

#ifndef CAP_BPF
constexpr int CAP_BPF = 39;  // Linux 5.8; older headers lack it
#endif

bool has_cap(const __user_cap_data_struct (&data)[2], int cap)
{
    return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

// The kernel gates every bpf() command on CAP_BPF (before 6.5, with
// kernel.unprivileged_bpf_disabled set) when one naming no object fails with
// EPERM rather than EBADF. Called with neither CAP_BPF nor CAP_SYS_ADMIN effective.
bool kernel_gates_every_bpf_command()
{
    bpf_attr attr{};
    attr.info.bpf_fd = static_cast<__u32>(-1);
    return syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr) != 0 && errno == EPERM;
}

// Owns a cap_t.
struct CapState {
    cap_t caps;
    explicit CapState(cap_t c) : caps(c)
    {
        if (!caps)
            throw Error(exit_code::runtime, fmt::format("cannot read capabilities: {}", errno_text(errno)));
    }
    ~CapState() { cap_free(caps); }
    CapState(const CapState&) = delete;
    CapState& operator=(const CapState&) = delete;

    bool has(cap_value_t cap, cap_flag_t flag) const
    {
        cap_flag_value_t v = CAP_CLEAR;
        return cap_get_flag(caps, cap, flag, &v) == 0 && v == CAP_SET;
    }
    void set(cap_value_t cap, cap_flag_t flag, cap_flag_value_t v) { cap_set_flag(caps, flag, 1, &cap, v); }
    void apply() const
    {
        if (cap_set_proc(caps) != 0)
            throw Error(exit_code::runtime, fmt::format("cannot drop capabilities: {}", errno_text(errno)));
    }
};

}  // namespace

void require_bpf_privileges()
{
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &header, data) != 0)
        return;  // cannot tell: let the load report EPERM
    bool bpf = has_cap(data, CAP_BPF) || has_cap(data, CAP_SYS_ADMIN);
    bool net = has_cap(data, CAP_NET_ADMIN);
    if (bpf && net)
        return;
    std::string missing = !bpf && !net ? "CAP_BPF and CAP_NET_ADMIN" : !bpf ? "CAP_BPF" : "CAP_NET_ADMIN";
    throw Error(exit_code::privileges,
                fmt::format("missing privileges: trafstat needs CAP_BPF and CAP_NET_ADMIN (lacking {})", missing),
                std::string(kPrivilegesHint));
}

void drop_capabilities(CapabilitiesAfterStart keep)
{
    std::vector<cap_value_t> kept;
    if (keep.net_admin)
        kept.push_back(CAP_NET_ADMIN);
    {
        // Probed without CAP_BPF and CAP_SYS_ADMIN in effect, then restored.
        CapState now(cap_get_proc());
        CapState probing(cap_dup(now.caps));
        probing.set(CAP_BPF, CAP_EFFECTIVE, CAP_CLEAR);
        probing.set(CAP_SYS_ADMIN, CAP_EFFECTIVE, CAP_CLEAR);
        probing.apply();
        const bool gated = kernel_gates_every_bpf_command();
        now.apply();
        if (gated)
            kept.push_back(now.has(CAP_BPF, CAP_PERMITTED) ? CAP_BPF : CAP_SYS_ADMIN);

        // The bounding set first, while CAP_SETPCAP may still be in effect.
        if (now.has(CAP_SETPCAP, CAP_EFFECTIVE))
            for (cap_value_t c = 0; c < static_cast<cap_value_t>(cap_max_bits()); ++c)
                if (std::find(kept.begin(), kept.end(), c) == kept.end() && cap_drop_bound(c) != 0 && errno != EINVAL)
                    throw Error(exit_code::runtime, fmt::format("cannot drop capability {} from the bounding set: {}",
                                                                c, errno_text(errno)));
    }
    cap_reset_ambient();
    CapState after(cap_init());
    for (cap_value_t c : kept) {
        after.set(c, CAP_PERMITTED, CAP_SET);
        after.set(c, CAP_EFFECTIVE, CAP_SET);
    }
    after.apply();
}

}  // namespace trafstat
