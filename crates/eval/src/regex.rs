//! `builtins.match` and `builtins.split`.
//!
//! Nix compiles its patterns with `std::regex::extended` (POSIX extended
//! regular expressions as libstdc++ implements them). This module parses that
//! dialect itself, then uses two engines built from the same syntax tree:
//!
//! - the `regex` crate (linear time) decides whether, and where, a match
//!   starts;
//! - a small backtracking matcher that follows libstdc++'s depth-first
//!   executor decides where the match ends and what the groups capture. It
//!   reproduces libstdc++'s POSIX quirks: in a search, both branches of an
//!   alternation are tried and the longer overall match wins; an empty loop
//!   iteration may run once more and reset a group (`(a*)*` on `aa`
//!   captures `""`).
//!
//! If the backtracker exceeds its step budget (a pathological pattern), the
//! `regex` crate's own captures are used instead.

use std::cell::RefCell;
use std::rc::Rc;

use dendrite_syntax::Span;
use regex::bytes::{Regex, RegexBuilder};
use rustc_hash::FxHashMap;

use crate::builtins::arg_ctx;
use crate::context::force_string_no_ctx;
use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::*;

pub(crate) const OPS: &[PrimOp] =
    &[PrimOp { name: "match", arity: 2, func: prim_match }, PrimOp { name: "split", arity: 2, func: prim_split }];

// ------------------------------------------------------------------ syntax

/// A set of bytes (one bit per byte value).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct ByteSet([u64; 4]);

impl ByteSet {
    fn insert(&mut self, b: u8) {
        self.0[(b >> 6) as usize] |= 1 << (b & 63);
    }

    fn contains(&self, b: u8) -> bool {
        self.0[(b >> 6) as usize] & (1 << (b & 63)) != 0
    }

    fn union(&mut self, other: &ByteSet) {
        for i in 0..4 {
            self.0[i] |= other.0[i];
        }
    }

    fn negate(&mut self) {
        for w in &mut self.0 {
            *w = !*w;
        }
    }

    fn from_fn(f: impl Fn(u8) -> bool) -> ByteSet {
        let mut s = ByteSet::default();
        for b in 0..=255u8 {
            if f(b) {
                s.insert(b);
            }
        }
        s
    }

    /// The set as maximal runs of consecutive bytes.
    fn ranges(&self) -> Vec<(u8, u8)> {
        let mut out = Vec::new();
        let mut b = 0usize;
        while b < 256 {
            if self.contains(b as u8) {
                let start = b;
                while b + 1 < 256 && self.contains((b + 1) as u8) {
                    b += 1;
                }
                out.push((start as u8, b as u8));
            }
            b += 1;
        }
        out
    }
}

/// A parsed POSIX extended regular expression.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    /// Matches the empty string.
    Empty,
    /// One byte out of a set.
    Set(ByteSet),
    /// `^`: the start of the input.
    Begin,
    /// `$`: the end of the input.
    End,
    /// A capturing group (0-based index).
    Group(usize, Box<Node>),
    /// A sequence.
    Concat(Vec<Node>),
    /// `l|r` (left-nested for longer chains, as libstdc++ builds them).
    Alt(Box<Node>, Box<Node>),
    /// A greedy repetition `{min,max}` (`max` `None` is unbounded).
    Repeat(Box<Node>, u32, Option<u32>),
}

/// Why a pattern was rejected.
#[derive(Debug, PartialEq, Eq)]
enum RegexError {
    /// Malformed syntax.
    Invalid,
    /// Too many states (libstdc++'s `error_space`).
    TooBig,
}

/// Characters that may follow a backslash in libstdc++'s extended syntax.
const ESCAPABLE: &[u8] = b".[\\()*+?{|^$";

/// The POSIX portable character set names (`[[.name.]]`), by code point.
const COLLATE_NAMES: [&str; 128] = [
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "alert",
    "backspace",
    "tab",
    "newline",
    "vertical-tab",
    "form-feed",
    "carriage-return",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "IS4",
    "IS3",
    "IS2",
    "IS1",
    "space",
    "exclamation-mark",
    "quotation-mark",
    "number-sign",
    "dollar-sign",
    "percent-sign",
    "ampersand",
    "apostrophe",
    "left-parenthesis",
    "right-parenthesis",
    "asterisk",
    "plus-sign",
    "comma",
    "hyphen",
    "period",
    "slash",
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "colon",
    "semicolon",
    "less-than-sign",
    "equals-sign",
    "greater-than-sign",
    "question-mark",
    "commercial-at",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "H",
    "I",
    "J",
    "K",
    "L",
    "M",
    "N",
    "O",
    "P",
    "Q",
    "R",
    "S",
    "T",
    "U",
    "V",
    "W",
    "X",
    "Y",
    "Z",
    "left-square-bracket",
    "backslash",
    "right-square-bracket",
    "circumflex",
    "underscore",
    "grave-accent",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "v",
    "w",
    "x",
    "y",
    "z",
    "left-curly-bracket",
    "vertical-line",
    "right-curly-bracket",
    "tilde",
    "DEL",
];

