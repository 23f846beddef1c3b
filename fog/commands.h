/// \file
/// The handlers the command table (cli.cpp) points at, one file per group: each command has an
/// `add...Options` function that binds its options to Options, and a handler that runs it.
#pragma once

#include "fog/cli.h"

namespace flo::fog {

/// --passphrase-file and --passphrase-stdin (exclusive), for commands that unlock a key.
void addPassphraseOptions(CLI::App& app, Options& o);

// cmd_id.cpp: fog id new|list|show|rotate
void addIdNewOptions(CLI::App& app, Options& o);
int idNew(Context& c);
void addIdListOptions(CLI::App& app, Options& o);
int idList(Context& c);
void addIdShowOptions(CLI::App& app, Options& o);
int idShow(Context& c);
void addIdRotateOptions(CLI::App& app, Options& o);
int idRotate(Context& c);

// cmd_sign.cpp: fog sign, fog verify
void addSignOptions(CLI::App& app, Options& o);
int sign(Context& c);
void addVerifyOptions(CLI::App& app, Options& o);
int verify(Context& c);

// cmd_job.cpp: fog job run
void addJobRunOptions(CLI::App& app, Options& o);
int jobRun(Context& c);

// cmd_net.cpp: fog net listen|send
void addNetListenOptions(CLI::App& app, Options& o);
int netListen(Context& c);
void addNetSendOptions(CLI::App& app, Options& o);
int netSend(Context& c);

// cmd_provenance.cpp: fog provenance record|show|lineage
void addProvenanceRecordOptions(CLI::App& app, Options& o);
int provenanceRecord(Context& c);
void addProvenanceShowOptions(CLI::App& app, Options& o);
int provenanceShow(Context& c);
void addProvenanceLineageOptions(CLI::App& app, Options& o);
int provenanceLineage(Context& c);

// cmd_bench.cpp: fog bench net, fog bench pool
void addBenchNetOptions(CLI::App& app, Options& o);
int benchNet(Context& c);
void addBenchPoolOptions(CLI::App& app, Options& o);
int benchPool(Context& c);

// cmd_pool.cpp: the local fog, accounts and transactions, replicas
void addUpOptions(CLI::App& app, Options& o);
int up(Context& c);
void addDownOptions(CLI::App& app, Options& o);
int down(Context& c);
void addStatusOptions(CLI::App& app, Options& o);
int status(Context& c);
void addAccountNewOptions(CLI::App& app, Options& o);
int accountNew(Context& c);
void addAccountBalanceOptions(CLI::App& app, Options& o);
int accountBalance(Context& c);
void addAccountTransferOptions(CLI::App& app, Options& o);
int accountTransfer(Context& c);
void addStakeOptions(CLI::App& app, Options& o);
int stake(Context& c);
int unstake(Context& c);
void addProviderRegisterOptions(CLI::App& app, Options& o);
int providerRegister(Context& c);
// cmd_contract.cpp: fog contract deploy|call|show; staking on a contract
void addContractDeployOptions(CLI::App& app, Options& o);
int contractDeploy(Context& c);
void addContractCallOptions(CLI::App& app, Options& o);
int contractCall(Context& c);
void addContractShowOptions(CLI::App& app, Options& o);
int contractShow(Context& c);
/// `fog stake CONTRACT AMOUNT` (verified first) and `fog unstake CONTRACT AMOUNT`.
int contractStake(Context& c, bool unstake);
// cmd_deploy.cpp: fog fogger, fog jobs|results|logs|cancel; deployer.cpp: fog deploy
void addFoggerOptions(CLI::App& app, Options& o);
int foggerRun(Context& c);
void addDeployOptions(CLI::App& app, Options& o);
int deploy(Context& c);
void addJobsOptions(CLI::App& app, Options& o);
int jobs(Context& c);
void addJobOptions(CLI::App& app, Options& o);
int results(Context& c);
void addLogsOptions(CLI::App& app, Options& o);
int logs(Context& c);
int cancel(Context& c);
// cmd_bench_deploy.cpp: fog bench deploy
void addBenchDeployOptions(CLI::App& app, Options& o);
int benchDeploy(Context& c);

void addPoolRunOptions(CLI::App& app, Options& o);
int poolRun(Context& c);
void addPoolSimOptions(CLI::App& app, Options& o);
int poolSim(Context& c);
void addVerifyChainOptions(CLI::App& app, Options& o);
int poolVerifyChain(Context& c);

} // namespace flo::fog
