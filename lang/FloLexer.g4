// Flo lexer. Tokens follow FloScript's tokenizer (FLOSCRIPT.md §2): words are runs of characters
// other than blanks and quotes, `#` starting a word opens a comment, quoted strings never span
// lines. Keywords are whole words (longest match, then first rule). No actions or predicates, so
// the DFA stays fast. Line joining for reserved-word continuation happens in the token filter
// (lang/token_filter.cpp), not here; backslash-newline is plain whitespace.
lexer grammar FloLexer;

// ---- reserved connectives (never names) ----
TO : 'to' ; BY : 'by' ; WITH : 'with' ; FROM : 'from' ; PER : 'per' ; FOR : 'for' ;
CUM : 'cum' ; QUA : 'qua' ; VIA : 'via' ; AS : 'as' ; AT : 'at' ; IN : 'in' ; OF : 'of' ;
ON : 'on' ; RE : 're' ; IS : 'is' ; IF : 'if' ; BE : 'be' ; INTO : 'into' ; AND : 'and' ;
NOT : 'not' ; PLUSMINUS : '+-' ;
// ---- comparisons (reserved) ----
EQ : '==' ; NE : '!=' ; LE : '<=' ; GE : '>=' ; LT : '<' ; GT : '>' ;

// ---- the 45 FloScript verbs (soft keywords: also valid names) ----
LOAD : 'load' ; HOUSE : 'house' ; INIT : 'init' ; FRAMER : 'framer' ; FIRST : 'first' ;
LOGGER : 'logger' ; LOG : 'log' ; LOGGEE : 'loggee' ; SERVER : 'server' ; FRAME : 'frame' ;
OVER : 'over' ; UNDER : 'under' ; NEXT : 'next' ; NATIVE : 'native' ; BENTER : 'benter' ;
ENTER : 'enter' ; RENTER : 'renter' ; PRECUR : 'precur' ; RECUR : 'recur' ; EXIT : 'exit' ;
REXIT : 'rexit' ; PUT : 'put' ; INC : 'inc' ; COPY : 'copy' ; SET : 'set' ; PRINT : 'print' ;
DO : 'do' ; GO : 'go' ; LET : 'let' ; TIMEOUT : 'timeout' ; REPEAT : 'repeat' ; AUX : 'aux' ;
DONE : 'done' ; BID : 'bid' ; READY : 'ready' ; START : 'start' ; RUN : 'run' ; STOP : 'stop' ;
ABORT : 'abort' ; REAR : 'rear' ; RAZE : 'raze' ; USE : 'use' ; FLO : 'flo' ; GIVE : 'give' ;
TAKE : 'take' ;

// ---- Flo extension verbs (soft keywords) ----
DEED : 'deed' ; INPUT : 'input' ; OUTPUT : 'output' ; LOCAL : 'local' ; FAIL : 'fail' ;
FLOW : 'flow' ; WINDOW : 'window' ; MAP : 'map' ; FILTER : 'filter' ; REDUCE : 'reduce' ;
BUFFER : 'buffer' ;
JOB : 'job' ; NEEDS : 'needs' ; PRICE : 'price' ; REPLICAS : 'replicas' ; TRIGGER : 'trigger' ;
LIMIT : 'limit' ;
CONTRACT : 'contract' ; STATE : 'state' ; INVARIANT : 'invariant' ; ACTION : 'action' ;
REQUIRES : 'requires' ; ENSURES : 'ensures' ; PAY : 'pay' ; MODIFIES : 'modifies' ;

// ---- other soft keywords ----
ME : 'me' ; MAIN : 'main' ; ROOT : 'root' ; ACTOR : 'actor' ; ELAPSED : 'elapsed' ;
RECURRED : 'recurred' ; GOAL : 'goal' ; UPDATED : 'updated' ; CHANGED : 'changed' ;
ANY : 'any' ; ALL : 'all' ; LAST : 'last' ; MINE : 'mine' ;
ACTIVE : 'active' ; INACTIVE : 'inactive' ; SLAVE : 'slave' ; MOOT : 'moot' ;
FRONT : 'front' ; MID : 'mid' ; BACK : 'back' ;
READIED : 'readied' ; STARTED : 'started' ; RUNNING : 'running' ; STOPPED : 'stopped' ;
ABORTED : 'aborted' ;
TEXT : 'text' ; BINARY : 'binary' ; NEVER : 'never' ; ONCE : 'once' ; ALWAYS : 'always' ;
UPDATE : 'update' ; CHANGE : 'change' ; STREAK : 'streak' ; DECK : 'deck' ;
FLUSH : 'flush' ; KEEP : 'keep' ; CYCLE : 'cycle' ; SIZE : 'size' ; REUSE : 'reuse' ;
RX : 'rx' ; TX : 'tx' ;
EVERY : 'every' ; MAX : 'max' ; ELSE : 'else' ; OR : 'or' ; OLD : 'old' ; SUM : 'sum' ;
COUNT : 'count' ;

