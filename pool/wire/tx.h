/// \file
/// Ledger transactions: what a client signs and the pool orders. A transaction is a canonical
/// record (core/canonical.h) `tx` with the pool's chain id (the genesis digest, so a
/// transaction for one pool is no use on another), the sender's account (an Ed25519 key: the
/// account's did:key), its nonce (the sender's count of transactions, from 0: each executes at
/// most once and in order), the kind and its body, and the sender's signature over the record
/// without the signature.
///
/// Each kind is one struct below with its name, its body and its reader; the ledger executes
/// each kind in one function (pool/ledger). Adding a kind means a struct here, its place in
/// TxBody, and its execution there: the compiler finds every switch that misses it.
#pragma once

#include "pool/wire/fields.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace flo::pool {

/// An account: the Ed25519 key whose did:key names it.
using AccountId = PublicKey;

/// Moves `amount` from the sender's balance to `to`'s (creating the account).
struct Transfer {
  static constexpr std::string_view kName = "transfer";
  AccountId to{};
  std::uint64_t amount = 0;
  Value::Map body() const;
  static Transfer read(Fields& f);
  bool operator==(const Transfer&) const = default;
};

/// Moves `amount` from the sender's balance to its stake.
struct Stake {
  static constexpr std::string_view kName = "stake";
  std::uint64_t amount = 0;
  Value::Map body() const;
  static Stake read(Fields& f);
  bool operator==(const Stake&) const = default;
};

/// Moves `amount` of stake into an unbonding entry, released to the balance after the
/// genesis's unstake lock (in blocks).
struct Unstake {
  static constexpr std::string_view kName = "unstake";
  std::uint64_t amount = 0;
  Value::Map body() const;
  static Unstake read(Fields& f);
  bool operator==(const Unstake&) const = default;
};

/// A fogger's offer: its architectures, cores, memory, zone, price and where deployers reach
/// it. Registers the sender as a provider, or updates its registration.
struct RegisterProvider {
  static constexpr std::string_view kName = "provider";
  static constexpr std::size_t kMaxArchitectures = 8, kMaxName = 32, kMaxAddress = 64;
  std::vector<std::string> architectures; ///< e.g. "x86_64", "aarch64"; sorted, distinct
  std::uint32_t cores = 0;
  std::uint64_t memoryMiB = 0;
  std::string zone;
  std::uint64_t price = 0; ///< tokens per work unit (the cost bound's unit)
  std::string address;     ///< the fogger's transport endpoint, "host:port" (may be empty)
  Value::Map body() const;
  static RegisterProvider read(Fields& f);
  bool operator==(const RegisterProvider&) const = default;
};

/// Deploys a contract: Flo source holding one `contract` block and nothing else
/// (docs/verify.md). Every replica compiles the source itself; the contract is named by its
/// `contract NAME`, which must be new. Costs the ledger's deploy fee per byte of source.
struct DeployContract {
  static constexpr std::string_view kName = "contract-deploy";
  static constexpr std::size_t kMaxSource = 6144;
  std::string source;
  Value::Map body() const;
  static DeployContract read(Fields& f);
  bool operator==(const DeployContract&) const = default;
};

/// Calls `action` of the contract named `contract` with `args` (as text, read as the action's
/// parameter types), attaching `value` tokens from the sender. Costs the ledger's fee per
/// operation of the action's cost bound, whatever the call's outcome.
struct CallContract {
  static constexpr std::string_view kName = "contract-call";
  static constexpr std::size_t kMaxName = 64, kMaxArgs = 16, kMaxArg = 256;
  std::string contract;
  std::string action;
  std::vector<std::string> args;
  std::uint64_t value = 0;
  Value::Map body() const;
  static CallContract read(Fields& f);
  bool operator==(const CallContract&) const = default;
};

/// Bonds `amount` of the sender's balance to a contract: stake behind a contract someone has
/// checked (`fog stake` stakes only on a contract `floc verify` proves). Returned by
/// UnstakeContract.
struct StakeContract {
  static constexpr std::string_view kName = "contract-stake";
  std::string contract;
  std::uint64_t amount = 0;
  Value::Map body() const;
  static StakeContract read(Fields& f);
  bool operator==(const StakeContract&) const = default;
};

/// Returns `amount` of the sender's stake on a contract to its balance.
struct UnstakeContract {
  static constexpr std::string_view kName = "contract-unstake";
  std::string contract;
  std::uint64_t amount = 0;
  Value::Map body() const;
  static UnstakeContract read(Fields& f);
  bool operator==(const UnstakeContract&) const = default;
};

