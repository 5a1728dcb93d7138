# cmake -DNM=nm -DLIBRARY=libtrust.so -DARCHIVE=liblibtrust_static.a -DCONTROL=<bin>/sigil
#       -P library_output.cmake
#
# The library writes nothing to stderr or stdout (warnings and progress go through the
# TransportOptions callbacks): neither libtrust.so (its dynamic symbols) nor any object of the
# static library sigil-verify is linked with (their undefined symbols) refers to the standard
# streams or to a function that prints to them. CONTROL, a program that does print (the sigil
# CLI), must be caught by the same check, so the check cannot pass by reading nothing.
# Not covered: write(2) on descriptors 1 and 2, which nm cannot tell from writes to files.

cmake_minimum_required(VERSION 3.25)

set(FORBIDDEN
  stdout stderr _IO_2_1_stdout_ _IO_2_1_stderr_                   # C streams
  _ZSt4cout _ZSt4cerr _ZSt4clog _ZSt5wcout _ZSt5wcerr _ZSt5wclog  # std::cout, cerr, clog, w…
  printf vprintf __printf_chk __vprintf_chk puts putchar putchar_unlocked
  dprintf vdprintf __dprintf_chk __vdprintf_chk                   # to a file descriptor
  perror psignal psiginfo herror error error_at_line
  warn warnx vwarn vwarnx err errx verr verrx)

foreach(var NM LIBRARY ARCHIVE CONTROL)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "library_output.cmake: -D${var}=… is required")
  endif()
endforeach()

# found(VAR nm-arguments…): the forbidden names among the symbols nm prints.
function(found var)
  execute_process(COMMAND ${NM} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR out STREQUAL "")
    message(FATAL_ERROR "${NM} ${ARGN} printed no symbols (exit ${rc}): ${err}")
  endif()
  string(REGEX MATCHALL "[^\n]+" lines "${out}")
  set(hits "")
  set(object "")
  foreach(line ${lines})
    if(line MATCHES "^(.+):$")
      # An archive member ("keys.cpp.o:"), whose symbols follow.
      set(object " (${CMAKE_MATCH_1})")
    elseif(line MATCHES "([^ ]+)$")
      # "<address> <type> <name>[@version]" or "<type> <name>" (undefined).
      string(REGEX REPLACE "@.*" "" name "${CMAKE_MATCH_1}")
      if(name IN_LIST FORBIDDEN)
        list(APPEND hits "${name}${object}")
      endif()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES hits)
  set(${var} "${hits}" PARENT_SCOPE)
endfunction()

found(control -D ${CONTROL})
if(NOT control)
  message(FATAL_ERROR "the check finds no stream symbol in ${CONTROL}, which prints: "
                      "it would find none anywhere")
endif()
found(shared -D ${LIBRARY})
if(shared)
  message(FATAL_ERROR "${LIBRARY} refers to ${shared}: the library must not print "
                      "(report through TransportOptions::warn / progress)")
endif()
found(static --undefined-only ${ARCHIVE})
if(static)
  message(FATAL_ERROR "${ARCHIVE} refers to ${static}: the library must not print "
                      "(report through TransportOptions::warn / progress)")
endif()
message(STATUS "neither ${LIBRARY} nor ${ARCHIVE} refers to the standard streams "
               "(the control ${CONTROL} does: ${control})")
