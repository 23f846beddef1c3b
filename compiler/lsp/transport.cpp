/// \file
/// Content-Length framing (LSP base protocol).
#include "compiler/lsp/transport.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <istream>
#include <limits>
#include <ostream>

namespace flo::lsp {

namespace {

constexpr std::size_t kMaxHeaderLine = 8192;
constexpr std::size_t kMaxHeaderLines = 32;

enum class LineStatus : unsigned char { Ok, TooLong, Eof };

/// One header line without its terminator (CRLF or LF).
LineStatus readLine(std::istream& in, std::string& line) {
  line.clear();
  for (;;) {
    int c = in.get();
    if (c == std::char_traits<char>::eof()) return LineStatus::Eof;
    if (c == '\n') break;
    if (line.size() >= kMaxHeaderLine) {
      // Skip the rest of the line so the next read starts on a fresh one.
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
      return LineStatus::TooLong;
    }
    line.push_back(static_cast<char>(c));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return LineStatus::Ok;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

} // namespace

Frame readFrame(std::istream& in) {
  Frame frame;
  std::string line;
  bool haveLength = false, sawHeader = false;
  std::size_t length = 0;
  std::string error;
  for (std::size_t lines = 0;; ++lines) {
    LineStatus st = readLine(in, line);
    if (st == LineStatus::Eof) return frame; // Status::Eof
    if (st == LineStatus::TooLong) {
      error = "header line too long";
      continue;
    }
    if (line.empty()) {
      if (!sawHeader) continue; // stray blank lines between messages
      break;
    }
    sawHeader = true;
    if (lines >= kMaxHeaderLines) {
      error = "too many header lines";
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) {
      error = "header line without ':'";
      continue;
    }
    if (lower(trim(std::string_view(line).substr(0, colon))) != "content-length") continue;
    std::string_view value = trim(std::string_view(line).substr(colon + 1));
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
      error = "Content-Length is not a number";
      continue;
    }
    length = n;
    haveLength = true;
  }
  if (error.empty() && !haveLength) error = "no Content-Length header";
  if (error.empty() && length > kMaxMessageBytes) {
    // Skip the body so that reading can go on with the next message.
    in.ignore(static_cast<std::streamsize>(std::min<std::size_t>(
        length, static_cast<std::size_t>(std::numeric_limits<std::streamsize>::max()))));
    error = "message of " + std::to_string(length) + " bytes is too large";
  }
  if (!error.empty()) {
    frame.status = Frame::Status::Bad;
    frame.error = std::move(error);
    return frame;
  }
  frame.body.resize(length);
  in.read(frame.body.data(), static_cast<std::streamsize>(length));
  if (static_cast<std::size_t>(in.gcount()) != length) {
    frame.body.clear();
    return frame; // Status::Eof: the stream ended inside the body
  }
  frame.status = Frame::Status::Message;
  return frame;
}

void writeFrame(std::ostream& out, std::string_view body) {
  out << "Content-Length: " << body.size() << "\r\n\r\n" << body;
  out.flush();
}

} // namespace flo::lsp
