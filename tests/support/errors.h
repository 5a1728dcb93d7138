#pragma once
// The exact trust::Error a call throws: its code and message, for every test that checks how
// bad input is refused.

#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "libtrust/core/error.h"

namespace sigil::test {

struct Thrown {
  trust::ErrorCode code = trust::ErrorCode::kUsage;
  std::string message;
};

// Runs f and returns the trust::Error it threw; fails the test if it threw nothing.
template <typename F>
Thrown thrown_by(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const trust::Error& e) {
    return {e.code(), e.what()};
  }
  FAIL("expected a trust::Error, nothing was thrown");
  return {};
}

template <typename F>
trust::ErrorCode code_of(F&& f) {
  return thrown_by(std::forward<F>(f)).code;
}

template <typename F>
std::string message_of(F&& f) {
  return thrown_by(std::forward<F>(f)).message;
}

}  // namespace sigil::test
