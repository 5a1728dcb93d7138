// The verified-digest cache (verify/digest_cache.h): what it keys by, what it keeps, for how long,
// which directories it refuses, and that concurrent hook processes cannot corrupt it. These tests
// run as root (here and in CI): the refusals of other owners are made with chown.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/core/limits.h"
#include "libtrust/verify/digest_cache.h"
#include "support/process.h"
#include "support/test_keys.h"

namespace trust::verify {
namespace {

namespace fs = std::filesystem;
using sigil::test::read_text_file;
using sigil::test::TempDir;
using sigil::test::write_text_file;

constexpr const char* kPolicyA =
    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr const char* kPolicyB =
    "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

PolicyKey key(std::string name, int slot) {
  return PolicyKey{.name = std::move(name),
                   .key = sigil::test::test_key(KeyType::kEcdsaP256, slot).public_key(),
                   .file = std::nullopt,
                   .at = {}};
}

// Rules "team" (release) and "ops" (release and ci, 2 of 2), under content digest `content`.
TrustPolicy policy(const std::string& content = kPolicyA, std::size_t ops_threshold = 2) {
  PolicyDocument d;
  d.source = "p.yaml";
  d.content_digest = content;
  d.keys = {key("release", 0), key("ci", 1)};
  PolicyRule team;
  team.name = "team";
  team.match = {"registry.example.com/team/*"};
  team.keys = {"release"};
  PolicyRule ops;
  ops.name = "ops";
  ops.match = {"registry.example.com/ops/*"};
  ops.keys = {"release", "ci"};
  ops.threshold = ops_threshold;
  d.rules = {team, ops};
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

VerifiedDigestCache open_ok(const fs::path& dir, const TrustPolicy& p, CacheOptions o = {}) {
  std::string why;
  auto c = VerifiedDigestCache::open(dir, p, o, why);
  INFO(why);
  REQUIRE(c.has_value());
  CHECK(why.empty());
  return std::move(*c);
}

std::string refusal(const fs::path& dir, const TrustPolicy& p) {
  std::string why;
  auto c = VerifiedDigestCache::open(dir, p, {}, why);
  CHECK_FALSE(c.has_value());
  return why;
}

std::vector<fs::path> entries(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".json") out.push_back(e.path());
  }
  return out;
}

std::size_t temporaries(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with(".tmp-")) ++n;
  }
  return n;
}

// The one entry file in `dir`.
fs::path only_entry(const fs::path& dir) {
  auto all = entries(dir);
  REQUIRE(all.size() == 1);
  return all.front();
}

}  // namespace

