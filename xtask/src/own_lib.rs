//! dendrite's own Nix `lib` (`modules/lib/`).
//!
//! `cargo xtask lib-usage` regenerates `modules/lib/FUNCTIONS.md`, the list
//! of nixpkgs lib functions the corpus uses (the rnix-based census lives in
//! the test `crates/syntax/tests/lib_usage.rs`, which also checks the list
//! is current).
//!
//! `cargo xtask own-lib-diff` is a differential test of `modules/lib/`
//! against nixpkgs lib from the corpus, both evaluated by dendrite. For
//! every case a seeded generator writes calls with generated arguments (the
//! design of `lib_diff.rs`); each call is rendered by a small Nix printer
//! that does not depend on sharing, inside `builtins.tryEval` so that both
//! sides throwing counts as agreement. A case whose batch differs (or
//! cannot be evaluated at all, e.g. after `abort`) is narrowed to its
//! individual calls; two calls that both fail to evaluate also agree. Every
//! function that FUNCTIONS.md lists as provided by our Nix code must have a
//! case, and every name of our namespaces must exist in nixpkgs' ones.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::util;

// ---------------------------------------------------------------------------
// lib-usage

/// Regenerates `modules/lib/FUNCTIONS.md` by running the census test in
/// update mode.
pub fn usage() -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--release", "--quiet", "-p", "dendrite-syntax", "--test", "lib_usage", "--", "--nocapture"])
        .env("DENDRITE_UPDATE_LIB_USAGE", "1")
        .current_dir(util::root())
        .status()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !status.success() {
        return Err("the lib usage census failed".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The generator (the design of `lib_diff.rs`, with more kinds of arguments)

use crate::util::Rng;

/// Kinds of generated arguments. `@T@` in raw text stands for the fixture
/// directory (see [`make_fixture`]).
#[derive(Clone, Copy)]
enum Arg {
    Int,
    Nat,
    Float,
    Str,
    Word,
    Version,
    IntList,
    StrList,
    NestedList,
    Attrs,
    NestedAttrs,
    AttrPath,
    Bool,
    /// Any value: numbers, strings, lists, sets with awkward names, functions, derivations, paths.
    Any,
    /// A path in (or missing from) the fixture tree.
    Path,
    /// A fake derivation with random outputs and meta.
    Drv,
    Raw(&'static str),
    Pick(&'static [&'static str]),
    /// A definition value wrapped in random module-system properties
    /// (`mkIf`, `mkMerge`, `mkOverride`, `mkOrder`, their shorthands,
    /// `mkDefinition`) around integers.
    Prop,
    /// A list of such values (for `defs`, see [`program`]).
    PropList,
    /// An attribute set of properties, itself wrapped in properties (for
    /// `pushDownProperties`).
    PropAttrs,
}

/// Characters of generated strings, as Nix string-literal source.
const CHARS: &[&str] = &[
    "a", "b", "c", "x", "-", ".", "_", "/", " ", "A", "Z", "1", "9", "0", "\\n", "\\t", "\\\"", "$", "\\${", "'", "é",
    "[", "*", "+", "?", "(", "|", "=", "@", ",",
];
const WORDS: &[&str] =
    &["foo", "bar", "baz", "qux", "nixos", "darwin", "a", "b", "ab", "ba", "", "foo-bar", "if", "x1"];
const ATTR_NAMES: &[&str] = &["a", "b", "c", "x", "y"];
const AWKWARD_NAMES: &[&str] =
    &["\"a\"", "\"b c\"", "\"if\"", "\"1x\"", "\"x-y\"", "\"x'\"", "\"\\\"q\"", "\"\"", "\"\\${x}\"", "\"_z\""];
const FUNCTIONS: &[&str] = &["(x: x)", "({ a, b ? 1 }: a)", "(lib.trivial.setFunctionArgs (x: x) { y = true; })"];
const FIXTURE_PATHS: &[&str] = &[
    "@T@",
    "@T@/a.nix",
    "@T@/b.txt",
    "@T@/sub",
    "@T@/sub/c.nix",
    "@T@/sub/deeper",
    "@T@/sub/deeper/e.md",
    "@T@/empty",
    "@T@/missing",
];

impl Arg {
    fn generate(self, r: &mut Rng) -> String {
        match self {
            Arg::Int => format!("({})", r.below(41) as i64 - 20),
            Arg::Nat => format!("{}", r.below(7)),
            Arg::Float => r.pick(&["1.5", "(-0.25)", "3.0", "0.1", "100.0"]).to_string(),
            Arg::Str => {
                let n = r.below(9);
                let s: String = (0..n).map(|_| r.pick(CHARS)).collect();
                format!("\"{s}\"")
            }
            Arg::Word => format!("\"{}\"", r.pick(WORDS)),
            Arg::Version => {
                let parts = 1 + r.below(4);
                let v: Vec<String> = (0..parts)
                    .map(|_| match r.below(6) {
                        0 => "pre".to_string(),
                        1 => "rc1".to_string(),
                        _ => r.below(12).to_string(),
                    })
                    .collect();
                format!("\"{}\"", v.join(if r.below(3) == 0 { "-" } else { "." }))
            }
            Arg::IntList => {
                let n = r.below(7);
                let xs: Vec<String> = (0..n).map(|_| Arg::Int.generate(r)).collect();
                format!("[ {} ]", xs.join(" "))
            }
            Arg::StrList => {
                let n = r.below(6);
                let xs: Vec<String> = (0..n).map(|_| Arg::Word.generate(r)).collect();
                format!("[ {} ]", xs.join(" "))
            }
            Arg::NestedList => {
                let n = r.below(5);
                let xs: Vec<String> = (0..n)
                    .map(|_| match r.below(3) {
                        0 => Arg::Int.generate(r),
                        1 => Arg::IntList.generate(r),
                        _ => format!("[ {} ]", Arg::NestedList.generate(r)),
                    })
                    .collect();
                format!("[ {} ]", xs.join(" "))
            }
            Arg::Attrs => {
                let n = r.below(5);
                let mut seen = BTreeSet::new();
                let xs: Vec<String> = (0..n)
                    .filter_map(|_| {
                        let k = r.pick(ATTR_NAMES);
                        let v = Arg::Int.generate(r);
                        seen.insert(k).then(|| format!("{k} = {v};"))
                    })
                    .collect();
                format!("{{ {} }}", xs.join(" "))
            }
            Arg::NestedAttrs => format!(
                "{{ a = {}; b = {{ c = {}; d = {}; }}; e = {}; }}",
                Arg::Int.generate(r),
                Arg::Attrs.generate(r),
                Arg::IntList.generate(r),
                Arg::Word.generate(r)
            ),
            Arg::AttrPath => {
                let n = r.below(4);
                let xs: Vec<String> = (0..n).map(|_| format!("\"{}\"", r.pick(&["a", "b", "c", "d", "e"]))).collect();
                format!("[ {} ]", xs.join(" "))
            }
            Arg::Bool => if r.below(2) == 0 { "true" } else { "false" }.to_string(),
            Arg::Any => any_value(r, 0),
            Arg::Path => r.pick(FIXTURE_PATHS).to_string(),
            Arg::Drv => fake_derivation(r),
            Arg::Raw(s) => s.to_string(),
            Arg::Pick(xs) => r.pick(xs).to_string(),
            Arg::Prop => prop_value(r, 0),
            Arg::PropList => {
                let n = r.below(4);
                // Half of them with a property at the top, where
                // `filterOverrides` and `sortProperties` look.
                let xs: Vec<String> = (0..n)
                    .map(|_| {
                        if r.below(2) == 0 {
                            let v = prop_value(r, 2);
                            wrap_props(r, v)
                        } else {
                            prop_value(r, 1)
                        }
                    })
                    .collect();
                format!("[ {} ]", xs.join(" "))
            }
            Arg::PropAttrs => {
                let n = 1 + r.below(3);
                let xs: Vec<String> =
                    (0..n).map(|i| format!("{} = {};", ATTR_NAMES[i as usize], prop_value(r, 1))).collect();
                wrap_props(r, format!("{{ {} }}", xs.join(" ")))
            }
        }
    }
}

fn any_value(r: &mut Rng, depth: u32) -> String {
    let kinds = if depth < 2 { 10 } else { 8 };
    match r.below(kinds) {
        0 => Arg::Int.generate(r),
        1 => Arg::Float.generate(r),
        2 | 3 => Arg::Str.generate(r),
        4 => Arg::Bool.generate(r),
        5 => "null".into(),
        6 => r.pick(FUNCTIONS).into(),
        7 => r.pick(&["@T@/a.nix", "@T@/sub", "(lib.mkLuaInline \"x\")", "(lib.lowPrio { })"]).into(),
        8 => {
            let n = r.below(4);
            let xs: Vec<String> = (0..n).map(|_| any_value(r, depth + 1)).collect();
            format!("[ {} ]", xs.join(" "))
        }
        _ => {
            if r.below(6) == 0 {
                return fake_derivation(r);
            }
            let n = r.below(4);
            let mut seen = BTreeSet::new();
            let xs: Vec<String> = (0..n)
                .filter_map(|_| {
                    let k = r.pick(AWKWARD_NAMES);
                    let v = any_value(r, depth + 1);
                    seen.insert(k).then(|| format!("{k} = {v};"))
                })
                .collect();
            format!("{{ {} }}", xs.join(" "))
        }
    }
}

/// A definition with properties: leaves are integers (so that
/// `types.int` and `types.unspecified` merge them) or, rarely, a string.
fn prop_value(r: &mut Rng, depth: u32) -> String {
    let leaf = |r: &mut Rng| if r.below(8) == 0 { Arg::Word.generate(r) } else { Arg::Int.generate(r) };
    if depth > 2 || r.below(3) == 0 {
        return leaf(r);
    }
    match r.below(4) {
        0 => {
            let n = r.below(4);
            let xs: Vec<String> = (0..n).map(|_| prop_value(r, depth + 1)).collect();
            format!("(lib.mkMerge [ {} ])", xs.join(" "))
        }
        1 => format!(
            "(lib.modules.mkDefinition {{ file = \"{}\"; value = {}; }})",
            r.pick(&["given.nix", "other.nix"]),
            prop_value(r, depth + 1)
        ),
        _ => {
            let inner = prop_value(r, depth + 1);
            wrap_props(r, inner)
        }
    }
}

/// `v` under one property (or none).
fn wrap_props(r: &mut Rng, v: String) -> String {
    match r.below(11) {
        0 => format!("(lib.mkIf true {v})"),
        1 => format!("(lib.mkIf false {v})"),
        2 => format!("(lib.mkOverride {} {v})", r.pick(&["10", "50", "100", "1000", "1500"])),
        3 => format!("(lib.mkOrder {} {v})", r.pick(&["500", "1000", "1500"])),
        4 => format!("(lib.mkDefault {v})"),
        5 => format!("(lib.mkForce {v})"),
        6 => format!("(lib.mkBefore {v})"),
        7 => format!("(lib.mkAfter {v})"),
        8 => format!("(lib.mkOptionDefault {v})"),
        9 => format!("(lib.mkMerge [ {v} ])"),
        _ => v,
    }
}

fn fake_derivation(r: &mut Rng) -> String {
    let name = r.pick(&["hello", "foo-bar", "x"]);
    let mut s = format!(
        "{{ type = \"derivation\"; name = \"{name}-1.2\"; pname = \"{name}\"; version = \"1.2\"; \
         outPath = \"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-{name}-1.2\";"
    );
    if r.below(2) == 0 {
        s.push_str(&format!(" bin = {{ outPath = \"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-{name}-1.2-bin\"; }};"));
    }
    if r.below(3) == 0 {
        s.push_str(&format!(" lib = {{ outPath = \"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-{name}-1.2-lib\"; }};"));
    }
    if r.below(4) == 0 {
        s.push_str(" outputSpecified = true;");
    }
    match r.below(4) {
        0 => s.push_str(&format!(" meta = {{ mainProgram = \"{name}-main\"; }};")),
        1 => s.push_str(" meta = { platforms = [ \"x86_64-linux\" { kernel.name = \"darwin\"; } ]; };"),
        2 => s.push_str(
            " meta = { badPlatforms = [ \"aarch64-darwin\" ]; platforms = [ \"aarch64-darwin\" \"x86_64-linux\" ]; };",
        ),
        _ => {}
    }
    s.push_str(" }");
    s
}

use Arg::*;

const PLATFORMS: &[&str] = &[
    "{ system = \"x86_64-linux\"; parsed = { kernel = { name = \"linux\"; }; cpu = { name = \"x86_64\"; }; }; }",
    "{ system = \"aarch64-darwin\"; parsed = { kernel = { name = \"darwin\"; }; cpu = { name = \"aarch64\"; }; }; }",
    "{ parsed = { kernel = { name = \"linux\"; }; }; }",
];

/// `(function it covers, callee expression, arguments)`. The covered name is
/// `lib.` plus the nixpkgs location or one of the spellings in FUNCTIONS.md.
#[rustfmt::skip]
const CASES: &[(&str, &str, &[Arg])] = &[
    // trivial
    ("lib.id", "lib.id", &[Any]),
    ("lib.trivial.const", "lib.const", &[Any, Int]),
    ("lib.flip", "lib.flip", &[Raw("(a: b: a - b)"), Int, Int]),
    ("lib.trivial.pipe", "lib.pipe", &[Int, Pick(&["[ (x: x + 1) (x: x * 2) ]", "[ ]", "[ toString (x: x + \"!\") ]"])]),
    ("lib.trivial.concat", "lib.trivial.concat", &[IntList, IntList]),
    ("lib.or", "lib.or", &[Bool, Bool]),
    ("lib.trivial.and", "lib.and", &[Bool, Bool]),
    ("lib.trivial.xor", "lib.trivial.xor", &[Bool, Bool]),
    ("lib.trivial.bitNot", "lib.bitNot", &[Int]),
    ("lib.trivial.boolToString", "lib.trivial.boolToString", &[Bool]),
    ("lib.trivial.boolToYesNo", "lib.boolToYesNo", &[Bool]),
    ("lib.mergeAttrs", "lib.mergeAttrs", &[Attrs, Attrs]),
    ("lib.trivial.defaultTo", "lib.defaultTo", &[Int, Pick(&["null", "3", "false"])]),
    ("lib.trivial.mapNullable", "lib.mapNullable", &[Raw("(x: x + 1)"), Pick(&["null", "3"])]),
    ("lib.min", "lib.min", &[Pick(&["1", "1.0", "2", "(-3)", "0.5"]), Pick(&["1", "1.0", "2", "(-3)", "0.5"])]),
    ("lib.trivial.max", "lib.max", &[Pick(&["1", "1.0", "2", "(-3)", "0.5"]), Pick(&["1", "1.0", "2", "(-3)", "0.5"])]),
    ("lib.mod", "lib.mod", &[Int, Pick(&["7", "(-3)", "1", "0"])]),
    ("lib.trivial.compare", "lib.compare", &[Int, Int]),
    ("lib.trivial.splitByAndCompare", "lib.splitByAndCompare", &[Raw("(x: x > 0)"), Raw("lib.compare"), Raw("(a: b: lib.compare b a)"), Int, Int]),
    ("lib.trivial.toBaseDigits", "lib.toBaseDigits", &[Pick(&["2", "10", "16", "1"]), Pick(&["0", "7", "255", "1000", "(-1)"])]),
    ("lib.trivial.toHexString", "lib.toHexString", &[Pick(&["0", "9", "10", "255", "4096", "65535"])]),
    ("lib.trivial.fromHexString", "lib.fromHexString", &[Pick(&["\"ff\"", "\"0x1F\"", "\"deadBEEF\"", "\"0\""])]),
    ("lib.trivial.seq", "lib.seq", &[Any, Int]),
    ("lib.deepSeq", "lib.deepSeq", &[Any, Int]),
    ("lib.trivial.isInt", "lib.isInt", &[Any]),
    ("lib.trivial.isFloat", "lib.isFloat", &[Any]),
    ("lib.trivial.isBool", "lib.isBool", &[Any]),
    ("lib.isFunction", "lib.isFunction", &[Any]),
    ("lib.trivial.functionArgs", "lib.functionArgs", &[Pick(&["(x: x)", "({ a, b ? 1 }: a)", "(lib.setFunctionArgs (x: x) { y = true; })", "{ __functor = self: { q }: q; }"])]),
    ("lib.trivial.setFunctionArgs", "(f: f { a = 2; }) (lib.setFunctionArgs ({ a, ... }: a + 1) { a = false; })", &[]),
    ("lib.trivial.mirrorFunctionArgs", "(f: lib.functionArgs f) (lib.mirrorFunctionArgs ({ a, b ? 1 }: a) (x: x))", &[]),
    ("lib.trivial.toFunction", "lib.toFunction", &[Pick(&["1", "(x: x + 1)", "{ }"]), Int]),
    ("lib.trivial.genericClosure", "lib.genericClosure", &[Raw("{ startSet = [ { key = 1; } ]; operator = x: if x.key < 5 then [ { key = x.key + 1; } { key = x.key * 2; } ] else [ ]; }")]),
    ("lib.trivial.importJSON", "lib.importJSON", &[Pick(&["@T@/data.json", "@T@/missing"])]),
    ("lib.trivial.importTOML", "lib.importTOML", &[Pick(&["@T@/data.toml", "@T@/missing"])]),
    ("lib.trivial.pathExists", "lib.pathExists", &[Path]),
    ("lib.trivial.readFile", "lib.readFile", &[Pick(&["@T@/a.nix", "@T@/b.txt", "@T@/missing"])]),
    ("lib.trivial.version", "lib.version", &[]),
    ("lib.trivial.release", "lib.trivial.release", &[]),
    ("lib.oldestSupportedReleaseIsAtLeast", "lib.oldestSupportedReleaseIsAtLeast", &[Pick(&["2405", "2511", "2605"])]),
    ("lib.trivial.warn", "lib.warn", &[Word, Int]),
    ("lib.trivial.warnIf", "lib.warnIf", &[Bool, Word, Int]),
    ("lib.trivial.warnIfNot", "lib.warnIfNot", &[Bool, Word, Int]),
    ("lib.trivial.throwIf", "lib.throwIf", &[Bool, Word, Int]),
    ("lib.trivial.throwIfNot", "lib.throwIfNot", &[Bool, Word, Int]),
    ("lib.trivial.checkListOfEnum", "lib.checkListOfEnum", &[Word, Raw("[ \"a\" \"b\" ]"), StrList, Int]),
    ("lib.trivial.showWarnings", "lib.showWarnings", &[StrList, Int]),
    ("lib.trivial.info", "lib.info", &[Word, Int]),
    ("lib.extend", "(l: [ l.foo (l.mapAttrs (n: v: v + l.foo) { a = 1; }) (l.extend (f: p: { bar = f.foo + 1; })).bar l.strings.foo ])", &[Raw("(lib.extend (final: prev: { foo = 1; strings = prev.strings // { foo = final.foo; }; }))")]),
    // fixedPoints
    ("lib.fix", "lib.fix", &[Pick(&["(self: { a = 1; b = self.a + 1; })", "(self: [ 1 2 ])", "(self: { a = 3; })"])]),
    ("lib.fixedPoints.fix'", "(x: builtins.removeAttrs x [ \"__unfix__\" ]) (lib.fix' (self: { a = 1; b = self.a + 1; }))", &[]),
    ("lib.fixedPoints.converge", "lib.converge", &[Raw("(x: if x > 100 then x else x * 2)"), Pick(&["1", "3", "200"])]),
    ("lib.extends", "lib.fix", &[Raw("(lib.extends (final: prev: { b = prev.a * 10; c = final.b + 1; }) (self: { a = 2; b = 0; }))")]),
    ("lib.fixedPoints.composeExtensions", "(o: lib.fix (lib.extends o (self: { a = 1; })))", &[Raw("(lib.composeExtensions (f: p: { a = p.a + 1; b = f.a; }) (f: p: { a = p.a * 10; }))")]),
    ("lib.fixedPoints.composeManyExtensions", "(o: lib.fix (lib.extends o (self: { a = 1; })))", &[Pick(&["(lib.composeManyExtensions [ ])", "(lib.composeManyExtensions [ (f: p: { a = p.a + 1; }) (f: p: { a = p.a * 3; c = f.a; }) ])"])]),
    ("lib.fixedPoints.makeExtensible", "(s: { inherit (s) a b; e = (s.extend (f: p: { a = 5; })).b; })", &[Raw("(lib.makeExtensible (self: { a = 1; b = self.a + 1; }))")]),
    ("lib.fixedPoints.toExtension", "(o: lib.fix (lib.extends (lib.toExtension o) (self: { a = 1; })))", &[Pick(&["{ b = 2; }", "(p: { b = p.a; })", "(f: p: { b = p.a + 1; })"])]),
    // attrsets
    ("lib.attrByPath", "lib.attrByPath", &[AttrPath, Int, NestedAttrs]),
    ("lib.attrsets.hasAttrByPath", "lib.hasAttrByPath", &[AttrPath, NestedAttrs]),
    ("lib.attrsets.longestValidPathPrefix", "lib.attrsets.longestValidPathPrefix", &[AttrPath, NestedAttrs]),
    ("lib.setAttrByPath", "lib.setAttrByPath", &[AttrPath, Int]),
    ("lib.getAttrFromPath", "lib.getAttrFromPath", &[AttrPath, NestedAttrs]),
    ("lib.attrsets.updateManyAttrsByPath", "lib.updateManyAttrsByPath", &[Pick(&["[ { path = [ \"a\" ]; update = old: old + 1; } ]", "[ { path = [ \"b\" \"c\" ]; update = old: 5; } { path = [ \"b\" ]; update = old: old // { z = 1; }; } ]", "[ { path = [ ]; update = old: 1; } ]", "[ { path = [ \"q\" \"r\" ]; update = old: old; } ]", "[ { path = [ \"a\" \"x\" ]; update = old: 2; } ]"]), NestedAttrs]),
    ("lib.attrsets.attrVals", "lib.attrVals", &[Pick(&["[ \"a\" ]", "[ \"a\" \"e\" ]", "[ \"zz\" ]"]), NestedAttrs]),
    ("lib.attrNames", "lib.attrNames", &[Attrs]),
    ("lib.attrValues", "lib.attrValues", &[Attrs]),
    ("lib.attrsets.getAttrs", "lib.getAttrs", &[Pick(&["[ \"a\" ]", "[ \"x\" ]", "[ ]"]), Attrs]),
    ("lib.catAttrs", "lib.catAttrs", &[Word, Raw("[ { a = 1; } { b = 2; } { a = 3; } ]")]),
    ("lib.filterAttrs", "lib.filterAttrs", &[Pick(&["(n: v: v > 0)", "(n: v: n != \"a\")"]), Attrs]),
    ("lib.attrsets.filterAttrsRecursive", "lib.filterAttrsRecursive", &[Pick(&["(n: v: n != \"c\")", "(n: v: !(builtins.isInt v) || v > 0)"]), NestedAttrs]),
    ("lib.foldlAttrs", "lib.foldlAttrs", &[Raw("(acc: n: v: acc ++ [ n v ])"), IntList, Attrs]),
    ("lib.attrsets.foldAttrs", "lib.foldAttrs", &[Raw("(v: acc: [ v ] ++ acc)"), Raw("[ ]"), Pick(&["[ { a = 1; } { a = 2; b = 3; } ]", "[ ]", "[ { x = 1; } { } { x = 2; } ]"])]),
    ("lib.collect", "lib.collect", &[Pick(&["builtins.isInt", "builtins.isList", "(x: x ? c)"]), NestedAttrs]),
    ("lib.attrsets.cartesianProduct", "lib.cartesianProduct", &[Pick(&["{ a = [ 1 2 ]; b = [ \"x\" \"y\" ]; }", "{ }", "{ a = [ ]; b = [ 1 ]; }"])]),
    ("lib.attrsets.mapCartesianProduct", "lib.mapCartesianProduct", &[Raw("({ a, b }: \"${toString a}${b}\")"), Raw("{ a = [ 1 2 ]; b = [ \"x\" ]; }")]),
    ("lib.nameValuePair", "lib.nameValuePair", &[Word, Any]),
    ("lib.mapAttrs", "lib.mapAttrs", &[Raw("(n: v: \"${n}${toString v}\")"), Attrs]),
    ("lib.mapAttrs'", "lib.mapAttrs'", &[Raw("(n: v: lib.nameValuePair (n + n) (v * 2))"), Attrs]),
    ("lib.mapAttrsToList", "lib.mapAttrsToList", &[Raw("(n: v: \"${n}=${toString v}\")"), Attrs]),
    ("lib.attrsets.attrsToList", "lib.attrsToList", &[Attrs]),
    ("lib.concatMapAttrs", "lib.concatMapAttrs", &[Raw("(n: v: { ${n} = v; \"${n}${n}\" = v * 2; })"), Attrs]),
    ("lib.attrsets.mapAttrsRecursive", "lib.mapAttrsRecursive", &[Raw("(p: v: builtins.concatStringsSep \".\" p)"), NestedAttrs]),
    ("lib.mapAttrsRecursiveCond", "lib.mapAttrsRecursiveCond", &[Pick(&["(as: !(as ? c))", "(as: true)"]), Raw("(p: v: p)"), NestedAttrs]),
    ("lib.attrsets.mapAttrsToListRecursive", "lib.mapAttrsToListRecursive", &[Raw("(p: v: p)"), NestedAttrs]),
    ("lib.attrsets.mapAttrsToListRecursiveCond", "lib.mapAttrsToListRecursiveCond", &[Raw("(p: v: builtins.length p < 2)"), Raw("(p: v: [ p v ])"), NestedAttrs]),
    ("lib.genAttrs", "lib.genAttrs", &[StrList, Raw("(n: n + \"!\")")]),
    ("lib.genAttrs'", "lib.genAttrs'", &[StrList, Raw("(n: lib.nameValuePair \"x${n}\" n)")]),
    ("lib.isDerivation", "lib.isDerivation", &[Any]),
    ("lib.attrsets.toDerivation", "(d: { inherit (d) type name outPath outputs outputName; })", &[Raw("(lib.toDerivation \"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x\")")]),
    ("lib.optionalAttrs", "lib.optionalAttrs", &[Bool, Attrs]),
    ("lib.attrsets.zipAttrsWithNames", "lib.zipAttrsWithNames", &[Raw("[ \"a\" \"z\" ]"), Raw("(n: vs: [ n vs ])"), Raw("[ { a = 1; } { a = 2; b = 3; } ]")]),
    ("lib.zipAttrsWith", "lib.zipAttrsWith", &[Raw("(n: vs: vs)"), Pick(&["[ { a = 1; } { a = 2; b = 3; } ]", "[ ]", "[ { } { x = 1; } ]"])]),
    ("lib.zipAttrs", "lib.zipAttrs", &[Raw("[ { a = 1; } { a = 2; b = 3; } ]")]),
    ("lib.attrsets.recursiveUpdateUntil", "lib.recursiveUpdateUntil", &[Raw("(path: l: r: path == [ \"b\" \"c\" ] || !(builtins.isAttrs l && builtins.isAttrs r))"), NestedAttrs, NestedAttrs]),
    ("lib.recursiveUpdate", "lib.recursiveUpdate", &[NestedAttrs, Pick(&["{ b = { c = { x = 9; }; q = 1; }; }", "{ a = { }; }", "{ }", "{ b = 1; }"])]),
    ("lib.attrsets.matchAttrs", "lib.matchAttrs", &[Pick(&["{ a = 1; }", "{ b = { c = { }; }; }", "{ }", "{ e = \"foo\"; }"]), NestedAttrs]),
    ("lib.attrsets.mergeAttrsList", "lib.mergeAttrsList", &[Pick(&["[ { a = 1; } { b = 2; } { a = 3; } ]", "[ ]", "[ { x = 1; } ]"])]),
    ("lib.attrsets.overrideExisting", "lib.overrideExisting", &[Attrs, Attrs]),
    ("lib.attrsets.showAttrPath", "lib.attrsets.showAttrPath", &[Pick(&["[ ]", "[ \"a\" \"b c\" ]", "[ \"if\" \"x-y\" \"1a\" ]", "[ \"${q}\" ]"])]),
    ("lib.attrsets.unionOfDisjoint", "lib.attrsets.unionOfDisjoint", &[Attrs, Attrs]),
    ("lib.attrsets.getOutput", "lib.getOutput", &[Pick(&["\"bin\"", "\"lib\"", "\"dev\""]), Drv]),
    ("lib.getBin", "lib.getBin", &[Drv]),
    ("lib.getLib", "lib.getLib", &[Drv]),
    ("lib.attrsets.getDev", "lib.getDev", &[Drv]),
    ("lib.attrsets.getMan", "lib.getMan", &[Drv]),
    ("lib.attrsets.getStatic", "lib.getStatic", &[Drv]),
    ("lib.attrsets.getInclude", "lib.getInclude", &[Drv]),
    ("lib.attrsets.chooseDevOutputs", "lib.chooseDevOutputs", &[Raw("[ { out = 1; dev = 2; } { x = 1; } ]")]),
    ("lib.attrsets.recurseIntoAttrs", "lib.recurseIntoAttrs", &[Attrs]),
    ("lib.attrsets.dontRecurseIntoAttrs", "lib.dontRecurseIntoAttrs", &[Attrs]),
    ("lib.hasAttr", "lib.hasAttr", &[Word, Attrs]),
    ("lib.attrsets.getAttr", "lib.getAttr", &[Pick(&["\"a\"", "\"x\""]), Attrs]),
    ("lib.isAttrs", "lib.isAttrs", &[Any]),
    ("lib.intersectAttrs", "lib.intersectAttrs", &[Attrs, Attrs]),
    ("lib.removeAttrs", "lib.removeAttrs", &[Attrs, Pick(&["[ \"a\" ]", "[ ]", "[ \"a\" \"b\" \"q\" ]"])]),
    ("lib.listToAttrs", "lib.listToAttrs", &[Raw("[ { name = \"a\"; value = 1; } { name = \"a\"; value = 2; } { name = \"b\"; value = 3; } ]")]),
    // lists
    ("lib.lists.singleton", "lib.singleton", &[Any]),
    ("lib.forEach", "lib.forEach", &[IntList, Raw("(x: x * 3)")]),
    ("lib.map", "lib.map", &[Raw("(x: x + 1)"), IntList]),
    ("lib.foldr", "lib.foldr", &[Raw("(a: b: a * 3 - b)"), Int, IntList]),
    ("lib.lists.foldl", "lib.foldl", &[Raw("(a: b: a * 2 + b)"), Int, IntList]),
    ("lib.foldl'", "lib.foldl'", &[Raw("(a: b: a + b)"), Int, IntList]),
    ("lib.lists.fold", "lib.fold", &[Raw("(a: b: a - b)"), Int, IntList]),
    ("lib.imap0", "lib.imap0", &[Raw("(i: x: i * x)"), IntList]),
    ("lib.imap1", "lib.imap1", &[Raw("(i: x: i + x)"), IntList]),
    ("lib.lists.ifilter0", "lib.lists.ifilter0", &[Raw("(i: x: i < x)"), IntList]),
    ("lib.filter", "lib.filter", &[Raw("(x: x > 0)"), IntList]),
    ("lib.concatMap", "lib.concatMap", &[Raw("(x: [ x x ])"), IntList]),
    ("lib.flatten", "lib.flatten", &[NestedList]),
    ("lib.lists.remove", "lib.remove", &[Int, IntList]),
    ("lib.lists.findSingle", "lib.findSingle", &[Raw("(x: x > 5)"), Raw("\"none\""), Raw("\"many\""), IntList]),
    ("lib.lists.findFirstIndex", "lib.lists.findFirstIndex", &[Raw("(x: x > 2)"), Raw("null"), IntList]),
    ("lib.lists.findFirst", "lib.findFirst", &[Raw("(x: x > 2)"), Int, IntList]),
    ("lib.any", "lib.any", &[Raw("(x: x > 10)"), IntList]),
    ("lib.all", "lib.all", &[Raw("(x: x > -10)"), IntList]),
    ("lib.lists.count", "lib.count", &[Raw("(x: x > 0)"), IntList]),
    ("lib.optional", "lib.optional", &[Bool, Any]),
    ("lib.optionals", "lib.optionals", &[Bool, IntList]),
    ("lib.toList", "lib.toList", &[Any]),
    ("lib.lists.range", "lib.range", &[Int, Int]),
    ("lib.lists.replicate", "lib.lists.replicate", &[Nat, Word]),
    ("lib.lists.partition", "lib.partition", &[Raw("(x: x < 3)"), IntList]),
    ("lib.lists.zipListsWith", "lib.zipListsWith", &[Raw("(a: b: a + b)"), IntList, IntList]),
    ("lib.lists.zipLists", "lib.zipLists", &[IntList, StrList]),
    ("lib.reverseList", "lib.reverseList", &[IntList]),
    ("lib.lists.listDfs", "lib.listDfs", &[Bool, Pick(&["(a: b: a < b)", "(a: b: a == b + 1 || (a == 1 && b == 3))"]), Pick(&["[ 3 1 2 ]", "[ 1 2 3 4 ]", "[ 4 3 2 1 ]"])]),
    ("lib.toposort", "lib.toposort", &[Pick(&["(a: b: a < b)", "(a: b: a > b)", "(a: b: a == b + 1 || (a == 1 && b == 3))", "(a: b: a == 1)"]), IntList]),
    ("lib.sort", "lib.sort", &[Raw("(a: b: a < b)"), IntList]),
    ("lib.sortOn", "lib.sortOn", &[Pick(&["(x: -x)", "(x: x * x)"]), IntList]),
    ("lib.lists.naturalSort", "lib.naturalSort", &[Pick(&["[ \"a10\" \"a9\" \"a1\" \"b\" \"a01\" ]", "[ \"v1.10\" \"v1.9\" \"v1.10a\" ]", "[ ]"])]),
    ("lib.lists.compareLists", "lib.compareLists", &[Raw("lib.compare"), IntList, IntList]),
    ("lib.take", "lib.take", &[Nat, IntList]),
    ("lib.lists.takeEnd", "lib.takeEnd", &[Nat, IntList]),
    ("lib.drop", "lib.drop", &[Nat, IntList]),
    ("lib.lists.dropEnd", "lib.dropEnd", &[Nat, IntList]),
    ("lib.lists.hasPrefix", "lib.lists.hasPrefix", &[Pick(&["[ ]", "[ 1 ]", "[ 1 2 ]"]), Pick(&["[ 1 2 3 ]", "[ ]", "[ 2 ]"])]),
    ("lib.lists.removePrefix", "lib.lists.removePrefix", &[Pick(&["[ ]", "[ 1 ]", "[ 1 2 ]"]), Pick(&["[ 1 2 3 ]", "[ ]", "[ 2 ]"])]),
    ("lib.sublist", "lib.sublist", &[Nat, Nat, IntList]),
    ("lib.lists.commonPrefix", "lib.lists.commonPrefix", &[IntList, IntList]),
    ("lib.last", "lib.last", &[IntList]),
    ("lib.init", "lib.init", &[IntList]),
    ("lib.lists.crossLists", "lib.crossLists", &[Raw("(a: b: a * b)"), Pick(&["[ [ 1 2 ] [ 3 4 ] ]", "[ [ ] [ 1 ] ]"])]),
    ("lib.unique", "lib.unique", &[IntList]),
    ("lib.uniqueStrings", "lib.uniqueStrings", &[StrList]),
    ("lib.lists.allUnique", "lib.allUnique", &[IntList]),
    ("lib.lists.intersectLists", "lib.intersectLists", &[IntList, IntList]),
    ("lib.subtractLists", "lib.subtractLists", &[IntList, IntList]),
    ("lib.lists.mutuallyExclusive", "lib.mutuallyExclusive", &[IntList, IntList]),
    ("lib.lists.groupBy", "lib.groupBy", &[Raw("(x: if x > 0 then \"pos\" else \"neg\")"), IntList]),
    ("lib.lists.groupBy'", "lib.groupBy'", &[Raw("(a: b: a + b)"), Int, Raw("(x: if x > 0 then \"pos\" else \"neg\")"), IntList]),
    ("lib.concatLists", "lib.concatLists", &[Raw("[ [ 1 ] [ ] [ 2 3 ] ]")]),
    ("lib.genList", "lib.genList", &[Raw("(i: i * i)"), Nat]),
    ("lib.length", "lib.length", &[IntList]),
    ("lib.head", "lib.head", &[IntList]),
    ("lib.tail", "lib.tail", &[IntList]),
    ("lib.elem", "lib.elem", &[Int, IntList]),
    ("lib.elemAt", "lib.elemAt", &[IntList, Nat]),
    ("lib.isList", "lib.isList", &[Any]),
    ("lib.concatAttrValues", "lib.concatAttrValues", &[Raw("{ a = [ 1 ]; b = [ 2 3 ]; c = [ ]; }")]),
    ("lib.lists.replaceElemAt", "lib.replaceElemAt", &[IntList, Nat, Int]),
    // strings
    ("lib.concatStrings", "lib.concatStrings", &[StrList]),
    ("lib.concatMapStrings", "lib.concatMapStrings", &[Raw("(x: x + \"!\")"), StrList]),
    ("lib.strings.concatImapStrings", "lib.concatImapStrings", &[Raw("(i: x: \"${toString i}${x}\")"), StrList]),
    ("lib.stringLength", "lib.stringLength", &[Str]),
    ("lib.substring", "lib.substring", &[Nat, Pick(&["2", "(-1)", "0"]), Str]),
    ("lib.isString", "lib.isString", &[Any]),
    ("lib.strings.replaceString", "lib.replaceString", &[Pick(&["\"a\"", "\"\"", "\"ab\""]), Word, Str]),
    ("lib.strings.intersperse", "lib.intersperse", &[Word, StrList]),
    ("lib.concatStringsSep", "lib.concatStringsSep", &[Str, StrList]),
    ("lib.join", "lib.join", &[Str, StrList]),
    ("lib.concatMapStringsSep", "lib.concatMapStringsSep", &[Str, Raw("(x: \"<\" + x + \">\")"), StrList]),
    ("lib.concatMapAttrsStringSep", "lib.concatMapAttrsStringSep", &[Str, Raw("(n: v: \"${n}=${toString v}\")"), Attrs]),
    ("lib.strings.concatImapStringsSep", "lib.concatImapStringsSep", &[Str, Raw("(i: x: \"${toString i}${x}\")"), StrList]),
    ("lib.strings.concatLines", "lib.concatLines", &[StrList]),
    ("lib.strings.replicate", "lib.strings.replicate", &[Nat, Word]),
    ("lib.strings.trim", "lib.strings.trim", &[Str]),
    ("lib.strings.trimWith", "lib.strings.trimWith", &[Pick(&["{ }", "{ start = true; }", "{ end = true; }", "{ start = true; end = true; }"]), Pick(&["\" \\t a b \\n\"", "\"   \"", "\"\"", "\"x\"", "\"\\n\\nq r\""])]),
    ("lib.strings.normalizePath", "lib.strings.normalizePath", &[Str]),
    ("lib.strings.makeSearchPath", "lib.makeSearchPath", &[Word, Raw("[ \"/a\" null \"/b/c\" ]")]),
    ("lib.strings.makeSearchPathOutput", "lib.makeSearchPathOutput", &[Pick(&["\"bin\"", "\"lib\""]), Word, Raw("[ { out = \"/o\"; bin = \"/b\"; } { out = \"/o2\"; } ]")]),
    ("lib.makeBinPath", "lib.makeBinPath", &[Pick(&["[ ]", "[ { out = \"/o\"; bin = \"/b\"; } \"/plain\" ]"])]),
    ("lib.strings.makeLibraryPath", "lib.makeLibraryPath", &[Raw("[ { out = \"/o\"; lib = \"/l\"; } ]")]),
    ("lib.strings.makeIncludePath", "lib.makeIncludePath", &[Raw("[ { out = \"/o\"; dev = \"/d\"; } ]")]),
    ("lib.optionalString", "lib.optionalString", &[Bool, Str]),
    ("lib.hasInfix", "lib.hasInfix", &[Pick(&["\"a\"", "\"\"", "\"b.\"", "\"$\"", "\"x*\""]), Str]),
    ("lib.hasPrefix", "lib.hasPrefix", &[Word, Word]),
    ("lib.hasSuffix", "lib.hasSuffix", &[Word, Word]),
    ("lib.stringToCharacters", "lib.stringToCharacters", &[Str]),
    ("lib.strings.stringAsChars", "lib.stringAsChars", &[Raw("(c: if c == \"a\" then \"A\" else c)"), Str]),
    ("lib.strings.escape", "lib.escape", &[Raw("[ \"a\" \"$\" ]"), Str]),
    ("lib.strings.escapeC", "lib.strings.escapeC", &[Raw("[ \" \" \"a\" ]"), Str]),
    ("lib.strings.escapeURL", "lib.escapeURL", &[Str]),
    ("lib.escapeShellArg", "lib.escapeShellArg", &[Str]),
    ("lib.escapeShellArgs", "lib.escapeShellArgs", &[StrList]),
    ("lib.strings.isValidPosixName", "lib.isValidPosixName", &[Word]),
    ("lib.strings.toShellVar", "lib.toShellVar", &[Pick(&["\"x\"", "\"1x\"", "\"A_b\""]), Pick(&["\"v\"", "[ \"a b\" \"c\" ]", "{ k = \"v w\"; }", "1"])]),
    ("lib.strings.toShellVars", "lib.toShellVars", &[Raw("{ a = \"x y\"; b = [ \"1\" ]; }")]),
    ("lib.strings.escapeNixString", "lib.strings.escapeNixString", &[Str]),
    ("lib.escapeRegex", "lib.escapeRegex", &[Str]),
    ("lib.strings.escapeNixIdentifier", "lib.strings.escapeNixIdentifier", &[Pick(&["\"a\"", "\"if\"", "\"1x\"", "\"x-y'\"", "\"a b\"", "\"\"", "\"_\""])]),
    ("lib.strings.escapeXML", "lib.escapeXML", &[Str]),
    ("lib.strings.toLower", "lib.toLower", &[Str]),
    ("lib.toUpper", "lib.toUpper", &[Str]),
    ("lib.toSentenceCase", "lib.toSentenceCase", &[Pick(&["\"hello World\"", "\"\"", "\"a\"", "\"ÉCOLE\"", "1"])]),
    ("lib.strings.toCamelCase", "lib.toCamelCase", &[Pick(&["\"hello-world\"", "\"foo_bar baz\"", "\"fooBar-baz\"", "\"\"", "\"--x\"", "\"HTTPServer\""])]),
    ("lib.typeOf", "lib.typeOf", &[Any]),
    ("lib.addContextFrom", "lib.addContextFrom", &[Pick(&["\"plain\"", "\"${builtins.toFile \"x\" \"y\"}\""]), Word]),
    ("lib.splitString", "lib.splitString", &[Pick(&["\".\"", "\"a\"", "\"/\"", "\"ab\""]), Str]),
    ("lib.strings.splitStringBy", "lib.strings.splitStringBy", &[Pick(&["(p: c: c == \"-\")", "(p: c: p == \"a\")"]), Bool, Str]),
    ("lib.removePrefix", "lib.removePrefix", &[Word, Word]),
    ("lib.removeSuffix", "lib.removeSuffix", &[Word, Word]),
    ("lib.versionOlder", "lib.versionOlder", &[Version, Version]),
    ("lib.versionAtLeast", "lib.versionAtLeast", &[Version, Version]),
    ("lib.strings.getName", "lib.getName", &[Pick(&["\"hello-2.12.1\"", "\"hello\"", "{ pname = \"p\"; name = \"n-1\"; }", "{ name = \"n-1.0\"; }"])]),
    ("lib.strings.getVersion", "lib.getVersion", &[Pick(&["\"hello-2.12.1\"", "\"hello\"", "{ version = \"3\"; name = \"n-1\"; }", "{ name = \"n-1.0\"; }"])]),
    ("lib.strings.nameFromURL", "lib.nameFromURL", &[Pick(&["\"http://x/y/foo-1.2.tar.gz\"", "\"foo\""]), Pick(&["\"-\"", "\".\""])]),
    ("lib.strings.cmakeOptionType", "lib.cmakeOptionType", &[Pick(&["\"bool\"", "\"string\"", "\"weird\""]), Word, Word]),
    ("lib.strings.cmakeBool", "lib.cmakeBool", &[Word, Bool]),
    ("lib.strings.cmakeFeature", "lib.cmakeFeature", &[Word, Word]),
    ("lib.strings.mesonOption", "lib.mesonOption", &[Word, Word]),
    ("lib.strings.mesonBool", "lib.mesonBool", &[Word, Bool]),
    ("lib.strings.mesonEnable", "lib.mesonEnable", &[Word, Bool]),
    ("lib.strings.enableFeature", "lib.enableFeature", &[Bool, Word]),
    ("lib.strings.enableFeatureAs", "lib.enableFeatureAs", &[Bool, Word, Word]),
    ("lib.strings.withFeature", "lib.withFeature", &[Bool, Word]),
    ("lib.strings.withFeatureAs", "lib.withFeatureAs", &[Bool, Word, Word]),
    ("lib.strings.fixedWidthString", "lib.fixedWidthString", &[Nat, Pick(&["\"0\"", "\"ab\""]), Word]),
    ("lib.strings.fixedWidthNumber", "lib.fixedWidthNumber", &[Nat, Nat]),
    ("lib.strings.floatToString", "lib.strings.floatToString", &[Float]),
    ("lib.strings.isConvertibleWithToString", "lib.strings.isConvertibleWithToString", &[Any]),
    ("lib.strings.isStringLike", "lib.strings.isStringLike", &[Any]),
    ("lib.isStorePath", "lib.isStorePath", &[Pick(&["\"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x\"", "\"/nix/store\"", "\"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x/bin\"", "\"x\"", "1", "{ outPath = \"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-y\"; }"])]),
    ("lib.strings.toInt", "lib.toInt", &[Pick(&["\"42\"", "\" -7 \"", "\"010\"", "\"0\"", "\"1.5\"", "\"x\"", "\"-0\""])]),
    ("lib.strings.toIntBase10", "lib.toIntBase10", &[Pick(&["\"42\"", "\" -7 \"", "\"010\"", "\"000\"", "\"1.5\"", "\"x\""])]),
    ("lib.strings.fileContents", "lib.fileContents", &[Pick(&["@T@/b.txt", "@T@/a.nix"])]),
    ("lib.strings.sanitizeDerivationName", "lib.strings.sanitizeDerivationName", &[Str]),
    ("lib.strings.charToInt", "lib.strings.charToInt", &[Pick(&["\"a\"", "\" \"", "\"~\"", "\"\\n\"", "\"\\t\"", "\"é\"", "\"\\\"\""])]),
    ("lib.strings.levenshtein", "lib.strings.levenshtein", &[Word, Word]),
    ("lib.strings.levenshteinAtMost", "lib.strings.levenshteinAtMost", &[Pick(&["0", "1", "2", "3"]), Word, Word]),
    ("lib.strings.commonPrefixLength", "lib.strings.commonPrefixLength", &[Word, Word]),
    ("lib.strings.commonSuffixLength", "lib.strings.commonSuffixLength", &[Word, Word]),
    ("lib.hasContext", "lib.hasContext", &[Pick(&["\"x\"", "\"${builtins.toFile \"x\" \"y\"}\""])]),
    // stringsWithDeps
    ("lib.stringAfter", "lib.stringAfter", &[StrList, Word]),
    ("lib.stringsWithDeps.textClosureMap", "lib.textClosureMap", &[Raw("(x: x)"), Raw("{ a = lib.stringAfter [ \"b\" ] \"A\"; b = lib.noDepEntry \"B\"; c = lib.fullDepEntry \"C\" [ \"a\" \"b\" ]; }"), Pick(&["[ \"c\" ]", "[ \"a\" \"c\" ]", "[ (lib.packEntry [ \"b\" ]) ]"])]),
    // versions
    ("lib.versions.major", "lib.versions.major", &[Version]),
    ("lib.versions.minor", "lib.versions.minor", &[Version]),
    ("lib.versions.patch", "lib.versions.patch", &[Version]),
    ("lib.versions.majorMinor", "lib.versions.majorMinor", &[Version]),
    ("lib.versions.pad", "lib.versions.pad", &[Nat, Version]),
    ("lib.splitVersion", "lib.splitVersion", &[Version]),
    // asserts
    ("lib.assertMsg", "lib.assertMsg", &[Bool, Word]),
    ("lib.asserts.assertOneOf", "lib.assertOneOf", &[Word, Word, Raw("[ \"foo\" \"bar\" ]")]),
    ("lib.asserts.assertEachOneOf", "lib.asserts.assertEachOneOf", &[Word, StrList, Raw("[ \"foo\" \"bar\" \"a\" ]")]),
    ("lib.asserts.checkAssertWarn", "lib.asserts.checkAssertWarn", &[Pick(&["[ ]", "[ { assertion = false; message = \"m\"; } ]", "[ { assertion = true; message = \"m\"; } ]"]), StrList, Int]),
    // debug
    ("lib.trace", "lib.trace", &[Word, Int]),
    ("lib.addErrorContext", "lib.addErrorContext", &[Word, Int]),
    ("lib.unsafeGetAttrPos", "lib.unsafeGetAttrPos", &[Pick(&["\"a\"", "\"q\""]), Raw("{ x = 1;\n a = 2; }")]),
    ("lib.debug.traceIf", "lib.traceIf", &[Bool, Word, Int]),
    ("lib.debug.traceVal", "lib.traceVal", &[Any]),
    ("lib.debug.traceSeq", "lib.traceSeq", &[Any, Int]),
    ("lib.debug.traceSeqN", "lib.traceSeqN", &[Nat, NestedAttrs, Int]),
    ("lib.debug.traceValSeqN", "lib.traceValSeqN", &[Nat, NestedAttrs]),
    ("lib.debug.traceFnSeqN", "lib.traceFnSeqN", &[Nat, Word, Raw("(x: x // { z = 1; })"), Attrs]),
    ("lib.debug.runTests", "lib.runTests", &[Pick(&["{ testA = { expr = 1; expected = 1; }; testB = { expr = 2; expected = 3; }; other = { expr = 1; expected = 2; }; }", "{ tests = [ \"other\" ]; other = { expr = 1; expected = 2; }; testB = { expr = 2; expected = 3; }; }"])]),
    ("lib.debug.testAllTrue", "lib.testAllTrue", &[Raw("[ true false ]")]),
    // generators
    ("lib.generators.toPretty", "lib.generators.toPretty", &[Pick(&["{ }", "{ multiline = false; }", "{ allowPrettyValues = true; }", "{ indent = \"  \"; }"]), Any]),
    ("lib.generators.withRecursion", "lib.generators.withRecursion", &[Pick(&["{ depthLimit = 1; }", "{ depthLimit = 2; throwOnDepthLimit = false; }", "{ depthLimit = 0; throwOnDepthLimit = false; }"]), NestedAttrs]),
    ("lib.generators.mkValueStringDefault", "lib.generators.mkValueStringDefault { }", &[Pick(&["1", "\"s\"", "true", "null", "1.5", "[ ]", "{ }", "(x: x)", "{ type = \"derivation\"; outPath = \"/o\"; }"])]),
    ("lib.generators.mkKeyValueDefault", "lib.generators.mkKeyValueDefault { }", &[Pick(&["\"=\"", "\":\""]), Pick(&["\"a=b\"", "\"k\""]), Pick(&["1", "\"v\"", "false"])]),
    ("lib.generators.toKeyValue", "lib.generators.toKeyValue", &[Pick(&["{ }", "{ listsAsDuplicateKeys = true; }", "{ indent = \"\\t\"; }"]), Pick(&["{ a = 1; b = \"x\"; }", "{ a = [ 1 2 ]; }", "{ }"])]),
    ("lib.generators.toINI", "lib.generators.toINI", &[Pick(&["{ }", "{ listsAsDuplicateKeys = true; }"]), Pick(&["{ sec = { a = 1; b = \"x\"; }; \"o[k]\" = { }; }", "{ s = { l = [ 1 2 ]; }; }"])]),
    ("lib.generators.toINIWithGlobalSection", "lib.generators.toINIWithGlobalSection { }", &[Pick(&["{ globalSection = { a = 1; }; sections = { s = { b = 2; }; }; }", "{ globalSection = { }; }"])]),
    ("lib.generators.toGitINI", "lib.generators.toGitINI", &[Pick(&["{ user = { name = \"x\\ty\"; email = \"q\"; }; }", "{ url.\"git@github.com:\".insteadOf = \"https://github.com/\"; core.x = [ true 1 ]; }", "{ a.b.c.d = 1; a.e = \"s\"; }"])]),
    ("lib.generators.toJSON", "lib.generators.toJSON { }", &[NestedAttrs]),
    ("lib.generators.toYAML", "lib.generators.toYAML { }", &[NestedAttrs]),
    ("lib.generators.toDhall", "lib.generators.toDhall { }", &[Pick(&["{ a = 1; b = [ true (-2) ]; c = \"s\"; }", "null", "[ ]"])]),
    ("lib.generators.toLua", "lib.generators.toLua", &[Pick(&["{ }", "{ multiline = false; }", "{ asBindings = true; }"]), Pick(&["{ a = 1; b = [ true null \"s\" ]; c = lib.mkLuaInline \"f()\"; }", "{ \"x.y\" = { }; z = [ ]; }", "{ \"bad name\" = 1; }"])]),
    ("lib.mkLuaInline", "lib.mkLuaInline", &[Word]),
    // meta
    ("lib.meta.availableOn", "lib.meta.availableOn", &[Pick(PLATFORMS), Drv]),
    ("lib.meta.platformMatch", "lib.meta.platformMatch", &[Pick(PLATFORMS), Pick(&["\"x86_64-linux\"", "{ kernel.name = \"linux\"; }", "{ parsed.cpu.name = \"aarch64\"; }"])]),
    ("lib.getExe", "lib.getExe", &[Drv]),
    ("lib.getExe'", "lib.getExe'", &[Drv, Pick(&["\"tool\"", "\"a/b\"", "1"])]),
    ("lib.meta.addMetaAttrs", "lib.addMetaAttrs", &[Raw("{ x = 1; }"), Pick(&["{ meta = { y = 2; }; }", "{ }"])]),
    ("lib.meta.setPrio", "lib.setPrio", &[Int, Raw("{ a = 1; }")]),
    ("lib.meta.lowPrio", "lib.lowPrio", &[Raw("{ a = 1; }")]),
    ("lib.meta.hiPrio", "lib.hiPrio", &[Raw("{ meta.priority = 3; }")]),
    ("lib.meta.lowPrioSet", "lib.lowPrioSet", &[Raw("{ a = { type = \"derivation\"; }; b = 1; }")]),
    ("lib.meta.appendToName", "lib.appendToName", &[Word, Raw("{ name = \"foo-1.0\"; }")]),
    ("lib.meta.setName", "lib.setName", &[Word, Attrs]),
    ("lib.meta.dontDistribute", "lib.dontDistribute", &[Attrs]),
    ("lib.meta.getLicenseFromSpdxIdOr", "lib.getLicenseFromSpdxIdOr", &[Pick(&["\"MIT\"", "\"mit\"", "\"apache-2.0\"", "\"Nope\""]), Raw("null")]),
    // licenses, systems, maintainers
    ("lib.licenses.mit", "lib.licenses.mit", &[]),
    ("lib.licenses.apsl20", "lib.licenses.apsl20", &[]),
    ("lib.licenses.asl20", "(l: [ l.asl20 l.gpl3Only l.bsd3 l.unfree l.free l.publicDomain l.mpl20 l.unfreeRedistributable ])", &[Raw("lib.licenses")]),
    ("lib.licenses.toSPDX", "lib.licenses.toSPDX", &[Pick(&["lib.licenses.mit", "(lib.licenses.OR [ lib.licenses.mit (lib.licenses.AND [ lib.licenses.asl20 lib.licenses.free ]) ])", "(lib.licenses.PLUS lib.licenses.gpl2Only)", "(lib.licenses.WITH lib.licenses.gpl2Only lib.licenses.mit)"])]),
    ("lib.licenses.isFree", "lib.licenses.isFree", &[Pick(&["lib.licenses.mit", "lib.licenses.unfree", "(lib.licenses.OR [ lib.licenses.mit lib.licenses.unfree ])", "(lib.licenses.AND [ lib.licenses.mit lib.licenses.unfree ])"])]),
    ("lib.maintainers.drupol", "lib.maintainers.drupol", &[]),
    ("lib.platforms.linux", "lib.platforms.linux", &[]),
    ("lib.platforms.darwin", "lib.platforms.darwin", &[]),
    ("lib.platforms.unix", "lib.platforms.unix", &[]),
    ("lib.systems.doubles", "(d: builtins.removeAttrs d [ \"gnu\" \"bigEndian\" \"littleEndian\" ])", &[Raw("lib.systems.doubles")]),
    ("lib.systems.flakeExposed", "lib.systems.flakeExposed", &[]),
    // path, filesystem, sources, fileset
    ("lib.path.hasStorePathPrefix", "lib.path.hasStorePathPrefix", &[Pick(&["/nix/store/0123456789abcdfghijklmnpqrsvwxyz-foo/bar", "/nix/store", "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-foo.drv", "/home/user", "\"/nix/store/x\"", "/nix/store/.links/10gg8k3rmbw8p7gszarbk7qyd9jwxhcfq9i6s5i0qikx8alkk4hq"])]),
    ("lib.path.append", "lib.path.append", &[Pick(&["/a", "\"/a\""]), Pick(&["\"b/c\"", "\"./b\"", "\"/b\"", "\"b/../c\"", "\"\""])]),
    ("lib.path.hasPrefix", "lib.path.hasPrefix", &[Pick(&["/a", "/a/b", "/", "\"/a\""]), Pick(&["/a/b/c", "/a", "/x"])]),
    ("lib.path.removePrefix", "lib.path.removePrefix", &[Pick(&["/a", "/a/b", "/"]), Pick(&["/a/b/c", "/a", "/x"])]),
    ("lib.path.splitRoot", "lib.path.splitRoot", &[Pick(&["/a/b", "/", "\"/a\""])]),
    ("lib.path.subpath.join", "lib.path.subpath.join", &[Pick(&["[ ]", "[ \"a\" \"./b/\" \"c//d\" ]", "[ \"a\" \"/b\" ]", "[ \".\" ]"])]),
    ("lib.path.subpath.components", "lib.path.subpath.components", &[Pick(&["\"a/b\"", "\"./a//b/./c/\"", "\".\"", "\"../a\"", "\"\"", "\".a/..b\""])]),
    ("lib.path.subpath.normalise", "lib.path.subpath.normalise", &[Pick(&["\"a/b\"", "\"./a//b/./c/\"", "\".\"", "\"a/..\""])]),
    ("lib.path.subpath.isValid", "lib.path.subpath.isValid", &[Pick(&["\"a/b\"", "\"/a\"", "\"\"", "1", "\"a/../b\"", "\"..a\""])]),
    ("lib.isPath", "lib.isPath", &[Any]),
    ("lib.pathType", "lib.pathType", &[Path]),
    ("lib.filesystem.pathIsDirectory", "lib.pathIsDirectory", &[Path]),
    ("lib.filesystem.pathIsRegularFile", "lib.pathIsRegularFile", &[Path]),
    ("lib.filesystem.listFilesRecursive", "lib.filesystem.listFilesRecursive", &[Pick(&["@T@", "@T@/sub", "@T@/empty", "@T@/missing"])]),
    ("lib.filesystem.locateDominatingFile", "lib.filesystem.locateDominatingFile", &[Pick(&["\"c\\\\.nix\"", "\"(a)\\\\.nix\"", "\"nothing-matches\""]), Pick(&["@T@/sub/deeper/e.md", "@T@/sub/deeper", "@T@/sub"])]),
    ("lib.filesystem.haskellPathsInDir", "lib.filesystem.haskellPathsInDir", &[Raw("@T@")]),
    ("lib.cleanSource", "(s: { inherit (s) outPath name; })", &[Pick(&["(lib.cleanSource @T@)", "(lib.cleanSource @T@/sub)", "(lib.cleanSource (lib.cleanSource @T@))"])]),
    ("lib.sources.cleanSourceWith", "(s: { inherit (s) outPath name; })", &[Pick(&["(lib.cleanSourceWith { src = @T@; filter = p: t: t == \"directory\" || lib.hasSuffix \".nix\" p; name = \"n\"; })", "(lib.cleanSourceWith { src = lib.cleanSource @T@; })"])]),
    ("lib.sources.sourceByRegex", "(s: s.outPath)", &[Pick(&["(lib.sourceByRegex @T@ [ \".*\\\\.nix\" \"sub\" ])", "(lib.sourceByRegex @T@ [ ])"])]),
    ("lib.sources.sourceFilesBySuffices", "(s: s.outPath)", &[Pick(&["(lib.sourceFilesBySuffices @T@ [ \".md\" ])", "(lib.sourceFilesBySuffices @T@/sub [ \".nix\" \".o\" ])"])]),
    ("lib.sources.commitIdFromGitRepo", "lib.commitIdFromGitRepo", &[Pick(&["@T@/.git", "@T@/sub"])]),
    ("lib.sources.pathIsGitRepo", "lib.pathIsGitRepo", &[Pick(&["@T@/.git", "@T@/sub"])]),
    ("lib.sources.canCleanSource", "lib.canCleanSource", &[Pick(&["@T@", "\"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x\"", "(lib.cleanSource @T@)"])]),
    ("lib.sources.urlToName", "lib.sources.urlToName", &[Pick(&["\"https://x.org/a/foo.tar.gz\"", "\"git@github.com:o/r.git\"", "\"https://x/y/\""])]),
    ("lib.sources.shortRev", "lib.sources.shortRev", &[Pick(&["\"0123456789abcdef\"", "\"v1.2.3\"", "\"release-2.0\"", "\"main\""])]),
    ("lib.sources.repoRevToName", "lib.repoRevToName", &[Pick(&["\"source\"", "\"versioned\"", "\"full\"", "\"x\""]), Raw("\"https://x.org/a/foo.tar.gz\""), Pick(&["null", "\"v1.0\""]), Pick(&["null", "\"s\""])]),
    ("lib.sources.revOrTag", "lib.revOrTag", &[Pick(&["null", "\"r\""]), Pick(&["null", "\"t\""])]),
    ("lib.fileset.empty", "lib.fileset.toList", &[Raw("lib.fileset.empty")]),
    ("lib.fileset.isFileset", "lib.fileset.isFileset", &[Pick(&["lib.fileset.empty", "@T@", "@T@/missing", "\"@T@\"", "1", "(lib.fileset.unions [ @T@/a.nix ])"])]),
    ("lib.fileset.maybeMissing", "lib.fileset.toList", &[Pick(&["(lib.fileset.maybeMissing @T@/missing)", "(lib.fileset.maybeMissing @T@/sub)", "(lib.fileset.maybeMissing \"x\")", "(lib.fileset.maybeMissing @T@/a.nix)"])]),
    ("lib.fileset.unions", "lib.fileset.toList", &[Pick(&["(lib.fileset.unions [ ])", "(lib.fileset.unions [ @T@/a.nix @T@/sub/c.nix ])", "(lib.fileset.unions [ @T@/sub @T@/sub/deeper/e.md lib.fileset.empty ])", "(lib.fileset.unions [ @T@/missing ])", "(lib.fileset.unions @T@)"])]),
    ("lib.fileset.union", "lib.fileset.toList", &[Pick(&["(lib.fileset.union @T@/a.nix @T@/sub/deeper)", "(lib.fileset.union lib.fileset.empty @T@/b.txt)"])]),
    ("lib.fileset.intersection", "lib.fileset.toList", &[Pick(&["(lib.fileset.intersection @T@ @T@/sub/c.nix)", "(lib.fileset.intersection @T@/a.nix @T@/sub)", "(lib.fileset.intersection (lib.fileset.unions [ @T@/a.nix @T@/sub ]) (lib.fileset.unions [ @T@/sub/deeper @T@/b.txt ]))"])]),
    ("lib.fileset.difference", "lib.fileset.toList", &[Pick(&["(lib.fileset.difference @T@ @T@/sub)", "(lib.fileset.difference @T@/sub @T@)", "(lib.fileset.difference @T@/sub @T@/a.nix)", "(lib.fileset.difference @T@/sub/c.nix lib.fileset.empty)"])]),
    ("lib.fileset.fileFilter", "lib.fileset.toList", &[Pick(&["(lib.fileset.fileFilter (f: f.hasExt \"nix\") @T@)", "(lib.fileset.fileFilter ({ name, ... }: name == \"e.md\") @T@/sub)", "(lib.fileset.fileFilter (f: true) @T@/b.txt)", "(lib.fileset.fileFilter ({ name, type, hasExt }: true) @T@)", "(lib.fileset.fileFilter 1 @T@)"])]),
    ("lib.fileset.fromSource", "lib.fileset.toList", &[Pick(&["(lib.fileset.fromSource (lib.cleanSource @T@))", "(lib.fileset.fromSource @T@/sub)", "(lib.fileset.fromSource (lib.sourceByRegex @T@ [ \"sub\" \"sub/c.nix\" ]))"])]),
    ("lib.fileset.toSource", "(s: s.outPath)", &[Pick(&["(lib.fileset.toSource { root = @T@; fileset = lib.fileset.unions [ @T@/a.nix @T@/sub/c.nix ]; })", "(lib.fileset.toSource { root = @T@; fileset = @T@/sub; })", "(lib.fileset.toSource { root = @T@/sub; fileset = @T@/a.nix; })", "(lib.fileset.toSource { root = @T@; fileset = lib.fileset.empty; })", "(lib.fileset.toSource { root = @T@; fileset = lib.fileset.difference @T@/sub @T@/sub/deeper/e.md; })", "(lib.fileset.toSource { root = @T@/a.nix; fileset = @T@/a.nix; })", "(lib.fileset.toSource { root = @T@; fileset = lib.fileset.fileFilter (f: f.hasExt \"nix\") @T@; })"])]),
    ("lib.fileset.trace", "(f: f 1)", &[Raw("(lib.fileset.trace @T@/sub)")]),
    // cli, flakes, sourceTypes, derivations
    ("lib.cli.toCommandLine", "lib.cli.toCommandLine", &[Pick(&["(n: { option = \"--${n}\"; sep = null; explicitBool = false; })", "(n: { option = \"-${n}\"; sep = \"=\"; explicitBool = true; formatArg = builtins.toJSON; })"]), Pick(CLI_OPTIONS)]),
    ("lib.cli.toCommandLineShell", "lib.cli.toCommandLineShell", &[Raw("(n: { option = \"--${n}\"; sep = null; explicitBool = false; })"), Pick(CLI_OPTIONS)]),
    ("lib.cli.toCommandLineGNU", "lib.cli.toCommandLineGNU", &[Pick(&["{ }", "{ explicitBool = true; }", "{ isLong = n: true; }"]), Pick(CLI_OPTIONS)]),
    ("lib.cli.toCommandLineShellGNU", "lib.cli.toCommandLineShellGNU", &[Raw("{ }"), Pick(CLI_OPTIONS)]),
    ("lib.cli.toGNUCommandLine", "lib.cli.toGNUCommandLine", &[Pick(&["{ }", "{ optionValueSeparator = \"=\"; }"]), Pick(CLI_OPTIONS)]),
    ("lib.cli.toGNUCommandLineShell", "lib.cli.toGNUCommandLineShell", &[Raw("{ }"), Pick(CLI_OPTIONS)]),
    ("lib.flakes.parseFlakeRef", "lib.parseFlakeRef", &[Pick(&["\"github:NixOS/nixpkgs/nixos-unstable\"", "\"path:/x\""])]),
    ("lib.flakes.flakeRefToString", "lib.flakeRefToString", &[Raw("{ type = \"github\"; owner = \"o\"; repo = \"r\"; }")]),
    ("lib.sourceTypes", "lib.sourceTypes", &[]),
    ("lib.derivations.lazyDerivation", "(d: builtins.attrNames d)", &[Pick(&["(lib.lazyDerivation { derivation = x; })", "(lib.lazyDerivation { derivation = x; outputs = [ \"out\" \"dev\" ]; passthru.p = 1; })"])]),
    ("lib.derivations.lazyDerivation", "(d: { inherit (d) name outPath; })", &[Pick(&["(lib.lazyDerivation { derivation = { type = \"derivation\"; outputs = [ \"out\" ]; name = \"n\"; outPath = \"/o\"; }; })", "(lib.lazyDerivation { derivation = { type = \"derivation\"; outputs = [ \"out\" \"x\" ]; name = \"n\"; outPath = \"/o\"; }; })"])]),
    ("lib.derivations.optionalDrvAttr", "lib.optionalDrvAttr", &[Bool, Any]),
    ("lib.derivations.warnOnInstantiate", "lib.warnOnInstantiate", &[Word, Raw("{ type = \"derivation\"; name = \"n\"; outPath = \"/o\"; meta = { }; }")]),
];

const CLI_OPTIONS: &[&str] = &[
    "{ a = true; bb = \"x y\"; c = [ 1 2 ]; d = null; e = false; }",
    "{ \"\" = 1; }",
    "{ long = [ true false ]; s = 1.5; }",
];

/// Whole expressions checking what is (not) forced: `x` throws when forced.
#[rustfmt::skip]
const LAZINESS: &[(&str, &str, &[Arg])] = &[
    ("lib.optionalAttrs", "lib.optionalAttrs false x", &[]),
    ("lib.optional", "lib.optional false x", &[]),
    ("lib.optionals", "lib.optionals false x", &[]),
    ("lib.optionalString", "lib.optionalString false x", &[]),
    ("lib.foldr", "lib.foldr (y: acc: y) x [ 1 ]", &[]),
    ("lib.lists.foldl", "lib.foldl (acc: y: y) x [ 1 ]", &[]),
    ("lib.foldl'", "lib.foldl' (acc: y: y) x [ ]", &[]),
    ("lib.foldl'", "lib.foldl' (acc: y: y) 0 [ x 1 ]", &[]),
    ("lib.lists.findFirst", "lib.findFirst (y: y == 1) 0 [ 1 x ]", &[]),
    ("lib.lists.findFirstIndex", "lib.lists.findFirstIndex (y: y == 1) 0 [ 2 1 x ]", &[]),
    ("lib.lists.findSingle", "lib.findSingle (y: true) 0 1 [ x ]", &[]),
    ("lib.genAttrs", "(lib.genAttrs [ \"a\" ] (n: x)) ? a", &[]),
    ("lib.attrByPath", "builtins.isFunction (lib.attrByPath [ \"a\" ] 0 { a = y: x; })", &[]),
    ("lib.recursiveUpdate", "lib.recursiveUpdate { a = x; } { a = 1; }", &[]),
    ("lib.recursiveUpdate", "builtins.attrNames (lib.recursiveUpdate { a = x; } { b = 1; })", &[]),
    ("lib.filterAttrs", "lib.filterAttrs (n: v: n == \"a\") { a = 1; b = x; }", &[]),
    ("lib.zipAttrsWith", "lib.zipAttrsWith (n: vs: builtins.length vs) [ { a = x; } { a = x; b = x; } ]", &[]),
    ("lib.take", "lib.take 1 [ 1 x ]", &[]),
    ("lib.last", "lib.last [ x 2 ]", &[]),
    ("lib.init", "builtins.length (lib.init [ x x 2 ])", &[]),
    ("lib.toList", "lib.toList x", &[]),
    ("lib.flip", "lib.flip (a: b: a) x 1", &[]),
    ("lib.trivial.const", "lib.const 1 x", &[]),
    ("lib.setAttrByPath", "(lib.setAttrByPath [ \"a\" \"b\" ] x) ? a", &[]),
    ("lib.attrsets.hasAttrByPath", "lib.hasAttrByPath [ \"a\" \"b\" ] { a = x; }", &[]),
    ("lib.mapAttrsToList", "lib.mapAttrsToList (n: v: n) { a = x; }", &[]),
    ("lib.mapAttrs'", "builtins.attrNames (lib.mapAttrs' (n: v: lib.nameValuePair n x) { a = 1; })", &[]),
    ("lib.attrsets.attrsToList", "builtins.length (lib.attrsToList { a = x; })", &[]),
    ("lib.warnIf", "lib.warnIf false x 1", &[]),
    ("lib.throwIf", "lib.throwIf false x 1", &[]),
    ("lib.throwIfNot", "lib.throwIfNot true x 1", &[]),
    ("lib.attrsets.cartesianProduct", "builtins.length (lib.cartesianProduct { a = [ x x ]; b = [ 1 ]; })", &[]),
    ("lib.strings.intersperse", "builtins.length (lib.intersperse 0 [ x 1 ])", &[]),
    ("lib.sublist", "lib.sublist 0 1 [ 1 x ]", &[]),
    ("lib.reverseList", "builtins.length (lib.reverseList [ x 1 ])", &[]),
    ("lib.imap0", "lib.imap0 (i: v: i) [ x ]", &[]),
    ("lib.lists.zipListsWith", "lib.zipListsWith (a: b: a) [ 1 ] [ x ]", &[]),
    ("lib.lists.groupBy", "builtins.mapAttrs (k: builtins.length) (lib.groupBy (v: \"k\") [ x x ])", &[]),
    ("lib.attrsets.mergeAttrsList", "builtins.attrNames (lib.mergeAttrsList [ { a = x; } { b = 1; } ])", &[]),
    ("lib.attrsets.overrideExisting", "builtins.attrNames (lib.overrideExisting { a = 1; } { a = x; b = 2; })", &[]),
    ("lib.concatMapAttrs", "builtins.attrNames (lib.concatMapAttrs (n: v: { ${n} = x; }) { a = 1; })", &[]),
    ("lib.pipe", "lib.pipe 1 [ ]", &[]),
    ("lib.fix", "(lib.fix (self: { a = 1; b = x; c = self.a; })).c", &[]),
    ("lib.extends", "(lib.fix (lib.extends (f: p: { c = p.a; }) (self: { a = 1; b = x; }))).c", &[]),
    ("lib.isDerivation", "lib.isDerivation { type = x; }", &[]),
    ("lib.generators.toPretty", "lib.generators.toPretty { } { a = x; }", &[]),
    ("lib.nameValuePair", "(lib.nameValuePair \"n\" x).name", &[]),
    ("lib.getAttrFromPath", "lib.getAttrFromPath [ \"a\" ] { a = 1; b = x; }", &[]),
    ("lib.mapAttrs", "builtins.attrNames (lib.mapAttrs (n: v: x) { a = 1; })", &[]),
    ("lib.fileset.unions", "lib.fileset.isFileset (lib.fileset.unions [ x ])", &[]),
    ("lib.lists.crossLists", "builtins.length (lib.crossLists (a: x) [ [ 1 2 ] ])", &[]),
    ("lib.strings.splitStringBy", "lib.strings.splitStringBy (p: c: false) true \"\"", &[]),
];

/// A few calls through the module system supplied to our lib (nixpkgs'
/// modules.nix, options.nix and types.nix running on top of it): an
/// end-to-end check of the `moduleSystem` argument.
#[rustfmt::skip]
const MODULE_SYSTEM_CASES: &[(&str, &str, &[Arg])] = &[
    ("lib.evalModules", "(m: (lib.evalModules { modules = [ m ]; }).config)", &[Pick(&[
        "({ lib, config, ... }: { options.a = lib.mkOption { type = lib.types.int; default = 1; }; options.b = lib.mkOption { type = lib.types.listOf lib.types.str; }; config.b = [ (toString config.a) ]; config.a = lib.mkForce 4; })",
        "({ lib, ... }: { options.s = lib.mkOption { type = lib.types.attrsOf (lib.types.submodule { options.x = lib.mkOption { type = lib.types.bool; default = false; }; }); }; config.s.q.x = lib.mkIf true true; config.s.r = { }; })",
        "({ lib, ... }: { options.e = lib.mkEnableOption \"e\"; options.l = lib.mkOption { type = lib.types.lines; }; config.l = lib.mkMerge [ \"a\" (lib.mkBefore \"b\") ]; })",
        "({ lib, ... }: { options.p = lib.mkOption { type = lib.types.port; }; config.p = 70000; })",
    ])]),
    ("lib.types.str", "(t: [ t.name (t.check \"x\") (t.check 1) ])", &[Pick(&["lib.types.str", "lib.types.int", "(lib.types.nullOr lib.types.bool)", "(lib.types.enum [ \"a\" ])"])]),
    ("lib.showOption", "lib.showOption", &[AttrPath]),
];

/// Module sets for the option-module helpers, run through `evalModules` by
/// `run` (see [`program`]): each is a list of modules after `base`, which
/// declares `warnings` and `assertions`.
const OPTION_MODULE_SETS: &[&str] = &[
    r#"[ (lib.mkRenamedOptionModule [ "old" ] [ "new" ]) { options.new = lib.mkOption { type = lib.types.int; default = 0; }; } { old = 5; } ]"#,
    r#"[ (lib.mkRenamedOptionModule [ "old" ] [ "new" ]) { options.new = lib.mkOption { type = lib.types.int; default = 0; }; } ]"#,
    r#"[ (lib.mkRenamedOptionModule [ "old" ] [ "new" ]) { options.new = lib.mkOption { type = lib.types.int; }; } { old = lib.mkDefault 5; } { new = 7; } ]"#,
    r#"[ (lib.mkRenamedOptionModule [ "old" ] [ "new" ]) { options.new = lib.mkOption { type = lib.types.listOf lib.types.str; }; } { old = [ "a" ]; } { new = lib.mkBefore [ "b" ]; } ]"#,
    r#"[ (lib.mkRenamedOptionModule [ "a" "old" ] [ "b" "c" "new" ]) { options.b.c.new = lib.mkOption { type = lib.types.attrsOf lib.types.int; default = { }; }; } { a.old.x = 1; } { a.old = lib.mkIf true { y = 2; }; } ]"#,
    r#"[ (lib.mkRenamedOptionModule [ "old" ] [ "new" ]) { old = 5; } ]"#,
    r#"[ (lib.mkRenamedOptionModule [ "old" ] [ "new" ]) { options.new = lib.mkOption { type = lib.types.int; }; } { old = "str"; } ]"#,
    r#"[ (lib.mkRenamedOptionModuleWith { from = [ "old" ]; to = [ "new" ]; sinceRelease = 2305; }) { options.new = lib.mkOption { type = lib.types.int; default = 0; }; } { old = 5; } ]"#,
    r#"[ (lib.mkRenamedOptionModuleWith { from = [ "old" ]; to = [ "new" ]; sinceRelease = 2705; }) { options.new = lib.mkOption { type = lib.types.int; default = 0; }; } { old = 5; } ]"#,
    r#"[ (lib.mkAliasOptionModule [ "old" ] [ "new" ]) { options.new = lib.mkOption { type = lib.types.str; default = "d"; }; } { old = "v"; } ]"#,
    r#"[ (lib.mkAliasOptionModuleMD [ "old" ] [ "new" ]) { options.new = lib.mkOption { type = lib.types.str; default = "d"; }; } { old = lib.mkForce "v"; } { new = "w"; } ]"#,
    r#"[ (lib.mkAliasOptionModule [ "old" ] [ "sub" ]) { options.sub.x = lib.mkOption { type = lib.types.int; default = 1; }; } { old.x = 4; } ]"#,
    r#"[ (lib.mkRemovedOptionModule [ "old" ] "Use new instead.") { old = 1; } ]"#,
    r#"[ (lib.mkRemovedOptionModule [ "a" "old" ] "Gone.") ]"#,
    r#"[ (lib.mkChangedOptionModule [ "old" ] [ "new" ] (config: if config.old > 10 then "high" else "low")) { options.new = lib.mkOption { type = lib.types.str; default = "none"; }; } { old = 20; } ]"#,
    r#"[ (lib.mkChangedOptionModule [ "old" ] [ "new" ] (config: if config.old > 10 then "high" else "low")) { options.new = lib.mkOption { type = lib.types.str; default = "none"; }; } ]"#,
    r#"[ (lib.mkMergedOptionModule [ [ "a" ] [ "b" "c" ] ] [ "x" ] (config: "${toString config.a}-${toString config.b.c}")) { options.x = lib.mkOption { type = lib.types.str; default = "none"; }; } { b.c = 2; } ]"#,
    r#"[ (lib.doRename { from = [ "old" ]; to = [ "new" ]; visible = true; warn = true; use = x: x; withPriority = false; }) { options.new = lib.mkOption { type = lib.types.int; }; } { old = lib.mkDefault 1; } { new = 2; } ]"#,
    r#"[ (lib.doRename { from = [ "old" ]; to = [ "new" ]; visible = true; warn = true; use = x: x; }) { options.new = lib.mkOption { type = lib.types.int; }; } { old = lib.mkDefault 1; } ]"#,
    r#"[ (lib.doRename { from = [ "old" ]; to = [ "new" ]; visible = true; warn = false; use = x: x; condition = false; }) { options.new = lib.mkOption { type = lib.types.int; default = 3; }; } { old = 1; } ]"#,
    r#"[ ({ options, ... }: { options.x = lib.mkOption { type = lib.types.int; }; options.y = lib.mkOption { type = lib.types.int; default = 0; }; config.y = lib.mkAliasDefinitions options.x; }) { x = lib.mkDefault 3; } ]"#,
    r#"[ ({ options, ... }: { options.x = lib.mkOption { type = lib.types.int; }; options.y = lib.mkOption { type = lib.types.int; default = 0; }; config.y = lib.mkAliasDefinitions options.x; }) ]"#,
    r#"[ ({ options, ... }: { options.x = lib.mkOption { type = lib.types.int; }; options.y = lib.mkOption { type = lib.types.int; }; config.y = lib.modules.mkAliasAndWrapDefsWithPriority lib.id options.x; }) { x = lib.mkDefault 3; } { y = lib.mkOverride 1200 4; } ]"#,
    r#"[ ({ options, ... }: { options.x = lib.mkOption { type = lib.types.listOf lib.types.int; }; options.y = lib.mkOption { type = lib.types.listOf lib.types.int; }; config = lib.mkAliasAndWrapDefinitions (v: { y = v; }) options.x; }) { x = [ 1 ]; } { x = lib.mkAfter [ 2 ]; } ]"#,
    r#"[ ({ options, ... }: { options.x = lib.mkOption { type = lib.types.int; }; options.y = lib.mkOption { type = lib.types.int; default = 0; }; config.y = lib.modules.mkAliasIfDef options.x 5; }) { x = 1; } ]"#,
    r#"[ ({ options, ... }: { options.x = lib.mkOption { type = lib.types.int; default = 2; }; options.y = lib.mkOption { type = lib.types.int; }; config.y = lib.mkDerivedConfig options.x (v: v * 10); }) { y = lib.mkDefault 1; } ]"#,
    r#"[ ({ options, ... }: { options.x = lib.mkOption { type = lib.types.int; }; options.y = lib.mkOption { type = lib.types.int; }; config.y = lib.mkDerivedConfig options.x (v: v * 10); }) { x = lib.mkForce 2; } { y = 3; } ]"#,
    r#"[ (lib.modules.importApply @T@/apply.nix 5) ]"#,
    r#"[ (lib.modules.importApply @T@/apply.nix { a = 1; }) { applied.b = 2; } ]"#,
    r#"[ { freeformType = lib.types.attrsOf lib.types.anything; } (lib.modules.importJSON @T@/data.json) ]"#,
    r#"[ { freeformType = lib.types.attrsOf lib.types.anything; } (lib.modules.importTOML @T@/data.toml) ]"#,
    r#"[ (lib.setDefaultModuleLocation "/virtual/here.nix" { options.a = lib.mkOption { type = lib.types.int; }; }) (lib.setDefaultModuleLocation "/virtual/there.nix" { a = "no"; }) ]"#,
    r#"[ { options.s = lib.mkSinkUndeclaredOptions { }; } { s = 1; } ]"#,
    r#"[ { options.p = lib.mkPackageOption { hello = { type = "derivation"; name = "hello"; outPath = "/nix/store/h"; }; } "hello" { }; } ]"#,
    r#"[ { options.e = lib.mkEnableOption "the thing"; } { e = true; } ]"#,
];

/// Options with definitions for `mergeDefinitions` and `evalOptionValue`.
const OPTION_DECLS: &[&str] = &[
    "{ type = lib.types.int; }",
    "{ type = lib.types.int; default = 3; }",
    "{ type = lib.types.unspecified; }",
    "{ type = lib.types.listOf lib.types.int; default = [ 0 ]; apply = x: x ++ [ 9 ]; }",
    "{ type = lib.types.int; readOnly = true; default = 1; }",
    "{ type = lib.types.uniq lib.types.int; }",
    "{ type = lib.types.either lib.types.int lib.types.str; }",
    "{ type = lib.types.nullOr lib.types.int; }",
    "{ type = lib.types.lines; }",
];

/// Calls of the Nix parts of `lib.modules` and `lib.options` (the
/// native layer provides `evalModules`, the property constructors and the
/// types on both sides). `defs`, `run` and `probe` are defined by
/// [`program`].
#[rustfmt::skip]
const MODULE_CASES: &[(&str, &str, &[Arg])] = &[
    // Option modules, aliases and imports through evalModules.
    ("lib.mkRenamedOptionModule", "run", &[Pick(OPTION_MODULE_SETS)]),
    ("lib.modules.mkRenamedOptionModuleWith", "run", &[Pick(&[r#"[ (lib.mkRenamedOptionModuleWith { from = [ "o" ]; to = [ "n" ]; sinceRelease = 2311; }) { options.n = lib.mkOption { default = 1; }; } { o = 2; } ]"#])]),
    ("lib.doRename", "run", &[Pick(&[r#"[ (lib.doRename { from = [ "o" ]; to = [ "n" ]; visible = false; warn = true; use = builtins.trace "used"; }) { options.n = lib.mkOption { default = 1; }; } { o = lib.mkForce 2; } { n = 3; } ]"#])]),
    ("lib.mkAliasOptionModule", "run", &[Pick(&[r#"[ (lib.mkAliasOptionModule [ "o" ] [ "n" ]) { options.n = lib.mkOption { }; } { o = 1; } ]"#])]),
    ("lib.mkAliasOptionModuleMD", "run", &[Pick(&[r#"[ (lib.mkAliasOptionModuleMD [ "o" ] [ "n" ]) { options.n = lib.mkOption { }; } { o = 1; } ]"#])]),
    ("lib.mkRemovedOptionModule", "run", &[Pick(&[r#"[ (lib.mkRemovedOptionModule [ "o" ] "Why.") { o = 1; } ]"#])]),
    ("lib.mkChangedOptionModule", "run", &[Pick(&[r#"[ (lib.mkChangedOptionModule [ "o" ] [ "n" ] (c: c.o + 1)) { options.n = lib.mkOption { }; } { o = 1; } ]"#])]),
    ("lib.mkMergedOptionModule", "run", &[Pick(&[r#"[ (lib.mkMergedOptionModule [ [ "o" ] [ "p" ] ] [ "n" ] (c: [ c.o c.p ])) { options.n = lib.mkOption { }; } { p = 1; } ]"#])]),
    ("lib.mkAliasDefinitions", "lib.mkAliasDefinitions", &[Pick(&["{ isDefined = true; definitions = [ 1 2 ]; }", "{ isDefined = false; definitions = throw \"unused\"; }"])]),
    ("lib.mkAliasAndWrapDefinitions", "lib.mkAliasAndWrapDefinitions", &[Pick(&["(v: { a = v; })", "lib.mkDefault"]), Pick(&["{ isDefined = true; definitions = [ 1 2 ]; }", "{ isDefined = false; definitions = [ ]; }"])]),
    ("lib.modules.mkAliasAndWrapDefsWithPriority", "lib.modules.mkAliasAndWrapDefsWithPriority", &[Pick(&["(v: { a = v; })", "lib.id"]), Pick(&["{ isDefined = true; definitions = [ 1 2 ]; highestPrio = 1000; }", "{ isDefined = true; definitions = [ 3 ]; }"])]),
    ("lib.modules.mkAliasIfDef", "lib.modules.mkAliasIfDef", &[Pick(&["{ isDefined = true; }", "{ isDefined = false; }"]), Int]),
    ("lib.mkDerivedConfig", "lib.mkDerivedConfig", &[Pick(&["{ highestPrio = 50; value = 2; }", "{ value = 3; }", "{ highestPrio = 1500; value = 0; }"]), Raw("(v: v * 2)")]),
    ("lib.modules.importApply", "(m: [ m._file (builtins.length m.imports) ])", &[Raw("(lib.modules.importApply @T@/apply.nix 1)")]),
    ("lib.modules.importJSON", "lib.modules.importJSON", &[Pick(&["@T@/data.json", "@T@/missing"])]),
    ("lib.modules.importTOML", "lib.modules.importTOML", &[Pick(&["@T@/data.toml", "@T@/missing"])]),
    ("lib.fixMergeModules", "(ms: (lib.fixMergeModules ms { }).config)", &[Pick(&[r#"[ { options.a = lib.mkOption { default = 1; }; } { b = 2; } ]"#, r#"[ ({ config, ... }: { options.a = lib.mkOption { default = 1; }; options.c = lib.mkOption { }; config.c = config.a + 1; }) ]"#])]),
    ("lib.modules.mergeAttrDefinitionsWithPrio", "(ms: lib.modules.mergeAttrDefinitionsWithPrio (lib.evalModules { modules = [ { options.a = lib.mkOption { type = lib.types.attrsOf lib.types.int; }; } ] ++ ms; }).options.a)", &[Pick(&[
        "[ { a.x = lib.mkDefault 1; a.y = 2; } { a = lib.mkForce { x = 5; }; } ]",
        "[ { a = lib.mkIf true { x = 1; }; } { a = lib.mkIf false { z = 1; }; } { a.x = lib.mkOverride 10 3; } ]",
        "[ { a = lib.mkMerge [ { x = 1; } { y = lib.mkOptionDefault 2; } ]; } ]",
    ])]),
    // Module syntax helpers.
    ("lib.setDefaultModuleLocation", "lib.setDefaultModuleLocation", &[Pick(&["\"/f.nix\"", "@T@/a.nix"]), Any]),
    ("lib.modules.unifyModuleSyntax", "lib.modules.unifyModuleSyntax", &[Pick(&["\"/f.nix\"", "@T@/a.nix"]), Pick(&["\"k\"", "\"/f.nix:anon-1\""]), Pick(&[
        "{ a = 1; }", "{ config.a = 1; options = { }; }", "{ config = { }; foo = 1; }",
        "{ imports = [ ]; require = [ 1 ]; a = 1; _file = \"f\"; key = 3; }", "{ meta.x = 1; config.a = 1; }",
        "{ freeformType = 1; b = 2; }", "{ freeformType = 1; meta = 2; config = { }; }", "5",
        "{ _class = \"nixos\"; disabledModules = [ \"x\" ]; }", "{ options.a = 1; imports = [ { } ]; key = @T@/a.nix; }",
    ])]),
    ("lib.modules.applyModuleArgsIfFunction", "lib.modules.applyModuleArgsIfFunction", &[Word, Pick(&[
        "({ a, config, ... }: [ a config.x ])", "({ a ? 9, b, ... }: [ a b ])", "{ k = 1; }", "(args: builtins.attrNames args)",
    ]), Pick(&[
        "{ config = { _module.args.a = 2; _module.args.b = 3; x = 1; }; }", "{ config = { x = 1; _module.args = { }; }; a = 7; b = 8; }", "{ config = { }; }",
    ])]),
    ("lib.modules.dischargeProperties", "lib.modules.dischargeProperties", &[Prop]),
    ("lib.modules.dischargeProperties", "lib.modules.dischargeProperties", &[Pick(&["(lib.mkIf 1 2)", "(lib.mkMerge [ 1 (lib.mkIf true 2) (lib.mkIf true (lib.mkIf false 3)) ])"])]),
    ("lib.modules.pushDownProperties", "lib.modules.pushDownProperties", &[PropAttrs]),
    ("lib.modules.pushDownProperties", "lib.modules.pushDownProperties", &[Pick(&["(lib.mkIf true 1)", "(lib.mkMerge [ { a = 1; } (lib.mkIf false { b = 2; }) (lib.mkOrder 5 { c = 3; }) ])"])]),
    ("lib.modules.filterOverrides", "(vs: lib.modules.filterOverrides (defs vs))", &[PropList]),
    ("lib.modules.filterOverrides'", "(vs: lib.modules.filterOverrides' (defs vs))", &[PropList]),
    ("lib.modules.sortProperties", "(vs: lib.modules.sortProperties (defs vs))", &[PropList]),
    ("lib.modules.mergeDefinitions", "(o: vs: let r = lib.modules.mergeDefinitions [ \"o\" \"p q\" ] o.type (defs vs); in [ (probe r.mergedValue) r.isDefined (probe r.defsFinal'.highestPrio) (probe r.defsFinal) (probe r.optionalValue) (probe r.checkedAndMerged.headError) ])", &[Pick(OPTION_DECLS), PropList]),
    ("lib.modules.evalOptionValue", "(o: vs: let r = lib.modules.evalOptionValue [ \"o\" ] (o // { declarations = [ \"decl.nix\" ]; }) (defs vs); in [ (probe r.value) (probe r.isDefined) (probe r.files) (probe r.highestPrio) (probe r.definitions) (probe r.definitionsWithLocations) \"${r}\" ])", &[Pick(OPTION_DECLS), PropList]),
    ("lib.evalOptionValue", "(r: r.value)", &[Raw("(lib.evalOptionValue [ \"o\" ] { type = lib.types.int; declarations = [ \"d\" ]; } [ { file = \"f\"; value = 1; } ])")]),
    ("lib.modules.fixupOptionType", "(o: let r = lib.modules.fixupOptionType [ \"a\" ] o; in [ r.type.name (r.options or null) ])", &[Pick(&["{ }", "{ type = lib.types.int; }", "{ type = lib.types.submodule { }; options = [ ]; }", "{ type = lib.types.attrsOf lib.types.int; options = [ 1 ]; }"])]),
    ("lib.mkAssert", "lib.mkAssert", &[Bool, Word, Prop]),
    ("lib.modules.mkDefinition", "lib.modules.mkDefinition", &[Pick(&["{ file = \"f\"; value = 1; }", "{ file = \"f\"; }", "{ file = \"f\"; value = 2; extra = 3; }"])]),
    ("lib.mkFixStrictness", "lib.mkFixStrictness", &[Any]),
    ("lib.modules.mapDefinitionValue", "lib.modules.mapDefinitionValue (v: [ v ])", &[Prop]),
    // lib.options
    ("lib.mkOption", "lib.mkOption", &[Pick(&["{ }", "{ default = 1; description = \"d\"; }", "{ apply = 1; internal = true; visible = \"shallow\"; readOnly = false; example = 2; defaultText = \"t\"; relatedPackages = [ ]; }", "{ typo = 1; }"])]),
    ("lib.mkEnableOption", "(o: [ o.default o.example o.description o.type.name o._type ])", &[Raw("lib.mkEnableOption"), Word]),
    ("lib.mkPackageOption", "(pkgs: name: args: let o = lib.mkPackageOption pkgs name args; in [ o.description (probe (o.default or \"none\")) (o.defaultText or null) (o.example or null) o.type.name (builtins.attrNames o) ])", &[
        Pick(&["{ hello = { type = \"derivation\"; name = \"hello\"; }; foo.bar = { type = \"derivation\"; name = \"fb\"; }; }", "(throw \"opaque pkgs\")"]),
        Pick(&["\"hello\"", "[ \"foo\" \"bar\" ]", "\"missing\"", "\"a-b\""]),
        Pick(&["{ }", "{ nullable = true; }", "{ default = null; }", "{ default = null; nullable = true; }", "{ default = [ \"foo\" \"bar\" ]; }", "{ example = \"pkgs.x\"; }", "{ example = [ \"foo\" \"bar\" ]; }", "{ extraDescription = \"More.\"; }", "{ pkgsText = \"myPkgs\"; default = \"hello\"; }", "{ bad = 1; }"]),
    ]),
    ("lib.mkSinkUndeclaredOptions", "(o: [ o.internal o.visible o.default o.description o.type.name (o.type.merge [ ] [ ]) (o.type.check 1) (probe (o.apply 1)) (o.extra or null) ])", &[Pick(&["(lib.mkSinkUndeclaredOptions { })", "(lib.mkSinkUndeclaredOptions { default = 1; extra = 2; })"])]),
    ("lib.options.mergeDefaultOption", "(vs: lib.options.mergeDefaultOption [ \"a\" \"b\" ] (defs vs))", &[Pick(&["[ 1 ]", "[ [ 1 ] [ 2 3 ] ]", "[ { a = 1; } { b = 2; a = 3; } ]", "[ true false ]", "[ false false ]", "[ \"a\" \"b\" ]", "[ 2 2 ]", "[ 2 3 ]", "[ 1 \"s\" ]", "[ ]", "[ null ]", "[ 1.5 1.5 ]"])]),
    ("lib.options.mergeDefaultOption", "(fs: lib.options.mergeDefaultOption [ \"a\" ] (defs fs) 3)", &[Pick(&["[ (x: [ x ]) (x: [ (x + 1) ]) ]", "[ (x: x) ]", "[ (x: { a = x; }) (x: { b = x; }) ]"])]),
    ("lib.options.mergeOneOption", "(vs: lib.options.mergeOneOption [ \"a\" ] (defs vs))", &[Pick(&["[ 1 ]", "[ 1 2 ]", "[ ]", "[ { a = 1; } ]"])]),
    ("lib.options.mergeUniqueOption", "(vs: lib.options.mergeUniqueOption { message = \"Only one.\"; } [ \"a\" ] (defs vs))", &[Pick(&["[ 1 ]", "[ 1 2 ]", "[ ]"])]),
    ("lib.options.mergeUniqueOption", "(vs: lib.options.mergeUniqueOption { message = \"m\"; merge = loc: defs: [ loc (map (d: d.value) defs) ]; } [ \"a\" ] (defs vs))", &[Pick(&["[ 1 ]", "[ 1 2 ]"])]),
    ("lib.options.mergeEqualOption", "(vs: lib.options.mergeEqualOption [ \"a\" ] (defs vs))", &[Pick(&["[ 1 ]", "[ 1 1 ]", "[ 1 1 2 ]", "[ { a = 1; } { a = 1; } ]", "[ \"x\" \"y\" ]"])]),
    ("lib.options.getValues", "(vs: lib.options.getValues (defs vs))", &[IntList]),
    ("lib.options.getFiles", "(vs: lib.options.getFiles (defs vs))", &[IntList]),
    ("lib.isOption", "lib.isOption", &[Any]),
    ("lib.isOption", "lib.isOption", &[Pick(&["(lib.mkOption { })", "{ _type = \"option\"; }", "(lib.mkEnableOption \"x\")"])]),
    ("lib.literalExpression", "lib.literalExpression", &[Any]),
    ("lib.literalMD", "lib.literalMD", &[Any]),
    ("lib.options.literalCode", "lib.options.literalCode", &[Word, Str]),
    ("lib.showOption", "lib.showOption", &[Pick(&["[ ]", "[ \"a\" \"b c\" ]", "[ \"*\" \"<name>\" \"if\" ]", "[ \"<\" \"x.y\" \"1a\" \"a'\" ]", "[ \"services\" \"<name>\" \"enable\" ]"])]),
    ("lib.options.showFiles", "lib.options.showFiles", &[StrList]),
    ("lib.options.showDefs", "(vs: lib.options.showDefs (defs vs))", &[Pick(&["[ 1 ]", "[ { a = 1; b = [ 1 2 3 4 5 6 ]; } \"s\" ]", "[ (throw \"no\") 2 ]", "[ (x: x) null 1.5 ]", "[ { a.b.c.d.e.f.g.h.i.j.k.l = 1; } ]", "[ ]"])]),
    ("lib.showOptionWithDefLocs", "lib.showOptionWithDefLocs", &[Pick(&["{ loc = [ \"a\" \"b\" ]; files = [ \"/x.nix\" \"/y.nix\" ]; }", "{ loc = [ ]; files = [ ]; }"])]),
    ("lib.options.unknownModule", "lib.options.unknownModule", &[]),
    ("lib.scrubOptionValue", "lib.scrubOptionValue", &[Any]),
    ("lib.options.renderOptionValue", "lib.options.renderOptionValue", &[Any]),
    ("lib.optionAttrSetToDocList", "(ms: map (d: removeAttrs d [ \"declarations\" ]) (builtins.filter (d: d.name != \"_module.args\") (lib.optionAttrSetToDocList (lib.evalModules { modules = ms; }).options)))", &[Pick(&[
        "[ { options.a = lib.mkOption { type = lib.types.int; default = 1; description = \"A.\"; }; options.b.c = lib.mkEnableOption \"c\"; } ]",
        "[ { options.s = lib.mkOption { type = lib.types.attrsOf (lib.types.submodule { options.x = lib.mkOption { type = lib.types.str; example = \"e\"; }; }); default = { }; }; } ]",
        "[ { options.h = lib.mkOption { visible = \"shallow\"; type = lib.types.submodule { options.y = lib.mkOption { }; }; }; options.i = lib.mkOption { internal = true; readOnly = true; defaultText = lib.literalExpression \"x\"; }; } ]",
    ])]),
    ("lib.options.optionAttrSetToDocList'", "(ms: builtins.length (lib.options.optionAttrSetToDocList' [ ] (lib.evalModules { modules = ms; }).options))", &[Pick(&["[ { options.a = lib.mkOption { }; } ]"])]),
];

/// Expressions that fail: the messages of both sides are compared.
#[rustfmt::skip]
const MESSAGE_CASES: &[(&str, &str)] = &[
    ("lib.mkRemovedOptionModule", r#"(lib.evalModules { modules = [ base (lib.mkRemovedOptionModule [ "old" ] "Use new.") { old = 1; } ]; }).config.old"#),
    ("lib.mkRenamedOptionModule", r#"(lib.evalModules { modules = [ base (lib.mkRenamedOptionModule [ "old" ] [ "new" ]) ]; }).config.old"#),
    ("lib.mkRenamedOptionModule", r#"(lib.evalModules { modules = [ base (lib.mkRenamedOptionModule [ "old" ] [ "new" ]) { options.new = lib.mkOption { type = lib.types.int; }; } { old = "s"; } ]; }).config.new"#),
    ("lib.mkAliasOptionModule", r#"(lib.evalModules { modules = [ base (lib.mkAliasOptionModule [ "old" ] [ "new" ]) { options.new = lib.mkOption { type = lib.types.int; }; } ]; }).config.old"#),
    ("lib.modules.mergeDefinitions", r#"(lib.modules.mergeDefinitions [ "o" ] lib.types.int (defs [ "s" 2 ])).mergedValue"#),
    ("lib.modules.mergeDefinitions", r#"(lib.modules.mergeDefinitions [ "o" "p" ] lib.types.int [ ]).mergedValue"#),
    ("lib.modules.mergeDefinitions", r#"(lib.modules.mergeDefinitions [ "o" ] (lib.types.int // { check = x: true; }) (defs [ 1 ])).mergedValue"#),
    ("lib.modules.mergeDefinitions", r#"(lib.modules.mergeDefinitions [ "o" ] lib.types.unspecified (defs [ 1 "s" ])).mergedValue"#),
    ("lib.modules.dischargeProperties", r#"lib.modules.dischargeProperties (lib.mkIf 1 2)"#),
    ("lib.modules.evalOptionValue", r#"(lib.modules.evalOptionValue [ "o" ] { type = lib.types.int; readOnly = true; default = 1; declarations = [ "d.nix" ]; } (defs [ 2 ])).value"#),
    ("lib.modules.unifyModuleSyntax", r#"lib.modules.unifyModuleSyntax "f" "k" { config = { }; foo = 1; bar = 2; }"#),
    ("lib.modules.unifyModuleSyntax", r#"lib.modules.unifyModuleSyntax "f" "k" 5"#),
    ("lib.mkAssert", r#"(lib.evalModules { modules = [ { options.a = lib.mkOption { default = 1; }; } { a = lib.mkAssert false "no way" 2; } ]; }).config.a"#),
    ("lib.options.mergeOneOption", r#"lib.mergeOneOption [ "a" "b" ] (defs [ 1 2 ])"#),
    ("lib.options.mergeUniqueOption", r#"lib.mergeUniqueOption { message = "Only one."; } [ "a" ] (defs [ { x = 1; } [ 1 2 ] ])"#),
    ("lib.options.mergeEqualOption", r#"lib.mergeEqualOption [ "a" ] (defs [ 1 1 2 ])"#),
    ("lib.options.mergeEqualOption", r#"lib.mergeEqualOption [ "a" ] [ ]"#),
    ("lib.options.mergeDefaultOption", r#"lib.mergeDefaultOption [ "a" ] (defs [ 1 "s" ])"#),
    ("lib.mkSinkUndeclaredOptions", r#"(lib.evalModules { modules = [ { options.s = lib.mkSinkUndeclaredOptions { }; } { s = 1; } ]; }).config.s"#),
    ("lib.mkPackageOption", r#"(lib.mkPackageOption { } [ "a" "b" ] { }).default"#),
    ("lib.mkPackageOption", r#"(lib.mkPackageOption { } "hello" { pkgsText = "myPkgs"; }).default"#),
    ("lib.literalExpression", "lib.literalExpression 1"),
    ("lib.literalMD", "lib.literalMD null"),
    ("lib.mkOption", "lib.mkOption { typo = 1; }"),
    ("lib.mkChangedOptionModule", r#"(lib.evalModules { modules = [ base (lib.mkChangedOptionModule [ "o" ] [ "n" ] (c: c.o + 1)) { options.n = lib.mkOption { type = lib.types.str; }; } { o = 1; } ]; }).config.n"#),
];

/// The Nix printer both sides use: independent of sharing (unlike
/// `--strict` output, which prints «repeated»), depth-limited for cycles.
const SHOW_NIX: &str = r#"let
  b = builtins;
  show = depth: v:
    let t = b.typeOf v; in
    if depth > 24 then "…"
    else if t == "lambda" then "<function ${b.toJSON (b.functionArgs v)}>"
    else if t == "list" then "[ " + b.concatStringsSep " " (map (show (depth + 1)) v) + " ]"
    else if t == "set" then
      "{ " + b.concatStringsSep " " (map (n: "${b.toJSON n} = ${show (depth + 1) v.${n}};") (b.attrNames v)) + " }"
    else if t == "string" then
      b.toJSON (b.unsafeDiscardStringContext v) + (if b.hasContext v then " ctx:${b.toJSON (b.attrNames (b.getContext v))}" else "")
    else if t == "path" then "path:" + toString v
    else if t == "null" then "null"
    else if t == "bool" then (if v then "true" else "false")
    else if t == "float" then "float:" + b.toJSON v
    else "int:" + toString v;
in
show 0
"#;

// ---------------------------------------------------------------------------
// FUNCTIONS.md

/// A row of FUNCTIONS.md: nixpkgs location and the spellings used.
struct Listed {
    canonical: String,
    spelled: Vec<String>,
    ours: bool,
}

fn read_function_list(root: &Path) -> Result<Vec<Listed>, String> {
    let file = root.join("modules/lib/FUNCTIONS.md");
    let text = std::fs::read_to_string(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let mut rows = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `canonical` | spellings | projects | provider |
        if cells.len() < 6 || !cells[1].starts_with('`') {
            continue;
        }
        let ticked = |s: &str| -> Vec<String> {
            s.split('`').enumerate().filter(|(i, _)| i % 2 == 1).map(|(_, x)| x.to_string()).collect()
        };
        let Some(canonical) = ticked(cells[1]).into_iter().next() else { continue };
        rows.push(Listed { canonical, spelled: ticked(cells[2]), ours: cells[4].starts_with("Nix") });
    }
    if rows.is_empty() {
        return Err(format!("{} lists no functions", file.display()));
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------
// Running

/// Creates the file tree the path functions read.
fn make_fixture(dir: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    let files: &[(&str, &str)] = &[
        ("a.nix", "{ }\n"),
        ("b.txt", "hello\n\n"),
        ("data.json", "{ \"x\": [1, 2], \"y\": null }"),
        ("data.toml", "x = 1\n[t]\ny = \"z\"\n"),
        ("apply.nix", "arg: { lib, ... }: { options.applied = lib.mkOption { default = arg; }; }\n"),
        ("sub/c.nix", "1\n"),
        ("sub/d.o", ""),
        ("sub/notes.md~", ""),
        ("sub/deeper/e.md", "# e\n"),
        ("sub/deeper/.f.swp", ""),
        ("CVS/x", ""),
        ("pkg/pkg.cabal", ""),
        (".git/HEAD", "ref: refs/heads/main\n"),
        (".git/refs/heads/main", "0123456789abcdef0123456789abcdef01234567\n"),
    ];
    for (name, content) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(&p, content).map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(dir.join("empty")).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    std::os::unix::fs::symlink("b.txt", dir.join("result")).map_err(|e| e.to_string())?;
    Ok(())
}

struct Call {
    covers: &'static str,
    expr: String,
}

fn program(calls: &[&Call]) -> String {
    let mut s = String::from(
        "let\n  lib = import (builtins.getEnv \"DENDRITE_LIB_UNDER_TEST\");\n  show = import ./show.nix;\n  \
         x = throw \"forced\";\n  \
         t = x: let r = builtins.tryEval (show x); in if r.success then r.value else \"«throws»\";\n",
    );
    s.push_str(MODULE_HELPERS);
    s.push_str("in\n[\n");
    for c in calls {
        let _ = writeln!(s, "(t ({}))", c.expr);
    }
    s.push_str("]\n");
    s
}

/// Bindings the module cases use: `defs` numbers a list of values as
/// definitions, `probe` shows a value or «throws», and `run` evaluates
/// modules after `base` (which declares `warnings` and `assertions`) and
/// reports config values, warnings and failed assertions.
const MODULE_HELPERS: &str = r#"  probe = v: let r = builtins.tryEval (builtins.deepSeq v v); in if r.success then r.value else "«throws»";
  defs = vs: lib.imap0 (i: v: { file = "def${toString i}.nix"; value = v; }) vs;
  base = {
    options.warnings = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; };
    options.assertions = lib.mkOption { type = lib.types.listOf lib.types.unspecified; default = [ ]; };
  };
  run = ms:
    let r = lib.evalModules { modules = [ base ] ++ ms; }; in
    {
      config = builtins.mapAttrs (n: probe) (removeAttrs r.config [ "_module" "warnings" "assertions" ]);
      warnings = probe r.config.warnings;
      failed = probe (map (a: a.message) (builtins.filter (a: !a.assertion) r.config.assertions));
    };
"#;

/// The message of a failed evaluation: the `error:` line and its
/// continuation lines, without the position and the source excerpt.
fn error_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines().skip_while(|l| !l.starts_with("error:"));
    let first = lines.next()?;
    let mut msg = vec![first.to_string()];
    for l in lines {
        let is_position = l.trim_start().starts_with("at ") && l.trim_end().ends_with(':');
        if is_position || !l.starts_with("       ") {
            break;
        }
        msg.push(l.trim_end().to_string());
    }
    Some(msg.join("\n"))
}

/// Evaluates one expression of [`MESSAGE_CASES`] with each library and
/// compares what they print: the error message when it fails, the value
/// otherwise.
fn compare_message(bin: &Path, dir: &Path, id: usize, covers: &str, expr: &str, ours: &Path, theirs: &Path) -> Outcome {
    let file = dir.join(format!("message-{id}.nix"));
    let text =
        format!("let\n  lib = import (builtins.getEnv \"DENDRITE_LIB_UNDER_TEST\");\n{MODULE_HELPERS}in\n{expr}\n");
    let mut out = Outcome { calls: 1, ..Default::default() };
    if let Err(e) = std::fs::write(&file, text) {
        out.differences.push(format!("writing {}: {e}", file.display()));
        return out;
    }
    let run = |lib: &Path| {
        let mut cmd = Command::new(bin);
        cmd.arg("eval").arg("--strict").arg(&file).env("DENDRITE_LIB_UNDER_TEST", lib);
        cmd.current_dir(dir);
        let o = util::run_limited(cmd, None, Duration::from_secs(120));
        if o.code == Some(0) {
            format!("value: {}", String::from_utf8_lossy(&o.stdout).trim_end())
        } else {
            let err = String::from_utf8_lossy(&o.stderr).to_string();
            error_message(&err).unwrap_or_else(|| format!("failed without a message: {}", err.trim_end()))
        }
    };
    let (a, b) = (run(ours), run(theirs));
    if a != b {
        out.differences.push(format!("{covers} (message): {expr}\n    ours:    {a}\n    nixpkgs: {b}"));
    } else if a.starts_with("error:") {
        out.both_failed += 1;
    }
    out
}

/// Evaluates `file` with `lib` bound to `lib_file`: the printed value and
/// what it traced (traces and warnings are part of some functions' results).
/// Err when the evaluation fails.
fn evaluate(bin: &Path, file: &Path, lib_file: &Path) -> Result<String, String> {
    let mut cmd = Command::new(bin);
    cmd.arg("eval").arg("--strict").arg(file).env("DENDRITE_LIB_UNDER_TEST", lib_file);
    cmd.current_dir(file.parent().unwrap());
    let o = util::run_limited(cmd, None, Duration::from_secs(120));
    if o.code == Some(0) {
        let traced = without_lambda_positions(&String::from_utf8_lossy(&o.stderr));
        let value = String::from_utf8_lossy(&o.stdout);
        Ok(if traced.trim().is_empty() {
            value.trim_end().to_string()
        } else {
            format!("{}\n    traced: {}", value.trim_end(), traced.trim_end())
        })
    } else if o.timed_out {
        Err("timed out".into())
    } else {
        let err = String::from_utf8_lossy(&o.stderr);
        Err(err.lines().find(|l| l.contains("error")).unwrap_or("failed").trim().to_string())
    }
}

/// Traced lambdas show where they are defined, which differs between the
/// two libraries by nature: `«lambda f @ file:1:2»` becomes `«lambda»`.
fn without_lambda_positions(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("«lambda") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        match after.find('»') {
            Some(j) => {
                out.push_str("«lambda»");
                rest = &after[j + '»'.len_utf8()..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Cases whose traces may come in another order: `fixMergeModules` passes
/// `args` and `check` to `evalModules`, which warns about each in the
/// order of the set's attributes, and that order follows when the names
/// were first seen by the evaluator (which differs between the two
/// libraries), not the libraries' code.
const TRACE_ORDER_FREE: &[&str] = &["lib.fixMergeModules"];

fn sorted_lines(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.lines().map(|l| l.trim_start().trim_start_matches("traced: ")).collect();
    v.sort_unstable();
    v
}

/// The outcome of comparing one batch.
#[derive(Default)]
struct Outcome {
    calls: usize,
    /// Calls both sides failed to evaluate (not a difference).
    both_failed: usize,
    differences: Vec<String>,
}

fn compare_batch(bin: &Path, dir: &Path, id: usize, calls: &[&Call], ours: &Path, theirs: &Path) -> Outcome {
    let file = dir.join(format!("case-{id}.nix"));
    if let Err(e) = std::fs::write(&file, program(calls)) {
        return Outcome {
            calls: calls.len(),
            both_failed: 0,
            differences: vec![format!("writing {}: {e}", file.display())],
        };
    }
    let a = evaluate(bin, &file, ours);
    let b = evaluate(bin, &file, theirs);
    let mut out = Outcome { calls: calls.len(), ..Default::default() };
    if a.is_ok() && a == b {
        return out;
    }
    if calls.len() == 1 {
        // A catchable throw and an evaluation error are both failures.
        let threw = |r: &Result<String, String>| r.as_ref().is_ok_and(|v| v == "[ \"«throws»\" ]");
        match (a, b) {
            (Err(_), Err(_)) => out.both_failed += 1,
            (Ok(a), Ok(b)) if TRACE_ORDER_FREE.contains(&calls[0].covers) && sorted_lines(&a) == sorted_lines(&b) => {}
            (a, b) if (a.is_err() || threw(&a)) && (b.is_err() || threw(&b)) => out.both_failed += 1,
            (a, b) => out.differences.push(format!(
                "{}: {}\n    ours:    {}\n    nixpkgs: {}",
                calls[0].covers,
                calls[0].expr,
                a.unwrap_or_else(|e| format!("error: {e}")),
                b.unwrap_or_else(|e| format!("error: {e}"))
            )),
        }
        return out;
    }
    // Narrow down to the individual calls.
    let mut out = Outcome { calls: 0, ..Default::default() };
    for (i, c) in calls.iter().enumerate() {
        let one = compare_batch(bin, dir, id * 1000 + i + 1, &[c], ours, theirs);
        out.calls += one.calls;
        out.both_failed += one.both_failed;
        out.differences.extend(one.differences);
    }
    out
}

/// Names of our lib that nixpkgs lib lacks, and per namespace of nixpkgs lib
/// (`-` for the top level) how many of its names ours lacks.
struct LayoutReport {
    extra: Vec<String>,
    lacking: Vec<(String, usize)>,
}

/// Checks the layout: names of our lib that nixpkgs lib lacks (an error) and,
/// for information, how many names of each nixpkgs namespace ours lacks
/// (`-` is the top level).
fn layout_check(bin: &Path, dir: &Path, ours: &Path, theirs: &Path) -> Result<LayoutReport, String> {
    let expr = r#"let
  ours = import (builtins.getEnv "OURS");
  theirs = import (builtins.getEnv "THEIRS");
  b = builtins;
  skip = [ "maintainers" ];
  spaces = b.filter (n: !(b.elem n skip) && b.isAttrs ours.${n}) (b.attrNames ours);
  extra = ns: b.filter (n: !(theirs.${ns} ? ${n})) (b.attrNames ours.${ns});
  lacking = ns: b.length (b.filter (n: !(ours.${ns} ? ${n})) (b.attrNames theirs.${ns}));
  extras = b.filter (n: !(theirs ? ${n})) (b.attrNames ours) ++ b.concatMap (ns: map (n: "${ns}.${n}") (extra ns)) spaces;
  counts = [ "-=${toString (b.length (b.filter (n: !(ours ? ${n})) (b.attrNames theirs)))}" ]
    ++ map (ns: "${ns}=${toString (lacking ns)}") spaces;
in
b.concatStringsSep " " (counts ++ [ "|" ] ++ extras)"#;
    let file = dir.join("layout.nix");
    std::fs::write(&file, expr).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.arg("eval").arg("--strict").arg(&file).env("OURS", ours).env("THEIRS", theirs);
    let o = util::run_limited(cmd, None, Duration::from_secs(120));
    if o.code != Some(0) {
        return Err(format!("layout check failed: {}", String::from_utf8_lossy(&o.stderr)));
    }
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let out = out.trim().trim_matches('"');
    let (counts, extras) = out.split_once(" | ").map_or((out, ""), |(c, e)| (c, e));
    let counts = counts
        .split_whitespace()
        .filter_map(|w| w.split_once('=').and_then(|(ns, n)| Some((ns.to_string(), n.parse().ok()?))))
        .filter(|(_, n)| *n > 0)
        .collect();
    Ok(LayoutReport {
        extra: extras.split_whitespace().filter(|w| *w != "|").map(str::to_string).collect(),
        lacking: counts,
    })
}

/// Runs the differential test with `per_function` generated calls per case.
/// `DENDRITE_OWN_LIB_DIFF_CALLS` and `DENDRITE_OWN_LIB_DIFF_SEED` override
/// the defaults for a longer exploration.
pub fn diff(per_function: usize, seed: u64, verbose: bool, only: Option<&str>) -> Result<(), String> {
    let env_number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let per_function = env_number("DENDRITE_OWN_LIB_DIFF_CALLS").map_or(per_function, |n| n as usize);
    let seed = env_number("DENDRITE_OWN_LIB_DIFF_SEED").unwrap_or(seed);
    let corpus = match util::corpus() {
        Ok(c) => c,
        Err(e) => {
            println!("own-lib-diff: SKIPPED: {e}");
            return Ok(());
        }
    };
    let root = util::root();
    let nixpkgs = corpus.join("nixpkgs-lib/lib");
    let listed = read_function_list(&root)?;

    // Every function FUNCTIONS.md says our Nix code provides needs a case.
    let all_cases: Vec<&(&str, &str, &[Arg])> =
        CASES.iter().chain(LAZINESS).chain(MODULE_CASES).chain(MODULE_SYSTEM_CASES).collect();
    let covered: BTreeSet<&str> = all_cases.iter().map(|c| c.0).chain(MESSAGE_CASES.iter().map(|c| c.0)).collect();
    let uncovered: Vec<&str> = listed
        .iter()
        .filter(|l| l.ours)
        .filter(|l| {
            !covered.contains(format!("lib.{}", l.canonical).as_str())
                && !l.spelled.iter().any(|s| covered.contains(s.as_str()))
        })
        .map(|l| l.canonical.as_str())
        .collect();
    if !uncovered.is_empty() {
        return Err(format!(
            "own-lib-diff: no case for {} listed functions: {}",
            uncovered.len(),
            uncovered.join(", ")
        ));
    }

    let bin = util::dendrite_binary()?;
    let dir = util::target_dir().join("own-lib-diff");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let tree = dir.join("tree");
    make_fixture(&tree)?;
    std::fs::write(dir.join("show.nix"), SHOW_NIX).map_err(|e| e.to_string())?;
    // Our lib as it is used (its own module-system files under the native
    // layer), and with nixpkgs' module files passed as `moduleSystem` (the
    // module-system cases only).
    let ours = dir.join("ours.nix");
    let ours_ms = dir.join("ours-module-system.nix");
    let theirs = dir.join("nixpkgs.nix");
    let n = nixpkgs.display();
    std::fs::write(&ours, format!("import {}/modules/lib {{ }}\n", root.display())).map_err(|e| e.to_string())?;
    std::fs::write(
        &ours_ms,
        format!(
            "import {}/modules/lib {{\n  moduleSystem = lib: {{\n    modules = import {n}/modules.nix {{ inherit lib; }};\n    \
             options = import {n}/options.nix {{ inherit lib; }};\n    types = import {n}/types.nix {{ inherit lib; }};\n  }};\n}}\n",
            root.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(&theirs, format!("import {n}\n")).map_err(|e| e.to_string())?;

    // Generate the calls, one batch per case.
    let mut r = Rng(seed | 1);
    let tree_text = tree.display().to_string();
    let module_system_cases: Vec<&(&str, &str, &[Arg])> = MODULE_SYSTEM_CASES.iter().collect();
    let generate = |cases: &[&(&'static str, &str, &[Arg])],
                    r: &mut Rng,
                    via_module_system: bool|
     -> Vec<(Vec<Call>, bool)> {
        cases
            .iter()
            .map(|(covers, callee, args)| {
                // Arguments that are all fixed choices are enumerated.
                let choices: Option<Vec<Vec<&str>>> = args
                    .iter()
                    .map(|a| match a {
                        Pick(xs) => Some(xs.to_vec()),
                        Raw(x) => Some(vec![*x]),
                        _ => None,
                    })
                    .collect();
                let exprs: Vec<String> = match choices {
                    Some(choices) => choices.iter().fold(vec![format!("({callee})")], |acc, xs| {
                        acc.iter().flat_map(|e| xs.iter().map(move |x| format!("{e} {x}"))).collect()
                    }),
                    None => {
                        let count = if args.is_empty() { 1 } else { per_function };
                        (0..count)
                            .map(|_| {
                                let mut e = format!("({callee})");
                                for a in args.iter() {
                                    let _ = write!(e, " {}", a.generate(r));
                                }
                                e
                            })
                            .collect()
                    }
                };
                let mut seen = BTreeSet::new();
                let calls = exprs
                    .into_iter()
                    .map(|e| e.replace("@T@", &tree_text))
                    .filter(|e| seen.insert(e.clone()))
                    .map(|expr| Call { covers, expr })
                    .collect();
                (calls, via_module_system)
            })
            .filter(|(batch, _): &(Vec<Call>, bool)| only.is_none_or(|o| batch.iter().any(|c| c.covers.contains(o))))
            .collect()
    };
    let mut batches = generate(&all_cases, &mut r, false);
    batches.extend(generate(&module_system_cases, &mut r, true));

    let messages: Vec<(&str, String)> = MESSAGE_CASES
        .iter()
        .filter(|(covers, _)| only.is_none_or(|o| covers.contains(o)))
        .map(|(covers, expr)| (*covers, expr.replace("@T@", &tree_text)))
        .collect();

    // Compare the batches on all cores.
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<usize, Outcome>> = Mutex::new(BTreeMap::new());
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let o = if let Some((batch, via_module_system)) = batches.get(i) {
                        let refs: Vec<&Call> = batch.iter().collect();
                        let lib = if *via_module_system { &ours_ms } else { &ours };
                        compare_batch(&bin, &dir, i + 1, &refs, lib, &theirs)
                    } else if let Some((covers, expr)) = messages.get(i - batches.len()) {
                        compare_message(&bin, &dir, i + 1, covers, expr, &ours, &theirs)
                    } else {
                        break;
                    };
                    results.lock().unwrap().insert(i, o);
                }
            });
        }
    });
    let results = results.into_inner().unwrap();

    let LayoutReport { extra, lacking: missing } = layout_check(&bin, &dir, &ours, &theirs)?;

    let mut calls = 0;
    let mut both_failed = 0;
    let mut differences = Vec::new();
    for o in results.values() {
        calls += o.calls;
        both_failed += o.both_failed;
        differences.extend(o.differences.iter().cloned());
    }
    let functions: BTreeSet<&str> =
        batches.iter().flat_map(|(b, _)| b.iter()).map(|c| c.covers).chain(messages.iter().map(|m| m.0)).collect();
    println!(
        "own-lib-diff: compared {} functions ({} calls, {} of them failing on both sides) of modules/lib with nixpkgs lib:",
        functions.len(),
        calls,
        both_failed
    );
    let names: Vec<String> = functions.iter().map(|f| f.trim_start_matches("lib.").to_string()).collect();
    println!("  {}", names.join(" "));
    let listed_ours = listed.iter().filter(|l| l.ours).count();
    println!("own-lib-diff: all {listed_ours} Nix-provided functions of FUNCTIONS.md are covered");
    let lacking: Vec<String> =
        missing.iter().map(|(ns, n)| format!("{}: {n}", if ns == "-" { "top level" } else { ns })).collect();
    println!(
        "own-lib-diff: layout: {} names that nixpkgs lib lacks; names of nixpkgs lib not provided (unused by the corpus): {}",
        extra.len(),
        lacking.join(", ")
    );
    if verbose {
        for d in &differences {
            println!("  {d}");
        }
    }
    let mut failures = Vec::new();
    if !extra.is_empty() {
        failures.push(format!("names not in nixpkgs lib's layout: {}", extra.join(", ")));
    }
    if !differences.is_empty() {
        if !verbose {
            for d in differences.iter().take(40) {
                println!("  {d}");
            }
        }
        failures.push(format!("{} of {calls} calls differ", differences.len()));
    }
    if failures.is_empty() {
        println!("own-lib-diff: no differences");
        Ok(())
    } else {
        Err(format!("own-lib-diff: {}", failures.join("; ")))
    }
}
