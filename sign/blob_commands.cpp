// sigil sign-blob, sigil attest-blob: release files signed with a key, as cosign does it (a
// detached base64 signature or a sigstore bundle; a DSSE in-toto attestation about the file).
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/sig/blob.h"
#include "libtrust/sig/predicate_type.h"
#include "libtrust/sig/predicates.h"
#include "signing.h"

namespace sigil::cli {
namespace {

// A file named by an option, or null in JSON when the option was not given.
nlohmann::ordered_json file_or_null(const std::string& path) {
  return path.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(path);
}

// Signature and bundle files are public: written 0644, atomically, replacing an existing file as
// cosign does (os.WriteFile).
constexpr unsigned kOutputMode = 0644;

struct BlobKeyArgs {
  std::string key;
  std::string password_file;
  std::string output_signature;
  std::string bundle;
  std::string file;
  OutputFormat output = OutputFormat::kText;
};

struct AttestBlobArgs : BlobKeyArgs {
  std::string predicate;
  std::string type = "custom";
  std::string subject_name;
};

void write_output(const std::string& path, std::string_view text, const std::string& what) {
  trust::write_file_atomic(path, trust::as_bytes(text), kOutputMode, trust::Overwrite::kYes);
  say(what + " written to " + path);
}

int run_sign_blob(const BlobKeyArgs& a) {
  // The key first: a wrong password costs no read of a large file.
  auto key = load_signing_key(a.key, a.password_file);
  const auto pub = key.public_key();
  const auto blob = trust::sig::read_blob(a.file, trust::sig::needs_whole_blob(key.type())
                                                      ? trust::sig::BlobRead::kWhole
                                                      : trust::sig::BlobRead::kDigestOnly);
  const auto signature = trust::sig::sign_blob(blob, key);
  const auto b64 = trust::base64_encode(signature);
  say("Signed " + blob.name + " (" + blob.sha256.str() + ", " + std::to_string(blob.size) +
      " bytes) with key " + pub.key_id().str());
  if (!a.output_signature.empty()) write_output(a.output_signature, b64, "Signature");
  if (!a.bundle.empty()) {
    auto bundle = trust::sig::Bundle::for_message_signature(blob.sha256, signature, pub);
    write_output(a.bundle, bundle.to_json(), "Bundle");
  }
  if (a.output == OutputFormat::kJson) {
    nlohmann::ordered_json j{{"file", blob.name},
                             {"digest", blob.sha256.str()},
                             {"size", blob.size},
                             {"keyId", pub.key_id().str()},
                             {"signature", b64}};
    j["signatureFile"] = file_or_null(a.output_signature);
    j["bundleFile"] = file_or_null(a.bundle);
    print_json(j);
  } else if (a.output_signature.empty() && a.bundle.empty()) {
    result(b64);  // as cosign: the signature on stdout when no file is named
  }
  return kExitOk;
}

int run_attest_blob(const AttestBlobArgs& a) {
  const auto predicate_type = trust::sig::predicate_type_uri(a.type);  // usage errors first
  if (a.file == "-" && a.subject_name.empty()) {
    throw trust::UsageError(
        "standard input has no file name to put in the statement's subject: give "
        "--subject-name NAME");
  }
  const auto subject =
      a.subject_name.empty() ? std::filesystem::path(a.file).filename().string() : a.subject_name;
  auto predicate =
      trust::read_operator_input(a.predicate, trust::limits::kMaxPredicateBytes, "the predicate");
  auto key = load_signing_key(a.key, a.password_file);
  const auto pub = key.public_key();
  const auto predicate_name = a.predicate == "-" ? std::string("standard input") : a.predicate;
  // Checked against its type (a Trivy report becomes cosign's vuln predicate) before anything is
  // signed: the one mechanism of both attest commands.
  const auto checked =
      trust::sig::prepare_predicate(predicate_type, predicate.view(), predicate_name, /*now=*/"");
  const auto blob = trust::sig::read_blob(a.file, trust::sig::BlobRead::kDigestOnly);
  const auto statement = trust::sig::blob_statement(blob, subject, predicate_type,
                                                    trust::as_bytes(checked), predicate_name);
  const auto payload = statement.serialize();
  auto envelope = trust::sig::DsseEnvelope::sign(trust::media_type::kInTotoPayload,
                                                 trust::as_bytes(payload), key);
  const auto envelope_json = envelope.to_json();
  say("Attested " + blob.name + " (" + blob.sha256.str() + ") as " + predicate_type + " with key " +
      pub.key_id().str());
  if (!a.output_signature.empty()) write_output(a.output_signature, envelope_json, "Envelope");
  if (!a.bundle.empty()) {
    auto bundle = trust::sig::Bundle::for_dsse(std::move(envelope), pub);
    write_output(a.bundle, bundle.to_json(), "Bundle");
  }
  if (a.output == OutputFormat::kJson) {
    nlohmann::ordered_json j{
        {"file", blob.name},           {"digest", blob.sha256.str()},
        {"subjectName", subject},      {"predicateType", predicate_type},
        {"keyId", pub.key_id().str()}, {"envelope", nlohmann::ordered_json::parse(envelope_json)}};
    j["envelopeFile"] = file_or_null(a.output_signature);
    j["bundleFile"] = file_or_null(a.bundle);
    print_json(j);
  } else if (a.output_signature.empty() && a.bundle.empty()) {
    result(envelope_json);  // as cosign: the envelope on stdout when no file is named
  }
  return kExitOk;
}

void add_key_options(CLI::App& cmd, BlobKeyArgs& a) {
  cmd.add_option("--key", a.key, kPrivateKeyHelp)->required()->type_name("KEY");
  cmd.add_option("--password-file", a.password_file,
                 "Read the key password from this file (first line)")
      ->type_name("FILE");
}

}  // namespace

void register_blob_sign_commands(Program& prog) {
  auto s = std::make_shared<BlobKeyArgs>();
  auto* sign = add_command(prog, prog.app, "sign-blob",
                           "Sign a file with a key: a detached base64 signature (on stdout, or "
                           "--output-signature) or a sigstore bundle (--bundle), as cosign does",
                           [s] { return run_sign_blob(*s); });
  add_key_options(*sign, *s);
  sign->add_option("--output-signature", s->output_signature,
                   "Write the base64 signature to FILE (replaced atomically if it exists)")
      ->type_name("FILE");
  sign->add_option("--bundle", s->bundle,
                   "Write a sigstore bundle v0.3 (messageSignature) to FILE (replaced atomically "
                   "if it exists)")
      ->type_name("FILE");
  add_output_option(*sign, s->output, "what was signed, on stderr; the signature on stdout", false,
                    "--output-signature FILE writes the signature to a file");
  sign->add_option("FILE", s->file, "The file to sign, or - for standard input")
      ->required()
      ->type_name("");

  auto t = std::make_shared<AttestBlobArgs>();
  auto* attest = add_command(prog, prog.app, "attest-blob",
                             "Attest a file with a key: a DSSE envelope over an in-toto statement "
                             "about it (on stdout, or --output-signature) or a sigstore bundle "
                             "(--bundle)",
                             [t] { return run_attest_blob(*t); });
  add_key_options(*attest, *t);
  attest
      ->add_option("--predicate", t->predicate,
                   "The predicate: a JSON object file of the type's shape (for vuln also a "
                   "Trivy JSON report), or -")
      ->required()
      ->type_name("FILE");
  std::string names;
  for (const auto& n : trust::sig::predicate_type_names()) names += (names.empty() ? "" : "|") + n;
  attest
      ->add_option("--type", t->type,
                   "Predicate type: " + names + " or an absolute URI (default custom)")
      ->type_name("TYPE");
  attest
      ->add_option("--subject-name", t->subject_name,
                   "The subject's name in the statement (default: the file's base name; "
                   "required for -)")
      ->type_name("NAME");
  attest
      ->add_option("--output-signature", t->output_signature,
                   "Write the DSSE envelope JSON to FILE (replaced atomically if it exists)")
      ->type_name("FILE");
  attest
      ->add_option("--bundle", t->bundle,
                   "Write a sigstore bundle v0.3 (dsseEnvelope) to FILE (replaced atomically "
                   "if it exists)")
      ->type_name("FILE");
  add_output_option(*attest, t->output, "what was attested, on stderr; the envelope on stdout",
                    false, "--output-signature FILE writes the envelope to a file");
  attest->add_option("FILE", t->file, "The file to attest, or - for standard input")
      ->required()
      ->type_name("");
}

}  // namespace sigil::cli
