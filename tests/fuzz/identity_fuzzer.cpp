// libFuzzer target for the identity decoders: arbitrary bytes as a key event, as a whole key
// event log (what IDENTITY frames carry) learned by a KeyDirectory, and as a detached signature
// record. Accepted events and logs must re-encode to the same bytes; nothing may crash, and a
// signature record built from fuzzed bytes must never verify.
#include "core/identity.h"
#include "core/signed_file.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  flo::core::Bytes bytes(data, data + size);
  std::string why;
  if (auto event = flo::core::KeyEvent::decode(bytes, &why)) {
    if (event->encode() != bytes) __builtin_trap();
    std::vector<flo::core::KeyEvent> log{*event};
    (void)flo::core::verifyLog(log, &why);
  }
  if (auto log = flo::core::decodeLog(data, size, &why)) {
    if (flo::core::encodeLog(*log) != bytes) __builtin_trap();
    flo::core::KeyDirectory directory;
    auto state = directory.learn(*log, &why);
    // Learning the same log again is a no-op that gives the same state.
    auto again = directory.learn(*log, &why);
    if (bool(state) != bool(again) || (state && state->currentKey != again->currentKey))
      __builtin_trap();
  }
  const flo::core::Bytes content{'x'};
  flo::core::Verification v = flo::core::verifyDetached(content, bytes);
  // Forging a valid Ed25519 signature from fuzzed bytes would be a break of Ed25519 or a bug
  // in the checks; only a well-formed record of a real key can be valid, which the fuzzer cannot
  // build without a secret key.
  if (v.valid && v.did.empty()) __builtin_trap();
  return 0;
}
