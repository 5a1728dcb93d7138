#include "signing.h"

#include <cctype>

#include "libtrust/crypto/key_file.h"
#include "libtrust/crypto/password.h"
#include "output.h"

namespace sigil::cli {

trust::PrivateKey load_signing_key(const std::string& key, const std::string& password_file) {
  return trust::load_private_key(key, [&password_file] {
    trust::PasswordOptions pw;
    if (!password_file.empty()) pw.password_file = password_file;
    return trust::read_password(pw);
  });
}

trust::oci::Descriptor resolve_to_sign(trust::oci::ImageSource& store, const trust::Reference& ref,
                                       std::string_view doing, std::string_view verb) {
  auto image = store.resolve(ref);
  if (ref.kind() == trust::ReferenceKind::kRegistry && !ref.digest()) {
    std::string capital(verb);
    if (!capital.empty()) capital[0] = static_cast<char>(std::toupper(capital[0]));
    warn(ref.str() + " is a tag, not a digest: " + std::string(doing) + " " + image.digest.str() +
         ", the image it names now. " + capital + " " + ref.with_digest(image.digest).str() +
         " to be sure of what you " + std::string(verb));
  }
  return image;
}

}  // namespace sigil::cli
