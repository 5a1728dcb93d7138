// docker-archive sources: both forms docker writes, tag selection, and hostile archives.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/oci/docker_archive.h"
#include "libtrust/oci/image_source.h"
#include "oci/archive_fixtures.h"
#include "oci/oci_test_util.h"
#include "support/layout_builder.h"
#include "support/process.h"

using namespace trust;
using namespace trust::oci;
using oci_test::code_of;
using oci_test::thrown_by;
using sigil::test::TarEntry;
namespace fs = std::filesystem;

namespace {

TarEntry file_entry(std::string name, std::string content) {
  return {.name = std::move(name), .content = std::move(content), .symlink_target = {}};
}
TarEntry link_entry(std::string name, std::string target) {
  return {.name = std::move(name), .content = {}, .symlink_target = std::move(target)};
}

const std::string kConfig =
    R"({"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}})";

Descriptor resolve(const fs::path& archive, const std::string& tag = "") {
  auto text = "docker-archive:" + archive.string() + (tag.empty() ? "" : ":" + tag);
  auto ref = Reference::parse(text);
  return open_image_source(ref)->resolve(ref);
}

}  // namespace

TEST_CASE("a legacy archive is presented as a Docker schema2 manifest", "[oci][archive]") {
  sigil::test::TempDir tmp;
  sigil::test::ImageSpec image;
  image.layers = {sigil::test::layer(100, sigil::test::LayerCompression::kGzip, 1),
                  sigil::test::layer(100, sigil::test::LayerCompression::kGzip, 2)};
  auto built = sigil::test::build_layout(tmp / "img", {.images = {image}, .index_tag = {}});
  // Layer 2 stored gzip-compressed, as some tools write: the media type follows the bytes.
  auto tar = built.images[0].layers[0].tar;
  auto gz = sigil::test::gzip_bytes(built.images[0].layers[1].tar);
  auto config = std::string(as_string_view(built.images[0].config_bytes));
  sigil::test::write_tar(
      tmp / "a.tar",
      {file_entry("cfg.json", config), file_entry("l1/layer.tar", std::string(as_string_view(tar))),
       file_entry("l2/layer.tar", std::string(as_string_view(gz))),
       file_entry(
           "manifest.json",
           R"([{"Config":"cfg.json","RepoTags":["example.com/app:1.0"],"Layers":["l1/layer.tar","./l2/layer.tar"]}])")});
  auto source = open_docker_archive(tmp / "a.tar");
  CHECK(source->describe() == "docker-archive:" + (tmp / "a.tar").string());
  auto desc = source->resolve(Reference::parse("docker-archive:" + (tmp / "a.tar").string()));
  CHECK(desc.media_type == media_type::kDockerManifest);
  auto m = Manifest::parse(source->fetch_manifest(desc), "synthesised");
  CHECK(m.media_type == media_type::kDockerManifest);
  CHECK(m.config.media_type == media_type::kDockerConfig);
  CHECK(m.config.digest == built.images[0].config.digest);  // the image ID
  REQUIRE(m.layers.size() == 2);
  CHECK(m.layers[0].media_type == "application/vnd.docker.image.rootfs.diff.tar");
  CHECK(m.layers[0].digest == Digest::of(tar));
  CHECK(m.layers[1].media_type == media_type::kDockerLayerGzip);
  CHECK(m.layers[1].digest == Digest::of(gz));
  // Tags: exact, and the same name spelled fully.
  CHECK(resolve(tmp / "a.tar", "example.com/app:1.0").digest == desc.digest);
  CHECK(source->find_tag("example.com/app:1.0")->digest == desc.digest);
  auto t = thrown_by([&] { resolve(tmp / "a.tar", "example.com/app:2.0"); });
  CHECK(t.code == ErrorCode::kNotFound);
  CHECK(t.message.find("(tags: example.com/app:1.0)") != std::string::npos);
}

