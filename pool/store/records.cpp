/// \file
/// The store's record encodings (see records.h).
#include "pool/store/records.h"

#include <algorithm>

namespace flo::pool {

using core::toBytes;

namespace {

constexpr std::size_t kMaxResultError = 4096;
constexpr std::size_t kMaxSignatures = 1024;

Bytes record(std::string_view type, Value::Map body) {
  return core::encodeRecord({std::string(type), core::kEncodingVersion, std::move(body)});
}

/// Decodes the record of `type` and reads its body with `read(Fields&) -> T`; nullopt with
/// "type: why" when the envelope or any field is wrong.
template <typename T, typename Read>
std::optional<T> readRecord(const Bytes& data, std::string_view type, std::string* error,
                            Read read) {
  std::string why;
  auto r = core::decodeRecord(data, type, &why);
  if (!r) {
    if (error) *error = std::string(type) + ": " + why;
    return std::nullopt;
  }
  Fields f(r->body);
  T out = read(f);
  if (!f.ok()) {
    if (error) *error = std::string(type) + ": " + f.error();
    return std::nullopt;
  }
  return out;
}

/// A record whose body is one wire part under `key` (a proposal, a header, a certificate).
template <typename T, typename Read>
std::optional<T> readPart(const Bytes& data, std::string_view type, std::string_view key,
                          std::string* error, Read read) {
  return readRecord<T>(data, type, error, [&](Fields& f) {
    f.only({key});
    T out{};
    if (const Value::Map* m = f.map(key)) {
      Fields pf(*m);
      out = read(pf);
      if (!pf.ok()) f.fail(std::string(key) + ": " + pf.error());
    }
    return out;
  });
}

} // namespace

Bytes encodeCommittedBlock(const CommittedBlock& block) {
  return record("store-block", {{"block", block.toMap()}});
}
Bytes encodeProposal(const Proposal& proposal) {
  return record("store-proposal", {{"proposal", proposal.toMap()}});
}
Bytes encodeHeader(const BlockHeader& header) {
  return record("store-header", {{"header", header.toMap()}});
}
Bytes encodeQc(const QuorumCert& qc) {
  return record("store-qc", {{"qc", qc.toMap()}});
}

Bytes encodeResults(const std::vector<TxResult>& results) {
  Value::Array rs;
  for (const auto& r : results) rs.emplace_back(Value::Array{Value(r.applied), Value(r.error)});
  return record("store-results", {{"results", std::move(rs)}});
}

Bytes encodeSafety(const SafetyState& safety) {
  return record("store-safety",
                {{"last_voted_round", safety.lastVotedRound}, {"high_qc", safety.highQc.toMap()}});
}

Bytes encodeSignatures(const std::vector<SignedBy>& signatures) {
  Value::Array ss;
  for (const auto& s : signatures) ss.push_back(signedByValue(s));
  return record("store-signatures", {{"signatures", std::move(ss)}});
}

std::optional<CommittedBlock> decodeCommittedBlock(const Bytes& data, std::size_t maxTxs,
                                                   std::string* error) {
  return readPart<CommittedBlock>(data, "store-block", "block", error,
                                  [&](Fields& f) { return CommittedBlock::read(f, maxTxs); });
}

std::optional<Proposal> decodeProposal(const Bytes& data, std::size_t maxTxs, std::string* error) {
  return readPart<Proposal>(data, "store-proposal", "proposal", error,
                            [&](Fields& f) { return Proposal::read(f, maxTxs); });
}

std::optional<BlockHeader> decodeHeader(const Bytes& data, std::string* error) {
  return readPart<BlockHeader>(data, "store-header", "header", error, BlockHeader::read);
}

std::optional<QuorumCert> decodeQc(const Bytes& data, std::string* error) {
  return readPart<QuorumCert>(data, "store-qc", "qc", error, QuorumCert::read);
}

std::optional<std::vector<TxResult>> decodeResults(const Bytes& data, std::string* error) {
  return readRecord<std::vector<TxResult>>(data, "store-results", error, [](Fields& f) {
    f.only({"results"});
    std::vector<TxResult> out;
    const Value::Array* rs = f.array("results", 1u << 20);
    if (!rs) return out;
    for (const auto& r : *rs) {
      if (!r.isArray() || r.asArray().size() != 2 || !r.asArray()[0].isBool() ||
          !r.asArray()[1].isText() || r.asArray()[1].asText().size() > kMaxResultError) {
        f.fail("results: expected [applied, error]");
        return out;
      }
      out.push_back({r.asArray()[0].asBool(), r.asArray()[1].asText()});
    }
    return out;
  });
}

std::optional<SafetyState> decodeSafety(const Bytes& data, std::string* error) {
  return readRecord<SafetyState>(data, "store-safety", error, [](Fields& f) {
    f.only({"last_voted_round", "high_qc"});
    SafetyState s;
    s.lastVotedRound = f.u64("last_voted_round");
    if (const Value::Map* m = f.map("high_qc")) {
      Fields qf(*m);
      s.highQc = QuorumCert::read(qf);
      if (!qf.ok()) f.fail("high_qc: " + qf.error());
    }
    return s;
  });
}

std::optional<std::vector<SignedBy>> decodeSignatures(const Bytes& data, std::string* error) {
  return readRecord<std::vector<SignedBy>>(data, "store-signatures", error, [](Fields& f) {
    f.only({"signatures"});
    std::vector<SignedBy> out;
    const Value::Array* ss = f.array("signatures", kMaxSignatures);
    if (!ss) return out;
    for (const auto& s : *ss) {
      SignedBy by;
      if (!readSignedBy(s, by)) {
        f.fail("signatures: expected [replica, signature]");
        return out;
      }
      out.push_back(by);
    }
    return out;
  });
}

std::optional<Digest> digestFrom(const Bytes& data) {
  if (data.size() != Digest().size()) return std::nullopt;
  Digest d{};
  std::copy(data.begin(), data.end(), d.begin());
  return d;
}

} // namespace flo::pool