fn collate_lookup(name: &[u8]) -> Option<u8> {
    COLLATE_NAMES.iter().position(|n| n.as_bytes() == name).map(|i| i as u8)
}

/// A `[[:name:]]` class in the C locale (names are case-insensitive, and
/// libstdc++ also knows `d`, `s` and `w`).
fn class_lookup(name: &[u8]) -> Option<ByteSet> {
    let name = name.to_ascii_lowercase();
    let f: fn(u8) -> bool = match name.as_slice() {
        b"alnum" => |b| b.is_ascii_alphanumeric(),
        b"alpha" => |b| b.is_ascii_alphabetic(),
        b"blank" => |b| b == b' ' || b == b'\t',
        b"cntrl" => |b| b.is_ascii_control(),
        b"digit" | b"d" => |b| b.is_ascii_digit(),
        b"graph" => |b| b.is_ascii_graphic(),
        b"lower" => |b| b.is_ascii_lowercase(),
        b"print" => |b| b.is_ascii_graphic() || b == b' ',
        b"punct" => |b| b.is_ascii_punctuation(),
        b"space" | b"s" => |b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b"upper" => |b| b.is_ascii_uppercase(),
        b"xdigit" => |b| b.is_ascii_hexdigit(),
        b"w" => |b| b.is_ascii_alphanumeric() || b == b'_',
        _ => return None,
    };
    Some(ByteSet::from_fn(f))
}

/// One token inside a bracket expression.
enum BracketTok {
    Dash,
    End,
    Char(u8),
    Class(Vec<u8>),
    Collate(Vec<u8>),
    Equiv(Vec<u8>),
}

/// What the previous bracket term was (libstdc++'s `_BracketState`).
#[derive(Clone, Copy, PartialEq)]
enum Last {
    None,
    Char(u8),
    Class,
}

