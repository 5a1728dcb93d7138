// sigil digest: what a reference names, after one request; --layers: every blob checked and the
// layer report. sigil triangulate: where an image's signatures, attestations, SBOMs or bundle
// referrers are stored.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "libtrust/core/error.h"
#include "libtrust/core/text.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/oci/inspect.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/attachments.h"

namespace sigil::cli {
namespace {

using nlohmann::ordered_json;

struct DigestArgs {
  std::string image;
  OutputFormat output = OutputFormat::kText;
  bool layers = false;
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
  if (r.repeated) {
    j["repeated"] = true;
    return j;
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

std::string size_text(std::uint64_t bytes) {
  return trust::human_size(bytes) + " (" + std::to_string(bytes) + " bytes)";
}

void print_text(const trust::oci::ImageReport& r, const std::string& indent) {
  say(indent + "manifest:  " + r.manifest.digest.str());
  say(indent + "  type:    " + r.manifest.media_type);
  say(indent + "  size:    " + size_text(r.manifest.size));
  if (r.platform) say(indent + "  platform: " + r.platform->str());
  if (r.repeated) {
    say(indent + "  (listed again: inspected and reported where it is first listed)");
    return;
  }
  if (r.config) {
    say(indent + "config:    " + r.config->digest.str() + " (image ID)");
    say(indent + "  type:    " + r.config->media_type);
    say(indent + "  size:    " + size_text(r.config->size));
    for (std::size_t i = 0; i < r.layers.size(); ++i) {
      const auto& l = r.layers[i];
      say(indent + "layer " + std::to_string(i) + ":   " + l.descriptor.digest.str());
      say(indent + "  type:    " + l.descriptor.media_type);
      say(indent + "  size:    " + size_text(l.descriptor.size));
      if (l.diff_id_computed) {
        say(indent + "  diffID:  " + l.diff_id.str() +
            (l.diff_id_matches_config ? "" : "  (DOES NOT MATCH the config)"));
        say(indent + "  uncompressed size: " + size_text(l.uncompressed_size));
      }
    }
  }
  for (const auto& c : r.children) {
    say(indent + "platform manifest" + (c.platform ? " " + c.platform->str() : std::string()) +
        ":");
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
  auto ref = parse_image_reference(a.image);
  auto source = trust::registry::open_source(ref, transport_options(a.registry));
  // The tag is resolved here, once (one manifest request; index.json for a layout).
  auto desc = source->resolve(ref);
  if (!a.layers) {
    if (a.output == OutputFormat::kJson) {
      print_json({{"reference", ref.str()},
                  {"digest", desc.digest.str()},
                  {"mediaType", desc.media_type},
                  {"size", desc.size}});
    } else {
      result(desc.digest.str());
    }
    return kExitOk;
  }
  trust::oci::InspectOptions options{
      .threads = a.threads, .compute_diff_ids = !a.no_diff_ids, .recurse_index = true};
  options.validate();
  auto report = trust::oci::inspect_image(*source, desc, options);
  if (a.output == OutputFormat::kJson) {
    ordered_json j{{"reference", ref.str()}, {"digest", report.manifest.digest.str()}};
    const auto body = report_json(report);  // (items() of a temporary would dangle)
    for (const auto& [k, v] : body.items()) j[k] = v;
    print_json(j);
  } else {
    result(report.manifest.digest.str());
    say(ref.str());
    print_text(report, "");
  }
  if (!consistent(report)) {
    throw trust::InputError(source->describe() + ": " + report.manifest.digest.str() +
                            ": a layer's diffID does not match the one its config lists");
  }
  return kExitOk;
}

void register_digest(Program& prog) {
  auto args = std::make_shared<DigestArgs>();
  auto* cmd = add_command(prog, prog.app, "digest",
                          "Print the digest IMAGE resolves to (one request); with --layers, check "
                          "every blob and report the config, layers and diffIDs",
                          [args] { return run_digest(*args); });
  add_output_option(*cmd, args->output,
                    "the digest on stdout (with --layers, the report on stderr)");
  auto* layers = cmd->add_flag(
      "--layers", args->layers,
      "Also fetch the config and every layer, check each against its digest, and report their "
      "digests, sizes and diffIDs (for an index, of every platform manifest)");
  cmd->add_option("--threads", args->threads,
                  "With --layers: layers hashed in parallel (0: one "
                  "per core)")
      ->check(CLI::Range(0u, 256u).description(""))
      ->type_name("N")
      ->needs(layers);
  cmd->add_flag("--no-diff-ids", args->no_diff_ids,
                "With --layers: only check layer digests; do not decompress layers for diffIDs")
      ->needs(layers);
  add_registry_options(*cmd, args->registry);
  cmd->add_option("IMAGE", args->image, kImageHelp)->required()->type_name("");
}

// --- triangulate --------------------------------------------------------------------------------

struct TriangulateArgs {
  std::string image;
  std::string type = "signature";
  OutputFormat output = OutputFormat::kText;
  RegistryFlags registry;
};

// The reference of `tag` in the repository (or layout) `ref` names.
std::string tag_reference(const trust::Reference& ref, const std::string& tag) {
  if (ref.kind() == trust::ReferenceKind::kRegistry) return ref.repository_name() + ":" + tag;
  return "oci:" + ref.path() + ":" + tag;
}

int run_triangulate(const TriangulateArgs& a) {
  auto ref = parse_image_reference(a.image);
  if (ref.kind() == trust::ReferenceKind::kDockerArchive) {
    throw trust::UsageError(ref.str() +
                            ": a docker archive is read only and has nothing attached; "
                            "triangulate a registry image or an oci: layout");
  }
  // A digest in the reference is the answer's key already: no request. A tag is resolved once.
  trust::Digest digest = ref.digest() ? *ref.digest() : [&] {
    auto source = trust::registry::open_source(ref, transport_options(a.registry));
    return source->resolve(ref).digest;
  }();
  std::string where;
  if (a.type == "signature") {
    where = tag_reference(
        ref, trust::sig::attachment_tag(digest, trust::sig::AttachmentKind::kSignatures));
  } else if (a.type == "attestation") {
    where = tag_reference(
        ref, trust::sig::attachment_tag(digest, trust::sig::AttachmentKind::kAttestations));
  } else if (a.type == "sbom") {
    where =
        tag_reference(ref, trust::sig::attachment_tag(digest, trust::sig::AttachmentKind::kSbom));
  } else if (a.type == "bundle") {
    where = tag_reference(ref, trust::oci::referrers_fallback_tag(digest));
  } else {  // digest
    where = ref.with_digest(digest).str();
  }
  if (a.output == OutputFormat::kJson) {
    print_json({{"reference", ref.str()},
                {"digest", digest.str()},
                {"type", a.type},
                {"attachment", where}});
  } else {
    result(where);
  }
  return kExitOk;
}

void register_triangulate(Program& prog) {
  auto args = std::make_shared<TriangulateArgs>();
  auto* cmd = add_command(prog, prog.app, "triangulate",
                          "Print where an image's signatures, attestations, SBOM or bundle "
                          "referrers are stored (as cosign triangulate; at most one request)",
                          [args] { return run_triangulate(*args); });
  add_choice(*cmd, "--type", args->type, {"signature", "attestation", "sbom", "bundle", "digest"},
             "What to locate. signature: the sha256-<hex>.sig tag; attestation: .att; sbom: "
             ".sbom; bundle: the sha256-<hex> referrers fallback index (sigstore bundles); "
             "digest: the image by digest")
      ->default_str("signature");
  add_output_option(*cmd, args->output, "the reference on stdout");
  add_registry_options(*cmd, args->registry);
  cmd->add_option("IMAGE", args->image, kImageHelp)->required()->type_name("");
}

}  // namespace

void register_inspect_commands(Program& prog) {
  register_digest(prog);
  register_triangulate(prog);
}

}  // namespace sigil::cli
