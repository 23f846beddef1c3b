/// \file
/// `floc` entry point: everything lives in runFloc.
#include "compiler/driver/floc.h"

#include <iostream>

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  return flo::driver::runFloc(argc, argv, std::cin, std::cout, std::cerr);
}
