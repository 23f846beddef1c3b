/// \file
/// Verification certificates (see certificate.h).
#include "compiler/verify/certificate.h"

#include <cmath>

namespace flo::verify {

std::size_t provenCount(const ContractResult& r) {
  std::size_t n = 0;
  for (const auto& p : r.properties) n += p.verdict == Verdict::Proven;
  return n;
}

nlohmann::json certificate(const ContractResult& r, const lang::SourceManager& sources,
                           const CertificateOf& of) {
  nlohmann::json props = nlohmann::json::array();
  nlohmann::json cost = nlohmann::json::object();
  for (const auto& p : r.properties) {
    lang::LineCol at;
    if (p.range.valid()) at = sources.lineCol(p.range.file, p.range.begin);
    nlohmann::json j = {{"action", p.action},
                        {"property", p.kind},
                        {"text", p.text},
                        {"line", at.line},
                        {"column", at.column},
                        {"verdict", verdictName(p.verdict)},
                        {"seconds", std::round(p.seconds * 1e4) / 1e4}};
    if (p.bound) {
      j["bound"] = *p.bound;
      cost[p.action] = *p.bound;
    }
    if (p.verdict != Verdict::Proven) {
      j["message"] = p.message;
      j["notes"] = p.notes;
    }
    props.push_back(std::move(j));
  }
  return {{"contract", r.name},
          {"file", of.file},
          {"source_sha256", of.sourceSha256},
          {"compiler", of.compiler},
          {"z3", z3Version()},
          {"timeout_s", of.timeoutSeconds},
          {"verified", r.proven()},
          {"seconds", std::round(of.seconds * 1e3) / 1e3},
          {"properties", std::move(props)},
          {"cost", std::move(cost)}};
}

} // namespace flo::verify
