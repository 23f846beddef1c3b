/// \file
/// JSON-RPC dispatch for `floc lsp`: the method tables, the lifecycle (initialize, shutdown,
/// exit) and the error responses for what a client gets wrong.
#include "compiler/lsp/server.h"

#include "compiler/lsp/features.h"
#include "compiler/lsp/transport.h"

#include <istream>
#include <ostream>

namespace flo::lsp {

namespace {

// JSON-RPC and LSP error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kServerNotInitialized = -32002;
constexpr int kRequestFailed = -32803;

/// A handler's refusal, answered with kRequestFailed and the message.
struct RequestFailed {
  std::string message;
};

std::uint32_t offsetOf(const Document& doc, const nlohmann::json& params) {
  return LineIndex(doc.text).offset(positionFromJson(params.at("position")));
}

} // namespace

Server::Server(std::ostream& out, std::ostream& log, ServerOptions options)
    : out_(out), log_(log), documents_(std::move(options.warningFlags), options.followLoads) {
  requests_["initialize"] = [this](const nlohmann::json& p) { return initialize(p); };
  requests_["shutdown"] = [this](const nlohmann::json&) {
    shutdown_ = true;
    return nlohmann::json(nullptr);
  };
  requests_["textDocument/formatting"] = [this](const nlohmann::json& p) { return formatting(p); };
  requests_["textDocument/documentSymbol"] = [this](const nlohmann::json& p) {
    Document& doc = document(p);
    return documentSymbols(*doc.analysis, LineIndex(doc.text));
  };
  requests_["textDocument/definition"] = [this](const nlohmann::json& p) {
    Document& doc = document(p);
    return definition(*doc.analysis, LineIndex(doc.text), doc.uri, offsetOf(doc, p));
  };
  requests_["textDocument/references"] = [this](const nlohmann::json& p) {
    Document& doc = document(p);
    bool declaration = p.contains("context") && p["context"].value("includeDeclaration", false);
    return references(*doc.analysis, LineIndex(doc.text), doc.uri, offsetOf(doc, p), declaration);
  };
  requests_["textDocument/hover"] = [this](const nlohmann::json& p) {
    Document& doc = document(p);
    return hover(*doc.analysis, LineIndex(doc.text), offsetOf(doc, p));
  };
  requests_["textDocument/completion"] = [this](const nlohmann::json& p) {
    Document& doc = document(p);
    return completion(*doc.analysis, doc.text, offsetOf(doc, p));
  };
  notifications_["initialized"] = [](const nlohmann::json&) {};
  notifications_["exit"] = [this](const nlohmann::json&) { exited_ = true; };
  notifications_["textDocument/didOpen"] = [this](const nlohmann::json& p) { didOpen(p); };
  notifications_["textDocument/didChange"] = [this](const nlohmann::json& p) { didChange(p); };
  notifications_["textDocument/didClose"] = [this](const nlohmann::json& p) { didClose(p); };
}

void Server::handleMessage(std::string_view body) {
  auto message = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) {
    respondError(nullptr, kParseError, "the message is not valid JSON");
    return;
  }
  try {
    dispatch(message);
  } catch (const std::exception& e) {
    // Only a bug gets here (handlers answer bad params themselves); keep serving.
    log_ << "floc lsp: internal error: " << e.what() << "\n";
  }
}

void Server::dispatch(const nlohmann::json& message) {
  nlohmann::json id = nullptr;
  if (message.is_object() && message.contains("id")) {
    const auto& raw = message["id"];
    if (raw.is_number_integer() || raw.is_string()) id = raw;
  }
  if (!message.is_object() || !message.contains("method") || !message["method"].is_string()) {
    // A response from the client (we send no requests) or garbage.
    if (!(message.is_object() && message.contains("id") &&
          (message.contains("result") || message.contains("error"))))
      respondError(id, kInvalidRequest, "not a JSON-RPC request or notification");
    return;
  }
  const std::string method = message["method"].get<std::string>();
  const nlohmann::json params =
      message.contains("params") ? message["params"] : nlohmann::json::object();
  bool isRequest = message.contains("id");

  if (!isRequest) {
    auto it = notifications_.find(method);
    // Unknown notifications ($/cancelRequest, $/setTrace...) are ignored, as LSP says.
    if (it == notifications_.end()) return;
    if (!initialized_ && method != "exit") return;
    try {
      it->second(params);
    } catch (const nlohmann::json::exception& e) {
      log_ << "floc lsp: dropped " << method << ": " << e.what() << "\n";
    }
    return;
  }
  if (id.is_null()) {
    respondError(nullptr, kInvalidRequest, "the id must be an integer or a string");
    return;
  }
  auto it = requests_.find(method);
  if (it == requests_.end()) {
    respondError(id, kMethodNotFound, "unknown method '" + method + "'");
    return;
  }
  if (!initialized_ && method != "initialize") {
    respondError(id, kServerNotInitialized, "the server is not initialized");
    return;
  }
  if (shutdown_) {
    respondError(id, kInvalidRequest, "the server is shutting down");
    return;
  }
  try {
    respond(id, it->second(params));
  } catch (const nlohmann::json::exception& e) {
    respondError(id, kInvalidParams, std::string("invalid params: ") + e.what());
  } catch (const RequestFailed& e) {
    respondError(id, kRequestFailed, e.message);
  } catch (const std::exception& e) {
    // A bug or out of memory: the client still gets its answer, and the server goes on.
    log_ << "floc lsp: internal error in " << method << ": " << e.what() << "\n";
    respondError(id, kInternalError, std::string("internal error: ") + e.what());
  }
}

