/// \file
/// Flo's one reading of a number word, for every stage (the checker, the lowering to the store
/// image, typed deed code): before, each stage parsed numbers its own way, so a literal could
/// check clean and then be stored as a string.
///
/// A word is an integer when it is one as written (decimal digits, or `0x`, `0b`, `0o` and
/// digits of that base), with an optional sign and `_` separators; otherwise a float if all of
/// it reads as one (FLOSCRIPT.md's compatibility policy: no base-16 fallback), `inf`, `infinity`
/// and `nan` included, as Python's float() reads them. Integers are
/// 64-bit; one beyond that range is `IntegerTooLarge` (Ioflo, in Python, reads it as an
/// unbounded int), with `real` the nearest double. A float whose magnitude is beyond the
/// largest double is `RealTooLarge`.
#pragma once

#include <cstdint>
#include <string_view>

namespace flo::lang {

struct NumberLiteral {
  enum class Kind : std::uint8_t { Integer, Real, IntegerTooLarge, RealTooLarge, NotANumber };
  Kind kind = Kind::NotANumber;
  std::int64_t integer = 0; ///< Integer
  double real = 0;          ///< Real; IntegerTooLarge: the nearest double
  bool ok() const { return kind == Kind::Integer || kind == Kind::Real; }
  /// The value as a double (Integer converted, Real, IntegerTooLarge's nearest double).
  double asDouble() const { return kind == Kind::Integer ? double(integer) : real; }
};

NumberLiteral readNumber(std::string_view text);

} // namespace flo::lang