/// A deployer's order for a job (docs/deploy.md): the bundle's manifest (its SHA-256, which
/// the deployer signs by signing the order), the job, its needs, how many runs on how many
/// foggers, the static cost bound of one run and the most the deployer pays per work
/// unit. The ledger matches it to a group of capable foggers and moves
/// maxPrice × costBound × runs × replicas into escrow. Its id is orderId(sender,
/// nonce).
struct PlaceOrder {
  static constexpr std::string_view kName = "order";
  static constexpr std::size_t kMaxJob = 64;
  static constexpr std::uint32_t kMaxReplicas = 16, kMaxRuns = 1000;
  static constexpr std::uint64_t kMinTimeoutMs = 1000, kMaxTimeoutMs = 3'600'000;
  Digest manifest{};
  std::string job;
  std::string arch = "any"; ///< "any" or an architecture name
  std::uint64_t memoryMiB = 0;
  std::uint32_t milliCores = 0;
  std::uint32_t runs = 1, replicas = 1;
  std::uint64_t costBound = 0; ///< work units of one run
  std::uint64_t maxPrice = 0;  ///< tokens per work unit
  std::uint64_t timeoutMs = 60'000;
  Value::Map body() const;
  static PlaceOrder read(Fields& f);
  bool operator==(const PlaceOrder&) const = default;
};

/// The deployer picks foggers from its order's group; each must start (StartRun) within the
/// ledger's start deadline or loses the assignment.
struct AssignOrder {
  static constexpr std::string_view kName = "order-assign";
  Digest order{};
  std::vector<AccountId> foggers;
  Value::Map body() const;
  static AssignOrder read(Fields& f);
  bool operator==(const AssignOrder&) const = default;
};

/// An assigned fogger has the bundle, checked it against the order and started.
struct StartRun {
  static constexpr std::string_view kName = "order-start";
  Digest order{};
  Value::Map body() const;
  static StartRun read(Fields& f);
  bool operator==(const StartRun&) const = default;
};

/// What a fogger signs about its runs of an order: the head of the hash chain of its signed
/// output items, how many, and the work measured. Sent to the deployer with the items, and
/// the body of the fogger's Receipt; two that differ for one order prove misbehaviour.
struct RunResult {
  Digest order{};
  Digest head{}; ///< the last output item's digest (zero: no output)
  std::uint64_t items = 0;
  std::uint64_t work = 0; ///< work units measured over all runs
  std::uint32_t runs = 0;
  std::uint32_t status = 0; ///< the job's exit status (0: every run completed)
  Value::Map body() const;
  static RunResult read(Fields& f);
  /// The canonical record "run-result" a fogger signs.
  Bytes encode() const;
  static std::optional<RunResult> decode(const Bytes& data, std::string* error = nullptr);
  bool operator==(const RunResult&) const = default;
};

/// A fogger's receipt: its RunResult. Pays price × min(work, costBound × runs) from escrow,
/// at most once per assignment.
struct Receipt {
  static constexpr std::string_view kName = "order-receipt";
  RunResult result;
  Value::Map body() const;
  static Receipt read(Fields& f);
  bool operator==(const Receipt&) const = default;
};

/// The deployer ends its order: what escrow holds goes back to it.
struct CancelOrder {
  static constexpr std::string_view kName = "order-cancel";
  Digest order{};
  Value::Map body() const;
  static CancelOrder read(Fields& f);
  bool operator==(const CancelOrder&) const = default;
};

/// Evidence against a fogger: a RunResult it signed for an order that contradicts its receipt
/// there. The fogger's stake goes to the order's deployer.
struct SlashFogger {
  static constexpr std::string_view kName = "order-slash";
  static constexpr std::size_t kMaxStatement = 512;
  AccountId fogger{};
  Bytes statement; ///< RunResult::encode()
  Signature signature{};
  Value::Map body() const;
  static SlashFogger read(Fields& f);
  bool operator==(const SlashFogger&) const = default;
};

/// The id of the order placed by `owner`'s transaction with `nonce`: known before it commits.
Digest orderId(const AccountId& owner, std::uint64_t nonce);
/// What a fogger signs over a RunResult (a domain-separated message).
Bytes runResultMessage(const RunResult& r);

using TxBody = std::variant<Transfer, Stake, Unstake, RegisterProvider, DeployContract,
                            CallContract, StakeContract, UnstakeContract, PlaceOrder, AssignOrder,
                            StartRun, Receipt, CancelOrder, SlashFogger>;

/// The name of a body's kind.
std::string_view kindName(const TxBody& body);

struct Tx {
  /// A transaction larger than this is refused; a contract deploy may be up to
  /// kMaxEncodedDeploy (its source).
  static constexpr std::size_t kMaxEncoded = 1024, kMaxEncodedDeploy = 8192;
  Digest chain{};
  AccountId from{};
  std::uint64_t nonce = 0;
  TxBody body;
  Signature signature{};

  /// What the signature covers: the record without the signature.
  Bytes signedBytes() const;
  Bytes encode() const;
  /// The transaction's id: BLAKE2b-256 of its encoding.
  Digest id() const;
  /// Decodes and checks the shape (not the signature: verify() does, once per replica).
  static std::optional<Tx> decode(const std::uint8_t* data, std::size_t size,
                                  std::string* error = nullptr);
  static std::optional<Tx> decode(const Bytes& data, std::string* error = nullptr) {
    return decode(data.data(), data.size(), error);
  }
  /// Whether the signature is the sender's over signedBytes().
  bool verify() const;
  bool operator==(const Tx&) const = default;
};

/// A transaction signed by `key` (whose public key is the sender).
Tx makeTx(const core::SigningKey& key, const Digest& chain, std::uint64_t nonce, TxBody body);

} // namespace flo::pool
