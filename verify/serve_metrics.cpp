#include "serve_metrics.h"

#include <charconv>
#include <cmath>

namespace sigil::cli {
namespace {

void header(std::string& out, const std::string& name, const std::string& help,
            std::string_view type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + std::string(type) + "\n";
}

// The shortest text that reads back as `v` (what Prometheus' own clients write).
std::string number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

void sample(std::string& out, const std::string& name, std::string_view labels,
            std::string_view value) {
  out += name;
  if (!labels.empty()) {
    out += "{";
    out += labels;
    out += "}";
  }
  out += " ";
  out += value;
  out += "\n";
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

LabeledCounter::LabeledCounter(std::string name, std::string help, std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}

void LabeledCounter::inc(const std::vector<std::string>& values, std::uint64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  values_[values] += n;
}

std::uint64_t LabeledCounter::value(const std::vector<std::string>& values) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = values_.find(values);
  return it == values_.end() ? 0 : it->second;
}

void LabeledCounter::render(std::string& out) const {
  header(out, name_, help_, "counter");
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [values, n] : values_) {
    std::string labels;
    for (std::size_t i = 0; i < labels_.size() && i < values.size(); ++i) {
      if (i) labels += ",";
      labels += labels_[i] + "=\"" + escape_label_value(values[i]) + "\"";
    }
    sample(out, name_, labels, std::to_string(n));
  }
}

DurationHistogram::DurationHistogram(std::string name, std::string help)
    : name_(std::move(name)), help_(std::move(help)) {}

void DurationHistogram::observe(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  std::size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(std::llround(seconds * 1e9)),
                    std::memory_order_relaxed);
}

void DurationHistogram::render(std::string& out) const {
  header(out, name_, help_, "histogram");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    const std::string le = i < kBuckets.size() ? number(kBuckets[i]) : "+Inf";
    sample(out, name_ + "_bucket", "le=\"" + le + "\"", std::to_string(cumulative));
  }
  sample(out, name_ + "_sum", "",
         number(static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9));
  sample(out, name_ + "_count", "", std::to_string(cumulative));
}

std::string ServeMetrics::render(const Snapshot& now) const {
  std::string out;
  requests.render(out);
  decisions.render(out);
  duration.render(out);
  header(out, "sigil_verdict_cache_hits_total", "Verdicts taken from the in-memory cache",
         "counter");
  sample(out, "sigil_verdict_cache_hits_total", "", std::to_string(now.cache_hits));
  header(out, "sigil_verdict_cache_misses_total",
         "Verdicts looked up in the in-memory cache and not found", "counter");
  sample(out, "sigil_verdict_cache_misses_total", "", std::to_string(now.cache_misses));
  header(out, "sigil_verdict_cache_entries", "Verdicts held in the in-memory cache", "gauge");
  sample(out, "sigil_verdict_cache_entries", "", std::to_string(now.cache_entries));
  header(out, "sigil_registry_errors_total",
         "Verdicts whose check could not be completed (a registry error, a deadline)", "counter");
  sample(out, "sigil_registry_errors_total", "",
         std::to_string(registry_errors.load(std::memory_order_relaxed)));
  policy_reloads.render(out);
  header(out, "sigil_policy_last_good_info", "The content digest of the policy in force", "gauge");
  if (!now.policy_digest.empty()) {
    sample(out, "sigil_policy_last_good_info",
           "digest=\"" + escape_label_value(now.policy_digest) + "\"", "1");
  }
  certificate_reloads.render(out);
  header(out, "sigil_certificate_expiry_timestamp_seconds",
         "When the certificate served expires (notAfter), in Unix seconds", "gauge");
  sample(out, "sigil_certificate_expiry_timestamp_seconds", "",
         std::to_string(now.certificate_expiry));
  return out;
}

}  // namespace sigil::cli
