// sigil tree: what is attached to an image (signatures, attestations, SBOMs, referrers).
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "libtrust/core/error.h"
#include "libtrust/core/media_type.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/attachments.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/intoto.h"
#include "libtrust/sig/referrers.h"

namespace sigil::cli {
namespace {

using ordered_json = nlohmann::ordered_json;

struct TreeArgs {
  std::string image;
  RegistryFlags registry;
  OutputFormat output = OutputFormat::kText;
};

// One attestation as stored (.att layer or bundle referrer), none of it verified: the predicate
// type its storage claims and the key ids its signatures or bundle name.
struct StoredAttestation {
  std::string origin;
  std::string predicate_type;       // the claim (annotation), "" when absent
  std::vector<std::string> signer;  // keyid hints / the bundle's key hint
  std::optional<std::string> problem;
};

std::vector<std::string> hints_of(const trust::sig::SignedEntity& e) {
  if (const auto* d = std::get_if<trust::sig::DsseAttestationContent>(&e.content)) {
    return d->envelope.key_id_hints();
  }
  if (const auto* b = std::get_if<trust::sig::BundleEntityContent>(&e.content)) {
    if (!b->bundle.key_hint().empty()) return {b->bundle.key_hint()};
  }
  return {};
}

StoredAttestation stored(const trust::sig::SignedEntity& e) {
  StoredAttestation a{.origin = e.origin,
                      .predicate_type = e.claimed_predicate_type.value_or(""),
                      .signer = hints_of(e),
                      .problem = e.problem};
  std::erase(a.signer, std::string());
  return a;
}

struct Node {
  trust::oci::Descriptor descriptor;
  trust::sig::Attachments attachments;
  std::vector<StoredAttestation> attestations;  // .att layers, then bundle attestations
  std::vector<Node> platforms;
};

// The attestations of `digest`: the .att layers, and the bundle referrers whose listing does not
// claim cosign's signature type (their envelopes are read for the key hint).
std::vector<StoredAttestation> attestations_of(trust::oci::ImageSource& source,
                                               const trust::sig::Attachments& attachments,
                                               const trust::Digest& digest) {
  std::vector<StoredAttestation> out;
  bool att = false;
  bool bundles = false;
  for (const auto& t : attachments.tagged)
    att |= t.kind == trust::sig::AttachmentKind::kAttestations;
  for (const auto& r : attachments.referrers) {
    auto pt = r.annotations.find(std::string(trust::sig::kAnnotationBundlePredicateType));
    bundles |= r.artifact_type == trust::media_type::kSigstoreBundleV03 &&
               (pt == r.annotations.end() || pt->second != trust::sig::kCosignSignPredicateType);
  }
  std::vector<std::pair<std::size_t, StoredAttestation>> att_layers;
  if (att) {
    trust::sig::visit_cosign_attestations(source, digest, [&](trust::sig::CosignAttestation a) {
      const auto index = a.index;
      att_layers.emplace_back(index, stored(trust::sig::to_entity(std::move(a))));
    });
  }
  std::sort(att_layers.begin(), att_layers.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [i, a] : att_layers) out.push_back(std::move(a));
  if (bundles) {
    // A listing whose manifests cannot be read is still listed above: tree shows what is there.
    try {
      auto referrers = trust::sig::read_bundle_referrers(source, digest);
      for (auto& r : referrers) {
        auto e = trust::sig::to_entity(std::move(r));
        if (e.claimed_predicate_type == trust::sig::kCosignSignPredicateType) continue;
        out.push_back(stored(e));
      }
    } catch (const trust::Error& e) {
      out.push_back(StoredAttestation{
          .origin = "bundle referrers", .predicate_type = "", .signer = {}, .problem = e.what()});
    }
  }
  return out;
}

Node collect(trust::oci::ImageSource& source, const trust::oci::Descriptor& desc, bool recurse) {
  Node n{.descriptor = desc,
         .attachments = trust::sig::find_attachments(source, desc.digest),
         .attestations = {},
         .platforms = {}};
  n.attestations = attestations_of(source, n.attachments, desc.digest);
  if (recurse && trust::oci::is_index_media_type(desc.media_type)) {
    auto bytes = source.fetch_manifest(desc);
    auto index = trust::oci::Index::parse(bytes, source.describe() + ": " + desc.digest.str());
    for (const auto& child : index.manifests) n.platforms.push_back(collect(source, child, false));
  }
  return n;
}

ordered_json node_json(const Node& n) {
  ordered_json j{{"digest", n.descriptor.digest.str()}, {"mediaType", n.descriptor.media_type}};
  if (n.descriptor.platform) j["platform"] = n.descriptor.platform->str();
  ordered_json tagged = ordered_json::array();
  for (const auto& a : n.attachments.tagged) {
    tagged.push_back({{"kind", trust::sig::to_string(a.kind)},
                      {"tag", a.tag},
                      {"digest", a.manifest.digest.str()}});
  }
  j["attachments"] = tagged;
  ordered_json refs = ordered_json::array();
  for (const auto& r : n.attachments.referrers) {
    refs.push_back({{"digest", r.digest.str()},
                    {"artifactType", r.artifact_type.value_or("")},
                    {"annotations", r.annotations}});
  }
  j["referrers"] = refs;
  ordered_json atts = ordered_json::array();
  for (const auto& a : n.attestations) {
    ordered_json one{{"origin", a.origin},
                     {"predicateType", a.predicate_type},
                     {"signerKeyIds", a.signer},
                     {"verified", false}};
    if (a.problem) one["problem"] = *a.problem;
    atts.push_back(one);
  }
  j["attestations"] = atts;
  if (!n.platforms.empty()) {
    j["manifests"] = ordered_json::array();
    for (const auto& p : n.platforms) j["manifests"].push_back(node_json(p));
  }
  return j;
}

void print_node(const Node& n, const std::string& indent) {
  for (const auto& a : n.attachments.tagged) {
    say(indent + "└── " + std::string(trust::sig::to_string(a.kind)) + ": " + a.tag + " (" +
        a.manifest.digest.str() + ")");
  }
  for (const auto& r : n.attachments.referrers) {
    std::string line =
        indent + "└── referrer " + r.digest.str() + " " + r.artifact_type.value_or(r.media_type);
    auto pt = r.annotations.find("dev.sigstore.bundle.predicateType");
    if (pt != r.annotations.end()) line += " (" + pt->second + ")";
    say(line);
  }
  for (const auto& a : n.attestations) {
    std::string line =
        indent + "    attestation " + a.origin + ": type " +
        (a.predicate_type.empty() ? std::string("(none claimed)") : a.predicate_type);
    if (a.problem) {
      line += ", unreadable: " + *a.problem;
    } else {
      std::string ids;
      for (const auto& k : a.signer) ids += (ids.empty() ? "" : ", ") + k;
      line += ", signer key id " + (ids.empty() ? std::string("(none named)") : ids);
    }
    say(line + " (unverified)");
  }
  if (n.attachments.empty()) say(indent + "└── (nothing attached)");
  for (const auto& p : n.platforms) {
    say(indent + "platform " +
        (p.descriptor.platform ? p.descriptor.platform->str() : std::string("?")) + " " +
        p.descriptor.digest.str());
    print_node(p, indent + "    ");
  }
}

int run_tree(const TreeArgs& a) {
  auto ref = parse_image_reference(a.image);
  auto source = trust::registry::open_source(ref, transport_options(a.registry));
  auto image = source->resolve(ref);
  auto root = collect(*source, image, true);
  if (a.output == OutputFormat::kJson) {
    ordered_json j{{"reference", ref.str()}};
    const auto body = node_json(root);  // (items() of a temporary would dangle)
    for (const auto& [k, v] : body.items()) j[k] = v;
    print_json(j);
  } else {
    say(ref.str() + " (" + image.digest.str() + ")");
    print_node(root, "");
  }
  return kExitOk;
}

}  // namespace

void register_tree_commands(Program& prog) {
  auto args = std::make_shared<TreeArgs>();
  auto* cmd = add_command(prog, prog.app, "tree",
                          "List what is attached to an image: signatures, attestations, SBOMs, "
                          "referrers (nothing is verified)",
                          [args] { return run_tree(*args); });
  add_output_option(*cmd, args->output, "the listing on stderr");
  add_registry_options(*cmd, args->registry);
  cmd->add_option("IMAGE", args->image, kImageHelp)->required()->type_name("");
}

}  // namespace sigil::cli
