#include "attach/privileges.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/skeleton.hpp"

#include <fmt/format.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace trafstat {
namespace {

#ifndef CAP_BPF
constexpr int CAP_BPF = 39;  // Linux 5.8; older headers lack it
#endif

bool has_cap(const __user_cap_data_struct (&data)[2], int cap)
{
    return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

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

}  // namespace trafstat
