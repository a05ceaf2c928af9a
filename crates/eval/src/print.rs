//! Printing values: `nix-instantiate --eval` output (Nix's "ambiguous"
//! printer), and the printer used in traces and error messages.

use rustc_hash::FxHashSet;

use crate::error::EvalResult;
use crate::eval::Evaluator;
use crate::value::*;

/// Formats a float the way C++ `ostream << double` does (`%g`, precision 6).
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let precision: i32 = 6;
    let exp = f.abs().log10().floor() as i32;
    // Round to `precision` significant digits first: that can change the exponent.
    let sci = format!("{:.*e}", (precision - 1) as usize, f);
    let (mantissa, e) = sci.split_once('e').expect("scientific format");
    let e: i32 = e.parse().unwrap_or(exp);
    if e < -4 || e >= precision {
        let m = trim_fraction(mantissa);
        let sign = if e < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", e.abs())
    } else {
        let decimals = (precision - 1 - e).max(0) as usize;
        trim_fraction(&format!("{f:.decimals$}"))
    }
}

fn trim_fraction(s: &str) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s.to_string() }
}

/// Appends a string literal with Nix's escapes.
pub fn escape_string(out: &mut String, bytes: &[u8]) {
    out.push('"');
    let s = String::from_utf8_lossy(bytes);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Prints a value as `nix-instantiate --eval` does. Unevaluated parts print
/// as `<CODE>`; pass a deeply forced value for `--strict` output.
pub fn print_ambiguous(v: &Value) -> String {
    let mut out = String::new();
    let mut seen = FxHashSet::default();
    ambiguous(v, &mut out, &mut seen, None);
    out
}

fn ambiguous(v: &Value, out: &mut String, seen: &mut FxHashSet<usize>, via: Option<usize>) {
    match v {
        Value::Thunk(t) => match t.value() {
            Some(inner) => ambiguous(&inner, out, seen, Some(t.as_ptr())),
            None if t.is_blackhole() => out.push_str("«potential infinite recursion»"),
            None => out.push_str("<CODE>"),
        },
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::String(s) => escape_string(out, s.as_bytes()),
        Value::Path(p) => out.push_str(p),
        Value::Attrs(a) => {
            if !a.is_empty() && !seen.insert(std::rc::Rc::as_ptr(a) as *const u8 as usize) {
                out.push_str("«repeated»");
                return;
            }
            out.push_str("{ ");
            for attr in a.iter() {
                attr_name(out, &attr.name.as_str());
                out.push_str(" = ");
                ambiguous(&attr.value, out, seen, None);
                out.push_str("; ");
            }
            out.push('}');
        }
        Value::List(l) => {
            let key = via.unwrap_or(std::rc::Rc::as_ptr(l) as *const u8 as usize);
            if !l.is_empty() && !seen.insert(key) {
                out.push_str("«repeated»");
                return;
            }
            out.push_str("[ ");
            for item in l.iter() {
                ambiguous(item, out, seen, None);
                out.push(' ');
            }
            out.push(']');
        }
        Value::Lambda(_) | Value::Native(_) => out.push_str("<LAMBDA>"),
        Value::PrimOp(_) => out.push_str("<PRIMOP>"),
        Value::PrimOpApp(_) => out.push_str("<PRIMOP-APP>"),
    }
}

/// Whether `s` can be printed as an attribute name without quotes.
fn is_var_name(s: &str) -> bool {
    const RESERVED: &[&str] = &["if", "then", "else", "assert", "with", "let", "in", "rec", "inherit"];
    let Some(c) = s.chars().next() else {
        return false;
    };
    if RESERVED.contains(&s) || c.is_ascii_digit() || c == '-' || c == '\'' {
        return false;
    }
    s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '\'')
}

/// Prints an attribute name as the value printer does (quoted when needed).
pub fn attr_name(out: &mut String, name: &str) {
    if is_var_name(name) {
        out.push_str(name);
    } else {
        escape_string(out, name.as_bytes());
    }
}

/// Options for the error/trace printer.
struct Printer<'a> {
    ev: Option<&'a mut Evaluator>,
    seen: FxHashSet<usize>,
    max_depth: usize,
    max_items: usize,
    items: usize,
}

