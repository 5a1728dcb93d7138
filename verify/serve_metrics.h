#pragma once
// The metrics of `sigil serve` (docs/cli.md), in the Prometheus text exposition format 0.0.4:
// for each family a "# HELP" and a "# TYPE" line, then its samples; label values escaped (\\,
// \", \n); histograms as cumulative _bucket{le="…"} samples ending at le="+Inf", then _sum and
// _count. Counters are atomics or, with labels, a map under a mutex (the label sets are few).

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sigil::cli {

// A label value as the text format writes it between quotes.
std::string escape_label_value(std::string_view value);

// A counter family with labels: one sample per label set seen.
class LabeledCounter {
 public:
  LabeledCounter(std::string name, std::string help, std::vector<std::string> labels);
  void inc(const std::vector<std::string>& values, std::uint64_t n = 1);
  std::uint64_t value(const std::vector<std::string>& values) const;
  void render(std::string& out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::uint64_t> values_;
};

// sigil_admission_request_duration_seconds: fixed buckets, in seconds.
class DurationHistogram {
 public:
  static constexpr std::array<double, 13> kBuckets{.001, .0025, .005, .01, .025, .05, .1,
                                                   .25,  .5,    1,    2.5, 5,    10};
  DurationHistogram(std::string name, std::string help);
  void observe(double seconds);
  void render(std::string& out) const;

 private:
  std::string name_, help_;
  std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> counts_{};  // last: over 10 s
  std::atomic<std::uint64_t> sum_ns_{0};
};

struct ServeMetrics {
  LabeledCounter requests{"sigil_admission_requests_total",
                          "AdmissionReview requests answered, by endpoint and result",
                          {"endpoint", "result"}};
  LabeledCounter decisions{"sigil_admission_decisions_total",
                           "Images judged, by result and the policy rule that judged them",
                           {"result", "rule"}};
  DurationHistogram duration{"sigil_admission_request_duration_seconds",
                             "Time to answer an AdmissionReview"};
  std::atomic<std::uint64_t> registry_errors{0};
  LabeledCounter policy_reloads{
      "sigil_policy_reloads_total", "Policy reads, by result (loaded or refused)", {"result"}};
  LabeledCounter certificate_reloads{"sigil_certificate_reloads_total",
                                     "Certificate pair reads, by result (loaded or refused)",
                                     {"result"}};

  // What is read at each scrape rather than counted here.
  struct Snapshot {
    std::uint64_t cache_hits = 0;
    std::uint64_t cache_misses = 0;
    std::uint64_t cache_entries = 0;
    std::string policy_digest;        // the policy in force
    std::int64_t certificate_expiry;  // notAfter of the certificate served, Unix seconds
  };
  std::string render(const Snapshot& now) const;
};

}  // namespace sigil::cli
