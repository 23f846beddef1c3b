/// \file
/// The documents the editor has open, by URI: their text, version and latest analysis. The
/// editor owns the truth (didOpen/didChange/didClose); nothing here reads the disk.
#pragma once

#include "compiler/lsp/analysis.h"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace flo::lsp {

struct Document {
  std::string uri;
  std::string text;
  std::int64_t version = 0;
  std::unique_ptr<Analysis> analysis; ///< of `text`; rebuilt on every change
};

class DocumentStore {
public:
  DocumentStore(std::vector<std::string> warningFlags, bool followLoads)
      : warningFlags_(std::move(warningFlags)), followLoads_(followLoads) {}

  /// Opens (or reopens) a document and analyses it.
  Document& open(const std::string& uri, std::string text, std::int64_t version);
  /// Applies didChange's contentChanges in order: a change without a range replaces the text,
  /// one with a range replaces that range. Returns null for a document that is not open.
  /// Throws nlohmann::json::exception when a change is malformed.
  Document* change(const std::string& uri, const nlohmann::json& changes, std::int64_t version);
  void close(const std::string& uri) { documents_.erase(uri); }
  Document* find(const std::string& uri);

private:
  void reanalyze(Document& doc);

  std::vector<std::string> warningFlags_;
  bool followLoads_;
  std::map<std::string, Document> documents_;
};

} // namespace flo::lsp
