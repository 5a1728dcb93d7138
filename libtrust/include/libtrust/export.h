#pragma once
// Symbol visibility for libtrust: everything is hidden unless marked TRUST_API.
#if defined(TRUST_BUILDING_LIBRARY)
#define TRUST_API __attribute__((visibility("default")))
#else
#define TRUST_API
#endif
