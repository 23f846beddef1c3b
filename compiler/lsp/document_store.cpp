/// \file
/// Open documents and their analyses.
#include "compiler/lsp/document_store.h"

#include "compiler/lsp/positions.h"

namespace flo::lsp {

Document& DocumentStore::open(const std::string& uri, std::string text, std::int64_t version) {
  Document& doc = documents_[uri];
  doc.uri = uri;
  doc.text = std::move(text);
  doc.version = version;
  reanalyze(doc);
  return doc;
}

Document* DocumentStore::change(const std::string& uri, const nlohmann::json& changes,
                                std::int64_t version) {
  Document* doc = find(uri);
  if (!doc) return nullptr;
  for (const auto& c : changes) {
    std::string text = c.at("text").get<std::string>();
    if (!c.contains("range")) {
      doc->text = std::move(text);
      continue;
    }
    LineIndex index(doc->text);
    std::uint32_t begin = index.offset(positionFromJson(c.at("range").at("start")));
    std::uint32_t end = index.offset(positionFromJson(c.at("range").at("end")));
    if (end < begin) std::swap(begin, end);
    doc->text.replace(begin, end - begin, text);
  }
  doc->version = version;
  reanalyze(*doc);
  return doc;
}

Document* DocumentStore::find(const std::string& uri) {
  auto it = documents_.find(uri);
  return it == documents_.end() ? nullptr : &it->second;
}

void DocumentStore::reanalyze(Document& doc) {
  doc.analysis = analyze(pathFromUri(doc.uri), doc.text, warningFlags_, followLoads_);
}

} // namespace flo::lsp
