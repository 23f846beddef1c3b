# Runs the parse fuzzer for a bounded time on a fresh copy of the seed corpus.
# -DFUZZER=<binary> -DSEEDS=<checked-in corpus> -DWORK=<scratch copy>
# UBSan findings are reported and then ignored unless told to halt; make them fail the run.
set(ENV{UBSAN_OPTIONS} "halt_on_error=1:print_stacktrace=1")
file(REMOVE_RECURSE ${WORK})
file(COPY ${SEEDS}/ DESTINATION ${WORK})
execute_process(
  COMMAND ${FUZZER} ${WORK} -max_total_time=20 -timeout=10 -rss_limit_mb=2048 -max_len=8192
          -print_final_stats=1
  WORKING_DIRECTORY ${WORK}/..
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (exit ${rc}); the reproducer (crash-*, timeout-*, "
                      "oom-*, leak-*) is in ${WORK}/..")
endif()
