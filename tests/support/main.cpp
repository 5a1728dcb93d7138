#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>

// The tests never see the developer's key passwords (each test that needs one sets it for the
// process it runs). Done here rather than with ctest's ENVIRONMENT_MODIFICATION, whose list of
// two entries catch_discover_tests splits into separate properties.
int main(int argc, char** argv) {
  ::unsetenv("SIGIL_PASSWORD");
  ::unsetenv("COSIGN_PASSWORD");
  return Catch::Session().run(argc, argv);
}
