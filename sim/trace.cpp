/// \file
/// The trace: entries folded into the digest field by field (times as nanoseconds since the
/// epoch, so the digest does not depend on the clock's representation).
#include "sim/trace.h"

#include "sim/clock.h"
#include "sim/random.h"

#include <cassert>
#include <chrono>
#include <cstdio>

namespace flo::sim {

const char* dropCauseName(DropCause cause) {
  switch (cause) {
  case DropCause::Loss:
    return "loss";
  case DropCause::Partition:
    return "partition";
  case DropCause::Tap:
    return "tap";
  case DropCause::NodeDown:
    return "node-down";
  case DropCause::NoRoute:
    return "no-route";
  }
  return "?";
}

namespace {

std::uint64_t fold(std::uint64_t digest, std::uint64_t value) {
  return mix64(digest ^ mix64(value + 0x9e3779b97f4a7c15ull));
}

std::uint64_t fold(std::uint64_t digest, const std::string& text) {
  return fold(digest, hashBytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::uint64_t fold(std::uint64_t digest, const core::Address& address) {
  return fold(fold(digest, address.host), address.port);
}

std::int64_t sinceEpoch(core::Time at) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(at - Clock::kEpoch).count();
}

} // namespace

Trace::Trace(std::size_t capacity) : capacity_(capacity) {}

void Trace::record(TraceEntry entry) {
  std::uint64_t d = fold(digest_, std::uint64_t(entry.kind));
  d = fold(d, std::uint64_t(sinceEpoch(entry.at)));
  if (entry.kind == TraceEntry::Kind::Fault) {
    d = fold(d, entry.note);
  } else {
    d = fold(fold(d, entry.from), entry.to);
    d = fold(fold(d, entry.size), entry.hash);
    if (entry.kind == TraceEntry::Kind::Dropped) d = fold(d, std::uint64_t(entry.cause));
  }
  digest_ = d;
  ++recorded_;
  if (capacity_ == 0) return;
  if (entries_.size() == capacity_) entries_.pop_front();
  entries_.push_back(std::move(entry));
  assert(entries_.size() <= capacity_);
}

std::string hexDigest(std::uint64_t digest) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(digest));
  return text;
}

std::string Trace::format(const TraceEntry& e) {
  char time[32];
  std::snprintf(time, sizeof time, "+%.6fs ", double(sinceEpoch(e.at)) / 1e9);
  std::string line = time;
  if (e.kind == TraceEntry::Kind::Fault) return line + "fault " + e.note;
  line += e.kind == TraceEntry::Kind::Delivered ? "deliver " : "drop ";
  line += e.from.host + ":" + std::to_string(e.from.port) + " -> " + e.to.host + ":" +
          std::to_string(e.to.port) + " " + std::to_string(e.size) + "B #" +
          hexDigest(e.hash).substr(0, 8);
  if (e.kind == TraceEntry::Kind::Dropped) line += std::string(" (") + dropCauseName(e.cause) + ")";
  return line;
}

std::string Trace::tail(std::size_t count) const {
  std::string out =
      "trace digest " + hexDigest(digest_) + " after " + std::to_string(recorded_) + " entries";
  std::size_t first = entries_.size() > count ? entries_.size() - count : 0;
  if (first > 0 || recorded_ > entries_.size())
    out += "; the last " + std::to_string(entries_.size() - first) + ":";
  out += "\n";
  for (std::size_t i = first; i < entries_.size(); ++i) out += "  " + format(entries_[i]) + "\n";
  return out;
}

} // namespace flo::sim
