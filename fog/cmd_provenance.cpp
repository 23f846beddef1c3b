/// \file
/// `fog provenance record|show|lineage`: signed provenance records in $FOG_HOME/provenance.db
/// and the walk from an item back to its sources.
#include "core/provenance.h"
#include "core/store/provenance_store.h"
#include "fog/commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <ostream>

namespace flo::fog {

using namespace core;

namespace {

void addStoreOptions(CLI::App& app, Options& o) {
  app.add_option("--db", o.db, "the SQLite store (default $FOG_HOME/provenance.db)");
  app.add_flag("--json", o.json, "machine-readable output");
}

std::unique_ptr<ProvenanceStore> openProvenance(const Options& o, std::string& error) {
  std::string db = o.db.empty() ? (Keystore::defaultHome() / "provenance.db").string() : o.db;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(db).parent_path(), ec);
  return ProvenanceStore::open(db, &error);
}

nlohmann::json recordJson(const ProvenanceRecord& r) {
  return {{"item", r.itemId},
          {"event", eventName(r.event)},
          {"parents", r.parents},
          {"payload_blake2b", toHex(r.payloadHash)},
          {"job", r.job},
          {"producer", r.producer},
          {"timestamp_us", r.timestampMicros}};
}

} // namespace

void addProvenanceRecordOptions(CLI::App& app, Options& o) {
  app.add_option("--id", o.name, "identity of the producer")->required();
  app.add_option("--event", o.event,
                 "create, fork, join, modify, send, receive or drop (default: create without "
                 "parents, modify with one, join with more)");
  app.add_option("--parent", o.parents, "a parent item id (repeatable)");
  app.add_option("--job", o.job, "the producing job (default: the identity name)");
  app.add_option("file", o.file, "the item's payload")->required();
  addPassphraseOptions(app, o);
  addStoreOptions(app, o);
}

/// A signed record for FILE's content, stored; prints its item id.
int provenanceRecord(Context& c) {
  const Options& o = c.options;
  std::string name = o.event;
  if (name.empty()) name = o.parents.empty() ? "create" : o.parents.size() == 1 ? "modify" : "join";
  auto event = eventFromName(name);
  if (!event)
    return c.fail("unknown event '" + o.event +
                      "' (create, fork, join, modify, send, receive, drop)",
                  kUsage);
  std::string error;
  auto content = readFile(o.file, error);
  if (!content) return c.fail(error);
  auto id = c.identity(error);
  if (!id) return c.fail(error);
  auto store = openProvenance(o, error);
  if (!store) return c.fail(error);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  ProvenanceRecord r = makeProvenanceRecord(id->current, *event, o.parents, *content,
                                            o.job.empty() ? o.name : o.job, std::uint64_t(micros));
  if (!store->add(r, &error)) return c.fail("record rejected: " + error);
  if (o.json)
    c.out << recordJson(r).dump(2) << "\n";
  else
    c.out << r.itemId << "\n";
  return kOk;
}

void addProvenanceShowOptions(CLI::App& app, Options& o) {
  app.add_option("item", o.item, "item id")->required();
  addStoreOptions(app, o);
}

int provenanceShow(Context& c) {
  const Options& o = c.options;
  std::string error;
  auto store = openProvenance(o, error);
  if (!store) return c.fail(error);
  auto r = store->get(o.item, &error);
  if (!r) return c.fail("no record for '" + o.item + "'" + (error.empty() ? "" : ": " + error));
  std::string detail;
  ProvenanceCheck check = verifyRecord(*r, &detail);
  nlohmann::json j = recordJson(*r);
  j["check"] = checkName(check);
  if (!detail.empty()) j["detail"] = detail;
  j["children"] = store->children(o.item);
  if (o.json) {
    c.out << j.dump(2) << "\n";
  } else {
    for (auto& [k, v] : j.items())
      c.out << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  }
  return check == ProvenanceCheck::Ok ? kOk : kFailed;
}

void addProvenanceLineageOptions(CLI::App& app, Options& o) {
  app.add_option("item", o.item, "item id")->required();
  addStoreOptions(app, o);
}

/// Walks ITEM back to its sources, verifying every record and link; exit 0 only when the whole
/// lineage verifies.
int provenanceLineage(Context& c) {
  const Options& o = c.options;
  std::string error;
  auto store = openProvenance(o, error);
  if (!store) return c.fail(error);
  LineageReport rep = store->lineage(o.item);
  if (o.json) {
    nlohmann::json j = {{"item", o.item},
                        {"verified", rep.verified()},
                        {"visited", rep.visited},
                        {"sources", rep.sources},
                        {"truncated", rep.truncated}};
    if (rep.broken)
      j["broken"] = {{"item", rep.broken->itemId},
                     {"check", checkName(rep.broken->check)},
                     {"detail", rep.broken->detail},
                     {"path", rep.broken->path}};
    c.out << j.dump(2) << "\n";
  } else {
    c.out << rep.visited.size() << " items verified, " << rep.sources.size() << " sources\n";
    for (const auto& s : rep.sources) c.out << "source " << s << "\n";
    if (rep.broken) {
      c.out << "broken: " << rep.broken->itemId << ": " << checkName(rep.broken->check)
            << (rep.broken->detail.empty() ? "" : " (" + rep.broken->detail + ")") << "\n";
      c.out << "path:";
      for (const auto& p : rep.broken->path) c.out << " " << p;
      c.out << "\n";
    } else if (rep.truncated) {
      c.out << "stopped at the item limit before the sources\n";
    } else {
      c.out << "lineage verified\n";
    }
  }
  return rep.verified() ? kOk : kFailed;
}

} // namespace flo::fog
