//! `builtins.parseFlakeRef` and `builtins.flakeRefToString`.
//!
//! A flake reference is either a URL-like string (`github:NixOS/nixpkgs/23.05?dir=lib`,
//! `git+https://example.org/repo.git?ref=main`, `path:/some/dir`,
//! `https://example.org/src.tar.gz`, ...), a flake registry id
//! (`nixpkgs/nixos-23.05`), or an absolute path; its exploded form is the
//! attribute set of the fetcher input (`type`, `owner`, `repo`, `url`, ...)
//! plus `dir` for a flake in a subdirectory. Nothing is fetched or looked up.

use std::collections::BTreeMap;

use dendrite_syntax::{Span, Symbol};

use crate::context::force_string_no_ctx;
use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::*;

pub(crate) const OPS: &[PrimOp] = &[
    PrimOp { name: "parseFlakeRef", arity: 1, func: parse_flake_ref_op },
    PrimOp { name: "flakeRefToString", arity: 1, func: flake_ref_to_string_op },
];

/// One attribute of a fetcher input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputAttr {
    /// A string.
    Str(String),
    /// A non-negative integer.
    Int(u64),
    /// A Boolean.
    Bool(bool),
}

/// The attributes of a fetcher input, sorted by name.
pub type InputAttrs = BTreeMap<String, InputAttr>;

type Res<T> = Result<T, String>;

// ------------------------------------------------------------------- URLs

/// A parsed URL (`scheme:[//authority]path[?query][#fragment]`).
#[derive(Clone, Debug, Default, PartialEq)]
struct Url {
    scheme: String,
    authority: Option<String>,
    path: String,
    query: BTreeMap<String, String>,
    fragment: String,
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but unreserved characters and `keep`.
fn percent_encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Characters left alone in a path: `pchar` and `/`.
const KEEP_IN_PATH: &str = "!$&'()*+,;=:@/";
/// Characters left alone in query names and values.
const KEEP_IN_QUERY: &str = ":@/?";

fn decode_query(q: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in q.split('&').filter(|p| !p.is_empty()) {
        // Nix ignores (with a warning) parameters without `=`.
        if let Some((k, v)) = part.split_once('=') {
            out.insert(percent_decode(k), percent_decode(v));
        }
    }
    out
}

fn encode_query(q: &BTreeMap<String, String>) -> String {
    q.iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k, KEEP_IN_QUERY), percent_encode(v, KEEP_IN_QUERY)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Url {
    /// Parses `s`; `None` if it has no scheme.
    fn parse(s: &str) -> Option<Url> {
        let colon = s.find(':')?;
        let scheme = &s[..colon];
        let mut chars = scheme.chars();
        if !chars.next()?.is_ascii_alphabetic() || !chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) {
            return None;
        }
        let mut rest = &s[colon + 1..];
        let mut fragment = String::new();
        if let Some((r, f)) = rest.split_once('#') {
            rest = r;
            fragment = percent_decode(f);
        }
        let mut query = BTreeMap::new();
        if let Some((r, q)) = rest.split_once('?') {
            rest = r;
            query = decode_query(q);
        }
        let mut authority = None;
        if let Some(r) = rest.strip_prefix("//") {
            let end = r.find('/').unwrap_or(r.len());
            authority = Some(r[..end].to_string());
            rest = &r[end..];
        }
        Some(Url { scheme: scheme.to_string(), authority, path: percent_decode(rest), query, fragment })
    }

    fn render(&self) -> String {
        let mut out = format!("{}:", self.scheme);
        if let Some(a) = &self.authority {
            out.push_str("//");
            out.push_str(a);
        }
        out.push_str(&percent_encode(&self.path, KEEP_IN_PATH));
        if !self.query.is_empty() {
            out.push('?');
            out.push_str(&encode_query(&self.query));
        }
        if !self.fragment.is_empty() {
            out.push('#');
            out.push_str(&percent_encode(&self.fragment, KEEP_IN_QUERY));
        }
        out
    }
}

