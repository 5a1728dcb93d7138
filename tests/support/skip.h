#pragma once
// Tests that need something the machine may lack (a registry process, a program): skipped where
// it is missing, and reported as skipped, never as passed. The test prints kSkipMarker, which
// ctest's SKIP_REGULAR_EXPRESSION (tests/CMakeLists.txt) turns into "Skipped" in its summary.
// Where the environment variable CI is set, a missing piece fails the test instead: CI must run
// everything.
//
//   SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kBasic));

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>

namespace sigil::test {

inline constexpr const char* kSkipMarker = "SIGIL-TEST-SKIPPED";

inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && *ci != '\0';
}

// Why `program` (an absolute path) cannot run here, or nullopt.
std::optional<std::string> missing_program(const std::string& program);

}  // namespace sigil::test

// Returns from the test (skipped) when `why` (an optional<string>) holds a reason; fails it in CI.
#define SIGIL_SKIP_UNLESS(why)                                                            \
  do {                                                                                    \
    if (auto why_ = (why)) {                                                              \
      if (::sigil::test::in_ci()) FAIL("CI is set, and this test cannot run: " << *why_); \
      WARN(::sigil::test::kSkipMarker << ": " << *why_);                                  \
      return;                                                                             \
    }                                                                                     \
  } while (false)
