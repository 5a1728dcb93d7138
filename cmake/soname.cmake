# sigil_soname(VAR FILE): the ELF SONAME of the shared library FILE ("libcurl.so.4"), the name
# libtrust dlopens it by (src/lazy/). Read with readelf, so it is the name of the very library
# the headers in use belong to.
function(sigil_soname var file)
  if(NOT CMAKE_READELF)
    message(FATAL_ERROR "readelf (binutils) is needed to read the soname of ${file}")
  endif()
  get_filename_component(real "${file}" REALPATH)
  execute_process(COMMAND "${CMAKE_READELF}" -d "${real}" OUTPUT_VARIABLE out
                  RESULT_VARIABLE rc ERROR_QUIET)
  string(REGEX MATCH "Library soname: \\[([^]]+)\\]" found "${out}")
  if(NOT rc EQUAL 0 OR NOT found)
    message(FATAL_ERROR "cannot read the SONAME of ${real} (readelf -d)")
  endif()
  set(${var} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()
