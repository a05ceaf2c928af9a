//! `builtins.toXML` and `nix-instantiate --xml` output.
//!
//! The document format is Nix's: an `<expr>` root, one element per value,
//! two spaces of indentation per nesting level, attributes of an element in
//! name order, and derivations shown once (later occurrences of the same
//! `drvPath` print `<repeated />`).

use dendrite_syntax::ir::Param;
use dendrite_syntax::{Origin, Span};
use rustc_hash::FxHashSet;

use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::{Evaluator, SYMS};
use crate::print::format_float;
use crate::value::{Attrs, Context, NixString, PrimOp, Value};

pub(crate) const OPS: &[PrimOp] = &[PrimOp { name: "toXML", arity: 1, func: to_xml_builtin }];

/// Nesting depth at which printing gives up (cyclic values never end).
const MAX_DEPTH: usize = 10_000;

const HEADER: &[u8] = b"<?xml version='1.0' encoding='utf-8'?>\n";

fn to_xml_builtin(ev: &mut Evaluator, args: &[Value], _span: Span) -> EvalResult<Value> {
    let mut w = XmlWriter::new(false, true);
    w.document(ev, &args[0])?;
    let XmlWriter { out, ctx, .. } = w;
    Ok(Value::String(NixString::with_context(out, ctx)))
}

/// Renders a value as Nix's XML format for `nix-instantiate --xml`, without
/// the final newline (the caller prints one). Nested values that are still
/// unevaluated print as `<unevaluated />`, as Nix does without `--strict`;
/// deep-force the value first for `--strict` output.
pub fn to_xml(ev: &mut Evaluator, v: &Value, locations: bool) -> EvalResult<String> {
    let v = ev.force(v)?;
    let mut w = XmlWriter::new(locations, false);
    w.document(ev, &v)?;
    if w.out.last() == Some(&b'\n') {
        w.out.pop();
    }
    Ok(String::from_utf8_lossy(&w.out).into_owned())
}

