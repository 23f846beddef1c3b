/// \file
/// libFuzzer target for the pool's decoders and its consensus core: arbitrary bytes go through
/// decodeMessage, Tx::decode and Genesis::decode (what decodes must re-encode to the same bytes
/// for transactions, and to a message that decodes to the same value), the records a replica
/// reads back from its disk (pool/store/records.h) and a ledger snapshot (read from disk, and
/// from a peer in state transfer), each of which must re-encode to bytes that decode to the same
/// encoding, and every message that
/// decodes is handed to a replica of a four-replica pool as if a peer (and a client) had sent
/// it. Nothing may crash, trip an invariant (FLO_CHECK aborts) or make the core send anything
/// it should not: a replica that received garbage must still be at genesis, its safety state
/// untouched unless a valid certificate said otherwise.
#include "core/check.h"
#include "core/identity.h"
#include "pool/core/replica.h"
#include "pool/sim/memory_store.h"
#include "pool/store/records.h"

#include <cstddef>
#include <cstdint>

namespace {

using namespace flo;
using namespace flo::pool;

core::SigningKey keyOf(std::uint8_t n) {
  core::Seed s;
  std::fill(s.data(), s.data() + s.size(), n);
  return core::SigningKey::fromSeed(s);
}

const Genesis& genesis() {
  static const Genesis g = [] {
    Genesis x;
    x.name = "fuzz";
    x.timeMs = 1'700'000'000'000;
    for (std::uint8_t i = 0; i < 4; ++i)
      x.replicas.push_back({core::didKey(keyOf(i + 1).publicKey()), keyOf(i + 1).publicKey(),
                            "127.0.0.1", std::uint16_t(7000 + i)});
    x.accounts.push_back({"a", keyOf(9).publicKey(), 1000});
    return x;
  }();
  return g;
}

/// A decoder of `bytes` and the encoder back: what decodes must re-encode to bytes that decode
/// again and re-encode to the same bytes (one value, one encoding).
template <typename Decode, typename Encode>
void roundTrip(const core::Bytes& bytes, Decode decode, Encode encode) {
  auto value = decode(bytes);
  if (!value) return;
  core::Bytes once = encode(*value);
  auto again = decode(once);
  if (!again || encode(*again) != once) __builtin_trap();
}

void storeRecords(const core::Bytes& b) {
  constexpr std::size_t kMaxTxs = 512;
  roundTrip(
      b, [](const core::Bytes& x) { return decodeCommittedBlock(x, kMaxTxs); },
      [](const CommittedBlock& v) { return encodeCommittedBlock(v); });
  roundTrip(
      b, [](const core::Bytes& x) { return decodeProposal(x, kMaxTxs); },
      [](const Proposal& v) { return encodeProposal(v); });
  roundTrip(
      b, [](const core::Bytes& x) { return decodeHeader(x); },
      [](const BlockHeader& v) { return encodeHeader(v); });
  roundTrip(
      b, [](const core::Bytes& x) { return decodeQc(x); },
      [](const QuorumCert& v) { return encodeQc(v); });
  roundTrip(
      b, [](const core::Bytes& x) { return decodeResults(x); },
      [](const std::vector<TxResult>& v) { return encodeResults(v); });
  roundTrip(
      b, [](const core::Bytes& x) { return decodeSafety(x); },
      [](const SafetyState& v) { return encodeSafety(v); });
  roundTrip(
      b, [](const core::Bytes& x) { return decodeSignatures(x); },
      [](const std::vector<SignedBy>& v) { return encodeSignatures(v); });
  roundTrip(
      b, [](const core::Bytes& x) { return Ledger::decode(genesis(), x); },
      [](const Ledger& v) { return v.encode(); });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string error;
  storeRecords(core::Bytes(data, data + size));
  if (auto tx = Tx::decode(data, size, &error)) {
    core::Bytes again = tx->encode();
    if (again != core::Bytes(data, data + size)) __builtin_trap(); // one value, one encoding
    (void)tx->verify();
  }
  (void)Genesis::decode(core::Bytes(data, data + size), &error);
  auto message = decodeMessage(data, size, 512, &error);
  if (!message) return 0;
  core::Bytes encoded = encodeMessage(*message);
  auto back = decodeMessage(encoded.data(), encoded.size(), 512, &error);
  if (!back || encodeMessage(*back) != encoded) __builtin_trap();

  static MemoryStore store(genesis());
  Time now = Time{} + std::chrono::hours(1);
  auto wall = [](Time) { return std::uint64_t(1'700'000'000'000); };
  Replica replica(genesis(), 1, keyOf(2), store, wall, now);
  replica.onReplicaMessage(0, *message, now);
  replica.onReplicaMessage(3, *message, now + std::chrono::milliseconds(1));
  replica.onClientMessage(7, *message, now + std::chrono::milliseconds(2));
  replica.onTimer(now + std::chrono::seconds(5));
  (void)replica.takeEffects();
  // Garbage signs nothing into being: without a valid certificate nothing commits.
  if (replica.committedHeight() != 0) __builtin_trap();
  return 0;
}
