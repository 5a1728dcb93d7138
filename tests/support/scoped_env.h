#pragma once
// Test support: set or unset an environment variable for one scope, restoring it afterwards.
//
//   ScopedEnv home("HOME", tmp.path().string());
//   ScopedEnv none("REGISTRY_AUTH_FILE", std::nullopt);

#include <cstdlib>
#include <optional>
#include <string>

namespace sigil::test {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) saved_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (saved_) {
      ::setenv(name_.c_str(), saved_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> saved_;
};

}  // namespace sigil::test