// ---------------------------------------------------------------- syntax

/// A flake id (`nixpkgs`).
fn is_flake_id(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|c| c.is_ascii_alphabetic()) && c.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A Git ref (branch or tag name) as Nix accepts it in flake references.
fn is_ref(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '@')
        && c.all(|c| c.is_ascii_alphanumeric() || "_./@+-".contains(c))
}

/// Git's rules for ref names (`git check-ref-format`), as far as Nix checks them.
fn is_bad_git_ref(s: &str) -> bool {
    s.is_empty()
        || s == "@"
        || s.contains("//")
        || s.starts_with('.')
        || s.starts_with('/')
        || s.contains("/.")
        || s.contains("..")
        || s.contains("@{")
        || s.ends_with('.')
        || s.ends_with('/')
        || s.ends_with(".lock")
        || s.contains(".lock/")
        || s.chars().any(|c| c.is_ascii_control() || c.is_whitespace() || ":?^~[\\*".contains(c))
}

/// A full SHA-1 commit hash.
fn is_rev(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn parse_rev(s: &str) -> Res<String> {
    if is_rev(s) { Ok(s.to_ascii_lowercase()) } else { Err(format!("invalid Git revision '{s}'")) }
}

fn tokens(path: &str) -> Vec<&str> {
    path.split('/').filter(|t| !t.is_empty()).collect()
}

fn str_attr(s: impl Into<String>) -> InputAttr {
    InputAttr::Str(s.into())
}

fn parse_u64_param(url: &str, name: &str, v: &str) -> Res<InputAttr> {
    v.parse::<u64>().map(InputAttr::Int).map_err(|_| format!("path URL '{url}' has invalid parameter '{name}'"))
}

// --------------------------------------------------------- URL → attributes

fn indirect_from_url(url: &Url, text: &str) -> Res<InputAttrs> {
    let path = tokens(&url.path);
    let mut attrs = InputAttrs::new();
    match path.len() {
        1 => {}
        2 => {
            if is_rev(path[1]) {
                attrs.insert("rev".into(), str_attr(path[1].to_ascii_lowercase()));
            } else if is_ref(path[1]) {
                attrs.insert("ref".into(), str_attr(path[1]));
            } else {
                return Err(format!("in flake URL '{text}', '{}' is not a commit hash or branch/tag name", path[1]));
            }
        }
        3 => {
            if !is_ref(path[1]) {
                return Err(format!("in flake URL '{text}', '{}' is not a branch/tag name", path[1]));
            }
            if !is_rev(path[2]) {
                return Err(format!("in flake URL '{text}', '{}' is not a commit hash", path[2]));
            }
            attrs.insert("ref".into(), str_attr(path[1]));
            attrs.insert("rev".into(), str_attr(path[2].to_ascii_lowercase()));
        }
        _ => return Err(format!("GitHub URL '{text}' is invalid")),
    }
    if !is_flake_id(path[0]) {
        return Err(format!("'{}' is not a valid flake ID", path[0]));
    }
    attrs.insert("type".into(), str_attr("indirect"));
    attrs.insert("id".into(), str_attr(path[0]));
    Ok(attrs)
}

fn git_archive_from_url(url: &Url, text: &str) -> Res<InputAttrs> {
    let path = tokens(&url.path);
    let mut rev = None;
    let mut r#ref = None;
    match path.len() {
        0 | 1 => return Err(format!("URL '{text}' is invalid")),
        2 => {}
        3 => {
            if is_rev(path[2]) {
                rev = Some(path[2].to_ascii_lowercase());
            } else if is_ref(path[2]) {
                r#ref = Some(path[2].to_string());
            } else {
                return Err(format!("in URL '{text}', '{}' is not a commit hash or branch/tag name", path[2]));
            }
        }
        _ => {
            let rs = path[2..].join("/");
            if !is_ref(&rs) {
                return Err(format!("in URL '{text}', '{rs}' is not a branch/tag name"));
            }
            r#ref = Some(rs);
        }
    }
    let mut host = None;
    for (name, value) in &url.query {
        match name.as_str() {
            "rev" => {
                if rev.is_some() {
                    return Err(format!("URL '{text}' contains multiple commit hashes"));
                }
                rev = Some(parse_rev(value)?);
            }
            "ref" => {
                if !is_ref(value) {
                    return Err(format!("URL '{text}' contains an invalid branch/tag name"));
                }
                if r#ref.is_some() {
                    return Err(format!("URL '{text}' contains multiple branch/tag names"));
                }
                r#ref = Some(value.clone());
            }
            "host" => {
                if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
                    return Err(format!("URL '{text}' contains an invalid instance host"));
                }
                host = Some(value.clone());
            }
            _ => {}
        }
    }
    if let (Some(r), Some(h)) = (&r#ref, &rev) {
        return Err(format!("URL '{text}' contains both a commit hash and a branch/tag name {r} {h}"));
    }
    let mut attrs = InputAttrs::new();
    attrs.insert("type".into(), str_attr(url.scheme.clone()));
    attrs.insert("owner".into(), str_attr(path[0]));
    attrs.insert("repo".into(), str_attr(path[1]));
    if let Some(r) = rev {
        attrs.insert("rev".into(), str_attr(r));
    }
    if let Some(r) = r#ref {
        attrs.insert("ref".into(), str_attr(r));
    }
    if let Some(h) = host {
        attrs.insert("host".into(), str_attr(h));
    }
    Ok(attrs)
}

