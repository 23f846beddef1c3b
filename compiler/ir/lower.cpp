/// \file
/// Lowering to the IR. Two phases, as Ioflo builds a mission (FLOSCRIPT.md §4, §12.2):
///  1. parse-time effects in file order: houses (their `.time` and `.meta.*`), `init`s, framer
///     state shares;
///  2. resolve: houses in order; in each, taskers in declaration order (moots skipped, clones
///     after the declared taskers), frames in declaration order, and in each frame the act
///     lists benter, enter, recur, precur, exit, rexit, renter. Resolving an act creates every
///     share and field it names that does not exist yet, with the value §12.2 gives; resolve
///     never overwrites a field. The resulting initial store is therefore exactly Ioflo's.
#include "compiler/ir/lower.h"

#include "lang/format.h"
#include "lang/number.h"
#include "stdlib/builtins.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <deque>
#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace flo::ir {

using namespace lang;
using image::ActKind;
using image::ActList;

namespace {

std::string lowerCase(std::string_view s) {
  std::string out;
  for (char c : s) out += char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Flo's reading of a number word (lang/number.h, the one reader): an integer as written, a
/// float otherwise; an integer beyond 64 bits is its nearest float (the checker warned).
std::optional<Value> numberOf(const Word& w) {
  auto n = lang::readNumber(w.text);
  switch (n.kind) {
  case lang::NumberLiteral::Kind::Integer:
    return Value::integer(n.integer);
  case lang::NumberLiteral::Kind::Real:
  case lang::NumberLiteral::Kind::IntegerTooLarge:
    return Value::real(n.real);
  default:
    return std::nullopt;
  }
}

/// Seconds of a duration word (`30s`, `500ms`, `2m`, `1h`), as the checker reads it; nullopt
/// for anything else.
std::optional<double> durationOf(const std::string& text) {
  for (auto [suffix, scale] :
       {std::pair<std::string_view, double>{"ms", 0.001}, {"s", 1.0}, {"m", 60.0}, {"h", 3600.0}}) {
    if (text.size() <= suffix.size() || !text.ends_with(suffix)) continue;
    auto n = lang::readNumber(text.substr(0, text.size() - suffix.size()));
    if (n.kind == lang::NumberLiteral::Kind::Integer) return double(n.integer) * scale;
    if (n.kind == lang::NumberLiteral::Kind::Real) return n.real * scale;
  }
  return std::nullopt;
}

std::string unquote(const std::string& s) {
  if (s.size() >= 2 && (s[0] == '"' || s[0] == '\'') && s.back() == s[0])
    return s.substr(1, s.size() - 2);
  return s;
}

std::optional<Value> keywordValue(const Word& w) {
  std::string l = lowerCase(w.text);
  if (l == "none") return Value::none();
  if (l == "true" || l == "yes") return Value::boolean(true);
  if (l == "false" || l == "no") return Value::boolean(false);
  return std::nullopt;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

ActList listOf(ActionContext c) {
  switch (c) {
  case ActionContext::Benter:
    return ActList::Benter;
  case ActionContext::Enter:
  case ActionContext::Native:
    return ActList::Enter;
  case ActionContext::Renter:
    return ActList::Renter;
  case ActionContext::Precur:
    return ActList::Precur;
  case ActionContext::Recur:
    return ActList::Recur;
  case ActionContext::Exit:
    return ActList::Exit;
  case ActionContext::Rexit:
    return ActList::Rexit;
  }
  return ActList::Enter;
}

FloCmp cmpOf(Comparison c) {
  switch (c) {
  case Comparison::Eq:
    return FLO_EQ;
  case Comparison::Ne:
    return FLO_NE;
  case Comparison::Lt:
    return FLO_LT;
  case Comparison::Le:
    return FLO_LE;
  case Comparison::Ge:
    return FLO_GE;
  case Comparison::Gt:
    return FLO_GT;
  }
  return FLO_EQ;
}

/// One framer being lowered: a declared framer or a clone of a moot.
struct FramerInst {
  std::uint32_t tasker = kNone; ///< IR index
  const sema::Tasker* decl = nullptr;
  std::uint32_t house = 0;
  std::string name;
  std::vector<std::uint32_t> frames; ///< IR frame per sema frame index
  // clones
  bool clone = false;
  const Path* via = nullptr; ///< the clone's inode (aux ... via), or the moot's own
  std::uint32_t mainFrame = kNone;
  const FramerInst* main = nullptr;
  const sema::Frame* mainSemaFrame = nullptr;
};

/// Clones one `rear` can have alive at once; they are instantiated at compile time so memory
/// stays bounded and every clone's store paths are resolved like any other (FLOSCRIPT.md §8).
constexpr std::uint32_t kRearLimit = 4;
/// Framers a program may have after cloning: a moot that clones itself never stops.
constexpr std::size_t kMaxTaskers = 10000;
/// Characters of a share path once frame, framer and clone vias are prefixed: each new share is
/// checked prefix by prefix against the others (docs/language.md, "Limits").
constexpr std::size_t kMaxPathLength = 4096;

class Lowering {
public:
  Lowering(const lang::Program& program, const sema::Model& model, const SourceManager& sources,
           Diagnostics& diags, bool checkOnly)
      : program_(program), model_(model), sources_(sources), diags_(diags),
        out_(std::make_unique<Program>()), checkOnly_(checkOnly) {}

  std::unique_ptr<Program> run() {
    std::size_t errorsBefore = diags_.errorCount();
    declare();
    parseTime();
    resolve();
    flows();     // after every act made its shares, before slots are numbered
    lowerJobs(); // before order(), which numbers the slots of every share
    order();
    cycles();
    // Shares in a pooled clone's own node exist for Ioflo only once the clone is reared.
    for (std::uint32_t t = 0; t < out_->taskers.size(); ++t)
      if (out_->taskers[t].pooled) {
        // the house's shares are sorted by path: the clone's node is one range of them
        const std::string node = ".framer." + out_->taskers[t].name + ".";
        const auto& index = sortedShares(out_->taskers[t].house);
        for (auto it = index.lower_bound(node); it != index.end() && it->first.starts_with(node);
             ++it)
          out_->shares[it->second].owner = t;
      }
    infer();
    checkFlowKeys();
    // An incomplete IR (errors above) may lack the writes that would clear a read.
    if (diags_.errorCount() == errorsBefore) reportUnwrittenShares();
    return std::move(out_);
  }

private:
  // ------------------------------------------------------------------ locations, errors

  std::uint32_t loc(SourceRange r) {
    if (checkOnly_) {
      // Only code generation reads the texts (and a lookup per call costs ~8 % of a check):
      // one location per call, its range kept for the errors infer() reports.
      out_->locations.emplace_back();
      locRanges_.push_back(r);
      return std::uint32_t(locRanges_.size() - 1);
    }
    std::string text;
    if (r.valid()) {
      auto lc = sources_.lineCol(r.file, r.begin);
      text = sources_.name(r.file) + ":" + std::to_string(lc.line) + ":" +
             std::to_string(lc.column) + ": ";
    }
    auto [it, inserted] = locIndex_.emplace(text, std::uint32_t(out_->locations.size()));
    if (inserted) {
      out_->locations.push_back(std::move(text));
      locRanges_.push_back(r);
    }
    return it->second;
  }

  /// A construct Flo checks but does not run: an error in `floc check` as in `floc build`, so
  /// the two never disagree and nothing checked is silently dropped.
  void unsupported(SourceRange r, const std::string& what) {
    diags_.error(r, what + " does not run in Flo yet");
  }

  // ------------------------------------------------------------------ the store

  /// The shares of one house, by path. Paths live in `paths` (a deque: never moved, so the
  /// views in `entries` stay valid). `entries` holds every share path and every node (a proper
  /// prefix of a share path that ends before a dot), so one lookup tells whether a prefix is a
  /// share or a node, and the walk over a new path's prefixes stops at the first one known.
  struct HouseShares {
    struct Entry {
      std::uint32_t share = kNone;
      bool node = false;
    };
    std::deque<std::string> paths;
    std::unordered_map<std::string_view, Entry> entries;
    std::vector<std::uint32_t> ids; ///< in creation order
    /// Sorted by path, built only when asked for (sortedShares): flows, pooled clones and the
    /// message for a path that names a node read the store in path order.
    std::map<std::string_view, std::uint32_t> sorted;
    std::size_t sortedCount = 0;
    /// A share was made that descends through another, or names a node: the prefix walk may
    /// not stop early any more (its invariant is that no share is a prefix of another).
    bool broken = false;

    /// The share at `path`, or kNone.
    std::uint32_t find(std::string_view path) const {
      auto it = entries.find(path);
      return it == entries.end() ? kNone : it->second.share;
    }
  };

  HouseShares& houseShares(std::uint32_t house) {
    while (house >= shares_.size()) {
      shares_.push_back(std::make_unique<HouseShares>());
      // Sized for the paths the house's framers and acts will likely make, so the index is
      // not rehashed (each rehash walks every entry) while it grows.
      if (std::size_t h = shares_.size() - 1; h < model_.houses.size()) {
        std::size_t expected = 8;
        for (const auto& t : model_.houses[h].taskers) {
          expected += 8;
          for (const auto& f : t.frames) expected += 1 + 2 * f.acts.size();
        }
        shares_.back()->entries.reserve(expected);
      }
    }
    return *shares_[house];
  }

  /// The shares of a house sorted by path.
  const std::map<std::string_view, std::uint32_t>& sortedShares(std::uint32_t house) {
    HouseShares& st = houseShares(house);
    for (; st.sortedCount < st.ids.size(); ++st.sortedCount) {
      std::uint32_t id = st.ids[st.sortedCount];
      st.sorted.emplace(st.entries.find(out_->shares[id].path)->first, id);
    }
    return st.sorted;
  }

  std::uint32_t share(std::uint32_t house, const std::string& path, SourceRange where) {
    HouseShares& st = houseShares(house);
    // Found by hash: paths share long prefixes (`.root.s0.s1...`), which a sorted index
    // compares byte by byte at every level of its tree.
    auto found = st.entries.find(path);
    if (found != st.entries.end() && found->second.share != kNone) return found->second.share;
    bool isNode = found != st.entries.end();
    if (path.size() > kMaxPathLength) {
      diags_.error(where, "share path too long once its vias are applied (" +
                              std::to_string(path.size()) + " characters; the limit is " +
                              std::to_string(kMaxPathLength) + ")");
      diags_.note({}, "'" + path.substr(0, 60) + "...'");
      st.broken = true;
    }
    // A path may not descend through a share, nor name a node that holds shares (§7).
    // The walk from the longest prefix adds the new nodes and stops at the first prefix known
    // (its own prefixes are known too). While no share is a prefix of another, that prefix
    // is a share exactly when the path descends through one.
    std::string_view stored = st.paths.emplace_back(path);
    bool descends = st.broken;
    for (std::size_t dot = stored.rfind('.'); dot != std::string_view::npos && dot > 0;
         dot = stored.rfind('.', dot - 1)) {
      auto [it, fresh] = st.entries.try_emplace(stored.substr(0, dot));
      it->second.node = true;
      if (fresh) continue;
      descends = descends || it->second.share != kNone;
      break;
    }
    if (descends) {
      // Reported at the shortest such prefix.
      for (std::size_t dot = path.size() > kMaxPathLength ? std::string::npos : path.find('.', 1);
           dot != std::string::npos; dot = path.find('.', dot + 1)) {
        if (st.find(std::string_view(path).substr(0, dot)) != kNone) {
          diags_.error(where,
                       "'" + path + "' descends through the share '" + path.substr(0, dot) + "'");
          diags_.note({}, "select a field instead: `FIELD in " + path.substr(0, dot) + "`");
          st.broken = true;
          break;
        }
      }
    }
    // No node is empty: the empty path asks the sorted index.
    if (path.empty() || isNode) {
      const auto& sorted = sortedShares(house);
      auto below = sorted.lower_bound(path + ".");
      if (below != sorted.end() && below->first.starts_with(path + ".")) {
        diags_.error(where, "'" + path + "' is a node holding '" + std::string(below->first) +
                                "', not a share");
        st.broken = true;
      }
    }
    Share s;
    s.house = house;
    s.path = path;
    out_->shares.push_back(std::move(s));
    auto id = std::uint32_t(out_->shares.size() - 1);
    st.entries[stored].share = id;
    st.ids.push_back(id);
    return id;
  }

  /// The field of a share, created with `initial` when missing (never overwritten).
  FieldRef field(std::uint32_t share, const std::string& name, const Value& initial,
                 SourceRange where) {
    Share& s = out_->shares[share];
    for (std::uint32_t i = 0; i < s.fields.size(); ++i)
      if (s.fields[i] == name) return {share, i};
    bool hasValue = std::find(s.fields.begin(), s.fields.end(), "value") != s.fields.end();
    if ((name == "value" && !s.fields.empty()) || (name != "value" && hasValue)) {
      diags_.error(where, "share '" + s.path + "' would hold `value` and other fields (" +
                              join(s.fields, ", ") + (s.fields.empty() ? "" : ", ") + name + ")");
      diags_.note({}, "a share with a `value` field has no other field (FLOSCRIPT.md §3)");
    }
    s.fields.push_back(name);
    s.values.push_back(initial);
    return {share, std::uint32_t(s.fields.size() - 1)};
  }

  bool hasField(std::uint32_t share, const std::string& name) const {
    const auto& f = out_->shares[share].fields;
    return std::find(f.begin(), f.end(), name) != f.end();
  }

  // ------------------------------------------------------------------ reads and writes

  void wrote(std::uint32_t share) {
    if (share == kNone) return;
    if (share >= written_.size()) written_.resize(share + 1, false);
    written_[share] = true;
  }

  /// Remembers the first place (in the file) where the program reads `share`.
  void read(std::uint32_t share, SourceRange where) {
    if (share == kNone) return;
    if (share >= firstRead_.size()) firstRead_.resize(share + 1);
    std::optional<SourceRange>& first = firstRead_[share];
    if (!first)
      first = where;
    else if (where.file == first->file && where.begin < first->begin)
      first = where;
  }

  /// The written shares of a house, split into node and last segment, indexed both ways, so
  /// that suggesting a path for each unwritten one costs its own candidates, not every share.
  struct WrittenIndex {
    std::unordered_map<std::string, std::vector<std::string>> leavesByNode, nodesByLeaf;
  };
  static std::pair<std::string, std::string> splitPath(const std::string& p) {
    std::size_t dot = p.rfind('.');
    return dot == std::string::npos ? std::pair<std::string, std::string>{"", p}
                                    : std::pair{p.substr(0, dot), p.substr(dot + 1)};
  }

  /// A written path that differs from `path` by a typo in its last segment, or failing that
  /// in the node above it (compared whole, a long common prefix would excuse any last name).
  static std::optional<std::string> closeSharePath(const std::string& path,
                                                   const WrittenIndex& written) {
    auto [node, leaf] = splitPath(path);
    static const std::vector<std::string> none;
    auto find = [](const auto& map, const std::string& key) -> const std::vector<std::string>& {
      auto it = map.find(key);
      return it == map.end() ? none : it->second;
    };
    if (auto m = closestMatch(leaf, find(written.leavesByNode, node))) return node + "." + *m;
    if (auto m = closestMatch(node, find(written.nodesByLeaf, leaf))) return *m + "." + leaf;
    return std::nullopt;
  }

  /// -Wunwritten-share: a share the program reads that nothing initializes or writes holds the
  /// value resolve gave it for ever; most often its path is a typo of a share that is written.
  /// A flow's `reduce ... into` writes too. A
  /// server or an Ioflo deed Flo cannot build writes shares no declaration names: then nothing
  /// is reported.
  void reportUnwrittenShares() {
    if (opaqueWrites_) return;
    auto isWritten = [&](std::uint32_t id) {
      const std::string& path = out_->shares[id].path;
      // Ioflo makes and keeps these itself.
      for (const char* automatic : {".meta.", ".ioflo.", ".realtime", ".datetime"})
        if (path.rfind(automatic, 0) == 0) return true;
      return id < written_.size() && written_[id];
    };
    std::vector<std::pair<SourceRange, std::uint32_t>> unwritten;
    for (std::uint32_t id = 0; id < firstRead_.size(); ++id)
      if (firstRead_[id] && !isWritten(id)) unwritten.emplace_back(*firstRead_[id], id);
    std::sort(unwritten.begin(), unwritten.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first.file, a.first.begin) < std::tie(b.first.file, b.first.begin);
    });
    std::unordered_map<std::uint32_t, WrittenIndex> writtenByHouse;
    for (const auto& [where, id] : unwritten) {
      const Share& sh = out_->shares[id];
      if (!diags_.warning(Warning::UnwrittenShare, where,
                          "share '" + sh.path + "' is read but never initialized or written"))
        continue;
      auto [it, fresh] = writtenByHouse.try_emplace(sh.house);
      if (fresh)
        for (std::uint32_t k = 0; k < out_->shares.size(); ++k)
          if (out_->shares[k].house == sh.house && isWritten(k)) {
            auto [node, leaf] = splitPath(out_->shares[k].path);
            it->second.leavesByNode[node].push_back(leaf);
            it->second.nodesByLeaf[leaf].push_back(node);
          }
      const WrittenIndex& written = it->second;
      if (auto m = closeSharePath(sh.path, written))
        diags_.note({}, "did you mean '" + *m + "'?");
      else
        diags_.note({}, "it keeps the value it was created with; give it one with `init " +
                            sh.path + " with VALUE`, or write it with `put`, `copy` or a deed");
    }
  }

  // ------------------------------------------------------------------ values

  std::optional<Value> dataValue(const Word& w) {
    switch (w.kind) {
    case WordKind::String:
      return Value::string(unquote(w.text));
    case WordKind::Number:
      if (auto v = numberOf(w)) return v;
      return Value::string(w.text);
    case WordKind::Point:
    case WordKind::Coord:
      return pointOrCoord(w);
    case WordKind::Name:
      if (auto v = keywordValue(w)) return v;
      return Value::string(w.text);
    default:
      return Value::string(w.text);
    }
  }

  /// `1.5x2y`, `1n2e3d`, `1f2s`... as a point (FLOSCRIPT.md §2); `40N30.5` as degrees.
  std::optional<Value> pointOrCoord(const Word& w) {
    const std::string& t = w.text;
    if (w.kind == WordKind::Coord) {
      auto pos = t.find_first_of("NnSsEeWw");
      double deg = std::stod(t.substr(0, pos)), min = std::stod(t.substr(pos + 1));
      double v = deg + min / 60.0;
      char h = char(std::toupper(static_cast<unsigned char>(t[pos])));
      return Value::real(h == 'S' || h == 'W' ? -v : v);
    }
    static const std::pair<const char*, int> kinds[] = {{"xyz", 1}, {"ned", 3}, {"fsb", 5}};
    for (auto [letters, kind3] : kinds) {
      Value v;
      v.tag = FLO_POINT;
      std::size_t i = 0;
      for (int k = 0; k < 3 && i < t.size(); ++k) {
        std::size_t used = 0;
        double c;
        try {
          c = std::stod(t.substr(i), &used);
        } catch (...) {
          break;
        }
        // stod would read `2e` of `1n2e` as an exponent: cut the number at the letter.
        std::size_t end = t.find(letters[k], i);
        if (end == std::string::npos) break;
        if (i + used > end) c = std::stod(t.substr(i, end - i));
        v.point.push_back(c);
        i = end + 1;
      }
      if (i == t.size() && (v.point.size() == 2 || v.point.size() == 3)) {
        v.i = v.point.size() == 3 ? kind3 : kind3 - 1;
        return v;
      }
    }
    diags_.error(w.range, "'" + t + "' is not a point");
    return std::nullopt;
  }

  /// Direct data as (field, value) pairs: one word is `value`; otherwise pairs (§7).
  std::vector<std::pair<std::string, Value>> direct(const DirectData& d) {
    std::vector<std::pair<std::string, Value>> out;
    if (d.words.size() == 1) {
      if (auto v = dataValue(d.words[0])) out.emplace_back("value", *v);
      return out;
    }
    for (std::size_t i = 0; i + 1 < d.words.size(); i += 2)
      if (auto v = dataValue(d.words[i + 1])) out.emplace_back(d.words[i].text, *v);
    return out;
  }

  // ------------------------------------------------------------------ paths (§8)

  struct Scope {
    const FramerInst* framer = nullptr;
    std::uint32_t frame = kNone; ///< IR frame
    const sema::Frame* semaFrame = nullptr;
    const Path* deedVia = nullptr;
    std::string actor;
  };

  std::string frameName(std::uint32_t f) const { return out_->frames[f].name; }

  /// Ioflo's nameToPath: `DoerParam` -> `doer.param`, `PokeDirect` -> `poke.direct`.
  static std::string nameToPath(const std::string& name) {
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      if (std::isupper(static_cast<unsigned char>(c))) {
        if (i) out += '.';
        out += char(std::tolower(static_cast<unsigned char>(c)));
      } else {
        out += c;
      }
    }
    return out;
  }

