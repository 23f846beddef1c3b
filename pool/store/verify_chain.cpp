/// \file
/// The stored-chain verifier (see verify_chain.h): one pass over the blocks in height order,
/// re-executing them on a fresh ledger, with the commit proofs of a batch settled when its last
/// block is reached.
#include "pool/store/verify_chain.h"

#include "pool/ledger/ledger.h"
#include "pool/store/records.h"
#include "pool/store/replica_store.h"
#include "pool/store/sqlite.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <vector>

namespace flo::pool {

namespace {

std::string str(std::uint64_t n) {
  return std::to_string(n);
}

/// A checkpoint row, read before the blocks so each is checked at its height.
struct CheckpointRow {
  Bytes root, signatures;
  std::optional<Bytes> snapshot;
};

/// What blocks 1..h hold, for a report that stops at h.
struct Tally {
  std::uint64_t blocks = 0, txs = 0, applied = 0;
  Digest root{};
};

/// A commit proof waiting for the block it names: the child must be of the round after it.
struct ProofClaim {
  std::uint64_t height = 0; ///< of the block whose proof it is
  std::uint64_t childRound = 0, childHeight = 0;
};

} // namespace

std::string VerifyReport::toJson(int indent) const {
  nlohmann::json j;
  j["path"] = path;
  j["chain"] = core::toHex(chain);
  j["ok"] = ok();
  j["stored_height"] = storedHeight;
  j["verified_height"] = verifiedHeight;
  j["blocks"] = blocks;
  j["txs"] = txs;
  j["applied_txs"] = appliedTxs;
  j["checkpoints"] = checkpoints;
  j["signature_checks"] = signatureChecks;
  j["gaps"] = nlohmann::json::array();
  for (const auto& [from, to] : gaps) j["gaps"].push_back({from, to});
  j["state_root"] = core::toHex(stateRoot);
  if (problem)
    j["problem"] = {
        {"height", problem->height}, {"table", problem->table}, {"reason", problem->reason}};
  else
    j["problem"] = nullptr;
  return j.dump(indent);
}

VerifyReport verifyChain(const std::string& dbPath, const Genesis* genesis,
                         const VerifyOptions& options) {
  VerifyReport report;
  report.path = dbPath;
  std::error_code ec;
  if (std::filesystem::is_directory(dbPath, ec))
    report.path = (std::filesystem::path(dbPath) / SqliteStore::kFileName).string();
  auto problem = [&](std::uint64_t height, std::string table, std::string reason) {
    report.problem = VerifyProblem{height, std::move(table), std::move(reason)};
    return report;
  };

  // ---- the file, and whose chain it holds --------------------------------------------------
  std::string why;
  sql::Connection db = sql::openConnection(report.path, SQLITE_OPEN_READONLY, &why);
  if (!db) return problem(0, "", why);
  sqlite3* c = db.get();
  // One read transaction: every statement below sees the same snapshot of a store a running
  // replica may be committing to (the stored height and the blocks read agree).
  if (sqlite3_exec(c, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
    return problem(0, "", sql::errorOf(c, "cannot begin a read"));
  auto integrity = sql::textRows(c, "PRAGMA integrity_check", &why);
  if (!integrity) return problem(0, "", "integrity_check: " + why);
  if (integrity->size() != 1 || integrity->front() != "ok")
    return problem(0, "", "integrity_check: " + (integrity->empty() ? "" : integrity->front()));

  std::optional<Bytes> storedChain, storedGenesis;
  {
    sql::Statement s;
    if (!s.prepare(c, "SELECT key, value FROM meta"))
      return problem(0, "meta", sql::errorOf(c, "not a replica store"));
    sql::Use use(s);
    while (use.step() == SQLITE_ROW) {
      if (use.text(0) == "chain") storedChain = use.blob(1);
      if (use.text(0) == "genesis") storedGenesis = use.blob(1);
    }
  }
  auto chainId = storedChain ? digestFrom(*storedChain) : std::nullopt;
  if (!chainId) return problem(0, "meta", "no chain id is stored");
  std::optional<Genesis> g;
  if (genesis) {
    g = *genesis;
    if (g->chainId() != *chainId)
      return problem(0, "meta",
                     "the store is of another pool: chain " + core::toHex(*chainId) +
                         ", the genesis given is chain " + core::toHex(g->chainId()));
  } else {
    if (!storedGenesis) return problem(0, "meta", "no genesis is stored");
    g = Genesis::decode(*storedGenesis, &why);
    if (!g) return problem(0, "meta", "the stored genesis does not decode: " + why);
    if (g->chainId() != *chainId)
      return problem(0, "meta", "the stored genesis is not the chain " + core::toHex(*chainId));
  }
  report.chain = *chainId;

  const std::size_t maxTxs = g->params.maxBlockTxs;
  Committee committee(*g);
  Ledger ledger(*g);
  const Digest genesisRoot = ledger.stateRoot();
  const BlockHeader genesisBlock = genesisHeader(*g, genesisRoot);
  committee.setGenesisBlock(genesisBlock.id());
  report.stateRoot = genesisRoot;

  // ---- the stable checkpoints ---------------------------------------------------------------
  std::map<std::uint64_t, CheckpointRow> checkpoints;
  {
    sql::Statement s;
    if (!s.prepare(c, "SELECT height, state_root, signatures, snapshot FROM checkpoints"))
      return problem(0, "checkpoints", sql::errorOf(c, "cannot read"));
    sql::Use use(s);
    while (use.step() == SQLITE_ROW)
      checkpoints[use.u64(0)] = {use.blob(1), use.blob(2),
                                 use.isNull(3) ? std::nullopt : std::optional(use.blob(3))};
  }

  // ---- the blocks, in height order ----------------------------------------------------------
  // Up to schema version 2 a row holds its whole block; from 3 on, its certificate, and the
  // block is the proposal of its height and id (replica_store.h).
  std::int64_t version = 0;
  {
    sql::Statement s;
    if (s.prepare(c, "PRAGMA user_version")) {
      sql::Use use(s);
      if (use.step() == SQLITE_ROW) version = std::int64_t(use.u64(0));
    }
  }
  const bool whole = version <= 2;
  sql::Statement blocks;
  if (!blocks.prepare(c, whole ? "SELECT height, id, block, NULL, child, child_qc, results, "
                                 "state_root FROM blocks ORDER BY height"
                               : "SELECT b.height, b.id, p.proposal, b.qc, b.child, b.child_qc, "
                                 "b.results, b.state_root FROM blocks b LEFT JOIN proposals p "
                                 "ON p.height = b.height AND p.id = b.id ORDER BY b.height"))
    return problem(0, "blocks", sql::errorOf(c, "cannot read"));
  {
    sql::Statement top;
    if (top.prepare(c, "SELECT coalesce(max(height), 0) FROM blocks")) {
      sql::Use use(top);
      if (use.step() == SQLITE_ROW) report.storedHeight = use.u64(0);
    }
  }

  std::map<std::uint64_t, Digest> roots{{0, genesisRoot}}; ///< by height, where held
  std::map<std::uint64_t, Tally> tallies{{0, Tally{0, 0, 0, genesisRoot}}}; ///< by height
  std::map<Digest, std::uint64_t> heightOf;         ///< ids of the blocks verified
  std::map<Digest, std::vector<ProofClaim>> claims; ///< commit proofs not yet settled
  std::set<Bytes> verifiedChildQcs;
  BlockHeader prev = genesisBlock;
  QuorumCert prevQc;
  prevQc.block = genesisBlock.id();
  Digest prevId = prevQc.block;

  sql::Use use(blocks);
  int rc;
  std::uint64_t h = 0;
  while ((rc = use.step()) == SQLITE_ROW) {
    ++h;
    auto bad = [&](const std::string& reason) { return problem(h, "blocks", reason); };
    // A gap is a state transfer's: the block above it is a stable checkpoint's, kept with its
    // snapshot, and the chain goes on from that state (checked below as the base).
    bool base = false;
    if (use.u64(0) != h) {
      auto k = checkpoints.find(use.u64(0));
      if (use.u64(0) < h || k == checkpoints.end() || !k->second.snapshot)
        return bad("missing (the next stored height is " + str(use.u64(0)) + ")");
      // Proofs still waiting name blocks in the gap: never to be reached.
      if (!claims.empty()) break;
      report.gaps.emplace_back(h, use.u64(0) - 1);
      h = use.u64(0);
      base = true;
    }
    auto id = digestFrom(use.blob(1));
    auto root = digestFrom(use.blob(7));
    if (!id || !root) return bad("an id or state root not of 32 bytes");
    std::optional<CommittedBlock> block;
    if (whole) {
      block = decodeCommittedBlock(use.blob(2), maxTxs, &why);
      if (!block) return bad(why);
    } else {
      if (use.isNull(2)) return bad("its proposal is not stored");
      auto proposal = decodeProposal(use.blob(2), maxTxs, &why);
      if (!proposal) return problem(h, "proposals", why);
      auto qc = decodeQc(use.blob(3), &why);
      if (!qc) return bad(why);
      block = CommittedBlock{std::move(*proposal), std::move(*qc)};
    }
    auto child = decodeHeader(use.blob(4), &why);
    if (!child) return bad(why);
    auto childQc = decodeQc(use.blob(5), &why);
    if (!childQc) return bad(why);
    auto storedResults = decodeResults(use.blob(6), &why);
    if (!storedResults) return bad(why);
    const Proposal& p = block->proposal;
    const BlockHeader& header = p.header;

    // Where it stands: this height, this chain, on the block below (a base: its parent is not
    // held, so what follows from the parent is not checked; its certificate and commit proof
    // are, and the checkpoint's quorum vouches for its state).
    if (header.height != h) return bad("its header says height " + str(header.height));
    if (header.chain != *chainId) return bad("its header names another chain");
    if (header.id() != *id) return bad("the stored id is not the header's");
    const QuorumCert& justify = p.justify;
    if (!base) {
      if (header.parent != prevId) return bad("its parent is not the block below it");
      if (header.round <= prev.round) return bad("its round is not above its parent's");
      if (header.timeMs < prev.timeMs) return bad("its time is before its parent's");

      // Its justification certifies the parent; its round and view follow from it.
      if (justify.block != header.parent || justify.height != h - 1 || justify.round != prev.round)
        return bad("its justification does not certify its parent");
      if (justify != prevQc && !committee.verify(justify, &why))
        return bad("its justification does not verify: " + why);
      std::uint64_t view;
      if (justify.round + 1 == header.round) {
        view = prev.view; // a certificate keeps the view
      } else if (p.tc && p.tc->round + 1 == header.round &&
                 justify.round >= p.tc->maxHighQcRound()) {
        if (!committee.verify(*p.tc, &why))
          return bad("its timeout certificate does not verify: " + why);
        view = p.tc->view(committee.faults()) + 1;
      } else {
        return bad("its round follows neither its justification nor a timeout certificate");
      }
      if (header.view != view) return bad("its view is not " + str(view));
      if (header.proposer != view % g->replicas.size())
        return bad("its proposer is not the leader of view " + str(view));
    }
    if (!committee.verifyProposal(p)) return bad("the proposer's signature does not verify");

    // What it says was executed before it (where that state is held).
    if (header.executedHeight >= h || (!base && header.executedHeight < prev.executedHeight))
      return bad("it claims an executed height " + str(header.executedHeight) + " out of order");
    if (auto r = roots.find(header.executedHeight);
        r != roots.end() && header.executedRoot != r->second)
      return bad("it claims a state root at height " + str(header.executedHeight) +
                 " that is not the stored one");

    // Its own certificate.
    const QuorumCert& qc = block->qc;
    if (qc.block != *id || qc.round != header.round || qc.height != h)
      return bad("its certificate is for another block");
    if (!committee.verify(qc, &why)) return bad("its certificate does not verify: " + why);

    // Its transactions.
    std::vector<Tx> txs;
    std::vector<Digest> ids;
    std::set<Digest> seen;
    for (std::size_t i = 0; i < p.txs.size(); ++i) {
      auto tx = Tx::decode(p.txs[i], &why);
      if (!tx) return bad("transaction " + str(i) + ": " + why);
      if (options.txSignatures && !tx->verify())
        return bad("transaction " + str(i) + ": the sender's signature does not verify");
      ids.push_back(core::hash(p.txs[i]));
      if (!seen.insert(ids.back()).second) return bad("transaction " + str(i) + " twice");
      txs.push_back(std::move(*tx));
    }
    if (txRootOf(ids) != header.txRoot) return bad("its transactions do not match its tx root");

    // Executed again from genesis (or from the state a base's checkpoint holds).
    std::vector<TxResult> results;
    if (base) {
      auto snapshot = Ledger::decode(*g, *checkpoints.at(h).snapshot, &why);
      if (!snapshot) return problem(h, "checkpoints", "its snapshot does not decode: " + why);
      if (snapshot->height() != h || snapshot->stateRoot() != *root)
        return problem(h, "checkpoints", "its snapshot is not the state at the block's root");
      if (!storedResults->empty()) return bad("a state transfer's base holds results");
      ledger = std::move(*snapshot);
    } else {
      results = ledger.executeBlock(h, header.timeMs, txs);
      if (!ledger.conserved(&why)) return bad("execution does not conserve the supply: " + why);
      if (results != *storedResults) return bad("the stored results are not what execution gives");
      if (ledger.stateRoot() != *root)
        return bad("the stored state root is not what execution gives");
    }

    // A checkpoint here: a quorum signed this root, and its snapshot is this state.
    if (auto k = checkpoints.find(h); k != checkpoints.end()) {
      auto cpBad = [&](const std::string& reason) { return problem(h, "checkpoints", reason); };
      if (k->second.root != core::toBytes(*root)) return cpBad("its root is not the chain's");
      auto signatures = decodeSignatures(k->second.signatures, &why);
      if (!signatures) return cpBad(why);
      if (!committee.verifyCheckpoint(h, *root, *signatures, &why)) return cpBad(why);
      if (k->second.snapshot && *k->second.snapshot != ledger.encode())
        return cpBad("its snapshot is not the state of the chain at its height");
      ++report.checkpoints;
      checkpoints.erase(k);
    }

    // Its commit proof: a certified child of the round after this block or after the last
    // block committed with it (settled when that block is reached).
    if (child->chain != *chainId || childQc->block != child->id() ||
        childQc->round != child->round || childQc->height != child->height)
      return bad("its commit proof's certificate is not for the proof's child");
    Bytes childQcBytes = encodeQc(*childQc);
    if (!verifiedChildQcs.count(childQcBytes)) {
      if (!committee.verify(*childQc, &why))
        return bad("its commit proof's certificate does not verify: " + why);
      verifiedChildQcs.insert(std::move(childQcBytes));
    }
    if (heightOf.count(child->parent)) return bad("its commit proof commits a block below it");
    claims[child->parent].push_back({h, child->round, child->height});
    if (auto claim = claims.find(*id); claim != claims.end()) {
      for (const ProofClaim& cl : claim->second)
        if (cl.childRound != header.round + 1 || cl.childHeight != h + 1)
          return problem(cl.height, "blocks",
                         "its commit proof's child is not of the round after block " + str(h));
      claims.erase(claim);
    }

    heightOf.emplace(*id, h);
    roots.emplace(h, *root);
    Tally tally = tallies.rbegin()->second;
    ++tally.blocks;
    tally.txs += txs.size();
    for (const TxResult& r : results) tally.applied += r.applied ? 1 : 0;
    tally.root = *root;
    tallies.emplace(h, tally);
    prev = header;
    prevQc = qc;
    prevId = *id;
    report.verifiedHeight = h;
    report.blocks = tally.blocks;
    report.txs = tally.txs;
    report.appliedTxs = tally.applied;
    report.stateRoot = *root;
    report.signatureChecks = committee.signatureChecks();
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return problem(h + 1, "blocks", sql::errorOf(c, "cannot read"));

  // A proof naming a block never reached: the chain stops inside a commit batch.
  std::uint64_t unproven = 0;
  for (const auto& [target, list] : claims)
    for (const ProofClaim& cl : list)
      if (unproven == 0 || cl.height < unproven) unproven = cl.height;
  if (unproven != 0) {
    const auto& [at, tally] = *std::prev(tallies.upper_bound(unproven - 1));
    report.verifiedHeight = at;
    report.blocks = tally.blocks;
    report.txs = tally.txs;
    report.appliedTxs = tally.applied;
    report.stateRoot = tally.root;
    return problem(unproven, "blocks", "its commit proof names a block that is not stored");
  }
  if (!checkpoints.empty())
    return problem(checkpoints.begin()->first, "checkpoints", "a checkpoint above the chain");

  // What a restart reads besides the chain must at least decode.
  {
    sql::Statement s;
    if (!s.prepare(c, "SELECT state FROM safety"))
      return problem(0, "safety", sql::errorOf(c, "cannot read"));
    sql::Use row(s);
    if (row.step() == SQLITE_ROW && !decodeSafety(row.blob(0), &why))
      return problem(0, "safety", why);
  }
  {
    const char* table = whole ? "pending" : "proposals";
    sql::Statement s;
    if (!s.prepare(c, whole ? "SELECT height, proposal FROM pending"
                            : "SELECT height, proposal FROM proposals WHERE height > ?1"))
      return problem(0, table, sql::errorOf(c, "cannot read"));
    sql::Use row(s);
    if (!whole) row.bind(1, report.storedHeight);
    while (row.step() == SQLITE_ROW)
      if (!decodeProposal(row.blob(1), maxTxs, &why)) return problem(row.u64(0), table, why);
  }
  report.signatureChecks = committee.signatureChecks();
  return report;
}

} // namespace flo::pool
