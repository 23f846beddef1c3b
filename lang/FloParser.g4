// Flo parser: one rule per verb, clauses positional as in FloScript (FLOSCRIPT.md §5-8), plus the
// Flo extensions (deed, flow, job, contract; docs/language.md). The driver calls `line` once per
// declaration, so each parse tree lives only as long as it takes to build its AST node.
parser grammar FloParser;

options { tokenVocab = FloLexer; }

// The runtime's enterRule, enterOuterAlt and exitRule find the parent context with a
// dynamic_cast (a string compare of type names across the shared library: ~5 % of a check),
// and getInterpreter casts the simulator so before each prediction. Every context of this parser is a
// ParserRuleContext and its simulator a ParserATNSimulator, so these do the same with static
// casts; the generated rule functions call them by name, so these hide the runtime's.
@parser::members {
template <class T>
T* getInterpreter() const {
  return static_cast<T*>(_interpreter);
}

void enterRule(antlr4::ParserRuleContext* localctx, size_t state, size_t ruleIndex) override {
  setState(state);
  _ctx = localctx;
  _ctx->start = _input->LT(1);
  if (_buildParseTrees && _ctx->parent)
    static_cast<antlr4::ParserRuleContext*>(_ctx->parent)->addChild(_ctx);
  if (!_parseListeners.empty()) triggerEnterRuleEvent();
}

void enterOuterAlt(antlr4::ParserRuleContext* localctx, size_t altNum) override {
  localctx->setAltNumber(altNum);
  if (_buildParseTrees && _ctx != localctx && _ctx->parent) {
    auto* parent = static_cast<antlr4::ParserRuleContext*>(_ctx->parent);
    parent->removeLastChild();
    parent->addChild(localctx);
  }
  _ctx = localctx;
}

void exitRule() {
  _ctx->stop = _input->LT(_matchedEOF ? 1 : -1);
  if (!_parseListeners.empty()) triggerExitRuleEvent();
  setState(_ctx->invokingState);
  _ctx = static_cast<antlr4::ParserRuleContext*>(_ctx->parent);
}
}

line : statement? ( NEWLINE | EOF ) ;

