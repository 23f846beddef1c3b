/// \file
/// The pool's client (see pool_client.h).
#include "pool/net/pool_client.h"

namespace flo::pool {

PoolClient::PoolClient(core::UdpNode& node, Genesis genesis)
    : node_(node), genesis_(std::move(genesis)) {
  for (ReplicaIndex i = 0; i < genesis_.replicas.size(); ++i) byDid_[genesis_.replicas[i].did] = i;
  node_.onDelivery([this](const core::Delivery& d) { onDelivery(d); });
}

void PoolClient::onDelivery(const core::Delivery& d) {
  auto r = byDid_.find(d.did);
  if (r == byDid_.end()) return; // not a replica of this pool
  auto m = decodeMessage(d.message.data(), d.message.size(), 0);
  if (m) answers_[r->second] = std::move(*m);
}

void PoolClient::sendAll(const Message& m) {
  Bytes bytes = encodeMessage(m);
  for (const auto& r : genesis_.replicas) node_.send({r.host, r.port}, r.did, bytes);
}

std::optional<SubmitOutcome> PoolClient::submit(const Bytes& tx, std::chrono::milliseconds timeout,
                                                std::string& error) {
  post(tx);
  return await(tx, timeout, error);
}

void PoolClient::post(const Bytes& tx) {
  answers_.clear();
  sendAll(Submit{tx});
}

std::optional<SubmitOutcome> PoolClient::await(const Bytes& tx, std::chrono::milliseconds timeout,
                                               std::string& error) {
  Digest id = core::hash(tx);
  std::optional<SubmitOutcome> out;
  auto decide = [&] {
    std::map<std::tuple<int, bool, std::uint64_t, Digest, std::string>, std::size_t> agree;
    for (const auto& [r, m] : answers_) {
      const std::optional<TxStatus> s = statusOf(m, id);
      if (!s) continue;
      bool committed = s->state == TxStatus::State::Committed;
      auto key = std::make_tuple(committed ? 1 : 0, s->applied, committed ? s->height : 0,
                                 committed ? s->stateRoot : Digest{}, s->error);
      if (++agree[key] >= genesis_.faults() + 1) {
        out = SubmitOutcome{
            committed, s->applied, committed ? s->height : 0, committed ? s->stateRoot : Digest{},
            id,        s->error};
        return true;
      }
    }
    return false;
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // Resend now and then: a replica that restarted forgot who waits for what.
  while (!decide() && std::chrono::steady_clock::now() < deadline) {
    node_.runUntil(decide, std::min(timeout, std::chrono::milliseconds(1000)));
    if (!out && std::chrono::steady_clock::now() < deadline) sendAll(Submit{tx});
  }
  if (out) return out;
  std::size_t answered = 0;
  for (const auto& [r, m] : answers_)
    if (statusOf(m, id)) ++answered;
  error = "no " + std::to_string(genesis_.faults() + 1) + " matching answers within " +
          std::to_string(timeout.count()) + " ms (" + std::to_string(answered) + " of " +
          std::to_string(genesis_.replicas.size()) + " replicas answered)";
  return std::nullopt;
}

std::optional<QueryAnswer> PoolClient::query(const std::optional<AccountId>& account,
                                             std::chrono::milliseconds timeout, std::string& error,
                                             const std::optional<std::string>& contract) {
  Query q;
  q.account = account;
  q.contract = contract;
  return ask(std::move(q), timeout, error);
}

std::optional<QueryAnswer> PoolClient::ask(Query q, std::chrono::milliseconds timeout,
                                           std::string& error) {
  const auto& account = q.account;
  q.id = nextQuery_++;
  answers_.clear();
  sendAll(q);
  std::optional<QueryAnswer> out;
  auto decide = [&] {
    std::map<std::tuple<bool, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, bool,
                        bool, std::uint64_t, std::uint64_t, std::string, std::string, std::string>,
             std::vector<const QueryAnswer*>>
        agree;
    for (const auto& [r, m] : answers_) {
      const auto* a = std::get_if<QueryAnswer>(&m);
      if (!a || a->id != q.id) continue;
      auto& who = agree[{a->found, a->balance, a->stake, a->unbonding, a->nonce, a->provider,
                         a->contractFound, a->contractHeld, a->contractStaked, a->contractState,
                         a->orderJson, a->providersJson}];
      who.push_back(a);
      if (who.size() >= genesis_.quorum()) {
        out = *who.front();
        return true;
      }
    }
    return false;
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!decide() && std::chrono::steady_clock::now() < deadline) {
    node_.runUntil(decide, std::min(timeout, std::chrono::milliseconds(500)));
    if (!out && std::chrono::steady_clock::now() <
                    deadline) { // the replicas may disagree for a block: ask again
      q.id = nextQuery_++;
      answers_.clear();
      sendAll(q);
    }
  }
  if (!out) {
    error = "no " + std::to_string(genesis_.quorum()) + " matching answers within " +
            std::to_string(timeout.count()) + " ms";
    // What the last round heard, so that a replica behind or lying shows.
    std::string heard;
    for (const auto& [r, m] : answers_) {
      const auto* a = std::get_if<QueryAnswer>(&m);
      if (!a || a->id != q.id) continue;
      heard += (heard.empty() ? "" : "; ") + ("replica " + std::to_string(r)) + " at height " +
               std::to_string(a->height) +
               (account ? " says nonce " + std::to_string(a->nonce) + ", balance " +
                              std::to_string(a->balance)
                        : "");
    }
    error += heard.empty() ? " (no replica answered)" : " (" + heard + ")";
  }
  return out;
}

std::vector<std::optional<QueryAnswer>> PoolClient::status(std::chrono::milliseconds timeout) {
  Query q;
  q.id = nextQuery_++;
  answers_.clear();
  sendAll(q);
  auto all = [&] {
    std::size_t n = 0;
    for (const auto& [r, m] : answers_)
      if (const auto* a = std::get_if<QueryAnswer>(&m); a && a->id == q.id) ++n;
    return n == genesis_.replicas.size();
  };
  node_.runUntil(all, timeout);
  std::vector<std::optional<QueryAnswer>> out(genesis_.replicas.size());
  for (const auto& [r, m] : answers_)
    if (const auto* a = std::get_if<QueryAnswer>(&m); a && a->id == q.id) out[r] = *a;
  return out;
}

std::optional<std::uint64_t> PoolClient::nextNonce(const AccountId& account,
                                                   std::chrono::milliseconds timeout,
                                                   std::string& error) {
  auto a = query(account, timeout, error);
  if (!a) return std::nullopt;
  return a->found ? a->nonce : 0;
}

} // namespace flo::pool
