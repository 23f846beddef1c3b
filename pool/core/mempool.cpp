/// \file
/// The mempool and the verify-once cache (see mempool.h).
#include "pool/core/mempool.h"

#include "core/check.h"

namespace flo::pool {

const char* Mempool::admitName(Admit a) {
  switch (a) {
  case Admit::Added:
    return "added";
  case Admit::Duplicate:
    return "duplicate";
  case Admit::Malformed:
    return "malformed";
  case Admit::WrongChain:
    return "wrong chain";
  case Admit::Full:
    return "full";
  case Admit::StaleNonce:
    return "stale nonce";
  case Admit::FutureNonce:
    return "future nonce";
  case Admit::BadSignature:
    return "bad signature";
  case Admit::Unaffordable:
    return "unaffordable";
  case Admit::NonceTaken:
    return "nonce taken";
  }
  return "?";
}

Mempool::Mempool(std::size_t maxTxs, std::size_t maxPerAccount, std::size_t maxBehindGaps)
    : maxTxs_(maxTxs), maxPerAccount_(maxPerAccount), maxBehindGaps_(maxBehindGaps) {}

void Mempool::remember(const Digest& id) {
  // Bounded: four pools' worth of ids, oldest forgotten first.
  if (verifiedOrder_.size() >= 4 * maxTxs_ + 4096) {
    verifiedIds_.erase(verifiedOrder_.front());
    verifiedOrder_.pop_front();
  }
  verifiedOrder_.push_back(id);
}

Mempool::Admit Mempool::precheck(const Bytes& encoded, const Digest& id, const Ledger& ledger,
                                 std::string& why, std::optional<Tx>& tx, bool gaps) const {
  tx = Tx::decode(encoded, &why);
  if (!tx) return Admit::Malformed;
  if (tx->chain != ledger.chain()) {
    why = "signed for another pool";
    return Admit::WrongChain;
  }
  if (byId_.count(id)) return Admit::Duplicate;
  const std::uint64_t next = nextNonce(ledger, tx->from);
  if (tx->nonce < next) {
    why = "nonce " + std::to_string(tx->nonce) + " already used (next is " + std::to_string(next) +
          ")";
    return Admit::StaleNonce;
  }
  if (tx->nonce - next >= maxPerAccount_) {
    why = "nonce " + std::to_string(tx->nonce) + " too far ahead of the next (" +
          std::to_string(next) + ")";
    return Admit::FutureNonce;
  }
  auto sender = bySender_.find(tx->from);
  const std::size_t waiting = sender == bySender_.end() ? 0 : sender->second.size();
  if (byId_.size() >= maxTxs_ || waiting >= maxPerAccount_) {
    why = byId_.size() >= maxTxs_ ? "the pool is full" : "too many waiting from this sender";
    return Admit::Full;
  }
  if (waiting > 0 && sender->second.count(tx->nonce)) {
    why = "another transaction with nonce " + std::to_string(tx->nonce) + " is waiting";
    return Admit::NonceTaken;
  }
  // One that cannot run until an earlier nonce comes takes a place in a budget of its own: a
  // sender holding one nonce back must not fill the pool with ones that can never be proposed.
  const bool runsNext = tx->nonce == (waiting > 0 ? endOfRun(sender->second, next) : next);
  FLO_EXPENSIVE_CHECK(behind_ == behindGaps(ledger));
  if (gaps && !runsNext && behind_ >= maxBehindGaps_) {
    why = "nonce " + std::to_string(tx->nonce) + " waits for an earlier one (next is " +
          std::to_string(next) + "), and the pool holds as many such as it keeps";
    return Admit::FutureNonce;
  }
  if (!ledger.admissible(*tx, &why)) return Admit::Unaffordable;
  return Admit::Added;
}

std::uint64_t Mempool::endOfRun(const std::map<std::uint64_t, Digest>& byNonce,
                                std::uint64_t next) {
  for (auto it = byNonce.lower_bound(next); it != byNonce.end() && it->first == next; ++it) ++next;
  return next;
}

std::size_t Mempool::behindOf(const std::map<std::uint64_t, Digest>& byNonce, std::uint64_t next) {
  // Past the run, every one waits behind a gap.
  return std::size_t(std::distance(byNonce.lower_bound(endOfRun(byNonce, next)), byNonce.end()));
}

std::size_t Mempool::behindGaps(const Ledger& ledger) const {
  std::size_t n = 0;
  for (const auto& [from, byNonce] : bySender_) n += behindOf(byNonce, nextNonce(ledger, from));
  return n;
}

std::uint64_t Mempool::nextNonce(const Ledger& ledger, const AccountId& from) {
  const Account* a = ledger.account(from);
  return a ? a->nonce : 0;
}

Mempool::Admit Mempool::admit(const Bytes& encoded, const Digest& id, const Ledger& ledger,
                              std::string& why) {
  std::optional<Tx> tx;
  Admit pre = precheck(encoded, id, ledger, why, tx, /*gaps=*/true);
  if (pre == Admit::Duplicate) return pre;
  if (pre != Admit::Added) return ++cheapRefusals_, pre;
  // The one costly check, once per replica per transaction.
  auto known = verifiedIds_.find(id);
  bool valid;
  if (known != verifiedIds_.end()) {
    valid = known->second;
  } else {
    ++verified_;
    valid = tx->verify();
    verifiedIds_.emplace(id, valid);
    remember(id);
  }
  if (!valid) {
    why = "the signature does not verify";
    return Admit::BadSignature;
  }
  // The count behind gaps changes only in this sender's nonces: by the one added, or by those it
  // joins to the run when it fills a gap.
  auto& byNonce = bySender_[tx->from];
  const std::uint64_t next = nextNonce(ledger, tx->from);
  const std::size_t before = behindOf(byNonce, next); // this sender's part of behind_
  const bool wasExecutable = !byNonce.empty() && byNonce.begin()->first == next;
  byNonce.emplace(tx->nonce, id);
  behind_ = behind_ - before + behindOf(byNonce, next);
  if (!wasExecutable && byNonce.begin()->first == next) ++executable_;
  FLO_EXPENSIVE_CHECK(behind_ == behindGaps(ledger));
  FLO_EXPENSIVE_CHECK(executable_ == executableSenders(ledger));
  arrival_.push_back(id);
  byId_.emplace(id, std::make_unique<PooledTx>(PooledTx{std::move(*tx), encoded, id}));
  return Admit::Added;
}

std::optional<Tx> Mempool::verifiedForBlock(const Bytes& encoded, const Digest& id,
                                            const Digest& chain) {
  if (auto it = byId_.find(id); it != byId_.end()) return it->second->tx;
  auto tx = Tx::decode(encoded);
  if (!tx || tx->chain != chain) return std::nullopt;
  auto known = verifiedIds_.find(id);
  if (known != verifiedIds_.end()) {
    if (!known->second) tx.reset();
    return tx;
  }
  ++verified_;
  bool valid = tx->verify();
  verifiedIds_.emplace(id, valid);
  remember(id);
  if (!valid) tx.reset();
  return tx;
}

std::vector<const PooledTx*> Mempool::select(std::size_t max, const Ledger& ledger,
                                             const std::map<AccountId, std::uint64_t>& nextNonce,
                                             const std::set<Digest>& exclude) const {
  std::vector<const PooledTx*> out;
  std::map<AccountId, std::uint64_t> expected;
  auto nextOf = [&](const AccountId& from) -> std::uint64_t& {
    auto [it, fresh] = expected.try_emplace(from, 0);
    if (fresh) {
      if (auto n = nextNonce.find(from); n != nextNonce.end()) {
        it->second = n->second;
      } else {
        it->second = Mempool::nextNonce(ledger, from);
      }
    }
    return it->second;
  };
  // Senders in the order of their earliest waiting transaction; each sender's run of
  // consecutive nonces from the one expected.
  std::set<AccountId> done;
  for (const Digest& id : arrival_) {
    if (out.size() >= max) break;
    auto it = byId_.find(id);
    if (it == byId_.end()) continue;
    const AccountId& from = it->second->tx.from;
    if (!done.insert(from).second) continue;
    auto sender = bySender_.find(from);
    if (sender == bySender_.end()) continue;
    std::uint64_t& next = nextOf(from);
    for (auto n = sender->second.lower_bound(next);
         n != sender->second.end() && n->first == next && out.size() < max; ++n) {
      if (exclude.count(n->second)) {
        ++next;
        continue;
      }
      out.push_back(byId_.at(n->second).get());
      ++next;
    }
  }
  return out;
}

std::size_t Mempool::executableSenders(const Ledger& ledger) const {
  std::size_t n = 0;
  for (const auto& [from, byNonce] : bySender_)
    if (!byNonce.empty() && byNonce.begin()->first == nextNonce(ledger, from)) ++n;
  return n;
}

bool Mempool::hasExecutable(const Ledger& ledger) const {
  FLO_EXPENSIVE_CHECK(executable_ == executableSenders(ledger));
  (void)ledger;
  return executable_ > 0;
}

void Mempool::erase(const Digest& id) {
  auto it = byId_.find(id);
  if (it == byId_.end()) return;
  auto sender = bySender_.find(it->second->tx.from);
  FLO_CHECK(sender != bySender_.end());
  sender->second.erase(it->second->tx.nonce);
  if (sender->second.empty()) bySender_.erase(sender);
  byId_.erase(it);
}

std::vector<Digest> Mempool::onCommitted(const std::vector<Digest>& ids, const Ledger& ledger) {
  for (const auto& id : ids) erase(id);
  // Transactions whose nonce the chain has now used can never execute.
  std::vector<Digest> stale;
  for (const auto& [from, byNonce] : bySender_) {
    std::uint64_t next = nextNonce(ledger, from);
    for (auto it = byNonce.begin(); it != byNonce.end() && it->first < next; ++it)
      stale.push_back(it->second);
  }
  for (const auto& id : stale) erase(id);
  // The ledger's nonces moved: counted again, once a block rather than once a submission, in
  // one walk (a replica catching up commits thousands of blocks a second).
  behind_ = executable_ = 0;
  for (const auto& [from, byNonce] : bySender_) {
    const std::uint64_t next = nextNonce(ledger, from);
    behind_ += behindOf(byNonce, next);
    if (!byNonce.empty() && byNonce.begin()->first == next) ++executable_;
  }
  FLO_EXPENSIVE_CHECK(behind_ == behindGaps(ledger) && executable_ == executableSenders(ledger));
  // The arrival list keeps ids already gone; compact it when it is mostly stale.
  if (arrival_.size() > 2 * byId_.size() + 1024) {
    std::deque<Digest> kept;
    for (const auto& id : arrival_)
      if (byId_.count(id)) kept.push_back(id);
    arrival_ = std::move(kept);
  }
  FLO_CHECK(byId_.size() <= maxTxs_);
  return stale;
}

} // namespace flo::pool