/// Parses libstdc++'s POSIX extended syntax.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    groups: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn parse(s: &'a [u8]) -> Result<(Node, usize), RegexError> {
        let mut p = Parser { s, i: 0, groups: 0 };
        let node = p.disjunction()?;
        if p.i != p.s.len() {
            // An unmatched `)` or a quantifier with nothing to repeat.
            return Err(RegexError::Invalid);
        }
        Ok((node, p.groups))
    }

    fn disjunction(&mut self) -> Result<Node, RegexError> {
        let mut node = self.alternative()?;
        while self.peek() == Some(b'|') {
            self.i += 1;
            let rhs = self.alternative()?;
            node = Node::Alt(Box::new(node), Box::new(rhs));
        }
        Ok(node)
    }

    fn alternative(&mut self) -> Result<Node, RegexError> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            let atom = match c {
                b'|' | b')' => break,
                // A quantifier or interval with nothing before it ends the
                // alternative; the caller then fails on the leftover input.
                b'*' | b'+' | b'?' | b'{' => break,
                b'^' => {
                    self.i += 1;
                    items.push(Node::Begin);
                    continue;
                }
                b'$' => {
                    self.i += 1;
                    items.push(Node::End);
                    continue;
                }
                b'.' => {
                    self.i += 1;
                    Node::Set(ByteSet::from_fn(|b| b != 0))
                }
                b'[' => {
                    self.i += 1;
                    Node::Set(self.bracket()?)
                }
                b'(' => {
                    self.i += 1;
                    let idx = self.groups;
                    self.groups += 1;
                    let inner = self.disjunction()?;
                    if self.peek() != Some(b')') {
                        return Err(RegexError::Invalid);
                    }
                    self.i += 1;
                    Node::Group(idx, Box::new(inner))
                }
                b'\\' => {
                    let Some(&e) = self.s.get(self.i + 1) else {
                        return Err(RegexError::Invalid);
                    };
                    if !ESCAPABLE.contains(&e) {
                        return Err(RegexError::Invalid);
                    }
                    self.i += 2;
                    Node::Set(single(e))
                }
                c => {
                    self.i += 1;
                    Node::Set(single(c))
                }
            };
            items.push(self.quantifiers(atom)?);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().expect("one item"),
            _ => Node::Concat(items),
        })
    }

    fn quantifiers(&mut self, mut atom: Node) -> Result<Node, RegexError> {
        loop {
            let (min, max) = match self.peek() {
                Some(b'*') => (0, None),
                Some(b'+') => (1, None),
                Some(b'?') => (0, Some(1)),
                Some(b'{') => {
                    self.i += 1;
                    let min = self.number()?.ok_or(RegexError::Invalid)?;
                    let max = if self.peek() == Some(b',') {
                        self.i += 1;
                        self.number()?
                    } else {
                        Some(min)
                    };
                    if self.peek() != Some(b'}') {
                        return Err(RegexError::Invalid);
                    }
                    if max.is_some_and(|m| m < min) {
                        return Err(RegexError::Invalid);
                    }
                    (min, max)
                }
                _ => return Ok(atom),
            };
            self.i += 1;
            atom = Node::Repeat(Box::new(atom), min, max);
        }
    }

    fn number(&mut self) -> Result<Option<u32>, RegexError> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if start == self.i {
            return Ok(None);
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| RegexError::Invalid)?;
        // Huge counts cannot be compiled anyway.
        text.parse::<u32>().map(Some).map_err(|_| RegexError::TooBig)
    }

    /// The next token inside `[...]`.
    fn bracket_token(&mut self, at_start: bool) -> Result<BracketTok, RegexError> {
        let c = self.peek().ok_or(RegexError::Invalid)?;
        self.i += 1;
        Ok(match c {
            b'-' => BracketTok::Dash,
            b'[' => match self.peek() {
                None => return Err(RegexError::Invalid),
                Some(k @ (b'.' | b':' | b'=')) => {
                    self.i += 1;
                    let start = self.i;
                    while self.peek().is_some_and(|c| c != k) {
                        self.i += 1;
                    }
                    let name = self.s[start..self.i].to_vec();
                    if self.peek() != Some(k) || self.s.get(self.i + 1) != Some(&b']') {
                        return Err(RegexError::Invalid);
                    }
                    self.i += 2;
                    match k {
                        b'.' => BracketTok::Collate(name),
                        b':' => BracketTok::Class(name),
                        _ => BracketTok::Equiv(name),
                    }
                }
                Some(_) => BracketTok::Char(b'['),
            },
            b']' if !at_start => BracketTok::End,
            c => BracketTok::Char(c),
        })
    }

    /// A bracket expression, after the `[`.
    fn bracket(&mut self) -> Result<ByteSet, RegexError> {
        let negate = self.peek() == Some(b'^');
        if negate {
            self.i += 1;
        }
        let mut set = ByteSet::default();
        let mut last = Last::None;
        let push_char = |set: &mut ByteSet, last: &mut Last, c: u8| {
            if let Last::Char(l) = *last {
                set.insert(l);
            }
            *last = Last::Char(c);
        };
        let push_class = |set: &mut ByteSet, last: &mut Last| {
            if let Last::Char(l) = *last {
                set.insert(l);
            }
            *last = Last::Class;
        };
        let mut pending = match self.bracket_token(true)? {
            BracketTok::Char(c) => {
                last = Last::Char(c);
                None
            }
            BracketTok::Dash => {
                last = Last::Char(b'-');
                None
            }
            other => Some(other),
        };
        loop {
            let tok = match pending.take() {
                Some(t) => t,
                None => self.bracket_token(false)?,
            };
            match tok {
                BracketTok::End => break,
                BracketTok::Char(c) => push_char(&mut set, &mut last, c),
                BracketTok::Collate(name) => {
                    let c = collate_lookup(&name).ok_or(RegexError::Invalid)?;
                    push_char(&mut set, &mut last, c);
                }
                BracketTok::Equiv(name) => {
                    let c = collate_lookup(&name).ok_or(RegexError::Invalid)?;
                    push_class(&mut set, &mut last);
                    set.insert(c);
                }
                BracketTok::Class(name) => {
                    let class = class_lookup(&name).ok_or(RegexError::Invalid)?;
                    push_class(&mut set, &mut last);
                    set.union(&class);
                }
                BracketTok::Dash => {
                    let next = self.bracket_token(false)?;
                    if let BracketTok::End = next {
                        // `-]`: a literal dash at the end.
                        push_char(&mut set, &mut last, b'-');
                        break;
                    }
                    let Last::Char(l) = last else {
                        return Err(RegexError::Invalid);
                    };
                    let r = match next {
                        BracketTok::Char(r) => r,
                        BracketTok::Dash => b'-',
                        _ => return Err(RegexError::Invalid),
                    };
                    // libstdc++ compares plain (signed) chars.
                    let (ls, rs) = (l as i8, r as i8);
                    if ls > rs {
                        return Err(RegexError::Invalid);
                    }
                    for b in 0..=255u8 {
                        if (ls..=rs).contains(&(b as i8)) {
                            set.insert(b);
                        }
                    }
                    last = Last::None;
                }
            }
        }
        if let Last::Char(l) = last {
            set.insert(l);
        }
        if negate {
            set.negate();
        }
        Ok(set)
    }
}