TEST_CASE(
    "digest cache: a stored satisfied verdict is found again by digest and rule, marked cached",
    "[digest_cache]") {
  TempDir tmp;
  const auto dir = tmp / "cache";
  const auto p = policy();
  auto cache = open_ok(dir, p);
  const auto& team = rule_named(p, "team");
  CHECK_FALSE(cache.lookup(image(1), team).has_value());
  REQUIRE(cache.store(image(1), team, satisfied(image(1))));

  // Another process (a new hook call) opening the same directory finds it.
  auto again = open_ok(dir, p);
  auto hit = again.lookup(image(1), team);
  REQUIRE(hit.has_value());
  CHECK(hit->cached);
  CHECK(hit->satisfied);
  CHECK(hit->allowed);
  CHECK(hit->result() == "allowed");
  CHECK(hit->digest == image(1));
  CHECK(hit->rule == "team");
  CHECK(hit->image == "registry.example.com/team/app@" + image(1).str());
  CHECK(hit->cause == "signed by release (1 of 1)");
  CHECK(hit->keys == std::vector<std::string>{"release"});
  REQUIRE(hit->trace.size() == 1);
  CHECK(hit->trace[0].check == "cache");
  CHECK(hit->trace[0].subject == "team");
  CHECK(hit->trace[0].passed);
  CHECK(hit->trace[0].reason.starts_with("verified at 20"));
  CHECK(hit->trace[0].reason.ends_with(" in " + dir.string() + ")"));

  // The directory was created 0700, the entry is 0600, both root's.
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  REQUIRE(::stat(only_entry(dir).c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == 0);
  CHECK(temporaries(dir) == 0);
}

TEST_CASE("digest cache: another digest\\, another rule or a rule that means something else misses",
          "[digest_cache]") {
  TempDir tmp;
  const auto dir = tmp / "cache";
  const auto p = policy();
  auto cache = open_ok(dir, p);
  REQUIRE(cache.store(image(1), rule_named(p, "ops"), satisfied(image(1), "ops")));
  CHECK(cache.lookup(image(1), rule_named(p, "ops")).has_value());
  CHECK_FALSE(cache.lookup(image(2), rule_named(p, "ops")).has_value());
  CHECK_FALSE(cache.lookup(image(1), rule_named(p, "team")).has_value());

  // The same rule name and policy content digest, but a rule that now needs 1 of 2: its rule
  // digest differs, so the verdict under 2 of 2 is not taken for it.
  const auto weaker = policy(kPolicyA, 1);
  auto other = open_ok(dir, weaker);
  CHECK_FALSE(other.lookup(image(1), rule_named(weaker, "ops")).has_value());
}

TEST_CASE("digest cache: only satisfied verdicts for the digest and rule they name are stored",
          "[digest_cache]") {
  TempDir tmp;
  const auto dir = tmp / "cache";
  const auto p = policy();
  auto cache = open_ok(dir, p);
  const auto& team = rule_named(p, "team");

  auto denied = satisfied(image(1));
  denied.satisfied = false;
  denied.allowed = false;
  denied.cause = "no signature by any of keys release";
  CHECK_FALSE(cache.store(image(1), team, denied));

  auto warned = denied;  // a failed check that mode warn allowed
  warned.allowed = true;
  warned.mode = RuleMode::kWarn;
  CHECK_FALSE(cache.store(image(1), team, warned));

  auto no_digest = satisfied(image(1));
  no_digest.digest.reset();
  CHECK_FALSE(cache.store(image(1), team, no_digest));

  CHECK_FALSE(cache.store(image(2), team, satisfied(image(1))));         // another digest
  CHECK_FALSE(cache.store(image(1), team, satisfied(image(1), "ops")));  // another rule's

  CHECK(entries(dir).empty());
  CHECK_FALSE(cache.lookup(image(1), team).has_value());
}

TEST_CASE(
    "digest cache: an expired entry\\, or one older than the TTL in force\\, misses and is removed",
    "[digest_cache]") {
  TempDir tmp;
  const auto dir = tmp / "cache";
  const auto p = policy();
  const auto& team = rule_named(p, "team");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();

  SECTION("expires in the past") {
    auto cache = open_ok(dir, p);
    REQUIRE(cache.store(image(1), team, satisfied(image(1))));
    const auto file = only_entry(dir);
    auto j = nlohmann::json::parse(read_text_file(file));
    j["verified_at"] = now - 700;
    j["expires"] = now - 100;
    write_text_file(file, j.dump());
    ::chmod(file.c_str(), 0600);
    CHECK_FALSE(cache.lookup(image(1), team).has_value());
    CHECK(entries(dir).empty());
  }
  SECTION("written under a TTL of 600 s, read under one of 60 s, 100 s later") {
    auto cache = open_ok(dir, p);
    REQUIRE(cache.store(image(1), team, satisfied(image(1))));
    const auto file = only_entry(dir);
    auto j = nlohmann::json::parse(read_text_file(file));
    CHECK(j["expires"].get<std::int64_t>() - j["verified_at"].get<std::int64_t>() == 600);
    j["verified_at"] = now - 100;
    j["expires"] = now + 500;
    write_text_file(file, j.dump());
    ::chmod(file.c_str(), 0600);
    CHECK(cache.lookup(image(1), team).has_value());  // fresh under 600 s
    auto short_ttl = open_ok(dir, p, CacheOptions{.ttl = std::chrono::seconds(60)});
    CHECK_FALSE(short_ttl.lookup(image(1), team).has_value());
    CHECK(entries(dir).empty());
  }
  SECTION("dated in the future (a clock set back)") {
    auto cache = open_ok(dir, p);
    REQUIRE(cache.store(image(1), team, satisfied(image(1))));
    const auto file = only_entry(dir);
    auto j = nlohmann::json::parse(read_text_file(file));
    j["verified_at"] = now + 3600;
    j["expires"] = now + 4000;
    write_text_file(file, j.dump());
    ::chmod(file.c_str(), 0600);
    CHECK_FALSE(cache.lookup(image(1), team).has_value());
    CHECK(entries(dir).empty());
  }
}

TEST_CASE("digest cache: at most max_entries are kept\\, the oldest go first", "[digest_cache]") {
  TempDir tmp;
  const auto dir = tmp / "cache";
  const auto p = policy();
  const auto& team = rule_named(p, "team");
  auto cache = open_ok(dir, p, CacheOptions{.max_entries = 3});
  std::set<fs::path> seen;
  // Each entry's modification time set one minute after the previous one's, so that "oldest"
  // does not depend on the file system's timestamp granularity.
  for (int i = 0; i < 5; ++i) {
    REQUIRE(cache.store(image(i), team, satisfied(image(i))));
    for (const auto& e : entries(dir)) {
      if (seen.insert(e).second) {
        const auto t = std::filesystem::file_time_type::clock::now() - std::chrono::minutes(10 - i);
        fs::last_write_time(e, t);
      }
    }
    CHECK(entries(dir).size() == std::min<std::size_t>(static_cast<std::size_t>(i) + 1, 3));
  }
  CHECK_FALSE(cache.lookup(image(0), team).has_value());
  CHECK_FALSE(cache.lookup(image(1), team).has_value());
  CHECK(cache.lookup(image(2), team).has_value());
  CHECK(cache.lookup(image(3), team).has_value());
  CHECK(cache.lookup(image(4), team).has_value());
}

TEST_CASE("digest cache: a changed policy content digest drops every entry", "[digest_cache]") {
  TempDir tmp;
  const auto dir = tmp / "cache";
  const auto a = policy(kPolicyA);
  {
    auto cache = open_ok(dir, a);
    REQUIRE(cache.store(image(1), rule_named(a, "team"), satisfied(image(1))));
    REQUIRE(cache.store(image(2), rule_named(a, "team"), satisfied(image(2))));
  }
  CHECK(read_text_file(dir / "policy") == kPolicyA);
  const auto b = policy(kPolicyB);  // same rules, another file (a key file changed, say)
  auto cache = open_ok(dir, b);
  CHECK(entries(dir).empty());
  CHECK(read_text_file(dir / "policy") == kPolicyB);
  CHECK_FALSE(cache.lookup(image(1), rule_named(b, "team")).has_value());

  // An entry a process still running under the old policy writes afterwards is not taken either.
  std::string why;
  auto old_writer = VerifiedDigestCache::open(dir, a, {}, why);  // drops b's marker
  REQUIRE(old_writer.has_value());
  REQUIRE(old_writer->store(image(3), rule_named(a, "team"), satisfied(image(3))));
  auto fresh = open_ok(dir, b);
  CHECK_FALSE(fresh.lookup(image(3), rule_named(b, "team")).has_value());
}

TEST_CASE(
    "digest cache: a directory writable by group or others\\, not root's\\, a link or a file is "
    "not used\\, naming it",
    "[digest_cache]") {
  TempDir tmp;
  const auto dir = tmp / "cache";
  const auto p = policy();
  const std::string tail = "; the verified-digest cache is not used";
  fs::create_directory(dir);

  ::chmod(dir.c_str(), 0777);
  CHECK(refusal(dir, p) == dir.string() + ": writable by group or others (mode 0777)" + tail);
  ::chmod(dir.c_str(), 0770);
  CHECK(refusal(dir, p) == dir.string() + ": writable by group or others (mode 0770)" + tail);
  ::chmod(dir.c_str(), 01777);  // sticky does not make it safe
  CHECK(refusal(dir, p) == dir.string() + ": writable by group or others (mode 1777)" + tail);
  ::chmod(dir.c_str(), 0755);
  REQUIRE(::chown(dir.c_str(), 1234, 1234) == 0);
  CHECK(refusal(dir, p) == dir.string() + ": owned by uid 1234, not root" + tail);
  REQUIRE(::chown(dir.c_str(), 0, 0) == 0);
  (void)open_ok(dir, p);  // now it is fine

  const auto real = tmp / "real";
  fs::create_directory(real);
  ::chmod(real.c_str(), 0700);
  const auto link = tmp / "link";
  fs::create_directory_symlink(real, link);
  CHECK(refusal(link, p) == link.string() + ": a symbolic link" + tail);
  CHECK(refusal(link / "", p) == (link / "").string() + ": a symbolic link" + tail);

  const auto file = tmp / "file";
  write_text_file(file, "x");
  CHECK(refusal(file, p) == file.string() + ": not a directory" + tail);

  // Not created under a parent others may write to.
  const auto open_parent = tmp / "open";
  fs::create_directory(open_parent);
  ::chmod(open_parent.c_str(), 0777);
  CHECK(refusal(open_parent / "cache", p) ==
        (open_parent / "cache").string() +
            ": does not exist, and its parent directory is writable by group or others (mode "
            "0777), so it is not created there" +
            tail);
  CHECK_FALSE(fs::exists(open_parent / "cache"));

  std::string why;
  CHECK_FALSE(VerifiedDigestCache::open(dir, p, CacheOptions{.ttl = std::chrono::seconds(0)}, why));
  CHECK(why == dir.string() + ": the TTL is not positive" + tail);
}

TEST_CASE(
    "digest cache: a malformed\\, oversized\\, linked or group-writable entry is a miss and "
    "removed",
    "[digest_cache]") {
  TempDir tmp;
  const auto dir = tmp / "cache";
  const auto p = policy();
  const auto& team = rule_named(p, "team");
  auto cache = open_ok(dir, p);
  REQUIRE(cache.store(image(1), team, satisfied(image(1))));
  const auto file = only_entry(dir);
  const auto good = read_text_file(file);
  REQUIRE(cache.lookup(image(1), team).has_value());

  auto put = [&](const std::string& text, mode_t mode = 0600) {
    fs::remove(file);
    write_text_file(file, text);
    ::chmod(file.c_str(), mode);
  };
  auto j = nlohmann::json::parse(good);
  SECTION("not JSON") {
    put("{\"format\":1,");
  }
  SECTION("an unknown field") {
    auto k = j;
    k["extra"] = 1;
    put(k.dump());
  }
  SECTION("a missing field") {
    auto k = j;
    k.erase("cause");
    put(k.dump());
  }
  SECTION("a field of the wrong type") {
    auto k = j;
    k["keys"] = "release";
    put(k.dump());
  }
  SECTION("another digest in the entry than its name stands for") {
    auto k = j;
    k["digest"] = image(2).str();
    put(k.dump());
  }
  SECTION("over the entry limit") {
    auto k = j;
    k["cause"] = std::string(limits::kMaxCacheEntryBytes, 'x');
    put(k.dump());
  }
  SECTION("writable by group") {
    put(good, 0660);
  }
  SECTION("a symbolic link to a good entry") {
    const auto elsewhere = tmp / "elsewhere.json";
    write_text_file(elsewhere, good);
    ::chmod(elsewhere.c_str(), 0600);
    fs::remove(file);
    fs::create_symlink(elsewhere, file);
  }
  SECTION("owned by another uid") {
    put(good);
    REQUIRE(::chown(file.c_str(), 1234, 1234) == 0);
  }
  CHECK_FALSE(cache.lookup(image(1), team).has_value());
  CHECK_FALSE(fs::exists(fs::symlink_status(file)));
  // And it is verified and stored again.
  REQUIRE(cache.store(image(1), team, satisfied(image(1))));
  CHECK(cache.lookup(image(1), team).has_value());
}

TEST_CASE("digest cache: two writers and a reader at once never see a broken entry",
          "[digest_cache]") {
  TempDir tmp;
  const auto dir = tmp / "cache";
  const auto p = policy();
  const auto& team = rule_named(p, "team");
  constexpr int kRounds = 300;
  constexpr std::size_t kMax = 8;
  const CacheOptions options{.max_entries = kMax};
  (void)open_ok(dir, p, options);

  // Each thread has its own cache object over the same directory, as separate hook processes do.
  std::atomic<int> stored{0}, hits{0}, wrong{0};
  std::atomic<bool> writers_done{false};
  auto writer = [&](int offset) {
    std::string why;
    auto c = VerifiedDigestCache::open(dir, p, options, why);
    if (!c) {
      ++wrong;
      return;
    }
    for (int i = 0; i < kRounds; ++i) {
      // Both write image 0 every round (the same entry, renamed over each other) and their own
      // others, so that both evict while the reader reads.
      if (c->store(image(0), team, satisfied(image(0)))) ++stored;
      if (c->store(image(offset + i % 20), team, satisfied(image(offset + i % 20)))) ++stored;
    }
  };
  auto reader = [&] {
    std::string why;
    auto c = VerifiedDigestCache::open(dir, p, options, why);
    if (!c) {
      ++wrong;
      return;
    }
    // Until both writers are done, and at least as many rounds as they make.
    for (int i = 0; i < kRounds || !writers_done; ++i) {
      for (int n : {0, 100 + i % 20, 200 + i % 20}) {
        auto v = c->lookup(image(n), team);
        if (!v) continue;
        ++hits;
        if (v->digest != image(n) || v->cause != "signed by release (1 of 1)" ||
            v->image != "registry.example.com/team/app@" + image(n).str()) {
          ++wrong;
        }
      }
    }
  };
  std::thread w1(writer, 100), w2(writer, 200), r(reader);
  w1.join();
  w2.join();
  writers_done = true;
  r.join();
  CHECK(wrong == 0);
  CHECK(stored == 4 * kRounds);
  CHECK(hits > 0);
  // Bounded, nothing half-written left, and every entry there is whole.
  const auto left = entries(dir);
  CHECK(left.size() <= kMax);
  CHECK(temporaries(dir) == 0);
  for (const auto& e : left) {
    CHECK(nlohmann::json::parse(read_text_file(e))["cause"] == "signed by release (1 of 1)");
  }
  // Image 0, written by both in every round, is among the newest: kept.
  auto after = open_ok(dir, p, options);
  CHECK(after.lookup(image(0), team).has_value());
}

}  // namespace trust::verify
