#pragma once
// Shared by the DSSE, in-toto, bundle and bundle-verification tests.

#include "support/errors.h"
#include "support/test_keys.h"
