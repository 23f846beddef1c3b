/// \file
/// A contract's verification certificate (docs/verify.md, "Certificates"): what `floc verify
/// --json` prints and `fog contract show` and `fog stake` report, from one place.
#pragma once

#include "compiler/verify/verify.h"
#include "lang/source_manager.h"

#include <nlohmann/json.hpp>

#include <string>

namespace flo::verify {

struct CertificateOf {
  std::string file;         ///< as given
  std::string sourceSha256; ///< hex
  std::string compiler;     ///< "floc 0.1.0"
  double timeoutSeconds = 10;
  double seconds = 0; ///< what the contract took
};

/// {contract, file, source_sha256, compiler, z3, timeout_s, verified, seconds, properties, cost};
/// lines and columns from `sources`.
nlohmann::json certificate(const ContractResult& r, const lang::SourceManager& sources,
                           const CertificateOf& of);

/// How many properties were proven.
std::size_t provenCount(const ContractResult& r);

} // namespace flo::verify
