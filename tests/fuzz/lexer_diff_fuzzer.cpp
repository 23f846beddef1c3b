// libFuzzer target: the hand-written scanner must produce exactly the tokens of the ANTLR lexer
// generated from FloLexer.g4 (types, offsets, channels, lines, columns) on any input.
#include "lang/scanner.h"
#include "lang/token_stream.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "FloLexer.h"

namespace {

using Tok =
    std::tuple<std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t>;

class Quiet : public antlr4::BaseErrorListener {
public:
  void syntaxError(antlr4::Recognizer*, antlr4::Token*, std::size_t, std::size_t,
                   const std::string&, std::exception_ptr) override {
    ++errors;
  }
  int errors = 0;
};

std::vector<Tok> drain(antlr4::TokenSource& source) {
  std::vector<Tok> out;
  for (;;) {
    auto t = source.nextToken();
    bool eof = t->getType() == antlr4::Token::EOF;
    // EOF's stop index and column are not meaningful
    out.emplace_back(t->getType(), t->getStartIndex(), eof ? 0 : t->getStopIndex(), t->getChannel(),
                     eof ? 0 : t->getLine(), eof ? 0 : t->getCharPositionInLine());
    if (eof) return out;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  flo::lang::ByteCharStream a(text, "a"), b(text, "b");
  flo::grammar::FloLexer lexer(&a);
  lexer.removeErrorListeners();
  Quiet quiet;
  lexer.addErrorListener(&quiet);
  flo::lang::Scanner scanner(text, &b);
  int scannerErrors = 0;
  scanner.setErrorHandler([&](std::size_t, std::size_t) { ++scannerErrors; });
  if (drain(lexer) != drain(scanner) || quiet.errors != scannerErrors) __builtin_trap();
  return 0;
}
