// One TC attachment in one direction: a TCX link where the kernel has TCX
// (Linux 6.6+), else a clsact filter with trafstat's fixed handle. Only what
// trafstat created is ever removed.
#pragma once

#include "attach/modes.hpp"
#include "bpf/fd.hpp"
#include "net/interface.hpp"

#include <string>

namespace trafstat {

enum class TcDirection { ingress, egress };

// The fixed clsact filter identity trafstat uses on kernels without TCX.
inline constexpr unsigned kTcHandle = 0x7a5;  // "trafstat"
inline constexpr unsigned kTcPriority = 0x7a5;

class TcAttachment {
public:
    // Throws Error(exit_code::attach / ::privileges).
    static TcAttachment attach(int prog_fd, const Interface& iface, TcDirection dir, TcMode mode, std::string& notes);

    TcAttachment(TcAttachment&& o) noexcept;
    TcAttachment& operator=(TcAttachment&&) = delete;
    ~TcAttachment();

    std::string_view mode() const { return tc_mode_name(mode_); }  // "tcx" / "clsact"
    // The TCX link holding the program (-1 for a clsact filter, which has none).
    int link_fd() const { return link_.get(); }

private:
    TcAttachment() = default;
    Interface iface_;
    TcDirection dir_ = TcDirection::ingress;
    TcMode mode_ = TcMode::tcx;
    Fd link_;                      // tcx
    bool filter_ = false;          // clsact: our filter is installed
    unsigned filter_prog_id_ = 0;  // clsact: the program it holds, which tells ours from a replacement
};

// Hook::tc_ingress / Hook::tc_egress
constexpr Hook hook_of(TcDirection d)
{
    return d == TcDirection::ingress ? Hook::tc_ingress : Hook::tc_egress;
}

}  // namespace trafstat
