// sigil sign: cosign-style signatures attached to an image where it lives.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "libtrust/core/error.h"
#include "libtrust/core/reference.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/crypto/password.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/referrers.h"
#include "libtrust/sig/signer.h"

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
  auto ref = trust::Reference::parse(a.image);
  trust::sig::SignOptions options{
      .docker_reference = a.identity.empty() ? default_identity(ref) : a.identity,
      .annotations = parse_annotations(a.annotations),
      .recursive = a.recursive};
  options.validate();
  auto store = trust::registry::open_store(ref, transport_options(a.registry));
  auto image = store->resolve(ref);

  auto key = trust::load_private_key(a.key, [&a] {
    trust::PasswordOptions pw;
    if (!a.password_file.empty()) pw.password_file = a.password_file;
    return trust::read_password(pw);
  });

  if (a.format == "bundle") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : trust::sig::sign_image_bundle(*store, image, key, options)) {
      if (a.output == OutputFormat::kJson) {
        out.push_back({{"digest", s.image.str()},
                       {"format", "bundle"},
                       {"referrer", s.referrer.digest.str()},
                       {"bundle", s.bundle.str()},
                       {"appended", s.appended},
                       {"keyId", key.public_key().key_id().str()}});
      } else {
        std::cerr << (s.appended ? "Signed " : "Already signed ") << s.image.str() << " -> "
                  << store->describe() << ": referrer " << s.referrer.digest.str() << "\n";
      }
    }
    if (a.output == OutputFormat::kJson) std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  auto signed_manifests = trust::sig::sign_image(*store, image, key, options);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : signed_manifests) {
    if (a.output == OutputFormat::kJson) {
      out.push_back({{"digest", s.digest.str()},
                     {"signatureTag", s.signature_tag},
                     {"appended", s.appended},
                     {"keyId", key.public_key().key_id().str()}});
    } else if (s.appended) {
      std::cerr << "Signed " << s.digest.str() << " -> " << store->describe() << ":"
                << s.signature_tag << "\n";
    } else {
      std::cerr << "Already signed " << s.digest.str() << " with this key and payload ("
                << s.signature_tag << " unchanged)\n";
    }
  }
  if (a.output == OutputFormat::kJson) std::cout << out.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

void register_sign_commands(Program& prog) {
  auto args = std::make_shared<SignArgs>();
  auto* cmd = prog.app.add_subcommand("sign", "Sign an image (cosign signature layout)");
  cmd->add_option("--key", args->key, "Private key file (cosign format)")->required();
  cmd->add_option("-a,--annotation", args->annotations,
                  "Annotation key=value to put in the signed payload (repeatable)");
  cmd->add_flag("--recursive", args->recursive, "For an index, also sign every platform manifest");
  cmd->add_option("--identity", args->identity,
                  "docker-reference to write into the payload (default: the image's repository)");
  cmd->add_option("--password-file", args->password_file,
                  "Read the key password from this file (first line)");
  cmd->add_option("--format", args->format,
                  "Signature layout: cosign (sha256-<hex>.sig tag) or bundle (sigstore bundle as "
                  "an OCI 1.1 referrer, as cosign 3 writes)")
      ->check(CLI::IsMember({"cosign", "bundle"}));
  add_output_option(*cmd, args->output);
  add_registry_options(*cmd, args->registry);
  cmd->add_option("IMAGE", args->image, "Image reference (oci:DIR[:TAG|@DIGEST])")->required();
  cmd->callback([&prog, args] { prog.action = [args] { return run_sign(*args); }; });
}

}  // namespace sigil::cli