/// `git+https://...`, `hg+ssh://...`: the transport URL plus parameters.
fn vcs_from_url(url: &Url, kind: &str) -> Res<InputAttrs> {
    let mut inner = url.clone();
    if let Some(t) = url.scheme.strip_prefix(&format!("{kind}+")) {
        inner.scheme = t.to_string();
    }
    inner.query.clear();
    let mut attrs = InputAttrs::new();
    for (name, value) in &url.query {
        match (kind, name.as_str()) {
            (_, "rev" | "ref") | ("git", "keytype" | "publicKey" | "publicKeys") => {
                attrs.insert(name.clone(), str_attr(value.clone()));
            }
            ("git", "shallow" | "submodules" | "lfs" | "exportIgnore" | "allRefs" | "verifyCommit") => {
                attrs.insert(name.clone(), InputAttr::Bool(value == "1"));
            }
            _ => {
                inner.query.insert(name.clone(), value.clone());
            }
        }
    }
    if let Some(InputAttr::Str(r)) = attrs.get("ref")
        && is_bad_git_ref(r)
    {
        return Err(format!("invalid Git branch/tag name '{r}'"));
    }
    if let Some(InputAttr::Str(r)) = attrs.get("rev") {
        let r = parse_rev(r)?;
        attrs.insert("rev".into(), str_attr(r));
    }
    attrs.insert("type".into(), str_attr(kind));
    attrs.insert("url".into(), str_attr(inner.render()));
    Ok(attrs)
}

fn path_from_url(url: &Url, text: &str) -> Res<InputAttrs> {
    if let Some(a) = url.authority.as_deref().filter(|a| !a.is_empty()) {
        return Err(format!("path URL '{text}' should not have an authority ('{a}')"));
    }
    let mut attrs = InputAttrs::new();
    attrs.insert("type".into(), str_attr("path"));
    attrs.insert("path".into(), str_attr(url.path.clone()));
    for (name, value) in &url.query {
        let v = match name.as_str() {
            "rev" | "narHash" => str_attr(value.clone()),
            "revCount" | "lastModified" => parse_u64_param(text, name, value)?,
            _ => return Err(format!("path URL '{text}' has unsupported parameter '{name}'")),
        };
        attrs.insert(name.clone(), v);
    }
    Ok(attrs)
}

