# Packaging: `cmake --install` components and the Debian packages CPack builds from them.
#
#   component      package        contents
#   sigil          sigil          bin/sigil, its man pages and shell completions
#   sigil-verify   sigil-verify   bin/sigil-verify (libtrust linked in statically, no signing
#                                 code), its man page and completions: what a node installs
#   libtrust       libtrust0      lib/libtrust.so.0: in this one package only, so all can be
#                                 installed together
#   libtrust-dev   libtrust-dev   headers, libtrust.so, CMake config, pkg-config file
#
# Install rules name their component; one without a component would land in no package (the
# packaging test fails if the "Unspecified" component installs anything).
#   cmake --build build && (cd build && cpack -G DEB)      -> build/sigil_0.1.0-1_amd64.deb, …
# tests/packaging/package_test.sh builds, checks and installs them (ctest: packaging).

# The probe references every libcurl and libarchive function libtrust has a stub for, so that
# dpkg-shlibdeps derives the minimum versions from the symbols libtrust can call.
set(_probe_names "")
foreach(_stubs curl archive)
  set(_file ${PROJECT_SOURCE_DIR}/libtrust/src/lazy/${_stubs}.cpp)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_file})
  file(READ ${_file} _text)
  string(REGEX MATCHALL "SIGIL_LAZY_FUNCTION\\([a-z_]+,[^,]*,[ \t\n]*[a-z_0-9]+" _lazy "${_text}")
  string(REGEX MATCHALL "extern \"C\" [A-Za-z_]+ (curl|archive)_[a-z_0-9]+\\(" _variadic "${_text}")
  foreach(_m IN LISTS _lazy _variadic)
    string(REGEX REPLACE "^.*[ ,\t\n]([a-z_0-9]+)\\(?$" "\\1" _name "${_m}")
    list(APPEND _probe_names "(sigil_fn)${_name}")
  endforeach()
endforeach()
list(JOIN _probe_names ",\n  " SIGIL_LAZY_FUNCTIONS)
configure_file(${CMAKE_CURRENT_LIST_DIR}/lazy_deps_probe.c.in ${PROJECT_BINARY_DIR}/lazy_deps_probe.c
               @ONLY)
add_executable(sigil_lazy_deps_probe ${PROJECT_BINARY_DIR}/lazy_deps_probe.c)
target_link_libraries(sigil_lazy_deps_probe PRIVATE CURL::libcurl PkgConfig::ARCHIVE)
target_link_options(sigil_lazy_deps_probe PRIVATE -Wl,--no-as-needed)
set(SIGIL_LAZY_DEPS_PROBE $<TARGET_FILE:sigil_lazy_deps_probe>)
get_target_property(_curl_file CURL::libcurl LOCATION)
list(GET ARCHIVE_LINK_LIBRARIES 0 _archive_file)
set(SIGIL_LAZY_LIBRARY_FILES "${_curl_file};${_archive_file}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/cpack_config.cmake.in
               ${PROJECT_BINARY_DIR}/cpack_config.cmake.gen @ONLY)
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/cpack_config.cmake
     INPUT ${PROJECT_BINARY_DIR}/cpack_config.cmake.gen)

set(CPACK_PACKAGE_NAME sigil)
set(CPACK_PACKAGE_VENDOR "sigil")
set(CPACK_PACKAGE_CONTACT "sigil maintainers <sigil@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_BINARY_DIR}/cpack_config.cmake)
set(CPACK_GENERATOR DEB)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL sigil sigil-verify libtrust libtrust-dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# A shlibs file for libtrust0, so that programs built against it depend on it; "=" while the ABI
# is 0.x.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/sigil/sigil")
set(_deb_version "${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")

set(CPACK_DEBIAN_SIGIL_PACKAGE_NAME sigil)
set(CPACK_DEBIAN_SIGIL_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_SIGIL_PACKAGE_DEPENDS "libtrust0 (= ${_deb_version})")
string(CONCAT CPACK_COMPONENT_SIGIL_DESCRIPTION
  "sign and verify container images (cosign-compatible)\n"
  "sigil signs container images and their provenance the way cosign does (signatures in the\n"
  "registry, an OCI layout or a docker archive) and verifies them against keys and a policy.\n"
  "For laptops and CI runners; nodes need only sigil-verify.")

set(CPACK_DEBIAN_SIGIL-VERIFY_PACKAGE_NAME sigil-verify)
set(CPACK_DEBIAN_SIGIL-VERIFY_PACKAGE_SECTION admin)
string(CONCAT CPACK_COMPONENT_SIGIL-VERIFY_DESCRIPTION
  "verify container image signatures before they run\n"
  "sigil-verify checks cosign-style signatures, attestations and sigstore bundles of container\n"
  "images against trusted keys and a policy: what a node runs before a pull. It holds no\n"
  "private-key code and needs no other sigil package.")

set(CPACK_DEBIAN_LIBTRUST_PACKAGE_NAME libtrust0)
set(CPACK_DEBIAN_LIBTRUST_PACKAGE_SECTION libs)
string(CONCAT CPACK_COMPONENT_LIBTRUST_DESCRIPTION
  "sigil's container image signing and verification library\n"
  "libtrust signs container images and verifies their signatures, attestations and bundles.")

set(CPACK_DEBIAN_LIBTRUST-DEV_PACKAGE_NAME libtrust-dev)
set(CPACK_DEBIAN_LIBTRUST-DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_LIBTRUST-DEV_PACKAGE_DEPENDS "libtrust0 (= ${_deb_version})")
set(CPACK_DEBIAN_LIBTRUST-DEV_PACKAGE_SHLIBDEPS OFF)
string(CONCAT CPACK_COMPONENT_LIBTRUST-DEV_DESCRIPTION
  "sigil's container image signing library: development files\n"
  "Headers, the CMake package (find_package(libtrust)) and the pkg-config file of libtrust.")

include(CPack)
