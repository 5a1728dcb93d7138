// FIFOs, sockets, devices and directories where an image source expects a file (or a file where
// it expects a directory): refused at once, by type, naming the path, before anything is read.
// Real FIFOs (mkfifo) in every position of a layout, and as the docker-archive file itself; FIFO,
// device and socket entries in archives. A regression that blocks in open() or read() is turned
// into a failure by HangGuard, not into a hung test run.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "libtrust/core/media_type.h"
#include "libtrust/oci/docker_archive.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/oci/inspect.h"
#include "libtrust/oci/layout.h"
#include "oci/archive_fixtures.h"
#include "oci/oci_test_util.h"
#include "support/layout_builder.h"
#include "support/process.h"

using namespace trust;
using namespace trust::oci;
using oci_test::thrown_by;
namespace fs = std::filesystem;

namespace {

const std::string kSigil = SIGIL_BIN_DIR "/sigil";

// If the test body is still running after a long grace period (correct code takes
// milliseconds), opens each FIFO for writing and closes it again, over and over, so that a reader
// blocked in open() or read() gets end-of-file and the assertions after it fail.
class HangGuard {
 public:
  explicit HangGuard(std::vector<fs::path> fifos)
      : fifos_(std::move(fifos)), thread_([this] { run(); }) {}
  ~HangGuard() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  HangGuard(const HangGuard&) = delete;
  HangGuard& operator=(const HangGuard&) = delete;
  bool fired() {
    std::lock_guard lock(mu_);
    return fired_;
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::seconds(30), [&] { return done_; })) return;
    fired_ = true;
    while (!done_) {
      for (const auto& f : fifos_) {
        int fd = ::open(f.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) ::close(fd);
      }
      cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return done_; });
    }
  }

  std::vector<fs::path> fifos_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;
};

// Replaces `path` (a file or directory) with a FIFO.
fs::path make_fifo(const fs::path& path) {
  fs::remove_all(path);
  REQUIRE(::mkfifo(path.c_str(), 0644) == 0);
  return path;
}

// Replaces `path` with a listening-capable unix socket (bound at a short path, then moved: a
// socket path must fit in sun_path).
void make_socket(const fs::path& path) {
  fs::remove_all(path);
  sigil::test::TempDir short_dir;
  auto bound = short_dir / "s";
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(bound.string().size() < sizeof(addr.sun_path));
  std::copy_n(bound.c_str(), bound.string().size(), addr.sun_path);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  ::close(fd);
  fs::rename(bound, path);
}

std::string layout_name(const sigil::test::BuiltLayout& built) {
  return "oci:" + built.dir.string();
}

}  // namespace

