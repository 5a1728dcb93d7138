// sigil-bench-hash DIR TAG [ROUNDS]: the library's local hashing path, timed inside one process
// (no process start, no CLI): ImageSource::stream_blob of the image's largest layer (what every
// verified read of a local blob costs) and inspect_image without diffIDs (what the blob check of
// `sigil verify` and `sigil digest` do). Prints, best of ROUNDS (default 3):
//   stream_blob SECONDS BYTES
//   inspect_image SECONDS BYTES
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "libtrust/core/error.h"
#include "libtrust/oci/inspect.h"
#include "libtrust/oci/layout.h"

namespace {

template <typename F>
double best_of(int rounds, F&& f) {
  double best = 1e99;
  for (int i = 0; i < rounds; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
    best = std::min(best, d.count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DIR TAG [ROUNDS]\n", argv[0]);
    return 2;
  }
  try {
    const int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
    auto store = trust::oci::open_oci_layout(argv[1]);
    auto image =
        store->resolve(trust::Reference::parse("oci:" + std::string(argv[1]) + ":" + argv[2]));
    auto manifest = trust::oci::Manifest::parse(store->fetch_manifest(image), "manifest");
    if (manifest.layers.empty()) throw trust::InputError("the image has no layers");
    auto largest = *std::max_element(manifest.layers.begin(), manifest.layers.end(),
                                     [](const auto& a, const auto& b) { return a.size < b.size; });
    std::uint64_t total = 0;
    for (const auto& l : manifest.layers) total += l.size;
    const double stream =
        best_of(rounds, [&] { store->stream_blob(largest, [](trust::ByteView) {}); });
    const trust::oci::InspectOptions hash_only{
        .threads = 0, .compute_diff_ids = false, .recurse_index = true};
    const double inspect =
        best_of(rounds, [&] { (void)trust::oci::inspect_image(*store, image, hash_only); });
    std::printf("stream_blob %.6f %llu\n", stream, static_cast<unsigned long long>(largest.size));
    std::printf("inspect_image %.6f %llu\n", inspect, static_cast<unsigned long long>(total));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sigil-bench-hash: %s\n", e.what());
    return 3;
  }
}
