#pragma once
// What every signing command (sign, attest, sign-blob, attest-blob) does the same way: read the
// private key first, so that a wrong password or key costs no registry request, and resolve the
// image once, warning when a tag was given rather than a digest.

#include <string>
#include <string_view>

#include "libtrust/core/reference.h"
#include "libtrust/crypto/keys.h"
#include "libtrust/oci/image_source.h"

namespace sigil::cli {

// The private key `key` names (a key reference: file, env://, -), decrypted with the password
// from `password_file` (empty: SIGIL_PASSWORD / COSIGN_PASSWORD, then the terminal).
trust::PrivateKey load_signing_key(const std::string& key, const std::string& password_file);

// `ref` resolved once in `store`; everything after works on the digest. A registry tag gets a
// warning, as cosign gives one: the tag may have moved since it was pushed, or move while
// signing. `doing` / `verb` name the command in it ("signing" / "sign", "attesting" / "attest").
trust::oci::Descriptor resolve_to_sign(trust::oci::ImageSource& store, const trust::Reference& ref,
                                       std::string_view doing, std::string_view verb);

}  // namespace sigil::cli
