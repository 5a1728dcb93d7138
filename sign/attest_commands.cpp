// sigil attest: an in-toto attestation about an image, signed with a key and stored where the
// image lives (cosign's sha256-<hex>.att layout, or a sigstore bundle referrer).
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/attest.h"
#include "libtrust/sig/intoto.h"
#include "libtrust/sig/predicate_type.h"
#include "libtrust/sig/predicates.h"
#include "libtrust/sig/provenance.h"
#include "signing.h"

namespace sigil::cli {
namespace {

constexpr std::string_view kAutoPredicate = "auto";

struct AttestArgs {
  std::string key;
  std::string password_file;
  std::string type;  // empty: custom, as cosign
  std::string predicate;
  std::string statement;
  std::string format = "cosign";  // cosign | bundle
  bool replace = false;
  std::vector<std::string> materials;
  OutputFormat output = OutputFormat::kText;
  RegistryFlags registry;
  std::string image;
};

// What is to be signed, read and checked before any registry is asked anything: a statement
// file as it is, or a predicate (file, stdin, or built from the CI environment) to wrap.
struct Input {
  std::optional<trust::sig::Statement> statement;  // --statement
  std::string predicate_type;                      // --predicate: the URI
  std::string predicate_json;                      // --predicate: checked, compact
  std::string what;                                // names the input in messages
};

// Flag combinations, all refused before anything is read.
void check_flags(const AttestArgs& a) {
  if (a.predicate.empty() == a.statement.empty()) {
    throw trust::UsageError(
        "attest needs exactly one of --predicate FILE|-|auto and --statement FILE");
  }
  if (!a.statement.empty() && !a.type.empty()) {
    throw trust::UsageError(
        "--type goes with --predicate: a --statement names its own predicateType");
  }
  if (!a.materials.empty() && a.predicate != kAutoPredicate) {
    throw trust::UsageError("--material goes with --predicate auto only");
  }
}

Input read_input(const AttestArgs& a, const std::string& now) {
  Input in;
  if (!a.statement.empty()) {
    in.what = a.statement == "-" ? std::string("standard input") : a.statement;
    auto bytes =
        trust::read_operator_input(a.statement, trust::sig::kMaxStatementBytes, "the statement");
    in.statement = trust::sig::Statement::parse(bytes.view(), in.what);
    return in;
  }
  in.predicate_type = trust::sig::predicate_type_uri(a.type.empty() ? "custom" : a.type);
  if (a.predicate == kAutoPredicate) {
    if (in.predicate_type != trust::sig::predicate_type_uri("slsaprovenance")) {
      throw trust::UsageError(
          "--predicate auto builds SLSA provenance: it needs --type "
          "slsaprovenance, not " +
          in.predicate_type);
    }
    in.what = "--predicate auto";
    in.predicate_json =
        trust::sig::provenance_from_ci(trust::sig::ci_environment(), a.materials, now);
    return in;
  }
  in.what = a.predicate == "-" ? std::string("standard input") : a.predicate;
  auto bytes =
      trust::read_operator_input(a.predicate, trust::limits::kMaxPredicateBytes, "the predicate");
  in.predicate_json = trust::sig::prepare_predicate(in.predicate_type, bytes.view(), in.what, now);
  return in;
}

int run_attest(const AttestArgs& a) {
  check_flags(a);
  auto ref = parse_image_reference(a.image);
  const trust::sig::AttestOptions base{.format = a.format == "bundle"
                                                     ? trust::sig::AttestFormat::kBundle
                                                     : trust::sig::AttestFormat::kCosign,
                                       .replace = a.replace,
                                       .what = "statement",
                                       .created = {}};
  base.validate();  // --replace with --format bundle
  const auto now = trust::sig::rfc3339_now();
  auto input = read_input(a, now);
  // The key next: a wrong password or key costs no registry request.
  auto key = load_signing_key(a.key, a.password_file);
  const auto key_id = key.public_key().key_id().str();

  auto store = trust::registry::open_store(ref, transport_options(a.registry));
  const auto image = resolve_to_sign(*store, ref, "attesting", "attest");
  auto statement = input.statement ? std::move(*input.statement)
                                   : trust::sig::image_statement(
                                         trust::sig::attestation_subject_name(ref), image.digest,
                                         input.predicate_type, std::move(input.predicate_json));
  auto options = base;
  options.what = input.what;
  options.created = now;
  const auto done = trust::sig::attest_image(*store, image, key, statement, options);

  std::string where = done.referrer ? "referrer " + done.referrer->digest.str() : done.tag;
  if (done.appended) {
    say("Attested " + done.image.str() + " as " + done.predicate_type + " -> " + store->describe() +
        ": " + where +
        (done.replaced ? " (replaced " + std::to_string(done.replaced) + ")" : std::string()));
  } else {
    say("Already attested " + done.image.str() + " with this envelope (" + where + " unchanged)");
  }
  if (a.output == OutputFormat::kJson) {
    nlohmann::ordered_json j{{"reference", ref.str()},
                             {"digest", done.image.str()},
                             {"format", std::string(trust::sig::to_string(done.format))},
                             {"predicateType", done.predicate_type},
                             {"keyId", key_id}};
    if (done.referrer) {
      j["referrer"] = done.referrer->digest.str();
      j["bundle"] = done.blob.str();
    } else {
      j["attestationTag"] = done.tag;
      j["layer"] = done.blob.str();
    }
    j["appended"] = done.appended;
    j["replaced"] = done.replaced;
    print_json(j);
  }
  return kExitOk;
}

}  // namespace

void register_attest_commands(Program& prog) {
  auto args = std::make_shared<AttestArgs>();
  auto* cmd = add_command(prog, prog.app, "attest",
                          "Attest an image: an in-toto statement about it, signed (DSSE) and "
                          "stored where it lives (cosign .att layout, or a sigstore bundle "
                          "referrer with --format bundle)",
                          [args] { return run_attest(*args); });
  cmd->add_option("--key", args->key, kPrivateKeyHelp)->required()->type_name("KEY");
  cmd->add_option("--password-file", args->password_file,
                  "Read the key password from this file (first line)")
      ->type_name("FILE");
  std::string names;
  for (const auto& n : trust::sig::predicate_type_names()) names += (names.empty() ? "" : "|") + n;
  cmd->add_option("--type", args->type,
                  "Predicate type: " + names + " or an absolute URI (default custom)")
      ->type_name("TYPE");
  cmd->add_option("--predicate", args->predicate,
                  "The predicate: a JSON file, - for standard input, or auto (SLSA provenance "
                  "from the CI environment, with --type slsaprovenance)")
      ->type_name("FILE");
  cmd->add_option("--statement", args->statement,
                  "A whole in-toto statement to sign (its subjects must name the image)")
      ->type_name("FILE");
  add_choice(*cmd, "--format", args->format, {"cosign", "bundle"},
             "Attestation layout: cosign (a layer of the sha256-<hex>.att tag) or bundle (a "
             "sigstore bundle as an OCI 1.1 referrer, as cosign 3 writes)")
      ->default_str("cosign");
  cmd->add_flag("--replace", args->replace,
                "Drop the image's earlier attestations of the same predicate type (cosign format "
                "only)");
  add_repeatable(*cmd, "--material", args->materials, "URI@ALG:HEX",
                 "A resolved dependency for --predicate auto (repeatable)");
  add_output_option(*cmd, args->output, "what was attested, on stderr");
  add_registry_options(*cmd, args->registry);
  cmd->add_option("IMAGE", args->image, kImageHelp)->required()->type_name("");
}

}  // namespace sigil::cli
