//! `builtins.toJSON` and `builtins.fromJSON`.

use std::rc::Rc;

use dendrite_syntax::{Span, Symbol};

use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::{Coerce, Evaluator, SYMS};
use crate::value::*;

pub(crate) const OPS: &[PrimOp] =
    &[PrimOp { name: "toJSON", arity: 1, func: to_json }, PrimOp { name: "fromJSON", arity: 1, func: from_json }];

fn to_json(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let mut out = Vec::new();
    let mut ctx = Context::new();
    value_to_json(ev, &args[0], &mut out, &mut ctx, span)
        .map_err(|e| e.context("while evaluating the first argument passed to builtins.toJSON", None))?;
    Ok(Value::String(NixString::with_context(out, ctx)))
}

/// Formats a float as nlohmann::json does (shortest round trip, always
/// with a fraction or exponent).
pub fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".to_string();
    }
    let s = format!("{f:?}");
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// Appends a JSON string literal; fails on invalid UTF-8.
pub fn json_string(out: &mut Vec<u8>, bytes: &[u8]) -> EvalResult<()> {
    let s = std::str::from_utf8(bytes)
        .map_err(|_| EvalError::new(ErrorKind::Eval, "[json.exception.type_error.316] invalid UTF-8 byte"))?;
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
    Ok(())
}

/// Serialises a value as JSON, collecting string context.
pub fn value_to_json(
    ev: &mut Evaluator,
    v: &Value,
    out: &mut Vec<u8>,
    ctx: &mut Context,
    span: Span,
) -> EvalResult<()> {
    json_inner(ev, v, out, ctx, span, 0)
}

fn json_inner(
    ev: &mut Evaluator,
    v: &Value,
    out: &mut Vec<u8>,
    ctx: &mut Context,
    span: Span,
    depth: usize,
) -> EvalResult<()> {
    if depth > ev.settings.max_call_depth {
        return Err(EvalError::at(ErrorKind::StackOverflow, "stack overflow; max-call-depth exceeded", span));
    }
    let v = ev.force(v)?;
    match &v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => out.extend_from_slice(json_float(*f).as_bytes()),
        Value::String(s) => {
            if let Some(c) = s.context() {
                ctx.extend(c.iter().cloned());
            }
            json_string(out, s.as_bytes())?;
        }
        Value::Path(_) => {
            let s = ev.coerce_to_string(&v, Coerce::INTERPOLATE, span)?;
            if let Some(c) = s.context() {
                ctx.extend(c.iter().cloned());
            }
            json_string(out, s.as_bytes())?;
        }
        Value::Attrs(a) => {
            if a.get(SYMS.to_string).is_some() {
                let s = ev.coerce_to_string(&v, Coerce::PLAIN, span)?;
                if let Some(c) = s.context() {
                    ctx.extend(c.iter().cloned());
                }
                return json_string(out, s.as_bytes());
            }
            if let Some(o) = a.get(SYMS.out_path) {
                let o = o.clone();
                return json_inner(ev, &o, out, ctx, span, depth + 1);
            }
            out.push(b'{');
            for (i, attr) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_string(out, attr.name.as_bytes())?;
                out.push(b':');
                json_inner(ev, &attr.value, out, ctx, span, depth + 1)
                    .map_err(|e| e.context(format!("while evaluating attribute '{}'", attr.name), attr.pos))?;
            }
            out.push(b'}');
        }
        Value::List(l) => {
            out.push(b'[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_inner(ev, item, out, ctx, span, depth + 1)
                    .map_err(|e| e.context(format!("while evaluating list element at index {i}"), None))?;
            }
            out.push(b']');
        }
        other => {
            return Err(EvalError::at(ErrorKind::Type, format!("cannot convert {} to JSON", other.describe()), span));
        }
    }
    Ok(())
}

fn from_json(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let s = ev
        .expect_string(&args[0])
        .map_err(|e| e.context("while evaluating the first argument passed to builtins.fromJSON", None))?;
    let mut p = JsonParser { s: s.as_bytes(), i: 0 };
    p.ws();
    let v = p.value(0).map_err(|m| EvalError::at(ErrorKind::Eval, m, span))?;
    p.ws();
    if p.i != p.s.len() {
        return Err(EvalError::at(ErrorKind::Eval, p.error("unexpected trailing input"), span));
    }
    Ok(v)
}