fn single(c: u8) -> ByteSet {
    let mut s = ByteSet::default();
    s.insert(c);
    s
}

// ------------------------------------------------------ translation to `regex`

/// Writes `node` in the `regex` crate's syntax (bytes, no Unicode).
fn to_rust(node: &Node, out: &mut String) {
    match node {
        Node::Empty => out.push_str("(?:)"),
        Node::Set(set) => write_set(set, out),
        Node::Begin => out.push_str(r"\A"),
        Node::End => out.push_str(r"\z"),
        Node::Group(_, inner) => {
            out.push('(');
            to_rust(inner, out);
            out.push(')');
        }
        Node::Concat(items) => {
            for item in items {
                to_rust(item, out);
            }
        }
        Node::Alt(l, r) => {
            out.push_str("(?:");
            to_rust(l, out);
            out.push('|');
            to_rust(r, out);
            out.push(')');
        }
        Node::Repeat(inner, min, max) => {
            out.push_str("(?:");
            to_rust(inner, out);
            out.push(')');
            match (min, max) {
                (0, None) => out.push('*'),
                (1, None) => out.push('+'),
                (0, Some(1)) => out.push('?'),
                (n, None) => out.push_str(&format!("{{{n},}}")),
                (n, Some(m)) if n == m => out.push_str(&format!("{{{n}}}")),
                (n, Some(m)) => out.push_str(&format!("{{{n},{m}}}")),
            }
        }
    }
}

fn write_set(set: &ByteSet, out: &mut String) {
    let ranges = set.ranges();
    match ranges.as_slice() {
        // Never matches: a word boundary that is not one.
        [] => out.push_str(r"(?:\b\B)"),
        [(a, b)] if a == b && a.is_ascii_alphanumeric() => out.push(*a as char),
        _ => {
            out.push('[');
            for (a, b) in ranges {
                out.push_str(&format!(r"\x{a:02X}"));
                if a != b {
                    out.push_str(&format!(r"-\x{b:02X}"));
                }
            }
            out.push(']');
        }
    }
}

// ------------------------------------------------------------- backtracker

/// One state of the backtracking program (libstdc++'s NFA layout).
#[derive(Clone, Copy, Debug)]
enum Inst {
    Set(ByteSet, usize),
    Begin(usize),
    End(usize),
    SubBegin(usize, usize),
    SubEnd(usize, usize),
    /// POSIX alternation: try `alt`, then `next`, keep the longer match.
    Alt {
        alt: usize,
        next: usize,
    },
    /// Greedy repetition: once more through `alt`, else `next`.
    Repeat {
        alt: usize,
        next: usize,
    },
    Accept,
}

/// libstdc++'s `_GLIBCXX_REGEX_STATE_LIMIT`.
const STATE_LIMIT: usize = 100_000;

/// Steps the backtracker may take for one search before giving up.
const STEP_BUDGET: u64 = 20_000_000;

struct Compiler {
    prog: Vec<Inst>,
    /// States libstdc++ would add that this layout does without (dummies).
    dummies: usize,
}

impl Compiler {
    fn dummy(&mut self) -> Result<(), RegexError> {
        self.dummies += 1;
        if self.prog.len() + self.dummies > STATE_LIMIT {
            return Err(RegexError::TooBig);
        }
        Ok(())
    }

    fn push(&mut self, inst: Inst) -> Result<usize, RegexError> {
        if self.prog.len() + self.dummies >= STATE_LIMIT {
            return Err(RegexError::TooBig);
        }
        self.prog.push(inst);
        Ok(self.prog.len() - 1)
    }

