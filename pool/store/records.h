/// \file
/// How a replica's store writes what it keeps, one canonical record per column value
/// (core/canonical.h), so a stored row has exactly one encoding and every reader checks its
/// shape: the wire's own bodies (Proposal, CommittedBlock, BlockHeader, QuorumCert toMap and
/// read) wrapped in store record types, plus the few things the wire never sends (a block's
/// results, the safety state, a checkpoint's signatures). These are storage encodings: nothing
/// signs them, and the record type names the column, so bytes of one column never decode as
/// another's.
#pragma once

#include "pool/core/effects.h"

#include <optional>
#include <string>
#include <vector>

namespace flo::pool {

Bytes encodeCommittedBlock(const CommittedBlock& block);
Bytes encodeProposal(const Proposal& proposal);
Bytes encodeHeader(const BlockHeader& header);
Bytes encodeQc(const QuorumCert& qc);
Bytes encodeResults(const std::vector<TxResult>& results);
Bytes encodeSafety(const SafetyState& safety);
Bytes encodeSignatures(const std::vector<SignedBy>& signatures);

/// Each decoder takes exactly what its encoder writes (same record type, version and fields,
/// nothing unknown) and returns nullopt with why otherwise; `maxTxs` bounds a block's
/// transactions (the genesis's maxBlockTxs).
std::optional<CommittedBlock> decodeCommittedBlock(const Bytes& data, std::size_t maxTxs,
                                                   std::string* error = nullptr);
std::optional<Proposal> decodeProposal(const Bytes& data, std::size_t maxTxs,
                                       std::string* error = nullptr);
std::optional<BlockHeader> decodeHeader(const Bytes& data, std::string* error = nullptr);
std::optional<QuorumCert> decodeQc(const Bytes& data, std::string* error = nullptr);
std::optional<std::vector<TxResult>> decodeResults(const Bytes& data, std::string* error = nullptr);
std::optional<SafetyState> decodeSafety(const Bytes& data, std::string* error = nullptr);
std::optional<std::vector<SignedBy>> decodeSignatures(const Bytes& data,
                                                      std::string* error = nullptr);

/// A digest from a stored 32-byte column; nullopt for any other length.
std::optional<Digest> digestFrom(const Bytes& data);

} // namespace flo::pool