TEST_CASE("archive tags match RepoTags, with Docker Hub names normalised", "[oci][archive]") {
  sigil::test::TempDir tmp;
  sigil::test::write_tar(
      tmp / "two.tar",
      {file_entry("c1.json", kConfig), file_entry("c2.json", kConfig + " "),
       file_entry(
           "manifest.json",
           R"([{"Config":"c1.json","RepoTags":["busybox:latest"],"Layers":[]},)"
           R"({"Config":"c2.json","RepoTags":["busybox:musl","localhost:5000/x/y:1"],"Layers":[]}])")});
  auto a = resolve(tmp / "two.tar", "busybox:latest");
  CHECK(resolve(tmp / "two.tar", "docker.io/library/busybox:latest").digest == a.digest);
  CHECK(resolve(tmp / "two.tar", "localhost:5000/x/y:1").digest != a.digest);
  auto t = thrown_by([&] { resolve(tmp / "two.tar"); });
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(t.message.find("busybox:latest, busybox:musl, localhost:5000/x/y:1") != std::string::npos);
}

TEST_CASE("a Docker 25 archive serves its real OCI manifests", "[oci][archive]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  sigil::test::write_docker_archive(built, tmp / "oci.tar", sigil::test::ArchiveForm::kOci);
  auto desc = resolve(tmp / "oci.tar");
  CHECK(desc.digest == built.manifest_digest);
  CHECK(desc.media_type == media_type::kOciManifest);
  CHECK(resolve(tmp / "oci.tar", "sigil.test/img:latest").digest == built.manifest_digest);
  CHECK(resolve(tmp / "oci.tar", "latest").digest == built.manifest_digest);  // ref.name
}

TEST_CASE("docker's duplicate-layer symlinks resolve inside the archive", "[oci][archive]") {
  sigil::test::TempDir tmp;
  sigil::test::write_tar(
      tmp / "s.tar",
      {file_entry("c.json", kConfig), file_entry("a/layer.tar", "layer bytes"),
       link_entry("b/layer.tar", "../a/layer.tar"),
       file_entry(
           "manifest.json",
           R"([{"Config":"c.json","RepoTags":null,"Layers":["a/layer.tar","b/layer.tar"]}])")});
  auto source = open_docker_archive(tmp / "s.tar");
  auto desc = source->resolve(Reference::parse("docker-archive:" + (tmp / "s.tar").string()));
  auto m = Manifest::parse(source->fetch_manifest(desc), "m");
  REQUIRE(m.layers.size() == 2);
  CHECK(m.layers[1].digest == m.layers[0].digest);
  CHECK(source->fetch_blob(m.layers[1], 100) == to_bytes("layer bytes"));
}

