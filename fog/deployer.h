/// \file
/// What `fog deploy` and the commands that read its jobs share (docs/deploy.md): where a local
/// fog keeps its jobs, an order as the pool reports it, and the job folders. The deployment
/// itself is fog/deployer.cpp.
#pragma once

#include "fog/local_fog.h"
#include "pool/net/pool_client.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace flo::fog {

/// D/jobs: one folder per deployed job (its record and each fogger's raw output), the bundles
/// compiled for it, and provenance.db with every verified output item.
std::filesystem::path jobsDir(const LocalFog& fog);

/// The job folder an id or a unique prefix of one (at least 4 characters) names.
std::optional<std::filesystem::path> findJob(const LocalFog& fog, const std::string& id,
                                             std::string& error);

/// The order as the pool reports it (n-f replicas alike), parsed: pool/ledger's orderJson.
std::optional<nlohmann::json> queryOrder(pool::PoolClient& pool, const core::Digest& id,
                                         std::string& error);

/// 64 hex digits as a digest; nullopt otherwise.
std::optional<core::Digest> digestOf(const std::string& hexText);

std::optional<core::Bytes> readBytes(const std::filesystem::path& p);
bool writeBytes(const std::filesystem::path& p, const core::Bytes& b);

} // namespace flo::fog