impl Printer<'_> {
    fn print(&mut self, v: &Value, out: &mut String, depth: usize) {
        let v = match v {
            Value::Thunk(t) => {
                if t.is_blackhole() {
                    out.push_str("«potential infinite recursion»");
                    return;
                }
                match t.value() {
                    Some(inner) => inner,
                    None => match &mut self.ev {
                        Some(ev) => match ev.force(v) {
                            Ok(inner) => inner,
                            Err(e) => {
                                out.push_str(&format!("«error: {}»", e.message()));
                                return;
                            }
                        },
                        None => {
                            out.push_str("«thunk»");
                            return;
                        }
                    },
                }
            }
            other => other.clone(),
        };
        match &v {
            Value::Attrs(a) => {
                if !a.is_empty() && !self.seen.insert(std::rc::Rc::as_ptr(a) as *const u8 as usize) {
                    out.push_str("«repeated»");
                    return;
                }
                if a.is_empty() {
                    out.push_str("{ }");
                    return;
                }
                if depth >= self.max_depth {
                    out.push_str("{ ... }");
                    return;
                }
                out.push('{');
                let total = a.len();
                for (i, attr) in a.iter().enumerate() {
                    if self.items >= self.max_items {
                        out.push_str(&format!(
                            " «{} attribute{} elided»",
                            total - i,
                            if total - i == 1 { "" } else { "s" }
                        ));
                        break;
                    }
                    self.items += 1;
                    out.push(' ');
                    attr_name(out, &attr.name.as_str());
                    out.push_str(" = ");
                    self.print(&attr.value, out, depth + 1);
                    out.push(';');
                }
                out.push_str(" }");
            }
            Value::List(l) => {
                if l.is_empty() {
                    out.push_str("[ ]");
                    return;
                }
                if !self.seen.insert(std::rc::Rc::as_ptr(l) as *const u8 as usize) {
                    out.push_str("«repeated»");
                    return;
                }
                if depth >= self.max_depth {
                    out.push_str("[ ... ]");
                    return;
                }
                out.push('[');
                let total = l.len();
                for (i, item) in l.iter().enumerate() {
                    if self.items >= self.max_items {
                        out.push_str(&format!(" «{} item{} elided»", total - i, if total - i == 1 { "" } else { "s" }));
                        break;
                    }
                    self.items += 1;
                    out.push(' ');
                    self.print(item, out, depth + 1);
                }
                out.push_str(" ]");
            }
            Value::Lambda(c) => {
                out.push_str("«lambda");
                if let Some(n) = c.lambda.name {
                    out.push(' ');
                    out.push_str(&n.as_str());
                }
                out.push_str(&format!(" @ {}»", c.lambda.span.position()));
            }
            Value::Native(n) => out.push_str(&format!("«primop {}»", n.name)),
            Value::PrimOp(p) => out.push_str(&format!("«primop {}»", p.name)),
            Value::PrimOpApp(p) => out.push_str(&format!("«partially applied primop {}»", p.op.name)),
            Value::String(s) => escape_string(out, s.as_bytes()),
            other => ambiguous(other, out, &mut FxHashSet::default(), None),
        }
    }
}

/// A short rendering for error messages (does not force anything).
pub fn show_short(v: &Value) -> String {
    let mut p = Printer { ev: None, seen: FxHashSet::default(), max_depth: 1, max_items: 10, items: 0 };
    let mut out = String::new();
    p.print(v, &mut out, 0);
    out
}

/// The rendering `builtins.trace` uses: forces what it prints, shows
/// values under evaluation as `«potential infinite recursion»`.
pub fn show_for_trace(ev: &mut Evaluator, v: &Value) -> String {
    let mut p =
        Printer { ev: Some(ev), seen: FxHashSet::default(), max_depth: usize::MAX, max_items: usize::MAX, items: 0 };
    let mut out = String::new();
    p.print(v, &mut out, 0);
    out
}

/// Prints a deeply forced value as `nix-instantiate --eval --strict` does.
pub fn print_strict(ev: &mut Evaluator, v: &Value) -> EvalResult<String> {
    let forced = ev.deep_force(v)?;
    Ok(print_ambiguous(&forced))
}

#[cfg(test)]
mod tests {
    use super::format_float;

    #[test]
    fn floats_like_cpp_ostream() {
        assert_eq!(format_float(3.4), "3.4");
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(2.5), "2.5");
        assert_eq!(format_float(1e20), "1e+20");
        assert_eq!(format_float(0.1 + 0.2), "0.3");
        assert_eq!(format_float(123456.7), "123457");
        assert_eq!(format_float(1234567.0), "1.23457e+06");
        assert_eq!(format_float(0.0001), "0.0001");
        assert_eq!(format_float(0.00001), "1e-05");
        assert_eq!(format_float(-1.5), "-1.5");
    }
}
