#pragma once
// A repository on a registry as an oci::ImageStore, so signing, verification and copying work on
// registries exactly as on layouts.

#include <memory>

#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/registry/client.h"

namespace trust::registry {

TRUST_API std::unique_ptr<oci::ImageStore> open_registry_store(std::shared_ptr<Client> client,
                                                               const Reference& ref);

// Any reference: oci: and docker-archive: open locally; registry references through `client`
// (created from `options` when null).
TRUST_API std::unique_ptr<oci::ImageSource> open_source(const Reference& ref,
                                                        const TransportOptions& options,
                                                        std::shared_ptr<Client> client = nullptr);
TRUST_API std::unique_ptr<oci::ImageStore> open_store(const Reference& ref,
                                                      const TransportOptions& options,
                                                      std::shared_ptr<Client> client = nullptr);

}  // namespace trust::registry
