//! `builtins.fromTOML`.
//!
//! Parsing is done by the `toml` crate; this module maps its values to Nix
//! values the way Nix (which uses toml11) does: tables become attribute sets,
//! arrays lists, and timestamps either an error or, with the experimental
//! feature `parse-toml-timestamps`, `{ _type = "timestamp"; value = ...; }`.

use dendrite_syntax::{Span, Symbol};
use toml::value::{Datetime, Offset};

use crate::context::force_string_no_ctx;
use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::*;

pub(crate) const OPS: &[PrimOp] = &[PrimOp { name: "fromTOML", arity: 1, func: from_toml }];

/// The experimental feature that turns timestamps into attribute sets.
const TIMESTAMPS_FEATURE: &str = "parse-toml-timestamps";

fn from_toml(ev: &mut Evaluator, args: &[Value], _span: Span) -> EvalResult<Value> {
    let s = force_string_no_ctx(ev, &args[0], "while evaluating the argument passed to builtins.fromTOML")?;
    let timestamps = ev.settings.experimental_features.iter().any(|f| f == TIMESTAMPS_FEATURE);
    parse_toml(s.as_bytes(), timestamps)
        .map_err(|m| EvalError::new(ErrorKind::Eval, format!("while parsing TOML: {m}")))
}

/// Parses a TOML document into a Nix value; errors are the text after
/// "while parsing TOML: ".
pub fn parse_toml(input: &[u8], timestamps: bool) -> Result<Value, String> {
    let text = std::str::from_utf8(input).map_err(|e| format!("invalid UTF-8 in TOML input: {e}"))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| parse_error(text, &e))?;
    convert_table(table, timestamps)
}

/// The message for a syntax error; integer overflow is reported as toml11
/// (Nix's parser) does.
fn parse_error(text: &str, e: &toml::de::Error) -> String {
    let overflow = e.message().contains("number too large") || e.message().contains("number too small");
    let Some(span) = e.span().filter(|_| overflow) else {
        return e.to_string().trim_end().to_string();
    };
    // toml11 points just past the number.
    let start = span.start.min(text.len());
    let end = start
        + text[start..].find(|c: char| !(c.is_ascii_alphanumeric() || "+-_".contains(c))).unwrap_or(text.len() - start);
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let line_no = (text[..line_start].matches('\n').count() + 1).to_string();
    let pad = " ".repeat(line_no.len());
    let col = text[line_start..end].chars().count();
    format!(
        "[error] toml::parse_dec_integer: too large integer: current max digits = 2^63\n --> fromTOML\n {pad} |\n {line_no} | {}\n {pad} | {}^-- must be < 2^63\n",
        &text[line_start..line_end],
        " ".repeat(col)
    )
}

fn convert_table(table: toml::Table, timestamps: bool) -> Result<Value, String> {
    let mut attrs = Vec::with_capacity(table.len());
    for (k, v) in table {
        check_nul(&k)?;
        let v = convert(v, timestamps)?;
        attrs.push(Attr::new(Symbol::new(&k), v));
    }
    Ok(Value::attrs(attrs))
}

fn convert(v: toml::Value, timestamps: bool) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => {
            check_nul(&s)?;
            Value::string(s)
        }
        toml::Value::Integer(i) => Value::Int(i),
        toml::Value::Float(f) => Value::Float(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => {
            if !timestamps {
                return Err("Dates and times are not supported".to_string());
            }
            Value::attrs(vec![
                Attr::new(Symbol::new("_type"), Value::string("timestamp")),
                Attr::new(Symbol::new("value"), Value::string(format_datetime(&d))),
            ])
        }
        toml::Value::Array(items) => {
            Value::list(items.into_iter().map(|i| convert(i, timestamps)).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(t) => convert_table(t, timestamps)?,
    })
}

/// Nix strings cannot hold NUL bytes.
fn check_nul(s: &str) -> Result<(), String> {
    if s.contains('\0') {
        return Err(format!(
            "error: input string '{}' cannot be represented as Nix string because it contains null bytes",
            s.replace('\0', "\u{2400}")
        ));
    }
    Ok(())
}

/// Formats a timestamp as toml11 prints it: `T` between date and time,
/// fractions in groups of three digits (at most nine), `Z` for a zero offset.
pub fn format_datetime(d: &Datetime) -> String {
    let mut out = String::new();
    if let Some(date) = &d.date {
        out.push_str(&format!("{:04}-{:02}-{:02}", date.year, date.month, date.day));
    }
    if let Some(time) = &d.time {
        if d.date.is_some() {
            out.push('T');
        }
        out.push_str(&format!("{:02}:{:02}:{:02}", time.hour, time.minute, time.second));
        let ns = time.nanosecond;
        if ns != 0 {
            let (ms, us, rest) = (ns / 1_000_000, ns / 1_000 % 1_000, ns % 1_000);
            out.push_str(&format!(".{ms:03}"));
            if us != 0 || rest != 0 {
                out.push_str(&format!("{us:03}"));
                if rest != 0 {
                    out.push_str(&format!("{rest:03}"));
                }
            }
        }
    }
    match d.offset {
        None => {}
        Some(Offset::Z) | Some(Offset::Custom { minutes: 0 }) => out.push('Z'),
        Some(Offset::Custom { minutes }) => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let m = minutes.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(input: &str) -> String {
        let d: Datetime = input.parse().expect("valid datetime");
        format_datetime(&d)
    }

    #[test]
    fn timestamps() {
        assert_eq!(ts("1979-05-27T07:32:00Z"), "1979-05-27T07:32:00Z");
        assert_eq!(ts("1979-05-27 07:32:00Z"), "1979-05-27T07:32:00Z");
        assert_eq!(ts("1979-05-27T00:32:00.999999-07:00"), "1979-05-27T00:32:00.999999-07:00");
        assert_eq!(ts("1979-05-27T00:32:00+00:00"), "1979-05-27T00:32:00Z");
        assert_eq!(ts("1979-05-27T07:32:00.1"), "1979-05-27T07:32:00.100");
        assert_eq!(ts("00:32:00.1234"), "00:32:00.123400");
        assert_eq!(ts("00:32:00.1234567"), "00:32:00.123456700");
        assert_eq!(ts("1979-05-27"), "1979-05-27");
    }

    #[test]
    fn errors() {
        assert!(parse_toml(b"attr = 9223372036854775808", false).is_err());
        assert!(parse_toml(b"attr = -9223372036854775809", false).is_err());
        let e = parse_toml(br#"k = "a\u0000b""#, false).expect_err("NUL is rejected");
        assert!(e.contains("'a\u{2400}b'"), "{e}");
        assert!(parse_toml(br#""a\u0000b" = 1"#, false).is_err());
        assert_eq!(parse_toml(b"d = 1979-05-27", false).err().as_deref(), Some("Dates and times are not supported"));
        assert!(parse_toml(b"d = 1979-05-27", true).is_ok());
    }
}
