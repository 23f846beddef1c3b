/// \file
/// A run's output as signed provenance items in a hash chain (docs/deploy.md): each printed
/// line is one item, produced by the fogger's key; the first is a Create, each later one a
/// Modify whose parent is the item before, so the last item's id commits to every line in
/// order. The fogger signs a RunResult naming that head; the deployer checks the whole chain
/// against it before it believes a line.
#pragma once

#include "core/provenance.h"

#include <optional>
#include <string>
#include <vector>

#include "fogger/wire.h"

namespace flo::fogger {

/// The final values of the shares a run leaves, from the host's `store: PATH field=value...`
/// lines (runtime `--store -`), as output lines `share PATH field=value...`: the program's own
/// shares, not the runtime's bookkeeping (`.framer.*`, `.meta.*`, `.time`). Other lines of
/// `stderr` are left in `rest`.
std::vector<std::string> finalShares(const std::string& stderrText, std::string& rest);

/// What a fogger's records name as their job: the order and the job's name.
std::string jobLabel(const Digest& order, const std::string& job);

/// The records of `lines`, signed by `fogger` at `micros` (one timestamp for the run's output).
std::vector<core::ProvenanceRecord> buildChain(const core::SigningKey& fogger,
                                               const std::string& label,
                                               const std::vector<std::string>& lines,
                                               std::uint64_t micros);

/// The digest the last record's id names (zero for no records).
Digest headOf(const std::vector<core::ProvenanceRecord>& records);

/// A RunOutput signed for `fogger` and `order`: its RunResult, signed by the fogger, whose head
/// and item count match the records, each of which verifies, is the fogger's, carries its
/// payload's hash and links to the one before. Nullopt and why otherwise; `records` gets the
/// decoded records.
std::optional<pool::RunResult> checkOutput(const RunOutput& out, const pool::AccountId& fogger,
                                           const Digest& order,
                                           std::vector<core::ProvenanceRecord>& records,
                                           std::string& error);

} // namespace flo::fogger
