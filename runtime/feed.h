/// \file
/// Feeds: a job's share writes carried to a job on another fogger (docs/runtime.md, "Feeds").
///
/// A producer run with `--feed-out PATTERN` prints, on stderr, a line for every run-time write
/// of a share whose path matches PATTERN while one of its job's runs goes on:
///
///     feed: T PATH FIELD=VALUE...
///
/// T is the simulated time of the write; each VALUE is typed so that it reads back exactly: `n`
/// (None), `b:0`/`b:1`, `i:-12`, `f:0.30000000000000004` (17 significant digits), or
/// `s:TEXT` with `%`, space, `=`, and bytes below 0x21 or above 0x7e as `%XX`. A consumer run
/// with `--feed-in` reads such lines on stdin and writes each item, in order, at the start of
/// the first pass whose time is not before T (waiting for the next line when it has none), as
/// if a framer of its own had written it; other lines are ignored, so a producer's whole stderr
/// can be piped in. The end of its stdin, or a line `feed: end`, ends the feed.
///
/// These are pure functions over text (the runtime does the reading, writing and waiting).
#pragma once

#include "runtime/abi.h"
#include "runtime/value.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flo::rt::feed {

/// Whether `path` matches `pattern`: dotted segments compared one by one, where a segment `*`
/// matches any one segment (`.sensor.*.temp`), and a final `**` any rest.
bool matches(std::string_view pattern, std::string_view path);

/// One value as a feed writes it; nullopt for a point (a feed carries none, booleans, numbers
/// and strings).
[[gnu::cold]] std::optional<std::string> encodeValue(const FloValue& v);

/// The feed line of a write of share `path` at `time`, its fields named `fields` holding
/// `values` (n of each), newline included; nullopt when a value is a point.
[[gnu::cold]] std::optional<std::string> formatLine(double time, std::string_view path,
                                                    const char* const* fields,
                                                    const FloValue* values, std::uint32_t n);

/// One item read back: its time, its share's path, and its fields with their values (strings
/// owned by `arena`).
struct Item {
  double time = 0;
  std::string path;
  std::vector<std::pair<std::string, FloValue>> fields;
};

enum class Line { Item, End, Other, Malformed };

/// Reads one line (without its newline): an item, the end, a line that is not a feed's, or a
/// feed line that does not parse (`error` says why).
[[gnu::cold]] Line parse(std::string_view line, Item& item, Arena& arena, std::string& error);

} // namespace flo::rt::feed
