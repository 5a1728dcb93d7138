#pragma once
// Helpers shared by the oci tests: the exact error a call throws.

#include <catch2/catch.hpp>

#include <string>

#include "libtrust/core/error.h"

namespace oci_test {

struct Thrown {
  trust::ErrorCode code = trust::ErrorCode::kUsage;
  std::string message;
};

// Runs f and returns the trust::Error it threw; fails the test if it threw nothing.
template <typename F>
Thrown thrown_by(F&& f) {
  try {
    f();
  } catch (const trust::Error& e) {
    return {e.code(), e.what()};
  }
  FAIL("expected a trust::Error");
  return {};
}

template <typename F>
trust::ErrorCode code_of(F&& f) {
  return thrown_by(std::forward<F>(f)).code;
}

}  // namespace oci_test
