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
// A reference to leaked data rather than `&[u8]` keeps `Symbol` (and so
// every attribute entry) one word instead of two.
#[derive(Clone, Copy)]
pub struct Symbol(&'static Interned);

/// An interned name's bytes, and its first eight bytes as a big-endian
/// number (zero-padded): comparing those orders most pairs of names in
/// one step, which binary searches in large attribute sets do often.
struct Interned {
    key: u64,
    bytes: Box<[u8]>,
}

/// The ordering key of a name: its first eight bytes, big-endian.
fn order_key(name: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = name.len().min(8);
    buf[..n].copy_from_slice(&name[..n]);
    u64::from_be_bytes(buf)
}

static INTERNER: LazyLock<RwLock<FxHashMap<&'static [u8], Symbol>>> =
    LazyLock::new(|| RwLock::new(FxHashMap::default()));

/// The symbol of a literal name, interned on first use and then read from
/// a static: for names looked up in hot code.
#[macro_export]
macro_rules! sym {
    ($s:literal) => {{
        static SYM: std::sync::LazyLock<$crate::Symbol> = std::sync::LazyLock::new(|| $crate::Symbol::new($s));
        *SYM
    }};
}

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
        let data: &'static Interned =
            Box::leak(Box::new(Interned { key: order_key(name), bytes: name.to_vec().into_boxed_slice() }));
        let sym = Symbol(data);
        map.insert(&data.bytes[..], sym);
        sym
    }

    /// The name's bytes.
    pub fn as_bytes(self) -> &'static [u8] {
        &self.0.bytes[..]
    }

    /// The name as text (lossy for names that are not UTF-8).
    pub fn as_str(self) -> std::borrow::Cow<'static, str> {
        // Names are almost always valid UTF-8, which `from_utf8` checks
        // faster than the lossy decoder walks.
        match std::str::from_utf8(&self.0.bytes[..]) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(&self.0.bytes[..]),
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
        // Keys that differ order the names as their bytes do (a shorter
        // name's padding zeros come before any byte but a zero, and names
        // that differ only there have equal keys).
        match self.0.key.cmp(&other.0.key) {
            Ordering::Equal => self.0.bytes[..].cmp(&other.0.bytes[..]),
            o => o,
        }
    }
}

impl Hash for Symbol {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.0 as *const Interned as usize).hash(state)
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
        // Past the 8-byte key, names that differ only in padding zeros, and
        // a prefix of exactly 16 bytes.
        let long = |s: &str| Symbol::new(s);
        assert!(long("ab") < long("ab\u{0}"));
        assert!(long("a\u{1}") < long("ab"));
        assert!(long("abcdefgh") < long("abcdefgh\u{0}"));
        assert!(long("0123456789abcdefA") < long("0123456789abcdefB"));
        assert!(long("0123456789abcdef") < long("0123456789abcdef0"));
        assert!(long("0123456789abcdeg") > long("0123456789abcdef0"));
        let mut names: Vec<&str> =
            vec!["b", "a\u{0}", "a", "", "0123456789abcdefZ", "0123456789abcdef", "é", "Z", "abcdefgh", "abcdefg\u{0}"];
        let mut syms: Vec<Symbol> = names.iter().map(|n| Symbol::new(n)).collect();
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        syms.sort();
        assert_eq!(syms.iter().map(|s| s.as_str().into_owned()).collect::<Vec<_>>(), names);
    }
}