/// An XML attribute: name and (unescaped) value.
type XmlAttr = (&'static str, Vec<u8>);

/// The output being built and the state of one rendering.
struct XmlWriter {
    out: Vec<u8>,
    /// The context of every string printed.
    ctx: Context,
    /// `drvPath`s of the derivations already shown.
    drvs_seen: FxHashSet<Vec<u8>>,
    /// Whether to add `column`/`line`/`path` attributes.
    locations: bool,
    /// Whether to force values as they are printed (`toXML`), or to show
    /// unevaluated ones as `<unevaluated />`.
    strict: bool,
}

impl XmlWriter {
    fn new(locations: bool, strict: bool) -> XmlWriter {
        XmlWriter { out: Vec::new(), ctx: Context::new(), drvs_seen: FxHashSet::default(), locations, strict }
    }

    fn document(&mut self, ev: &mut Evaluator, v: &Value) -> EvalResult<()> {
        self.out.extend_from_slice(HEADER);
        self.open("expr", &[], 0);
        self.value(ev, v, 1)?;
        self.close("expr", 0);
        Ok(())
    }

    fn indent(&mut self, depth: usize) {
        self.out.resize(self.out.len() + 2 * depth, b' ');
    }

    fn attrs(&mut self, attrs: &[XmlAttr]) {
        for (name, value) in attrs {
            self.out.push(b' ');
            self.out.extend_from_slice(name.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_into(&mut self.out, value);
            self.out.push(b'"');
        }
    }

    /// `<name attrs>` on its own line; `attrs` must be sorted by name.
    fn open(&mut self, name: &str, attrs: &[XmlAttr], depth: usize) {
        self.indent(depth);
        self.out.push(b'<');
        self.out.extend_from_slice(name.as_bytes());
        self.attrs(attrs);
        self.out.extend_from_slice(b">\n");
    }

    fn close(&mut self, name: &str, depth: usize) {
        self.indent(depth);
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b">\n");
    }

    /// `<name attrs />`; `attrs` must be sorted by name.
    fn empty(&mut self, name: &str, attrs: &[XmlAttr], depth: usize) {
        self.indent(depth);
        self.out.push(b'<');
        self.out.extend_from_slice(name.as_bytes());
        self.attrs(attrs);
        self.out.extend_from_slice(b" />\n");
    }

    /// The value to print: forced when strict, otherwise what a thunk
    /// already holds (`None` when it has not been evaluated).
    fn resolve(&self, ev: &mut Evaluator, v: &Value) -> EvalResult<Option<Value>> {
        if self.strict {
            return ev.force(v).map(Some);
        }
        let mut v = v.clone();
        while let Value::Thunk(t) = &v {
            match t.value() {
                Some(inner) => v = inner,
                None => return Ok(None),
            }
        }
        Ok(Some(v))
    }

    fn value(&mut self, ev: &mut Evaluator, v: &Value, depth: usize) -> EvalResult<()> {
        if depth > MAX_DEPTH {
            return Err(EvalError::new(ErrorKind::StackOverflow, "stack overflow; max-call-depth exceeded"));
        }
        let Some(v) = self.resolve(ev, v)? else {
            self.empty("unevaluated", &[], depth);
            return Ok(());
        };
        match &v {
            Value::Null => self.empty("null", &[], depth),
            Value::Bool(b) => {
                let s: &[u8] = if *b { b"true" } else { b"false" };
                self.empty("bool", &[("value", s.to_vec())], depth);
            }
            Value::Int(i) => self.empty("int", &[("value", i.to_string().into_bytes())], depth),
            Value::Float(f) => self.empty("float", &[("value", format_float(*f).into_bytes())], depth),
            Value::String(s) => {
                if let Some(c) = s.context() {
                    self.ctx.extend(c.iter().cloned());
                }
                self.empty("string", &[("value", s.as_bytes().to_vec())], depth);
            }
            Value::Path(p) => self.empty("path", &[("value", p.as_bytes().to_vec())], depth),
            Value::Attrs(a) => {
                if ev.is_derivation(a)? {
                    self.derivation(ev, a, depth)?;
                } else {
                    self.open("attrs", &[], depth);
                    self.show_attrs(ev, a, depth + 1)?;
                    self.close("attrs", depth);
                }
            }
            Value::List(l) => {
                self.open("list", &[], depth);
                for item in l.iter() {
                    self.value(ev, item, depth + 1)?;
                }
                self.close("list", depth);
            }
            Value::Lambda(c) => {
                let mut attrs = Vec::new();
                self.location(&mut attrs, c.lambda.span);
                self.open("function", &attrs, depth);
                match &c.lambda.param {
                    Param::Ident(name) => self.empty("varpat", &[("name", name.as_bytes().to_vec())], depth + 1),
                    Param::Formals { formals, ellipsis, at } => {
                        let mut attrs = Vec::new();
                        if *ellipsis {
                            attrs.push(("ellipsis", b"1".to_vec()));
                        }
                        if let Some(at) = at {
                            attrs.push(("name", at.as_bytes().to_vec()));
                        }
                        self.open("attrspat", &attrs, depth + 1);
                        let mut names: Vec<&[u8]> = formals.iter().map(|f| f.name.as_bytes()).collect();
                        names.sort_unstable();
                        for name in names {
                            self.empty("attr", &[("name", name.to_vec())], depth + 2);
                        }
                        self.close("attrspat", depth + 1);
                    }
                }
                self.close("function", depth);
            }
            // Builtins (and anything else) are not serialised, as in Nix.
            _ => self.empty("unevaluated", &[], depth),
        }
        Ok(())
    }

    /// A derivation: its paths as attributes, then its attributes the first
    /// time its `drvPath` is seen and `<repeated />` after that.
    fn derivation(&mut self, ev: &mut Evaluator, a: &Attrs, depth: usize) -> EvalResult<()> {
        let mut attrs = Vec::new();
        let mut drv_path = Vec::new();
        if let Some(v) = a.get(SYMS.drv_path)
            && let Some(Value::String(s)) = self.resolve(ev, v)?
        {
            drv_path = s.as_bytes().to_vec();
            attrs.push(("drvPath", drv_path.clone()));
        }
        if let Some(v) = a.get(SYMS.out_path)
            && let Some(Value::String(s)) = self.resolve(ev, v)?
        {
            attrs.push(("outPath", s.as_bytes().to_vec()));
        }
        self.open("derivation", &attrs, depth);
        if !drv_path.is_empty() && self.drvs_seen.insert(drv_path) {
            self.show_attrs(ev, a, depth + 1)?;
        } else {
            self.empty("repeated", &[], depth + 1);
        }
        self.close("derivation", depth);
        Ok(())
    }

    /// One `<attr name="..">` element per attribute, in name order.
    fn show_attrs(&mut self, ev: &mut Evaluator, a: &Attrs, depth: usize) -> EvalResult<()> {
        for attr in a.iter() {
            let mut attrs = vec![("name", attr.name.as_bytes().to_vec())];
            if let Some(pos) = attr.pos {
                self.location(&mut attrs, pos);
            }
            attrs.sort_by_key(|(k, _)| *k);
            self.open("attr", &attrs, depth);
            self.value(ev, &attr.value, depth + 1)?;
            self.close("attr", depth);
        }
        Ok(())
    }

    /// Adds `column`, `line` and (for sources with a path) `path`, when
    /// locations are enabled; keeps `attrs` sorted.
    fn location(&self, attrs: &mut Vec<XmlAttr>, span: Span) {
        if !self.locations {
            return;
        }
        let pos = span.position();
        attrs.push(("column", pos.column.to_string().into_bytes()));
        attrs.push(("line", pos.line.to_string().into_bytes()));
        if matches!(pos.origin, Origin::Path(_) | Origin::Builtin(_)) {
            attrs.push(("path", pos.origin.display().into_bytes()));
        }
        attrs.sort_by_key(|(k, _)| *k);
    }
}

/// Appends an attribute value with XML escapes (newlines too, so that
/// attribute-value normalisation keeps them).
fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"&quot;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'\n' => out.extend_from_slice(b"&#xA;"),
            b => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use dendrite_syntax::{Origin, RootDatabase, Span, Symbol};

    use super::{escape_into, to_xml, to_xml_builtin};
    use crate::eval::{Evaluator, run_with_stack};
    use crate::settings::EvalSettings;
    use crate::value::{Attr, Context, NixString, Value};

    fn evaluator() -> Evaluator {
        Evaluator::new(RootDatabase::default(), EvalSettings::default())
    }

    #[test]
    fn escapes_attribute_values() {
        let mut out = Vec::new();
        escape_into(&mut out, b"a&b<c>d\"e\nf\tg");
        assert_eq!(out, b"a&amp;b&lt;c&gt;d&quot;e&#xA;f\tg");
    }

    #[test]
    fn renders_values_and_functions() {
        let out = run_with_stack(|| {
            let mut ev = evaluator();
            let src = r#"{ f = { b, a ? 1, ... }@args: a; g = x: x; s = "<&>"; l = [ 1.5 null ]; e = { }; }"#;
            let v = ev.eval_string(src, Origin::String("/".into())).unwrap();
            let v = ev.deep_force(&v).unwrap();
            to_xml(&mut ev, &v, false).unwrap()
        });
        assert_eq!(
            out,
            r#"<?xml version='1.0' encoding='utf-8'?>
<expr>
  <attrs>
    <attr name="e">
      <attrs>
      </attrs>
    </attr>
    <attr name="f">
      <function>
        <attrspat ellipsis="1" name="args">
          <attr name="a" />
          <attr name="b" />
        </attrspat>
      </function>
    </attr>
    <attr name="g">
      <function>
        <varpat name="x" />
      </function>
    </attr>
    <attr name="l">
      <list>
        <float value="1.5" />
        <null />
      </list>
    </attr>
    <attr name="s">
      <string value="&lt;&amp;&gt;" />
    </attr>
  </attrs>
</expr>"#
        );
    }

    #[test]
    fn builtin_keeps_string_context() {
        let ctx = run_with_stack(|| {
            let mut ev = evaluator();
            let elem: Rc<str> = Rc::from("/nix/store/00000000000000000000000000000000-x");
            let s = NixString::with_context(b"x".to_vec(), Context::from([elem]));
            let v = Value::attrs(vec![Attr::new(Symbol::new("a"), Value::String(s))]);
            let span = Span { file: dendrite_syntax::FileId(0), start: 0, end: 0 };
            match to_xml_builtin(&mut ev, &[v], span).unwrap() {
                Value::String(s) => s.context().map(|c| c.iter().map(|e| e.to_string()).collect::<Vec<_>>()),
                _ => None,
            }
        });
        assert_eq!(ctx, Some(vec!["/nix/store/00000000000000000000000000000000-x".to_string()]));
    }
}
