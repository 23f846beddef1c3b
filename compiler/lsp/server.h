/// \file
/// `floc lsp`: a Language Server Protocol server. The Server is a state machine fed one decoded
/// message body at a time (so tests and the fuzzer drive it without a process); runServer adds
/// the stdio framing. Every malformed input gets a JSON-RPC error response (requests) or is
/// dropped (notifications); nothing a client sends can make it throw or crash.
#pragma once

#include "compiler/lsp/document_store.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace flo::lsp {

struct ServerOptions {
  std::vector<std::string> warningFlags; ///< floc's -W flags, applied to every analysis
  bool followLoads = true;               ///< false: `load` reads nothing (the fuzzer)
};

class Server {
public:
  /// Writes responses and notifications to `out` (framed) and a log to `log`.
  Server(std::ostream& out, std::ostream& log, ServerOptions options);

  /// Handles one message body. Never throws.
  void handleMessage(std::string_view body);

  bool exited() const { return exited_; }
  /// LSP: 0 when `exit` follows `shutdown`, 1 otherwise.
  int exitCode() const { return shutdown_ ? 0 : 1; }

private:
  using Handler = std::function<nlohmann::json(const nlohmann::json& params)>;

  void dispatch(const nlohmann::json& message);
  void respond(const nlohmann::json& id, nlohmann::json result);
  void respondError(const nlohmann::json& id, int code, const std::string& message);
  void notify(const std::string& method, nlohmann::json params);
  void publishDiagnostics(const Document& doc);
  Document& document(const nlohmann::json& params);

  nlohmann::json initialize(const nlohmann::json& params);
  nlohmann::json formatting(const nlohmann::json& params);
  void didOpen(const nlohmann::json& params);
  void didChange(const nlohmann::json& params);
  void didClose(const nlohmann::json& params);

  std::ostream& out_;
  std::ostream& log_;
  DocumentStore documents_;
  std::map<std::string, Handler, std::less<>> requests_;
  std::map<std::string, std::function<void(const nlohmann::json&)>, std::less<>> notifications_;
  bool initialized_ = false;
  bool shutdown_ = false;
  bool exited_ = false;
};

/// Reads framed messages from `in` until `exit` or the end of the stream; returns the exit
/// code (0 after shutdown + exit, 1 otherwise).
int runServer(std::istream& in, std::ostream& out, std::ostream& log, ServerOptions options);

} // namespace flo::lsp
