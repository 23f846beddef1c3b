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

// cmd_bench.cpp: fog bench net
void addBenchNetOptions(CLI::App& app, Options& o);
int benchNet(Context& c);

} // namespace flo::fog
