#include "libtrust/sig/attachments.h"

#include "libtrust/core/error.h"
#include "libtrust/oci/copy.h"

namespace trust::sig {

std::string attachment_tag(const Digest& subject, AttachmentKind kind) {
  std::string base = std::string(trust::to_string(subject.algorithm())) + "-" + subject.hex();
  switch (kind) {
    case AttachmentKind::kSignatures:
      return base + ".sig";
    case AttachmentKind::kAttestations:
      return base + ".att";
    case AttachmentKind::kSbom:
      return base + ".sbom";
  }
  return base;
}

std::string_view to_string(AttachmentKind kind) {
  switch (kind) {
    case AttachmentKind::kSignatures:
      return "signatures";
    case AttachmentKind::kAttestations:
      return "attestations";
    case AttachmentKind::kSbom:
      return "sbom";
  }
  return "unknown";
}

Attachments find_attachments(oci::ImageSource& source, const Digest& subject) {
  Attachments out{.subject = subject, .tagged = {}, .referrers = {}};
  for (auto kind :
       {AttachmentKind::kSignatures, AttachmentKind::kAttestations, AttachmentKind::kSbom}) {
    auto tag = attachment_tag(subject, kind);
    if (auto d = source.find_tag(tag)) {
      out.tagged.push_back({.kind = kind, .tag = tag, .manifest = *d});
    }
  }
  out.referrers = source.referrers(subject);
  return out;
}

void CopyOptions::validate() const {
  oci::CopyOptions{.parallel_blobs = parallel_blobs}.validate();
}

namespace {

// Copies what is attached to `subject` (cosign tags, and referrers whose manifest names it)
// through `copy`; returns how many attachment manifests there were.
std::size_t copy_attachments(oci::ImageSource& src, oci::ImageStore& dst, oci::ImageCopy& copy,
                             const oci::Descriptor& subject) {
  std::size_t n = 0;
  auto found = find_attachments(src, subject.digest);
  for (const auto& a : found.tagged) {
    copy.copy(a.manifest);
    dst.set_tag(a.tag, a.manifest);
    ++n;
  }
  for (const auto& r : found.referrers) {
    // The index entry is the source's claim; the manifest itself must name this subject.
    auto bytes = src.fetch_manifest(r);
    auto m = oci::Manifest::parse(bytes, src.describe() + ": referrer " + r.digest.str());
    if (!m.subject || m.subject->digest != subject.digest) continue;
    copy.copy(r);
    dst.add_referrer(r, subject);
    ++n;
  }
  return n;
}

void add(CopyReport& out, const oci::CopyReport& r) {
  out.manifests += r.manifests;
  out.blobs_copied += r.blobs_copied;
  out.blobs_skipped += r.blobs_skipped;
  out.bytes_copied += r.bytes_copied;
}

}  // namespace

CopyReport copy_image(oci::ImageSource& src, oci::ImageStore& dst, const oci::Descriptor& image,
                      const std::string& dst_tag, const CopyOptions& options) {
  options.validate();
  const oci::CopyOptions copy_options{.parallel_blobs = options.parallel_blobs};
  CopyReport out;
  out.digest = image.digest;
  oci::ImageCopy image_copy(src, dst, copy_options);
  const auto manifests = image_copy.copy(image);
  if (!dst_tag.empty()) dst.set_tag(dst_tag, image);
  add(out, image_copy.report());
  if (options.attachments) {
    // The attachments of every manifest and index of the image, as a second copy: with a walk
    // budget of its own, so an image near its limit can still carry its signatures.
    oci::ImageCopy attached(src, dst, copy_options);
    for (const auto& m : manifests) out.attachments += copy_attachments(src, dst, attached, m);
    add(out, attached.report());
  }
  return out;
}

}  // namespace trust::sig