  /// Applies the inode chain to a root-relative path (no leading dot).
  /// Applies the inode chain to a root-relative path (no leading dot): deed `via`, frame vias
  /// up the over chain, the framer's via, then for a clone its main frame and framer (§8). A
  /// via starting with `me` (and `meForm`, a path written `me.p`) skips the frame-level inodes
  /// up to the next framer-level one. Sets inodeApplied_ when any inode contributed.
  std::string inode(std::string rel, const Scope& sc, bool meForm) {
    struct Entry {
      const Path* via;
      bool frameLevel;
    };
    std::vector<Entry> chain;
    if (sc.deedVia) chain.push_back({sc.deedVia, true});
    const FramerInst* fi = sc.framer;
    const sema::Frame* sf = sc.semaFrame;
    while (fi) {
      if (sf)
        for (const sema::Frame* f = sf; f;
             f = f->over == sema::kNone ? nullptr : &fi->decl->frames[f->over])
          if (f->decl && f->decl->via) chain.push_back({&*f->decl->via, true});
      if (fi->clone) {
        if (fi->via) chain.push_back({fi->via, false});
        sf = fi->mainSemaFrame;
        fi = fi->main;
      } else {
        for (const auto& c : fi->decl->decl->clauses)
          if (c.kind == TaskerClause::Kind::Via && c.path) chain.push_back({&*c.path, false});
        break;
      }
    }
    inodeApplied_ = false;
    bool skip = meForm;
    for (const Entry& e : chain) {
      if (skip && e.frameLevel) continue;
      if (!e.frameLevel) skip = false;
      std::string v = e.via->head.text;
      while (!v.empty() && v.back() == '.') v.pop_back();
      if (v == "me" || v.rfind("me.", 0) == 0) {
        v = v.size() > 3 ? v.substr(3) : std::string();
        skip = true;
      }
      if (v.empty()) continue;
      inodeApplied_ = true;
      if (v[0] == '.') return v + "." + rel;
      if (v.rfind("framer.", 0) == 0) return "." + inlinePath(v, sc) + "." + rel;
      rel = v + "." + rel;
    }
    return "." + rel;
  }

  std::string framerName(const std::optional<Ident>& target, const Scope& sc) {
    if (!target || target->text == "me") return sc.framer->name;
    if (target->text == "main" && sc.framer->main) return sc.framer->main->name;
    return target->text;
  }

  std::string frameNameOf(const std::optional<Ident>& target, const Scope& sc) {
    if (!target || target->text == "me") return sc.frame == kNone ? "" : frameName(sc.frame);
    if (target->text == "main" && sc.framer->mainFrame != kNone)
      return frameName(sc.framer->mainFrame);
    return target->text;
  }

