//! Native twins of the nixpkgs `lib` functions a file listing calls once
//! per file.
//!
//! import-tree filters every path of a tree through `hasPrefix`,
//! `removePrefix`, `hasSuffix` and `hasInfix` (the last one through a
//! regular expression built per call) and flattens the listing twice with
//! `lists.flatten`; interpreted, that was 78 K instructions a file, about
//! 55 ms before the first module of a 5500-file tree could be imported.
//!
//! Each twin takes the common case only: the arguments are strings (and,
//! where the result is a string, one without context). Anything else (a
//! path, which Nix copies to the store and warns about; a string with
//! context; a value of the wrong type, with its error message) goes to the
//! interpreted function, so the results and messages are nixpkgs' own.

use std::rc::Rc;

use dendrite_eval::native::native;
use dendrite_eval::value::{Attr, Attrs, NixString, Value};
use dendrite_eval::{EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};

/// The natives of `lib/strings.nix`, each falling back to `interpreted`'s.
pub fn strings(interpreted: &Rc<Attrs>) -> Vec<Attr> {
    let mut out = Vec::new();
    let mut add = |name: &'static str, test: fn(&[u8], &NixString) -> Option<Value>| {
        let Some(fallback) = interpreted.get(Symbol::new(name)).cloned() else { return };
        out.push(Attr::new(
            Symbol::new(name),
            native(name, 2, move |ev: &mut Evaluator, args: &[Value], span: Span| {
                if let Some(v) = both_strings(ev, args, test)? {
                    return Ok(v);
                }
                ev.call_n(fallback.clone(), args, span)
            }),
        ));
    };
    add("hasPrefix", |p, s| Some(Value::Bool(s.as_bytes().starts_with(p))));
    add("hasSuffix", |p, s| Some(Value::Bool(s.as_bytes().ends_with(p))));
    add("hasInfix", |p, s| Some(Value::Bool(contains(s.as_bytes(), p))));
    add("removePrefix", |p, s| {
        // A string with context keeps it in `substring`: left to Nix code.
        if s.has_context() {
            return None;
        }
        Some(match s.as_bytes().strip_prefix(p) {
            Some(rest) => Value::String(NixString::from_bytes(rest)),
            None => Value::String(s.clone()),
        })
    });
    out
}

/// The natives of `lib/lists.nix`, each falling back to `interpreted`'s.
pub fn lists(interpreted: &Rc<Attrs>) -> Vec<Attr> {
    let Some(fallback) = interpreted.get(Symbol::new("flatten")).cloned() else { return Vec::new() };
    vec![Attr::new(
        Symbol::new("flatten"),
        native("flatten", 1, move |ev: &mut Evaluator, args: &[Value], span: Span| {
            let mut out = Vec::new();
            // Every element is forced in order, as `isList` does there; an
            // error is left to the Nix code for its trace.
            match flatten_into(ev, &args[0], &mut out, 0) {
                Ok(true) => Ok(Value::list(out)),
                _ => ev.call_n(fallback.clone(), args, span),
            }
        }),
    )]
}

/// How deep nested lists are flattened natively before the Nix code takes
/// over (whose own recursion reports a stack overflow as Nix does).
const FLATTEN_DEPTH: usize = 256;

fn flatten_into(ev: &mut Evaluator, v: &Value, out: &mut Vec<Value>, depth: usize) -> EvalResult<bool> {
    let forced = ev.force(v)?;
    match &forced {
        Value::List(items) => {
            if depth >= FLATTEN_DEPTH {
                return Ok(false);
            }
            for item in items.iter() {
                if !flatten_into(ev, item, out, depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        _ => {
            out.push(forced);
            Ok(true)
        }
    }
}

/// `test(first, second)` when both arguments are strings (the first one's
/// bytes; its context does not matter to a comparison), else `None`. The
/// first is forced before the second, as the Nix code does.
fn both_strings(
    ev: &mut Evaluator,
    args: &[Value],
    test: fn(&[u8], &NixString) -> Option<Value>,
) -> EvalResult<Option<Value>> {
    let Ok(Value::String(first)) = ev.force(&args[0]) else { return Ok(None) };
    let Ok(Value::String(second)) = ev.force(&args[1]) else { return Ok(None) };
    Ok(test(first.as_bytes(), &second))
}

/// Whether `needle` occurs in `hay` (`builtins.match ".*${escapeRegex
/// needle}.*"` in Nix, whose `.` matches newlines too).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::contains;

    #[test]
    fn contains_matches_substrings() {
        assert!(contains(b"a\nb", b"b"));
        assert!(contains(b"", b""));
        assert!(!contains(b"", b"a"));
        assert!(contains(b"/_x/", b"/_"));
        assert!(!contains(b"ab", b"abc"));
    }
}
