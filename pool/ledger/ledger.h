/// \file
/// The ledger: the deterministic state machine that executes committed transactions. Same
/// blocks in, same state and same state root out, on every replica and every machine: ordered
/// containers, integer amounts with checked arithmetic, the agreed block time, no clock and no
/// randomness.
///
/// Accounts hold a balance, a stake, unbonding amounts (stake on its way back, locked for the
/// genesis's unstakeLockBlocks) and a nonce. A transaction executes only with the sender's next
/// nonce; it then either applies in full or is refused (its nonce is used either way, so it can
/// never execute later). Conservation: balances + stake + unbonding + escrow = supply, after
/// every block (conserved() checks it; the tests check it after every block).
#pragma once

#include "compiler/vm/machine.h"
#include "pool/ledger/merkle_map.h"
#include "pool/wire/genesis.h"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace flo::vm {
struct Compiled;
}

namespace flo::pool {

struct Unbonding {
  std::uint64_t amount = 0;
  std::uint64_t releaseHeight = 0; ///< returns to the balance at the start of this block
  bool operator==(const Unbonding&) const = default;
};

struct Account {
  std::uint64_t balance = 0;
  std::uint64_t stake = 0;
  std::vector<Unbonding> unbonding; ///< oldest first
  std::uint64_t nonce = 0;          ///< the next transaction's nonce
  std::uint64_t unbondingTotal() const;
  Value::Map toMap() const;
  bool operator==(const Account&) const = default;
};

/// A registered provider (fogger): its last registration and its record on the market
/// (reputation: runs completed, assignments failed or lapsed, times slashed).
struct Provider {
  RegisterProvider offer;
  std::uint64_t since = 0; ///< height of the first registration
  std::uint64_t updated = 0;
  std::uint64_t completed = 0, failed = 0, slashed = 0;
  /// Matching prefers a higher score: completed runs count for, failures and slashes against.
  std::int64_t score() const;
  bool operator==(const Provider&) const = default;
};

/// A fogger's stake must be at least this to be matched (it is what a slash takes).
inline constexpr std::uint64_t kMinProviderStake = 10;
/// An assigned fogger must start (StartRun) within this much block time, or loses the
/// assignment (it counts as failed).
inline constexpr std::uint64_t kStartDeadlineMs = 15'000;
/// The most foggers a group holds.
inline constexpr std::size_t kMaxGroup = 16;

/// One fogger's part in an order.
struct Assignment {
  enum class State : std::uint8_t { Assigned, Started, Done, Lapsed, Failed, Cancelled };
  AccountId fogger{};
  State state = State::Assigned;
  std::uint64_t price = 0;   ///< the fogger's price when assigned
  std::uint64_t startBy = 0; ///< block time (ms)
  std::uint64_t paid = 0;
  std::optional<RunResult> result; ///< its receipt
  bool slashed = false;
  bool active() const { return state == State::Assigned || state == State::Started; }
  Value::Map toMap() const;
  bool operator==(const Assignment&) const = default;
};
const char* stateName(Assignment::State s);

/// An order (docs/deploy.md): the terms, the group the pool matched, the deployer's
/// assignments from it, and the escrow left.
struct Order {
  enum class Status : std::uint8_t { Open, Settled, Expired, Cancelled };
  AccountId owner{};
  PlaceOrder terms;
  std::uint64_t placedMs = 0, deadlineMs = 0, height = 0;
  std::vector<AccountId> group;
  std::vector<Assignment> assignments;
  std::uint64_t escrow = 0; ///< what is left of it
  Status status = Status::Open;
  std::size_t done() const;
  Value::Map toMap() const;
  static std::optional<Order> fromMap(const Value::Map& m, std::string* why);
  bool operator==(const Order&) const = default;
};
const char* statusName(Order::Status s);

/// Tokens a contract deploy costs per byte of its source, and a call per operation of its
/// action's cost bound (`floc verify` reports the bound). Fees are kept by the ledger (`fees`),
/// for the replicas, and count in the supply.
inline constexpr std::uint64_t kDeployFeePerByte = 1, kFeePerOperation = 1;

/// A deployed contract (docs/verify.md): its source, compiled by every replica, the tokens it
/// holds and its state.
struct Contract {
  AccountId creator{};
  std::string source;
  std::uint64_t held = 0;
  std::uint64_t deployed = 0; ///< height
  vm::State state;
  std::map<AccountId, std::uint64_t> stakes; ///< bonded to it (StakeContract), by staker
  std::shared_ptr<const vm::Compiled> code;  ///< from `source` (derived, not state)
  std::uint64_t staked() const;
  /// Everything but the code, canonically: what the state root commits to.
  Value::Map toMap() const;
  /// The state as JSON text with sorted keys: each variable, a map as [key, value] pairs.
  std::string stateJson() const;
  /// From toMap(): the source compiled again, the state read by the contract's types.
  static std::optional<Contract> fromMap(const Value::Map& m, std::string* why);
};

/// What became of one transaction of a block.
struct TxResult {
  bool applied = false;
  std::string error; ///< why it was refused ("insufficient balance: has 5, needs 7")
  bool operator==(const TxResult&) const = default;
};

class Ledger {
public:
  /// The state at genesis: the initial accounts, nothing staked, height 0.
  explicit Ledger(const Genesis& genesis);

