/// \file
/// The pool's messages: one body writer and one reader per kind (see message.h).
#include "pool/wire/message.h"

#include <algorithm>

namespace flo::pool {

using core::toBytes;

namespace {

constexpr std::size_t kMaxSyncBlocks = 1024;
// Every client decodes arrays of this many items (decodeMessage with maxTxs 0): an answer fits.
static_assert(CommitAnswer::kMaxTxs <= kMaxSyncBlocks);

template <typename T> T readPart(Fields& f, std::string_view key) {
  T out;
  if (const Value::Map* m = f.map(key)) {
    Fields pf(*m);
    out = T::read(pf);
    if (!pf.ok()) f.fail(std::string(key) + ": " + pf.error());
  }
  return out;
}

/// The TxStatus an answer stands for, for one of its transactions.
TxStatus statusIn(const CommitAnswer& a, const Digest& tx, bool applied, std::string error = {}) {
  TxStatus s;
  s.tx = tx;
  s.state = TxStatus::State::Committed;
  s.applied = applied;
  s.height = a.height;
  s.stateRoot = a.stateRoot;
  s.error = std::move(error);
  return s;
}

// ---- bodies -----------------------------------------------------------------------------------

Value::Map body(const ProposalMsg& m) {
  return {{"proposal", m.proposal.toMap()}};
}
Value::Map body(const VoteMsg& m) {
  return {{"vote", m.vote.toMap()}};
}
Value::Map body(const TimeoutMsg& m) {
  return {{"timeout", m.timeout.toMap()}};
}
Value::Map body(const SyncRequest& m) {
  return {{"from", m.fromHeight}, {"max", std::uint64_t(m.max)}};
}
Value::Array blocksValue(const std::vector<CommittedBlock>& blocks) {
  Value::Array out;
  for (const auto& b : blocks) out.emplace_back(b.toMap());
  return out;
}
/// Reads an array of committed blocks at `key` into `out`.
void readBlocks(Fields& f, std::string_view key, std::size_t maxTxs,
                std::vector<CommittedBlock>& out) {
  if (const auto* blocks = f.array(key, kMaxSyncBlocks)) {
    for (const auto& b : *blocks) {
      if (!b.isMap()) return f.fail(std::string(key) + ": expected maps");
      Fields bf(b.asMap());
      out.push_back(CommittedBlock::read(bf, maxTxs));
      if (!bf.ok()) return f.fail("block: " + bf.error());
    }
  }
}

Value::Map body(const SyncResponse& m) {
  Value::Map out{{"blocks", blocksValue(m.blocks)}};
  if (m.child) out.emplace("child", m.child->toMap());
  if (m.childQc) out.emplace("child_qc", m.childQc->toMap());
  return out;
}
Value::Map body(const SnapshotResponse& m) {
  Value::Array signatures;
  for (const SignedBy& s : m.signatures) signatures.push_back(signedByValue(s));
  Value::Map out{{"state_root", toBytes(m.stateRoot)},
                 {"signatures", std::move(signatures)},
                 {"snapshot", m.snapshot},
                 {"blocks", blocksValue(m.blocks)},
                 {"child", m.child.toMap()},
                 {"child_qc", m.childQc.toMap()}};
  if (m.size != m.snapshot.size()) out.emplace("size", m.size);
  return out;
}
Value::Map body(const SnapshotPart& m) {
  return {{"height", m.height},
          {"state_root", toBytes(m.stateRoot)},
          {"offset", m.offset},
          {"bytes", m.bytes}};
}
Value::Map body(const BlockRequest& m) {
  return {{"block", toBytes(m.block)}};
}
Value::Map body(const BlockResponse& m) {
  return {{"proposal", m.proposal.toMap()}};
}
Value::Map body(const Submit& m) {
  return {{"tx", m.tx}};
}
Value::Map body(const TxStatus& m) {
  return {{"tx", toBytes(m.tx)}, {"state", std::uint64_t(m.state)},    {"applied", m.applied},
          {"height", m.height},  {"state_root", toBytes(m.stateRoot)}, {"error", m.error}};
}
Value::Map body(const CommitAnswer& m) {
  Bytes applied; // the ids, one after another: one field, not an array of them
  applied.reserve(m.applied.size() * 32);
  for (const Digest& id : m.applied) applied.insert(applied.end(), id.begin(), id.end());
  Value::Array refused;
  for (const auto& [id, why] : m.refused)
    refused.emplace_back(Value::Map{{"tx", toBytes(id)}, {"error", why}});
  return {{"height", m.height},
          {"state_root", toBytes(m.stateRoot)},
          {"applied", std::move(applied)},
          {"refused", std::move(refused)}};
}
Value::Map body(const Query& m) {
  Value::Map out{{"id", m.id}};
  if (m.account) out.emplace("account", toBytes(*m.account));
  if (m.contract) out.emplace("contract", *m.contract);
  if (m.order) out.emplace("order", toBytes(*m.order));
  if (m.providers) out.emplace("providers", true);
  return out;
}
Value::Map body(const QueryAnswer& m) {
  return {{"id", m.id},
          {"height", m.height},
          {"state_root", toBytes(m.stateRoot)},
          {"round", m.round},
          {"view", m.view},
          {"last_commit_ms", m.lastCommitMs},
          {"replica", std::uint64_t(m.replica)},
          {"signatures_verified", m.signaturesVerified},
          {"transactions_committed", m.transactionsCommitted},
          {"mempool", m.mempool},
          {"leader_work_ms", m.leaderWorkMs},
          {"leader_wait_ms", m.leaderWaitMs},
          {"slow_leader_timeouts", m.slowLeaderTimeouts},
          {"convictions", m.convictions},
          {"muted_messages", m.mutedMessages},
          {"found", m.found},
          {"balance", m.balance},
          {"stake", m.stake},
          {"unbonding", m.unbonding},
          {"nonce", m.nonce},
          {"provider", m.provider},
          {"contract_found", m.contractFound},
          {"contract_creator", m.contractCreator},
          {"contract_source", m.contractSource},
          {"contract_state", m.contractState},
          {"contract_held", m.contractHeld},
          {"contract_deployed", m.contractDeployed},
          {"contract_staked", m.contractStaked},
          {"order", m.orderJson},
          {"providers", m.providersJson}};
}
Value::Map body(const CertificateMsg& m) {
  return {{"qc", m.qc.toMap()}};
}
Value::Map body(const Checkpoint& m) {
  return {{"height", m.height},
          {"state_root", toBytes(m.stateRoot)},
          {"replica", std::uint64_t(m.by.replica)},
          {"sig", toBytes(m.by.signature)}};
}

// ---- readers ----------------------------------------------------------------------------------

void read(Fields& f, std::size_t maxTxs, ProposalMsg& m) {
  f.only({"proposal"});
  if (const Value::Map* p = f.map("proposal")) {
    Fields pf(*p);
    m.proposal = Proposal::read(pf, maxTxs);
    if (!pf.ok()) f.fail("proposal: " + pf.error());
  }
}
void read(Fields& f, std::size_t, VoteMsg& m) {
  f.only({"vote"});
  m.vote = readPart<Vote>(f, "vote");
}
void read(Fields& f, std::size_t, TimeoutMsg& m) {
  f.only({"timeout"});
  m.timeout = readPart<Timeout>(f, "timeout");
}
void read(Fields& f, std::size_t, SyncRequest& m) {
  f.only({"from", "max"});
  m.fromHeight = f.u64("from");
  m.max = std::uint32_t(f.u64Max("max", kMaxSyncBlocks));
}
void read(Fields& f, std::size_t maxTxs, SyncResponse& m) {
  f.only({"blocks", "child", "child_qc"});
  readBlocks(f, "blocks", maxTxs, m.blocks);
  if (f.has("child")) m.child = readPart<BlockHeader>(f, "child");
  if (f.has("child_qc")) m.childQc = readPart<QuorumCert>(f, "child_qc");
}
void read(Fields& f, std::size_t maxTxs, SnapshotResponse& m) {
  f.only({"state_root", "signatures", "snapshot", "size", "blocks", "child", "child_qc"});
  m.stateRoot = f.fixed<32>("state_root");
  if (const auto* signatures = f.array("signatures", 1024)) {
    for (const Value& v : *signatures) {
      SignedBy s;
      if (!readSignedBy(v, s)) return f.fail("signatures: expected [replica, signature]");
      m.signatures.push_back(s);
    }
  }
  m.snapshot = f.bytes("snapshot", SnapshotResponse::kMaxSnapshot);
  m.size = m.snapshot.size();
  if (f.has("size")) {
    // Only when parts follow: a size equal to what came is not encoded.
    m.size = f.u64Max("size", SnapshotResponse::kMaxSize);
    if (m.size <= m.snapshot.size()) return f.fail("size: not more than the snapshot sent");
  }
  readBlocks(f, "blocks", maxTxs, m.blocks);
  m.child = readPart<BlockHeader>(f, "child");
  m.childQc = readPart<QuorumCert>(f, "child_qc");
}
void read(Fields& f, std::size_t, SnapshotPart& m) {
  f.only({"height", "state_root", "offset", "bytes"});
  m.height = f.u64("height");
  m.stateRoot = f.fixed<32>("state_root");
  m.offset = f.u64Max("offset", SnapshotResponse::kMaxSize);
  m.bytes = f.bytes("bytes", SnapshotPart::kMaxBytes);
}
void read(Fields& f, std::size_t, BlockRequest& m) {
  f.only({"block"});
  m.block = f.fixed<32>("block");
}
void read(Fields& f, std::size_t maxTxs, BlockResponse& m) {
  f.only({"proposal"});
  if (const Value::Map* p = f.map("proposal")) {
    Fields pf(*p);
    m.proposal = Proposal::read(pf, maxTxs);
    if (!pf.ok()) f.fail("proposal: " + pf.error());
  }
}
void read(Fields& f, std::size_t, Submit& m) {
  f.only({"tx"});
  m.tx = f.bytes("tx", Tx::kMaxEncodedDeploy);
}
void read(Fields& f, std::size_t, TxStatus& m) {
  f.only({"tx", "state", "applied", "height", "state_root", "error"});
  m.tx = f.fixed<32>("tx");
  m.state = TxStatus::State(f.u64Max("state", 1));
  m.applied = f.flag("applied");
  m.height = f.u64("height");
  m.stateRoot = f.fixed<32>("state_root");
  m.error = f.text("error", 512);
}
void read(Fields& f, std::size_t, CommitAnswer& m) {
  f.only({"height", "state_root", "applied", "refused"});
  m.height = f.u64("height");
  m.stateRoot = f.fixed<32>("state_root");
  Bytes applied = f.bytes("applied", CommitAnswer::kMaxTxs * 32);
  if (applied.size() % 32 != 0) f.fail("applied: not a list of 32-byte ids");
  for (std::size_t i = 0; i + 32 <= applied.size(); i += 32) {
    Digest id;
    std::copy(applied.begin() + std::ptrdiff_t(i), applied.begin() + std::ptrdiff_t(i + 32),
              id.begin());
    m.applied.push_back(id);
  }
  if (const Value::Array* refused = f.array("refused", CommitAnswer::kMaxTxs - m.applied.size())) {
    for (const Value& r : *refused) {
      if (!r.isMap()) return f.fail("refused: expected maps");
      Fields rf(r.asMap());
      rf.only({"tx", "error"});
      Digest id = rf.fixed<32>("tx");
      std::string why = rf.text("error", 512);
      if (!rf.ok()) return f.fail("refused: " + rf.error());
      m.refused.emplace_back(id, std::move(why));
    }
  }
}
void read(Fields& f, std::size_t, Query& m) {
  f.only({"id", "account", "contract", "order", "providers"});
  m.id = f.u64("id");
  if (f.has("account")) m.account = f.fixed<32>("account");
  if (f.has("contract")) m.contract = f.text("contract", CallContract::kMaxName);
  if (f.has("order")) m.order = f.fixed<32>("order");
  if (f.has("providers")) m.providers = f.flag("providers");
}
void read(Fields& f, std::size_t, QueryAnswer& m) {
  f.only({"id",
          "height",
          "state_root",
          "round",
          "view",
          "last_commit_ms",
          "replica",
          "signatures_verified",
          "transactions_committed",
          "mempool",
          "leader_work_ms",
          "leader_wait_ms",
          "slow_leader_timeouts",
          "convictions",
          "muted_messages",
          "found",
          "balance",
          "stake",
          "unbonding",
          "nonce",
          "provider",
          "contract_found",
          "contract_creator",
          "contract_source",
          "contract_state",
          "contract_held",
          "contract_deployed",
          "contract_staked",
          "order",
          "providers"});
  m.id = f.u64("id");
  m.height = f.u64("height");
  m.stateRoot = f.fixed<32>("state_root");
  m.round = f.u64("round");
  m.view = f.u64("view");
  m.lastCommitMs = f.u64("last_commit_ms");
  m.replica = ReplicaIndex(f.u64Max("replica", 0xffff));
  m.signaturesVerified = f.u64("signatures_verified");
  m.transactionsCommitted = f.u64("transactions_committed");
  m.mempool = f.u64("mempool");
  m.leaderWorkMs = f.u64("leader_work_ms");
  m.leaderWaitMs = f.u64("leader_wait_ms");
  m.slowLeaderTimeouts = f.u64("slow_leader_timeouts");
  m.convictions = f.u64("convictions");
  m.mutedMessages = f.u64("muted_messages");
  m.found = f.flag("found");
  m.balance = f.u64("balance");
  m.stake = f.u64("stake");
  m.unbonding = f.u64("unbonding");
  m.nonce = f.u64("nonce");
  m.provider = f.flag("provider");
  m.contractFound = f.flag("contract_found");
  m.contractCreator = f.text("contract_creator", 128);
  m.contractSource = f.text("contract_source", DeployContract::kMaxSource);
  m.contractState = f.text("contract_state", 1u << 20);
  m.contractHeld = f.u64("contract_held");
  m.contractDeployed = f.u64("contract_deployed");
  m.contractStaked = f.u64("contract_staked");
  m.orderJson = f.text("order", 1u << 20);
  m.providersJson = f.text("providers", 1u << 20);
}
void read(Fields& f, std::size_t, CertificateMsg& m) {
  f.only({"qc"});
  m.qc = readPart<QuorumCert>(f, "qc");
}
void read(Fields& f, std::size_t, Checkpoint& m) {
  f.only({"height", "state_root", "replica", "sig"});
  m.height = f.u64("height");
  m.stateRoot = f.fixed<32>("state_root");
  m.by.replica = ReplicaIndex(f.u64Max("replica", 0xffff));
  m.by.signature = f.fixed<64>("sig");
}

template <std::size_t I = 0>
bool readMessage(std::string_view name, Fields& f, std::size_t maxTxs, Message& out) {
  if constexpr (I == std::variant_size_v<Message>) {
    return false;
  } else {
    using Kind = std::variant_alternative_t<I, Message>;
    if (name == Kind::kName) {
      Kind m;
      read(f, maxTxs, m);
      out = std::move(m);
      return true;
    }
    return readMessage<I + 1>(name, f, maxTxs, out);
  }
}

} // namespace

Value::Map CommittedBlock::toMap() const {
  return {{"proposal", proposal.toMap()}, {"qc", qc.toMap()}};
}

CommittedBlock CommittedBlock::read(Fields& f, std::size_t maxTxs) {
  f.only({"proposal", "qc"});
  CommittedBlock b;
  if (const Value::Map* p = f.map("proposal")) {
    Fields pf(*p);
    b.proposal = Proposal::read(pf, maxTxs);
    if (!pf.ok()) f.fail("proposal: " + pf.error());
  }
  b.qc = readPart<QuorumCert>(f, "qc");
  return b;
}

void CommitAnswer::add(const TxStatus& status) {
  if (status.applied)
    applied.push_back(status.tx);
  else
    refused.emplace_back(status.tx, status.error);
}

std::optional<TxStatus> CommitAnswer::statusOf(const Digest& tx) const {
  if (std::find(applied.begin(), applied.end(), tx) != applied.end())
    return statusIn(*this, tx, true);
  for (const auto& [id, why] : refused)
    if (id == tx) return statusIn(*this, tx, false, why);
  return std::nullopt;
}

std::vector<TxStatus> CommitAnswer::statuses() const {
  std::vector<TxStatus> out;
  out.reserve(size());
  for (const Digest& id : applied) out.push_back(statusIn(*this, id, true));
  for (const auto& [id, why] : refused) out.push_back(statusIn(*this, id, false, why));
  return out;
}

std::optional<TxStatus> statusOf(const Message& m, const Digest& tx) {
  if (const auto* s = std::get_if<TxStatus>(&m))
    return s->tx == tx ? std::optional(*s) : std::nullopt;
  if (const auto* a = std::get_if<CommitAnswer>(&m)) return a->statusOf(tx);
  return std::nullopt;
}

std::vector<TxStatus> statusesIn(const Message& m) {
  if (const auto* s = std::get_if<TxStatus>(&m)) return {*s};
  if (const auto* a = std::get_if<CommitAnswer>(&m)) return a->statuses();
  return {};
}

std::string_view messageName(const Message& m) {
  return std::visit([](const auto& x) { return std::decay_t<decltype(x)>::kName; }, m);
}

Bytes encodeMessage(const Message& m) {
  Value::Map b = std::visit([](const auto& x) { return body(x); }, m);
  b.emplace("kind", std::string(messageName(m)));
  return core::encodeRecord({"pool", core::kEncodingVersion, std::move(b)});
}

std::optional<Message> decodeMessage(const std::uint8_t* data, std::size_t size, std::size_t maxTxs,
                                     std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Message> {
    if (error) *error = "pool message: " + std::move(why);
    return std::nullopt;
  };
  std::string why;
  core::DecodeLimits limits;
  limits.maxItems = std::max<std::size_t>(maxTxs, kMaxSyncBlocks) + 16;
  auto value = core::decode(data, size, &why, limits);
  if (!value) return fail(why);
  // The record envelope, as core::decodeRecord checks it (without decoding twice).
  if (!value->isArray() || value->asArray().size() != 4 || !value->asArray()[0].isText() ||
      value->asArray()[0].asText() != "difuon" || !value->asArray()[1].isUnsigned() ||
      value->asArray()[1].asUnsigned() != core::kEncodingVersion || !value->asArray()[2].isText() ||
      value->asArray()[2].asText() != "pool" || !value->asArray()[3].isMap())
    return fail("not a pool record of this version");
  Value::Map& body = value->asArray()[3].asMap();
  auto kind = body.find("kind");
  if (kind == body.end() || !kind->second.isText()) return fail("no kind");
  std::string name = kind->second.asText();
  body.erase(kind);
  Fields f(body);
  Message m;
  if (!readMessage(name, f, maxTxs, m)) return fail("unknown kind '" + name + "'");
  if (!f.ok()) return fail(name + ": " + f.error());
  return m;
}

} // namespace flo::pool
