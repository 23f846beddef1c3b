/// \file
/// The fault matrix's checkers (see checkers.h).
#include "pool/sim/checkers.h"

#include <algorithm>
#include <map>
#include <optional>

namespace flo::pool {

namespace {

std::string hex8(const Digest& d) {
  return core::toHex(d.data(), 4);
}

Verdict agreement(Cluster& c, const std::set<std::size_t>& correct) {
  Verdict v{"S1 agreement", true, {}};
  std::map<std::uint64_t, std::pair<std::size_t, Digest>> first;
  std::uint64_t heights = 0;
  for (std::size_t n : correct) {
    const auto& chain = c.store(n).chain();
    heights = std::max<std::uint64_t>(heights, chain.size());
    for (std::uint64_t h = 1; h <= chain.size(); ++h) {
      if (!c.store(n).holds(h)) continue; // skipped by a state transfer
      const Digest& id = chain[h - 1].block.qc.block;
      auto [it, fresh] = first.try_emplace(h, n, id);
      if (!fresh && it->second.second != id) {
        v.ok = false;
        v.detail = "height " + std::to_string(h) + ": replica node " +
                   std::to_string(it->second.first) + " committed " + hex8(it->second.second) +
                   ", node " + std::to_string(n) + " committed " + hex8(id);
        return v;
      }
    }
  }
  v.detail = std::to_string(heights) + " heights agree";
  return v;
}

Verdict determinism(Cluster& c, const std::set<std::size_t>& correct) {
  Verdict v{"S2 state roots", true, {}};
  std::map<std::uint64_t, std::pair<std::size_t, Digest>> first;
  for (std::size_t n : correct) {
    const auto& roots = c.store(n).roots();
    for (std::uint64_t h = 1; h <= roots.size(); ++h) {
      if (!c.store(n).holds(h)) continue;
      auto [it, fresh] = first.try_emplace(h, n, roots[h - 1]);
      if (!fresh && it->second.second != roots[h - 1]) {
        v.ok = false;
        v.detail = "height " + std::to_string(h) + ": state root differs between nodes " +
                   std::to_string(it->second.first) + " and " + std::to_string(n);
        return v;
      }
    }
  }
  v.detail = "roots identical at " + std::to_string(first.size()) + " heights";
  return v;
}

Verdict conservationAndOnce(Cluster& c, const std::set<std::size_t>& correct, Verdict& once) {
  Verdict v{"S3 conservation", true, {}};
  once = {"S4 exactly-once", true, {}};
  // The longest correct chain, re-executed from genesis: of those a state transfer left whole
  // (the others hold the same blocks and roots where they hold any: S1 and S2).
  std::optional<std::size_t> whole;
  for (std::size_t n : correct)
    if (!c.store(n).hasHoles() &&
        (!whole || c.store(n).chain().size() > c.store(*whole).chain().size()))
      whole = n;
  if (!whole) { // nothing to re-execute from genesis: not checked is not held
    v.ok = once.ok = false;
    v.detail = once.detail = "no correct replica holds its whole chain: nothing to check";
    return v;
  }
  const std::size_t best = *whole;
  const auto& chain = c.store(best).chain();
  Ledger ledger(c.genesis());
  std::set<std::pair<AccountId, std::uint64_t>> applied;
  std::size_t txs = 0;
  for (std::uint64_t h = 1; h <= chain.size(); ++h) {
    const Proposal& p = chain[h - 1].block.proposal;
    std::vector<Tx> decoded;
    for (const Bytes& t : p.txs) decoded.push_back(*Tx::decode(t));
    auto results = ledger.executeBlock(h, p.header.timeMs, decoded);
    std::string why;
    if (!ledger.conserved(&why)) {
      v.ok = false;
      v.detail = "after height " + std::to_string(h) + ": " + why;
      return v;
    }
    if (ledger.stateRoot() != c.store(best).roots()[h - 1]) {
      v.ok = false;
      v.detail = "re-executing height " + std::to_string(h) + " gives another state root";
      return v;
    }
    for (std::size_t i = 0; i < decoded.size(); ++i) {
      if (!results[i].applied) continue;
      ++txs;
      if (!applied.insert({decoded[i].from, decoded[i].nonce}).second && once.ok) {
        once.ok = false;
        once.detail = "height " + std::to_string(h) + ": nonce " +
                      std::to_string(decoded[i].nonce) + " of one sender applied twice";
      }
    }
  }
  v.detail = "conserved after each of " + std::to_string(chain.size()) + " blocks";
  if (once.ok) once.detail = std::to_string(txs) + " transactions applied once each";
  return v;
}

Verdict noLostAcks(Cluster& c, const std::set<std::size_t>& correct) {
  Verdict v{"S5 acknowledged kept", true, {}};
  std::size_t checked = 0;
  for (const Submission& s : c.submissions()) {
    if (!s.ackedAt) continue;
    std::uint64_t height = s.ackedHeight;
    if (height == 0) {
      v.ok = false;
      v.detail = "transaction " + hex8(s.id) + " acknowledged without a height";
      return v;
    }
    for (std::size_t n : correct) {
      const auto& chain = c.store(n).chain();
      if (chain.size() < height) continue;     // not there yet (checked when it is)
      if (!c.store(n).holds(height)) continue; // skipped by a state transfer
      ++checked;
      const auto& txs = chain[height - 1].block.proposal.txs;
      bool found = std::any_of(txs.begin(), txs.end(),
                               [&](const Bytes& t) { return core::hash(t) == s.id; });
      if (!found) {
        v.ok = false;
        v.detail = "transaction " + hex8(s.id) + " acknowledged at height " +
                   std::to_string(height) + " is not there on node " + std::to_string(n);
        return v;
      }
    }
  }
  v.detail = std::to_string(checked) + " acknowledged (replica, transaction) pairs found";
  return v;
}

Verdict noDoubleSign(Cluster& c, const std::set<std::size_t>& correct) {
  Verdict v{"S6 no double signing", true, {}};
  std::size_t votes = 0;
  for (std::size_t n : correct) {
    std::map<std::uint64_t, Digest> byRound;
    for (const Proposal& p : c.store(n).voted()) {
      ++votes;
      auto [it, fresh] = byRound.try_emplace(p.header.round, p.header.id());
      if (!fresh && it->second != p.header.id()) {
        v.ok = false;
        v.detail = "node " + std::to_string(n) + " voted for two blocks in round " +
                   std::to_string(p.header.round);
        return v;
      }
    }
  }
  v.detail = std::to_string(votes) + " votes, one per round per replica";
  return v;
}

Verdict verifyOnce(Cluster& c, const std::set<std::size_t>& correct, std::size_t distinct) {
  Verdict v{"S7 verify once", true, {}};
  std::uint64_t most = 0;
  for (std::size_t n : correct) {
    if (!c.net().isUp(n)) continue;
    std::uint64_t verified = c.replica(n).mempool().signaturesVerified();
    most = std::max(most, verified);
    if (verified > distinct) {
      v.ok = false;
      v.detail = "node " + std::to_string(n) + " verified " + std::to_string(verified) +
                 " client signatures for " + std::to_string(distinct) + " transactions";
      return v;
    }
  }
  v.detail = "at most " + std::to_string(most) + " verifications for " + std::to_string(distinct) +
             " transactions";
  return v;
}

Verdict durableAnswers(Cluster& c, const std::set<std::size_t>& correct) {
  Verdict v{"S8 durable answers", true, {}};
  for (const auto& [node, what] : c.forgottenAnswers()) {
    if (!correct.count(node)) continue;
    v.ok = false;
    v.detail = what;
    return v;
  }
  v.detail = "no replica restarted below a height it had told a client";
  return v;
}

} // namespace

std::vector<Verdict> checkSafety(Cluster& cluster, const std::set<std::size_t>& correct,
                                 std::size_t distinctTxs) {
  std::vector<Verdict> out;
  out.push_back(agreement(cluster, correct));
  out.push_back(determinism(cluster, correct));
  Verdict once;
  out.push_back(conservationAndOnce(cluster, correct, once));
  out.push_back(once);
  out.push_back(noLostAcks(cluster, correct));
  out.push_back(noDoubleSign(cluster, correct));
  out.push_back(verifyOnce(cluster, correct, distinctTxs));
  out.push_back(durableAnswers(cluster, correct));
  return out;
}

bool allHold(const std::vector<Verdict>& verdicts) {
  return std::all_of(verdicts.begin(), verdicts.end(), [](const Verdict& v) { return v.ok; });
}

} // namespace flo::pool
