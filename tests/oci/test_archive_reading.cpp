// How docker-archive sources read their file: an uncompressed tar by offset, a compressed one
// (gzip, zstd, xz, bzip2) in one forward pass with a bounded total of decompressed bytes, and
// metadata refused from its tar header's size before it is read.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/oci/copy.h"
#include "libtrust/oci/docker_archive.h"
#include "libtrust/oci/inspect.h"
#include "libtrust/oci/layout.h"
#include "oci/archive_fixtures.h"
#include "oci/oci_test_util.h"
#include "support/layout_builder.h"
#include "support/process.h"

using namespace trust;
using namespace trust::oci;
using oci_test::Filter;
using oci_test::tar_file;
using oci_test::thrown_by;
namespace fs = std::filesystem;

namespace {

const std::string kConfig =
    R"({"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}})";
// Larger than what a compressed archive keeps in memory after its first pass (256 KiB): read
// again from the archive whenever it is asked for.
constexpr std::size_t kLayerBytes = 300u << 10;

fs::path write_archive(const fs::path& file, const std::vector<oci_test::TarItem>& items,
                       Filter filter) {
  oci_test::write_file(file, oci_test::compress(oci_test::tar_of(items), filter));
  return file;
}

Descriptor resolve(ImageSource& source, const fs::path& file, const std::string& tag = "") {
  return source.resolve(
      Reference::parse("docker-archive:" + file.string() + (tag.empty() ? "" : ":" + tag)));
}

InspectOptions hash_only() {
  return {.threads = 2, .compute_diff_ids = false, .recurse_index = true};
}

std::string layers_json(const std::vector<std::string>& paths) {
  std::string out;
  for (const auto& p : paths) out += (out.empty() ? "\"" : ",\"") + p + "\"";
  return R"([{"Config":"c.json","RepoTags":["a:b"],"Layers":[)" + out + "]}]";
}

}  // namespace

TEST_CASE("compressed archives of both forms serve verified images (gzip, zstd, xz, bzip2)",
          "[oci][archive][compressed]") {
  sigil::test::TempDir tmp;
  sigil::test::ImageSpec image;
  image.layers = {sigil::test::layer(kLayerBytes, sigil::test::LayerCompression::kGzip, 21),
                  sigil::test::layer(3000, sigil::test::LayerCompression::kNone, 22)};
  auto built = sigil::test::build_layout(tmp / "img", {.images = {image}, .index_tag = {}});
  for (auto form : {sigil::test::ArchiveForm::kLegacy, sigil::test::ArchiveForm::kOci}) {
    sigil::test::write_docker_archive(built, tmp / "plain.tar", form);
    const auto tar = to_bytes(sigil::test::read_text_file(tmp / "plain.tar"));
    for (auto filter : {Filter::kNone, Filter::kGzip, Filter::kZstd, Filter::kXz, Filter::kBzip2}) {
      INFO((form == sigil::test::ArchiveForm::kLegacy ? "legacy " : "oci ")
           << oci_test::filter_name(filter));
      auto file = tmp / (std::string("image.tar.") + oci_test::filter_name(filter));
      oci_test::write_file(file, oci_test::compress(tar, filter));
      auto source = open_docker_archive(file);
      CHECK(source->supports_parallel_reads() == (filter == Filter::kNone));
      auto desc = resolve(*source, file, "sigil.test/img:latest");
      auto report = inspect_image(*source, desc);
      REQUIRE(report.layers.size() == 2);
      for (std::size_t i = 0; i < 2; ++i) {
        CHECK(report.layers[i].diff_id == built.images[0].layers[i].diff_id);
      }
      CHECK(report.diff_ids_consistent);
      // Read again, out of order: verified the same way.
      CHECK(Digest::of(source->fetch_blob(report.layers[1].descriptor, 1 << 20)) ==
            report.layers[1].descriptor.digest);
      CHECK(Digest::of(source->fetch_blob(report.layers[0].descriptor, 1 << 20)) ==
            report.layers[0].descriptor.digest);
    }
  }
}

TEST_CASE("a layer listed a thousand times behind a large filler is read once from a .tar.gz",
          "[oci][archive][compressed]") {
  // Re-read from the start for every listing, this archive would decompress its 32 MiB filler a
  // thousand times; the re-read budget (4 times the archive) refuses that long before.
  sigil::test::TempDir tmp;
  const auto layer = sigil::test::pattern_bytes(kLayerBytes, 5);
  auto file = write_archive(
      tmp / "a.tar.gz",
      {tar_file("manifest.json", layers_json(std::vector<std::string>(limits::kMaxLayersPerManifest,
                                                                      "l/layer.tar"))),
       tar_file("c.json", kConfig), tar_file("filler.bin", std::string(32u << 20, '\0')),
       tar_file("l/layer.tar", layer)},
      Filter::kGzip);
  auto source = open_docker_archive(file);
  auto desc = resolve(*source, file);
  auto report = inspect_image(*source, desc, hash_only());
  REQUIRE(report.layers.size() == limits::kMaxLayersPerManifest);
  CHECK(report.layers.back().descriptor.digest == Digest::of(to_bytes(layer)));

  auto dst = create_oci_layout(tmp / "copy");
  auto copied = copy_image(*source, *dst, desc);
  CHECK(copied.blobs_copied == 2);  // the config and the layer, once
  CHECK(copied.manifests == 1);
  CHECK(dst->fetch_blob(report.layers[0].descriptor, 1 << 20) == to_bytes(layer));
}