/// A JSON parser producing Nix values (integers stay integers).
pub struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> JsonParser<'a> {
    /// A parser over `s`.
    pub fn new(s: &'a [u8]) -> Self {
        JsonParser { s, i: 0 }
    }

    /// Parses one complete document.
    pub fn parse_document(mut self) -> Result<Value, String> {
        self.ws();
        let v = self.value(0)?;
        self.ws();
        if self.i != self.s.len() {
            return Err(self.error("unexpected trailing input"));
        }
        Ok(v)
    }

    fn error(&self, what: &str) -> String {
        format!(
            "[json.exception.parse_error.101] parse error at byte {}: syntax error while parsing value - {what}",
            self.i + 1
        )
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > 10_000 {
            return Err(self.error("nesting too deep"));
        }
        self.ws();
        match self.s.get(self.i) {
            None => Err(self.error("unexpected end of input")),
            Some(b'{') => {
                self.i += 1;
                let mut entries: Vec<Attr> = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Value::Attrs(Rc::new(Attrs::empty())));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    if key.contains(&0) {
                        return Err("input string contains a NUL byte in an attribute name".to_string());
                    }
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return Err(self.error("expected ':'"));
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    entries.push(Attr::new(Symbol::from_bytes(&key), v));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            break;
                        }
                        _ => return Err(self.error("expected ',' or '}'")),
                    }
                }
                Ok(Value::attrs(entries))
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Value::list(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            break;
                        }
                        _ => return Err(self.error("expected ',' or ']'")),
                    }
                }
                Ok(Value::list(items))
            }
            Some(b'"') => {
                let s = self.string()?;
                if s.contains(&0) {
                    return Err("input string contains a NUL byte".to_string());
                }
                Ok(Value::String(NixString::new(s)))
            }
            Some(b't') if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                Ok(Value::Bool(true))
            }
            Some(b'f') if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                Ok(Value::Bool(false))
            }
            Some(b'n') if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                Ok(Value::Null)
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => self.number(),
            Some(_) => Err(self.error("invalid literal")),
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let digits_start = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i == digits_start {
            return Err(self.error("invalid number"));
        }
        let mut is_float = false;
        if self.s.get(self.i) == Some(&b'.') {
            is_float = true;
            self.i += 1;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
        }
        if matches!(self.s.get(self.i), Some(b'e') | Some(b'E')) {
            is_float = true;
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+') | Some(b'-')) {
                self.i += 1;
            }
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("0");
        if !is_float {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Int(i));
            }
            if text.starts_with('-') {
                return Err(format!("number {text} is out of range of 64-bit signed integers"));
            }
            // Unsigned 64-bit integers that overflow i64 are rejected by Nix.
            if text.parse::<u64>().is_ok() {
                return Err(format!("unsigned json number {text} outside of Nix integer range"));
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => Err(format!("[json.exception.out_of_range.406] number overflow parsing '{text}'")),
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, String> {
        if self.s.get(self.i) != Some(&b'"') {
            return Err(self.error("expected string"));
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err(self.error("unterminated string"));
            };
            self.i += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return Err(self.error("unterminated string"));
                    };
                    self.i += 1;
                    match e {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp) && self.s[self.i..].starts_with(b"\\u") {
                                self.i += 2;
                                let low = self.hex4()?;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                c if c < 0x20 => return Err(self.error("control character in string")),
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self.s.get(self.i..self.i + 4).ok_or_else(|| self.error("bad \\u escape"))?;
        let h = std::str::from_utf8(h).map_err(|_| self.error("bad \\u escape"))?;
        let v = u32::from_str_radix(h, 16).map_err(|_| self.error("bad \\u escape"))?;
        self.i += 4;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::json_float;

    #[test]
    fn floats() {
        assert_eq!(json_float(1.44), "1.44");
        assert_eq!(json_float(1.0), "1.0");
        assert_eq!(json_float(1e20), "1e+20");
    }
}
