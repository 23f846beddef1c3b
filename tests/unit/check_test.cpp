/// \file
/// The structure checker: hierarchy, links, contexts, name resolution and the model it builds.
#include "compiler/sema/check.h"
#include "lang/parser.h"

#include <gtest/gtest.h>

#include <sstream>

namespace flo::sema {
namespace {

using namespace lang;

struct Checked {
  SourceManager sm;
  std::unique_ptr<Diagnostics> diags;
  std::unique_ptr<Program> program;
  std::unique_ptr<Model> model;
  std::string text() const {
    std::ostringstream out;
    diags->renderText(out);
    return out.str();
  }
  bool has(std::string_view s) const { return text().find(s) != std::string::npos; }
};

std::unique_ptr<Checked> run(std::string src) {
  auto c = std::make_unique<Checked>();
  c->diags = std::make_unique<Diagnostics>(c->sm);
  FileId id = c->sm.addBuffer("c.flo", std::move(src));
  c->program = parseProgram(c->sm, id, *c->diags);
  c->model = check(*c->program, *c->diags);
  return c;
}

TEST(Check, BuildsStructureWithPrimaryUnders) {
  // FLOSCRIPT.md §9.5: a grandchild declared before its parent links the parent first.
  auto c = run("house h\nframer f be active\nframe p\nframe gc in c\nframe c0 in p\nframe c in p\n"
               "frame q\n go p\n");
  ASSERT_FALSE(c->diags->hasErrors()) << c->text();
  const Tasker& t = c->model->houses[0].taskers[0];
  const Frame& p = t.frames[t.frameIndex.at("p")];
  ASSERT_EQ(p.unders.size(), 2u);
  EXPECT_EQ(t.frames[p.unders[0]].name, "c");
  EXPECT_EQ(t.frames[p.unders[1]].name, "c0");
  EXPECT_EQ(t.frames[t.frameIndex.at("p")].next, t.frameIndex.at("gc"));
}

TEST(Check, UnderOverridesPrimary) {
  auto c = run("house h\nframer f be active\nframe p\nunder b\nframe a in p\nframe b in p\n");
  ASSERT_FALSE(c->diags->hasErrors()) << c->text();
  const Tasker& t = c->model->houses[0].taskers[0];
  EXPECT_EQ(t.frames[t.frames[0].unders[0]].name, "b");
}

TEST(Check, HierarchyCycleIsReported) {
  auto c = run("house h\nframer f be active\nframe a in b\nframe b in a\n");
  EXPECT_TRUE(c->has("frame hierarchy has a cycle")) << c->text();
}

TEST(Check, UnknownTargetsSuggest) {
  auto c = run("house h\nframer f be active\nframe north\n go nroth\nframe last\n go next\n");
  EXPECT_TRUE(c->has("no frame named 'nroth' in framer 'f'")) << c->text();
  EXPECT_TRUE(c->has("did you mean 'north'?"));
  EXPECT_TRUE(c->has("`go next` in frame 'last', which has no next frame"));
}

TEST(Check, VerbsMustStandInTheirContext) {
  auto c = run("put 1 into .x\nframe a\nhouse h\nloggee .x\nframer f\nlog l\n");
  EXPECT_TRUE(c->has("`put` outside a frame")) << c->text();
  EXPECT_TRUE(c->has("`frame` outside a framer"));
  EXPECT_TRUE(c->has("`loggee` outside a log"));
  EXPECT_TRUE(c->has("`log` outside a logger"));
}

TEST(Check, TaskerKindsAreEnforced) {
  auto c = run("house h\nframer s be slave\n frame s1\nframer a be aux\n frame a1\n"
               "framer m be active\n frame m1\n  aux s\n  start a\n  bid stop s\n  done m\n");
  EXPECT_TRUE(c->has("framer 's' is slave, not aux")) << c->text();
  EXPECT_TRUE(c->has("`start` steps a slave; 'a' is aux"));
  EXPECT_TRUE(c->has("cannot bid on slave framer 's'"));
  EXPECT_TRUE(c->has("`done` names aux or slave framers; 'm' is active"));
}

TEST(Check, DeedsAreBuiltInOrDeclared) {
  auto c = run("deed twice\n output o as f64\n let o = 2.0\n"
               "house h\nframer f be active\nframe a\n do doer param\n do twice\n do doerr\n");
  EXPECT_EQ(c->diags->errorCount(), 1u) << c->text();
  EXPECT_TRUE(c->has("unknown deed 'doerr'"));
  EXPECT_TRUE(c->has("did you mean 'doer'?"));
}

TEST(Check, DeprecatedFormsWarnByName) {
  auto c = run("house h\ninit .x to 1\nframer f be active\nframe a\n set elapsed to 2\n"
               " go b if elapsed >= goal\nframe b\n");
  EXPECT_FALSE(c->diags->hasErrors()) << c->text();
  // init ... to and bare elapsed; `set elapsed to` is a plain form (FLOSCRIPT.md §10)
  EXPECT_EQ(c->diags->warningCount(), 2u) << c->text();
  EXPECT_TRUE(c->has("[-Wdeprecated]"));
}

TEST(Check, UnreachableFrameAndUnusedFramer) {
  auto c = run("house h\nframer f be active\nframe a\nframe b\nframer x be aux\nframe x1\n");
  EXPECT_TRUE(c->has("frame 'b' of framer 'f' is never entered")) << c->text();
  EXPECT_TRUE(c->has("aux framer 'x' is never used"));
}

TEST(Check, ContractNamesResolve) {
  auto c = run("contract c\n state total as u64\n action add amt as u64\n  requires amt > 0\n"
               "  ensures total == old total + amt\n  let total = total + amount\n");
  EXPECT_EQ(c->diags->errorCount(), 1u) << c->text();
  EXPECT_TRUE(c->has("unknown name 'amount'"));
}

TEST(Check, PathMayNotDescendThroughShare) {
  auto c =
      run("house h\ninit .pos with x 1 y 2\nframer f be active\nframe a\n put 3 into .pos.x\n");
  EXPECT_TRUE(c->has("path '.pos.x' descends through share '.pos'")) << c->text();
  EXPECT_TRUE(c->has("select a field instead: `x in .pos`"));
}

// Issue 15: the warning names the context that owns the act, points at its verb, and suggests
// the fix; "move it above" only where nothing but the frame's body stands above the verb.
TEST(Check, MisleadingIndentationNamesTheContextAndTheFix) {
  auto c = run("house h\nframer f be active\nframe a\n  enter\n    put 1 into .x\n"
               "  do doer\n  exit\n    print bye\n  print again\n");
  EXPECT_FALSE(c->diags->hasErrors()) << c->text();
  ASSERT_EQ(c->diags->warningCount(), 2u) << c->text();
  const Diagnostic& first = c->diags->all()[0];
  EXPECT_EQ(first.warning, Warning::MisleadingIndentation);
  EXPECT_EQ(first.message,
            "this 'do' belongs to the 'enter' context above (line 4), not to the frame's body");
  ASSERT_EQ(first.notes.size(), 2u);
  EXPECT_EQ(c->sm.lineCol(first.notes[0].range.file, first.notes[0].range.begin).line, 4u);
  EXPECT_EQ(first.notes[1].message,
            "to run it in the frame's body ('recur'), move it above 'enter' or write 'native' or "
            "'recur' on the line before it; if it belongs to 'enter', indent it under 'enter'");
  // Above `exit` stands `enter`: moving the act there would not put it in the body.
  const Diagnostic& second = c->diags->all()[1];
  EXPECT_EQ(second.message,
            "this 'print' belongs to the 'exit' context above (line 7), not to the frame's body");
  ASSERT_EQ(second.notes.size(), 2u);
  EXPECT_EQ(second.notes[1].message,
            "to run it in the frame's body ('enter'), write 'native' or 'enter' on the line "
            "before it; if it belongs to 'exit', indent it under 'exit'");
}

TEST(Check, MisleadingIndentationCanBeSwitchedOff) {
  auto c = std::make_unique<Checked>();
  c->diags = std::make_unique<Diagnostics>(c->sm);
  ASSERT_TRUE(c->diags->applyFlag("-Wno-misleading-indentation"));
  FileId id = c->sm.addBuffer("c.flo", "house h\nframer f be active\nframe a\n  enter\n"
                                       "    put 1 into .x\n  do doer\n");
  c->program = parseProgram(c->sm, id, *c->diags);
  c->model = check(*c->program, *c->diags);
  EXPECT_EQ(c->diags->warningCount(), 0u) << c->text();
}

} // namespace
} // namespace flo::sema
