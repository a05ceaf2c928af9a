//! Store path computation without a store: NAR serialisation, Nix's
//! base-32, and the `makeStorePath` family, as Nix computes them.

use std::path::Path;

use dendrite_syntax::Span;
use sha2::{Digest, Sha256};

use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::{Evaluator, io_message};

const BASE32_CHARS: &[u8; 32] = b"0123456789abcdfghijklmnpqrsvwxyz";

/// Nix's base-32 encoding (least significant 5 bits last).
pub fn base32_encode(hash: &[u8]) -> String {
    let len = (hash.len() * 8).div_ceil(5);
    let mut s = String::with_capacity(len);
    for n in (0..len).rev() {
        let b = n * 5;
        let i = b / 8;
        let j = b % 8;
        let lo = hash[i] as u32 >> j;
        let hi = if i + 1 < hash.len() { (hash[i + 1] as u32) << (8 - j) } else { 0 };
        s.push(BASE32_CHARS[((lo | hi) & 0x1f) as usize] as char);
    }
    s
}

/// Decodes Nix's base-32; `None` if a character is invalid or bits overflow.
pub fn base32_decode(s: &str, size: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; size];
    let bytes = s.as_bytes();
    for (n, &c) in bytes.iter().rev().enumerate() {
        let digit = BASE32_CHARS.iter().position(|&x| x == c)? as u32;
        let b = n * 5;
        let i = b / 8;
        let j = b % 8;
        if i >= size {
            if digit != 0 {
                return None;
            }
            continue;
        }
        out[i] |= (digit << j) as u8;
        let carry = digit >> (8 - j);
        if i + 1 < size {
            out[i + 1] |= carry as u8;
        } else if carry != 0 {
            return None;
        }
    }
    Some(out)
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of some bytes.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// XOR-folds a hash to `size` bytes (Nix's `compressHash`).
pub fn compress_hash(hash: &[u8], size: usize) -> Vec<u8> {
    let mut out = vec![0u8; size];
    for (i, b) in hash.iter().enumerate() {
        out[i % size] ^= b;
    }
    out
}

/// `makeStorePath`: `<store>/<base32(compress(sha256(type:sha256:hex:store:name)))>-<name>`.
pub fn make_store_path(store_dir: &str, path_type: &str, hash: &[u8; 32], name: &str) -> String {
    let s = format!("{path_type}:sha256:{}:{store_dir}:{name}", hex(hash));
    let h = sha256(s.as_bytes());
    format!("{store_dir}/{}-{name}", base32_encode(&compress_hash(&h, 20)))
}

/// The type string with references appended (`text:/nix/store/a:/nix/store/b`).
fn with_refs(base: &str, refs: &[String], self_ref: bool) -> String {
    let mut t = base.to_string();
    let mut sorted: Vec<&String> = refs.iter().collect();
    sorted.sort();
    for r in sorted {
        t.push(':');
        t.push_str(r);
    }
    if self_ref {
        t.push_str(":self");
    }
    t
}

/// Path of a text file added with `toFile` / a `.drv` file.
pub fn make_text_path(store_dir: &str, name: &str, contents: &[u8], refs: &[String]) -> String {
    make_store_path(store_dir, &with_refs("text", refs, false), &sha256(contents), name)
}

/// Path of a fixed-output store object. `hash` is the raw digest of `algo`.
pub fn make_fixed_output_path(
    store_dir: &str,
    recursive: bool,
    algo: &str,
    hash: &[u8],
    name: &str,
    refs: &[String],
) -> String {
    if recursive && algo == "sha256" {
        let mut h = [0u8; 32];
        h.copy_from_slice(hash);
        make_store_path(store_dir, &with_refs("source", refs, false), &h, name)
    } else {
        let inner = format!("fixed:out:{}{algo}:{}:", if recursive { "r:" } else { "" }, hex(hash));
        make_store_path(store_dir, "output:out", &sha256(inner.as_bytes()), name)
    }
}

/// Streams the NAR serialisation of a file system object into a hasher.
pub struct NarWriter<W: FnMut(&[u8])> {
    sink: W,
}

impl<W: FnMut(&[u8])> NarWriter<W> {
    /// A writer feeding `sink`.
    pub fn new(sink: W) -> Self {
        NarWriter { sink }
    }

    fn str(&mut self, s: &[u8]) {
        (self.sink)(&(s.len() as u64).to_le_bytes());
        (self.sink)(s);
        let pad = (8 - s.len() % 8) % 8;
        if pad > 0 {
            (self.sink)(&[0u8; 8][..pad]);
        }
    }

    /// Serialises `path`; `filter` decides which directory entries are kept
    /// (it receives the full path and the entry type).
    pub fn dump(
        &mut self,
        path: &Path,
        filter: &mut dyn FnMut(&Path, &str) -> Result<bool, EvalError>,
    ) -> Result<(), EvalError> {
        self.str(b"nix-archive-1");
        self.node(path, filter)
    }

