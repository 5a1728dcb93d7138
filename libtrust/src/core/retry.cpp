#include "libtrust/core/retry.h"

#include <chrono>
#include <random>
#include <thread>

#include "libtrust/core/error.h"

namespace trust {

void retry_until_stable(const std::string& what, const std::function<bool()>& attempt,
                        int max_attempts) {
  std::random_device rd;
  std::mt19937 rng(rd());
  for (int i = 0; i < max_attempts; ++i) {
    if (attempt()) return;
    // 20 ms, 40 ms, 80 ms, … (capped at 1 s), each scaled by a random factor in [0.5, 1.5).
    const int base_ms = std::min(1000, 20 << i);
    std::uniform_int_distribution<int> jitter(base_ms / 2, base_ms + base_ms / 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
  }
  throw IoError(what + ": the change did not survive concurrent writers after " +
                std::to_string(max_attempts) + " attempts");
}

}  // namespace trust
