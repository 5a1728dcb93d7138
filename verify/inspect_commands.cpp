// sigil digest: resolve an image once, verify every blob while hashing, report the digests.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "libtrust/core/error.h"
#include "libtrust/core/reference.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/oci/inspect.h"
#include "libtrust/registry/registry_store.h"

namespace sigil::cli {
namespace {

using nlohmann::ordered_json;

struct DigestArgs {
  std::string image;
  OutputFormat output = OutputFormat::kText;
  unsigned threads = 0;
  bool no_diff_ids = false;
  RegistryFlags registry;
};

ordered_json descriptor_json(const trust::oci::Descriptor& d) {
  return ordered_json{{"digest", d.digest.str()}, {"mediaType", d.media_type}, {"size", d.size}};
}

ordered_json report_json(const trust::oci::ImageReport& r) {
  ordered_json j = ordered_json::object();
  j["manifest"] = descriptor_json(r.manifest);
  if (r.platform) {
    ordered_json p{{"os", r.platform->os}, {"architecture", r.platform->architecture}};
    if (!r.platform->variant.empty()) p["variant"] = r.platform->variant;
    j["platform"] = p;
  }
  if (r.config) {
    j["config"] = descriptor_json(*r.config);
    j["layers"] = ordered_json::array();
    for (const auto& l : r.layers) {
      auto lj = descriptor_json(l.descriptor);
      if (l.diff_id_computed) {
        lj["diffID"] = l.diff_id.str();
        lj["uncompressedSize"] = l.uncompressed_size;
        lj["diffIDMatchesConfig"] = l.diff_id_matches_config;
      }
      j["layers"].push_back(lj);
    }
  }
  if (!r.children.empty()) {
    j["manifests"] = ordered_json::array();
    for (const auto& c : r.children) j["manifests"].push_back(report_json(c));
  }
  return j;
}

void print_text(const trust::oci::ImageReport& r, const std::string& indent) {
  auto& e = std::cerr;
  e << indent << "manifest:  " << r.manifest.digest.str() << "\n"
    << indent << "  type:    " << r.manifest.media_type << "\n"
    << indent << "  size:    " << r.manifest.size << "\n";
  if (r.platform) e << indent << "  platform: " << r.platform->str() << "\n";
  if (r.config) {
    e << indent << "config:    " << r.config->digest.str() << " (image ID)\n"
      << indent << "  type:    " << r.config->media_type << "\n"
      << indent << "  size:    " << r.config->size << "\n";
    for (std::size_t i = 0; i < r.layers.size(); ++i) {
      const auto& l = r.layers[i];
      e << indent << "layer " << i << ":   " << l.descriptor.digest.str() << "\n"
        << indent << "  type:    " << l.descriptor.media_type << "\n"
        << indent << "  size:    " << l.descriptor.size << "\n";
      if (l.diff_id_computed) {
        e << indent << "  diffID:  " << l.diff_id.str()
          << (l.diff_id_matches_config ? "" : "  (DOES NOT MATCH the config)") << "\n"
          << indent << "  uncompressed size: " << l.uncompressed_size << "\n";
      }
    }
  }
  for (const auto& c : r.children) {
    e << indent << "platform manifest" << (c.platform ? " " + c.platform->str() : std::string())
      << ":\n";
    print_text(c, indent + "  ");
  }
}

bool consistent(const trust::oci::ImageReport& r) {
  if (!r.diff_ids_consistent) return false;
  for (const auto& c : r.children) {
    if (!consistent(c)) return false;
  }
  return true;
}

int run_digest(const DigestArgs& a) {
  auto ref = trust::Reference::parse(a.image);
  trust::oci::InspectOptions options{
      .threads = a.threads, .compute_diff_ids = !a.no_diff_ids, .recurse_index = true};
  options.validate();
  auto source = trust::registry::open_source(ref, transport_options(a.registry));
  // The tag is resolved here, once; everything after works on the digest.
  auto desc = source->resolve(ref);
  auto report = trust::oci::inspect_image(*source, desc, options);

  if (a.output == OutputFormat::kJson) {
    ordered_json j = ordered_json::object();
    j["reference"] = ref.str();
    auto body = report_json(report);
    for (auto it = body.begin(); it != body.end(); ++it) j[it.key()] = *it;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << report.manifest.digest.str() << "\n";
    std::cerr << ref.str() << "\n";
    print_text(report, "");
  }
  if (!consistent(report)) {
    throw trust::InputError(source->describe() + ": " + report.manifest.digest.str() +
                            ": a layer's diffID does not match the one its config lists");
  }
  return kExitOk;
}

}  // namespace

void register_inspect_commands(Program& prog) {
  auto args = std::make_shared<DigestArgs>();
  auto* cmd = prog.app.add_subcommand(
      "digest",
      "Resolve IMAGE once and report the digests of its manifest, config and layers (with "
      "diffIDs), checking every blob against its digest. Text: the manifest digest on stdout, "
      "details on stderr; --output json: everything on stdout");
  add_output_option(*cmd, args->output);
  add_registry_options(*cmd, args->registry);
  cmd->add_option("--threads", args->threads, "Layers hashed in parallel (0: one per core)")
      ->check(CLI::Range(0u, 256u));
  cmd->add_flag("--no-diff-ids", args->no_diff_ids,
                "Only verify layer digests; do not decompress layers to compute diffIDs");
  cmd->add_option("IMAGE", args->image,
                  "Image reference (oci:DIR[:TAG|@DIGEST], docker-archive:FILE[:NAME:TAG])")
      ->required();
  cmd->callback([&prog, args] { prog.action = [args] { return run_digest(*args); }; });
}

}  // namespace sigil::cli
