/// \file
/// LSP base protocol framing over byte streams: `Content-Length: N\r\n\r\n` then N bytes of JSON.
/// Reading validates every header block and never trusts the length beyond a limit, so garbage
/// on stdin costs a logged, dropped message and never a crash or an unbounded allocation.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>

namespace flo::lsp {

/// Largest message body accepted (a 1,000-line file is about 40 KB; this leaves ample room).
inline constexpr std::size_t kMaxMessageBytes = 64u << 20;

struct Frame {
  enum class Status : unsigned char {
    Message, ///< `body` holds one message
    Bad,     ///< a header block was malformed and dropped; `error` says why; reading may go on
    Eof,     ///< the stream ended (possibly inside a message)
  } status = Status::Eof;
  std::string body;
  std::string error;
};

/// Reads one framed message. Header names are case-insensitive; lines may end with CRLF or LF;
/// headers other than Content-Length (Content-Type) are ignored. A block without a valid
/// Content-Length, or with one above kMaxMessageBytes, comes back as Status::Bad.
Frame readFrame(std::istream& in);

/// Writes `body` with its Content-Length header and flushes.
void writeFrame(std::ostream& out, std::string_view body);

} // namespace flo::lsp