    /// Compiles `node` so that it continues with state `next`; returns its
    /// start state.
    fn compile(&mut self, node: &Node, next: usize) -> Result<usize, RegexError> {
        Ok(match node {
            Node::Empty => next,
            Node::Set(s) => self.push(Inst::Set(*s, next))?,
            Node::Begin => self.push(Inst::Begin(next))?,
            Node::End => self.push(Inst::End(next))?,
            Node::Group(n, inner) => {
                let end = self.push(Inst::SubEnd(*n, next))?;
                let start = self.compile(inner, end)?;
                self.push(Inst::SubBegin(*n, start))?
            }
            Node::Concat(items) => {
                let mut cur = next;
                for item in items.iter().rev() {
                    cur = self.compile(item, cur)?;
                }
                cur
            }
            Node::Alt(l, r) => {
                self.dummy()?;
                let alt = self.compile(l, next)?;
                let rhs = self.compile(r, next)?;
                self.push(Inst::Alt { alt, next: rhs })?
            }
            Node::Repeat(inner, min, max) => {
                self.dummy()?;
                if max.is_some() {
                    self.dummy()?;
                }
                let mut cur = match max {
                    None => {
                        let rep = self.push(Inst::Repeat { alt: usize::MAX, next })?;
                        let body = self.compile(inner, rep)?;
                        self.prog[rep] = Inst::Repeat { alt: body, next };
                        rep
                    }
                    Some(max) => {
                        let mut cur = next;
                        for _ in *min..*max {
                            let body = self.compile(inner, cur)?;
                            cur = self.push(Inst::Repeat { alt: body, next })?;
                        }
                        cur
                    }
                };
                for _ in 0..*min {
                    cur = self.compile(inner, cur)?;
                }
                cur
            }
        })
    }
}

/// A capture slot: start, end, whether it matched.
type Cap = (usize, usize, bool);

/// Deferred work of the depth-first search.
enum Work {
    Explore(usize, usize),
    RestoreCap(usize, Cap),
    RestoreRep(usize, (usize, u32)),
    AltRhs(usize, usize),
    AltDone(bool),
    RepNext(usize, usize),
}

/// Whether the match must span the whole input (`regex_match`) or only
/// start at the given position (one step of `regex_search`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Exact,
    Prefix { not_null: bool },
}

/// The end of a match and its groups.
type MatchResult = (usize, Vec<Cap>);

/// Runs libstdc++'s depth-first executor from `start`; `Err(())` when the
/// step budget ran out.
fn backtrack(prog: &Program, hay: &[u8], start: usize, mode: Mode) -> Result<Option<MatchResult>, ()> {
    let insts = &prog.insts;
    let mut caps: Vec<Cap> = vec![(0, 0, false); prog.groups];
    let mut reps: Vec<(usize, u32)> = vec![(0, 0); insts.len()];
    let mut has_sol = false;
    let mut best: Option<MatchResult> = None;
    let mut stack = vec![Work::Explore(prog.start, start)];
    let mut steps = 0u64;
    while let Some(work) = stack.pop() {
        steps += 1;
        if steps > STEP_BUDGET {
            return Err(());
        }
        match work {
            Work::Explore(i, pos) => match insts[i] {
                Inst::Set(set, next) => {
                    if pos < hay.len() && set.contains(hay[pos]) {
                        stack.push(Work::Explore(next, pos + 1));
                    }
                }
                Inst::Begin(next) => {
                    if pos == 0 {
                        stack.push(Work::Explore(next, pos));
                    }
                }
                Inst::End(next) => {
                    if pos == hay.len() {
                        stack.push(Work::Explore(next, pos));
                    }
                }
                Inst::SubBegin(n, next) => {
                    stack.push(Work::RestoreCap(n, caps[n]));
                    caps[n].0 = pos;
                    stack.push(Work::Explore(next, pos));
                }
                Inst::SubEnd(n, next) => {
                    stack.push(Work::RestoreCap(n, caps[n]));
                    caps[n].1 = pos;
                    caps[n].2 = true;
                    stack.push(Work::Explore(next, pos));
                }
                Inst::Alt { alt, next } => {
                    stack.push(Work::AltRhs(next, pos));
                    stack.push(Work::Explore(alt, pos));
                }
                Inst::Repeat { alt, next } => {
                    stack.push(Work::RepNext(next, pos));
                    let rc = reps[i];
                    if rc.1 == 0 || rc.0 != pos {
                        stack.push(Work::RestoreRep(i, rc));
                        reps[i] = (pos, 1);
                        stack.push(Work::Explore(alt, pos));
                    } else if rc.1 < 2 {
                        stack.push(Work::RestoreRep(i, rc));
                        reps[i].1 += 1;
                        stack.push(Work::Explore(alt, pos));
                    }
                }
                Inst::Accept => {
                    has_sol = match mode {
                        Mode::Exact => pos == hay.len(),
                        Mode::Prefix { not_null } => !(not_null && pos == start),
                    };
                    if has_sol && best.as_ref().is_none_or(|(end, _)| pos > *end) {
                        best = Some((pos, caps.clone()));
                    }
                }
            },
            Work::RestoreCap(n, c) => caps[n] = c,
            Work::RestoreRep(i, rc) => reps[i] = rc,
            Work::AltRhs(next, pos) => {
                stack.push(Work::AltDone(has_sol));
                has_sol = false;
                stack.push(Work::Explore(next, pos));
            }
            Work::AltDone(saved) => has_sol |= saved,
            Work::RepNext(next, pos) => {
                if !has_sol {
                    stack.push(Work::Explore(next, pos));
                }
            }
        }
    }
    Ok(best)
}

