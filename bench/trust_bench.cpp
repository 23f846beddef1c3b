// Trust-layer benchmark (one core): Ed25519 signatures/s and verifications/s, canonical encode +
// decode of a typical provenance record per second, key event log verification (logs per second,
// by length), and provenance lineage verification (items verified per second) on a chain in a
// real SQLite file.
// Usage: flo_trust_bench [--items N] [--db PATH] [--seconds S] [--runs R]
// Each micro-benchmark runs for about S seconds (default 2) and reports operations per second;
// the lineage walk runs R times (default 3) on a freshly reopened store and reports the best.
#include "core/crypto.h"
#include "core/identity.h"
#include "core/os/system.h"
#include "core/provenance.h"
#include "core/store/provenance_store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace flo::core;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Runs `op` in batches until `seconds` have passed; returns operations per second.
template <typename Op> double rate(double seconds, Op op) {
  std::size_t done = 0;
  auto start = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 256; ++i) op();
    done += 256;
    elapsed = secondsSince(start);
  } while (elapsed < seconds);
  return double(done) / elapsed;
}

volatile std::size_t sink = 0; // keeps results alive

} // namespace

int main(int argc, char** argv) {
  std::size_t items = 10'000;
  std::string db = "/tmp/flo_trust_bench.db";
  double seconds = 2;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--items") == 0)
      items = std::strtoull(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--db") == 0)
      db = argv[i + 1];
    else if (std::strcmp(argv[i], "--seconds") == 0)
      seconds = std::atof(argv[i + 1]);
    else if (std::strcmp(argv[i], "--runs") == 0)
      runs = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: flo_trust_bench [--items N] [--db PATH] [--seconds S] "
                           "[--runs R]\n");
      return 2;
    }
  }
  if (items < 1 || runs < 1) return 2;

  SigningKey key = generateSigningKey();
  ProvenanceRecord source = makeProvenanceRecord(key, ProvenanceRecord::Event::Create, {},
                                                 Bytes(1024, 7), "did:key:job-ingest", 1);
  // A typical record: one parent, a job name, the producer's did:key.
  ProvenanceRecord typical =
      makeProvenanceRecord(key, ProvenanceRecord::Event::Modify, {source.itemId}, Bytes(1024, 8),
                           "camera-pipeline/resize", 1'764'000'000'000'000);
  Bytes message = typical.signedBytes();
  Bytes encoded = typical.encode();
  std::printf("typical record: %zu bytes signed, %zu bytes encoded\n", message.size(),
              encoded.size());

  double signs = rate(seconds, [&] { sink = sink + key.sign(message)[0]; });
  Signature sig = key.sign(message);
  double verifies =
      rate(seconds, [&] { sink = sink + verifySignature(key.publicKey(), sig, message); });
  double codec = rate(seconds, [&] {
    Bytes b = typical.encode();
    auto back = ProvenanceRecord::decode(b);
    sink = sink + back->parents.size();
  });
  double hashes = rate(seconds, [&] { sink = sink + hash(encoded)[0]; });
  double records =
      rate(seconds, [&] { sink = sink + (verifyRecord(typical) == ProvenanceCheck::Ok); });
  std::printf("Ed25519 sign (%zu-byte message):      %10.0f /s\n", message.size(), signs);
  std::printf("Ed25519 verify:                        %10.0f /s\n", verifies);
  std::printf("record encode + decode:                %10.0f /s\n", codec);
  std::printf("BLAKE2b-256 of an encoded record:      %10.0f /s\n", hashes);
  std::printf("verifyRecord (parse DID, id, sig):     %10.0f /s\n", records);

  // Key event logs of 0, 3 and 15 rotations: what a peer's first handshake costs to check.
  for (std::size_t rotations : {0u, 3u, 15u}) {
    std::vector<SigningKey> keys;
    for (std::size_t i = 0; i < rotations + 2; ++i) keys.push_back(generateSigningKey());
    std::vector<KeyEvent> log{makeInception(keys[0], keys[1].publicKey())};
    for (std::size_t i = 1; i <= rotations; ++i)
      log.push_back(makeRotation(log.back(), keys[i], keys[i + 1].publicKey()));
    Bytes bytes = encodeLog(log);
    double verified = rate(seconds / 2, [&] { sink = sink + verifyLog(log)->sequence; });
    double decoded = rate(seconds / 2, [&] {
      auto back = decodeLog(bytes.data(), bytes.size());
      sink = sink + back->size();
    });
    std::printf(
        "key event log, %2zu rotation(s), %5zu bytes: verifyLog %8.0f /s, decode %8.0f /s\n",
        rotations, bytes.size(), verified, decoded);
  }

  // A chain: one create and items - 1 modifies, each the child of the one before.
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  std::vector<ProvenanceRecord> chain;
  chain.reserve(items);
  auto start = Clock::now();
  chain.push_back(source);
  for (std::size_t i = 1; i < items; ++i)
    chain.push_back(makeProvenanceRecord(key, ProvenanceRecord::Event::Modify,
                                         {chain.back().itemId}, hash(std::to_string(i)),
                                         "camera-pipeline/resize", 1 + i));
  double makeSeconds = secondsSince(start);
  std::string error;
  {
    auto store = ProvenanceStore::open(db, &error);
    if (!store) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
    start = Clock::now();
    if (!store->addAll(chain, &error)) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
    double addSeconds = secondsSince(start);
    std::printf("make + seal %zu records:               %10.0f /s\n", items, items / makeSeconds);
    std::printf("add %zu records (one transaction):     %10.0f /s (verify + insert)\n", items,
                items / addSeconds);
  }
  double best = 1e300;
  for (int r = 0; r < runs; ++r) {
    auto store = ProvenanceStore::open(db, &error);
    if (!store) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
    start = Clock::now();
    LineageReport report = store->lineage(chain.back().itemId);
    double s = secondsSince(start);
    if (!report.verified() || report.visited.size() != items) {
      std::fprintf(stderr, "lineage did not verify %zu items\n", items);
      return 1;
    }
    best = std::min(best, s);
  }
  std::printf("lineage of a %zu-item chain (best of %d): %.3f s, %10.0f items/s\n", items, runs,
              best, items / best);
  std::printf("database: %s (%ju bytes)\n", db.c_str(),
              static_cast<std::uintmax_t>(std::filesystem::file_size(db)));
  return 0;
}
