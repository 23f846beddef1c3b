/// \file
/// libFuzzer target for provenance records: arbitrary bytes are rejected cleanly or decode to a
/// record whose encoding is exactly those bytes (the id and signature are kept as stored, so
/// this holds for records that fail verification too). Every accepted record is then verified,
/// which must not crash, and a record that verifies must keep verifying after a round trip.
#include "core/provenance.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flo::core;
  Bytes bytes(data, data + size);
  std::string error;
  std::optional<ProvenanceRecord> record = ProvenanceRecord::decode(bytes, &error);
  if (!record) {
    if (error.empty()) __builtin_trap(); // every rejection says why
    return 0;
  }
  if (record->encode() != bytes) __builtin_trap();
  std::string detail;
  ProvenanceCheck check = verifyRecord(*record, &detail);
  if (check != ProvenanceCheck::Ok && detail.empty()) __builtin_trap();
  (void)checkName(check);
  for (const auto& parent : record->parents) (void)parseItemId(parent);
  if (check == ProvenanceCheck::Ok) {
    auto again = ProvenanceRecord::decode(record->encode());
    if (!again || verifyRecord(*again) != ProvenanceCheck::Ok) __builtin_trap();
  }
  return 0;
}