// ------------------------------------------------------------------ cache

/// A compiled pattern: the backtracking program and the `regex` crate's
/// automata for the same language.
struct Program {
    insts: Vec<Inst>,
    start: usize,
    groups: usize,
    /// Unanchored, for searches.
    search: Regex,
    /// Anchored at both ends, for `builtins.match`.
    exact: Regex,
}

fn compile(pattern: &[u8]) -> Result<Program, RegexError> {
    let (node, groups) = Parser::parse(pattern)?;
    let mut c = Compiler { prog: Vec::new(), dummies: 0 };
    let accept = c.push(Inst::Accept)?;
    let start = c.compile(&node, accept)?;
    let mut body = String::new();
    to_rust(&node, &mut body);
    let build = |p: String| {
        RegexBuilder::new(&p).unicode(false).size_limit(1 << 28).dfa_size_limit(1 << 24).build().map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => RegexError::TooBig,
            _ => RegexError::Invalid,
        })
    };
    let search = build(body.clone())?;
    let exact = build(format!(r"\A(?:{body})\z"))?;
    Ok(Program { insts: c.prog, start, groups, search, exact })
}

thread_local! {
    static CACHE: RefCell<FxHashMap<Vec<u8>, Rc<Program>>> = RefCell::new(FxHashMap::default());
}

/// The compiled form of `pattern`, from the cache when possible.
fn get_regex(pattern: &NixString) -> EvalResult<Rc<Program>> {
    let bytes = pattern.as_bytes();
    if let Some(p) = CACHE.with(|c| c.borrow().get(bytes).cloned()) {
        return Ok(p);
    }
    match compile(bytes) {
        Ok(p) => {
            let p = Rc::new(p);
            CACHE.with(|c| c.borrow_mut().insert(bytes.to_vec(), p.clone()));
            Ok(p)
        }
        Err(RegexError::Invalid) => {
            Err(EvalError::new(ErrorKind::Eval, format!("invalid regular expression '{}'", pattern.to_str_lossy())))
        }
        Err(RegexError::TooBig) => Err(EvalError::new(
            ErrorKind::Eval,
            format!("memory limit exceeded by regular expression '{}'", pattern.to_str_lossy()),
        )),
    }
}

/// Captures as the `regex` crate reports them (the fallback).
fn rust_caps(caps: &regex::bytes::Captures<'_>, groups: usize) -> Vec<Cap> {
    (1..=groups)
        .map(|g| match caps.get(g) {
            Some(m) => (m.start(), m.end(), true),
            None => (0, 0, false),
        })
        .collect()
}

/// `regex_match`: the groups if `hay` matches as a whole.
fn full_match(prog: &Program, hay: &[u8]) -> Option<Vec<Cap>> {
    if !prog.exact.is_match(hay) {
        return None;
    }
    if prog.groups == 0 {
        return Some(Vec::new());
    }
    match backtrack(prog, hay, 0, Mode::Exact) {
        Ok(Some((_, caps))) => Some(caps),
        _ => prog.exact.captures(hay).map(|c| rust_caps(&c, prog.groups)),
    }
}

/// One `regex_search` from `pos`: start, end and groups of the match.
/// With `continuous`, the match must start at `pos` and be non-empty.
fn search(prog: &Program, hay: &[u8], pos: usize, continuous: bool) -> Option<(usize, MatchResult)> {
    let whole = prog.search.find_at(hay, pos)?;
    let start = whole.start();
    if continuous && start != pos {
        return None;
    }
    let mode = Mode::Prefix { not_null: continuous };
    match backtrack(prog, hay, start, mode) {
        Ok(Some(m)) => Some((start, m)),
        Ok(None) => None,
        Err(()) => {
            if continuous && whole.is_empty() {
                return None;
            }
            let found = prog.search.captures_at(hay, start)?;
            let end = found.get(0).map_or(start, |m| m.end());
            Some((start, (end, rust_caps(&found, prog.groups))))
        }
    }
}