TEST_CASE("layers listed against archive order cost one pass of a compressed archive",
          "[oci][archive][compressed]") {
  // Six layers behind a 32 MiB filler, listed in the reverse of their archive order: read in the
  // order listed, each would restart the archive (six times its size, over the budget of four);
  // read in archive order (ImageSource::reading_order), they take one pass.
  sigil::test::TempDir tmp;
  std::vector<oci_test::TarItem> items{tar_file("c.json", kConfig),
                                       tar_file("filler.bin", std::string(32u << 20, '\0'))};
  std::vector<std::string> listed;
  for (int i = 0; i < 6; ++i) {
    auto path = "l" + std::to_string(i) + "/layer.tar";
    items.push_back(tar_file(path, sigil::test::pattern_bytes(kLayerBytes, 30 + i)));
    listed.insert(listed.begin(), path);
  }
  items.push_back(tar_file("manifest.json", layers_json(listed)));
  for (auto filter : {Filter::kGzip, Filter::kZstd}) {
    INFO(oci_test::filter_name(filter));
    auto file = write_archive(tmp / "a.tar.x", items, filter);
    auto source = open_docker_archive(file);
    auto desc = resolve(*source, file);
    auto report = inspect_image(*source, desc);
    REQUIRE(report.layers.size() == 6);
    CHECK(report.layers[0].descriptor.digest ==
          Digest::of(to_bytes(sigil::test::pattern_bytes(kLayerBytes, 35))));
    sigil::test::TempDir out;
    auto copied = copy_image(*source, *create_oci_layout(out / "copy"), desc,
                             CopyOptions{.parallel_blobs = 4});
    CHECK(copied.blobs_copied == 7);
  }
}

TEST_CASE("reading a compressed archive out of order is refused past its re-read budget",
          "[oci][archive][compressed][limits]") {
  sigil::test::TempDir tmp;
  const std::vector<oci_test::TarItem> items{
      tar_file("manifest.json", layers_json({"a/layer.tar", "b/layer.tar"})),
      tar_file("c.json", kConfig), tar_file("filler.bin", std::string(8u << 20, '\0')),
      tar_file("a/layer.tar", sigil::test::pattern_bytes(kLayerBytes, 1)),
      tar_file("b/layer.tar", sigil::test::pattern_bytes(kLayerBytes, 2))};
  const auto tar_size = oci_test::tar_of(items).size();
  auto file = write_archive(tmp / "a.tar.gz", items, Filter::kGzip);
  auto source = open_docker_archive(file);
  auto m = Manifest::parse(source->fetch_manifest(resolve(*source, file)), "manifest");
  const auto& a = m.layers.at(0);
  const auto& b = m.layers.at(1);
  // In archive order, once: one pass.
  CHECK(Digest::of(source->fetch_blob(a, 1 << 20)) == a.digest);
  CHECK(Digest::of(source->fetch_blob(b, 1 << 20)) == b.digest);
  // Then b before a, again and again: every a restarts the archive, until the budget is spent.
  int served = 0;
  auto t = thrown_by([&] {
    for (int i = 0; i < 20; ++i) {
      (void)source->fetch_blob(a, 1 << 20);
      (void)source->fetch_blob(b, 1 << 20);
      ++served;
    }
  });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(served >= 1);
  CHECK(served < 4);
  CHECK_THAT(t.message,
             Catch::StartsWith("docker-archive:" + file.string() +
                               ": reading 'a/layer.tar' again from the start of this compressed "
                               "archive (decompress it first, e.g. with gunzip, zstd -d or xz -d, "
                               "and use the .tar: an uncompressed archive is read by offset): ") &&
                 Catch::EndsWith(" decompressed bytes after the first pass is over the limit of " +
                                 std::to_string(limits::kMaxArchiveRereadFactor * tar_size)));

  // The same archive uncompressed is read by offset: any order, any number of times.
  auto plain = write_archive(tmp / "a.tar", items, Filter::kNone);
  auto by_offset = open_docker_archive(plain);
  CHECK(by_offset->supports_parallel_reads());
  for (int i = 0; i < 20; ++i) {
    CHECK(Digest::of(by_offset->fetch_blob(b, 1 << 20)) == b.digest);
    CHECK(Digest::of(by_offset->fetch_blob(a, 1 << 20)) == a.digest);
  }
}

