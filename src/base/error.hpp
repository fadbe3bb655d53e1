// The one fatal-error type of trafstat. Setup failures (open, load, attach,
// interface, privileges) throw it; main() is the only catch site and maps
// `exit_code` to the process exit status (docs/exit-codes.md).
#pragma once

#include <stdexcept>
#include <string>

namespace trafstat {

class Error : public std::runtime_error {
public:
    Error(int exit_code, std::string message, std::string detail = {})
        : std::runtime_error(std::move(message)), exit_code_(exit_code), detail_(std::move(detail))
    {}

    int exit_code() const noexcept { return exit_code_; }
    // Extra lines printed after the one-line message (verifier log tail, hints).
    const std::string& detail() const noexcept { return detail_; }

private:
    int exit_code_;
    std::string detail_;
};

// "Operation not permitted (EPERM)" for a positive or negative errno.
std::string errno_text(int err);

}  // namespace trafstat
