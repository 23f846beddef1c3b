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

/// A fogger's offer: its architectures, cores, memory, zone and price. Registers the sender as
/// a provider, or updates its registration.
struct RegisterProvider {
  static constexpr std::string_view kName = "provider";
  static constexpr std::size_t kMaxArchitectures = 8, kMaxName = 32;
  std::vector<std::string> architectures; ///< e.g. "x86_64", "aarch64"; sorted, distinct
  std::uint32_t cores = 0;
  std::uint64_t memoryMiB = 0;
  std::string zone;
  std::uint64_t pricePerMinute = 0; ///< tokens per core-minute
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

using TxBody = std::variant<Transfer, Stake, Unstake, RegisterProvider, DeployContract,
                            CallContract, StakeContract, UnstakeContract>;

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
