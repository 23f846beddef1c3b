/// \file
/// The `floc check` pipeline on an editor buffer, and its JSON diagnostics as LSP diagnostics.
#include "compiler/lsp/analysis.h"

#include "compiler/ir/lower.h"
#include "compiler/sema/check.h"
#include "lang/parser.h"

#include <filesystem>
#include <sstream>

namespace flo::lsp {

std::unique_ptr<Analysis> analyze(const std::string& name, std::string text,
                                  const std::vector<std::string>& warningFlags, bool followLoads) {
  auto a = std::make_unique<Analysis>();
  // The same defaults as `floc check`: error limit 100, warnings as the flags say.
  a->diags.setErrorLimit(100);
  for (const auto& flag : warningFlags) a->diags.applyFlag(flag);
  // A document with a file path: `load` resolves against its directory, as `floc check FILE`.
  std::filesystem::path path;
  if (!name.empty() && name.front() == '/') path = name;
  a->file = a->sources.addBuffer(name, std::move(text), path);
  lang::ParseOptions po;
  po.followLoads = followLoads;
  a->program = lang::parseProgram(a->sources, a->file, a->diags, po);
  // As commandCheck in the driver: check, then lower for store paths and types when clean.
  if (!a->diags.limitReached()) {
    a->model = sema::check(*a->program, a->diags);
    if (!a->diags.hasErrors())
      a->ir = ir::lower(*a->program, *a->model, a->sources, a->diags, true);
  }
  return a;
}

nlohmann::json lspDiagnostics(const Analysis& analysis, const LineIndex& index,
                              const std::string& uri) {
  std::ostringstream rendered;
  analysis.diags.renderJson(rendered);
  auto doc = nlohmann::json::parse(rendered.str());
  const std::string& name = analysis.sources.name(analysis.file);
  auto rangeOf = [&](const nlohmann::json& loc) {
    auto begin = loc.at("offset").get<std::uint32_t>();
    return rangeJson(index, begin, begin + loc.at("length").get<std::uint32_t>());
  };
  auto here = [&](const nlohmann::json& loc) {
    return loc.is_object() && loc.at("file").get<std::string>() == name;
  };
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : doc.at("diagnostics")) {
    const auto& loc = d.at("location");
    if (!loc.is_null() && !here(loc)) continue;
    std::string severity = d.at("severity").get<std::string>();
    nlohmann::json lsp = {{"range", loc.is_null() ? rangeJson(index, 0, 0) : rangeOf(loc)},
                          {"severity", severity == "error"     ? 1
                                       : severity == "warning" ? 2
                                                               : 3},
                          {"source", "floc"},
                          {"message", d.at("message")}};
    if (d.contains("warning")) lsp["code"] = d.at("warning");
    nlohmann::json related = nlohmann::json::array();
    for (const auto& n : d.at("notes")) {
      const auto& nloc = n.at("location");
      if (here(nloc)) {
        related.push_back(
            {{"location", {{"uri", uri}, {"range", rangeOf(nloc)}}}, {"message", n.at("message")}});
      } else {
        // A note without a place in this document is still worth reading: keep it in the text.
        lsp["message"] =
            lsp["message"].get<std::string>() + "\nnote: " + n.at("message").get<std::string>();
      }
    }
    if (!related.empty()) lsp["relatedInformation"] = std::move(related);
    out.push_back(std::move(lsp));
  }
  return out;
}

std::string pathFromUri(const std::string& uri) {
  constexpr std::string_view kScheme = "file://";
  if (uri.rfind(kScheme, 0) != 0) return uri;
  std::string path;
  for (std::size_t i = kScheme.size(); i < uri.size(); ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (uri[i] == '%' && i + 2 < uri.size() && hex(uri[i + 1]) >= 0 && hex(uri[i + 2]) >= 0) {
      path.push_back(static_cast<char>(hex(uri[i + 1]) * 16 + hex(uri[i + 2])));
      i += 2;
    } else {
      path.push_back(uri[i]);
    }
  }
  return path;
}

std::string uriFromPath(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) ||
        std::string_view("/-._~").find(static_cast<char>(c)) != std::string_view::npos) {
      uri.push_back(static_cast<char>(c));
    } else {
      uri.push_back('%');
      uri.push_back(kHex[c >> 4]);
      uri.push_back(kHex[c & 15]);
    }
  }
  return uri;
}

} // namespace flo::lsp
