#pragma once
// A registry image source opened at its first use: a verdict the cache holds needs no registry,
// and opening one (libcurl loaded, its CAs read) is most of what a cached check would cost. What
// the containerd hook, the Docker plugin and sigil serve hand to check::enforce.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/reference.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/registry/client.h"
#include "libtrust/registry/registry_store.h"

namespace sigil::cli {

class LazyRegistrySource final : public trust::oci::ImageSource {
 public:
  LazyRegistrySource(trust::Reference ref, trust::registry::TransportOptions options)
      : ref_(std::move(ref)), options_(std::move(options)) {}

  std::string describe() const override { return get().describe(); }
  trust::oci::Descriptor resolve(const trust::Reference& ref) override {
    return get().resolve(ref);
  }
  std::optional<trust::oci::Descriptor> find_tag(std::string_view tag) override {
    return get().find_tag(tag);
  }
  trust::Bytes fetch_manifest(const trust::oci::Descriptor& desc) override {
    return get().fetch_manifest(desc);
  }
  trust::Bytes fetch_blob(const trust::oci::Descriptor& desc, std::uint64_t max_bytes) override {
    return get().fetch_blob(desc, max_bytes);
  }
  void fetch_blobs(const std::vector<trust::oci::Descriptor>& descs, std::uint64_t max_bytes,
                   const std::function<void(std::size_t, trust::Bytes)>& on_blob) override {
    get().fetch_blobs(descs, max_bytes, on_blob);
  }
  void stream_blob(const trust::oci::Descriptor& desc,
                   const std::function<void(trust::ByteView)>& sink) override {
    get().stream_blob(desc, sink);
  }
  bool supports_parallel_reads() const override { return get().supports_parallel_reads(); }
  std::vector<std::size_t> reading_order(
      const std::vector<trust::oci::Descriptor>& descs) override {
    return get().reading_order(descs);
  }
  std::vector<trust::oci::Descriptor> referrers(const trust::Digest& subject,
                                                std::string_view artifact_type) override {
    return get().referrers(subject, artifact_type);
  }

 private:
  // Opened on the caller's thread: enforce resolves before anything runs in parallel.
  trust::oci::ImageSource& get() const {
    if (!source_) source_ = trust::registry::open_source(ref_, options_);
    return *source_;
  }
  trust::Reference ref_;
  trust::registry::TransportOptions options_;
  mutable std::unique_ptr<trust::oci::ImageSource> source_;
};

}  // namespace sigil::cli
