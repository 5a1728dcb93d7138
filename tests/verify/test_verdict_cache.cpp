// The in-memory verdict cache (verify/verdict_cache.h): keyed like the on-disk cache (image
// digest and rule digest), only satisfied verdicts, a TTL, at most max_entries (oldest out first),
// its counters, and lookups and stores from many threads at once.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/core/error.h"
#include "libtrust/verify/verdict_cache.h"
#include "support/errors.h"
#include "support/test_keys.h"

namespace trust::verify {
namespace {

using sigil::test::code_of;
using sigil::test::message_of;

PolicyKey key(std::string name, int slot) {
  return PolicyKey{.name = std::move(name),
                   .key = sigil::test::test_key(KeyType::kEcdsaP256, slot).public_key(),
                   .file = std::nullopt,
                   .at = {}};
}

// Rules "team" (release), "same" (release: the same meaning as team), "ops" (release and ci,
// 2 of 2).
TrustPolicy policy() {
  PolicyDocument d;
  d.source = "p.yaml";
  d.keys = {key("release", 0), key("ci", 1)};
  PolicyRule team;
  team.name = "team";
  team.match = {"registry.example.com/team/*"};
  team.keys = {"release"};
  PolicyRule same = team;
  same.name = "same";
  same.match = {"registry.example.com/same/*"};
  PolicyRule ops;
  ops.name = "ops";
  ops.match = {"registry.example.com/ops/*"};
  ops.keys = {"release", "ci"};
  ops.threshold = 2;
  d.rules = {team, same, ops};
  return TrustPolicy::build(std::move(d));
}

Digest image(int n) {
  return Digest::of(as_bytes("image " + std::to_string(n)));
}

PolicyVerdict satisfied(const Digest& d, const std::string& rule = "team") {
  PolicyVerdict v;
  v.image = "registry.example.com/team/app@" + d.str();
  v.digest = d;
  v.rule = rule;
  v.satisfied = true;
  v.allowed = true;
  v.cause = "signed by release (1 of 1)";
  v.keys = {"release"};
  v.trace.push_back(
      TraceStep{.check = "rule", .subject = rule, .passed = true, .reason = "r", .keys = {}});
  v.trace.push_back(TraceStep{.check = "signature",
                              .subject = "cosign .sig layer 0",
                              .passed = true,
                              .reason = "verified",
                              .keys = {"release"}});
  return v;
}

const PolicyRule& rule_named(const TrustPolicy& p, std::string_view name) {
  for (const auto& r : p.rules()) {
    if (r.name == name) return r;
  }
  throw std::logic_error("no rule " + std::string(name));
}

}  // namespace

TEST_CASE("memory verdict cache: a stored verdict is found by digest and rule, marked cached",
          "[verdict_cache]") {
  const auto p = policy();
  MemoryVerdictCache c(p, {});
  const auto& team = rule_named(p, "team");
  CHECK_FALSE(c.lookup(image(1), team).has_value());
  REQUIRE(c.store(image(1), team, satisfied(image(1))));
  const auto hit = c.lookup(image(1), team);
  REQUIRE(hit.has_value());
  CHECK(hit->cached);
  CHECK(hit->satisfied);
  CHECK(hit->allowed);
  CHECK(hit->digest == image(1));
  CHECK(hit->rule == "team");
  CHECK(hit->cause == "signed by release (1 of 1)");
  CHECK(hit->keys == std::vector<std::string>{"release"});
  // The trace is kept, with the cache step after the rule's.
  REQUIRE(hit->trace.size() == 3);
  CHECK(hit->trace[0].check == "rule");
  CHECK(hit->trace[1].check == "cache");
  CHECK(hit->trace[1].passed);
  CHECK(hit->trace[1].reason.starts_with("verified at 20"));
  CHECK(hit->trace[1].reason.ends_with(" in memory)"));
  CHECK(hit->trace[2].check == "signature");
  const auto s = c.stats();
  CHECK(s.hits == 1);
  CHECK(s.misses == 1);
  CHECK(s.stores == 1);
  CHECK(s.evictions == 0);
  CHECK(s.entries == 1);
}

TEST_CASE("memory verdict cache: another digest or a rule that means something else misses",
          "[verdict_cache]") {
  const auto p = policy();
  MemoryVerdictCache c(p, {});
  REQUIRE(c.store(image(1), rule_named(p, "team"), satisfied(image(1))));
  CHECK_FALSE(c.lookup(image(2), rule_named(p, "team")).has_value());
  CHECK_FALSE(c.lookup(image(1), rule_named(p, "ops")).has_value());
  // Keyed by what the rule means, not its name: a rule of the same meaning shares the entry, and
  // the verdict names the rule asked about.
  const auto same = c.lookup(image(1), rule_named(p, "same"));
  REQUIRE(same.has_value());
  CHECK(same->rule == "same");
  // A rule of another policy is not one of this cache's: a miss, never a throw.
  const auto other = policy();
  CHECK_FALSE(c.lookup(image(1), rule_named(other, "team")).has_value());
  CHECK_FALSE(c.store(image(1), rule_named(other, "team"), satisfied(image(1))));
  CHECK(c.stats().misses == 3);
}

TEST_CASE(
    "memory verdict cache: only satisfied verdicts for the digest and rule they name are kept",
    "[verdict_cache]") {
  const auto p = policy();
  MemoryVerdictCache c(p, {});
  const auto& team = rule_named(p, "team");
  auto denied = satisfied(image(1));
  denied.satisfied = false;
  denied.allowed = false;
  CHECK_FALSE(c.store(image(1), team, denied));
  auto warned = satisfied(image(1));
  warned.satisfied = false;  // allowed by mode warn: judged again next time
  CHECK_FALSE(c.store(image(1), team, warned));
  CHECK_FALSE(c.store(image(2), team, satisfied(image(1))));         // another digest
  CHECK_FALSE(c.store(image(1), team, satisfied(image(1), "ops")));  // another rule
  auto no_digest = satisfied(image(1));
  no_digest.digest.reset();
  CHECK_FALSE(c.store(image(1), team, no_digest));
  CHECK_FALSE(c.lookup(image(1), team).has_value());
  CHECK(c.stats().entries == 0);
  CHECK(c.stats().stores == 0);
}

TEST_CASE("memory verdict cache: at most max_entries are kept, the oldest go first",
          "[verdict_cache]") {
  const auto p = policy();
  MemoryVerdictCache c(p, {.ttl = std::chrono::seconds(600), .max_entries = 3});
  const auto& team = rule_named(p, "team");
  for (int i = 0; i < 5; ++i) REQUIRE(c.store(image(i), team, satisfied(image(i))));
  CHECK_FALSE(c.lookup(image(0), team).has_value());
  CHECK_FALSE(c.lookup(image(1), team).has_value());
  for (int i = 2; i < 5; ++i) CHECK(c.lookup(image(i), team).has_value());
  // Stored again, an entry is the newest.
  REQUIRE(c.store(image(2), team, satisfied(image(2))));
  REQUIRE(c.store(image(5), team, satisfied(image(5))));
  CHECK(c.lookup(image(2), team).has_value());
  CHECK_FALSE(c.lookup(image(3), team).has_value());
  const auto s = c.stats();
  CHECK(s.entries == 3);
  CHECK(s.stores == 7);
  CHECK(s.evictions == 3);
}

TEST_CASE("memory verdict cache: an entry expires after the TTL", "[verdict_cache]") {
  const auto p = policy();
  MemoryVerdictCache c(p, {.ttl = std::chrono::seconds(1), .max_entries = 10});
  const auto& team = rule_named(p, "team");
  REQUIRE(c.store(image(1), team, satisfied(image(1))));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK_FALSE(c.lookup(image(1), team).has_value());
  const auto s = c.stats();
  CHECK(s.entries == 0);
  CHECK(s.evictions == 1);
}

TEST_CASE("memory verdict cache: a TTL that is not positive or no entries is refused",
          "[verdict_cache]") {
  const auto p = policy();
  const auto no_ttl = [&] {
    MemoryVerdictCache c(p, {.ttl = std::chrono::seconds(0), .max_entries = 10});
  };
  CHECK(code_of(no_ttl) == ErrorCode::kUsage);
  CHECK(message_of(no_ttl) == "in-memory verdict cache: the TTL is not positive");
  const auto no_entries = [&] {
    MemoryVerdictCache c(p, {.ttl = std::chrono::seconds(10), .max_entries = 0});
  };
  CHECK(code_of(no_entries) == ErrorCode::kUsage);
  CHECK(message_of(no_entries) == "in-memory verdict cache: max_entries is 0");
}

TEST_CASE("memory verdict cache: lookups and stores from many threads at once stay consistent",
          "[verdict_cache]") {
  const auto p = policy();
  constexpr std::size_t kMax = 50;
  MemoryVerdictCache c(p, {.ttl = std::chrono::seconds(600), .max_entries = kMax});
  const auto& team = rule_named(p, "team");
  const auto& ops = rule_named(p, "ops");
  constexpr int kThreads = 8;
  constexpr int kRounds = 2000;
  std::atomic<int> wrong{0};
  std::atomic<std::uint64_t> found{0};
  std::atomic<std::uint64_t> asked{0};
  std::atomic<std::uint64_t> stored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const int n = (i * 7 + t) % 80;
        if ((i + t) % 3 == 0) {
          if (c.store(image(n), team, satisfied(image(n)))) {
            ++stored;
          } else {
            ++wrong;
          }
        } else {
          ++asked;
          if (auto v = c.lookup(image(n), team)) {
            ++found;
            if (v->digest != image(n) || !v->cached || v->rule != "team") ++wrong;
          }
          // Never stored under ops.
          if (c.lookup(image(n), ops)) ++wrong;
          ++asked;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
  const auto s = c.stats();
  CHECK(s.hits == found.load());
  CHECK(s.hits + s.misses == asked.load());
  CHECK(s.entries <= kMax);
  CHECK(s.stores == stored.load());
  // Stored again, an entry replaces itself; otherwise each store is still there or was evicted.
  CHECK(s.evictions + s.entries <= s.stores);
  CHECK(s.evictions > 0);
}

}  // namespace trust::verify
