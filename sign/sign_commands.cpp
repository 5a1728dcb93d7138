// sigil sign: cosign-style signatures (or sigstore bundles) attached to an image where it lives.
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "libtrust/core/reference.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/referrers.h"
#include "libtrust/sig/signer.h"
#include "signing.h"

namespace sigil::cli {
namespace {

struct SignArgs {
  std::string key;
  std::vector<std::string> annotations;
  bool recursive = false;
  std::string identity;
  std::string password_file;
  std::string image;
  std::string format = "cosign";  // cosign | bundle
  OutputFormat output = OutputFormat::kText;
  RegistryFlags registry;
};

// The docker-reference written into the payload: cosign writes the bare repository. A layout has
// no repository, so it is named by its absolute path unless --identity says otherwise.
std::string default_identity(const trust::Reference& ref) {
  if (ref.kind() == trust::ReferenceKind::kRegistry) return ref.repository_name();
  return "oci:" + std::filesystem::absolute(ref.path()).lexically_normal().string();
}

int run_sign(const SignArgs& a) {
  auto ref = parse_image_reference(a.image);
  trust::sig::SignOptions options{
      .docker_reference = a.identity.empty() ? default_identity(ref) : a.identity,
      .annotations = parse_annotations(a.annotations),
      .recursive = a.recursive};
  options.validate();
  // The key first: a wrong password or key costs no registry request.
  auto key = load_signing_key(a.key, a.password_file);
  const auto key_id = key.public_key().key_id().str();

  auto store = trust::registry::open_store(ref, transport_options(a.registry));
  const auto image = resolve_to_sign(*store, ref, "signing", "sign");

  nlohmann::ordered_json signatures = nlohmann::ordered_json::array();
  if (a.format == "bundle") {
    for (const auto& s : trust::sig::sign_image_bundle(*store, image, key, options)) {
      signatures.push_back({{"digest", s.image.str()},
                            {"appended", s.appended},
                            {"referrer", s.referrer.digest.str()},
                            {"bundle", s.bundle.str()}});
      say(std::string(s.appended ? "Signed " : "Already signed ") + s.image.str() + " -> " +
          store->describe() + ": referrer " + s.referrer.digest.str());
    }
  } else {
    for (const auto& s : trust::sig::sign_image(*store, image, key, options)) {
      signatures.push_back({{"digest", s.digest.str()},
                            {"appended", s.appended},
                            {"signatureTag", s.signature_tag}});
      if (s.appended) {
        say("Signed " + s.digest.str() + " -> " + store->describe() + ":" + s.signature_tag);
      } else {
        say("Already signed " + s.digest.str() + " with this key and payload (" + s.signature_tag +
            " unchanged)");
      }
    }
  }
  if (a.output == OutputFormat::kJson) {
    print_json({{"reference", ref.str()},
                {"digest", image.digest.str()},
                {"format", a.format},
                {"keyId", key_id},
                {"signatures", signatures}});
  }
  return kExitOk;
}

}  // namespace

void register_sign_commands(Program& prog) {
  auto args = std::make_shared<SignArgs>();
  auto* cmd = add_command(prog, prog.app, "sign",
                          "Sign an image where it lives (cosign .sig layout, or a sigstore bundle "
                          "referrer with --format bundle)",
                          [args] { return run_sign(*args); });
  cmd->add_option("--key", args->key, kPrivateKeyHelp)->required()->type_name("KEY");
  add_repeatable(*cmd, "-a,--annotation", args->annotations, "KEY=VALUE",
                 "Put this annotation into the signed payload (repeatable, or comma-separated)");
  cmd->add_flag("--recursive", args->recursive, "For an index, also sign every platform manifest");
  cmd->add_option("--identity", args->identity,
                  "docker-reference to write into the payload (default: the image's repository; "
                  "oci:<absolute dir> for a layout)")
      ->type_name("REF");
  cmd->add_option("--password-file", args->password_file,
                  "Read the key password from this file (first line)")
      ->type_name("FILE");
  add_choice(*cmd, "--format", args->format, {"cosign", "bundle"},
             "Signature layout: cosign (the sha256-<hex>.sig tag) or bundle (a sigstore bundle "
             "as an OCI 1.1 referrer, as cosign 3 writes)")
      ->default_str("cosign");
  add_output_option(*cmd, args->output, "what was signed, on stderr");
  add_registry_options(*cmd, args->registry);
  cmd->add_option("IMAGE", args->image, kImageHelp)->required()->type_name("");
}

}  // namespace sigil::cli
