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

/// A job's record (DIR/job.json, written by `fog deploy`): its fields (id, file, job, owner,
/// runs, replicas, height) and the order's id they name.
struct JobRecord {
  nlohmann::json fields;
  core::Digest order{};
};
/// nullopt and `error` when the record is missing or damaged.
std::optional<JobRecord> readJob(const std::filesystem::path& dir, std::string& error);

} // namespace flo::fog
