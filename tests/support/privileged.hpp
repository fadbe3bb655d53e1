// The privilege policy of trafstat's privileged tests, in one place.
//
//   * Acquiring the privileged resource (loading a BPF program, ...) fails for
//     lack of privileges (trafstat::Error with exit_code::privileges):
//       - under CI (environment CI=true or CI=1) the test FAILS: CI exists to run
//         these tests for real, a green run that ran nothing would be a lie;
//       - elsewhere the test is SKIPPED, loudly (a banner on stderr once per
//         process, and the reason on every skipped test), so a developer's
//         `ctest` without root stays usable but never silently empty.
//   * It fails for any other reason (verifier rejection, missing object, ...):
//     the test FAILS, with the error's detail (verifier log tail) attached.
//
// Use it from SetUp() (gtest runs no test body after a skip or a fatal
// failure in SetUp) or at the top of a test body:
//
//     auto prog = trafstat::test::acquire_privileged("load the counter program",
//                                                    [] { return CounterProgram::load({}); });
//     if (!prog) return;  // skipped or failed, already recorded
#pragma once

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace trafstat::test {

// True when the environment says we run in CI (CI=true, as .ci/run sets it, or CI=1).
inline bool running_in_ci()
{
    const char* ci = std::getenv("CI");
    if (ci == nullptr)
        return false;
    const std::string_view v(ci);
    return v == "true" || v == "TRUE" || v == "True" || v == "1";
}

// Records "no privileges" in the current test: a fatal failure under CI, a skip
// elsewhere. Returns (void) right after recording; the caller must return too.
inline void missing_privileges(std::string_view what, std::string_view why)
{
    if (running_in_ci()) {
        FAIL() << "cannot " << what << ": " << why
               << "\n  CI=true: privileged tests must run in CI, they may not be skipped there."
               << "\n  Run the test binary as root (or with CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON).";
    }
    static bool banner_printed = false;
    if (!banner_printed) {
        banner_printed = true;
        std::fprintf(stderr,
                     "\n"
                     "**********************************************************************\n"
                     "*** SKIPPING PRIVILEGED TESTS: cannot %.*s\n"
                     "***   %.*s\n"
                     "*** These tests load BPF programs and need root (or CAP_BPF,\n"
                     "*** CAP_NET_ADMIN, CAP_PERFMON). Run them with sudo. Under CI=true\n"
                     "*** they fail instead of skipping.\n"
                     "**********************************************************************\n\n",
                     static_cast<int>(what.size()), what.data(), static_cast<int>(why.size()), why.data());
    }
    GTEST_SKIP() << "SKIPPED, needs privileges: cannot " << what << ": " << why;
}

// Records a non-privilege setup failure as a fatal failure of the current test.
inline void privileged_setup_failed(std::string_view what, std::string_view why, std::string_view detail)
{
    FAIL() << "cannot " << what << ": " << why << (detail.empty() ? "" : "\n") << detail;
}

// Runs `acquire` and returns its result; on failure applies the policy above
// and returns nullopt (the skip or failure is already recorded).
template <class F>
auto acquire_privileged(std::string_view what, F&& acquire) -> std::optional<std::invoke_result_t<F&>>
{
    try {
        return acquire();
    } catch (const trafstat::Error& e) {
        if (e.exit_code() == trafstat::exit_code::privileges)
            missing_privileges(what, e.what());
        else
            privileged_setup_failed(what, e.what(), e.detail());
    } catch (const std::exception& e) {
        privileged_setup_failed(what, e.what(), {});
    }
    return std::nullopt;
}

}  // namespace trafstat::test
