# flo_fuzz_library(NAME SOURCES src... [PUBLIC libs...] [PRIVATE libs...])
# The same sources as a normal library, instrumented for libFuzzer (coverage, ASan, UBSan; the
# fuzz target adds the fuzzer runtime). Does nothing unless FLO_FUZZ.
function(flo_fuzz_library name)
  if(NOT FLO_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${FLO_WARNINGS} -fno-char8_t
                         -fsanitize=fuzzer-no-link,address,undefined)
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
endfunction()