/// `https://...`, `tarball+https://...`, `file+http://...`.
fn curl_from_url(url: &Url, kind: &str, transport: &str) -> Res<InputAttrs> {
    let mut inner = url.clone();
    inner.scheme = transport.to_string();
    let mut attrs = InputAttrs::new();
    for name in ["narHash", "rev", "revCount", "lastModified"] {
        if let Some(v) = inner.query.remove(name) {
            let v = match name {
                "revCount" | "lastModified" => match v.parse::<u64>() {
                    Ok(n) => InputAttr::Int(n),
                    Err(_) => continue,
                },
                _ => str_attr(v),
            };
            attrs.insert(name.into(), v);
        }
    }
    inner.fragment.clear();
    attrs.insert("type".into(), str_attr(kind));
    attrs.insert("url".into(), str_attr(inner.render()));
    Ok(attrs)
}

/// The input a URL describes (Nix's `Input::fromURL` for flakes).
fn input_from_url(url: &Url, text: &str) -> Res<InputAttrs> {
    let scheme = url.scheme.as_str();
    let (application, transport) = match scheme.split_once('+') {
        Some((a, t)) => (Some(a), t),
        None => (None, scheme),
    };
    match scheme {
        "flake" => return indirect_from_url(url, text),
        "github" | "gitlab" | "sourcehut" => return git_archive_from_url(url, text),
        "git" | "git+http" | "git+https" | "git+ssh" | "git+file" => return vcs_from_url(url, "git"),
        "hg+http" | "hg+https" | "hg+ssh" | "hg+file" => return vcs_from_url(url, "hg"),
        "path" => return path_from_url(url, text),
        _ => {}
    }
    if matches!(transport, "file" | "http" | "https") {
        match application {
            None | Some("tarball") => return curl_from_url(url, "tarball", transport),
            Some("file") => return curl_from_url(url, "file", transport),
            _ => {}
        }
    }
    Err(format!("input '{text}' is unsupported"))
}

/// Lexically normalises an absolute path (`.`, `..`, repeated slashes).
fn canon_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Parses a flake reference into its input attributes and subdirectory.
pub fn parse_flake_ref(s: &str) -> Res<(InputAttrs, String)> {
    if let Some((_, frag)) = s.split_once('#') {
        return Err(format!("unexpected fragment '{}' in flake reference '{s}'", percent_decode(frag)));
    }
    // A registry id, possibly with a ref and/or a revision.
    let (id, rest) = s.split_once('/').map_or((s, None), |(a, b)| (a, Some(b)));
    if is_flake_id(id) && rest.is_none_or(is_ref) {
        let url = Url { scheme: "flake".into(), path: s.to_string(), ..Url::default() };
        return Ok((indirect_from_url(&url, &format!("flake:{s}"))?, String::new()));
    }
    if let Some(mut url) = Url::parse(s) {
        let dir = url.query.remove("dir").unwrap_or_default();
        return Ok((input_from_url(&url, s)?, dir));
    }
    // A path, possibly with parameters.
    let (path, query) = s.split_once('?').map_or((s, None), |(p, q)| (p, Some(q)));
    if !path.starts_with('/') {
        return Err(format!("flake reference '{s}' is not an absolute path"));
    }
    let mut query = query.map(decode_query).unwrap_or_default();
    let dir = query.remove("dir").unwrap_or_default();
    let url = Url { scheme: "path".into(), path: canon_path(&percent_decode(path)), query, ..Url::default() };
    Ok((path_from_url(&url, s)?, dir))
}

// --------------------------------------------------------- attributes → URL

fn get_str<'a>(attrs: &'a InputAttrs, name: &str) -> Res<&'a str> {
    match attrs.get(name) {
        Some(InputAttr::Str(s)) => Ok(s),
        Some(_) => Err(format!("input attribute '{name}' is not a string")),
        None => Err(format!("input attribute '{name}' missing")),
    }
}

