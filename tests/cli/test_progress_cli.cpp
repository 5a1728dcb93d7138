// Transfer progress as `sigil copy` prints it when stderr is not a terminal (a CI log): whole
// lines, one per 10 % step, then the end; none with --quiet. The layer comes from the in-process
// fake registry, sent in small paced chunks so that the transfer lasts about a second on any
// machine (the library reports progress at most every 100 ms).
#include <catch2/catch.hpp>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "libtrust/core/text.h"
#include "support/fake_registry.h"
#include "support/layout_builder.h"
#include "support/process.h"

namespace {

using namespace sigil::test;

const std::string kSigil = SIGIL_BIN_DIR "/sigil";

// Serves `data` in 128 KiB chunks, 20 ms apart.
FakeRegistry::Handler paced(std::string data) {
  return [data](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content_provider(data.size(), "application/octet-stream",
                             [data](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                               std::this_thread::sleep_for(std::chrono::milliseconds(20));
                               const auto n =
                                   std::min<std::size_t>(data.size() - offset, 128u << 10);
                               sink.write(data.data() + offset, n);
                               return true;
                             });
  };
}

// The percentages of the "LABEL: DONE / TOTAL (N%)" lines, in order.
std::vector<int> percent_lines(const std::string& err, const std::string& label,
                               const std::string& total) {
  std::vector<int> out;
  const std::string marker = " / " + total + " (";
  std::istringstream lines(err);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(label + ": ", 0) != 0) continue;
    auto open = line.find(marker);
    if (open == std::string::npos) continue;
    out.push_back(std::stoi(line.substr(open + marker.size())));
  }
  return out;
}

}  // namespace

TEST_CASE("sigil copy in a log prints a progress line per 10 % and the end, none with --quiet",
          "[cli][progress]") {
  FakeRegistry reg;
  const std::string layer = pattern_bytes(6u << 20, 9);
  const std::string config =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  const auto layer_digest = reg.add_blob("lab/slow", layer);
  const auto config_digest = reg.add_blob("lab/slow", config);
  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      config_digest.str() + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
      layer_digest.str() + R"(","size":)" + std::to_string(layer.size()) + "}]}";
  reg.add_manifest("lab/slow", manifest, "application/vnd.oci.image.manifest.v1+json", "v1");
  reg.add_fault({"GET", "/v2/lab/slow/blobs/" + layer_digest.str(), 2, paced(layer)});
  TempDir tmp;
  const auto label = "blob " + layer_digest.str().substr(0, 19);
  auto copy = [&](const std::vector<std::string>& extra, const std::string& dir) {
    std::vector<std::string> args{kSigil, "copy", "--insecure-registry", reg.host()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(reg.host() + "/lab/slow:v1");
    args.push_back("oci:" + (tmp / dir).string() + ":v1");
    return run_process(args, {{"DOCKER_CONFIG", (tmp / "no-docker").string()}});
  };

  auto logged = copy({}, "logged");
  INFO(logged.err);
  REQUIRE(logged.exit_code == 0);
  const auto size = trust::human_size(layer.size());  // "6.00 MiB"
  CHECK_THAT(logged.err, Catch::Contains("\n" + label + ": " + size + ", done\n"));
  const auto steps = percent_lines(logged.err, label, size);
  CHECK_FALSE(steps.empty());
  CHECK(steps.size() <= 9);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    CHECK(steps[i] >= 10);
    CHECK(steps[i] < 100);
    if (i > 0) CHECK(steps[i] / 10 > steps[i - 1] / 10);  // each line a further 10 % step
  }
  CHECK_THAT(logged.err, !Catch::Contains("\r") && !Catch::Contains("\x1b"));
  CHECK_THAT(logged.err, Catch::Contains("2 blob(s) copied (" +
                                         trust::human_size(layer.size() + config.size()) + ")"));

  auto quiet = copy({"--quiet"}, "quiet");
  INFO(quiet.err);
  REQUIRE(quiet.exit_code == 0);
  CHECK_THAT(quiet.err, !Catch::Contains(label));
}
