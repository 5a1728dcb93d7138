#include "libtrust/check/report.h"

#include <nlohmann/json.hpp>

#include "libtrust/core/text.h"
#include "libtrust/sig/cosign_layout.h"

namespace trust::check {
namespace {

using nlohmann::ordered_json;

std::string dump(const ordered_json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, ordered_json::error_handler_t::replace);
}

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

ordered_json verdict_json(const verify::EntityVerdict& v) {
  const auto key_id = v.key_id();
  ordered_json j{
      {"index", v.index},   {"format", std::string(sig::to_string(v.kind))},
      {"origin", v.origin}, {"verified", v.verified},
      {"reason", v.reason}, {"keyId", key_id ? ordered_json(*key_id) : ordered_json(nullptr)}};
  j["verifiedBy"] = ordered_json::array();
  for (const auto& k : v.verified_by) {
    j["verifiedBy"].push_back({{"name", k.name}, {"keyId", k.key_id}});
  }
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

}  // namespace

std::string report_json(const Reference& ref, const ImageVerification& v) {
  ordered_json j{{"reference", ref.str()},
                 {"digest", v.image.digest.str()},
                 {"mediaType", v.image.media_type},
                 {"verified", v.verified()},
                 {"signatureTag", sig::signature_tag(v.image.digest)},
                 {"signaturesFound", v.signatures_found},
                 {"referrersChecked", v.referrers_checked},
                 {"bundleReferrers",
                  v.referrers_checked ? ordered_json(v.bundle_referrers) : ordered_json(nullptr)},
                 {"summary", v.decision.summary},
                 {"signatures", ordered_json::array()}};
  for (const auto& s : v.verdicts) j["signatures"].push_back(verdict_json(s));
  return dump(j);
}

// One simple-signing object per verified signature. A bundle signature has no such payload; its
// object is built from the verified statement: the image digest it names, the reference's
// repository as identity, its subject's annotations.
std::string cosign_report_json(const Reference& ref, const ImageVerification& v) {
  ordered_json out = ordered_json::array();
  for (const auto& s : v.verdicts) {
    if (!s.verified) continue;
    std::string identity;
    ordered_json optional = nullptr;
    if (s.payload) {
      identity = s.payload->docker_reference;
      if (!s.payload->optional.empty()) {
        optional = annotations_json(s.payload->optional, s.payload->non_string_keys);
      }
    } else {
      identity = ref.kind() == ReferenceKind::kRegistry ? ref.repository_name()
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
  return dump(out);
}

std::vector<std::string> report_lines(const Reference& ref, const std::string& source,
                                      const ImageVerification& v) {
  std::vector<std::string> out;
  out.push_back("Verifying " + ref.str() + " (" + v.image.digest.str() + ")");
  if (!v.signatures_found && v.bundle_referrers == 0) {
    out.push_back("  no signatures: " + source + " has no tag " +
                  sig::signature_tag(v.image.digest) + " and no bundle referrers");
  }
  for (const auto& s : v.verdicts) {
    out.push_back("  " + s.origin + ": " + (s.verified ? "OK" : "FAILED") + ": " + s.reason);
    if (!s.verified) continue;
    if (s.verified_by.size() > 1) {
      for (const auto& k : s.verified_by)
        out.push_back("    key: " + k.name + " (" + k.key_id + ")");
    }
    if (s.subject) {
      for (const auto& [k, val] : s.subject->annotations) out.push_back("    " + k + "=" + val);
    }
    if (s.payload) {
      out.push_back("    identity: " + s.payload->docker_reference);
      for (const auto& [k, val] : s.payload->optional) out.push_back("    " + k + "=" + val);
    }
  }
  if (!v.referrers_checked) {
    out.push_back(
        "  bundle referrers: not looked up (a .sig signature verified; --all judges every "
        "signature)");
  }
  out.push_back((v.verified() ? "VERIFIED: " : "NOT VERIFIED: ") + v.decision.summary);
  return out;
}

std::vector<std::string> attestation_report_json_lines(const AttestationVerification& v) {
  std::vector<std::string> out;
  for (auto i : v.decision.counted) {
    const auto& s = v.verdicts.at(i).statement;
    if (!s) continue;  // (a counted verdict always keeps its statement)
    out.push_back(
        ordered_json::parse(s->serialize())
            .dump(-1, ' ', /*ensure_ascii=*/true, ordered_json::error_handler_t::replace));
  }
  return out;
}

std::vector<std::string> attestation_report_lines(const Reference& ref, const std::string& source,
                                                  const AttestationVerification& v) {
  std::vector<std::string> out;
  out.push_back("Verifying attestations of " + ref.str() + " (" + v.image.digest.str() + ")");
  if (v.verdicts.empty()) {
    out.push_back("  no attestations: " + source + " has no tag " +
                  sig::attestation_tag(v.image.digest) + " and no bundle referrers");
  }
  for (std::size_t i = 0; i < v.verdicts.size(); ++i) {
    const auto& e = v.verdicts[i];
    const auto& c = v.considered.at(i);
    std::string line = "  " + e.origin;
    if (e.claimed_predicate_type) {
      line += " (claimed type " + excerpt(*e.claimed_predicate_type, 200) + ", unverified)";
    }
    out.push_back(line + ": " + (c.counts ? "COUNTS" : "does not count") + ": " + c.reason);
  }
  out.push_back((v.verified() ? "VERIFIED: " : "NOT VERIFIED: ") + v.decision.summary);
  return out;
}

}  // namespace trust::check
