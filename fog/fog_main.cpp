/// \file
/// `fog` entry point: everything lives in runFog.
#include <iostream>

#include "fog/fog.h"

int main(int argc, char** argv) {
  return flo::fog::runFog(argc, argv, std::cin, std::cout, std::cerr);
}
