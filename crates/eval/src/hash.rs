//! Hashes: `builtins.hashString`, `builtins.hashFile`, `builtins.convertHash`,
//! and the hash parsing and printing that fixed-output derivations and
//! `builtins.path` share (base16, Nix base-32, base64 and SRI).

use dendrite_syntax::{Span, Symbol};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::builtins::arg_ctx;
use crate::context::{force_string_no_ctx, without_span};
use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::{Evaluator, io_message};
use crate::store::{base32_decode, base32_encode, hex};
use crate::value::*;

pub(crate) const OPS: &[PrimOp] = &[
    PrimOp { name: "hashString", arity: 2, func: hash_string },
    PrimOp { name: "hashFile", arity: 2, func: hash_file },
    PrimOp { name: "convertHash", arity: 1, func: convert_hash },
];

/// A hash algorithm Nix knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgo {
    /// MD5 (16 bytes).
    Md5,
    /// SHA-1 (20 bytes).
    Sha1,
    /// SHA-256 (32 bytes).
    Sha256,
    /// SHA-512 (64 bytes).
    Sha512,
}

impl HashAlgo {
    /// Parses an algorithm name (`md5`, `sha1`, `sha256`, `sha512`).
    pub fn parse(s: &str) -> Option<HashAlgo> {
        match s {
            "md5" => Some(HashAlgo::Md5),
            "sha1" => Some(HashAlgo::Sha1),
            "sha256" => Some(HashAlgo::Sha256),
            "sha512" => Some(HashAlgo::Sha512),
            _ => None,
        }
    }

    /// Parses an algorithm name with Nix's error for unknown names.
    pub fn parse_or_error(s: &str) -> EvalResult<HashAlgo> {
        if s == "blake3" {
            return Err(EvalError::new(
                ErrorKind::Unsupported,
                "dendrite does not support the 'blake3' hash algorithm",
            ));
        }
        HashAlgo::parse(s).ok_or_else(|| {
            EvalError::new(
                ErrorKind::Eval,
                format!("unknown hash algorithm '{s}', expect 'blake3', 'md5', 'sha1', 'sha256', or 'sha512'"),
            )
        })
    }

    /// The name Nix prints.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgo::Md5 => "md5",
            HashAlgo::Sha1 => "sha1",
            HashAlgo::Sha256 => "sha256",
            HashAlgo::Sha512 => "sha512",
        }
    }

    /// Digest size in bytes.
    pub fn size(self) -> usize {
        match self {
            HashAlgo::Md5 => 16,
            HashAlgo::Sha1 => 20,
            HashAlgo::Sha256 => 32,
            HashAlgo::Sha512 => 64,
        }
    }

    /// Hashes some bytes.
    pub fn digest(self, data: &[u8]) -> Hash {
        let bytes = match self {
            HashAlgo::Md5 => Md5::digest(data).to_vec(),
            HashAlgo::Sha1 => Sha1::digest(data).to_vec(),
            HashAlgo::Sha256 => Sha256::digest(data).to_vec(),
            HashAlgo::Sha512 => Sha512::digest(data).to_vec(),
        };
        Hash { algo: self, bytes }
    }

    /// Hashes a file's contents without reading it all into memory.
    pub fn digest_file(self, path: &std::path::Path) -> std::io::Result<Hash> {
        use std::io::Read;
        let mut f = std::fs::File::open(path)?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut h: Box<dyn digest_dyn::DynHasher> = match self {
            HashAlgo::Md5 => Box::new(Md5::new()),
            HashAlgo::Sha1 => Box::new(Sha1::new()),
            HashAlgo::Sha256 => Box::new(Sha256::new()),
            HashAlgo::Sha512 => Box::new(Sha512::new()),
        };
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.feed(&buf[..n]);
        }
        Ok(Hash { algo: self, bytes: h.finish() })
    }
}

mod digest_dyn {
    use sha2::Digest;

    /// Object-safe wrapper over the `Digest` hashers.
    pub trait DynHasher {
        fn feed(&mut self, data: &[u8]);
        fn finish(self: Box<Self>) -> Vec<u8>;
    }

    impl<D: Digest> DynHasher for D {
        fn feed(&mut self, data: &[u8]) {
            Digest::update(self, data);
        }
        fn finish(self: Box<Self>) -> Vec<u8> {
            self.finalize().to_vec()
        }
    }
}

/// How a hash is printed (`toHashFormat` of `convertHash`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashFormat {
    /// Lower-case hexadecimal.
    Base16,
    /// Nix's base-32.
    Nix32,
    /// Standard base64 with padding.
    Base64,
    /// `algo-base64`.
    Sri,
}

