/// \file
/// `fog` entry point: everything lives in runFog; the process's streams are handed to it here
/// and nowhere else.
#include "fog/fog.h"

#include <iostream>
#include <unistd.h>

int main(int argc, char** argv) {
  return flo::fog::runFog(argc, argv, std::cin, std::cout, std::cerr, isatty(STDIN_FILENO) != 0);
}
