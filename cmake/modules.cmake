# libtrust's modules, one object library each, with one-way dependencies enforced by the compiler.
#
# The files stay where they are (libtrust/include/libtrust/<m>/ public, libtrust/src/<m>/ private).
# What a module's sources may include is decided by their include path, which is not the source
# tree but a view built at configure time, one per module:
#
#   <build>/libtrust/modules/<m>/libtrust/export.h  -> libtrust/include/libtrust/export.h
#   <build>/libtrust/modules/<m>/libtrust/<d>       -> libtrust/include/libtrust/<d>   (public)
#   <build>/libtrust/modules/<m>/<d>                -> libtrust/src/<d>                (private)
#
# with one pair of symbolic links for <m> itself and for each module <d> it SEES. That view is the
# module's only libtrust include directory, so `#include "libtrust/registry/client.h"` in a crypto
# source (or in a header a crypto source includes) is "No such file or directory": a back edge is
# a build error, not a review comment. The links point at directories, so files added to a module
# are visible at once; sources are globbed per module directory (CONFIGURE_DEPENDS).
#
# SEES is the full list of modules whose headers a module may include, not only its direct
# dependencies: the rule is written out in one place (libtrust/CMakeLists.txt). A module that
# includes a header of a module it SEES, which in turn includes a header of a module it does not
# see, fails too (verify sees sig, not oci: a sig header that pulls in oci is out of verify's reach).
#
# Everything outside libtrust/src (the CLIs, the tests) keeps the whole include root.

set(SIGIL_MODULE_ROOT ${CMAKE_CURRENT_BINARY_DIR}/modules)

# sigil_module(NAME [SEES module...] [SOURCES file...] [HEADERS top-level header...])
#   Defines the object library libtrust_<NAME> over libtrust/src/<NAME>/*.cpp (or SOURCES, for
#   files at the top of libtrust/src), compiled against the module's view only. HEADERS are files
#   directly under include/libtrust/ that belong to this module (export.h is in every view).
function(sigil_module name)
  cmake_parse_arguments(PARSE_ARGV 1 M "" "" "SEES;SOURCES;HEADERS")
  set(lib ${CMAKE_CURRENT_SOURCE_DIR})
  set(view ${SIGIL_MODULE_ROOT}/${name})
  # REMOVE_RECURSE removes symbolic links, never what they point at.
  file(REMOVE_RECURSE ${view})
  file(MAKE_DIRECTORY ${view}/libtrust)
  foreach(header export.h ${M_HEADERS})
    file(CREATE_LINK ${lib}/include/libtrust/${header} ${view}/libtrust/${header} SYMBOLIC)
  endforeach()
  foreach(seen ${name} ${M_SEES})
    if(NOT seen STREQUAL name AND NOT TARGET libtrust_${seen})
      message(FATAL_ERROR "module ${name} sees ${seen}, which is not declared before it")
    endif()
    if(IS_DIRECTORY ${lib}/include/libtrust/${seen})
      file(CREATE_LINK ${lib}/include/libtrust/${seen} ${view}/libtrust/${seen} SYMBOLIC)
    endif()
    if(IS_DIRECTORY ${lib}/src/${seen})
      file(CREATE_LINK ${lib}/src/${seen} ${view}/${seen} SYMBOLIC)
    endif()
  endforeach()

  if(M_SOURCES)
    set(sources ${M_SOURCES})
  else()
    file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${lib}/src/${name}/*.cpp)
  endif()
  add_library(libtrust_${name} OBJECT ${sources})
  set_target_properties(libtrust_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON
    SIGIL_MODULE_SOURCES "${sources}")
  target_compile_definitions(libtrust_${name} PRIVATE TRUST_BUILDING_LIBRARY)
  target_include_directories(libtrust_${name} PRIVATE ${view})
  target_link_libraries(libtrust_${name} PRIVATE sigil_warnings ${LIBTRUST_DEPS}
                        nlohmann_json::nlohmann_json)
  set_property(GLOBAL APPEND PROPERTY SIGIL_MODULES ${name})
endfunction()

# sigil_modules_cover_sources(): every .cpp under libtrust/src belongs to exactly one module (a
# file in a new directory would otherwise be compiled by nobody, or twice).
function(sigil_modules_cover_sources)
  file(GLOB_RECURSE all CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  get_property(modules GLOBAL PROPERTY SIGIL_MODULES)
  set(covered "")
  foreach(m ${modules})
    get_target_property(sources libtrust_${m} SIGIL_MODULE_SOURCES)
    foreach(s ${sources})
      if(s IN_LIST covered)
        message(FATAL_ERROR "${s} is in two libtrust modules")
      endif()
      list(APPEND covered ${s})
    endforeach()
  endforeach()
  foreach(s ${all})
    if(NOT s IN_LIST covered)
      message(FATAL_ERROR "${s} is in no libtrust module: declare its directory with "
                          "sigil_module() in libtrust/CMakeLists.txt")
    endif()
  endforeach()
endfunction()
