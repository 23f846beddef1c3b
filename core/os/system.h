/// \file
/// The operating system's entropy, behind the interface the pure core takes (crypto.h
/// RandomSource). Only the effect layers (core/net, core/store, daemons, the CLI) call this;
/// the pure core, the simulator and the tests get randomness passed in.
#pragma once

#include "core/crypto.h"

namespace flo::core {

/// libsodium's CSPRNG (randombytes_buf: getrandom(2) on Linux).
RandomSource systemRandom();

/// A fresh signing key from the system's secure random source.
inline SigningKey generateSigningKey() {
  return SigningKey::generate(systemRandom());
}

} // namespace flo::core
