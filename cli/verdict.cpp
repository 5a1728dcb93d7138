#include "verdict.h"

#include <nlohmann/json.hpp>

#include "libtrust/sig/cosign_layout.h"

namespace sigil::cli {
namespace {

using nlohmann::ordered_json;

// An annotation value: a JSON string as it is, any other JSON value (kept as its JSON text by the
// library) as that value.
ordered_json annotation_value(const std::string& value, bool non_string) {
  return non_string ? ordered_json::parse(value) : ordered_json(value);
}

ordered_json annotations_json(const std::map<std::string, std::string>& values,
                              const std::set<std::string>& non_string) {
  ordered_json out = ordered_json::object();
  for (const auto& [k, v] : values) out[k] = annotation_value(v, non_string.count(k) != 0);
  return out;
}

ordered_json verdict_json(const trust::verify::SignatureVerdict& v) {
  ordered_json j{
      {"index", v.index},   {"format", std::string(trust::verify::to_string(v.format))},
      {"origin", v.origin}, {"verified", v.verified},
      {"reason", v.reason}, {"keyId", v.key_id ? ordered_json(*v.key_id) : ordered_json(nullptr)}};
  if (v.layer_digest) j["layerDigest"] = v.layer_digest->str();
  if (v.referrer_digest) j["referrerDigest"] = v.referrer_digest->str();
  if (v.statement) j["predicateType"] = v.statement->predicate_type;
  if (v.subject) {
    j["annotations"] = annotations_json(v.subject->annotations, v.subject->non_string_annotations);
  }
  if (v.payload) {
    j["dockerReference"] = v.payload->docker_reference;
    j["signedDigest"] = v.payload->manifest_digest.str();
    j["annotations"] = annotations_json(v.payload->optional, v.payload->non_string_keys);
  }
  return j;
}

void print_json_report(const trust::Reference& ref, const trust::verify::ImageVerification& v) {
  const auto& r = v.result;
  ordered_json j{{"reference", ref.str()},
                 {"digest", v.image.digest.str()},
                 {"mediaType", v.image.media_type},
                 {"verified", r.verified()},
                 {"signatureTag", trust::sig::signature_tag(v.image.digest)},
                 {"signaturesFound", v.signatures_found},
                 {"referrersChecked", v.referrers_checked},
                 {"bundleReferrers",
                  v.referrers_checked ? ordered_json(v.bundle_referrers) : ordered_json(nullptr)},
                 {"summary", r.summary()},
                 {"signatures", ordered_json::array()}};
  for (const auto& s : r.signatures) j["signatures"].push_back(verdict_json(s));
  print_json(j);
}

// What `cosign verify` prints: one simple-signing object per verified signature. A bundle
// signature has no such payload; its object is built from the verified statement: the image
// digest it names, the reference's repository as identity, its subject's annotations.
void print_cosign_report(const trust::Reference& ref, const trust::verify::ImageVerification& v) {
  ordered_json out = ordered_json::array();
  for (const auto& s : v.result.signatures) {
    if (!s.verified) continue;
    std::string identity;
    ordered_json optional = nullptr;
    if (s.payload) {
      identity = s.payload->docker_reference;
      if (!s.payload->optional.empty()) {
        optional = annotations_json(s.payload->optional, s.payload->non_string_keys);
      }
    } else {
      identity = ref.kind() == trust::ReferenceKind::kRegistry
                     ? ref.repository_name()
                     : ref.with_digest(v.image.digest).str();
      if (s.subject && !s.subject->annotations.empty()) {
        optional = annotations_json(s.subject->annotations, s.subject->non_string_annotations);
      }
    }
    const auto digest = s.payload ? s.payload->manifest_digest.str() : v.image.digest.str();
    out.push_back({{"critical",
                    {{"identity", {{"docker-reference", identity}}},
                     {"image", {{"docker-manifest-digest", digest}}},
                     {"type", "cosign container image signature"}}},
                   {"optional", optional}});
  }
  print_foreign_json(out);
}

void print_text_report(const trust::Reference& ref, const std::string& source,
                       const trust::verify::ImageVerification& v) {
  const auto& r = v.result;
  say("Verifying " + ref.str() + " (" + v.image.digest.str() + ")");
  if (!v.signatures_found && v.bundle_referrers == 0) {
    say("  no signatures: " + source + " has no tag " + trust::sig::signature_tag(v.image.digest) +
        " and no bundle referrers");
  }
  for (const auto& s : r.signatures) {
    say("  " + s.origin + ": " + (s.verified ? "OK" : "FAILED") + ": " + s.reason);
    if (!s.verified) continue;
    if (s.subject) {
      for (const auto& [k, val] : s.subject->annotations) say("    " + k + "=" + val);
    }
    if (s.payload) {
      say("    identity: " + s.payload->docker_reference);
      for (const auto& [k, val] : s.payload->optional) say("    " + k + "=" + val);
    }
  }
  if (!v.referrers_checked) {
    say("  bundle referrers: not looked up (a .sig signature verified; --all judges every "
        "signature)");
  }
  say((r.verified() ? "VERIFIED: " : "NOT VERIFIED: ") + r.summary());
}

}  // namespace

void print_verification(const trust::Reference& ref, const std::string& source,
                        const trust::verify::ImageVerification& v, OutputFormat format) {
  switch (format) {
    case OutputFormat::kJson:
      print_json_report(ref, v);
      break;
    case OutputFormat::kCosign:
      print_cosign_report(ref, v);
      break;
    case OutputFormat::kText:
      break;
  }
  // The report for people goes to stderr in every format (as cosign prints its checks).
  print_text_report(ref, source, v);
}

}  // namespace sigil::cli
