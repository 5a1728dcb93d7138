#include "progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "libtrust/core/text.h"
#include "output.h"

namespace sigil::cli {
namespace {

using Clock = std::chrono::steady_clock;
using State = trust::registry::TransferProgress::State;

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);  // live lines
constexpr auto kLogInterval = std::chrono::seconds(5);            // log: at least this often
constexpr std::uint64_t kLogSteps = 10;                           // log lines: every 10 %

struct Transfer {
  std::string label;
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  std::uint64_t step = 0;  // log: the last 10 % step printed
  Clock::time_point last_line{};
};

std::string running_line(const Transfer& t) {
  std::string line = t.label + ": " + trust::human_size(t.done);
  if (t.total != 0) {
    const auto percent = t.done >= t.total ? 100 : t.done * 100 / t.total;
    line += " / " + trust::human_size(t.total) + " (" + std::to_string(percent) + "%)";
  }
  return line;
}

std::string final_line(const std::string& label, std::uint64_t done, State state) {
  return label + ": " + trust::human_size(done) + (state == State::kDone ? ", done" : ", failed");
}

// Shared by the live and the log style: the running transfers, by label, in start order.
class ProgressPrinter final : public LiveArea {
 public:
  explicit ProgressPrinter(ProgressStyle style) : style_(style) {
    if (style_ == ProgressStyle::kLive) set_live_area(this);
  }
  ~ProgressPrinter() override {
    if (style_ == ProgressStyle::kLive) release_live_area(this);
  }
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

  void update(const trust::registry::TransferProgress& p) {
    const std::string label = trust::printable(p.label);
    if (p.state != State::kRunning) {
      finish(label, p.done, p.state);
      return;
    }
    const auto now = Clock::now();
    std::unique_lock lock(console_mutex());
    auto* t = find(label);
    const bool started = t == nullptr;
    if (started) {
      running_.push_back(
          Transfer{.label = label, .done = 0, .total = 0, .step = 0, .last_line = now});
      t = &running_.back();
    }
    t->done = p.done;
    t->total = p.total;
    if (style_ == ProgressStyle::kLive) {
      if (started || now - last_draw_ >= kRedrawInterval) {
        clear();
        redraw();
        last_draw_ = now;
      }
      return;
    }
    bool print = now - t->last_line >= kLogInterval;
    if (t->total != 0) {
      const auto step = std::min(t->done, t->total) * kLogSteps / t->total;
      if (step > t->step && step < kLogSteps) {
        t->step = step;
        print = true;
      }
    }
    if (print) {
      t->last_line = now;
      std::cerr << running_line(*t) << "\n" << std::flush;
    }
  }

  // LiveArea (called with console_mutex() held).
  void clear() override {
    if (drawn_ == 0) return;
    std::cerr << "\x1b[" << drawn_ << "F\x1b[J";
    drawn_ = 0;
  }
  void redraw() override {
    for (const auto& t : running_) std::cerr << "\x1b[K" << running_line(t) << "\n";
    drawn_ = running_.size();
    std::cerr << std::flush;
  }

 private:
  Transfer* find(const std::string& label) {
    for (auto& t : running_) {
      if (t.label == label) return &t;
    }
    return nullptr;
  }

  void finish(const std::string& label, std::uint64_t done, State state) {
    std::unique_lock lock(console_mutex());
    for (auto it = running_.begin(); it != running_.end(); ++it) {
      if (it->label == label) {
        running_.erase(it);
        break;
      }
    }
    if (style_ == ProgressStyle::kLive) clear();
    std::cerr << final_line(label, done, state) << "\n";
    if (style_ == ProgressStyle::kLive) redraw();
    std::cerr << std::flush;
  }

  ProgressStyle style_;
  std::vector<Transfer> running_;
  std::size_t drawn_ = 0;
  Clock::time_point last_draw_{};
};

}  // namespace

ProgressStyle progress_style_for_stderr() {
  return ::isatty(STDERR_FILENO) == 1 ? ProgressStyle::kLive : ProgressStyle::kLog;
}

ProgressCallback make_progress_printer(ProgressStyle style) {
  auto printer = std::make_shared<ProgressPrinter>(style);
  return [printer](const trust::registry::TransferProgress& p) { printer->update(p); };
}

}  // namespace sigil::cli