/// Every match as libstdc++'s `regex_iterator` enumerates them: after an
/// empty match, first a non-empty match at the same place, else a search
/// from the next byte.
fn all_matches(prog: &Program, hay: &[u8]) -> Vec<(usize, MatchResult)> {
    let mut out = Vec::new();
    let mut next = search(prog, hay, 0, false);
    while let Some((start, (end, caps))) = next {
        out.push((start, (end, caps)));
        next = if start == end {
            if end == hay.len() {
                None
            } else {
                search(prog, hay, end, true).or_else(|| search(prog, hay, end + 1, false))
            }
        } else {
            search(prog, hay, end, false)
        };
    }
    out
}

fn groups_to_list(hay: &[u8], caps: &[Cap]) -> Value {
    Value::list(
        caps.iter()
            .map(
                |&(s, e, matched)| {
                    if matched { Value::String(NixString::from_bytes(&hay[s..e])) } else { Value::Null }
                },
            )
            .collect(),
    )
}

// ---------------------------------------------------------------- builtins

fn prim_match(ev: &mut Evaluator, args: &[Value], _span: Span) -> EvalResult<Value> {
    let re = force_string_no_ctx(ev, &args[0], &arg_ctx("first", "match"))?;
    let prog = get_regex(&re)?;
    let s = ev.expect_string(&args[1]).map_err(|e| e.context(arg_ctx("second", "match"), None))?;
    let hay = s.as_bytes();
    Ok(match full_match(&prog, hay) {
        None => Value::Null,
        Some(caps) => groups_to_list(hay, &caps),
    })
}

