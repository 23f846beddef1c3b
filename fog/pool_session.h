/// \file
/// What the commands that talk to the local fog's pool share (cmd_pool.cpp, cmd_contract.cpp):
/// a client on a fresh did:key, accounts named by keystore name or did:key, and a transaction
/// signed, submitted and waited for (f+1 matching commits).
#pragma once

#include "fog/cli.h"
#include "fog/local_fog.h"
#include "pool/net/pool_client.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace flo::core {
class UdpNode;
}

namespace flo::fog {

inline constexpr std::chrono::seconds kTxTimeout{15};

/// A node speaking as a fresh did:key (a client needs no lasting identity: transactions carry
/// the account's own signature) and the pool's client on it.
struct Client {
  std::unique_ptr<core::UdpNode> node;
  std::unique_ptr<pool::PoolClient> pool;
  Client();
  Client(Client&&) noexcept;
  ~Client();
};

std::optional<Client> connect(const pool::Genesis& genesis, std::string& error);

/// An account named on the command line: an identity of the fog's keystore, or a did:key.
std::optional<pool::AccountId> resolveAccount(const LocalFog& fog, const std::string& who,
                                              std::string& error);

std::string hex(const core::Digest& d);

/// Signs `body` with `key` and the account's next nonce (asked of the pool), submits it and waits
/// for f+1 matching outcomes; nullopt and `error` when the pool did not answer. `nonce`, when
/// given, gets the nonce used (an order's id derives from it).
std::optional<pool::SubmitOutcome> submitSigned(pool::PoolClient& pool, const core::SigningKey& key,
                                                pool::TxBody body, std::string& error,
                                                std::uint64_t* nonce = nullptr);

/// Signs a transaction of account `from` (its next nonce, asked of the pool), submits it and
/// reports the outcome (`--json`: the outcome as JSON).
int submitAs(Context& c, const LocalFog& fog, const std::string& from, pool::TxBody body);

std::optional<LocalFog> loadFog(Context& c, std::string& error);

/// `--dir D`: the local fog's folder, as every command on the local fog takes it.
void addDir(CLI::App& app, Options& o);

/// `--amount` / the amount argument: a whole number of tokens above 0.
std::optional<std::uint64_t> amountOf(Context& c, std::string& error);
std::optional<std::uint64_t> parseAmount(const std::string& text, std::string& error);

} // namespace flo::fog