fn maybe_str<'a>(attrs: &'a InputAttrs, name: &str) -> Res<Option<&'a str>> {
    match attrs.get(name) {
        None => Ok(None),
        Some(_) => get_str(attrs, name).map(Some),
    }
}

fn maybe_bool(attrs: &InputAttrs, name: &str) -> Res<bool> {
    match attrs.get(name) {
        None => Ok(false),
        Some(InputAttr::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("input attribute '{name}' is not a Boolean")),
    }
}

fn allowed_attrs(scheme: &str) -> Option<&'static [&'static str]> {
    Some(match scheme {
        "indirect" => &["id", "ref", "rev", "narHash"],
        "github" | "gitlab" | "sourcehut" => {
            &["owner", "repo", "ref", "rev", "narHash", "lastModified", "host", "treeHash"]
        }
        "git" => &[
            "url",
            "ref",
            "rev",
            "shallow",
            "submodules",
            "lfs",
            "exportIgnore",
            "lastModified",
            "revCount",
            "narHash",
            "allRefs",
            "name",
            "dirtyRev",
            "dirtyShortRev",
            "verifyCommit",
            "keytype",
            "publicKey",
            "publicKeys",
        ],
        "hg" => &["url", "ref", "rev", "revCount", "narHash", "name"],
        "path" => &["path", "rev", "revCount", "lastModified", "narHash"],
        "tarball" | "file" => &["url", "narHash", "name", "unpack", "rev", "revCount", "lastModified"],
        _ => return None,
    })
}

fn attr_to_query(v: &InputAttr) -> String {
    match v {
        InputAttr::Str(s) => s.clone(),
        InputAttr::Int(i) => i.to_string(),
        InputAttr::Bool(b) => u8::from(*b).to_string(),
    }
}

/// Renders input attributes (and a subdirectory) as a flake reference URL.
pub fn flake_ref_to_string(attrs: &InputAttrs, dir: &str) -> Res<String> {
    let scheme = match attrs.get("type") {
        Some(InputAttr::Str(s)) => s.as_str(),
        Some(_) => return Err("input attribute 'type' is not a string".into()),
        None => return Err("'type' attribute to specify input scheme is required but not provided".into()),
    };
    let Some(allowed) = allowed_attrs(scheme) else {
        return Err(format!("input type '{scheme}' is not supported"));
    };
    if let Some(name) = attrs.keys().find(|k| *k != "type" && !allowed.contains(&k.as_str())) {
        return Err(format!("input attribute '{name}' not supported by scheme '{scheme}'"));
    }
    let rev = maybe_str(attrs, "rev")?.map(parse_rev).transpose()?;
    let r#ref = maybe_str(attrs, "ref")?;
    let mut url = match scheme {
        "indirect" => {
            let mut path = get_str(attrs, "id")?.to_string();
            for part in [r#ref, rev.as_deref()].into_iter().flatten() {
                path.push('/');
                path.push_str(part);
            }
            Url { scheme: "flake".into(), path, ..Url::default() }
        }
        "github" | "gitlab" | "sourcehut" => {
            let mut path = format!("{}/{}", get_str(attrs, "owner")?, get_str(attrs, "repo")?);
            if r#ref.is_some() && rev.is_some() {
                return Err("a flake reference cannot have both a branch/tag name and a commit hash".into());
            }
            for part in [r#ref, rev.as_deref()].into_iter().flatten() {
                path.push('/');
                path.push_str(part);
            }
            let mut url = Url { scheme: scheme.into(), path, ..Url::default() };
            for name in ["narHash", "host"] {
                if let Some(v) = maybe_str(attrs, name)? {
                    url.query.insert(name.into(), v.into());
                }
            }
            url
        }
        "git" | "hg" => {
            let text = get_str(attrs, "url")?;
            let mut url = Url::parse(text).ok_or_else(|| format!("'{text}' is not a valid URL"))?;
            if url.scheme != scheme {
                url.scheme = format!("{scheme}+{}", url.scheme);
            }
            if let Some(r) = &rev {
                url.query.insert("rev".into(), r.clone());
            }
            if let Some(r) = r#ref {
                url.query.insert("ref".into(), r.into());
            }
            if scheme == "git" {
                for name in ["shallow", "lfs", "submodules", "exportIgnore", "verifyCommit"] {
                    if maybe_bool(attrs, name)? {
                        url.query.insert(name.into(), "1".into());
                    }
                }
                for name in ["keytype", "publicKey", "publicKeys"] {
                    if let Some(v) = maybe_str(attrs, name)? {
                        url.query.insert(name.into(), v.into());
                    }
                }
            }
            url
        }
        "path" => {
            let mut url = Url { scheme: "path".into(), path: get_str(attrs, "path")?.to_string(), ..Url::default() };
            for (k, v) in attrs.iter().filter(|(k, _)| !matches!(k.as_str(), "type" | "path")) {
                url.query.insert(k.clone(), attr_to_query(v));
            }
            url
        }
        _ => {
            let text = get_str(attrs, "url")?;
            let mut url = Url::parse(text).ok_or_else(|| format!("'{text}' is not a valid URL"))?;
            if let Some(h) = maybe_str(attrs, "narHash")? {
                url.query.insert("narHash".into(), h.into());
            }
            url
        }
    };
    if !dir.is_empty() {
        url.query.insert("dir".into(), dir.into());
    }
    Ok(url.render())
}

