#pragma once
// A layout with two different images tagged "a" and "b", opened as a store: what a test of
// "a signature (or attestation) for image a never counts for image b" starts from.

#include <memory>
#include <string>

#include "libtrust/core/reference.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/oci/layout.h"
#include "support/layout_builder.h"
#include "support/process.h"

namespace trust::verify::test {

struct TwoImages {
  sigil::test::TempDir tmp;
  sigil::test::BuiltLayout built;
  std::unique_ptr<oci::ImageStore> store;
  oci::Descriptor a;
  oci::Descriptor b;

  TwoImages() {
    sigil::test::ImageSpec ia;
    ia.tag = "a";
    ia.layers = {sigil::test::layer(100, sigil::test::LayerCompression::kGzip, 1)};
    sigil::test::ImageSpec ib;
    ib.tag = "b";
    ib.layers = {sigil::test::layer(100, sigil::test::LayerCompression::kGzip, 2)};
    built = sigil::test::build_layout(tmp / "img", {.images = {ia, ib}, .index_tag = {}});
    store = oci::open_oci_layout(built.dir);
    a = store->resolve(ref("a"));
    b = store->resolve(ref("b"));
  }
  Reference ref(const std::string& tag) const { return Reference::parse(built.reference(tag)); }
};

}  // namespace trust::verify::test
