/// \file
/// `floc lsp` pieces in process: framing, UTF-16 positions, URIs, and the server fed bad input.
#include "compiler/lsp/analysis.h"
#include "compiler/lsp/positions.h"
#include "compiler/lsp/server.h"
#include "compiler/lsp/transport.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace flo::lsp {
namespace {

TEST(LspTransport, ReadsFramesAndSkipsBadHeaders) {
  std::istringstream in("Content-Length: 2\r\n\r\n{}"
                        "content-length:3\ncontent-type: x\n\n[1]"
                        "Content-Type: y\r\n\r\n"
                        "Content-Length: -1\r\n\r\n"
                        "Content-Length: 99999999999\r\n\r\n"
                        "Content-Length: 5\r\n\r\n{}");
  auto f = readFrame(in);
  EXPECT_EQ(f.status, Frame::Status::Message);
  EXPECT_EQ(f.body, "{}");
  f = readFrame(in);
  EXPECT_EQ(f.status, Frame::Status::Message);
  EXPECT_EQ(f.body, "[1]");
  EXPECT_EQ(readFrame(in).status, Frame::Status::Bad); // no Content-Length
  EXPECT_EQ(readFrame(in).status, Frame::Status::Bad); // not a number
  f = readFrame(in);
  EXPECT_EQ(f.status, Frame::Status::Bad); // too large: the body is skipped, not allocated
  EXPECT_NE(f.error.find("too large"), std::string::npos);
  EXPECT_EQ(readFrame(in).status, Frame::Status::Eof);
}

TEST(LspTransport, WritesContentLength) {
  std::ostringstream out;
  writeFrame(out, "{\"a\":1}");
  EXPECT_EQ(out.str(), "Content-Length: 7\r\n\r\n{\"a\":1}");
}

TEST(LspPositions, CountsUtf16CodeUnits) {
  // "é" is 2 bytes and 1 unit; "😀" is 4 bytes and 2 units.
  std::string text = "ab\n\xC3\xA9x\xF0\x9F\x98\x80y\nlast";
  LineIndex index(text);
  auto p = index.position(5); // 'x' after é
  EXPECT_EQ(p.line, 1u);
  EXPECT_EQ(p.character, 1u);
  p = index.position(10); // 'y' after the emoji
  EXPECT_EQ(p.character, 4u);
  EXPECT_EQ(index.offset({1, 4}), 10u);
  EXPECT_EQ(index.offset({1, 3}), 6u);   // inside the surrogate pair: the character's start
  EXPECT_EQ(index.offset({1, 99}), 11u); // past the line's end: the end of the line
  EXPECT_EQ(index.offset({9, 0}), text.size());
  EXPECT_EQ(index.end().line, 2u);
  EXPECT_EQ(index.end().character, 4u);
}

TEST(LspAnalysis, UrisRoundTrip) {
  EXPECT_EQ(pathFromUri("file:///a%20b/c.flo"), "/a b/c.flo");
  EXPECT_EQ(uriFromPath("/a b/c.flo"), "file:///a%20b/c.flo");
  EXPECT_EQ(pathFromUri("untitled:1"), "untitled:1");
}

TEST(LspServer, AnswersBadInputWithErrors) {
  std::ostringstream out, log;
  Server server(out, log, {});
  server.handleMessage("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
  server.handleMessage("not json");
  server.handleMessage("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"textDocument/hover\","
                       "\"params\":{\"textDocument\":{\"uri\":[]}}}");
  server.handleMessage("{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":7}");
  server.handleMessage("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"shutdown\"}");
  server.handleMessage("{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}");
  EXPECT_TRUE(server.exited());
  EXPECT_EQ(server.exitCode(), 0);
  std::istringstream in(out.str());
  std::vector<nlohmann::json> replies;
  for (auto f = readFrame(in); f.status == Frame::Status::Message; f = readFrame(in))
    replies.push_back(nlohmann::json::parse(f.body));
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_TRUE(replies[0].contains("result"));
  EXPECT_EQ(replies[1]["error"]["code"], -32700);
  EXPECT_EQ(replies[2]["error"]["code"], -32602);
  EXPECT_EQ(replies[3]["id"], 3);
}

} // namespace
} // namespace flo::lsp
