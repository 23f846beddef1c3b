/// \file
/// The pool client session the fog commands share (see pool_session.h).
#include "fog/pool_session.h"

#include "core/identity.h"
#include "core/net/udp_node.h"
#include "core/os/system.h"
#include "core/store/keystore.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace flo::fog {

Client::Client() = default;
Client::Client(Client&&) noexcept = default;
Client::~Client() = default;

std::optional<Client> connect(const pool::Genesis& genesis, std::string& error) {
  Client c;
  c.node = std::make_unique<core::UdpNode>(core::generateSigningKey());
  if (!c.node->bind("127.0.0.1", 0, error)) return std::nullopt;
  c.pool = std::make_unique<pool::PoolClient>(*c.node, genesis);
  return c;
}

std::optional<pool::AccountId> resolveAccount(const LocalFog& fog, const std::string& who,
                                              std::string& error) {
  if (auto key = core::parseDidKey(who)) return key;
  core::Keystore keys(fog.home());
  auto pub = keys.loadPublic(who, error);
  if (!pub) {
    error = "unknown account '" + who + "' (an account of " + fog.home().string() +
            " or a did:key; fog account new NAME makes one)";
    return std::nullopt;
  }
  return pub->state.currentKey;
}

std::string hex(const core::Digest& d) {
  return core::toHex(d);
}

std::optional<pool::SubmitOutcome> submitSigned(pool::PoolClient& pool, const core::SigningKey& key,
                                                pool::TxBody body, std::string& error,
                                                std::uint64_t* nonce) {
  auto next = pool.nextNonce(key.publicKey(), kTxTimeout, error);
  if (!next)
    return error = "the pool did not answer: " + error + " (is it up? fog status)", std::nullopt;
  if (nonce) *nonce = *next;
  pool::Tx tx = pool::makeTx(key, pool.genesis().chainId(), *next, std::move(body));
  auto outcome = pool.submit(tx.encode(), kTxTimeout, error);
  if (!outcome) return error = "no outcome: " + error, std::nullopt;
  return outcome;
}

int submitAs(Context& c, const LocalFog& fog, const std::string& from, pool::TxBody body) {
  std::string error;
  core::Keystore keys(fog.home());
  auto id = keys.load(from, std::nullopt, error);
  if (!id) return c.fail("unknown account '" + from + "': " + error);
  auto client = connect(fog.genesis(), error);
  if (!client) return c.fail(error);
  auto outcome = submitSigned(*client->pool, id->current, std::move(body), error);
  if (!outcome) return c.fail(error);
  if (c.options.json) {
    c.out << nlohmann::json{{"tx", hex(outcome->tx)},
                            {"committed", outcome->committed},
                            {"applied", outcome->applied},
                            {"height", outcome->height},
                            {"state_root", hex(outcome->stateRoot)},
                            {"error", outcome->error}}
                 .dump(2)
          << "\n";
  }
  if (!outcome->committed) return c.fail("refused: " + outcome->error);
  if (!outcome->applied)
    return c.fail("committed at height " + std::to_string(outcome->height) +
                  " but refused by the ledger: " + outcome->error);
  if (!c.options.json)
    c.out << "committed at height " << outcome->height << " (tx " << hex(outcome->tx).substr(0, 16)
          << ")\n";
  return kOk;
}

std::optional<LocalFog> loadFog(Context& c, std::string& error) {
  return LocalFog::load(c.options.dir, error);
}

void addDir(CLI::App& app, Options& o) {
  app.add_option("--dir", o.dir, "the local fog's folder (default ./.fog)");
}

std::optional<std::uint64_t> amountOf(Context& c, std::string& error) {
  return parseAmount(c.options.amount, error);
}

std::optional<std::uint64_t> parseAmount(const std::string& a, std::string& error) {
  if (a.empty() || a.find_first_not_of("0123456789") != std::string::npos || a.size() > 19)
    return error = "the amount must be a whole number of tokens, got '" + a + "'", std::nullopt;
  std::uint64_t v = std::stoull(a);
  if (v == 0) return error = "the amount must be more than 0", std::nullopt;
  return v;
}

} // namespace flo::fog