TEST_CASE("hostile archives are refused with the exact error", "[oci][archive][escape]") {
  sigil::test::TempDir tmp;
  auto archive_with = [&](const std::string& manifest_json, std::vector<TarEntry> extra = {}) {
    extra.push_back(file_entry("c.json", kConfig));
    extra.push_back(file_entry("manifest.json", manifest_json));
    auto path = tmp / ("t" + std::to_string(std::hash<std::string>{}(manifest_json)) + ".tar");
    sigil::test::write_tar(path, extra);
    return path;
  };
  auto open = [](const fs::path& p) { return open_docker_archive(p); };
  auto name_of = [](const fs::path& p) { return "docker-archive:" + p.string(); };

  SECTION("'..' in a layer path") {
    auto p = archive_with(R"([{"Config":"c.json","Layers":["../etc/passwd"]}])");
    auto t = thrown_by([&] { open(p); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name_of(p) +
                           "/manifest.json: layer path '../etc/passwd' must be a relative path "
                           "inside the archive (no '..')");
    // Even where normalising would stay inside: "a/../c.json" names an existing entry.
    auto q = archive_with(R"([{"Config":"c.json","Layers":["a/../c.json"]}])");
    auto u = thrown_by([&] { open(q); });
    CHECK(u.code == ErrorCode::kInput);
    CHECK(u.message == name_of(q) +
                           "/manifest.json: layer path 'a/../c.json' must be a relative path "
                           "inside the archive (no '..')");
  }
  SECTION("an absolute config path") {
    auto p = archive_with(R"([{"Config":"/c.json","Layers":[]}])");
    auto t = thrown_by([&] { open(p); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name_of(p) +
                           "/manifest.json: Config '/c.json' must be a relative path inside the "
                           "archive (no '..')");
  }
  SECTION("a symlink pointing out of the archive") {
    auto p = archive_with(R"([{"Config":"c.json","Layers":["l/layer.tar"]}])",
                          {link_entry("l/layer.tar", "../../../../etc/passwd")});
    auto t = thrown_by([&] { open(p); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name_of(p) +
                           ": layer 'l/layer.tar' is a link that does not resolve to a file "
                           "inside the archive");
    auto abs = archive_with(R"([{"Config":"c.json","Layers":["m/layer.tar"]}])",
                            {link_entry("m/layer.tar", "/c.json")});
    CHECK(thrown_by([&] { open(abs); }).message ==
          name_of(abs) +
              ": layer 'm/layer.tar' is a link that does not resolve to a file inside the archive");
  }
  SECTION("links that leave the archive are refused even when their target exists") {
    // Clamped at the root ("../../c.json" read as "c.json", as path.Clean on a rooted path
    // would), each of these would name the archive's own c.json: they must not. (From l/,
    // "../c.json" is c.json itself, inside the archive.)
    for (std::string target : {"../../c.json", "x/../../../c.json", "../../l/../c.json"}) {
      INFO(target);
      auto p = archive_with(R"([{"Config":"c.json","Layers":["l/layer.tar"]}])",
                            {link_entry("l/layer.tar", target)});
      auto t = thrown_by([&] { open(p); });
      CHECK(t.code == ErrorCode::kInput);
      CHECK(t.message == name_of(p) +
                             ": layer 'l/layer.tar' is a link that does not resolve to a file "
                             "inside the archive");
    }
    // A hard link is named from the archive root: "../c.json" leaves it.
    auto h = tmp / "hard.tar";
    oci_test::write_file(
        h, oci_test::tar_of(
               {oci_test::tar_file("c.json", kConfig),
                oci_test::tar_special("l/layer.tar", oci_test::TarType::kHardlink, "../c.json"),
                oci_test::tar_file("manifest.json",
                                   R"([{"Config":"c.json","Layers":["l/layer.tar"]}])")}));
    auto t = thrown_by([&] { open(h); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name_of(h) +
                           ": layer 'l/layer.tar' is a link that does not resolve to a file "
                           "inside the archive");
    // Inside the archive, both kinds resolve.
    auto ok = tmp / "ok.tar";
    oci_test::write_file(
        ok,
        oci_test::tar_of(
            {oci_test::tar_file("c.json", kConfig), oci_test::tar_file("a/layer.tar", "bytes"),
             oci_test::tar_special("l/layer.tar", oci_test::TarType::kSymlink, "../a/layer.tar"),
             oci_test::tar_special("h/layer.tar", oci_test::TarType::kHardlink, "a/layer.tar"),
             oci_test::tar_file(
                 "manifest.json",
                 R"([{"Config":"c.json","Layers":["l/layer.tar","h/layer.tar"]}])")}));
    auto source = open(ok);
    auto m = Manifest::parse(
        source->fetch_manifest(source->resolve(Reference::parse("docker-archive:" + ok.string()))),
        "m");
    REQUIRE(m.layers.size() == 2);
    CHECK(source->fetch_blob(m.layers[0], 100) == to_bytes("bytes"));
    CHECK(source->fetch_blob(m.layers[1], 100) == to_bytes("bytes"));
  }
  SECTION("a chain of links is followed at most 8 hops, so a loop cannot hang the reader") {
    // l/layer.tar -> k1 -> k2 -> ... -> kN -> c.json, every link inside the archive.
    auto chain = [&](int links) {
      std::vector<TarEntry> entries;
      for (int i = 1; i < links; ++i) {
        entries.push_back(link_entry("k" + std::to_string(i), i + 1 < links
                                                                  ? "k" + std::to_string(i + 1)
                                                                  : std::string("c.json")));
      }
      entries.push_back(link_entry("l/layer.tar", links > 1 ? "../k1" : "../c.json"));
      return archive_with(R"([{"Config":"c.json","Layers":["l/layer.tar"],"RepoTags":[")" +
                              std::to_string(links) + R"("]}])",
                          entries);
    };
    // Eight links resolve (kMaxLinkHops); a ninth is one past the limit.
    auto eight = chain(8);
    auto within = open(eight);
    auto m = Manifest::parse(within->fetch_manifest(within->resolve(
                                 Reference::parse("docker-archive:" + eight.string()))),
                             "m");
    REQUIRE(m.layers.size() == 1);
    CHECK(within->fetch_blob(m.layers[0], 1000) == to_bytes(kConfig));
    auto nine = chain(9);
    auto t = thrown_by([&] { open(nine); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name_of(nine) +
                           ": layer 'l/layer.tar' is a link that does not resolve to a file "
                           "inside the archive");
  }
  SECTION("a layer that is not in the archive") {
    auto p = archive_with(R"([{"Config":"c.json","Layers":["x/layer.tar"]}])");
    auto t = thrown_by([&] { open(p); });
    CHECK(t.code == ErrorCode::kNotFound);
    CHECK(t.message == name_of(p) + ": layer 'x/layer.tar' not found in the archive");
  }
  SECTION("malformed and truncated manifest.json") {
    CHECK(code_of([&] { open(archive_with(R"([{"Config":"c.json","Layers":[)")); }) ==
          ErrorCode::kInput);
    CHECK(code_of([&] { open(archive_with(R"({"Config":"c.json"})")); }) == ErrorCode::kInput);
    CHECK(code_of([&] { open(archive_with(R"([{"Layers":[]}])")); }) == ErrorCode::kInput);
  }
  SECTION("manifest.json over its size limit") {
    std::string big = R"([{"Config":"c.json","Layers":[]}])";
    big += std::string(limits::kMaxArchiveManifestBytes + 1 - big.size(), ' ');
    auto p = archive_with(big);
    auto t = thrown_by([&] { open(p); });
    CHECK(t.code == ErrorCode::kLimit);
    CHECK(t.message == name_of(p) + "/manifest.json: 4194305 bytes is over the limit of 4194304");
  }
  SECTION("more than kMaxLayersPerManifest layers") {
    std::string layers;
    for (std::size_t i = 0; i <= limits::kMaxLayersPerManifest; ++i)
      layers += (i ? ",\"c.json\"" : "\"c.json\"");
    CHECK(code_of([&] {
            open(archive_with(R"([{"Config":"c.json","Layers":[)" + layers + "]}]"));
          }) == ErrorCode::kLimit);
  }
  SECTION("duplicate entries") {
    auto p = archive_with(R"([{"Config":"c.json","Layers":[]}])", {file_entry("c.json", "{}")});
    auto t = thrown_by([&] { open(p); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name_of(p) + ": duplicate entry 'c.json'");
  }
  SECTION("not an archive, no manifest, no file") {
    sigil::test::write_text_file(tmp / "text.tar", "this is not a tar file at all");
    CHECK(code_of([&] { open(tmp / "text.tar"); }) == ErrorCode::kInput);
    sigil::test::write_tar(tmp / "empty.tar", {file_entry("x", "y")});
    CHECK(code_of([&] { open(tmp / "empty.tar"); }) == ErrorCode::kInput);
    CHECK(code_of([&] { open(tmp / "missing.tar"); }) == ErrorCode::kNotFound);
  }
}

TEST_CASE("docker-archive sources are read-only", "[oci][archive]") {
  CHECK(code_of([] { open_image_store(Reference::parse("docker-archive:/x.tar")); }) ==
        ErrorCode::kUnsupported);
  CHECK(code_of([] { open_image_source(Reference::parse("example.com/a:b")); }) ==
        ErrorCode::kUnsupported);
}
