/// \file
/// Contracts on the local fog's pool (docs/verify.md): `fog contract deploy FILE`, `fog contract
/// call NAME ACTION ARG...`, `fog contract show NAME` (state, held tokens, and the certificate
/// of `floc verify` run again here on the source the pool holds) and `fog stake CONTRACT AMOUNT`
/// (stakes only on a contract whose every property is proven, unless --force).
#include "compiler/verify/certificate.h"
#include "compiler/vm/compile.h"
#include "core/crypto.h"
#include "fog/commands.h"
#include "fog/pool_session.h"
#include "pool/ledger/ledger.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <sstream>

namespace flo::fog {

namespace {

/// `floc verify` on a contract's source: the certificate and whether every property is proven.
struct Verified {
  nlohmann::json certificate;
  bool proven = false;
  std::size_t provenCount = 0, properties = 0;
};

std::optional<Verified> verifySource(const std::string& source, const std::string& file,
                                     std::string& error) {
  auto code = vm::compile(source, &error);
  if (!code) return std::nullopt;
  auto t0 = std::chrono::steady_clock::now();
  const verify::Options options;
  verify::ContractResult r = verify::verifyContract(*code->contract, options);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Verified v;
  v.certificate = verify::certificate(r, *code->sources,
                                      {file, core::toHex(core::sha256(source)), "floc " FOG_VERSION,
                                       options.timeoutMs / 1000.0, took});
  v.proven = r.proven();
  v.provenCount = verify::provenCount(r);
  v.properties = r.properties.size();
  return v;
}

/// The contract as n-f replicas report it alike.
std::optional<pool::QueryAnswer> queryContract(Context& c, const LocalFog& fog,
                                               const std::string& name, std::string& error) {
  auto client = connect(fog.genesis(), error);
  if (!client) return std::nullopt;
  auto a = client->pool->query(std::nullopt, kTxTimeout, error, name);
  if (!a) {
    error = "the pool did not answer: " + error + " (is it up? fog status)";
    return std::nullopt;
  }
  if (!a->contractFound) {
    error = "no contract named '" + name + "' on the pool (at height " + std::to_string(a->height) +
            ")";
    return std::nullopt;
  }
  return a;
}

void addAs(CLI::App& app, Options& o) {
  app.add_option("--as", o.from, "the account that signs (a name in the fog's keystore)")
      ->required();
}

} // namespace

void addContractDeployOptions(CLI::App& app, Options& o) {
  app.add_option("file", o.file, "the contract's .flo source (one contract, nothing else)")
      ->required();
  addAs(app, o);
  addDir(app, o);
  app.add_flag("--json", o.json, "machine-readable output");
}

int contractDeploy(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  std::ifstream f(c.options.file, std::ios::binary);
  if (!f) return c.fail("cannot read '" + c.options.file + "'");
  std::stringstream text;
  text << f.rdbuf();
  std::string source = text.str();
  if (source.size() > pool::DeployContract::kMaxSource)
    return c.fail("'" + c.options.file + "' is " + std::to_string(source.size()) +
                  " bytes; a contract's source is at most " +
                  std::to_string(pool::DeployContract::kMaxSource));
  // What every replica will do, done here first: a source that does not compile is not sent.
  auto code = vm::compile(source, &error);
  if (!code) return c.fail(c.options.file + ": " + error);
  if (!c.options.json)
    c.err << "deploying contract '" << code->contract->name << "' (" << source.size()
          << " bytes; fee " << source.size() * pool::kDeployFeePerByte << " tokens)\n";
  return submitAs(c, *fog, c.options.from, pool::DeployContract{source});
}

void addContractCallOptions(CLI::App& app, Options& o) {
  app.add_option("name", o.name, "the contract")->required();
  app.add_option("action", o.action, "the action")->required();
  app.add_option("args", o.args, "its arguments, in order (numbers, true/false, dids, text)");
  addAs(app, o);
  app.add_option("--value", o.amount, "tokens to attach (default 0)");
  addDir(app, o);
  app.add_flag("--json", o.json, "machine-readable output");
}

int contractCall(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  std::uint64_t value = 0;
  if (!c.options.amount.empty() && c.options.amount != "0") {
    auto v = amountOf(c, error);
    if (!v) return c.fail("--value: " + error, kUsage);
    value = *v;
  }
  return submitAs(c, *fog, c.options.from,
                  pool::CallContract{c.options.name, c.options.action, c.options.args, value});
}

void addContractShowOptions(CLI::App& app, Options& o) {
  app.add_option("name", o.name, "the contract")->required();
  addDir(app, o);
  app.add_flag("--json", o.json, "machine-readable output");
}

int contractShow(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  auto a = queryContract(c, *fog, c.options.name, error);
  if (!a) return c.fail(error);
  auto state = nlohmann::json::parse(a->contractState, nullptr, false);
  auto v = verifySource(a->contractSource, c.options.name + " (on the pool)", error);
  if (!v)
    return c.fail("the pool's source of '" + c.options.name + "' does not compile here: " + error);
  if (c.options.json) {
    c.out << nlohmann::json{{"contract", c.options.name},
                            {"creator", a->contractCreator},
                            {"held", a->contractHeld},
                            {"deployed", a->contractDeployed},
                            {"height", a->height},
                            {"state", state},
                            {"source_sha256", core::toHex(core::sha256(a->contractSource))},
                            {"certificate", v->certificate}}
                 .dump(2)
          << "\n";
    return kOk;
  }
  c.out << "contract " << c.options.name << " (deployed at height " << a->contractDeployed << " by "
        << a->contractCreator << ")\n"
        << "  held: " << a->contractHeld << " tokens (height " << a->height << ")\n";
  for (const auto& [k, x] : state.items()) c.out << "  " << k << " = " << x.dump() << "\n";
  c.out << "  verified: " << v->provenCount << " of " << v->properties << " properties proven"
        << (v->proven ? "" : " (NOT VERIFIED: floc verify shows the counterexamples)") << "\n";
  return kOk;
}

int contractStake(Context& c, bool unstake) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  const std::string& name = c.options.args.at(0);
  auto amount = parseAmount(c.options.args.at(1), error);
  if (!amount) return c.fail(error, kUsage);
  if (!unstake) {
    // The promise: a contract is verified before anyone stakes on it. The source verified is
    // the one the pool holds, compiled and proven here.
    auto a = queryContract(c, *fog, name, error);
    if (!a) return c.fail(error);
    auto v = verifySource(a->contractSource, name + " (on the pool)", error);
    if (!v) return c.fail("the pool's source of '" + name + "' does not compile here: " + error);
    if (!v->proven) {
      std::string what = std::to_string(v->provenCount) + " of " + std::to_string(v->properties) +
                         " properties proven";
      if (!c.options.force)
        return c.fail("refusing to stake on '" + name + "': it does not verify (" + what +
                      "); `fog contract show " + name +
                      " --json` gives the certificate, floc verify the counterexamples; "
                      "--force stakes anyway");
      c.err << "fog: WARNING: staking on '" << name << "', WHICH DOES NOT VERIFY (" << what
            << "), because of --force\n";
    } else if (!c.options.json) {
      c.err << "contract '" << name << "' verifies: " << v->provenCount << " of " << v->properties
            << " properties proven\n";
    }
    return submitAs(c, *fog, c.options.from, pool::StakeContract{name, *amount});
  }
  return submitAs(c, *fog, c.options.from, pool::UnstakeContract{name, *amount});
}

} // namespace flo::fog
