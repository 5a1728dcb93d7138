# cmake -DCOMPILE_COMMANDS=<build>/compile_commands.json -DLIBTRUST=<source>/libtrust
#       -DWORK=<scratch dir> -DMODE=graph|forbidden -P module_graph.cmake
#
# Checks, with the very commands that compile libtrust (compile_commands.json), that each module
# can include the headers of the modules DESIGN.md lets it depend on and no others.
#   graph:     every libtrust source is compiled with its module's view only (never the whole
#              include root); for each module, the preprocessor, run with that module's flags,
#              finds a public and a private header of every allowed module and none of the others
#              (__has_include); no libtrust file includes a path with "..", which would step out
#              of the view.
#   forbidden: the example the rule exists for: a crypto source including a registry header does
#              not compile ("No such file or directory"), while the same file including a core
#              header does.
# The table below is DESIGN.md's graph, kept apart from libtrust/CMakeLists.txt on purpose: a
# change to either one alone fails here.

cmake_minimum_required(VERSION 3.25)

set(ALLOWED_core "")
set(ALLOWED_crypto core)
set(ALLOWED_oci core)
set(ALLOWED_registry core oci)
set(ALLOWED_sig core crypto oci)
set(ALLOWED_verify core crypto sig)
set(ALLOWED_check core crypto oci sig verify)
set(ALLOWED_lazy core)
set(ALLOWED_build_info "")
set(MODULES core crypto oci registry sig verify check lazy build_info)

foreach(var COMPILE_COMMANDS LIBTRUST WORK MODE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "module_graph.cmake: -D${var}=… is required")
  endif()
endforeach()

# The module a libtrust source belongs to, from its path.
function(module_of file out)
  file(RELATIVE_PATH rel ${LIBTRUST}/src ${file})
  if(rel MATCHES "^([^/]+)/")
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
  else()
    set(${out} build_info PARENT_SCOPE)
  endif()
endfunction()

# One compile command per module (its first source), made into a list of arguments that
# preprocesses or compiles another file: no object, no dependency file, no launcher.
file(READ ${COMPILE_COMMANDS} commands)
string(JSON count LENGTH "${commands}")
math(EXPR last "${count} - 1")
set(sources_seen 0)
foreach(i RANGE ${last})
  string(JSON file GET "${commands}" ${i} file)
  if(NOT file MATCHES "^${LIBTRUST}/src/")
    continue()
  endif()
  string(JSON command GET "${commands}" ${i} command)
  math(EXPR sources_seen "${sources_seen} + 1")
  module_of(${file} module)
  if(command MATCHES "-I${LIBTRUST}/(include|src)( |$)")
    message(FATAL_ERROR "${file} is compiled with the whole libtrust include root "
                        "(-I${LIBTRUST}/${CMAKE_MATCH_1}), not its module's view")
  endif()
  if(NOT command MATCHES "/libtrust/modules/${module}( |$)")
    message(FATAL_ERROR "${file} is not compiled with the view of module ${module}")
  endif()
  if(DEFINED COMMAND_${module})
    continue()
  endif()
  separate_arguments(args UNIX_COMMAND "${command}")
  set(kept "")
  set(skip_next FALSE)
  foreach(arg ${args})
    if(skip_next)
      set(skip_next FALSE)
    elseif(arg MATCHES "^(-o|-c|-MT|-MF|-MQ)$")
      set(skip_next TRUE)
    elseif(arg MATCHES "^-M(D|MD)$" OR arg MATCHES "ccache$")
    else()
      list(APPEND kept "${arg}")
    endif()
  endforeach()
  set(COMMAND_${module} "${kept}")
  string(JSON DIRECTORY_${module} GET "${commands}" ${i} directory)
endforeach()
if(sources_seen EQUAL 0)
  message(FATAL_ERROR "${COMPILE_COMMANDS} names no source under ${LIBTRUST}/src")
endif()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

