#pragma once
// in-toto Statement (https://in-toto.io/Statement/v1; v0.1 is read too):
//   {"_type":"https://in-toto.io/Statement/v1",
//    "subject":[{"name":"…","digest":{"sha256":"<hex>"},"annotations":{…}}],
//    "predicateType":"<URI>","predicate":{…}}
// The payload of a DSSE envelope with payloadType application/vnd.in-toto+json. Parse only bytes
// whose signature has been checked.

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/bytes.h"
#include "libtrust/core/digest.h"
#include "libtrust/export.h"

namespace trust::sig {

inline constexpr std::string_view kInTotoStatementV1 = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kInTotoStatementV01 = "https://in-toto.io/Statement/v0.1";
// The predicate type of a cosign 3 image signature (a statement about the image, predicate {}).
inline constexpr std::string_view kCosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1";

// Largest statement parsed (the payload of the largest envelope sigil reads).
inline constexpr std::size_t kMaxStatementBytes = 16u << 20;
// Subjects per statement (a provenance statement may name many artifacts; issue 9: 1024).
inline constexpr std::size_t kMaxStatementSubjects = 1024;

struct StatementSubject {
  std::string name;                           // may be empty (cosign 3 writes none)
  std::map<std::string, std::string> digest;  // algorithm -> lowercase hex ("sha256" -> …)
  // String annotations as they are; any other JSON value is kept as its compact JSON text with
  // its key in non_string_annotations (shown, never satisfying a requirement).
  std::map<std::string, std::string> annotations;
  std::set<std::string> non_string_annotations;

  // True if every required annotation is present as the same string.
  TRUST_API bool has_annotations(const std::map<std::string, std::string>& required) const;
  // The required annotations missing (or different) here, as "k=v, k2=v2".
  TRUST_API std::string missing_annotations(
      const std::map<std::string, std::string>& required) const;
};

struct Statement {
  std::string type = std::string(kInTotoStatementV1);  // "_type"
  std::vector<StatementSubject> subjects;
  std::string predicate_type;
  std::string predicate_json = "{}";  // compact JSON text of the predicate object

  // Compact JSON in the order _type, subject, predicateType, predicate. A subject's "name" is
  // omitted when empty; its "annotations" are always written (cosign 3's shape). Throws
  // UsageError for a statement that parse() would refuse (no subject, empty predicateType, …).
  TRUST_API std::string serialize() const;

  // Strict: _type v1 or v0.1; 1..kMaxStatementSubjects subjects, each with a non-empty digest
  // set whose sha256/sha512 values are canonical lowercase hex (the other ResourceDescriptor
  // fields uri, content, downloadLocation, mediaType are allowed and ignored); a non-empty
  // predicateType; predicate an object when present (v1 allows it absent: "{}"); no other fields;
  // JSON caps, at most `max_bytes` (an image signature's statement:
  // limits::kMaxSignaturePayloadBytes). Throws InputError / LimitError / UnsupportedError (another
  // _type) naming `what`.
  TRUST_API static Statement parse(ByteView bytes, std::string_view what,
                                   std::size_t max_bytes = kMaxStatementBytes);

  // The subject whose digest set names `digest` (same algorithm, same hex); nullptr if none.
  TRUST_API const StatementSubject* find_subject(const Digest& digest) const;
  bool has_subject(const Digest& digest) const { return find_subject(digest) != nullptr; }
};

// The statement cosign 3 signs for an image: subject [{digest:{sha256}, annotations}], predicate
// type kCosignSignPredicateType, predicate {}.
TRUST_API Statement cosign_sign_statement(const Digest& image,
                                          const std::map<std::string, std::string>& annotations);

}  // namespace trust::sig
