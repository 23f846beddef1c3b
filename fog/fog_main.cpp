/// \file
/// `fog` entry point: everything lives in runFog.
#include "fog/fog.h"

#include <iostream>

int main(int argc, char** argv) {
  return flo::fog::runFog(argc, argv, std::cin, std::cout, std::cerr);
}
