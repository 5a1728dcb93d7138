// sigil verify: check an image's cosign-style signatures against trusted keys.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "libtrust/core/error.h"
#include "libtrust/core/reference.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/verify/verify_image.h"

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
};

nlohmann::json verdict_json(const trust::verify::SignatureVerdict& v) {
  nlohmann::json j{{"index", v.index},
                   {"format", std::string(trust::verify::to_string(v.format))},
                   {"origin", v.origin},
                   {"verified", v.verified},
                   {"reason", v.reason},
                   {"keyId", v.key_id ? nlohmann::json(*v.key_id) : nlohmann::json(nullptr)}};
  if (v.layer_digest) j["layerDigest"] = v.layer_digest->str();
  if (v.referrer_digest) j["referrerDigest"] = v.referrer_digest->str();
  if (v.statement) j["predicateType"] = v.statement->predicate_type;
  if (v.subject) {
    nlohmann::json ann = nlohmann::json::object();
    for (const auto& [k, val] : v.subject->annotations) {
      ann[k] = v.subject->non_string_annotations.count(k) ? nlohmann::json::parse(val)
                                                          : nlohmann::json(val);
    }
    j["annotations"] = ann;
  }
  if (v.payload) {
    j["dockerReference"] = v.payload->docker_reference;
    j["signedDigest"] = v.payload->manifest_digest.str();
    nlohmann::json opt = nlohmann::json::object();
    for (const auto& [k, val] : v.payload->optional) {
      opt[k] =
          v.payload->non_string_keys.count(k) ? nlohmann::json::parse(val) : nlohmann::json(val);
    }
    j["annotations"] = opt;
  }
  return j;
}

int run_verify(const VerifyArgs& a) {
  auto ref = trust::Reference::parse(a.image);
  trust::verify::TrustedKeys keys;
  for (const auto& k : a.keys) keys.add(trust::load_public_key(k));
  trust::verify::Verifier verifier(std::move(keys));
  trust::verify::Policy policy{.required_annotations = parse_annotations(a.annotations)};
  policy.validate();

  auto source = trust::registry::open_source(ref, transport_options(a.registry));
  // Local images are hashed in full (cheap, and a layout on disk may have been tampered with);
  // for a registry image the signed manifest digest is what binds the content, and every blob
  // is verified against it when it is pulled: downloading the image here only on request.
  trust::verify::ImageVerifyOptions options{
      .check_blobs = a.check_blobs || ref.kind() != trust::ReferenceKind::kRegistry,
      .examine_all = a.all};
  auto v = trust::verify::verify_image(*source, ref, verifier, policy, options);
  const auto& r = v.result;
  const bool ok = r.verified();

  if (a.output == OutputFormat::kJson) {
    nlohmann::json j{{"reference", ref.str()},
                     {"digest", v.image.digest.str()},
                     {"mediaType", v.image.media_type},
                     {"verified", ok},
                     {"signatureTag", trust::sig::signature_tag(v.image.digest)},
                     {"signaturesFound", v.signatures_found},
                     {"referrersChecked", v.referrers_checked},
                     {"bundleReferrers", v.referrers_checked ? nlohmann::json(v.bundle_referrers)
                                                             : nlohmann::json(nullptr)},
                     {"summary", r.summary()},
                     {"signatures", nlohmann::json::array()}};
    for (const auto& s : r.signatures) j["signatures"].push_back(verdict_json(s));
    std::cout << j.dump(2) << "\n";
  }
  std::cerr << "Verifying " << ref.str() << " (" << v.image.digest.str() << ")\n";
  if (!v.signatures_found && v.bundle_referrers == 0) {
    std::cerr << "  no signatures: " << source->describe() << " has no tag "
              << trust::sig::signature_tag(v.image.digest) << " and no bundle referrers\n";
  }
  for (const auto& s : r.signatures) {
    std::cerr << "  " << s.origin << ": " << (s.verified ? "OK" : "FAILED") << ": " << s.reason
              << "\n";
    if (s.verified && s.subject) {
      for (const auto& [k, val] : s.subject->annotations) {
        std::cerr << "    " << k << "=" << val << "\n";
      }
    }
    if (s.verified && s.payload) {
      std::cerr << "    identity: " << s.payload->docker_reference << "\n";
      for (const auto& [k, val] : s.payload->optional) {
        std::cerr << "    " << k << "=" << val << "\n";
      }
    }
  }
  if (!v.referrers_checked) {
    std::cerr << "  bundle referrers: not looked up (a .sig signature verified; --all judges "
                 "every signature)\n";
  }
  std::cerr << (ok ? "VERIFIED: " : "NOT VERIFIED: ") << r.summary() << "\n";
  return ok ? kExitOk : kExitVerifyFailed;
}

}  // namespace

void register_verify_commands(Program& prog) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = prog.app.add_subcommand("verify", "Verify an image's signatures with trusted keys");
  cmd->add_option("--key", args->keys, "Trusted public key file (PEM); repeatable")->required();
  cmd->add_option("-a,--annotation", args->annotations,
                  "Require annotation key=value in the signed payload (repeatable)");
  add_output_option(*cmd, args->output);
  add_registry_options(*cmd, args->registry);
  cmd->add_flag("--check-blobs", args->check_blobs,
                "For a registry image, also download and hash the config and every layer");
  cmd->add_flag("--all", args->all,
                "Judge every attached signature, also the bundle referrers after a .sig "
                "signature verified");
  cmd->add_option("IMAGE", args->image, "Image reference (oci:DIR[:TAG|@DIGEST])")->required();
  cmd->callback([&prog, args] { prog.action = [args] { return run_verify(*args); }; });
}

}  // namespace sigil::cli
