// sigil verify: check an image's signatures (cosign .sig layers, sigstore bundle referrers)
// against trusted keys.
#include <memory>

#include "commands.h"
#include "libtrust/check/verify_image.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/registry/registry_store.h"
#include "verdict.h"

namespace sigil::cli {
namespace {

struct VerifyArgs {
  std::vector<std::string> keys;
  std::vector<std::string> annotations;
  std::string image;
  OutputFormat output = OutputFormat::kText;
  RegistryFlags registry;
  bool check_blobs = false;
  bool all = false;
  std::size_t threshold = 1;
};

int run_verify(const VerifyArgs& a) {
  auto ref = parse_image_reference(a.image);
  auto keys = std::make_shared<trust::verify::FixedKeys>();
  for (const auto& k : a.keys) keys->add(k, trust::load_public_key(k));
  trust::verify::Verifier verifier(std::move(keys));
  trust::verify::Policy policy{.required_annotations = parse_annotations(a.annotations)};
  policy.validate();

  auto source = trust::registry::open_source(ref, transport_options(a.registry));
  // Local images are hashed in full (cheap, and a layout on disk may have been tampered with);
  // for a registry image the signed manifest digest is what binds the content, and every blob
  // is verified against it when it is pulled: downloading the image here only on request.
  trust::check::ImageVerifyOptions options{
      .check_blobs = a.check_blobs || ref.kind() != trust::ReferenceKind::kRegistry,
      .examine_all = a.all,
      .requirement = {.threshold = a.threshold}};
  auto v = trust::check::verify_image(*source, ref, verifier, policy, options);
  print_verification(ref, source->describe(), v, a.output);
  return v.verified() ? kExitOk : kExitVerifyFailed;
}

}  // namespace

void register_verify_commands(Program& prog) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = add_command(prog, prog.app, "verify",
                          "Verify an image's signatures (cosign and sigstore bundle) with trusted "
                          "keys: exit 0 verified, 1 not",
                          [args] { return run_verify(*args); });
  add_repeatable(*cmd, "--key", args->keys, "KEY",
                 std::string(kPublicKeyHelp) +
                     "; repeatable: any one of them may verify (or --threshold N of them)")
      ->required();
  add_repeatable(*cmd, "-a,--annotation", args->annotations, "KEY=VALUE",
                 "Require this annotation in the signed payload (repeatable, or "
                 "comma-separated)");
  add_output_option(*cmd, args->output, "the report on stderr (in every format)",
                    /*with_cosign=*/true);
  add_registry_options(*cmd, args->registry);
  cmd->add_flag("--check-blobs", args->check_blobs,
                "For a registry image, also download and hash the config and every layer");
  cmd->add_flag("--all", args->all,
                "Judge every attached signature, also the bundle referrers after a .sig "
                "signature verified");
  cmd->add_option("--threshold", args->threshold,
                  "Require signatures by this many distinct trusted keys (each --key counted once "
                  "however many signatures it verified)")
      ->check(CLI::PositiveNumber.description(""))
      ->type_name("N")
      ->default_str("1");
  cmd->add_option("IMAGE", args->image, kImageHelp)->required()->type_name("");
}

}  // namespace sigil::cli