void Server::respond(const nlohmann::json& id, nlohmann::json result) {
  nlohmann::json m = {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
  writeFrame(out_, m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Server::respondError(const nlohmann::json& id, int code, const std::string& message) {
  nlohmann::json m = {
      {"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
  writeFrame(out_, m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Server::notify(const std::string& method, nlohmann::json params) {
  nlohmann::json m = {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
  writeFrame(out_, m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

nlohmann::json Server::initialize(const nlohmann::json&) {
  if (initialized_) throw RequestFailed{"initialize was already received"};
  initialized_ = true;
  return {{"capabilities",
           {{"textDocumentSync", {{"openClose", true}, {"change", 1}}},
            {"documentFormattingProvider", true},
            {"documentSymbolProvider", true},
            {"definitionProvider", true},
            {"hoverProvider", true},
            {"referencesProvider", true},
            {"completionProvider", {{"triggerCharacters", {"."}}}}}},
          {"serverInfo", {{"name", "floc"}, {"version", FLOC_VERSION}}}};
}

Document& Server::document(const nlohmann::json& params) {
  std::string uri = params.at("textDocument").at("uri").get<std::string>();
  Document* doc = documents_.find(uri);
  if (!doc) throw RequestFailed{"the document is not open: " + uri};
  return *doc;
}

nlohmann::json Server::formatting(const nlohmann::json& params) {
  Document& doc = document(params);
  std::string error;
  auto formatted = formatDocument(pathFromUri(doc.uri), doc.text, error);
  if (!formatted) throw RequestFailed{error};
  if (*formatted == doc.text) return nlohmann::json::array();
  LineIndex index(doc.text);
  return nlohmann::json::array(
      {{{"range", {{"start", toJson({0, 0})}, {"end", toJson(index.end())}}},
        {"newText", *formatted}}});
}

void Server::didOpen(const nlohmann::json& params) {
  const auto& item = params.at("textDocument");
  publishDiagnostics(documents_.open(item.at("uri").get<std::string>(),
                                     item.at("text").get<std::string>(),
                                     item.value("version", std::int64_t{0})));
}

void Server::didChange(const nlohmann::json& params) {
  const auto& id = params.at("textDocument");
  Document* doc = documents_.change(id.at("uri").get<std::string>(), params.at("contentChanges"),
                                    id.value("version", std::int64_t{0}));
  if (doc) publishDiagnostics(*doc);
}

void Server::didClose(const nlohmann::json& params) {
  std::string uri = params.at("textDocument").at("uri").get<std::string>();
  documents_.close(uri);
  // Clear what the editor shows for a closed file.
  notify("textDocument/publishDiagnostics",
         {{"uri", uri}, {"diagnostics", nlohmann::json::array()}});
}

void Server::publishDiagnostics(const Document& doc) {
  notify("textDocument/publishDiagnostics",
         {{"uri", doc.uri},
          {"version", doc.version},
          {"diagnostics", lspDiagnostics(*doc.analysis, LineIndex(doc.text), doc.uri)}});
}

int runServer(std::istream& in, std::ostream& out, std::ostream& log, ServerOptions options) {
  Server server(out, log, std::move(options));
  while (!server.exited()) {
    Frame frame = readFrame(in);
    if (frame.status == Frame::Status::Eof) break;
    if (frame.status == Frame::Status::Bad) {
      log << "floc lsp: dropped a message: " << frame.error << "\n";
      continue;
    }
    server.handleMessage(frame.body);
  }
  return server.exitCode();
}

} // namespace flo::lsp
