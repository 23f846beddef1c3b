/// \file
/// Consensus data: encodings, signed statements and certificate checks (see consensus.h).
#include "pool/wire/consensus.h"

#include <algorithm>
#include <set>

namespace flo::pool {

using core::toBytes;

namespace {

Bytes statement(std::string_view kind, Value::Map body) {
  return core::encodeRecord({std::string(kind), core::kEncodingVersion, std::move(body)});
}

/// Signers sorted and distinct: a certificate lists each voter once.
template <typename T, typename By> bool sortedDistinct(const std::vector<T>& v, By by) {
  for (std::size_t i = 1; i < v.size(); ++i)
    if (!(by(v[i - 1]) < by(v[i]))) return false;
  return true;
}

} // namespace

Value signedByValue(const SignedBy& s) {
  return Value::Array{Value(std::uint64_t(s.replica)), Value(toBytes(s.signature))};
}

bool readSignedBy(const Value& v, SignedBy& out) {
  if (!v.isArray() || v.asArray().size() != 2) return false;
  const auto& a = v.asArray();
  if (!a[0].isUnsigned() || a[0].asUnsigned() > 0xffff || !a[1].isBytes() ||
      a[1].asBytes().size() != 64)
    return false;
  out.replica = ReplicaIndex(a[0].asUnsigned());
  std::copy(a[1].asBytes().begin(), a[1].asBytes().end(), out.signature.begin());
  return true;
}

// ---- headers ----------------------------------------------------------------------------------

Value::Map BlockHeader::toMap() const {
  return {{"chain", toBytes(chain)},
          {"height", height},
          {"round", round},
          {"view", view},
          {"parent", toBytes(parent)},
          {"proposer", std::uint64_t(proposer)},
          {"time_ms", timeMs},
          {"tx_root", toBytes(txRoot)},
          {"executed_height", executedHeight},
          {"executed_root", toBytes(executedRoot)}};
}

BlockHeader BlockHeader::read(Fields& f) {
  f.only({"chain", "height", "round", "view", "parent", "proposer", "time_ms", "tx_root",
          "executed_height", "executed_root"});
  BlockHeader h;
  h.chain = f.fixed<32>("chain");
  h.height = f.u64("height");
  h.round = f.u64("round");
  h.view = f.u64("view");
  h.parent = f.fixed<32>("parent");
  h.proposer = ReplicaIndex(f.u64Max("proposer", 0xffff));
  h.timeMs = f.u64("time_ms");
  h.txRoot = f.fixed<32>("tx_root");
  h.executedHeight = f.u64("executed_height");
  h.executedRoot = f.fixed<32>("executed_root");
  return h;
}

Digest BlockHeader::id() const {
  return core::hash(statement("block", toMap()));
}

BlockHeader genesisHeader(const Genesis& genesis, const Digest& genesisStateRoot) {
  BlockHeader h;
  h.chain = genesis.chainId();
  h.timeMs = genesis.timeMs;
  h.txRoot = txRootOf({});
  h.executedRoot = genesisStateRoot;
  return h;
}

Digest txRootOf(const std::vector<Digest>& ids) {
  Bytes all;
  all.reserve(ids.size() * 32);
  for (const auto& id : ids) all.insert(all.end(), id.begin(), id.end());
  return core::hash(statement("tx-root", {{"ids", std::move(all)}}));
}

// ---- certificates -----------------------------------------------------------------------------

Value::Map QuorumCert::toMap() const {
  Value::Array vs;
  for (const auto& v : votes) vs.push_back(signedByValue(v));
  return {
      {"block", toBytes(block)}, {"round", round}, {"height", height}, {"votes", std::move(vs)}};
}

QuorumCert QuorumCert::read(Fields& f) {
  f.only({"block", "round", "height", "votes"});
  QuorumCert qc;
  qc.block = f.fixed<32>("block");
  qc.round = f.u64("round");
  qc.height = f.u64("height");
  if (const auto* vs = f.array("votes", 1024)) {
    for (const auto& v : *vs) {
      SignedBy s;
      if (!readSignedBy(v, s)) return f.fail("votes: expected [replica, signature]"), qc;
      qc.votes.push_back(s);
    }
  }
  return qc;
}

Value::Map Vote::toMap() const {
  return {
      {"block", toBytes(block)}, {"round", round}, {"height", height}, {"by", signedByValue(by)}};
}

Vote Vote::read(Fields& f) {
  f.only({"block", "round", "height", "by"});
  Vote v;
  v.block = f.fixed<32>("block");
  v.round = f.u64("round");
  v.height = f.u64("height");
  const Value::Array* by = f.array("by", 2);
  if (by && !readSignedBy(Value(*by), v.by)) f.fail("by: expected [replica, signature]");
  return v;
}

Value::Map Timeout::toMap() const {
  Value::Map m{
      {"round", round}, {"view", view}, {"high_qc", highQc.toMap()}, {"by", signedByValue(by)}};
  if (lastTc) m.emplace("last_tc", lastTc->toMap());
  return m;
}

bool Timeout::operator==(const Timeout& o) const {
  return round == o.round && view == o.view && highQc == o.highQc && by == o.by &&
         (lastTc ? o.lastTc && *lastTc == *o.lastTc : !o.lastTc);
}

Timeout Timeout::read(Fields& f) {
  f.only({"round", "view", "high_qc", "by", "last_tc"});
  Timeout t;
  t.round = f.u64("round");
  t.view = f.u64("view");
  if (const auto* qc = f.map("high_qc")) {
    Fields q(*qc);
    t.highQc = QuorumCert::read(q);
    if (!q.ok()) f.fail("high_qc: " + q.error());
  }
  const Value::Array* by = f.array("by", 2);
  if (by && !readSignedBy(Value(*by), t.by)) f.fail("by: expected [replica, signature]");
  if (f.has("last_tc")) {
    if (const auto* m = f.map("last_tc")) {
      Fields tf(*m);
      auto tc = std::make_shared<TimeoutCert>(TimeoutCert::read(tf));
      if (!tf.ok()) f.fail("last_tc: " + tf.error());
      t.lastTc = std::move(tc);
    }
  }
  return t;
}

std::uint64_t TimeoutCert::view(std::size_t faults) const {
  std::vector<std::uint64_t> views;
  for (const auto& e : entries) views.push_back(e.view);
  std::sort(views.begin(), views.end(), std::greater<>());
  return views.empty() ? 0 : views[std::min(faults, views.size() - 1)];
}

std::uint64_t TimeoutCert::maxHighQcRound() const {
  std::uint64_t m = 0;
  for (const auto& e : entries) m = std::max(m, e.highQcRound);
  return m;
}

Value::Map TimeoutCert::toMap() const {
  Value::Array es;
  for (const auto& e : entries)
    es.emplace_back(Value::Array{signedByValue(e.by), Value(e.highQcRound), Value(e.view)});
  return {{"round", round}, {"entries", std::move(es)}};
}

TimeoutCert TimeoutCert::read(Fields& f) {
  f.only({"round", "entries"});
  TimeoutCert tc;
  tc.round = f.u64("round");
  if (const auto* es = f.array("entries", 1024)) {
    for (const auto& e : *es) {
      Entry entry;
      if (!e.isArray() || e.asArray().size() != 3 || !readSignedBy(e.asArray()[0], entry.by) ||
          !e.asArray()[1].isUnsigned() || !e.asArray()[2].isUnsigned())
        return f.fail("entries: expected [[replica, signature], high QC round, view]"), tc;
      entry.highQcRound = e.asArray()[1].asUnsigned();
      entry.view = e.asArray()[2].asUnsigned();
      tc.entries.push_back(entry);
    }
  }
  return tc;
}

Value::Map Proposal::toMap() const {
  Value::Array ts;
  for (const auto& t : txs) ts.emplace_back(t);
  Value::Map m{{"header", header.toMap()},
               {"txs", std::move(ts)},
               {"justify", justify.toMap()},
               {"sig", toBytes(signature)}};
  if (tc) m.emplace("tc", tc->toMap());
  return m;
}

Proposal Proposal::read(Fields& f, std::size_t maxTxs) {
  f.only({"header", "txs", "justify", "tc", "sig"});
  Proposal p;
  if (const auto* h = f.map("header")) {
    Fields hf(*h);
    p.header = BlockHeader::read(hf);
    if (!hf.ok()) f.fail("header: " + hf.error());
  }
  if (const auto* ts = f.array("txs", maxTxs)) {
    for (const auto& t : *ts) {
      if (!t.isBytes() || t.asBytes().size() > Tx::kMaxEncodedDeploy)
        return f.fail("txs: expected encoded transactions"), p;
      p.txs.push_back(t.asBytes());
    }
  }
  if (const auto* j = f.map("justify")) {
    Fields jf(*j);
    p.justify = QuorumCert::read(jf);
    if (!jf.ok()) f.fail("justify: " + jf.error());
  }
  p.signature = f.fixed<64>("sig");
  if (f.has("tc")) { // only when the previous round timed out
    if (const auto* t = f.map("tc")) {
      Fields tf(*t);
      p.tc = TimeoutCert::read(tf);
      if (!tf.ok()) f.fail("tc: " + tf.error());
    }
  }
  return p;
}

// ---- signed statements ------------------------------------------------------------------------

Bytes voteMessage(const Digest& chain, const Digest& block, std::uint64_t round,
                  std::uint64_t height) {
  return statement(
      "vote",
      {{"chain", toBytes(chain)}, {"block", toBytes(block)}, {"round", round}, {"height", height}});
}

Bytes checkpointMessage(const Digest& chain, std::uint64_t height, const Digest& stateRoot) {
  return statement(
      "checkpoint",
      {{"chain", toBytes(chain)}, {"height", height}, {"state_root", toBytes(stateRoot)}});
}

Bytes timeoutMessage(const Digest& chain, std::uint64_t round, std::uint64_t highQcRound,
                     std::uint64_t view) {
  return statement("timeout", {{"chain", toBytes(chain)},
                               {"round", round},
                               {"high_qc_round", highQcRound},
                               {"view", view}});
}

Bytes proposalMessage(const Digest& chain, const Digest& block) {
  return statement("proposal", {{"chain", toBytes(chain)}, {"block", toBytes(block)}});
}

// ---- the committee ----------------------------------------------------------------------------

Committee::Committee(const Genesis& genesis)
    : chain_(genesis.chainId()), quorum_(genesis.quorum()) {
  for (const auto& r : genesis.replicas) keys_.push_back(r.key);
}

bool Committee::verify(const QuorumCert& qc, std::string* why,
                       const std::function<bool(const SignedBy&)>& verified) const {
  auto fail = [&](const char* w) {
    if (why) *why = w;
    return false;
  };
  if (qc.isGenesis()) return qc.block == genesisBlock_ || fail("a certificate without votes");
  if (qc.votes.size() < quorum_) return fail("fewer votes than a quorum");
  if (!sortedDistinct(qc.votes, [](const SignedBy& s) { return s.replica; }))
    return fail("voters not sorted and distinct");
  Bytes message = voteMessage(chain_, qc.block, qc.round, qc.height);
  for (const auto& v : qc.votes) {
    if (v.replica >= keys_.size()) return fail("a voter outside the committee");
    if (verified && verified(v)) continue;
    ++checks_;
    if (!core::verifySignature(keys_[v.replica], v.signature, message))
      return fail("a vote signature does not verify");
  }
  return true;
}

bool Committee::verifyCheckpoint(std::uint64_t height, const Digest& stateRoot,
                                 const std::vector<SignedBy>& signatures, std::string* why) const {
  auto fail = [&](std::string w) {
    if (why) *why = std::move(w);
    return false;
  };
  std::set<ReplicaIndex> signers;
  Bytes message = checkpointMessage(chain_, height, stateRoot);
  for (const SignedBy& s : signatures) {
    if (s.replica >= keys_.size() || !signers.insert(s.replica).second)
      return fail("a signer twice or outside the committee");
    ++checks_;
    if (!core::verifySignature(keys_[s.replica], s.signature, message))
      return fail("the signature of replica " + std::to_string(s.replica) + " does not verify");
  }
  if (signers.size() < quorum_) return fail("fewer signatures than a quorum");
  return true;
}

bool Committee::verify(const TimeoutCert& tc, std::string* why) const {
  auto fail = [&](const char* w) {
    if (why) *why = w;
    return false;
  };
  if (tc.entries.size() < quorum_) return fail("fewer timeouts than a quorum");
  if (!sortedDistinct(tc.entries, [](const TimeoutCert::Entry& e) { return e.by.replica; }))
    return fail("senders not sorted and distinct");
  for (const auto& e : tc.entries) {
    if (e.by.replica >= keys_.size()) return fail("a sender outside the committee");
    if (e.highQcRound >= tc.round) return fail("a high QC from the timed-out round or later");
    ++checks_;
    if (!core::verifySignature(keys_[e.by.replica], e.by.signature,
                               timeoutMessage(chain_, tc.round, e.highQcRound, e.view)))
      return fail("a timeout signature does not verify");
  }
  return true;
}

bool Committee::verify(const Vote& vote) const {
  if (vote.by.replica >= keys_.size()) return false;
  ++checks_;
  return core::verifySignature(keys_[vote.by.replica], vote.by.signature,
                               voteMessage(chain_, vote.block, vote.round, vote.height));
}

bool Committee::verify(const Timeout& t) const {
  if (t.by.replica >= keys_.size() || t.highQc.round >= t.round) return false;
  ++checks_;
  return core::verifySignature(keys_[t.by.replica], t.by.signature,
                               timeoutMessage(chain_, t.round, t.highQc.round, t.view));
}

bool Committee::verifyProposal(const Proposal& p) const {
  if (p.header.proposer >= keys_.size()) return false;
  ++checks_;
  return core::verifySignature(keys_[p.header.proposer], p.signature,
                               proposalMessage(chain_, p.header.id()));
}

} // namespace flo::pool
