#pragma once
// Read-modify-write against a store that other writers may change at the same time (a registry
// tag that several CI jobs sign at once). Registries have no conditional writes: the last PUT of
// a tag wins, and a writer that read the tag before our write and writes after it drops our
// change. So after each of its writes a writer waits a settle time (three times its own
// read-merge-write cycle, and at least the store's floor) before it reads again, by which point
// any writer that read before our write (and works about as fast as we do) has written; only a
// read after that wait that finds the change finishes. A change found gone is merged and written
// again. Bounded; past the bound an IoError says how many attempts were made. The waits go
// through the store (`wait`), so that a registry's deadline bounds them as it bounds requests.

#include <chrono>
#include <functional>
#include <string>

#include "libtrust/export.h"

namespace trust {

inline constexpr int kMaxMergeAttempts = 12;
// The settle time: kSettleFactor × the attempt's duration, within [min_settle, kMaxSettle],
// times a random factor in [1, 1.5).
inline constexpr int kSettleFactor = 3;
inline constexpr std::chrono::milliseconds kMaxSettle{5000};

enum class MergeStep {
  kDone,     // the change is in place and nothing was written: finished
  kWritten,  // written, and an immediate re-read found it: confirm after the settle time
  kRetry,    // written, but already overwritten: settle, back off, then merge again
};

// Calls `attempt` until it reports kDone. `min_settle` is the least settle time (the store's
// ImageStore::merge_settle_time()). Each call must read the current state, return kDone if
// the change is already there, else merge, write, re-read and return kWritten or kRetry.
// `wait(d)` waits d between attempts (ImageStore::wait_to_merge: a sleep, or a registry's wait
// that throws when d would pass the operation's deadline). Exceptions propagate at once.
using MergeWait = std::function<void(std::chrono::milliseconds)>;
TRUST_API void merge_until_stable(const std::string& what,
                                  const std::function<MergeStep()>& attempt,
                                  std::chrono::milliseconds min_settle, const MergeWait& wait,
                                  int max_attempts = kMaxMergeAttempts);

}  // namespace trust