impl HashFormat {
    /// Parses `base16`, `nix32`, `base32`, `base64` or `sri`.
    pub fn parse(s: &str) -> Option<HashFormat> {
        match s {
            "base16" => Some(HashFormat::Base16),
            "nix32" | "base32" => Some(HashFormat::Nix32),
            "base64" => Some(HashFormat::Base64),
            "sri" => Some(HashFormat::Sri),
            _ => None,
        }
    }
}

/// A digest together with its algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hash {
    /// The algorithm.
    pub algo: HashAlgo,
    /// The raw digest (`algo.size()` bytes).
    pub bytes: Vec<u8>,
}

impl Hash {
    /// The all-zero hash of an algorithm (what an empty `outputHash` means).
    pub fn zero(algo: HashAlgo) -> Hash {
        Hash { algo, bytes: vec![0; algo.size()] }
    }

    /// Prints the hash; `with_algo` adds `algo:` (or `algo-` for SRI,
    /// which always has it).
    pub fn to_string(&self, format: HashFormat, with_algo: bool) -> String {
        let body = match format {
            HashFormat::Base16 => hex(&self.bytes),
            HashFormat::Nix32 => base32_encode(&self.bytes),
            HashFormat::Base64 | HashFormat::Sri => base64_encode(&self.bytes),
        };
        match format {
            HashFormat::Sri => format!("{}-{body}", self.algo.name()),
            _ if with_algo => format!("{}:{body}", self.algo.name()),
            _ => body,
        }
    }

    /// Lower-case hexadecimal without prefix.
    pub fn to_hex(&self) -> String {
        hex(&self.bytes)
    }

    /// Parses a hash in any of Nix's notations (`algo:`-prefixed or SRI, or
    /// bare with `algo` given), as `Hash::parseAny` does.
    pub fn parse_any(s: &str, algo: Option<HashAlgo>) -> EvalResult<Hash> {
        let (parsed_algo, rest, is_sri) = if let Some((a, rest)) = s.split_once(':') {
            (Some(HashAlgo::parse_or_error(a)?), rest, false)
        } else if let Some((a, rest)) = s.split_once('-') {
            (Some(HashAlgo::parse_or_error(a)?), rest, true)
        } else {
            (None, s, false)
        };
        let algo = match (parsed_algo, algo) {
            (None, None) => {
                return Err(bad_hash(format!(
                    "hash '{rest}' does not include a type, nor is the type otherwise known from context"
                )));
            }
            (Some(p), Some(a)) if p != a => {
                return Err(bad_hash(format!("hash '{s}' should have type '{}'", a.name())));
            }
            (Some(p), _) => p,
            (None, Some(a)) => a,
        };
        Hash::parse_body(rest, algo, is_sri)
    }

    /// Like [`Hash::parse_any`], but an empty string means the zero hash of
    /// `algo` (Nix's `newHashAllowEmpty`, which also warns).
    pub fn parse_allow_empty(ev: &mut Evaluator, s: &str, algo: Option<HashAlgo>) -> EvalResult<Hash> {
        if s.is_empty() {
            let Some(a) = algo else {
                return Err(bad_hash("empty hash requires explicit hash algorithm"));
            };
            let h = Hash::zero(a);
            ev.emit(format!("warning: found empty hash, assuming '{}'", h.to_string(HashFormat::Sri, true)));
            return Ok(h);
        }
        Hash::parse_any(s, algo)
    }

    /// Parses the encoded digest of a known algorithm (length decides the
    /// encoding unless it is SRI).
    pub fn parse_body(rest: &str, algo: HashAlgo, is_sri: bool) -> EvalResult<Hash> {
        let size = algo.size();
        let b16_len = size * 2;
        let b32_len = (size * 8).div_ceil(5);
        let b64_len = (4 * size / 3 + 3) & !3;
        let bytes = if !is_sri && rest.len() == b16_len {
            decode_hex(rest).ok_or_else(|| bad_hash(format!("invalid base-16 hash '{rest}'")))?
        } else if !is_sri && rest.len() == b32_len {
            base32_decode(rest, size).ok_or_else(|| bad_hash(format!("invalid base-32 hash '{rest}'")))?
        } else if is_sri || rest.len() == b64_len {
            let d = base64_decode(rest).map_err(bad_hash)?;
            if d.len() != size {
                return Err(bad_hash(format!("invalid {} hash '{rest}'", if is_sri { "SRI" } else { "base-64" })));
            }
            d
        } else {
            return Err(bad_hash(format!("hash '{rest}' has wrong length for hash algorithm '{}'", algo.name())));
        };
        Ok(Hash { algo, bytes })
    }
}

