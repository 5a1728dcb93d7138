// sigil key generate|public|import|fingerprint: parse options, call libtrust, print.

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

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

void report_key_pair(const trust::KeyPairFiles& files, const trust::PrivateKey& key,
                     OutputFormat output) {
  auto id = key.public_key().key_id().str();
  if (output == OutputFormat::kJson) {
    nlohmann::ordered_json j;
    j["private_key"] = files.private_key.string();
    j["public_key"] = files.public_key.string();
    j["key_id"] = id;
    j["type"] = trust::to_string(key.type());
    std::cout << j.dump() << "\n";
    return;
  }
  std::cerr << "Private key written to " << files.private_key.string() << "\n"
            << "Public key written to " << files.public_key.string() << "\n"
            << "Key id: " << id << "\n";
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
      ->capture_default_str();
  cmd.add_option("--kdf", o.kdf,
                 "Key file form: cosign (N=32768, readable by containers/image 5.23) or standard "
                 "(N=65536, cosign 2.x)")
      ->capture_default_str();
  cmd.add_flag("--force", o.force, "Overwrite existing key files");
  cmd.add_option("--password-file", o.password_file, "Read the password from the first line");
  add_output_option(cmd, o.output);
}

int write_pair(const trust::PrivateKey& key, const PairOptions& o) {
  auto profile = trust::parse_kdf_profile(o.kdf);
  auto files = trust::write_key_pair(key, o.prefix, password_source(o.password_file, true), profile,
                                     overwrite_for(o.force));
  report_key_pair(files, key, o.output);
  return kExitOk;
}

void register_generate(CLI::App& group, Action& action) {
  struct Options : PairOptions {
    std::string type = std::string(trust::to_string(trust::KeyType::kEcdsaP256));
  };
  auto o = std::make_shared<Options>();
  o->prefix = kDefaultGeneratePrefix;
  auto* cmd = group.add_subcommand("generate", "Generate a key pair (PREFIX.key, PREFIX.pub)");
  cmd->add_option("--type", o->type,
                  "Key type: ecdsa-p256, ecdsa-p384, ed25519, rsa-3072 or rsa-4096")
      ->capture_default_str();
  add_pair_options(*cmd, *o);
  cmd->callback([o, &action] {
    action = [o] {
      auto type = trust::parse_key_type(o->type);
      if (!trust::is_signing_key_type(type)) {
        throw trust::UsageError(std::string(trust::to_string(type)) +
                                " keys are accepted for verification only; generate rsa-3072 or "
                                "rsa-4096");
      }
      // Refuse to overwrite before spending time on key generation or asking for a password.
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
    };
  });
}

void register_import(CLI::App& group, Action& action) {
  struct Options : PairOptions {
    std::string input;
  };
  auto o = std::make_shared<Options>();
  o->prefix = kDefaultImportPrefix;
  auto* cmd = group.add_subcommand(
      "import", "Import an unencrypted PKCS#8, SEC1 or PKCS#1 PEM private key as a key pair");
  cmd->add_option("FILE", o->input, "Unencrypted private key PEM")->required();
  add_pair_options(*cmd, *o);
  cmd->callback([o, &action] {
    action = [o] {
      auto pem = trust::read_key_reference(o->input);
      return write_pair(trust::import_private_key_pem(pem.as_string_view(), o->input), *o);
    };
  });
}

void register_public(CLI::App& group, Action& action) {
  struct Options {
    std::string key;
    std::string output;
    std::string password_file;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = group.add_subcommand("public", "Print the public key of a key file (PEM)");
  cmd->add_option("--key", o->key, "Key file (encrypted cosign key, private or public key PEM)")
      ->required();
  cmd->add_option("--output", o->output, "Write the public key to this file instead of stdout");
  cmd->add_option("--password-file", o->password_file, "Read the password from the first line");
  cmd->add_flag("--force", o->force, "Overwrite an existing --output file");
  cmd->callback([o, &action] {
    action = [o] {
      auto pub = trust::load_public_key_of_any(o->key, password_source(o->password_file, false));
      auto pem = pub.to_pem();
      if (o->output.empty()) {
        std::cout << pem << std::flush;
      } else {
        trust::write_file_atomic(o->output, trust::as_bytes(pem), 0644, overwrite_for(o->force));
        std::cerr << "Public key written to " << o->output << "\n";
      }
      return kExitOk;
    };
  });
}

void register_fingerprint(CLI::App& group, Action& action) {
  struct Options {
    std::string file;
    std::string password_file;
    OutputFormat output = OutputFormat::kText;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = group.add_subcommand(
      "fingerprint", "Print a key's id: sha256:<hex of SHA-256 over the public key's SPKI DER>");
  cmd->add_option("FILE", o->file, "Public key, cosign key file or unencrypted private key PEM")
      ->required();
  cmd->add_option("--password-file", o->password_file, "Read the password from the first line");
  add_output_option(*cmd, o->output);
  cmd->callback([o, &action] {
    action = [o] {
      auto pub = trust::load_public_key_of_any(o->file, password_source(o->password_file, false));
      auto id = pub.key_id().str();
      if (o->output == OutputFormat::kJson) {
        nlohmann::ordered_json j;
        j["file"] = o->file;
        j["key_id"] = id;
        j["type"] = trust::to_string(pub.type());
        std::cout << j.dump() << "\n";
      } else {
        // The key id is the command's result: stdout, so that $(sigil key fingerprint F) works.
        std::cout << id << "\n";
      }
      return kExitOk;
    };
  });
}

}  // namespace

void register_key_commands(Program& prog) {
  auto* key = prog.app.add_subcommand("key", "Generate, import and inspect signing keys");
  key->require_subcommand(1);
  register_generate(*key, prog.action);
  register_public(*key, prog.action);
  register_import(*key, prog.action);
  register_fingerprint(*key, prog.action);
}

}  // namespace sigil::cli
