#pragma once
// Transfer progress for people (TransportOptions::progress), drawn on stderr:
//  - on a terminal, one live line per running transfer ("blob sha256:0123…: 12.0 MiB / 300.0 MiB
//    (4%)"), redrawn at most every 100 ms, and a last line when it ends ("…: 300.0 MiB, done");
//  - elsewhere (a CI log), a line each time a transfer passes another 10 %, and every 5 s while it
//    moves slower than that, and the last line: a log shows movement without a flood.
// Sizes in text are trust::human_size (MiB); JSON reports keep exact bytes.

#include <functional>
#include <memory>

#include "libtrust/registry/client.h"

namespace sigil::cli {

enum class ProgressStyle { kLive, kLog };

using ProgressCallback = std::function<void(const trust::registry::TransferProgress&)>;

// A callback for TransportOptions::progress; safe to call from several threads at once.
ProgressCallback make_progress_printer(ProgressStyle style);

// kLive when stderr is a terminal, else kLog.
ProgressStyle progress_style_for_stderr();

}  // namespace sigil::cli