fn bad_hash(msg: impl Into<String>) -> EvalError {
    EvalError::new(ErrorKind::Eval, msg)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    s.as_bytes().chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(*p.get(1)?)?)).collect()
}

const BASE64_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with `=` padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64_CHARS[(n >> (18 - 6 * i) & 0x3f) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes base64 as Nix does: stops at the first `=`, skips newlines.
pub fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.chars() {
        if c == '=' {
            break;
        }
        if c == '\n' {
            continue;
        }
        let digit = BASE64_CHARS
            .iter()
            .position(|&x| x as char == c)
            .ok_or_else(|| format!("invalid character in Base64 string: '{c}'"))?;
        acc = (acc << 6 | digit as u32) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

fn hash_string(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let algo = force_string_no_ctx(ev, &args[0], &arg_ctx("first", "hashString"))?;
    let algo = HashAlgo::parse_or_error(&algo.to_str_lossy())?;
    let s = ev.expect_string(&args[1]).map_err(|e| e.context(arg_ctx("second", "hashString"), None))?;
    Ok(Value::string(algo.digest(s.as_bytes()).to_hex()))
}

fn hash_file(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let algo = force_string_no_ctx(ev, &args[0], &arg_ctx("first", "hashFile"))?;
    let algo = HashAlgo::parse_or_error(&algo.to_str_lossy())?;
    let path = ev
        .coerce_to_path(&args[1], span)
        .map_err(|e| without_span(e, span).context(arg_ctx("second", "hashFile"), None))?;
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(EvalError::new(ErrorKind::Io, format!("path '{}' does not exist", path.display())));
    }
    let h = algo
        .digest_file(&path)
        .map_err(|e| EvalError::new(ErrorKind::Io, format!("reading file '{}': {}", path.display(), io_message(&e))))?;
    Ok(Value::string(h.to_hex()))
}

fn convert_hash(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let attrs = ev
        .expect_attrs(&args[0])
        .map_err(|e| e.context("while evaluating the first argument passed to builtins.convertHash", None))?;
    let get = |name: &str| -> EvalResult<Value> {
        attrs.get(Symbol::new(name)).cloned().ok_or_else(|| {
            EvalError::new(ErrorKind::MissingAttribute, format!("attribute '{name}' missing"))
                .context(format!("while locating the attribute '{name}'"), None)
        })
    };
    let hash_v = get("hash")?;
    let hash = force_string_no_ctx(ev, &hash_v, "while evaluating the attribute 'hash'")?;
    let algo = match attrs.get(Symbol::new("hashAlgo")) {
        Some(v) => {
            let v = v.clone();
            let s = force_string_no_ctx(ev, &v, "while evaluating the attribute 'hashAlgo'")?;
            Some(HashAlgo::parse_or_error(&s.to_str_lossy())?)
        }
        None => None,
    };
    let fmt_v = get("toHashFormat")?;
    let fmt = force_string_no_ctx(ev, &fmt_v, "while evaluating the attribute 'toHashFormat'")?;
    let fmt_s = fmt.to_str_lossy();
    let format = HashFormat::parse(&fmt_s).ok_or_else(|| {
        EvalError::new(
            ErrorKind::Eval,
            format!("unknown hash format '{fmt_s}', expect 'base16', 'base32', 'nix32', 'base64', or 'sri'"),
        )
    })?;
    let h = Hash::parse_any(&hash.to_str_lossy(), algo)?;
    Ok(Value::string(h.to_string(format, format == HashFormat::Sri)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_roundtrip() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            let e = base64_encode(data);
            assert_eq!(base64_decode(&e).unwrap(), data);
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64_encode(b"foob"), "Zm9vYg==");
        assert!(base64_decode("Zm9v!").is_err());
    }

    #[test]
    fn conversions() {
        let h = HashAlgo::Sha256.digest(b"");
        assert_eq!(
            h.to_string(HashFormat::Base16, false),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(h.to_string(HashFormat::Nix32, false), "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73");
        assert_eq!(h.to_string(HashFormat::Sri, true), "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        for s in [
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
            "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        ] {
            assert_eq!(Hash::parse_any(s, None).unwrap(), h);
        }
        assert_eq!(
            Hash::parse_any("0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73", Some(HashAlgo::Sha256)).unwrap(),
            h
        );
        assert!(Hash::parse_any("0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73", None).is_err());
        assert!(Hash::parse_any("sha1:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73", None).is_err());
        let md5 = HashAlgo::Md5.digest(b"");
        assert_eq!(md5.to_string(HashFormat::Nix32, false), "3y8bwfr609h3lh9ch0izcqq7fl");
        assert_eq!(md5.to_string(HashFormat::Base64, false), "1B2M2Y8AsgTpgAmY7PhCfg==");
    }
}