// ---- expression punctuation (Flo extensions). Brackets, parentheses and commas always end a
// word; arithmetic operators are words of their own, separated by blanks like `==`. ----
LPAREN : '(' ; RPAREN : ')' ; LBRACK : '[' ; RBRACK : ']' ; COMMA : ',' ;
PLUS : '+' ; MINUS : '-' ; STAR : '*' ; SLASH : '/' ; PERCENT : '%' ; ASSIGN : '=' ;

// ---- literals ----
DQ_STRING : '"' ~["\r\n]* '"' ;
SQ_STRING : '\'' ~['\r\n]* '\'' ;

// 1e5 is 100000.0 here (FloScript's base-16 fallback is not reproduced, FLOSCRIPT.md §2).
NUMBER
  : [+-]? ( DIGITS ( '.' DIGITS? )? EXPONENT? | '.' DIGITS EXPONENT? )
  | [+-]? '0' [xX] [0-9a-fA-F]+ ( '_' [0-9a-fA-F]+ )*
  | [+-]? '0' [bB] [01]+ ( '_' [01]+ )*
  | [+-]? '0' [oO] [0-7]+ ( '_' [0-7]+ )*
  | [+-] ( [iI] [nN] [fF] ( [iI] [nN] [iI] [tT] [yY] )? | [nN] [aA] [nN] )
  ;

// Points: 1.5x2y, 1n2e, 1f2s and their three-component forms.
POINT
  : SNUM 'x' SNUM 'y' ( SNUM 'z' )?
  | SNUM 'n' SNUM 'e' ( SNUM 'd' )?
  | SNUM 'f' SNUM 's' ( SNUM 'b' )?
  ;

// Latitude/longitude in degrees and decimal minutes: 40N30.5, 111W45.2.
COORD : DIGITS [NnSsEeWw] DIGITS '.' DIGITS ;

// Store paths. A dotpath starts with '.', a relpath has at least one '.'; a trailing '.' names a
// node. '*' segments are patterns (flow sources).
DOTPATH : '.' SEGMENT ( '.' SEGMENT )* '.'? ;
RELPATH : SEGMENT ( '.' SEGMENT )+ '.'? | SEGMENT '.' ;
ID : [A-Za-z_] [A-Za-z0-9_]* ;

// Anything else that FloScript's tokenizer would call a word: kept as text (data strings,
// file names, host:port, durations such as 10s). Must stay the last word rule.
CHUNK : CHUNK_START CHUNK_CHAR* ;

COMMENT : '#' ( ~[\r\n\\] | '\\' ~[\r\n] | '\\' '\r'? '\n' )* '\\'? -> channel(HIDDEN) ;
LINE_CONTINUATION : '\\' '\r'? '\n' -> skip ;
NEWLINE : '\r'? '\n' | '\r' ;
WS : [ \t\f\u000B]+ -> skip ;

// A quote without its closing quote on the same line. FloScript drops it silently; Flo reports it.
UNTERMINATED_STRING : '"' ~["\r\n]* | '\'' ~['\r\n]* ;

fragment DIGITS : [0-9]+ ( '_' [0-9]+ )* ;
fragment EXPONENT : [eE] [+-]? [0-9]+ ;
fragment SNUM : '-'? [0-9]+ ( '.' [0-9]* )? ;
fragment SEGMENT : [A-Za-z_] [A-Za-z0-9_]* | '*' ;
fragment CHUNK_START : ~[ \t\f\u000B\r\n"'#()[\],\\] | '\\' ~[\r\n] ;
fragment CHUNK_CHAR : ~[ \t\f\u000B\r\n"'()[\],\\] | '\\' ~[\r\n] ;
