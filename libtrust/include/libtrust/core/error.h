#pragma once
// Typed errors with stable codes. Every failure in libtrust is a trust::Error (or a subclass)
// thrown at the point of failure with a message naming the input and what was wrong.
// A bad signature is not an error: verification returns a value.

#include <stdexcept>
#include <string>
#include <string_view>

#include "libtrust/export.h"

namespace trust {

enum class ErrorCode {
  kUsage,               // the caller asked for something malformed (bad flag, bad reference)
  kInput,               // malformed input: JSON, PEM, manifest, key file
  kIo,                  // file system failure
  kNotFound,            // a blob, manifest, tag or file that should exist does not
  kDigestMismatch,      // content does not match the digest it was asked for
  kLimit,               // a named limit (size, count, depth) was exceeded
  kUnsupported,         // a valid but unsupported media type, key type, algorithm
  kCrypto,              // a cryptographic library failure
  kBadPassword,         // a private key could not be decrypted with the password given
  kExists,              // refusing to overwrite an existing file
  kRegistry,            // registry protocol failure
  kVerificationFailed,  // no signature satisfied the policy
};

// Stable, machine-readable name of a code ("digest-mismatch", …).
TRUST_API std::string_view error_code_name(ErrorCode code);

// Process exit code for an error (DESIGN.md: 1 verification failed, 2 usage, 3 input/I/O/registry).
TRUST_API int exit_code_for(ErrorCode code);

class TRUST_API Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

#define TRUST_DEFINE_ERROR(Name, Code)                                  \
  class TRUST_API Name : public Error {                                 \
   public:                                                              \
    explicit Name(const std::string& message) : Error(Code, message) {} \
  }

TRUST_DEFINE_ERROR(UsageError, ErrorCode::kUsage);
TRUST_DEFINE_ERROR(InputError, ErrorCode::kInput);
TRUST_DEFINE_ERROR(IoError, ErrorCode::kIo);
TRUST_DEFINE_ERROR(NotFoundError, ErrorCode::kNotFound);
TRUST_DEFINE_ERROR(DigestMismatchError, ErrorCode::kDigestMismatch);
TRUST_DEFINE_ERROR(LimitError, ErrorCode::kLimit);
TRUST_DEFINE_ERROR(UnsupportedError, ErrorCode::kUnsupported);
TRUST_DEFINE_ERROR(CryptoError, ErrorCode::kCrypto);
TRUST_DEFINE_ERROR(BadPasswordError, ErrorCode::kBadPassword);
TRUST_DEFINE_ERROR(ExistsError, ErrorCode::kExists);
TRUST_DEFINE_ERROR(RegistryError, ErrorCode::kRegistry);
TRUST_DEFINE_ERROR(VerificationError, ErrorCode::kVerificationFailed);

#undef TRUST_DEFINE_ERROR

}  // namespace trust