  /// Executes one block's transactions in order at `height` (the next one) and block time
  /// `timeMs`. Transactions are decoded and signature-checked by the caller (the pool verifies
  /// each signature once, at admission); a transaction for another chain is refused here too.
  std::vector<TxResult> executeBlock(std::uint64_t height, std::uint64_t timeMs,
                                     const std::vector<Tx>& txs);

  /// Whether `tx` would be admitted now: right chain, nonce not used, and the sender holds
  /// what it moves (a cheap pre-check; execution decides).
  bool admissible(const Tx& tx, std::string* why = nullptr) const;

  std::uint64_t height() const { return height_; }
  std::uint64_t timeMs() const { return timeMs_; }
  const Digest& chain() const { return chain_; }
  std::uint64_t supply() const { return supply_; }
  const Account* account(const AccountId& id) const;
  const Provider* provider(const AccountId& id) const;
  const std::map<AccountId, Account>& accounts() const { return accounts_; }
  const std::map<AccountId, Provider>& providers() const { return providers_; }
  const Contract* contract(const std::string& name) const;
  const std::map<std::string, Contract>& contracts() const { return contracts_; }
  std::uint64_t fees() const { return fees_; }
  const Order* order(const Digest& id) const;
  const std::map<Digest, Order>& orders() const { return orders_; }
  /// An order as JSON text (sorted keys, the same on every replica): its terms, status, escrow,
  /// group (each fogger's did, address, architectures, price and reputation) and assignments.
  std::string orderJson(const Digest& id) const;
  /// Every provider as JSON text, likewise.
  std::string providersJson() const;

  /// Balances + stake + unbonding + what contracts hold and have staked on them + fees +
  /// escrow == supply.
  /// False with why otherwise.
  bool conserved(std::string* why = nullptr) const;
  /// The digest of the whole state: chain, height, time, supply, and the roots of two Merkle
  /// maps (merkle_map.h), one of every account and one of every provider, keyed by the hash of
  /// the account id. Costs nothing to read: executeBlock updates it for what the block touched.
  Digest stateRoot() const { return stateRoot_; }
  /// The same, computed from nothing (the tests hold the two equal).
  Digest stateRootFromScratch() const;

  /// The whole state as one canonical record (a snapshot, for state transfer and files), and
  /// back; decode checks the shape and conservation.
  Bytes encode() const;
  static std::optional<Ledger> decode(const Genesis& genesis, const Bytes& data,
                                      std::string* error = nullptr);

private:
  TxResult apply(const AccountId& from, const Transfer& t);
  TxResult apply(const AccountId& from, const Stake& t);
  TxResult apply(const AccountId& from, const Unstake& t);
  TxResult apply(const AccountId& from, const RegisterProvider& t);
  TxResult apply(const AccountId& from, const DeployContract& t);
  TxResult apply(const AccountId& from, const CallContract& t);
  TxResult apply(const AccountId& from, const StakeContract& t);
  TxResult apply(const AccountId& from, const UnstakeContract& t);
  TxResult apply(const AccountId& from, const PlaceOrder& t);
  TxResult apply(const AccountId& from, const AssignOrder& t);
  TxResult apply(const AccountId& from, const StartRun& t);
  TxResult apply(const AccountId& from, const Receipt& t);
  TxResult apply(const AccountId& from, const CancelOrder& t);
  TxResult apply(const AccountId& from, const SlashFogger& t);
  void releaseUnbonding();
  /// Assignments not started by their deadline lapse; orders past theirs expire (refunded).
  /// Only the orders with something due (dueOrders_) are visited.
  void expireOrders();
  /// The open order `id`, or nullptr with the refusal (no such order, or closed).
  Order* openOrder(const Digest& id, TxResult& refusal);
  /// Closes an open order: its active assignments end in `ended`, escrow goes to the owner.
  void closeOrder(const Digest& id, Order& o, Order::Status status, Assignment::State ended);
  /// Memory each fogger's active assignments take (one pass over the open orders).
  std::map<AccountId, std::uint64_t> busyMiB() const;
  /// The block's changes into the Merkle maps, then the state root.
  void updateCommitment();
  /// Everything derived from the accounts and providers, built again (genesis, decode).
  void rebuildDerived();
  /// The four Merkle maps (accounts, providers, contracts, orders) built from every entry.
  struct Trees {
    MerkleMap accounts, providers, contracts, orders;
  };
  Trees treesFromScratch() const;
  /// The state root over these maps of the current accounts, providers and contracts.
  Digest rootOver(Trees& trees) const;

  Digest chain_{};
  std::uint64_t supply_ = 0;
  std::uint64_t unstakeLock_ = 0;
  std::uint64_t height_ = 0;
  std::uint64_t timeMs_ = 0;
  std::map<AccountId, Account> accounts_;
  std::map<AccountId, Provider> providers_;
  std::map<std::string, Contract> contracts_;
  std::uint64_t fees_ = 0;
  std::map<Digest, Order> orders_;
  // Derived from the above (rebuildDerived), kept up to date block by block:
  Trees trees_;
  std::set<AccountId> touched_; ///< accounts changed in the block being executed
  std::set<AccountId> touchedProviders_;
  std::set<std::string> touchedContracts_;
  std::set<Digest> touchedOrders_;
  std::set<Digest> openOrders_; ///< the orders still open
  /// The open orders with a deadline or an assignment's start deadline at a time (ms).
  std::map<std::uint64_t, std::set<Digest>> dueOrders_;
  std::map<std::uint64_t, std::set<AccountId>> releases_; ///< who has unbonding due at a height
  Digest stateRoot_{};
};

} // namespace flo::pool
