/// \file
/// Transactions waiting to be ordered, and the verify-once cache.
///
/// Admission, cheapest checks first (Aardvark: drop before verifying when over quota): size
/// and encoding, chain, duplicate, pool capacity and the sender's quota, nonce window, then
/// the signature, verified once per replica. Every transaction whose signature this replica
/// verified is remembered by id (bounded), so when it arrives again, in a proposal or from
/// another client, it is not verified again; signaturesVerified() counts verifications and,
/// in every test, equals the number of distinct transactions seen (POOL-TESTING S7).
///
/// Selection for a block: in arrival order, each sender's transactions in nonce order from the
/// next nonce the chain being extended expects.
#pragma once

#include "pool/ledger/ledger.h"
#include "pool/wire/tx.h"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace flo::pool {

struct DigestHash {
  std::size_t operator()(const Digest& d) const noexcept {
    std::size_t h;
    static_assert(sizeof h <= sizeof d);
    std::copy(d.begin(), d.begin() + sizeof h, reinterpret_cast<std::uint8_t*>(&h));
    return h;
  }
};

/// A decoded transaction with its encoding and id, verified.
struct PooledTx {
  Tx tx;
  Bytes encoded;
  Digest id{};
};

class Mempool {
public:
  enum class Admit : std::uint8_t {
    Added,
    Duplicate,    ///< already waiting (a client resending): not an error
    Malformed,    ///< does not decode
    WrongChain,   ///< signed for another pool
    Full,         ///< the pool or the sender's quota is full: try later
    StaleNonce,   ///< the nonce was used
    FutureNonce,  ///< too far ahead of the next nonce
    BadSignature, ///< does not verify
    Unaffordable, ///< the sender does not hold what it moves
    NonceTaken    ///< another transaction with this nonce is waiting
  };
  static const char* admitName(Admit a);

  /// At most `maxTxs` waiting, `maxPerAccount` of them from one sender, and `maxBehindGaps` of
  /// them behind a gap (an earlier nonce of their sender missing: they cannot be proposed).
  Mempool(std::size_t maxTxs, std::size_t maxPerAccount, std::size_t maxBehindGaps);

  /// Admits a client's transaction against the committed ledger. `id` is core::hash(encoded)
  /// (the caller's: it hashed the submission already); `why` says why it was refused.
  Admit admit(const Bytes& encoded, const Digest& id, const Ledger& ledger, std::string& why);
  /// Every check admit() makes before the signature's, changing nothing: Added when they all
  /// pass (`tx` decoded), else the refusal (Duplicate: the same transaction waits already).
  /// Without `gaps`, not the budget of transactions behind a gap (a queue in arrival order
  /// admits a sender's earlier nonces first: the gap is judged then).
  Admit precheck(const Bytes& encoded, const Digest& id, const Ledger& ledger, std::string& why,
                 std::optional<Tx>& tx, bool gaps) const;

  /// A transaction of a proposal, decoded and verified (once: from the pool or the cache, or
  /// now). nullopt when it does not decode or verify (a faulty proposer).
  std::optional<Tx> verifiedForBlock(const Bytes& encoded, const Digest& id, const Digest& chain);

  /// Up to `max` transactions for a block extending a chain whose next nonces are `nextNonce`
  /// (by sender; the ledger's for senders not in it), excluding `exclude` (already in the
  /// uncommitted blocks being extended).
  std::vector<const PooledTx*> select(std::size_t max, const Ledger& ledger,
                                      const std::map<AccountId, std::uint64_t>& nextNonce,
                                      const std::set<Digest>& exclude) const;

  /// After a commit: drops the committed transactions and every one whose nonce is now used.
  /// Returns the ones dropped because their nonce is used (in sender order): they never run.
  std::vector<Digest> onCommitted(const std::vector<Digest>& ids, const Ledger& ledger);

  /// Whether some sender's next transaction (the ledger's next nonce) is waiting. `ledger` is
  /// the one of the last admit() and onCommitted() (a count kept as they go: the pacemaker asks
  /// after every client message, and walking every sender each time cost a replica catching up
  /// a sixth of its time).
  bool hasExecutable(const Ledger& ledger) const;
  bool empty() const { return byId_.empty(); }
  std::size_t size() const { return byId_.size(); }
  bool contains(const Digest& id) const { return byId_.count(id) > 0; }
  std::uint64_t signaturesVerified() const { return verified_; }
  std::uint64_t refusedBeforeVerifying() const { return cheapRefusals_; }

private:
  void remember(const Digest& id);
  void erase(const Digest& id);

  /// The first nonce after the unbroken run of `byNonce` from `next` (`next` when it is missing).
  static std::uint64_t endOfRun(const std::map<std::uint64_t, Digest>& byNonce, std::uint64_t next);
  /// How many of one sender's wait behind a gap: past the unbroken run from its next nonce.
  static std::size_t behindOf(const std::map<std::uint64_t, Digest>& byNonce, std::uint64_t next);
  /// How many wait behind a gap, counted from nothing (behind_ keeps it).
  std::size_t behindGaps(const Ledger& ledger) const;
  /// How many senders' next transaction waits, counted from nothing (executable_ keeps it).
  std::size_t executableSenders(const Ledger& ledger) const;
  /// The ledger's next nonce for `from` (0 for an account it does not hold).
  static std::uint64_t nextNonce(const Ledger& ledger, const AccountId& from);

  std::size_t maxTxs_, maxPerAccount_, maxBehindGaps_;
  std::unordered_map<Digest, std::unique_ptr<PooledTx>, DigestHash> byId_;
  std::deque<Digest> arrival_; ///< ids in arrival order (may hold ids already erased)
  std::map<AccountId, std::map<std::uint64_t, Digest>> bySender_;
  /// Ids whose signature this replica verified, oldest first (bounded).
  std::unordered_map<Digest, bool, DigestHash> verifiedIds_;
  std::deque<Digest> verifiedOrder_;
  std::uint64_t verified_ = 0, cheapRefusals_ = 0;
  /// behindGaps() of the committed ledger, kept as transactions come and blocks commit: a
  /// submission behind a gap is judged in constant time, not by a walk of the whole pool.
  std::size_t behind_ = 0;
  /// executableSenders() of the committed ledger, kept the same way.
  std::size_t executable_ = 0;
};

} // namespace flo::pool
