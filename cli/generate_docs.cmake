# Runs a built program to write its man page and completion scripts (cli/CMakeLists.txt):
#   cmake -DPROGRAM=/path/to/sigil -DNAME=sigil -DOUT_DIR=build/share -P generate_docs.cmake
# The program generates them from its own command tree (`NAME man`, `NAME completion bash|zsh`).
foreach(pair "man|man/man1/${NAME}.1" "completion bash|bash-completion/completions/${NAME}"
             "completion zsh|zsh/vendor-completions/_${NAME}")
  string(REPLACE "|" ";" parts "${pair}")
  list(GET parts 0 args)
  list(GET parts 1 file)
  separate_arguments(args)
  get_filename_component(dir "${OUT_DIR}/${file}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  execute_process(COMMAND "${PROGRAM}" ${args} OUTPUT_FILE "${OUT_DIR}/${file}.tmp"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NAME} ${args} failed (${rc})")
  endif()
  file(RENAME "${OUT_DIR}/${file}.tmp" "${OUT_DIR}/${file}")
endforeach()