TEST_CASE("a FIFO wherever a layout expects a file or a directory is refused at once, by type",
          "[oci][layout][special]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  const auto name = layout_name(built);
  const auto& image = built.images[0];
  const auto& layer = image.layers[0].descriptor;
  auto inspect = [&] {
    auto store = open_oci_layout(built.dir);
    (void)inspect_image(*store, store->resolve(Reference::parse(built.reference("latest"))));
  };

  SECTION("oci-layout") {
    HangGuard guard({make_fifo(built.dir / "oci-layout")});
    auto t = thrown_by([&] { open_oci_layout(built.dir); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name + ": oci-layout is a FIFO, not a regular file");
    CHECK_FALSE(guard.fired());
  }
  SECTION("index.json") {
    HangGuard guard({make_fifo(built.dir / "index.json")});
    auto t = thrown_by([&] { open_oci_layout(built.dir); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name + ": index.json is a FIFO, not a regular file");
    CHECK_FALSE(guard.fired());
  }
  SECTION("blobs/") {
    auto store = open_oci_layout(built.dir);
    HangGuard guard({make_fifo(built.dir / "blobs")});
    auto t = thrown_by([&] { (void)store->fetch_manifest(image.manifest); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name + ": blobs/ is a FIFO, not a directory");
    // Writing there is refused the same way.
    auto w = thrown_by([&] { store->put_blob(to_bytes("x"), Digest::of(to_bytes("x"))); });
    CHECK(w.code == ErrorCode::kInput);
    CHECK(w.message == name + ": blobs/ is a FIFO, not a directory");
    CHECK_FALSE(guard.fired());
  }
  SECTION("blobs/sha256/") {
    auto store = open_oci_layout(built.dir);
    HangGuard guard({make_fifo(built.dir / "blobs" / "sha256")});
    auto t = thrown_by([&] { (void)store->fetch_manifest(image.manifest); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name + ": blobs/sha256/ is a FIFO, not a directory");
    CHECK_FALSE(guard.fired());
  }
  SECTION("the manifest blob, read by tag and resolved by digest") {
    HangGuard guard({make_fifo(built.blob_path(image.manifest.digest))});
    auto t = thrown_by(inspect);
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message ==
          name + ": blob " + image.manifest.digest.str() + " is a FIFO, not a regular file");
    // A digest index.json does not list is described from its blob: refused the same way.
    sigil::test::write_index_json(built.dir, {});
    auto store = open_oci_layout(built.dir);
    auto r = thrown_by([&] {
      store->resolve(Reference::parse(built.reference()).with_digest(image.manifest.digest));
    });
    CHECK(r.code == ErrorCode::kInput);
    CHECK(r.message == t.message);
    CHECK(thrown_by([&] { (void)store->has_blob(image.manifest.digest); }).message == t.message);
    CHECK_FALSE(guard.fired());
  }
  SECTION("the config blob") {
    HangGuard guard({make_fifo(built.blob_path(image.config.digest))});
    auto t = thrown_by(inspect);
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message ==
          name + ": blob " + image.config.digest.str() + " is a FIFO, not a regular file");
    CHECK_FALSE(guard.fired());
  }
  SECTION("a layer blob") {
    HangGuard guard({make_fifo(built.blob_path(layer.digest))});
    auto t = thrown_by(inspect);
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name + ": blob " + layer.digest.str() + " is a FIFO, not a regular file");
    CHECK_FALSE(guard.fired());
  }
}

TEST_CASE("sockets, directories and symlinks where a layout expects a blob are named by type",
          "[oci][layout][special]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  const auto name = layout_name(built);
  const auto& layer = built.images[0].layers[0].descriptor;
  auto store = open_oci_layout(built.dir);
  auto read_layer = [&] { (void)store->fetch_blob(layer, 1 << 20); };
  const auto shown = name + ": blob " + layer.digest.str();

  SECTION("a socket") {
    make_socket(built.blob_path(layer.digest));
    auto t = thrown_by(read_layer);
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == shown + " is a socket, not a regular file");
  }
  SECTION("a directory") {
    fs::remove(built.blob_path(layer.digest));
    fs::create_directory(built.blob_path(layer.digest));
    auto t = thrown_by(read_layer);
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == shown + " is a directory, not a regular file");
  }
  SECTION("a symlink to a FIFO outside the layout") {
    auto fifo = make_fifo(tmp / "outside-fifo");
    HangGuard guard({fifo});
    fs::remove(built.blob_path(layer.digest));
    fs::create_symlink(fifo, built.blob_path(layer.digest));
    auto t = thrown_by(read_layer);
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == shown + " is a symbolic link (refused: paths must stay in the layout)");
    CHECK_FALSE(guard.fired());
  }
  SECTION("blobs/ a symlink to a directory") {
    auto other = sigil::test::build_layout(tmp / "other");
    fs::remove_all(built.dir / "blobs");
    fs::create_directory_symlink(other.dir / "blobs", built.dir / "blobs");
    auto t = thrown_by(read_layer);
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message ==
          name + ": blobs/ is a symbolic link (refused: paths must stay in the layout)");
  }
}

