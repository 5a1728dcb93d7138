#include "libtrust/core/retry.h"

#include <algorithm>
#include <random>

#include "libtrust/core/error.h"

namespace trust {

void merge_until_stable(const std::string& what, const std::function<MergeStep()>& attempt,
                        std::chrono::milliseconds min_settle, const MergeWait& wait_for,
                        int max_attempts) {
  using std::chrono::milliseconds;
  using Clock = std::chrono::steady_clock;
  std::random_device rd;
  std::mt19937 rng(rd());
  std::uniform_real_distribution<double> settle_jitter(1.0, 1.5);
  int backoffs = 0;
  for (int i = 0; i < max_attempts; ++i) {
    const auto start = Clock::now();
    const auto step = attempt();
    if (step == MergeStep::kDone) return;
    // Something was written. Whatever the re-read showed, the next read comes only after the
    // settle time, so a kDone after a write always means the change outlived every writer that
    // read before it.
    const auto cycle = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    const auto settle =
        std::clamp(cycle * kSettleFactor, std::min(min_settle, kMaxSettle), kMaxSettle);
    auto wait = milliseconds(
        static_cast<std::int64_t>(static_cast<double>(settle.count()) * settle_jitter(rng)));
    if (step == MergeStep::kRetry) {
      // Overwritten at once: contention. Also back off, 20 ms, 40 ms, 80 ms, … (capped at 1 s),
      // each scaled by a random factor in [0.5, 1.5).
      const int base_ms = std::min(1000, 20 << std::min(backoffs++, 10));
      std::uniform_int_distribution<int> jitter(base_ms / 2, base_ms + base_ms / 2);
      wait += milliseconds(jitter(rng));
    }
    wait_for(wait);
  }
  throw IoError(what + ": the change did not survive concurrent writers after " +
                std::to_string(max_attempts) + " attempts");
}

}  // namespace trust
