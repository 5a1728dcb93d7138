// sigil tree: what is attached to an image (signatures, attestations, SBOMs, referrers).
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/attachments.h"

namespace sigil::cli {
namespace {

using ordered_json = nlohmann::ordered_json;

struct TreeArgs {
  std::string image;
  RegistryFlags registry;
  OutputFormat output = OutputFormat::kText;
};

struct Node {
  trust::oci::Descriptor descriptor;
  trust::sig::Attachments attachments;
  std::vector<Node> platforms;
};

Node collect(trust::oci::ImageSource& source, const trust::oci::Descriptor& desc, bool recurse) {
  Node n{.descriptor = desc,
         .attachments = trust::sig::find_attachments(source, desc.digest),
         .platforms = {}};
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
