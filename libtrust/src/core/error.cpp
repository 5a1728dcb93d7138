#include "libtrust/core/error.h"

namespace trust {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
      return "usage";
    case ErrorCode::kInput:
      return "bad-input";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kDigestMismatch:
      return "digest-mismatch";
    case ErrorCode::kLimit:
      return "limit-exceeded";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kCrypto:
      return "crypto";
    case ErrorCode::kBadPassword:
      return "bad-password";
    case ErrorCode::kExists:
      return "exists";
    case ErrorCode::kRegistry:
      return "registry";
    case ErrorCode::kVerificationFailed:
      return "verification-failed";
  }
  return "unknown";
}

int exit_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kVerificationFailed:
      return 1;
    case ErrorCode::kUsage:
      return 2;
    default:
      return 3;
  }
}

}  // namespace trust