    fn node(
        &mut self,
        path: &Path,
        filter: &mut dyn FnMut(&Path, &str) -> Result<bool, EvalError>,
    ) -> Result<(), EvalError> {
        let meta = std::fs::symlink_metadata(path).map_err(|e| io_err(path, &e))?;
        self.str(b"(");
        self.str(b"type");
        let ft = meta.file_type();
        if ft.is_symlink() {
            self.str(b"symlink");
            self.str(b"target");
            let target = std::fs::read_link(path).map_err(|e| io_err(path, &e))?;
            self.str(target.as_os_str().as_encoded_bytes());
        } else if ft.is_dir() {
            self.str(b"directory");
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| io_err(path, &e))?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name())
                .collect();
            entries.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
            for name in entries {
                let child = path.join(&name);
                let kind = file_type_name(&child);
                if !filter(&child, kind)? {
                    continue;
                }
                self.str(b"entry");
                self.str(b"(");
                self.str(b"name");
                self.str(name.as_encoded_bytes());
                self.str(b"node");
                self.node(&child, filter)?;
                self.str(b")");
            }
        } else {
            self.str(b"regular");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if meta.permissions().mode() & 0o100 != 0 {
                    self.str(b"executable");
                    self.str(b"");
                }
            }
            self.str(b"contents");
            let data = std::fs::read(path).map_err(|e| io_err(path, &e))?;
            self.str(&data);
        }
        self.str(b")");
        Ok(())
    }
}

/// `regular`, `directory`, `symlink` or `unknown`, as `readDir` reports.
pub fn file_type_name(path: &Path) -> &'static str {
    match std::fs::symlink_metadata(path) {
        Ok(m) => file_kind(m.file_type()),
        Err(_) => "unknown",
    }
}

/// The `readDir` name of a file type (not following symlinks).
pub fn file_kind(t: std::fs::FileType) -> &'static str {
    if t.is_symlink() {
        "symlink"
    } else if t.is_dir() {
        "directory"
    } else if t.is_file() {
        "regular"
    } else {
        "unknown"
    }
}

fn io_err(path: &Path, e: &std::io::Error) -> EvalError {
    EvalError::new(ErrorKind::Io, format!("getting status of '{}': {}", path.display(), io_message(e)))
}

/// SHA-256 of the NAR serialisation of `path`.
pub fn nar_hash(
    path: &Path,
    filter: &mut dyn FnMut(&Path, &str) -> Result<bool, EvalError>,
) -> Result<[u8; 32], EvalError> {
    let mut hasher = Sha256::new();
    NarWriter::new(|b: &[u8]| hasher.update(b)).dump(path, filter)?;
    Ok(hasher.finalize().into())
}

/// A store path name must be non-empty, at most 211 bytes, of allowed characters.
pub fn check_store_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("name must not be empty".into());
    }
    if name.len() > 211 {
        return Err("name must be less than 212 characters".into());
    }
    if name.starts_with('.') {
        return Err("name must not begin with a period".into());
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "+-._?=".contains(*c))) {
        return Err(format!("invalid character '{c}'"));
    }
    Ok(())
}

impl Evaluator {
    /// The store path `path` would be copied to (`"${./foo}"`), computed
    /// from its NAR hash without writing anything.
    pub fn copy_path_to_store(&mut self, path: &Path, span: Span) -> EvalResult<String> {
        if let Some(sp) = self.store_cache.get(path) {
            return Ok(sp.clone());
        }
        let store_dir = self.settings.store_dir.clone();
        if path.starts_with(&store_dir) && path.components().count() <= Path::new(&store_dir).components().count() + 1 {
            return Ok(path.to_string_lossy().into_owned());
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "source".into());
        check_store_name(&name)
            .map_err(|m| EvalError::at(ErrorKind::Eval, format!("invalid store path name '{name}': {m}"), span))?;
        let hash = nar_hash(path, &mut |_, _| Ok(true)).map_err(|e| e.with_span(span))?;
        let sp = make_fixed_output_path(&store_dir, true, "sha256", &hash, &name, &[]);
        self.store_cache.insert(path.to_path_buf(), sp.clone());
        Ok(sp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_roundtrip() {
        let h = sha256(b"hello");
        let s = base32_encode(&h);
        assert_eq!(s.len(), 52);
        assert_eq!(base32_decode(&s, 32).unwrap(), h.to_vec());
    }

    #[test]
    fn text_path_matches_nix() {
        // nix-instantiate --eval -E 'builtins.toFile "foo" "bar"'
        assert_eq!(make_text_path("/nix/store", "foo", b"bar", &[]), "/nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo");
    }
}