fn prim_split(ev: &mut Evaluator, args: &[Value], _span: Span) -> EvalResult<Value> {
    let re = force_string_no_ctx(ev, &args[0], &arg_ctx("first", "split"))?;
    let prog = get_regex(&re)?;
    let s = ev.expect_string(&args[1]).map_err(|e| e.context(arg_ctx("second", "split"), None))?;
    let hay = s.as_bytes();
    let matches = all_matches(&prog, hay);
    if matches.is_empty() {
        // Nix returns the input itself (context included).
        return Ok(Value::list(vec![Value::String(s)]));
    }
    let mut out = Vec::with_capacity(matches.len() * 2 + 1);
    let mut prev = 0;
    for (start, (end, caps)) in matches {
        out.push(Value::String(NixString::from_bytes(&hay[prev..start])));
        out.push(groups_to_list(hay, &caps));
        prev = end;
    }
    out.push(Value::String(NixString::from_bytes(&hay[prev..])));
    Ok(Value::list(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(re: &str, s: &str) -> Option<Vec<Option<String>>> {
        let prog = compile(re.as_bytes()).expect("valid regex");
        full_match(&prog, s.as_bytes())
            .map(|caps| caps.iter().map(|&(a, b, ok)| ok.then(|| s[a..b].to_string())).collect())
    }

    /// Split rendered compactly: strings as-is, groups in brackets.
    fn sp(re: &str, s: &str) -> String {
        let prog = compile(re.as_bytes()).expect("valid regex");
        let hay = s.as_bytes();
        let mut out = Vec::new();
        let mut prev = 0;
        for (start, (end, caps)) in all_matches(&prog, hay) {
            out.push(format!("{:?}", &s[prev..start]));
            let gs: Vec<String> =
                caps.iter().map(|&(a, b, ok)| if ok { format!("{:?}", &s[a..b]) } else { "null".into() }).collect();
            out.push(format!("[{}]", gs.join(" ")));
            prev = end;
        }
        out.push(format!("{:?}", &s[prev..]));
        out.join(" ")
    }

    fn invalid(re: &str) -> bool {
        compile(re.as_bytes()).is_err()
    }

    fn some(v: &[Option<&str>]) -> Option<Vec<Option<String>>> {
        Some(v.iter().map(|x| x.map(str::to_string)).collect())
    }

    #[test]
    fn whole_string_match() {
        assert_eq!(m("fo*", "foobar"), None);
        assert_eq!(m("fo{1,2}", "foo"), some(&[]));
        assert_eq!(m("fo{1,2}", "fooo"), None);
        assert_eq!(m("(.*)\\.nix", "foobar.nix"), some(&[Some("foobar")]));
        assert_eq!(m("((.*)/)?([^/]*)\\.(nix|cc)", "foobar.cc"), some(&[None, None, Some("foobar"), Some("cc")]));
        assert_eq!(m("[[:space:]]+([[:upper:]]+)[[:space:]]+", "  FOO   "), some(&[Some("FOO")]));
        assert_eq!(m("(.+)+(.+)", "17.0.14+7"), some(&[Some("17.0.14+"), Some("7")]));
        assert_eq!(m("(a)|b", "b"), some(&[None]));
    }

    #[test]
    fn libstdcxx_quirks() {
        assert_eq!(m("(a*)*", "aa"), some(&[Some("")]));
        assert_eq!(m("(a*)+", "aa"), some(&[Some("")]));
        assert_eq!(m("(a?)+", "aa"), some(&[Some("")]));
        assert_eq!(m("((a)|b)*", "ab"), some(&[Some("b"), Some("a")]));
        assert_eq!(m("a**", "aaa"), some(&[]));
        assert_eq!(m("a*?", "aaa"), some(&[]));
    }

    #[test]
    fn brackets() {
        assert_eq!(m("[]a]+", "]a"), some(&[]));
        assert_eq!(m("[^]a]*", "bb"), some(&[]));
        assert_eq!(m("[a-]", "-"), some(&[]));
        assert_eq!(m("[--z]", "a"), some(&[]));
        assert_eq!(m("[\\d]", "\\"), some(&[]));
        assert_eq!(m("[[:w:]]", "_"), some(&[]));
        assert_eq!(m("[[:ALPHA:]]", "a"), some(&[]));
        assert_eq!(m("[[.zero.]]", "0"), some(&[]));
        assert_eq!(m("[[.a.]-z]", "b"), some(&[]));
        assert_eq!(m("[[=a=]b]+", "ab"), some(&[]));
        assert_eq!(m("[^a]", "\n"), some(&[]));
        assert_eq!(m(".", "\n"), some(&[]));
    }

    #[test]
    fn invalid_patterns() {
        for re in [
            "(.*",
            "f(o*o",
            "\\d",
            "\\]",
            "a{,2}",
            "a{",
            "{",
            "^*",
            "(*a)",
            "[[:word:]]",
            "[z-a]",
            "x\\",
            "[]",
            "a{1",
            "a{ 1}",
            "[a-z-0]",
            "[[.0.]]",
            "[a-[.z.]]",
            "a{3,2}",
            ")",
            "*",
        ] {
            assert!(invalid(re), "{re} should be invalid");
        }
        for re in ["\\{", "a}", "()", "a|", "a||b", "(a|)"] {
            assert!(!invalid(re), "{re} should be valid");
        }
        assert_eq!(compile(b"a{99999}").err(), Some(RegexError::TooBig));
        assert_eq!(compile(b"(a{1000}){1000}").err(), Some(RegexError::TooBig));
    }

    #[test]
    fn splitting() {
        assert_eq!(sp("fo+", "f"), r#""f""#);
        assert_eq!(sp("(o+)", "oooofoooo"), r#""" ["oooo"] "f" ["oooo"] """#);
        assert_eq!(sp("(a)|(c)", "abc"), r#""" ["a" null] "b" [null "c"] """#);
        assert_eq!(sp("a*", "ab"), r#""" [] "" [] "b" [] """#);
        assert_eq!(sp("", "abc"), r#""" [] "a" [] "b" [] "c" [] """#);
        assert_eq!(sp("a|ab", "abc"), r#""" [] "c""#);
        assert_eq!(sp("(a|ab)(c|bcd)(d*)", "abcd"), r#""" ["a" "bcd" ""] """#);
        assert_eq!(sp("(a*)+", "baab"), r#""" [""] "b" [""] "" [""] "b" [""] """#);
        assert_eq!(sp("^a", "aaa"), r#""" [] "aa""#);
        assert_eq!(sp("a$", "aaa"), r#""aa" [] """#);
        assert_eq!(sp("x*", ""), r#""" [] """#);
    }

    #[test]
    fn translation() {
        let (node, _) = Parser::parse(b"a[0-9]|b.").expect("valid");
        let mut s = String::new();
        to_rust(&node, &mut s);
        assert_eq!(s, r"(?:a[\x30-\x39]|b[\x01-\xFF])");
    }
}
