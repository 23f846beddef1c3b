/// \file
/// The operating system's entropy (see system.h).
#include "core/os/system.h"

#include <sodium.h>

namespace flo::core {

RandomSource systemRandom() {
  ensureSodium();
  return [](std::uint8_t* p, std::size_t n) { randombytes_buf(p, n); };
}

} // namespace flo::core
