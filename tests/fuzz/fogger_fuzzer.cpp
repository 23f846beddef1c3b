/// \file
/// libFuzzer target for the deployer-fogger messages (fogger/wire.h): arbitrary bytes are
/// rejected with a reason or decode to a message whose encoding is exactly those bytes; a
/// RunOutput that decodes is checked as a deployer checks one (fogger/chain.h), which must not
/// crash and, for a fogger key that signed nothing here, must refuse it with a reason.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fogger/chain.h"
#include "fogger/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flo;
  core::Bytes bytes(data, data + size);
  std::string error;
  auto m = fogger::decode(bytes, &error);
  if (!m) {
    if (error.empty()) __builtin_trap(); // every rejection says why
    return 0;
  }
  if (fogger::encode(*m) != bytes) __builtin_trap();
  if (const auto* out = std::get_if<fogger::RunOutput>(&*m)) {
    pool::AccountId nobody{};
    nobody[0] = 1;
    std::vector<core::ProvenanceRecord> records;
    std::string why;
    if (fogger::checkOutput(*out, nobody, core::Digest{}, records, why)) __builtin_trap();
    if (why.empty()) __builtin_trap();
  }
  return 0;
}