// ---------------------------------------------------------------- builtins

fn parse_flake_ref_op(ev: &mut Evaluator, args: &[Value], _span: Span) -> EvalResult<Value> {
    let s = force_string_no_ctx(ev, &args[0], "while evaluating the argument passed to builtins.parseFlakeRef")?;
    let text = s.to_str_lossy();
    let (attrs, dir) = parse_flake_ref(&text).map_err(|m| EvalError::new(ErrorKind::Eval, m))?;
    let mut out: Vec<Attr> = attrs
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                InputAttr::Str(s) => Value::string(s),
                InputAttr::Int(i) => Value::Int(i as i64),
                InputAttr::Bool(b) => Value::Bool(b),
            };
            Attr::new(Symbol::new(&k), v)
        })
        .collect();
    if !dir.is_empty() {
        out.push(Attr::new(Symbol::new("dir"), Value::string(dir)));
    }
    Ok(Value::attrs(out))
}

fn flake_ref_to_string_op(ev: &mut Evaluator, args: &[Value], _span: Span) -> EvalResult<Value> {
    let set = ev
        .expect_attrs(&args[0])
        .map_err(|e| e.context("while evaluating the argument passed to builtins.flakeRefToString", None))?;
    let mut attrs = InputAttrs::new();
    for attr in set.iter() {
        let name = attr.name.as_str().to_string();
        let v = ev.force(&attr.value)?;
        let v = match v {
            Value::Int(i) if i < 0 => {
                return Err(EvalError::new(
                    ErrorKind::Eval,
                    format!("negative value given for flake ref attr {name}: {i}"),
                ));
            }
            Value::Int(i) => InputAttr::Int(i as u64),
            Value::Bool(b) => InputAttr::Bool(b),
            Value::String(s) => InputAttr::Str(s.to_str_lossy().into_owned()),
            other => {
                return Err(EvalError::new(
                    ErrorKind::Eval,
                    format!(
                        "flake reference attribute sets may only contain integers, Booleans, and strings, but attribute '{name}' is {}",
                        other.describe()
                    ),
                ));
            }
        };
        attrs.insert(name, v);
    }
    let dir = match attrs.remove("dir") {
        None => String::new(),
        Some(InputAttr::Str(d)) => d,
        Some(_) => return Err(EvalError::new(ErrorKind::Eval, "input attribute 'dir' is not a string")),
    };
    let s = flake_ref_to_string(&attrs, &dir).map_err(|m| EvalError::new(ErrorKind::Eval, m))?;
    Ok(Value::string(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &str) -> String {
        let (attrs, dir) = parse_flake_ref(s).expect("valid flake ref");
        flake_ref_to_string(&attrs, &dir).expect("printable")
    }

    fn attrs(s: &str) -> Vec<(String, String)> {
        let (a, dir) = parse_flake_ref(s).expect("valid flake ref");
        let mut out: Vec<(String, String)> = a.iter().map(|(k, v)| (k.clone(), attr_to_query(v))).collect();
        if !dir.is_empty() {
            out.push(("dir".into(), dir));
        }
        out
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn github() {
        assert_eq!(
            attrs("github:NixOS/nixpkgs/23.05?dir=lib"),
            pairs(&[("owner", "NixOS"), ("ref", "23.05"), ("repo", "nixpkgs"), ("type", "github"), ("dir", "lib")])
        );
        assert_eq!(roundtrip("github:NixOS/nixpkgs/23.05?dir=lib"), "github:NixOS/nixpkgs/23.05?dir=lib");
        assert_eq!(roundtrip("github:NixOS/nixpkgs?ref=release/23.05"), "github:NixOS/nixpkgs/release/23.05");
        let rev = "e72daba8250068216d79d2aeef40d4d95aff6666";
        assert_eq!(roundtrip(&format!("github:a/b/{}", rev.to_uppercase())), format!("github:a/b/{rev}"));
        assert!(parse_flake_ref("github:a").is_err());
        assert!(parse_flake_ref(&format!("github:a/b/main?rev={rev}")).is_err());
    }

    #[test]
    fn indirect() {
        assert_eq!(attrs("nixpkgs"), pairs(&[("id", "nixpkgs"), ("type", "indirect")]));
        assert_eq!(roundtrip("nixpkgs/nixos-23.05"), "flake:nixpkgs/nixos-23.05");
        assert_eq!(roundtrip("flake:nixpkgs"), "flake:nixpkgs");
    }

    #[test]
    fn git_and_others() {
        assert_eq!(
            attrs("git+https://example.org/repo.git?ref=main&shallow=1&foo=bar"),
            pairs(&[
                ("ref", "main"),
                ("shallow", "1"),
                ("type", "git"),
                ("url", "https://example.org/repo.git?foo=bar")
            ])
        );
        assert_eq!(
            roundtrip("git+https://example.org/repo.git?ref=main&dir=sub"),
            "git+https://example.org/repo.git?dir=sub&ref=main"
        );
        assert_eq!(attrs("path:/foo/bar"), pairs(&[("path", "/foo/bar"), ("type", "path")]));
        assert_eq!(attrs("/foo/../bar/"), pairs(&[("path", "/bar"), ("type", "path")]));
        assert_eq!(
            attrs("https://example.org/x.tar.gz?narHash=sha256-abc"),
            pairs(&[("narHash", "sha256-abc"), ("type", "tarball"), ("url", "https://example.org/x.tar.gz")])
        );
        assert_eq!(roundtrip("hg+https://example.org/repo?ref=default"), "hg+https://example.org/repo?ref=default");
        assert!(parse_flake_ref("./relative").is_err());
        assert!(parse_flake_ref("github:a/b#frag").is_err());
    }

    #[test]
    fn to_string_errors() {
        let mut a = InputAttrs::new();
        a.insert("type".into(), str_attr("github"));
        a.insert("owner".into(), str_attr("o"));
        assert!(flake_ref_to_string(&a, "").is_err());
        a.insert("repo".into(), InputAttr::Int(3));
        assert!(flake_ref_to_string(&a, "").is_err());
        a.insert("repo".into(), str_attr("r"));
        a.insert("bogus".into(), str_attr("x"));
        assert!(flake_ref_to_string(&a, "").is_err());
    }
}
