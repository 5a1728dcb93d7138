// sigil key generate|public|import|fingerprint: parse options, call libtrust, print.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "commands.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/crypto/keys.h"
#include "libtrust/crypto/password.h"

namespace sigil::cli {
namespace {

constexpr const char* kDefaultGeneratePrefix = "cosign";       // as cosign generate-key-pair
constexpr const char* kDefaultImportPrefix = "import-cosign";  // as cosign import-key-pair

std::function<trust::SecretBytes()> password_source(const std::string& password_file,
                                                    bool confirm) {
  return [password_file, confirm] {
    trust::PasswordOptions opts;
    if (!password_file.empty()) opts.password_file = password_file;
    opts.confirm = confirm;
    return trust::read_password(opts);
  };
}

trust::Overwrite overwrite_for(bool force) {
  return force ? trust::Overwrite::kYes : trust::Overwrite::kNo;
}

// The names --type and --kdf accept, spelled by the library (to_string).
std::vector<std::string> signing_key_type_names() {
  std::vector<std::string> names;
  for (auto t : {trust::KeyType::kEcdsaP256, trust::KeyType::kEcdsaP384, trust::KeyType::kEd25519,
                 trust::KeyType::kRsa3072, trust::KeyType::kRsa4096}) {
    if (trust::is_signing_key_type(t)) names.emplace_back(trust::to_string(t));
  }
  return names;
}
std::vector<std::string> kdf_names() {
  return {std::string(trust::to_string(trust::KdfProfile::kCosign)),
          std::string(trust::to_string(trust::KdfProfile::kStandard))};
}

void report_key_pair(const trust::KeyPairFiles& files, const trust::PrivateKey& key,
                     OutputFormat output) {
  auto id = key.public_key().key_id().str();
  if (output == OutputFormat::kJson) {
    print_json({{"privateKeyFile", files.private_key.string()},
                {"publicKeyFile", files.public_key.string()},
                {"keyId", id},
                {"type", trust::to_string(key.type())}});
    return;
  }
  say("Private key written to " + files.private_key.string());
  say("Public key written to " + files.public_key.string());
  say("Key id: " + id);
}

// Options shared by generate and import.
struct PairOptions {
  std::string prefix;
  std::string kdf = std::string(trust::to_string(trust::KdfProfile::kCosign));
  bool force = false;
  std::string password_file;
  OutputFormat output = OutputFormat::kText;
};

void add_pair_options(CLI::App& cmd, PairOptions& o) {
  cmd.add_option("--output-prefix", o.prefix, "Write PREFIX.key and PREFIX.pub")
      ->type_name("PREFIX")
      ->capture_default_str();
  add_choice(cmd, "--kdf", o.kdf, kdf_names(),
             "Key file form: cosign (N=32768, readable by containers/image 5.23) or standard "
             "(N=65536, cosign 2.x)")
      ->capture_default_str();
  cmd.add_flag("--force", o.force, "Overwrite existing key files");
  cmd.add_option("--password-file", o.password_file, "Read the password from the first line")
      ->type_name("FILE");
  add_output_option(cmd, o.output, "the file names and key id on stderr");
}

int write_pair(const trust::PrivateKey& key, const PairOptions& o) {
  auto profile = trust::parse_kdf_profile(o.kdf);
  auto files = trust::write_key_pair(key, o.prefix, password_source(o.password_file, true), profile,
                                     overwrite_for(o.force));
  report_key_pair(files, key, o.output);
  return kExitOk;
}

void register_generate(Program& prog, CLI::App& group) {
  struct Options : PairOptions {
    std::string type = std::string(trust::to_string(trust::KeyType::kEcdsaP256));
  };
  auto o = std::make_shared<Options>();
  o->prefix = kDefaultGeneratePrefix;
  auto* cmd =
      add_command(prog, group, "generate", "Generate a key pair (PREFIX.key, PREFIX.pub)", [o] {
        auto type = trust::parse_key_type(o->type);
        // Refuse to overwrite before spending time on key generation or
        // asking for a password.
        if (!o->force) {
          auto files = trust::key_pair_files(o->prefix);
          for (const auto& p : {files.private_key, files.public_key}) {
            std::error_code ec;
            if (std::filesystem::exists(std::filesystem::symlink_status(p, ec))) {
              throw trust::ExistsError(p.string() +
                                       ": already exists (refusing to overwrite; pass --force)");
            }
          }
        }
        auto key = trust::PrivateKey::generate(type);
        return write_pair(key, *o);
      });
  add_choice(*cmd, "--type", o->type, signing_key_type_names(), "Key type")->capture_default_str();
  add_pair_options(*cmd, *o);
}

void register_import(Program& prog, CLI::App& group) {
  struct Options : PairOptions {
    std::string input;
  };
  auto o = std::make_shared<Options>();
  o->prefix = kDefaultImportPrefix;
  auto* cmd = add_command(
      prog, group, "import",
      "Import an unencrypted PKCS#8, SEC1 or PKCS#1 PEM private key as a cosign key pair", [o] {
        auto pem = trust::read_key_reference(o->input);  // wiped when it goes
        return write_pair(trust::import_private_key_pem(pem.as_string_view(), o->input), *o);
      });
  cmd->add_option("FILE", o->input, "Unencrypted private key PEM: a file, env://VAR or -")
      ->required()
      ->type_name("");
  add_pair_options(*cmd, *o);
}

void register_public(Program& prog, CLI::App& group) {
  struct Options {
    std::string key;
    std::string output_file;
    std::string password_file;
    bool force = false;
    OutputFormat output = OutputFormat::kText;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = add_command(
      prog, group, "public", "Print the public key (PEM) of a key: private, encrypted or public",
      [o] {
        auto pub = trust::load_public_key_of_any(o->key, password_source(o->password_file, false));
        auto pem = pub.to_pem();
        if (!o->output_file.empty()) {
          trust::write_file_atomic(o->output_file, trust::as_bytes(pem), 0644,
                                   overwrite_for(o->force));
        }
        if (o->output == OutputFormat::kJson) {
          print_json({{"keyId", pub.key_id().str()},
                      {"type", trust::to_string(pub.type())},
                      {"publicKey", pem},
                      {"file", o->output_file.empty() ? nlohmann::ordered_json(nullptr)
                                                      : nlohmann::ordered_json(o->output_file)}});
        } else if (o->output_file.empty()) {
          result_block(pem);
        } else {
          say("Public key written to " + o->output_file);
        }
        return kExitOk;
      });
  cmd->add_option("--key", o->key,
                  "Key: a cosign key file, an unencrypted private key or a public key PEM, "
                  "env://VAR or - (standard input)")
      ->required()
      ->type_name("KEY");
  cmd->add_option("--output-file", o->output_file,
                  "Write the public key to this file (0644) instead of stdout")
      ->type_name("FILE");
  cmd->add_flag("--force", o->force, "Overwrite an existing --output-file");
  cmd->add_option("--password-file", o->password_file, "Read the password from the first line")
      ->type_name("FILE");
  add_output_option(*cmd, o->output, "the PEM on stdout (or into --output-file)", false,
                    "--output is the format; write the key to a file with --output-file");
}

void register_fingerprint(Program& prog, CLI::App& group) {
  struct Options {
    std::string key;
    std::string password_file;
    OutputFormat output = OutputFormat::kText;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = add_command(
      prog, group, "fingerprint",
      "Print a key's id: sha256:<hex of SHA-256 over the public key's SPKI DER>", [o] {
        auto pub = trust::load_public_key_of_any(o->key, password_source(o->password_file, false));
        auto id = pub.key_id().str();
        if (o->output == OutputFormat::kJson) {
          print_json({{"key", o->key}, {"keyId", id}, {"type", trust::to_string(pub.type())}});
        } else {
          result(id);  // the command's result: $(sigil key fingerprint F) works
        }
        return kExitOk;
      });
  cmd->add_option("KEY", o->key,
                  "Public key, cosign key file or unencrypted private key PEM (a file, env://VAR "
                  "or -)")
      ->required()
      ->type_name("");
  cmd->add_option("--password-file", o->password_file, "Read the password from the first line")
      ->type_name("FILE");
  add_output_option(*cmd, o->output, "the key id on stdout");
}

}  // namespace

void register_key_commands(Program& prog) {
  auto* key = prog.app.add_subcommand("key", "Generate, import and inspect signing keys")
                  ->group(kCommandsGroup);
  key->require_subcommand(1);
  register_generate(prog, *key);
  register_public(prog, *key);
  register_import(prog, *key);
  register_fingerprint(prog, *key);
}

}  // namespace sigil::cli
