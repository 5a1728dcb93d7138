// sigil download attestation|sbom: print what is stored with an image, NOT verified (as cosign's
// download does). A warning on stderr says so every time.
#include <memory>

#include "commands.h"
#include "libtrust/check/download.h"
#include "libtrust/registry/registry_store.h"

namespace sigil::cli {
namespace {

struct DownloadArgs {
  std::string image;
  std::string predicate_type;
  RegistryFlags registry;
};

int run_download(const DownloadArgs& a, bool sbom) {
  auto ref = parse_image_reference(a.image);
  auto source = trust::registry::open_source(ref, transport_options(a.registry));
  auto image = source->resolve(ref);
  std::optional<std::string> type;
  if (!a.predicate_type.empty()) type = a.predicate_type;
  auto documents = sbom ? trust::check::stored_sboms(*source, image.digest)
                        : trust::check::stored_attestations(*source, image.digest, type);
  warn(std::string("not verified: ") + (sbom ? "these SBOMs are" : "these attestations are") +
       " printed as stored with " + ref.str() + " (" + image.digest.str() +
       "); use verify-attestation to check them");
  // Each document is ASCII JSON (check/download.h): printed as it is, one per line.
  for (const auto& d : documents) result(d.json);
  if (documents.empty()) {
    say(std::string("no ") + (sbom ? "SBOMs" : "attestations") + " stored with " +
        image.digest.str());
  }
  return kExitOk;
}

}  // namespace

void register_download_commands(Program& prog) {
  auto* group = prog.app.add_subcommand(
      "download", "Print the attestations or SBOMs stored with an image (NOT verified)");
  group->group(kCommandsGroup);
  group->require_subcommand(1);
  auto att = std::make_shared<DownloadArgs>();
  auto* cmd = add_command(prog, *group, "attestation",
                          "Print each stored attestation envelope as JSON, one per line (NOT "
                          "verified)",
                          [att] { return run_download(*att, false); });
  cmd->add_option("--predicate-type", att->predicate_type,
                  "Only envelopes whose (unverified) statement has this predicate type: a short "
                  "name or URI, as verify-attestation's --type")
      ->type_name("TYPE");
  add_registry_options(*cmd, att->registry);
  cmd->add_option("IMAGE", att->image, kImageHelp)->required()->type_name("");
  auto sb = std::make_shared<DownloadArgs>();
  auto* scmd = add_command(prog, *group, "sbom",
                           "Print each stored SBOM (SPDX or CycloneDX attestation predicates, a "
                           "legacy .sbom tag's layers) as JSON, one per line (NOT verified)",
                           [sb] { return run_download(*sb, true); });
  add_registry_options(*scmd, sb->registry);
  scmd->add_option("IMAGE", sb->image, kImageHelp)->required()->type_name("");
}

}  // namespace sigil::cli