TEST_CASE("a layout directory that is a FIFO is refused at once", "[oci][layout][special]") {
  sigil::test::TempDir tmp;
  auto fifo = make_fifo(tmp / "layout");
  HangGuard guard({fifo});
  auto t = thrown_by([&] { open_oci_layout(fifo); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message == "oci:" + fifo.string() + ": not a directory (it is a FIFO)");
  CHECK_FALSE(guard.fired());
}

TEST_CASE("a docker-archive that is a FIFO or a directory is refused at once, saying what to do",
          "[oci][archive][special]") {
  sigil::test::TempDir tmp;
  auto fifo = make_fifo(tmp / "image.tar");
  HangGuard guard({fifo});
  auto t = thrown_by([&] { open_docker_archive(fifo); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message == "docker-archive:" + fifo.string() +
                         " is a FIFO, not a regular file: an archive is read more than once, so "
                         "it cannot come from a pipe; write it to a file first (docker save -o "
                         "FILE)");
  fs::create_directory(tmp / "dir.tar");
  auto d = thrown_by([&] { open_docker_archive(tmp / "dir.tar"); });
  CHECK(d.code == ErrorCode::kInput);
  CHECK(d.message == "docker-archive:" + (tmp / "dir.tar").string() +
                         " is a directory, not a regular file (an OCI layout directory is named "
                         "oci:DIR)");
  CHECK_FALSE(guard.fired());
}

TEST_CASE("archive entries that are FIFOs, devices or directories are refused by type",
          "[oci][archive][special]") {
  using oci_test::tar_file;
  using oci_test::tar_special;
  using oci_test::TarType;
  sigil::test::TempDir tmp;
  const std::string config =
      R"({"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}})";
  auto open_with = [&](std::vector<oci_test::TarItem> items) {
    auto path = tmp / "a.tar";
    oci_test::write_file(path, oci_test::tar_of(items));
    return thrown_by([&] {
      auto ref = Reference::parse("docker-archive:" + path.string());
      auto source = open_image_source(ref);
      (void)inspect_image(*source, source->resolve(ref));
    });
  };
  const auto name = "docker-archive:" + (tmp / "a.tar").string();
  const std::string legacy = R"([{"Config":"c.json","Layers":["l/layer.tar"]}])";

  struct Case {
    TarType type;
    const char* shown;
  };
  for (auto [type, shown] :
       {Case{TarType::kFifo, "a FIFO"}, Case{TarType::kCharDevice, "a character device"},
        Case{TarType::kBlockDevice, "a block device"}, Case{TarType::kDirectory, "a directory"}}) {
    INFO(shown);
    auto t = open_with({tar_special("manifest.json", type)});
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name + ": metadata file 'manifest.json' is " + shown +
                           " in the archive, not a regular file");
    t = open_with({tar_special("index.json", type), tar_file("manifest.json", legacy)});
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == name + ": metadata file 'index.json' is " + shown +
                           " in the archive, not a regular file");
    t = open_with({tar_file("manifest.json", legacy), tar_file("c.json", config),
                   tar_special("l/layer.tar", type)});
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message ==
          name + ": layer 'l/layer.tar' is " + shown + " in the archive, not a regular file");
    t = open_with({tar_file("manifest.json", legacy), tar_special("c.json", type),
                   tar_file("l/layer.tar", "x")});
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message ==
          name + ": config 'c.json' is " + shown + " in the archive, not a regular file");
    // A symlink to such an entry is followed to it, and refused there.
    t = open_with({tar_file("manifest.json", legacy), tar_file("c.json", config),
                   tar_special("l/fifo", type),
                   tar_special("l/layer.tar", TarType::kSymlink, "fifo")});
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message ==
          name + ": layer 'l/layer.tar' is " + shown + " in the archive, not a regular file");
  }

  // The OCI form: a blob entry that is a FIFO.
  auto built = sigil::test::build_layout(tmp / "img");
  auto items = oci_test::items_of_dir(built.dir);
  const auto layer = built.images[0].layers[0].descriptor.digest;
  for (auto& item : items) {
    if (item.name == "blobs/sha256/" + layer.hex()) item = tar_special(item.name, TarType::kFifo);
  }
  auto t = open_with(items);
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message == name + ": blob " + layer.str() + " 'blobs/sha256/" + layer.hex() +
                         "' is a FIFO in the archive, not a regular file");
}

TEST_CASE("sigil digest refuses a FIFO in a layout or as the archive with exit code 3",
          "[oci][special][cli]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  auto index = make_fifo(built.dir / "index.json");
  auto archive = make_fifo(tmp / "image.tar");
  HangGuard guard({index, archive});
  auto r = sigil::test::run_process({kSigil, "digest", built.reference("latest")});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err,
             Catch::Contains(layout_name(built) + ": index.json is a FIFO, not a regular file"));
  r = sigil::test::run_process({kSigil, "digest", "docker-archive:" + archive.string()});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("docker-archive:" + archive.string() + " is a FIFO"));
  CHECK_FALSE(guard.fired());
}