  /// A relpath's inline `framer.X.` / `frame.X.` / `actor.X.` / `me.` forms (no leading dot
  /// in the result).
  std::string inlinePath(const std::string& rel, const Scope& sc) {
    auto segs = split(rel, '.');
    auto rest = [&](std::size_t from) {
      return join(std::vector<std::string>(segs.begin() + std::ptrdiff_t(from), segs.end()), ".");
    };
    auto name = [&](const std::string& n, const std::string& me, const std::string& main) {
      return n == "me" ? me : n == "main" && !main.empty() ? main : n;
    };
    std::string mainFramer = sc.framer->main ? sc.framer->main->name : "";
    std::string mainFrame =
        sc.framer->mainFrame != kNone ? frameName(sc.framer->mainFrame) : std::string();
    std::string thisFrame = sc.frame == kNone ? "" : frameName(sc.frame);
    if (segs.size() >= 3 && segs[0] == "framer") {
      std::string out = "framer." + name(segs[1], sc.framer->name, mainFramer);
      if (segs.size() >= 5 && segs[2] == "frame") {
        out += ".frame." + name(segs[3], thisFrame, mainFrame);
        if (segs.size() >= 7 && segs[4] == "actor")
          return out + ".actor." + (segs[5] == "me" ? nameToPath(sc.actor) : segs[5]) + "." +
                 rest(6);
        return out + "." + rest(4);
      }
      return out + "." + rest(2);
    }
    if (segs.size() >= 3 && segs[0] == "frame")
      return "framer." + sc.framer->name + ".frame." + name(segs[1], thisFrame, mainFrame) + "." +
             rest(2);
    if (segs.size() >= 3 && segs[0] == "actor")
      return "framer." + sc.framer->name + ".frame." + thisFrame + ".actor." +
             name(segs[1], nameToPath(sc.actor), "") + "." + rest(2);
    return {};
  }

  std::string resolvePath(const Path& p, const Scope& sc) {
    std::string head = p.head.text;
    if (!head.empty() && head[0] == '.' && p.relations.empty()) {
      while (head.size() > 1 && head.back() == '.') head.pop_back();
      return head;
    }
    if (!p.relations.empty()) {
      // With an `of` clause a dotpath is relative too, and not scanned for inline forms.
      if (!head.empty() && head[0] == '.') head.erase(0, 1);
      const Relation& r = p.relations[0];
      switch (r.kind) {
      case RelationKind::Root:
        return inode(head, sc, false);
      case RelationKind::Me:
        return inode(head, sc, true);
      case RelationKind::Framer: {
        // The joined path is resolved like an inline one (`.frame.me.d of framer me`).
        std::string joined = "framer." + framerName(r.target, sc) + "." + head;
        std::string in = inlinePath(joined, sc);
        return "." + (in.empty() ? joined : in);
      }
      case RelationKind::Frame: {
        // `of frame main` is the main frame of the main framer (a clone's host).
        std::string framer = r.target && r.target->text == "main" && sc.framer->main
                                 ? sc.framer->main->name
                                 : sc.framer->name;
        for (std::size_t i = 1; i < p.relations.size(); ++i)
          if (p.relations[i].kind == RelationKind::Framer)
            framer = framerName(p.relations[i].target, sc);
        return ".framer." + framer + ".frame." + frameNameOf(r.target, sc) + "." + head;
      }
      case RelationKind::Actor: {
        std::string framer = sc.framer->name, frame = frameNameOf(std::nullopt, sc);
        for (std::size_t i = 1; i < p.relations.size(); ++i) {
          if (p.relations[i].kind == RelationKind::Framer)
            framer = framerName(p.relations[i].target, sc);
          if (p.relations[i].kind == RelationKind::Frame)
            frame = frameNameOf(p.relations[i].target, sc);
        }
        std::string actor = !r.target || r.target->text == "me" ? nameToPath(sc.actor)
                                                                : std::string(r.target->text);
        return ".framer." + framer + ".frame." + frame + ".actor." + actor + "." + head;
      }
      }
    }
    if (head.rfind("me.", 0) == 0) return inode(head.substr(3), sc, true);
    std::string in = inlinePath(head, sc);
    if (!in.empty()) return "." + in;
    return inode(head, sc, false);
  }

  std::uint32_t sharePath(const Path& p, const Scope& sc) {
    return share(sc.framer->house, resolvePath(p, sc), p.range);
  }

  // ------------------------------------------------------------------ declarations

  FramerInst& newFramer(const sema::Tasker& t, std::uint32_t house, std::string name) {
    insts_.push_back(std::make_unique<FramerInst>());
    FramerInst& fi = *insts_.back();
    fi.decl = &t;
    fi.house = house;
    fi.name = std::move(name);
    Tasker it;
    it.kind = t.kind == sema::Tasker::Kind::Framer   ? image::TaskerKind::Framer
              : t.kind == sema::Tasker::Kind::Logger ? image::TaskerKind::Logger
                                                     : image::TaskerKind::Server;
    it.house = house;
    it.name = fi.name;
    it.schedule = image::Schedule(std::uint32_t(t.schedule));
    for (const auto& c : t.decl->clauses)
      if (c.kind == TaskerClause::Kind::At && c.word)
        if (auto v = numberOf(*c.word))
          it.period = std::max(0.0, v->tag == FLO_INT ? double(v->i) : v->f);
    fi.tasker = std::uint32_t(out_->taskers.size());
    out_->taskers.push_back(it);
    for (std::size_t i = 0; i < t.frames.size(); ++i) {
      Frame f;
      f.framer = fi.tasker;
      f.name = t.frames[i].name;
      fi.frames.push_back(std::uint32_t(out_->frames.size()));
      out_->taskers[fi.tasker].frames.push_back(std::uint32_t(out_->frames.size()));
      out_->frames.push_back(std::move(f));
    }
    for (std::size_t i = 0; i < t.frames.size(); ++i) {
      const sema::Frame& sf = t.frames[i];
      Frame& f = out_->frames[fi.frames[i]];
      if (sf.over != sema::kNone) f.over = fi.frames[sf.over];
      if (sf.next != sema::kNone) f.next = fi.frames[sf.next];
      if (checkOnly_) continue; // outlines are for code generation only
      std::vector<std::size_t> up;
      for (std::size_t k = i; k != sema::kNone; k = t.frames[k].over) {
        up.push_back(k);
        if (up.size() > t.frames.size()) break;
      }
      std::reverse(up.begin(), up.end());
      std::vector<std::string> head, down;
      for (auto k : up) {
        f.outline.push_back(fi.frames[k]);
        head.push_back(t.frames[k].name);
      }
      for (std::size_t k = i; !t.frames[k].unders.empty();) {
        k = t.frames[k].unders[0];
        f.outline.push_back(fi.frames[k]);
        down.push_back(t.frames[k].name);
        if (f.outline.size() > t.frames.size()) break;
      }
      f.humanFull = "<" + join(head, "<") + ">" + join(down, ">");
      f.humanHead = "<" + join(head, "<") + ">";
    }
    std::size_t first = t.first != sema::kNone ? t.first : 0;
    if (!t.frames.empty()) out_->taskers[fi.tasker].first = fi.frames[first];
    return fi;
  }

  /// Creates every declared tasker (clones come during resolve).
  void declare() {
    // The declared taskers, their frames and their shares (four state shares each, one or two
    // per act) sized once: frames and shares were moved at every growth.
    std::size_t taskers = 0, frames = 0, acts = 0;
    for (const auto& house : model_.houses)
      for (const auto& t : house.taskers) {
        ++taskers;
        frames += t.frames.size();
        for (const auto& f : t.frames) acts += f.acts.size();
      }
    out_->taskers.reserve(taskers);
    out_->frames.reserve(frames);
    // An act names one share or two (`copy`, `inc ... from`); reserved, untouched memory costs
    // nothing, a growth moves every share.
    out_->shares.reserve(4 * taskers + 2 * acts);
    // Each declared act becomes an act and most a function, each with its location.
    out_->acts.reserve(acts);
    out_->functions.reserve(acts);
    out_->locations.reserve(acts);
    locRanges_.reserve(acts);
    for (std::size_t h = 0; h < model_.houses.size(); ++h) {
      const sema::House& house = model_.houses[h];
      House ih;
      ih.name = house.name;
      out_->houses.push_back(ih);
      for (const auto& t : house.taskers) {
        if (t.schedule == sema::Schedule::Moot) continue;
        FramerInst& fi = newFramer(t, std::uint32_t(h), t.name);
        if (h >= byName_.size()) byName_.resize(h + 1);
        byName_[h][t.name] = fi.tasker;
        declared_.push_back(&fi);
        declaredIn_.resize(h + 1);
        declaredIn_[h].push_back(&fi);
        if (t.kind == sema::Tasker::Kind::Server) {
          unsupported(t.decl->verbRange, "a server");
          opaqueWrites_ = true; // what it receives goes into the store
        }
      }
    }
  }

  // ------------------------------------------------------------------ flows

