// sigil copy: an image with its signatures, attestations and referrers, between any two places.
#include <memory>

#include "commands.h"
#include "libtrust/core/error.h"
#include "libtrust/core/reference.h"
#include "libtrust/core/text.h"
#include "libtrust/oci/layout.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/attachments.h"

namespace sigil::cli {
namespace {

struct CopyArgs {
  std::string src;
  std::string dst;
  bool no_attachments = false;
  unsigned parallel = 2;
  RegistryFlags registry;
  OutputFormat output = OutputFormat::kText;
};

// The tag to give the copy: the destination's own, else the source's (so `oci:DIR` receives the
// source tag), else none (a digest-only destination must name the same digest).
std::string destination_tag(const trust::Reference& src, const trust::Reference& dst,
                            const trust::Digest& digest) {
  if (dst.digest()) {
    if (*dst.digest() != digest) {
      throw trust::UsageError("destination " + dst.str() + " names digest " + dst.digest()->str() +
                              " but the source is " + digest.str());
    }
    return dst.tag().value_or("");
  }
  if (dst.tag()) return *dst.tag();
  if (src.tag() && src.kind() != trust::ReferenceKind::kDockerArchive) return *src.tag();
  return "latest";
}

int run_copy(const CopyArgs& a) {
  auto src_ref = parse_image_reference(a.src);
  auto dst_ref = parse_image_reference(a.dst);
  auto transport = transport_options(a.registry);
  // One client per side: the source is read while the destination is written, from two threads.
  auto src = trust::registry::open_source(src_ref, transport);
  // A layout destination is created if it does not exist yet.
  auto dst = dst_ref.kind() == trust::ReferenceKind::kOciLayout
                 ? trust::oci::create_oci_layout(dst_ref.path())
                 : trust::registry::open_store(dst_ref, transport);
  auto image = src->resolve(src_ref);  // resolved once
  auto tag = destination_tag(src_ref, dst_ref, image.digest);
  trust::sig::CopyOptions options{.attachments = !a.no_attachments, .parallel_blobs = a.parallel};
  auto report = trust::sig::copy_image(*src, *dst, image, tag, options);
  if (a.output == OutputFormat::kJson) {
    print_json({{"source", src_ref.str()},
                {"destination", dst_ref.str()},
                {"digest", report.digest.str()},
                {"tag", tag},
                {"manifests", report.manifests},
                {"blobsCopied", report.blobs_copied},
                {"blobsSkipped", report.blobs_skipped},
                {"bytesCopied", report.bytes_copied},
                {"attachments", report.attachments}});
  }
  say("Copied " + src_ref.str() + " -> " + dst->describe() + (tag.empty() ? "" : ":" + tag) + " (" +
      report.digest.str() + "): " + std::to_string(report.manifests) + " manifest(s), " +
      std::to_string(report.blobs_copied) + " blob(s) copied (" +
      trust::human_size(report.bytes_copied) + "), " + std::to_string(report.blobs_skipped) +
      " already present, " + std::to_string(report.attachments) + " attachment(s)");
  return kExitOk;
}

}  // namespace

void register_copy_commands(Program& prog) {
  auto args = std::make_shared<CopyArgs>();
  auto* cmd = add_command(
      prog, prog.app, "copy",
      "Copy an image with its signatures, attestations and referrers (digest unchanged)",
      [args] { return run_copy(*args); });
  cmd->add_option("SRC", args->src, std::string("Source: ") + kImageHelp)
      ->required()
      ->type_name("");
  cmd->add_option("DST", args->dst, "Destination: a registry or oci:DIR[:TAG] (created if absent)")
      ->required()
      ->type_name("");
  cmd->add_flag("--no-attachments", args->no_attachments,
                "Copy only the image, not its signatures, attestations and referrers");
  cmd->add_option("--parallel", args->parallel, "Blobs copied at once (1 to 16)")
      ->check(CLI::Range(1u, 16u).description(""))
      ->type_name("N")
      ->default_str("2");
  add_output_option(*cmd, args->output, "a summary on stderr");
  add_registry_options(*cmd, args->registry);
}

}  // namespace sigil::cli