statement
  // file, house, store
  : LOAD word                                                     # loadStmt
  | HOUSE name                                                    # houseStmt
  | INIT dest=path ( WITH | TO ) directData                       # initWithStmt
  | INIT dst=fieldsPath FROM src=fieldsPath                       # initFromStmt
  // taskers
  | FRAMER name framerClause*                                     # framerStmt
  | FIRST name                                                    # firstStmt
  | LOGGER name loggerClause*                                     # loggerStmt
  | LOG name logClause*                                           # logStmt
  | LOGGEE loggee+                                                # loggeeStmt
  | SERVER name serverClause*                                     # serverStmt
  // frame structure
  | FRAME name frameClause*                                       # frameStmt
  | OVER name                                                     # overStmt
  | UNDER name                                                    # underStmt
  | NEXT name?                                                    # nextStmt
  | actionContext                                                 # contextStmt
  // data
  | PUT directData INTO fieldsPath                                # putStmt
  | INC dst=fieldsPath WITH directData                            # incWithStmt
  | INC dst=fieldsPath FROM src=fieldsPath                        # incFromStmt
  | COPY src=fieldsPath INTO dst=fieldsPath                       # copyStmt
  | SET which=( ELAPSED | RECURRED ) ( WITH | TO ) word            # setFramerGoalStmt
  | SET which=( ELAPSED | RECURRED ) ( FROM | BY ) fieldsPath      # setFramerGoalFromStmt
  | SET dst=fieldsPath WITH directData                            # setWithStmt
  | SET dst=fieldsPath FROM src=fieldsPath                        # setFromStmt
  | PRINT anyToken*                                               # printStmt
  // behaviours
  | DO word+ doClause*                                            # doStmt
  // transitions and conditions
  | GO target=name ( IF needs )?                                  # goStmt
  | LET ME? IF needs                                              # letStmt
  | TIMEOUT word                                                  # timeoutStmt
  | REPEAT word                                                   # repeatStmt
  | AUX framer=name AS tag=name ( VIA path )? ( IF needs )?       # auxCloneStmt
  | AUX name ( IF needs )?                                        # auxStmt
  | DONE name*                                                    # doneStmt
  // tasker control
  | BID control=( START | RUN | STOP | ABORT | READY ) name* ( AT goalTerm )?  # bidStmt
  | fiat=( READY | START | RUN | STOP | ABORT ) name               # fiatStmt
  | REAR original=name ( AS MINE )? ( BE AUX )? IN FRAME frame=name  # rearStmt
  | RAZE which=( ALL | FIRST | LAST ) ( IN FRAME name? )?         # razeStmt
  | verb=( USE | FLO | GIVE | TAKE ) anyToken*                    # reservedStmt
  // Flo extensions: deeds
  | DEED name                                                     # deedStmt
  | port=( INPUT | OUTPUT | LOCAL ) name AS type                  # portStmt
  | LET lvalue ASSIGN expr                                        # assignStmt
  | FAIL word IF expr                                             # failStmt
  // flows
  | FLOW name flowClause*                                         # flowStmt
  | WINDOW length=word ( EVERY slide=word )?                      # windowStmt
  | BUFFER word name*                                             # bufferStmt
  | MAP name                                                      # mapStmt
  | FILTER expr                                                   # filterStmt
  | REDUCE name INTO path                                         # reduceStmt
  // jobs
  | JOB name                                                      # jobStmt
  | NEEDS ( name word )+                                          # needsStmt
  | PRICE word PER name ( MAX word )?                             # priceStmt
  | REPLICAS word name?                                           # replicasStmt
  | TRIGGER EVERY word                                            # triggerEveryStmt
  | TRIGGER ON path                                               # triggerOnStmt
  | RUN kind=( FRAMER | FLOW | DEED ) name                         # jobRunStmt
  | LIMIT word name?                                              # limitStmt
  // contracts
  | CONTRACT name                                                 # contractStmt
  | STATE name AS type                                            # stateStmt
  | INVARIANT expr                                                # invariantStmt
  | ACTION name param*                                            # actionStmt
  | REQUIRES expr                                                 # requiresStmt
  | ENSURES expr                                                  # ensuresStmt
  | PAY amount=expr TO recipient=expr                             # payStmt
  | MODIFIES lvalue+                                              # modifiesStmt
  ;

// ---- tasker clauses ----
framerClause
  : BE schedule=name | AT word | IN order=name | FIRST name | VIA path ;
loggerClause
  : AT word | TO word | BE schedule=name | IN order=name | FLUSH word | KEEP word | CYCLE word
  | SIZE word | REUSE ;
logClause : AS kind=name | TO word | ON logRule=name ;
loggee : fieldsPath ( AS tag=name )? ;
serverClause
  : AT word | BE schedule=name | RX word | TX word | IN order=name | TO word | PER directData
  | FOR fieldsPath ;
frameClause : IN over=name | VIA path ;
// A flow's sources (`from FIELD in PATH` names a record's item field) and its partitioning (`by *`,
// or `by FIELD max N`); `from` and `by` lines continue the `flow` line.
flowClause
  : FROM EVERY word                     # flowClockClause
  | FROM ( item=name IN )? path         # flowSourceClause
  | BY key=word ( MAX limit=word )?     # flowByClause
  ;
actionContext : NATIVE | BENTER | ENTER | RENTER | PRECUR | RECUR | EXIT | REXIT ;

// ---- deed clauses (any order; `as` anywhere, unlike Ioflo, FLOSCRIPT.md top) ----
doClause
  : AS name+                # doAsClause
  | AT ctx=name             # doAtClause
  | VIA path                # doViaClause
  | WITH directData         # doWithClause
  | FROM fieldsPath         # doFromClause
  | PER directData          # doPerClause
  | FOR fieldsPath          # doForClause
  | CUM directData          # doCumClause
  | QUA fieldsPath          # doQuaClause
  ;

// ---- needs (FLOSCRIPT.md §6) ----
needs : need ( AND need )* ;
need : NOT? needTerm ;
needTerm
  : which=( ELAPSED | RECURRED ) ( RE reName=name? )? comparison goalTerm tolerance?  # framerStateNeed
  | ( AUX auxName=name | ANY | ALL ) auxPlace? IS DONE                           # auxDoneNeed
  | auxName=name auxPlace IS DONE                                                # auxDoneNeed
  | name IS status=( DONE | READIED | STARTED | RUNNING | STOPPED | ABORTED )    # taskerNeed
  | path IS mark=( UPDATED | CHANGED ) ( IN FRAME markFrame=name? )? ( BY marker=name )?  # markNeed
  | fieldsPath ( comparison goalTerm tolerance? )?                               # compareNeed
  ;