TEST_CASE("archive metadata is refused from its tar header's size before it is read",
          "[oci][archive][limits]") {
  sigil::test::TempDir tmp;
  struct Case {
    const char* name;
    std::uint64_t limit;
  };
  for (auto [name, limit] : {Case{"index.json", limits::kMaxManifestBytes},
                             Case{"manifest.json", limits::kMaxArchiveManifestBytes},
                             Case{"oci-layout", limits::kMaxOciLayoutFileBytes}}) {
    for (auto filter : {Filter::kNone, Filter::kGzip}) {
      INFO(name << " " << oci_test::filter_name(filter));
      // The header claims 1 GiB and the archive ends there: a reader that reads before it checks
      // finds a truncated entry, not the limit.
      auto file = tmp / "h.tar";
      oci_test::write_file(
          file, oci_test::compress(oci_test::tar_header_only(name, std::int64_t{1} << 30), filter));
      auto t = thrown_by([&] { open_docker_archive(file); });
      CHECK(t.code == ErrorCode::kLimit);
      CHECK(t.message == "docker-archive:" + file.string() + "/" + name +
                             ": 1073741824 bytes is over the limit of " + std::to_string(limit));
    }
  }
}

TEST_CASE("index.json in a compressed archive is read at its limit and refused past it",
          "[oci][archive][limits]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  auto index = sigil::test::read_text_file(built.dir / "index.json");
  auto with_index = [&](std::size_t size) {
    auto items = oci_test::items_of_dir(built.dir);
    for (auto& item : items) {
      if (item.name == "index.json") item.content = index + std::string(size - index.size(), ' ');
    }
    return write_archive(tmp / ("i" + std::to_string(size) + ".tar.gz"), items, Filter::kGzip);
  };
  auto at = with_index(limits::kMaxManifestBytes);
  CHECK(resolve(*open_docker_archive(at), at).digest == built.manifest_digest);
  auto past = with_index(limits::kMaxManifestBytes + 1);
  auto t = thrown_by([&] { open_docker_archive(past); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == "docker-archive:" + past.string() +
                         "/index.json: 4194305 bytes is over the limit of 4194304");
}

TEST_CASE("an archive is read through the file first opened, even if the path is replaced",
          "[oci][archive]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  sigil::test::write_docker_archive(built, tmp / "a.tar", sigil::test::ArchiveForm::kOci);
  auto source = open_docker_archive(tmp / "a.tar");
  auto desc = resolve(*source, tmp / "a.tar");
  // Another archive moved over the path: the source still reads (and verifies) the one it scanned.
  sigil::test::write_tar(tmp / "other.tar", {{.name = "x", .content = "y", .symlink_target = {}}});
  fs::rename(tmp / "other.tar", tmp / "a.tar");
  auto report = inspect_image(*source, desc);
  CHECK(report.layers.at(0).diff_id == built.images[0].layers[0].diff_id);
}

TEST_CASE("big entries of an uncompressed archive are read by offset and verified",
          "[oci][archive]") {
  sigil::test::TempDir tmp;
  const auto layer = sigil::test::pattern_bytes(6u << 20, 8);
  std::vector<oci_test::TarItem> items{tar_file("manifest.json", layers_json({"l/layer.tar"})),
                                       tar_file("c.json", kConfig), tar_file("l/layer.tar", layer)};
  auto file = write_archive(tmp / "a.tar", items, Filter::kNone);
  auto source = open_docker_archive(file);
  auto m = Manifest::parse(source->fetch_manifest(resolve(*source, file)), "manifest");
  const auto& l = m.layers.at(0);
  CHECK(source->fetch_blob(l, 8u << 20) == to_bytes(layer));
  CHECK(source->fetch_blob(l, 8u << 20) == to_bytes(layer));
  // Rewritten in place with one byte changed: same offsets, other content.
  auto changed = layer;
  changed[changed.size() / 2] ^= 1;
  items[2] = tar_file("l/layer.tar", changed);
  oci_test::write_file(file, oci_test::tar_of(items));
  auto t = thrown_by([&] { (void)source->fetch_blob(l, 8u << 20); });
  CHECK(t.code == ErrorCode::kDigestMismatch);
  CHECK_THAT(t.message, Catch::StartsWith("docker-archive:" + file.string() + ": blob " +
                                          l.digest.str() + " does not match its digest"));
  // Cut short: the entry ends early.
  auto tar = oci_test::tar_of(items);
  tar.resize(tar.size() - (3u << 20));
  oci_test::write_file(file, tar);
  auto u = thrown_by([&] { (void)source->fetch_blob(l, 8u << 20); });
  CHECK(u.code == ErrorCode::kInput);
  CHECK(u.message ==
        "docker-archive:" + file.string() +
            ": entry 'l/layer.tar' ends early: the archive changed after it was opened");
}
