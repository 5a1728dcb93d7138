#pragma once
// Helpers shared by the registry unit tests: fast client options against a FakeRegistry, and the
// exact error a call throws (support/errors.h).

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "libtrust/core/error.h"
#include "libtrust/registry/client.h"
#include "support/errors.h"
#include "support/fake_registry.h"
#include "support/process.h"

namespace registry_test {

using sigil::test::Thrown;
using sigil::test::thrown_by;

// Options for a plain-HTTP FakeRegistry: insecure for its host only, no docker config (a path
// that does not exist: anonymous), short timeouts and backoff so every test stays fast.
inline trust::registry::TransportOptions fast_options(const sigil::test::FakeRegistry& reg,
                                                      const sigil::test::TempDir& tmp) {
  trust::registry::TransportOptions o;
  o.insecure_registries = {reg.host()};
  o.docker_config = tmp / "no-such-config.json";
  o.connect_timeout = std::chrono::milliseconds(2000);
  // Generous: a loaded 2-core CI machine under ASan can pause a transfer for a few hundred ms.
  // The stall test sets its own.
  o.stall_timeout = std::chrono::milliseconds(10000);
  o.retry_backoff_base = std::chrono::milliseconds(1);
  o.max_retry_delay = std::chrono::milliseconds(20);
  return o;
}

}  // namespace registry_test