# run(MODULE FILE RESULT OUTPUT FLAGS…): FILE compiled with MODULE's command and FLAGS.
function(run module probe result output)
  if(NOT DEFINED COMMAND_${module})
    message(FATAL_ERROR "no libtrust source of module ${module} in ${COMPILE_COMMANDS}")
  endif()
  execute_process(COMMAND ${COMMAND_${module}} ${ARGN} ${probe}
                  WORKING_DIRECTORY ${DIRECTORY_${module}}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(${result} ${rc} PARENT_SCOPE)
  set(${output} "${out}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "forbidden")
  file(WRITE ${WORK}/crypto_includes_registry.cpp "#include \"libtrust/registry/client.h\"\n")
  run(crypto ${WORK}/crypto_includes_registry.cpp rc out -fsyntax-only)
  if(rc EQUAL 0)
    message(FATAL_ERROR "a crypto source including libtrust/registry/client.h compiled")
  endif()
  if(NOT out MATCHES "libtrust/registry/client.h: No such file or directory")
    message(FATAL_ERROR "a crypto source including a registry header failed, but not because "
                        "the header is out of reach (exit ${rc}):\n${out}")
  endif()
  file(WRITE ${WORK}/crypto_includes_core.cpp "#include \"libtrust/core/error.h\"\n")
  run(crypto ${WORK}/crypto_includes_core.cpp rc out -fsyntax-only)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "a crypto source including libtrust/core/error.h did not compile:\n${out}")
  endif()
  message(STATUS "crypto cannot include libtrust/registry/client.h; it can include core's headers")
  return()
endif()

if(NOT MODE STREQUAL "graph")
  message(FATAL_ERROR "MODE is graph or forbidden, not ${MODE}")
endif()

# No include steps out of a module's view with "..".
file(GLOB_RECURSE files ${LIBTRUST}/src/* ${LIBTRUST}/include/*)
foreach(f ${files})
  file(STRINGS ${f} escapes REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<][^\">]*\\.\\./")
  if(escapes)
    list(GET escapes 0 line)
    message(FATAL_ERROR "${f}: '${line}' steps out of the module's include view")
  endif()
endforeach()

# A representative public and private header of each module (the first in name order).
foreach(m ${MODULES})
  file(GLOB public LIST_DIRECTORIES false RELATIVE ${LIBTRUST}/include
       ${LIBTRUST}/include/libtrust/${m}/*.h)
  file(GLOB private LIST_DIRECTORIES false RELATIVE ${LIBTRUST}/src ${LIBTRUST}/src/${m}/*.h)
  list(SORT public)
  list(SORT private)
  set(HEADERS_${m} "")
  if(public)
    list(GET public 0 h)
    list(APPEND HEADERS_${m} ${h})
  endif()
  if(private)
    list(GET private 0 h)
    list(APPEND HEADERS_${m} ${h})
  endif()
endforeach()
if(NOT HEADERS_core OR NOT HEADERS_registry)
  message(FATAL_ERROR "no headers found under ${LIBTRUST}")
endif()

set(checked 0)
foreach(m ${MODULES})
  set(probe "#if !__has_include(\"libtrust/export.h\")\n#error \"${m} cannot reach libtrust/export.h\"\n#endif\n")
  foreach(d ${MODULES})
    foreach(h ${HEADERS_${d}})
      if(d STREQUAL m OR d IN_LIST ALLOWED_${m})
        string(APPEND probe "#if !__has_include(\"${h}\")\n"
                            "#error \"${m} may include ${d}, but ${h} is out of reach\"\n#endif\n")
      else()
        string(APPEND probe "#if __has_include(\"${h}\")\n"
                            "#error \"${m} must not include ${d}, but ${h} is reachable\"\n#endif\n")
      endif()
      math(EXPR checked "${checked} + 1")
    endforeach()
  endforeach()
  file(WRITE ${WORK}/${m}_reach.cpp "${probe}")
  run(${m} ${WORK}/${m}_reach.cpp rc out -E -o ${WORK}/${m}_reach.i)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "module ${m}'s include view does not match DESIGN.md:\n${out}")
  endif()
endforeach()
message(STATUS "${sources_seen} libtrust sources compiled with their module's view; "
               "${checked} header reachabilities as DESIGN.md says")