  static std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t at = 1; // past the leading dot
    while (at <= path.size()) {
      std::size_t dot = path.find('.', at);
      if (dot == std::string_view::npos) dot = path.size();
      out.push_back(path.substr(at, dot - at));
      at = dot + 1;
    }
    return out;
  }

  /// Whether `path` matches `pattern` (`*` is one whole segment); the `*` segments, joined
  /// with dots, go to `key`.
  static bool matches(std::string_view pattern, std::string_view path, std::string& key) {
    auto p = segments(pattern), s = segments(path);
    if (p.size() != s.size()) return false;
    key.clear();
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (p[i] == "*") {
        key += (key.empty() ? "" : ".") + std::string(s[i]);
      } else if (p[i] != s[i]) {
        return false;
      }
    }
    return true;
  }

  /// `into` with its `*` segments replaced, in order, by the key's segments.
  static std::string fill(std::string_view into, std::string_view key) {
    std::string dotted = "." + std::string(key);
    auto parts = segments(dotted);
    std::string out;
    std::size_t next = 0;
    for (auto seg : segments(into)) {
      out += ".";
      out += seg == "*" && !key.empty() && next < parts.size() ? std::string(parts[next++])
                                                               : std::string(seg);
    }
    return out;
  }

  /// The house whose store a flow reads and writes: the first with a share its sources match
  /// (the first house when none does).
  std::uint32_t flowHouse(const sema::FlowSpec& spec) {
    std::string key;
    for (std::uint32_t h = 0; h < out_->houses.size(); ++h)
      for (const auto& [path, id] : sortedShares(h))
        for (const auto& src : spec.sources)
          if (matches(src.path, path, key)) return h;
    return 0;
  }

  /// Flows (docs/runtime.md, "Flows"): each source pattern matched against the store of the
  /// first house holding a match, one partition per key, one sink share per partition.
  void flows() {
    // The sinks of flows without `by` first: a flow may take another's sink as its source
    // whatever order they are declared in. (A keyed sink is known once its sources are.)
    if (!out_->houses.empty())
      for (const auto& spec : model_.flowSpecs)
        if (spec && !spec->byKey && spec->byField.empty())
          field(share(flowHouse(*spec), spec->into, spec->intoRange), "value", Value::none(),
                spec->intoRange);
    for (std::size_t i = 0; i < model_.flows.size() && i < model_.flowSpecs.size(); ++i) {
      const sema::FlowSpec* spec = model_.flowSpecs[i].get();
      if (!spec) continue;
      if (out_->houses.empty()) {
        diags_.error(spec->range,
                     "flow '" + spec->name + "' has no store to read and write: declare a `house`");
        continue;
      }
      Flow f;
      f.name = spec->name;
      f.loc = loc(spec->range);
      std::string key;
      f.house = flowHouse(*spec);
      std::map<std::string, std::uint32_t> partitions;
      auto partition = [&](const std::string& k) {
        auto [it, fresh] = partitions.emplace(k, std::uint32_t(f.keys.size()));
        if (fresh) f.keys.push_back(k);
        return it->second;
      };
      for (const auto& src : spec->sources) {
        std::vector<std::pair<std::string, std::uint32_t>> matched;
        for (const auto& [path, id] : sortedShares(f.house))
          if (matches(src.path, path, key)) matched.emplace_back(key, id);
        for (const auto& [k, id] : matched) {
          const Share& sh = out_->shares[id];
          if (!hasField(id, src.field)) {
            if (src.field == "value")
              diags_.error(src.range, "flow source '" + sh.path + "' has fields (" +
                                          join(sh.fields, ", ") +
                                          "); a flow takes the `value` of its sources");
            else
              diags_.error(src.range, "flow source '" + sh.path + "' has no field '" + src.field +
                                          "' (its fields: " + join(sh.fields, ", ") + ")");
            continue;
          }
          FieldRef key;
          if (!spec->byField.empty()) {
            if (!hasField(id, spec->byField)) {
              diags_.error(src.range,
                           "flow source '" + sh.path + "' has no field '" + spec->byField +
                               "' to partition by (its fields: " + join(sh.fields, ", ") + ")");
              diags_.note(spec->byRange, "the flow is partitioned here");
              continue;
            }
            key = field(id, spec->byField, Value::none(), src.range);
            flowKeys_.push_back({key, src.range, spec->byRange});
          }
          read(id, src.range);
          f.sources.push_back({field(id, src.field, Value::none(), src.range),
                               spec->byField.empty() ? partition(spec->byKey ? k : "") : 0, key});
        }
        if (matched.empty()) {
          diags_.error(src.range, "flow source '" + src.path + "' matches no share of house '" +
                                      out_->houses[f.house].name + "'");
          diags_.note({}, "a source is a share the program initializes or writes");
        }
      }
      if (!spec->byField.empty()) {
        // Partitions come with their keys at run time; the shares already in the store that
        // the sink matches are listed, so a key's partition writes the share framers read.
        f.byField = spec->byField;
        f.partitionLimit = spec->partitionLimit;
        f.into = spec->into;
        std::vector<std::pair<std::string, std::uint32_t>> known;
        for (const auto& [path, id] : sortedShares(f.house))
          if (matches(spec->into, path, key)) known.emplace_back(key, id);
        for (const auto& [k, id] : known) {
          f.keys.push_back(k);
          f.sinks.push_back(field(id, "value", Value::none(), spec->intoRange));
          wrote(id);
        }
      } else {
        if (f.keys.empty()) partition(""); // clock sources only
        for (const auto& k : f.keys) {
          std::uint32_t sink = share(f.house, fill(spec->into, k), spec->intoRange);
          f.sinks.push_back(field(sink, "value", Value::none(), spec->intoRange));
          wrote(sink);
        }
      }
      f.clocks = spec->clocks;
      f.window = Flow::Window(int(spec->window));
      f.length = spec->length;
      f.every = spec->every;
      f.count = spec->count;
      for (const auto& st : spec->stages) {
        Flow::Stage s;
        s.kind = Flow::Stage::Kind(int(st.kind));
        s.deed = st.deed;
        s.filter = st.filter;
        s.loc = loc(st.range);
        if (st.deed)
          for (const auto& b : st.deed->body) s.stmtLocs.push_back(loc(b.range));
        s.text = st.text;
        f.stages.push_back(std::move(s));
      }
      static const char* const reducers[] = {"mean",  "sum",   "min",  "max",
                                             "count", "first", "last", "median"};
      f.reducer = Flow::Reducer::Deed;
      for (int r = 0; r < 8; ++r)
        if (spec->reducer == reducers[r]) f.reducer = Flow::Reducer(r);
      f.reduceDeed = spec->reduceDeed;
      f.reduceLoc = loc(spec->reduceRange);
      if (f.reduceDeed)
        for (const auto& b : f.reduceDeed->body) f.reduceStmtLocs.push_back(loc(b.range));
      f.capacity = spec->capacity;
      f.policy = Flow::Policy(int(spec->policy));
      out_->flows.push_back(std::move(f));
    }
    // Sources are matched when the program is built: a share a keyed sink makes at run time
    // could not be one.
    for (const auto& maker : model_.flowSpecs)
      if (maker && !maker->byField.empty())
        for (const auto& taker : model_.flowSpecs)
          if (taker)
            for (const auto& src : taker->sources)
              if (overlaps(src.path, maker->into)) {
                diags_.error(src.range, "flow source '" + src.path +
                                            "' may match shares that "
                                            "flow '" +
                                            maker->name +
                                            "' makes at run time (its "
                                            "sink '" +
                                            maker->into + "', by " + maker->byField +
                                            "), and sources are matched when the program is built");
                diags_.note(maker->intoRange, "the sink is here");
              }
  }

  /// Whether two paths with `*` segments can name one share.
  static bool overlaps(std::string_view a, std::string_view b) {
    auto x = segments(a), y = segments(b);
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (x[i] != y[i] && x[i] != "*" && y[i] != "*") return false;
    return true;
  }

  /// `by FIELD`: a key is an int, a bool or a string (its text names the sink), so a key field
  /// that can hold only floats, points or None could key no item (after types are inferred).
  void checkFlowKeys() {
    for (const auto& k : flowKeys_) {
      Type t = typeAt(k.field);
      const Share& sh = out_->shares[k.field.share];
      const std::string name = "field '" + sh.fields[k.field.field] + "' of '" + sh.path + "'";
      if (t == Type::None || t == Type::Unknown) {
        diags_.error(k.by, name + " never holds anything but None (nothing initializes or "
                                  "writes it to a key): no item would have a key");
        diags_.note(k.source, "the source is here");
      } else if (t == Type::Float || t == Type::Point) {
        diags_.error(k.by, name + " holds " + (t == Type::Float ? "floats" : "points") +
                               "; a partition key is an int, a bool or a string");
        diags_.note(k.source, "the source is here");
      }
    }
  }

  void stateShares(const FramerInst& fi) {
    Tasker& t = out_->taskers[fi.tasker];
    std::string base = ".framer." + fi.name + ".state.";
    SourceRange r = fi.decl->decl->name.range;
    t.elapsed = field(share(fi.house, base + "elapsed", r), "value", Value::real(0.0), r);
    t.recurred = field(share(fi.house, base + "recurred", r), "value", Value::integer(0), r);
    t.active = field(share(fi.house, base + "active", r), "value", Value::string(""), r);
    t.human = field(share(fi.house, base + "human", r), "value", Value::string(""), r);
    for (FieldRef f : {t.elapsed, t.recurred, t.active, t.human}) wrote(f.share);
  }

  /// Phase 1: the store as the parser leaves it.
  void parseTime() {
    std::uint32_t house = kNone;
    std::size_t taskerSeen = 0;
    std::function<void(const Module&)> visit = [&](const Module& m) {
      for (const auto& sp : m.stmts) {
        const Stmt& s = *sp;
        if (s.kind == StmtKind::Load) {
          if (const Module* loaded = as<LoadStmt>(s).module) visit(*loaded);
        } else if (s.kind == StmtKind::House) {
          house = house == kNone ? 0 : house + 1;
          taskerSeen = 0;
          houseStore(house, s.range);
        } else if (s.kind == StmtKind::Init && house != kNone) {
          init(house, as<InitStmt>(s));
        } else if ((s.kind == StmtKind::Framer || s.kind == StmtKind::Logger ||
                    s.kind == StmtKind::Server) &&
                   house != kNone && house < model_.houses.size()) {
          const auto& ts = model_.houses[house].taskers;
          logger_ = kNone;
          if (taskerSeen < ts.size()) {
            const sema::Tasker& t = ts[taskerSeen++];
            std::uint32_t found = declaredNamed(house, t.name);
            // insts_ holds the declared taskers only, by IR index (clones come later)
            if (found != kNone && t.kind == sema::Tasker::Kind::Framer) stateShares(*insts_[found]);
            if (found != kNone && t.kind == sema::Tasker::Kind::Logger) logger_ = found;
          }
        } else if (s.kind == StmtKind::Log && logger_ != kNone) {
          logDecls_[logger_].push_back({static_cast<const TaskerStmt*>(&s), {}});
        } else if (s.kind == StmtKind::Loggee && logger_ != kNone && !logDecls_[logger_].empty()) {
          for (const auto& l : as<LoggeeStmt>(s).loggees)
            logDecls_[logger_].back().second.push_back(&l);
        }
      }
    };
    if (program_.root) visit(*program_.root);
  }

  void houseStore(std::uint32_t h, SourceRange r) {
    if (h >= out_->houses.size()) return;
    House& house = out_->houses[h];
    house.time = field(share(h, ".time", r), "value", Value::real(0.0), r);
    field(share(h, ".meta.name", r), "value", Value::string(house.name), r);
    house.failure = field(share(h, ".meta.failure", r), "value", Value::string(""), r);
    wrote(house.time.share);
    wrote(house.failure.share);
    wrote(houseShares(h).find(".meta.name"));
  }

  void init(std::uint32_t h, const InitStmt& s) {
    std::string dest = s.dest.path.head.text;
    if (dest.empty() || dest[0] != '.') dest = "." + dest;
    std::uint32_t d = share(h, dest, s.dest.path.range);
    wrote(d);
    auto set = [&](const std::string& name, const Value& v) {
      FieldRef f = field(d, name, v, s.dest.range);
      out_->shares[d].values[f.field] = v;
    };
    if (!s.fromSource) {
      auto data = direct(s.data);
      if (!s.dest.fields.empty()) {
        for (std::size_t i = 0; i < s.dest.fields.size() && i < data.size(); ++i)
          set(s.dest.fields[i].text, data[i].second);
      } else {
        for (auto& [name, v] : data) set(name, v);
      }
      return;
    }
    std::string src = s.src.path.head.text;
    if (src.empty() || src[0] != '.') src = "." + src;
    std::uint32_t source = houseShares(h).find(src);
    if (source == kNone) {
      diags_.error(s.src.path.range,
                   "`init ... from` reads '" + src + "', which does not exist yet");
      return;
    }
    Share copy = out_->shares[source];
    std::vector<std::string> from;
    for (auto& f : s.src.fields) from.push_back(f.text);
    if (from.empty()) from = copy.fields;
    std::vector<std::string> to;
    for (auto& f : s.dest.fields) to.push_back(f.text);
    if (to.empty()) to = from;
    for (std::size_t i = 0; i < from.size() && i < to.size(); ++i) {
      auto pos = std::find(copy.fields.begin(), copy.fields.end(), from[i]);
      Value v = pos == copy.fields.end() ? Value::none()
                                         : copy.values[std::size_t(pos - copy.fields.begin())];
      set(to[i], v);
    }
  }

  // ------------------------------------------------------------------ resolve

  void resolve() {
    for (std::uint32_t h = 0; h < model_.houses.size(); ++h) {
      // Declared taskers first, then clones as they appear (a clone may add more).
      for (auto* fi : declaredIn(h)) resolveFramer(*fi);
      auto drain = [&] {
        while (!cloneQueue_.empty()) {
          FramerInst* fi = cloneQueue_.front();
          cloneQueue_.pop_front();
          resolveFramer(*fi);
        }
      };
      drain();
      while (!pendingRears_.empty()) {
        auto r = pendingRears_.front();
        pendingRears_.pop_front();
        // Run-time clones are tagged with the next numbers no framer of that name holds yet
        // (Ioflo's newAuxTag); the runtime takes the lowest free one, as Ioflo does.
        std::uint32_t number = 0;
        for (std::uint32_t k = 0; k < kRearLimit; ++k) {
          std::string tag;
          do tag = r.moot->name + std::to_string(++number);
          while (byNameAny(r.main->house, r.main->name + "_" + tag));
          std::uint32_t c = cloneOf(*r.moot, tag, r.via, r.main, r.frame, r.semaFrame);
          if (c == kNone) break;
          out_->taskers[c].pooled = true;
          runs(r.main->tasker, c, r.range);
          out_->acts[r.act].taskers.push_back(c);
        }
        drain();
      }
    }
  }

  const std::vector<FramerInst*>& declaredIn(std::uint32_t house) const {
    static const std::vector<FramerInst*> none;
    return house < declaredIn_.size() ? declaredIn_[house] : none;
  }

  /// The moot framer `name` of `house` (templates are not in byName_), or null.
  const sema::Tasker* mootNamed(std::uint32_t house, const std::string& name) const {
    const sema::House& h = model_.houses[house];
    auto it = h.taskerIndex.find(name);
    if (it == h.taskerIndex.end() || h.taskers[it->second].schedule != sema::Schedule::Moot)
      return nullptr;
    return &h.taskers[it->second];
  }

  bool byNameAny(std::uint32_t house, const std::string& name) const {
    // Pools of different `rear`s of one template share names (and so store nodes), as the
    // clones Ioflo makes at run time do.
    for (const auto& t : out_->taskers)
      if (t.house == house && t.name == name && !t.pooled) return true;
    return false;
  }

  /// `from` runs `to` inside its own turn (aux, conditional aux, slave fiat, rear).
  void runs(std::uint32_t from, std::uint32_t to, SourceRange where) {
    if (from != kNone && to != kNone) runsEdges_[from].push_back({to, where});
  }

  /// A framer that runs itself through auxes or slave fiats would recurse without end at run
  /// time (Ioflo ends such a run with a RecursionError): a located error instead.
  void cycles() {
    std::vector<int> state(out_->taskers.size(), 0); // 0 new, 1 on the path, 2 done
    std::vector<std::pair<std::uint32_t, SourceRange>> path;
    std::function<void(std::uint32_t)> visit = [&](std::uint32_t t) {
      state[t] = 1;
      for (const auto& [to, where] : runsEdges_[t]) {
        path.push_back({to, where});
        if (state[to] == 1) {
          std::string names;
          auto start =
              std::find_if(path.begin(), path.end(), [&](auto& p) { return p.first == to; });
          for (auto it = start; it != path.end(); ++it)
            names += out_->taskers[it->first].name + (it + 1 == path.end() ? "" : " -> ");
          diags_.error(where,
                       "framer '" + out_->taskers[to].name + "' would run inside itself: " + names);
          diags_.note({}, "auxes and slaves run inside the frame that names them; a cycle "
                          "never ends (Ioflo stops with a RecursionError)");
        } else if (state[to] == 0) {
          visit(to);
        }
        path.pop_back();
      }
      state[t] = 2;
    };
    for (std::uint32_t t = 0; t < out_->taskers.size(); ++t)
      if (state[t] == 0) {
        path.clear();
        visit(t);
      }
  }
  std::map<std::uint32_t, std::vector<std::pair<std::uint32_t, SourceRange>>> runsEdges_;
  bool cloneOverflow_ = false;
  /// `by FIELD`: each source's key field, checked once types are inferred.
  struct FlowKey {
    FieldRef field;
    SourceRange source, by;
  };
  std::vector<FlowKey> flowKeys_;

  struct PendingRear {
    std::uint32_t act;
    SourceRange range;
    const sema::Tasker* moot;
    const Path* via;
    const FramerInst* main;
    std::uint32_t frame;
    const sema::Frame* semaFrame;
  };
  std::deque<PendingRear> pendingRears_;
  std::uint32_t logger_ = kNone;
  std::map<std::uint32_t,
           std::vector<std::pair<const TaskerStmt*, std::vector<const lang::Loggee*>>>>
      logDecls_;

  /// A logger's logs: loggee paths are root-relative (§5.2); a missing share is created with a
  /// `value` of None.
  void resolveLogger(FramerInst& fi) {
    Tasker& t = out_->taskers[fi.tasker];
    for (const auto& c : fi.decl->decl->clauses) {
      if (c.kind == TaskerClause::Kind::To && c.word) t.prefix = unquote(c.word->text);
      if (c.kind == TaskerClause::Kind::Reuse) t.reuse = true;
    }
    Scope sc;
    sc.framer = &fi;
    for (const auto& [decl, loggees] : logDecls_[fi.tasker]) {
      Log log;
      log.name = decl->name.text;
      log.file = log.name; // the file is FILE.txt (`to FILE`, default the log's name)
      for (const auto& c : decl->clauses) {
        if (c.kind == TaskerClause::Kind::To && c.word) log.file = unquote(c.word->text);
        if (c.kind == TaskerClause::Kind::As && c.name && c.name->text == "binary")
          unsupported(c.range, "a binary log");
        if (c.kind == TaskerClause::Kind::On && c.name) {
          static const std::pair<const char*, image::LogRule> rules[] = {
              {"never", image::LogRule::Never},   {"once", image::LogRule::Once},
              {"always", image::LogRule::Always}, {"update", image::LogRule::Update},
              {"change", image::LogRule::Change}, {"streak", image::LogRule::Streak},
              {"deck", image::LogRule::Deck}};
          for (auto [name, rule] : rules)
            if (lowerCase(c.name->text) == name) log.rule = rule;
        }
      }
      for (const lang::Loggee* l : loggees) {
        Loggee g;
        // The tag defaults to the last segment of the path (Ioflo's buildLoggee).
        std::string written = l->path.path.head.text;
        while (!written.empty() && written.back() == '.') written.pop_back();
        g.tag = l->tag ? l->tag->text : written.substr(written.rfind('.') + 1);
        g.share = sharePath(l->path.path, sc);
        read(g.share, l->path.range);
        if (!l->path.fields.empty()) {
          for (const auto& f : l->path.fields)
            g.fields.push_back(field(g.share, f.text, Value::none(), f.range).field);
        } else {
          if (out_->shares[g.share].fields.empty())
            field(g.share, "value", Value::none(), l->range);
          for (std::uint32_t k = 0; k < out_->shares[g.share].fields.size(); ++k)
            g.fields.push_back(k);
        }
        log.loggees.push_back(std::move(g));
      }
      t.logs.push_back(std::move(log));
    }
  }

  void resolveFramer(FramerInst& fi) {
    const sema::Tasker& t = *fi.decl;
    if (t.kind == sema::Tasker::Kind::Logger) return resolveLogger(fi);
    if (t.kind != sema::Tasker::Kind::Framer) return;
    if (fi.clone) stateShares(fi);
    static constexpr ActionContext kOrder[] = {
        ActionContext::Benter, ActionContext::Enter, ActionContext::Recur, ActionContext::Precur,
        ActionContext::Exit,   ActionContext::Rexit, ActionContext::Renter};
    for (std::size_t i = 0; i < t.frames.size(); ++i) {
      Scope sc;
      sc.framer = &fi;
      sc.frame = fi.frames[i];
      sc.semaFrame = &t.frames[i];
      for (ActionContext c : kOrder)
        for (const auto& a : t.frames[i].acts) {
          ActionContext eff = a.context == ActionContext::Native ? ActionContext::Enter : a.context;
          if (eff == c) lowerAct(*a.stmt, listOf(c), sc);
        }
    }
    // Markers placed by `in frame` needs go first in their frame's enter list.
    for (auto& [frame, markers] : enterMarkers_) {
      auto& enter = out_->frames[frame].lists[std::size_t(ActList::Enter)];
      enter.insert(enter.begin(), markers.begin(), markers.end());
    }
    enterMarkers_.clear();
  }

  std::uint32_t addAct(Act a, ActList list, const Scope& sc) {
    std::uint32_t id = std::uint32_t(out_->acts.size());
    out_->acts.push_back(std::move(a));
    out_->frames[sc.frame].lists[std::size_t(list)].push_back(id);
    return id;
  }

  std::uint32_t addFunction(Function f) {
    out_->functions.push_back(std::move(f));
    return std::uint32_t(out_->functions.size() - 1);
  }

  std::string text(const Stmt& s) { return formatStatement(s); }

  /// The IR index of the tasker declared as `name` in `house` (not a moot), or kNone.
  std::uint32_t declaredNamed(std::uint32_t house, std::string_view name) const {
    if (house >= byName_.size()) return kNone;
    auto it = byName_[house].find(name);
    return it == byName_[house].end() ? kNone : std::uint32_t(it->second);
  }

  std::uint32_t taskerNamed(const Ident& name, const Scope& sc) {
    if (name.text == "me") return sc.framer->tasker;
    if (auto it = cloneTags_.find({sc.framer->tasker, name.text}); it != cloneTags_.end())
      return it->second;
    if (std::uint32_t found = declaredNamed(sc.framer->house, name.text); found != kNone)
      return found;
    diags_.error(name.range, "no tasker '" + name.text + "' to run");
    return kNone;
  }

  std::uint32_t frameNamed(const std::string& name, std::uint32_t framer, SourceRange r) {
    // insts_ holds one instance per IR tasker, in order; a frame's name is its declaration's.
    const FramerInst& fi = *insts_[framer];
    if (auto it = fi.decl->frameIndex.find(name); it != fi.decl->frameIndex.end())
      return fi.frames[it->second];
    diags_.error(r, "no frame '" + name + "' in framer '" + out_->taskers[framer].name + "'");
    return kNone;
  }

  /// The registry class of a built-in act, which names its `actor` node (§8).
  static std::string actorClass(const Stmt& s) {
    switch (s.kind) {
    case StmtKind::Put:
      return "PokeDirect";
    case StmtKind::Copy:
      return "PokeIndirect";
    case StmtKind::Inc:
      return static_cast<const DataStmt&>(s).form == DataStmt::Form::Direct ? "IncDirect"
                                                                            : "IncIndirect";
    case StmtKind::Set:
      return static_cast<const DataStmt&>(s).form == DataStmt::Form::Direct ? "GoalDirect"
                                                                            : "GoalIndirect";
    case StmtKind::Bid: {
      std::string c = controlName(as<BidStmt>(s).control);
      c[0] = char(std::toupper(static_cast<unsigned char>(c[0])));
      return "Want" + c;
    }
    default:
      return "Actor";
    }
  }

  void lowerAct(const Stmt& s, ActList list, const Scope& outer) {
    Scope sc = outer;
    sc.actor = actorClass(s);
    Act a;
    a.loc = loc(s.range);
    if (!checkOnly_) a.what = text(s); // for the IR printer only
    switch (s.kind) {
    case StmtKind::Print:
      a.kind = ActKind::Print;
      a.message = as<PrintStmt>(s).message;
      break;
    case StmtKind::Put:
    case StmtKind::Inc:
    case StmtKind::Copy:
    case StmtKind::Set: {
      auto op = dataOp(static_cast<const DataStmt&>(s), sc);
      if (!op) return;
      Function f;
      f.kind = Function::Kind::Data;
      f.data = std::move(*op);
      f.data.loc = a.loc;
      a.kind = ActKind::Fn;
      a.fn = addFunction(std::move(f));
      break;
    }
    case StmtKind::Go: {
      const auto& g = as<GoStmt>(s);
      a.kind = ActKind::Go;
      const Frame& here = out_->frames[sc.frame];
      if (g.target.text == "next")
        a.target = here.next;
      else if (g.target.text == "me")
        a.target = sc.frame;
      else
        a.target = frameNamed(g.target.text, sc.framer->tasker, g.target.range);
      if (a.target == kNone) {
        if (g.target.text == "next") diags_.error(g.target.range, "no next frame to go to");
        return;
      }
      a.fn = needs(g.needs, sc, a.marks, true);
      break;
    }
    case StmtKind::Timeout:
    case StmtKind::Repeat: {
      const Word& w = as<WordStmt>(s).value;
      a.kind = ActKind::Go;
      a.target = out_->frames[sc.frame].next;
      if (a.target == kNone) {
        diags_.error(s.verbRange, "no next frame to go to");
        return;
      }
      auto v = numberOf(w);
      if (!v) {
        diags_.error(w.range, "'" + w.text + "' is not a number");
        return;
      }
      double x = std::fabs(v->tag == FLO_INT ? double(v->i) : v->f);
      Need n;
      n.op = Need::Op::Compare;
      n.cmp = FLO_GE;
      n.loc = a.loc;
      const Tasker& t = out_->taskers[sc.framer->tasker];
      if (s.kind == StmtKind::Timeout) {
        n.state = t.elapsed;
        n.goal = Value::real(x);
      } else {
        n.state = t.recurred;
        n.goal = Value::integer(std::int64_t(x));
      }
      Function f;
      f.kind = Function::Kind::Needs;
      f.needs.push_back(n);
      a.fn = addFunction(std::move(f));
      break;
    }
    case StmtKind::Let: {
      a.kind = ActKind::Let;
      std::vector<MarkRef> unused;
      a.fn = needs(as<LetStmt>(s).needs, sc, unused, false);
      break;
    }
    case StmtKind::Aux: {
      const auto& x = as<AuxStmt>(s);
      std::uint32_t declared = declaredNamed(sc.framer->house, x.framer.text);
      const sema::Tasker* moot = nullptr;
      if (declared == kNone) {
        moot = mootNamed(sc.framer->house, x.framer.text);
        if (!moot) {
          diags_.error(x.framer.range, "no framer '" + x.framer.text + "'");
          return;
        }
      }
      if (x.conditional) {
        a.kind = ActKind::CondAux;
        a.target = declared;
        if (a.target == kNone) {
          unsupported(x.framer.range, "a conditional aux of a moot framer");
          return;
        }
        a.fn = needs(x.needs, sc, a.marks, true);
        runs(sc.framer->tasker, a.target, x.framer.range);
        addAct(std::move(a), ActList::Precur, sc);
        return;
      }
      std::uint32_t aux;
      if (x.tag) {
        if (!moot) return;
        aux = clone(*moot, x, sc);
        if (aux == kNone) return;
      } else {
        aux = declared;
      }
      runs(sc.framer->tasker, aux, x.framer.range);
      out_->frames[sc.frame].auxes.push_back(aux);
      return;
    }
    case StmtKind::Done: {
      a.kind = ActKind::Done;
      const auto& d = as<DoneStmt>(s);
      if (d.taskers.empty()) a.taskers.push_back(sc.framer->tasker);
      for (const auto& n : d.taskers)
        if (auto t = taskerNamed(n, sc); t != kNone) a.taskers.push_back(t);
      break;
    }
    case StmtKind::Bid: {
      const auto& b = as<BidStmt>(s);
      a.kind = ActKind::Bid;
      a.control = std::uint32_t(b.control);
      auto schedulable = [&](std::uint32_t t) {
        auto sch = out_->taskers[t].schedule;
        return sch == image::Schedule::Active || sch == image::Schedule::Inactive;
      };
      for (const auto& n : b.taskers) {
        if (n.text == "all") {
          for (std::uint32_t t = 0; t < out_->taskers.size(); ++t)
            if (out_->taskers[t].house == sc.framer->house && schedulable(t) &&
                out_->taskers[t].cloneOf.empty())
              a.taskers.push_back(t);
        } else if (n.text == "me") {
          // In an aux or slave `bid ... me` is accepted and does nothing (§9.7).
          if (schedulable(sc.framer->tasker)) a.taskers.push_back(sc.framer->tasker);
        } else if (auto t = taskerNamed(n, sc); t != kNone) {
          a.taskers.push_back(t);
        }
      }
      if (b.at) {
        const FieldsPath& p = *b.at;
        if (p.fields.empty() && p.path.relations.empty() && p.path.head.kind == WordKind::Number) {
          auto v = numberOf(p.path.head);
          a.periodKind = 1;
          a.period = v ? (v->tag == FLO_INT ? double(v->i) : v->f) : 0.0;
        } else {
          a.periodKind = 2;
          std::uint32_t sh = sharePath(p.path, sc);
          a.periodRef =
              field(sh, p.fields.empty() ? "value" : p.fields[0].text, Value::real(0.0), p.range);
          read(sh, p.range);
        }
      }
      break;
    }
    case StmtKind::Fiat: {
      const auto& f = as<FiatStmt>(s);
      a.kind = ActKind::Fiat;
      a.control = std::uint32_t(f.control);
      a.target = taskerNamed(f.slave, sc);
      if (a.target == kNone) return;
      runs(sc.framer->tasker, a.target, f.slave.range);
      break;
    }
    case StmtKind::Do:
      if (!lowerDo(as<DoStmt>(s), sc, a)) return;
      break;
    case StmtKind::Rear: {
      const auto& r = as<RearStmt>(s);
      const sema::Tasker* moot = mootNamed(sc.framer->house, r.original.text);
      if (!moot) {
        diags_.error(r.original.range,
                     "`rear` clones a moot framer; no moot '" + r.original.text + "'");
        return;
      }
      a.kind = ActKind::Rear;
      a.target = frameNamed(r.frame.text, sc.framer->tasker, r.frame.range);
      if (a.target == kNone) return;
      const sema::Frame* targetSema = nullptr;
      for (std::size_t i = 0; i < sc.framer->frames.size(); ++i)
        if (sc.framer->frames[i] == a.target) targetSema = &sc.framer->decl->frames[i];
      const Path* via = nullptr;
      for (const auto& c : moot->decl->clauses)
        if (c.kind == TaskerClause::Kind::Via && c.path) via = &*c.path;
      // The pool is made after the clones resolve creates, so run-time clones take the next
      // numbers, as they would in Ioflo (`tmpl1` made by resolve, `tmpl2` by the first rear).
      pendingRears_.push_back({std::uint32_t(out_->acts.size()), r.original.range, moot, via,
                               sc.framer, a.target, targetSema});
      break;
    }
    case StmtKind::Raze: {
      const auto& r = as<RazeStmt>(s);
      a.kind = ActKind::Raze;
      a.control = r.which == RazeStmt::Which::All ? 0 : r.which == RazeStmt::Which::First ? 1 : 2;
      a.target = sc.frame;
      if (r.frame && r.frame->text != "me")
        a.target = frameNamed(r.frame->text, sc.framer->tasker, r.frame->range);
      if (a.target == kNone) return;
      break;
    }
    default:
      return;
    }
    addAct(std::move(a), list, sc);
  }

  /// A clone of `moot` run inside `mainFrame` of `main`: named `<main>_<tag>`, where an
  /// insular clone's tag is the template's name and the next number (§9.6, §12.9).
  std::uint32_t cloneOf(const sema::Tasker& moot, std::string tag, const Path* via,
                        const FramerInst* main, std::uint32_t mainFrame,
                        const sema::Frame* mainSemaFrame) {
    if (out_->taskers.size() >= kMaxTaskers) {
      if (!cloneOverflow_)
        diags_.error(moot.decl->name.range, "cloning '" + moot.name + "' does not end: more than " +
                                                std::to_string(kMaxTaskers) +
                                                " framers (does a moot clone itself?)");
      cloneOverflow_ = true;
      return kNone;
    }
    FramerInst& fi = newFramer(moot, main->house, main->name + "_" + tag);
    fi.clone = true;
    fi.main = main;
    fi.mainFrame = mainFrame;
    fi.mainSemaFrame = mainSemaFrame;
    fi.via = via;
    out_->taskers[fi.tasker].schedule = image::Schedule::Aux;
    out_->taskers[fi.tasker].cloneOf = moot.name;
    cloneQueue_.push_back(&fi);
    return fi.tasker;
  }

  std::uint32_t clone(const sema::Tasker& moot, const AuxStmt& x, const Scope& sc) {
    bool insular = x.tag->text == "mine";
    const Path* via = nullptr;
    if (x.via && x.via->head.text == "mine") {
      for (const auto& c : moot.decl->clauses)
        if (c.kind == TaskerClause::Kind::Via && c.path) via = &*c.path;
    } else if (x.via) {
      via = &*x.via;
    }
    // An insular clone's tag is fixed once per `aux ... as mine` line, numbered per framer
    // declaration and template: every copy of a moot holding the line uses the same tag.
    std::string tag = x.tag->text;
    if (insular) {
      auto [it, fresh] = insularTags_.emplace(&x, std::string());
      if (fresh)
        it->second = moot.name + std::to_string(++cloneCount_[{sc.framer->decl, moot.name}]);
      tag = it->second;
    }
    std::uint32_t t = cloneOf(moot, tag, via, sc.framer, sc.frame, sc.semaFrame);
    if (t == kNone) return kNone;
    if (!insular) cloneTags_[{sc.framer->tasker, x.tag->text}] = t;
    return t;
  }

  bool lowerDo(const DoStmt& d, const Scope& outer, Act& a) {
    std::string key = d.registryKey();
    Scope sc = outer;
    for (const auto& c : d.clauses)
      if (c.kind == DoClause::Kind::Via && c.path) sc.deedVia = &*c.path;
    std::vector<std::string> asParts;
    for (const auto& p : d.asParts) asParts.push_back(p.text);
    sc.actor = asParts.empty() ? key : stdlib::registryKey(asParts);
    // Ports bound with `per`: field/path pairs.
    std::vector<std::pair<std::string, const Word*>> per;
    std::vector<const Word*> perNames; // parallel to per: the port name words
    for (const auto& c : d.clauses)
      if (c.kind == DoClause::Kind::Per && c.data)
        for (std::size_t i = 0; i + 1 < c.data->words.size(); i += 2) {
          per.emplace_back(c.data->words[i].text, &c.data->words[i + 1]);
          perNames.push_back(&c.data->words[i]);
        }
    auto portPath = [&](const Word& w) {
      Path p;
      p.head = w;
      p.range = w.range;
      if (w.kind == WordKind::String) p.head.text = unquote(w.text);
      const std::string& t = p.head.text;
      std::string path = resolvePath(p, sc);
      // A plain relative binding with no inode anywhere lives in the actor's own node (§8).
      bool plain = !t.empty() && t[0] != '.' && t.rfind("me.", 0) != 0 && inlinePath(t, sc).empty();
      if (plain && !inodeApplied_)
        path = ".framer." + sc.framer->name + ".frame." + frameName(sc.frame) + ".actor." +
               nameToPath(sc.actor) + "." + t;
      return path;
    };
    for (std::size_t i = 0; i < model_.deeds.size(); ++i) {
      const sema::DeedDef& deed = model_.deeds[i];
      if (stdlib::registryKey({deed.name}) != key && deed.name != key) continue;
      DeedCall call;
      call.deed = deedIndex(deed);
      const Deed& ir = out_->deeds[call.deed];
      for (std::size_t k = 0; k < per.size(); ++k) {
        const std::string& name = per[k].first;
        if (std::find(ir.ports.begin(), ir.ports.end(), name) != ir.ports.end()) continue;
        const auto& vars = deed.typed->vars;
        bool local = std::any_of(vars.begin(), vars.end(), [&](const tir::Var& v) {
          return v.name == name && v.role == tir::Var::Role::Local;
        });
        diags_.error(perNames[k]->range,
                     local ? "'" + name + "' is a local of deed '" + deed.name +
                                 "': only its inputs and outputs bind to paths"
                           : "deed '" + deed.name + "' has no port '" + name + "'");
      }
      for (const auto& port : ir.ports) {
        auto pos = std::find_if(per.begin(), per.end(), [&](auto& b) { return b.first == port; });
        std::string path;
        if (pos != per.end()) {
          path = portPath(*pos->second);
        } else {
          // Unbound ports live in the actor's private namespace (§8).
          path = ".framer." + sc.framer->name + ".frame." + frameName(sc.frame) + ".actor." +
                 sc.actor + "." + port;
        }
        call.ports.push_back(
            field(share(sc.framer->house, path, d.range), "value", Value::none(), d.range));
        // An input reads what its binding names; an unbound one reads the actor's own node,
        // which the program does not name, so only bound inputs count as reads.
        const auto& vars = deed.typed->vars;
        bool input = std::any_of(vars.begin(), vars.end(), [&](const tir::Var& v) {
          return v.name == port && v.role == tir::Var::Role::Input;
        });
        if (!input)
          wrote(call.ports.back().share);
        else if (pos != per.end())
          read(call.ports.back().share, pos->second->range);
      }
      call.loc = a.loc;
      Function f;
      f.kind = Function::Kind::Deed;
      f.deed = std::move(call);
      a.kind = ActKind::Fn;
      a.fn = addFunction(std::move(f));
      return true;
    }
    const stdlib::BuiltinDeed* b = stdlib::findBuiltinDeed(key);
    if (!b || !b->implemented) {
      unsupported(d.verbRange, "the deed '" + key + "'");
      opaqueWrites_ = true; // Ioflo's deed writes shares Flo does not know of
      return false;
    }
    // Generic doers do nothing when they run; their bindings still create shares. A binding
    // does not say which way it goes: it counts as a write, so it never makes a false warning.
    for (auto& [name, w] : per) wrote(share(sc.framer->house, portPath(*w), w->range));
    a.kind = ActKind::Nop;
    return true;
  }

  // ------------------------------------------------------------------ jobs

  /// Each job: its target, trigger and limit resolved, and the bound of one run's work
  /// (docs/language.md, "Extension: job"). The checker has validated every line.
  void lowerJobs() {
    for (const auto& block : model_.jobs) {
      Job job;
      job.name = block.name;
      const auto& decl = static_cast<const NameStmt&>(*block.decl);
      job.loc = loc(decl.name->range);
      const JobRunStmt* run = nullptr;
      const TriggerStmt* trigger = nullptr;
      for (const Stmt* s : block.body) {
        switch (s->kind) {
        case StmtKind::JobRun:
          run = &as<JobRunStmt>(*s);
          break;
        case StmtKind::Trigger:
          trigger = &as<TriggerStmt>(*s);
          break;
        case StmtKind::Limit: {
          const auto& l = as<LimitStmt>(*s);
          double passes = 0;
          if (l.unit) {
            if (auto v = numberOf(l.amount)) passes = v->tag == FLO_INT ? double(v->i) : v->f;
          } else if (auto d = durationOf(l.amount.text)) {
            passes = std::ceil(*d / kJobPassSeconds - 1e-9);
          }
          job.limitPasses = std::uint32_t(std::clamp(passes, 1.0, 1e6));
          break;
        }
        case StmtKind::Needs:
          for (const auto& [key, value] : as<NeedsStmt>(*s).items) job.needs[key.text] = value.text;
          break;
        case StmtKind::Price: {
          const auto& p = as<PriceStmt>(*s);
          job.priceAmount = p.amount.text;
          job.priceUnit = p.unit.text;
          if (p.max) job.priceMax = p.max->text;
          break;
        }
        case StmtKind::Replicas: {
          const auto& r = as<ReplicasStmt>(*s);
          job.replicas = r.count.text;
          if (r.placement) job.placement = r.placement->text;
          break;
        }
        default:
          break;
        }
      }
      if (!run) continue; // the checker reported it
      job.target = run->name.text;
      std::uint32_t house = 0;
      if (run->target == JobRunStmt::Kind::Flow) {
        job.runs = Job::Runs::Flow;
        for (std::uint32_t f = 0; f < out_->flows.size(); ++f)
          if (out_->flows[f].name == job.target) job.flow = f;
        if (job.flow == kNone) continue; // the checker reported it, or the flow's errors
        house = out_->flows[job.flow].house;
      } else if (run->target == JobRunStmt::Kind::Framer) {
        job.runs = Job::Runs::Framer;
        for (std::uint32_t t = 0; t < out_->taskers.size(); ++t) {
          const Tasker& tk = out_->taskers[t];
          if (tk.kind == image::TaskerKind::Framer && tk.cloneOf.empty() && tk.name == job.target) {
            job.tasker = t;
            house = tk.house;
            break;
          }
        }
        if (job.tasker == kNone) continue; // the checker reported it
      } else {
        job.runs = Job::Runs::Deed;
        job.fn = jobDeedCall(job, *run);
        if (job.fn == kNone) {
          if (!out_->houses.empty())
            unsupported(run->name.range, "a job running the built-in deed '" + job.target + "'");
          continue;
        }
      }
      if (trigger && trigger->every) {
        job.trigger = Job::Trigger::Every;
        auto v = numberOf(*trigger->every);
        job.every = v ? (v->tag == FLO_INT ? double(v->i) : v->f)
                      : durationOf(trigger->every->text).value_or(1.0);
        job.triggerText = "every " + trigger->every->text;
      } else if (trigger && trigger->on) {
        job.trigger = Job::Trigger::On;
        std::string path = trigger->on->head.text;
        while (path.size() > 1 && path.back() == '.') path.pop_back();
        job.triggerText = "on " + path;
        if (std::uint32_t on = houseShares(house).find(path); on != kNone) {
          job.onShare = on;
        } else {
          diags_.error(trigger->on->range, "job '" + job.name + "' is triggered by writes to '" +
                                               path + "', which nothing in the program names");
          diags_.note({}, "a `trigger on` share must be one the program writes");
        }
      }
      std::string why;
      if (auto bound = runWork(*out_, job, why)) {
        job.costBound = *bound;
      } else {
        diags_.error(decl.name->range, "the work of job '" + job.name + "' is unbounded: " + why);
      }
      out_->jobs.push_back(std::move(job));
    }
  }

  /// `run deed NAME`: one call of the deed per trigger, its ports bound to the job's own node
  /// `.job.NAME.PORT` (inputs are read from there, outputs written there).
  std::uint32_t jobDeedCall(const Job& job, const JobRunStmt& run) {
    if (out_->houses.empty()) {
      diags_.error(run.range, "job '" + job.name +
                                  "' runs a deed, whose ports live in a house's "
                                  "store, but the program has no house");
      return kNone;
    }
    for (const auto& deed : model_.deeds) {
      if (deed.name != job.target) continue;
      DeedCall call;
      call.deed = deedIndex(deed);
      call.loc = loc(run.range);
      const Deed& ir = out_->deeds[call.deed];
      for (const auto& port : ir.ports) {
        call.ports.push_back(field(share(0, ".job." + job.name + "." + port, run.range), "value",
                                   Value::none(), run.range));
        wrote(call.ports.back().share);
      }
      Function f;
      f.kind = Function::Kind::Deed;
      f.deed = std::move(call);
      return addFunction(std::move(f));
    }
    return kNone; // a built-in deed: the checker's `no deed named` covers Flo deeds only
  }

  std::uint32_t deedIndex(const sema::DeedDef& deed) {
    assert(deed.typed && "lowering runs only on a model without errors, so sema typed the deed");
    for (std::uint32_t i = 0; i < out_->deeds.size(); ++i)
      if (out_->deeds[i].typed == deed.typed) return i;
    Deed d;
    d.name = deed.name;
    d.typed = deed.typed;
    // Inputs and outputs are bound to store fields; locals live in the generated code alone.
    for (std::uint32_t v : deed.typed->inputsAndOutputs())
      d.ports.push_back(deed.typed->vars[v].name);
    for (const auto& st : deed.typed->body) d.stmtLocs.push_back(loc(st.range));
    out_->deeds.push_back(std::move(d));
    return std::uint32_t(out_->deeds.size() - 1);
  }

  // ------------------------------------------------------------------ data acts (§7, §12.3)

  std::vector<std::string> names(const std::vector<Ident>& ids) {
    std::vector<std::string> out;
    for (auto& i : ids) out.push_back(i.text);
    return out;
  }

  /// Fields for one side of a copy/inc-from when no selector is given (§7): `value` if the
  /// share has it; else the other side's selector; else the share's existing fields.
  std::vector<std::string> sideFields(std::uint32_t share, const std::vector<std::string>& own,
                                      const std::vector<std::string>& other) {
    if (!own.empty()) return own;
    if (hasField(share, "value")) return {"value"};
    if (!other.empty()) return other;
    if (!out_->shares[share].fields.empty()) return out_->shares[share].fields;
    return {"value"};
  }

  std::optional<DataOp> dataOp(const DataStmt& s, const Scope& sc) {
    DataOp op;
    if (s.framerGoal) {
      // set elapsed|recurred: the framer's goal share (§12.6).
      std::string path = ".framer." + sc.framer->name + ".goal." + s.framerGoal->text;
      op.share = share(sc.framer->house, path, s.framerGoal->range);
      wrote(op.share);
      if (s.form == DataStmt::Form::Direct && s.goalValue) {
        auto v = dataValue(*s.goalValue);
        if (!v) return std::nullopt;
        op.kind = DataOp::Kind::Put;
        op.fields.push_back(field(op.share, "value", Value::none(), s.range).field);
        op.values.push_back(*v);
        return op;
      }
      std::uint32_t src = sharePath(s.src.path, sc);
      read(src, s.src.range);
      auto sf = sideFields(src, names(s.src.fields), {"value"});
      op.kind = DataOp::Kind::Copy;
      op.sources.push_back(field(src, sf[0], Value::none(), s.src.range));
      op.fields.push_back(field(op.share, "value", Value::none(), s.range).field);
      return op;
    }
    const bool copy = s.kind == StmtKind::Copy;
    const bool fromSource = copy || s.form == DataStmt::Form::FromSource;
    if (!fromSource) {
      auto data = direct(s.data);
      if (data.empty()) return std::nullopt;
      op.kind = s.kind == StmtKind::Inc ? DataOp::Kind::Inc : DataOp::Kind::Put;
      op.share = sharePath(s.dest.path, sc);
      wrote(op.share);
      auto sel = names(s.dest.fields);
      if (!sel.empty() && sel.size() != data.size()) {
        diags_.error(s.dest.range, std::to_string(sel.size()) + " fields selected for " +
                                       std::to_string(data.size()) + " values");
        return std::nullopt;
      }
      for (std::size_t i = 0; i < data.size(); ++i) {
        const std::string& name = sel.empty() ? data[i].first : sel[i];
        op.fields.push_back(field(op.share, name, Value::none(), s.dest.range).field);
        if (op.kind == DataOp::Kind::Inc && data[i].second.tag != FLO_INT &&
            data[i].second.tag != FLO_FLOAT && data[i].second.tag != FLO_BOOL) {
          diags_.error(s.data.range,
                       "`inc ... with` adds numbers; " + repr(data[i].second) + " is not one");
          return std::nullopt;
        }
        op.values.push_back(data[i].second);
      }
      return op;
    }
    // copy src into dest; set dest from src; inc dest from src
    const FieldsPath& srcPath = s.src;
    const FieldsPath& dstPath = s.dest;
    std::uint32_t src = sharePath(srcPath.path, sc);
    std::uint32_t dst = sharePath(dstPath.path, sc);
    read(src, srcPath.range);
    wrote(dst);
    auto srcSel = names(srcPath.fields), dstSel = names(dstPath.fields);
    auto srcFields = sideFields(src, srcSel, dstSel);
    auto dstFields = sideFields(dst, dstSel, srcFields);
    if (srcFields.size() != dstFields.size()) {
      diags_.error(s.range, std::to_string(srcFields.size()) + " source fields for " +
                                std::to_string(dstFields.size()) + " destination fields");
      return std::nullopt;
    }
    op.kind = s.kind == StmtKind::Inc ? DataOp::Kind::Inc : DataOp::Kind::Copy;
    op.fromSource = s.kind == StmtKind::Inc;
    op.share = dst;
    for (std::size_t i = 0; i < srcFields.size(); ++i) {
      op.sources.push_back(field(src, srcFields[i], Value::none(), srcPath.range));
      op.fields.push_back(field(dst, dstFields[i], Value::none(), dstPath.range).field);
    }
    return op;
  }

  // ------------------------------------------------------------------ needs (§6, §12.5)

  std::optional<Value> goalLiteral(const Word& w) {
    switch (w.kind) {
    case WordKind::String:
      return Value::string(unquote(w.text));
    case WordKind::Number:
      return numberOf(w);
    case WordKind::Name:
      return keywordValue(w);
    case WordKind::Chunk:
      return Value::string(w.text);
    case WordKind::Point:
    case WordKind::Coord:
      return pointOrCoord(w);
    default:
      return std::nullopt;
    }
  }

  std::uint32_t markFor(std::uint32_t share, const std::string& key) {
    auto [it, inserted] = marks_.emplace(std::make_pair(share, key), out_->marks);
    if (inserted) ++out_->marks;
    return it->second;
  }

  std::uint32_t needs(const std::vector<lang::Need>& ns, const Scope& outerScope,
                      std::vector<MarkRef>& transit, bool withTransit) {
    if (ns.empty()) return kNone;
    Function f;
    f.kind = Function::Kind::Needs;
    for (const auto& n : ns) {
      Need x;
      x.negated = n.negated;
      x.loc = loc(n.range);
      Scope sc = outerScope;
      sc.actor = n.kind == NeedKind::Compare
                     ? (!n.comparison                              ? "NeedBoolean"
                        : n.goal && goalLiteral(n.goal->path.head) ? "NeedDirect"
                                                                   : "NeedIndirect")
                 : n.kind == NeedKind::Mark ? (n.changed ? "NeedChange" : "NeedUpdate")
                                            : "Need";
      switch (n.kind) {
      case NeedKind::Compare: {
        std::uint32_t sh = sharePath(n.state.path, sc);
        std::string fname = n.state.fields.empty() ? "value" : n.state.fields[0].text;
        if (n.state.fields.empty() && !out_->shares[sh].fields.empty() && !hasField(sh, "value")) {
          diags_.error(n.state.range, "share '" + out_->shares[sh].path + "' has fields (" +
                                          join(out_->shares[sh].fields, ", ") +
                                          ") but no `value`: select one with `FIELD in`");
          break;
        }
        x.state = field(sh, fname, Value::real(0.0), n.state.range);
        read(sh, n.state.range);
        if (!n.comparison) {
          x.op = Need::Op::Truthy;
          break;
        }
        x.op = Need::Op::Compare;
        x.cmp = cmpOf(*n.comparison);
        goal(x, n, sc, fname);
        break;
      }
      case NeedKind::FramerState: {
        std::uint32_t framer = sc.framer->tasker;
        if (n.re && n.re->text != "me") framer = taskerNamed(*n.re, sc);
        if (framer == kNone) break;
        const Tasker& t = out_->taskers[framer];
        x.op = Need::Op::Compare;
        x.cmp = cmpOf(*n.comparison);
        x.state = n.recurred ? t.recurred : t.elapsed;
        const Word& w = n.goal->path.head;
        if (n.goal->fields.empty() && n.goal->path.relations.empty() && w.text == "goal") {
          std::string path = ".framer." + t.name + ".goal." + (n.recurred ? "recurred" : "elapsed");
          x.goalIsRef = true;
          x.goalRef = field(share(t.house, path, w.range), "value", Value::real(0.0), w.range);
        } else {
          goal(x, n, sc, "value");
        }
        break;
      }
      case NeedKind::Tasker: {
        x.tasker = taskerNamed(*n.name, sc);
        if (n.status == TaskerStatus::Done) {
          x.op = Need::Op::Done;
        } else {
          x.op = Need::Op::Status;
          switch (n.status) {
          case TaskerStatus::Readied:
            x.status = std::uint32_t(image::Status::Readied);
            break;
          case TaskerStatus::Started:
            x.status = std::uint32_t(image::Status::Started);
            break;
          case TaskerStatus::Running:
            x.status = std::uint32_t(image::Status::Running);
            break;
          case TaskerStatus::Stopped:
            x.status = std::uint32_t(image::Status::Stopped);
            break;
          default:
            x.status = std::uint32_t(image::Status::Aborted);
            break;
          }
        }
        break;
      }
      case NeedKind::AuxDone: {
        if (n.auxForm == AuxForm::Named) {
          x.op = Need::Op::Done;
          x.tasker = taskerNamed(*n.name, sc);
          break;
        }
        x.op = n.auxForm == AuxForm::All ? Need::Op::AuxAll : Need::Op::AuxAny;
        std::uint32_t framer = sc.framer->tasker;
        if (n.inFramer && n.framer && n.framer->text != "me") framer = taskerNamed(*n.framer, sc);
        x.frame = sc.frame;
        if (n.inFrame && n.frame && n.frame->text != "me")
          x.frame = framer == kNone ? kNone : frameNamed(n.frame->text, framer, n.frame->range);
        else if (framer != sc.framer->tasker && framer != kNone)
          x.frame = out_->taskers[framer].first;
        break;
      }
      case NeedKind::Mark: {
        x.op = n.changed ? Need::Op::Changed : Need::Op::Updated;
        x.share = sharePath(n.state.path, sc);
        read(x.share, n.state.range);
        std::uint32_t markFrame = sc.frame;
        std::string key;
        if (n.by) {
          key = "by:" + n.by->text;
        } else if (n.inFrame) {
          if (n.frame && n.frame->text != "me")
            markFrame = frameNamed(n.frame->text, sc.framer->tasker, n.frame->range);
          key = "frame:" + (markFrame == kNone ? std::string() : frameName(markFrame));
        } else {
          key = "frame:" + frameName(sc.frame);
        }
        x.mark = markFor(x.share, sc.framer->name + "|" + key);
        auto kind = n.changed ? image::MarkKind::Change : image::MarkKind::Update;
        if (withTransit) transit.push_back({x.mark, x.share, kind});
        if (n.inFrame && markFrame != kNone) {
          auto key2 = std::make_pair(x.share, x.mark);
          if (enterMarked_.insert({markFrame, key2}).second) {
            Act m;
            m.kind = ActKind::Mark;
            m.loc = x.loc;
            m.target = x.mark;
            m.share = x.share;
            m.control = std::uint32_t(kind);
            m.what = std::string(n.changed ? "change" : "update") + " marker of '" +
                     out_->shares[x.share].path + "'";
            out_->acts.push_back(std::move(m));
            enterMarkers_[markFrame].push_back(std::uint32_t(out_->acts.size() - 1));
          }
        }
        break;
      }
      }
      if (n.tolerance) {
        if (auto v = numberOf(*n.tolerance))
          x.tolerance = std::fabs(v->tag == FLO_INT ? double(v->i) : v->f);
      }
      f.needs.push_back(std::move(x));
    }
    return addFunction(std::move(f));
  }

  void goal(Need& x, const lang::Need& n, const Scope& sc, const std::string& stateField) {
    const FieldsPath& g = *n.goal;
    if (g.fields.empty() && g.path.relations.empty()) {
      if (auto v = goalLiteral(g.path.head)) {
        x.goal = *v;
        return;
      }
    }
    std::uint32_t sh = sharePath(g.path, sc);
    std::string fname = !g.fields.empty() ? g.fields[0].text
                        : hasField(sh, "value") || out_->shares[sh].fields.empty()
                            ? std::string("value")
                            : stateField;
    if (g.fields.empty() && !out_->shares[sh].fields.empty() && !hasField(sh, "value"))
      fname = stateField;
    x.goalIsRef = true;
    x.goalRef = field(sh, fname, Value::real(0.0), g.range);
    read(sh, g.range);
  }

  // ------------------------------------------------------------------ queue order, slots

  void order() {
    for (std::uint32_t h = 0; h < out_->houses.size(); ++h) {
      for (sema::Order o : {sema::Order::Front, sema::Order::Mid, sema::Order::Back})
        for (auto* fi : declaredIn(h))
          if (fi->decl->order == o) {
            auto s = out_->taskers[fi->tasker].schedule;
            if (s == image::Schedule::Active || s == image::Schedule::Inactive)
              out_->houses[h].queue.push_back(fi->tasker);
          }
    }
    std::uint32_t slot = 0;
    for (auto& s : out_->shares) {
      s.firstSlot = slot;
      slot += std::uint32_t(s.fields.size());
    }
  }

  // ------------------------------------------------------------------ types

  /// Joins the type of every value a field can hold: its initial value and every write.
  void infer() {
    for (auto& s : out_->shares) {
      s.types.clear();
      for (auto& v : s.values) s.types.push_back(typeOf(v));
    }
    for (const Tasker& t : out_->taskers) {
      if (!t.elapsed.valid()) continue;
      widen(t.elapsed, Type::Float);
      widen(t.recurred, Type::Int);
      widen(t.active, Type::Str);
      widen(t.human, Type::Str);
    }
    for (const auto& h : out_->houses)
      if (h.time.valid()) widen(h.time, Type::Float);
    for (int round = 0; round < 8; ++round) {
      bool changed = false;
      for (const auto& f : out_->functions) {
        if (f.kind == Function::Kind::Data) {
          const DataOp& d = f.data;
          for (std::size_t i = 0; i < d.fields.size(); ++i) {
            FieldRef dst{d.share, d.fields[i]};
            Type t;
            if (d.kind == DataOp::Kind::Put) {
              t = typeOf(d.values[i]);
            } else if (d.kind == DataOp::Kind::Copy) {
              t = typeAt(d.sources[i]);
            } else {
              Type delta = d.fromSource ? typeAt(d.sources[i]) : typeOf(d.values[i]);
              Type old = typeAt(dst);
              t = (old == Type::Str && delta == Type::Str) ? Type::Str
                  : (old == Type::Int || old == Type::Bool) &&
                          (delta == Type::Int || delta == Type::Bool)
                      ? Type::Int
                      : Type::Number;
            }
            changed |= widen(dst, t);
          }
        } else if (f.kind == Function::Kind::Deed) {
          for (const auto& p : f.deed.ports) changed |= widen(p, Type::Any);
        }
      }
      for (const auto& fl : out_->flows)
        for (auto sink : fl.sinks)
          changed |= widen(sink, fl.reducer == Flow::Reducer::Count ? Type::Int : Type::Float);
      if (!changed) break;
    }
    // Ordering needs whose operands can only be incompatible are errors now (compatibility
    // policy: Flo rejects at check time what would abort Ioflo's run when the types are known).
    for (const auto& f : out_->functions) {
      if (f.kind != Function::Kind::Needs) continue;
      for (const auto& n : f.needs) {
        if (n.op != Need::Op::Compare || n.cmp == FLO_EQ || n.cmp == FLO_NE) continue;
        Type a = typeAt(n.state), b = n.goalIsRef ? typeAt(n.goalRef) : typeOf(n.goal);
        auto category = [](Type t) {
          switch (t) {
          case Type::Bool:
          case Type::Int:
          case Type::Float:
          case Type::Number:
            return 1;
          case Type::Str:
            return 2;
          case Type::Point:
            return 3;
          default:
            return 0; // unknown, None or mixed: decided at run time
          }
        };
        int ca = category(a), cb = category(b);
        if ((ca && cb && ca != cb) || (!n.goalIsRef && b == Type::None))
          typeErrors_.push_back({n.loc, std::string("ordering comparison between ") + typeName(a) +
                                            " and " + typeName(b)});
      }
    }
    // Built, a place has one location, whose range is the first one lowered there; checked,
    // each call has its own: report at the first range with the same start, as a build does.
    auto placeOf = [](SourceRange r) {
      return r.valid() ? std::uint64_t(r.file) << 32 | r.begin : ~std::uint64_t(0);
    };
    std::unordered_map<std::uint64_t, std::optional<SourceRange>> firstAt;
    if (checkOnly_ && !typeErrors_.empty()) {
      for (auto& [l, msg] : typeErrors_) firstAt.emplace(placeOf(locRanges_[l]), std::nullopt);
      for (const SourceRange& r : locRanges_)
        if (auto it = firstAt.find(placeOf(r)); it != firstAt.end() && !it->second) it->second = r;
    }
    for (auto& [l, msg] : typeErrors_) {
      diags_.error(checkOnly_ ? *firstAt.at(placeOf(locRanges_[l])) : locRanges_[l], msg);
      diags_.note({}, "Ioflo would abort the run here with a TypeError; Flo rejects the program");
    }
  }

  Type typeAt(FieldRef r) const { return out_->shares[r.share].types[r.field]; }
  bool widen(FieldRef r, Type t) {
    Type& cur = out_->shares[r.share].types[r.field];
    Type j = join(cur, t);
    if (j == cur) return false;
    cur = j;
    return true;
  }

  const lang::Program& program_;
  const sema::Model& model_;
  const SourceManager& sources_;
  Diagnostics& diags_;
  std::unique_ptr<Program> out_;
  bool checkOnly_ = false;
  bool inodeApplied_ = false;
  std::map<std::string, std::uint32_t> locIndex_;
  std::vector<SourceRange> locRanges_; ///< parallel to Program::locations
  /// By house; each in place for good, as the views in its indexes point into it.
  std::vector<std::unique_ptr<HouseShares>> shares_;
  std::vector<std::unique_ptr<FramerInst>> insts_;
  std::vector<FramerInst*> declared_;
  std::vector<std::vector<FramerInst*>> declaredIn_; ///< declared_ by house
  std::deque<FramerInst*> cloneQueue_;
  std::vector<sema::NameIndex> byName_; ///< by house: declared taskers' IR indexes by name
  std::map<std::pair<std::uint32_t, std::string>, std::uint32_t> cloneTags_;
  std::map<std::pair<const sema::Tasker*, std::string>, std::uint32_t> cloneCount_;
  std::map<const AuxStmt*, std::string> insularTags_;
  std::map<std::pair<std::uint32_t, std::string>, std::uint32_t> marks_;
  std::map<std::uint32_t, std::vector<std::uint32_t>> enterMarkers_;
  std::set<std::pair<std::uint32_t, std::pair<std::uint32_t, std::uint32_t>>> enterMarked_;
  std::vector<std::pair<std::uint32_t, std::string>> typeErrors_;
  std::vector<bool> written_; ///< by share: something initializes or writes it
  std::vector<std::optional<SourceRange>> firstRead_; ///< by share: where it is first read
  bool opaqueWrites_ = false; ///< something writes shares the program does not name
};

} // namespace

std::unique_ptr<Program> lower(const lang::Program& program, const sema::Model& model,
                               const lang::SourceManager& sources, lang::Diagnostics& diags,
                               bool checkOnly, bool disableFree) {
  auto lowering = std::make_unique<Lowering>(program, model, sources, diags, checkOnly);
  auto out = lowering->run();
  if (disableFree) (void)lowering.release();
  return out;
}

} // namespace flo::ir
