/// \file
/// `fog` entry point: everything lives in runFog; the process's streams are handed to it here
/// and nowhere else.
#include "fog/fog.h"

#include <csignal>
#include <iostream>
#include <unistd.h>

int main(int argc, char** argv) {
  // A reader that went away (`fog bench pool | head`) makes a write fail, not the process die:
  // a command that started replica processes must live to stop them.
  std::signal(SIGPIPE, SIG_IGN);
  return flo::fog::runFog(argc, argv, std::cin, std::cout, std::cerr, isatty(STDIN_FILENO) != 0);
}