auxPlace
  : IN FRAME frame=name? ( IN FRAMER framer=name? )?
  | IN FRAMER framer=name?
  ;
comparison : EQ | NE | LT | LE | GE | GT ;
goalTerm : fieldsPath ;
tolerance : PLUSMINUS word ;

// ---- data and paths (FLOSCRIPT.md §7-8) ----
directData : word+ ;
fieldsPath : ( name+ IN )? path ;
path : pathHead relation* ;
pathHead : DOTPATH | RELPATH | name | literal | CHUNK ;
relation : OF ( ROOT | ME | FRAMER name? | FRAME name? | ACTOR name? ) ;

// ---- extension types and expressions ----
param : name AS type ;
type
  : MAP key=type value=type ( MAX word )?      # mapType
  | name                                       # namedType
  ;
lvalue : name ( LBRACK expr RBRACK )? ;
expr
  : primary                                                  # primaryExpr
  | expr LBRACK expr RBRACK                                  # indexExpr
  | name LPAREN ( expr ( COMMA expr )* )? RPAREN             # callExpr
  | OLD expr                                                 # oldExpr
  | agg=( SUM | COUNT ) expr                                 # aggregateExpr
  | MINUS expr                                               # negExpr
  | expr op=( STAR | SLASH | PERCENT ) expr                  # mulExpr
  | expr op=( PLUS | MINUS ) expr                            # addExpr
  | expr comparison expr                                     # compareExpr
  | NOT expr                                                 # notExpr
  | expr AND expr                                            # andExpr
  | expr OR expr                                             # orExpr
  | <assoc = right> expr IF expr ELSE expr                   # condExpr
  ;
primary
  : literal                                                  # literalPrimary
  | DOTPATH                                                  # pathPrimary
  | RELPATH                                                  # pathPrimary
  | name                                                     # namePrimary
  | LPAREN expr RPAREN                                       # parenPrimary
  ;
literal : NUMBER | DQ_STRING | SQ_STRING | POINT | COORD ;

// ---- words ----
// A data word: anything but a reserved word or line end.
word
  : literal | DOTPATH | RELPATH | name | CHUNK
  | PLUS | MINUS | STAR | SLASH | PERCENT | ASSIGN
  ;
anyToken : ~( NEWLINE | EOF ) ;

// Every keyword that is not reserved may be a name.
name
  : ID
  | LOAD | HOUSE | INIT | FRAMER | FIRST | LOGGER | LOG | LOGGEE | SERVER | FRAME | OVER | UNDER
  | NEXT | NATIVE | BENTER | ENTER | RENTER | PRECUR | RECUR | EXIT | REXIT | PUT | INC | COPY
  | SET | PRINT | DO | GO | LET | TIMEOUT | REPEAT | AUX | DONE | BID | READY | START | RUN | STOP
  | ABORT | REAR | RAZE | USE | FLO | GIVE | TAKE
  | DEED | INPUT | OUTPUT | LOCAL | FAIL | FLOW | WINDOW | MAP | FILTER | REDUCE | BUFFER | JOB | NEEDS
  | PRICE | REPLICAS | TRIGGER | LIMIT | CONTRACT | STATE | INVARIANT | ACTION | REQUIRES | ENSURES
  | PAY | MODIFIES
  | ME | MAIN | ROOT | ACTOR | ELAPSED | RECURRED | GOAL | UPDATED | CHANGED | ANY | ALL | LAST
  | MINE | ACTIVE | INACTIVE | SLAVE | MOOT | FRONT | MID | BACK | READIED | STARTED | RUNNING
  | STOPPED | ABORTED | TEXT | BINARY | NEVER | ONCE | ALWAYS | UPDATE | CHANGE | STREAK | DECK
  | FLUSH | KEEP | CYCLE | SIZE | REUSE | RX | TX | EVERY | MAX | ELSE | OR | OLD | SUM | COUNT
  ;
