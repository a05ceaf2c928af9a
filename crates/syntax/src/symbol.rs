//! Interned attribute and variable names.
//!
//! Symbols are interned once per process and never freed, like Nix's symbol
//! table: equality is a pointer comparison, ordering is byte-wise on the
//! name, which is the order Nix uses for attribute sets.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{LazyLock, RwLock};

use rustc_hash::FxHashMap;

/// An interned name (attribute name or identifier); one pointer wide.
// A reference to a leaked `Box<[u8]>` rather than `&[u8]` keeps `Symbol`
// (and so every attribute entry) one word instead of two.
#[derive(Clone, Copy)]
#[allow(clippy::borrowed_box)]
pub struct Symbol(&'static Box<[u8]>);

static INTERNER: LazyLock<RwLock<FxHashMap<&'static [u8], Symbol>>> =
    LazyLock::new(|| RwLock::new(FxHashMap::default()));

impl Symbol {
    /// Interns `name` and returns its symbol.
    pub fn new(name: &str) -> Symbol {
        Symbol::from_bytes(name.as_bytes())
    }

    /// Interns raw bytes (Nix attribute names may be any byte string).
    pub fn from_bytes(name: &[u8]) -> Symbol {
        if let Some(s) = INTERNER.read().unwrap_or_else(|e| e.into_inner()).get(name) {
            return *s;
        }
        let mut map = INTERNER.write().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = map.get(name) {
            return *s;
        }
        #[allow(clippy::borrowed_box)]
        let boxed: &'static Box<[u8]> = Box::leak(Box::new(name.to_vec().into_boxed_slice()));
        let sym = Symbol(boxed);
        map.insert(&boxed[..], sym);
        sym
    }

    /// The name's bytes.
    pub fn as_bytes(self) -> &'static [u8] {
        &self.0[..]
    }

    /// The name as text (lossy for names that are not UTF-8).
    pub fn as_str(self) -> std::borrow::Cow<'static, str> {
        // Names are almost always valid UTF-8, which `from_utf8` checks
        // faster than the lossy decoder walks.
        match std::str::from_utf8(&self.0[..]) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(&self.0[..]),
        }
    }
}

impl PartialEq for Symbol {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}
impl Eq for Symbol {}

impl PartialOrd for Symbol {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Symbol {
    fn cmp(&self, other: &Self) -> Ordering {
        if self == other {
            return Ordering::Equal;
        }
        let (a, b) = (&self.0[..], &other.0[..]);
        // Binary searches and sorts compare short names that usually differ
        // early: a byte loop beats a call to `memcmp` there.
        for (x, y) in a.iter().zip(b.iter()).take(16) {
            if x != y {
                return x.cmp(y);
            }
        }
        if a.len() <= 16 || b.len() <= 16 { a.len().cmp(&b.len()) } else { a[16..].cmp(&b[16..]) }
    }
}

impl Hash for Symbol {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.0 as *const Box<[u8]> as usize).hash(state)
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_identity_and_order_is_bytewise() {
        let a = Symbol::new("abc");
        let b = Symbol::from_bytes(b"abc");
        assert_eq!(a, b);
        assert!(Symbol::new("Z") < Symbol::new("a"));
        assert!(Symbol::new("a") < Symbol::new("ab"));
        assert_ne!(Symbol::new("a"), Symbol::new("b"));
        // Past the 16-byte fast path, and a prefix of exactly 16 bytes.
        let long = |s: &str| Symbol::new(s);
        assert!(long("0123456789abcdefA") < long("0123456789abcdefB"));
        assert!(long("0123456789abcdef") < long("0123456789abcdef0"));
        assert!(long("0123456789abcdeg") > long("0123456789abcdef0"));
        let mut names: Vec<&str> = vec!["b", "a\u{0}", "", "0123456789abcdefZ", "0123456789abcdef", "é", "Z"];
        let mut syms: Vec<Symbol> = names.iter().map(|n| Symbol::new(n)).collect();
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        syms.sort();
        assert_eq!(syms.iter().map(|s| s.as_str().into_owned()).collect::<Vec<_>>(), names);
    }
}
