// libFuzzer target for `floc lsp`: bytes -> Content-Length framing -> JSON-RPC -> the server's
// handlers (documents analysed, formatted, outlined, definition and hover). Whatever a client
// sends must become a response, a logged drop or nothing: never a crash, hang or leak. `load`
// reads nothing (ServerOptions::followLoads = false).
#include "compiler/lsp/server.h"
#include "compiler/lsp/transport.h"

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>

namespace {

class NullBuf : public std::streambuf {
protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  NullBuf null;
  std::ostream out(&null);
  flo::lsp::ServerOptions options;
  options.followLoads = false;
  flo::lsp::Server server(out, out, options);
  while (!server.exited()) {
    auto frame = flo::lsp::readFrame(in);
    if (frame.status == flo::lsp::Frame::Status::Eof) break;
    if (frame.status == flo::lsp::Frame::Status::Message) server.handleMessage(frame.body);
  }
  return 0;
}
