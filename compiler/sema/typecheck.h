/// \file
/// Typing of expression bodies: deeds, flow filters and contracts become the typed IR of
/// typed.h, and every problem (an unknown name, a type that does not fit, a construct a deed
/// cannot compute) becomes a located diagnostic. The checker (check.cpp) calls these after it
/// has checked the blocks' structure (duplicate names, known types).
///
/// Two dialects share the rules:
///  - Deed (and filter) expressions follow Python as far as 64-bit typed values allow: `/` is
///    true division, bool counts as an integer, a deed computes with f64, i64 and bool only.
///  - Contract expressions are over the declared types (u64, i64, did, str, maps), `/` of
///    integers is floored integer division, conditions (`requires`, `ensures`, `invariant`) are
///    bools, and `old`, `sum` and `count` are allowed where the language says.
/// In both, an integer literal takes an unsigned operand's type (`amt > 0` compares two u64),
/// i64 and u64 values never mix silently, and widening (bool -> i64/u64 -> f64) is explicit.
#pragma once

#include "compiler/sema/model.h"
#include "compiler/sema/typed.h"
#include "lang/diagnostics.h"

#include <memory>

namespace flo::sema {

/// The deed's typed body; null when its ports or body have errors (reported).
std::shared_ptr<const tir::TypedDeed> typeDeed(const DeedDef& deed, lang::Diagnostics& diags);

/// A flow's `filter` over an item of type `item` (`value`) stamped at `time` (f64 seconds).
std::optional<tir::Expr> typeFilter(const lang::Expr& e, const tir::Type& item,
                                    lang::Diagnostics& diags);

/// A contract's typed state, invariants and actions; null when anything has errors.
std::shared_ptr<const tir::TypedContract> typeContract(const ExtensionBlock& contract,
                                                       lang::Diagnostics& diags);

/// The type a declaration names; empty for an unknown name (the checker reports it).
std::optional<tir::Type> typeOf(const lang::TypeRef& t);

} // namespace flo::sema
