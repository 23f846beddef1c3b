/// \file
/// Output chains (see chain.h).
#include "fogger/chain.h"

#include "core/identity.h"

namespace flo::fogger {

using core::ProvenanceRecord;

std::vector<std::string> finalShares(const std::string& stderrText, std::string& rest) {
  std::vector<std::string> shares;
  rest.clear();
  for (std::size_t at = 0; at < stderrText.size();) {
    std::size_t end = stderrText.find('\n', at);
    if (end == std::string::npos) end = stderrText.size();
    std::string_view line(stderrText.data() + at, end - at);
    at = end + 1;
    if (line.rfind("store: ", 0) != 0) {
      rest.append(line).push_back('\n');
      continue;
    }
    std::string_view share = line.substr(7);
    std::string_view path = share.substr(0, share.find(' '));
    path = path.substr(path.find(':') == std::string_view::npos ? 0 : path.find(':') + 1);
    if (path.rfind(".framer.", 0) == 0 || path.rfind(".meta.", 0) == 0 || path == ".time") continue;
    shares.push_back("share " + std::string(share));
  }
  return shares;
}

std::string jobLabel(const Digest& order, const std::string& job) {
  return "order:" + core::toHex(order.data(), order.size()) + "/" + job;
}

std::vector<ProvenanceRecord> buildChain(const core::SigningKey& fogger, const std::string& label,
                                         const std::vector<std::string>& lines,
                                         std::uint64_t micros) {
  std::vector<ProvenanceRecord> out;
  out.reserve(lines.size());
  for (const auto& line : lines) {
    Bytes payload(line.begin(), line.end());
    if (out.empty())
      out.push_back(core::makeProvenanceRecord(fogger, ProvenanceRecord::Event::Create, {}, payload,
                                               label, micros));
    else
      out.push_back(core::makeProvenanceRecord(fogger, ProvenanceRecord::Event::Modify,
                                               {out.back().itemId}, payload, label, micros));
  }
  return out;
}

Digest headOf(const std::vector<ProvenanceRecord>& records) {
  if (records.empty()) return Digest{};
  auto d = core::parseItemId(records.back().itemId);
  return d ? *d : Digest{};
}

std::optional<pool::RunResult> checkOutput(const RunOutput& out, const pool::AccountId& fogger,
                                           const Digest& order,
                                           std::vector<ProvenanceRecord>& records,
                                           std::string& error) {
  auto fail = [&](std::string why) -> std::optional<pool::RunResult> {
    error = std::move(why);
    return std::nullopt;
  };
  auto result = pool::RunResult::decode(out.result, &error);
  if (!result) return std::nullopt;
  if (!core::verifySignature(fogger, out.signature, pool::runResultMessage(*result)))
    return fail("the run result is not signed by " + core::didKey(fogger));
  if (result->order != order) return fail("the run result is for another order");
  if (result->items != out.records.size())
    return fail("the run result names " + std::to_string(result->items) + " items, " +
                std::to_string(out.records.size()) + " came");
  std::string producer = core::didKey(fogger), label;
  records.clear();
  for (std::size_t i = 0; i < out.records.size(); ++i) {
    std::string why;
    auto r = ProvenanceRecord::decode(out.records[i], &why);
    if (!r) return fail("item " + std::to_string(i) + ": " + why);
    if (auto check = core::verifyRecord(*r, &why); check != core::ProvenanceCheck::Ok)
      return fail("item " + std::to_string(i) + ": " + core::checkName(check) + ": " + why);
    if (r->producer != producer) return fail("item " + std::to_string(i) + " is not the fogger's");
    const std::string& line = out.payloads[i];
    if (r->payloadHash != core::hash(Bytes(line.begin(), line.end())))
      return fail("item " + std::to_string(i) + "'s line does not match its record");
    bool linked = i == 0 ? r->parents.empty() && r->event == ProvenanceRecord::Event::Create
                         : r->parents.size() == 1 && r->parents[0] == records.back().itemId &&
                               r->event == ProvenanceRecord::Event::Modify;
    if (!linked) return fail("item " + std::to_string(i) + " does not follow the one before");
    if (i == 0) label = r->job;
    if (r->job != label || label.rfind(jobLabel(order, ""), 0) != 0)
      return fail("item " + std::to_string(i) + " names another job");
    records.push_back(std::move(*r));
  }
  if (headOf(records) != result->head) return fail("the run result's head is not the last item");
  return result;
}

} // namespace flo::fogger
