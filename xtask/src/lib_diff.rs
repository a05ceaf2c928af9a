//! `cargo xtask lib-diff`: a differential test of nixpkgs `lib` functions,
//! dendrite against the oracle (`nix-instantiate` from Debian's `nix-bin`,
//! Nix 2.8).
//!
//! For every function in [`CASES`] a seeded generator writes calls with
//! generated arguments; each call becomes one element of a list that both
//! evaluators print with `--eval --strict`. Elements are wrapped in
//! `builtins.tryEval` so that a `throw` on one input does not hide the
//! others; any difference is then narrowed to the individual calls.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::util;

use crate::util::Rng;

/// Kinds of generated arguments.
#[derive(Clone, Copy)]
enum Arg {
    Int,
    SmallNat,
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
    Raw(&'static str),
}

const CHARS: &[&str] = &["a", "b", "c", "x", "-", ".", "_", "/", " ", "A", "Z", "1", "9", "\\n", "\\\"", "$", "'", "é"];
const WORDS: &[&str] = &["foo", "bar", "baz", "qux", "nixos", "darwin", "a", "b", "ab", "ba", ""];

impl Arg {
    fn generate(self, r: &mut Rng) -> String {
        match self {
            Arg::Int => format!("({})", r.below(41) as i64 - 20),
            Arg::SmallNat => format!("{}", r.below(7)),
            Arg::Str => {
                let n = r.below(8);
                let s: String = (0..n).map(|_| r.pick(CHARS)).collect();
                format!("\"{s}\"")
            }
            Arg::Word => format!("\"{}\"", r.pick(WORDS)),
            Arg::Version => {
                let parts = 1 + r.below(4);
                let v: Vec<String> = (0..parts)
                    .map(|_| match r.below(5) {
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
                    .map(|_| if r.below(2) == 0 { Arg::Int.generate(r) } else { Arg::IntList.generate(r) })
                    .collect();
                format!("[ {} ]", xs.join(" "))
            }
            Arg::Attrs => {
                let n = r.below(5);
                let xs: Vec<String> = (0..n)
                    .map(|_| format!("{} = {};", r.pick(&["a", "b", "c", "x", "y"]), Arg::Int.generate(r)))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                // Duplicate names would be a parse error: keep the first of each.
                let mut seen = std::collections::BTreeSet::new();
                let xs: Vec<String> =
                    xs.into_iter().filter(|x| seen.insert(x.split(' ').next().map(str::to_string))).collect();
                format!("{{ {} }}", xs.join(" "))
            }
            Arg::NestedAttrs => {
                format!(
                    "{{ a = {}; b = {{ c = {}; d = {}; }}; e = {}; }}",
                    Arg::Int.generate(r),
                    Arg::Attrs.generate(r),
                    Arg::IntList.generate(r),
                    Arg::Word.generate(r)
                )
            }
            Arg::AttrPath => {
                let n = 1 + r.below(3);
                let xs: Vec<String> = (0..n).map(|_| format!("\"{}\"", r.pick(&["a", "b", "c", "d"]))).collect();
                format!("[ {} ]", xs.join(" "))
            }
            Arg::Bool => if r.below(2) == 0 { "true" } else { "false" }.to_string(),
            Arg::Raw(s) => s.to_string(),
        }
    }
}

use Arg::*;

/// The functions compared, with their argument kinds.
const CASES: &[(&str, &[Arg])] = &[
    // lib.strings
    ("lib.concatStrings", &[StrList]),
    ("lib.concatStringsSep", &[Str, StrList]),
    ("lib.concatMapStrings", &[Raw("(x: x + \"!\")"), StrList]),
    ("lib.concatMapStringsSep", &[Str, Raw("(x: \"<\" + x + \">\")"), StrList]),
    ("lib.concatLines", &[StrList]),
    ("lib.intersperse", &[Word, StrList]),
    ("lib.splitString", &[Raw("\".\""), Str]),
    ("lib.splitString", &[Raw("\"a\""), Str]),
    ("lib.hasPrefix", &[Word, Word]),
    ("lib.hasSuffix", &[Word, Word]),
    ("lib.hasInfix", &[Word, Str]),
    ("lib.removePrefix", &[Word, Word]),
    ("lib.removeSuffix", &[Word, Word]),
    ("lib.toUpper", &[Str]),
    ("lib.toLower", &[Str]),
    ("lib.stringToCharacters", &[Str]),
    ("lib.stringLength", &[Str]),
    ("lib.escapeShellArg", &[Str]),
    ("lib.escapeShellArgs", &[StrList]),
    ("lib.escapeRegex", &[Str]),
    ("lib.escapeXML", &[Str]),
    ("lib.optionalString", &[Bool, Str]),
    ("lib.versionOlder", &[Version, Version]),
    ("lib.versionAtLeast", &[Version, Version]),
    ("lib.fixedWidthString", &[SmallNat, Raw("\"0\""), Word]),
    ("lib.fixedWidthNumber", &[SmallNat, SmallNat]),
    ("lib.toInt", &[Raw("\"42\"")]),
    ("lib.strings.trim", &[Str]),
    ("lib.strings.replicate", &[SmallNat, Word]),
    ("lib.strings.normalizePath", &[Str]),
    ("lib.strings.sanitizeDerivationName", &[Str]),
    ("lib.strings.charToInt", &[Raw("\"a\"")]),
    ("lib.strings.commonPrefixLength", &[Word, Word]),
    ("lib.strings.levenshtein", &[Word, Word]),
    ("lib.strings.toSentenceCase", &[Word]),
    ("lib.strings.cmakeBool", &[Word, Bool]),
    ("lib.strings.mesonOption", &[Word, Word]),
    ("lib.strings.enableFeature", &[Bool, Word]),
    ("lib.strings.withFeatureAs", &[Bool, Word, Word]),
    ("lib.getName", &[Raw("\"hello-2.12.1\"")]),
    ("lib.getVersion", &[Raw("\"hello-2.12.1\"")]),
    // lib.lists
    ("lib.range", &[Int, Int]),
    ("lib.take", &[SmallNat, IntList]),
    ("lib.drop", &[SmallNat, IntList]),
    ("lib.sublist", &[SmallNat, SmallNat, IntList]),
    ("lib.reverseList", &[IntList]),
    ("lib.unique", &[IntList]),
    ("lib.flatten", &[NestedList]),
    ("lib.count", &[Raw("(x: x > 0)"), IntList]),
    ("lib.foldl", &[Raw("(a: b: a * 2 + b)"), Int, IntList]),
    ("lib.foldr", &[Raw("(a: b: a * 3 - b)"), Int, IntList]),
    ("lib.foldl'", &[Raw("(a: b: a + b)"), Int, IntList]),
    ("lib.imap0", &[Raw("(i: x: i * x)"), IntList]),
    ("lib.imap1", &[Raw("(i: x: i + x)"), IntList]),
    ("lib.partition", &[Raw("(x: x < 3)"), IntList]),
    ("lib.groupBy'", &[Raw("(a: b: a + b)"), Int, Raw("(x: if x > 0 then \"pos\" else \"neg\")"), IntList]),
    ("lib.zipLists", &[IntList, StrList]),
    ("lib.zipListsWith", &[Raw("(a: b: a + b)"), IntList, IntList]),
    ("lib.intersectLists", &[IntList, IntList]),
    ("lib.subtractLists", &[IntList, IntList]),
    ("lib.sort", &[Raw("(a: b: a < b)"), IntList]),
    ("lib.naturalSort", &[StrList]),
    ("lib.lists.last", &[Raw("[ 1 2 3 ]")]),
    ("lib.lists.init", &[Raw("[ 1 2 3 ]")]),
    ("lib.lists.findFirst", &[Raw("(x: x > 2)"), Int, IntList]),
    ("lib.lists.findFirstIndex", &[Raw("(x: x > 2)"), Raw("null"), IntList]),
    ("lib.lists.remove", &[Int, IntList]),
    ("lib.lists.toList", &[Int]),
    ("lib.lists.optional", &[Bool, Int]),
    ("lib.lists.optionals", &[Bool, IntList]),
    ("lib.lists.ifilter0", &[Raw("(i: x: i < x)"), IntList]),
    ("lib.lists.crossLists", &[Raw("(a: b: a * b)"), Raw("[ [ 1 2 ] [ 3 4 ] ]")]),
    ("lib.lists.listDfs", &[Bool, Raw("(a: b: a < b)"), Raw("[ 3 1 2 ]")]),
    ("lib.lists.toposort", &[Raw("(a: b: a < b)"), IntList]),
    ("lib.lists.compareLists", &[Raw("lib.compare"), IntList, IntList]),
    ("lib.lists.commonPrefix", &[IntList, IntList]),
    ("lib.lists.allUnique", &[IntList]),
    ("lib.lists.replicate", &[SmallNat, Word]),
    ("lib.lists.mutuallyExclusive", &[IntList, IntList]),
    // lib.attrsets
    ("lib.attrByPath", &[AttrPath, Int, NestedAttrs]),
    ("lib.hasAttrByPath", &[AttrPath, NestedAttrs]),
    ("lib.setAttrByPath", &[AttrPath, Int]),
    ("lib.getAttrFromPath", &[Raw("[ \"b\" \"d\" ]"), NestedAttrs]),
    ("lib.filterAttrs", &[Raw("(n: v: v > 0)"), Attrs]),
    ("lib.filterAttrsRecursive", &[Raw("(n: v: n != \"c\")"), NestedAttrs]),
    ("lib.mapAttrs'", &[Raw("(n: v: lib.nameValuePair (n + n) (v * 2))"), Attrs]),
    ("lib.mapAttrsToList", &[Raw("(n: v: \"${n}=${toString v}\")"), Attrs]),
    ("lib.mapAttrsRecursive", &[Raw("(p: v: builtins.concatStringsSep \".\" p)"), NestedAttrs]),
    ("lib.recursiveUpdate", &[NestedAttrs, NestedAttrs]),
    (
        "lib.recursiveUpdateUntil",
        &[
            Raw("(path: l: r: path == [ \"b\" \"c\" ] || !(builtins.isAttrs l && builtins.isAttrs r))"),
            NestedAttrs,
            NestedAttrs,
        ],
    ),
    ("lib.collect", &[Raw("builtins.isInt"), NestedAttrs]),
    ("lib.foldAttrs", &[Raw("(v: acc: v + acc)"), Int, Raw("[ { a = 1; } { a = 2; b = 3; } ]")]),
    ("lib.genAttrs", &[StrList, Raw("(n: n + \"!\")")]),
    ("lib.optionalAttrs", &[Bool, Attrs]),
    ("lib.attrNames", &[Attrs]),
    ("lib.attrValues", &[Attrs]),
    ("lib.attrsToList", &[Attrs]),
    ("lib.zipAttrs", &[Raw("[ { a = 1; } { a = 2; b = 3; } ]")]),
    ("lib.zipAttrsWith", &[Raw("(n: vs: vs)"), Raw("[ { a = 1; } { a = 2; b = 3; } ]")]),
    ("lib.attrsets.cartesianProduct", &[Raw("{ a = [ 1 2 ]; b = [ \"x\" \"y\" ]; }")]),
    (
        "lib.attrsets.mapCartesianProduct",
        &[Raw("({ a, b }: \"${toString a}${b}\")"), Raw("{ a = [ 1 2 ]; b = [ \"x\" ]; }")],
    ),
    ("lib.attrsets.unionOfDisjoint", &[Raw("{ a = 1; }"), Raw("{ b = 2; }")]),
    ("lib.attrsets.concatMapAttrs", &[Raw("(n: v: { ${n} = v; \"${n}${n}\" = v * 2; })"), Attrs]),
    ("lib.attrsets.getAttrs", &[Raw("[ \"a\" ]"), Raw("{ a = 1; b = 2; }")]),
    ("lib.attrsets.matchAttrs", &[Raw("{ a = 1; }"), Attrs]),
    ("lib.attrsets.overrideExisting", &[Attrs, Attrs]),
    ("lib.attrsets.showAttrPath", &[AttrPath]),
    ("lib.attrsets.longestValidPathPrefix", &[AttrPath, NestedAttrs]),
    ("lib.attrsets.mapAttrsToListRecursive", &[Raw("(p: v: p)"), NestedAttrs]),
    // lib.trivial, lib.fixedPoints, lib.generators, lib.versions ...
    ("lib.id", &[Int]),
    ("lib.const", &[Int, Str]),
    ("lib.flip", &[Raw("(a: b: a - b)"), Int, Int]),
    ("lib.mod", &[Int, Raw("7")]),
    ("lib.min", &[Int, Int]),
    ("lib.max", &[Int, Int]),
    ("lib.compare", &[Int, Int]),
    ("lib.boolToString", &[Bool]),
    ("lib.toHexString", &[SmallNat]),
    ("lib.toBaseDigits", &[Raw("2"), SmallNat]),
    ("lib.trivial.xor", &[Bool, Bool]),
    ("lib.trivial.pipe", &[Int, Raw("[ (x: x + 1) (x: x * 2) ]")]),
    ("lib.fix", &[Raw("(self: { a = 1; b = self.a + 1; })")]),
    ("lib.extends", &[Raw("(final: prev: { b = prev.a * 10; })"), Raw("(self: { a = 2; b = 0; })"), Raw("{ a = 3; }")]),
    ("lib.versions.major", &[Version]),
    ("lib.versions.majorMinor", &[Raw("\"2.12.1\"")]),
    ("lib.versions.splitVersion", &[Version]),
    ("lib.generators.toKeyValue", &[Raw("{}"), Attrs]),
    ("lib.generators.toINI", &[Raw("{}"), Raw("{ sec = { a = 1; b = \"x\"; }; }")]),
    ("lib.generators.toJSON", &[Raw("{}"), NestedAttrs]),
    ("lib.generators.toPretty", &[Raw("{}"), NestedAttrs]),
    ("lib.generators.toDhall", &[Raw("{}"), Attrs]),
    ("lib.generators.toGitINI", &[Raw("{ user = { name = \"x\"; }; }")]),
    ("lib.strings.toJSON", &[NestedAttrs]),
    ("lib.showOption", &[AttrPath]),
    ("lib.types.str.check", &[Str]),
    ("lib.types.int.check", &[Int]),
    ("lib.types.ints.positive.check", &[Int]),
    ("(lib.types.listOf lib.types.int).check", &[IntList]),
    ("(lib.types.enum [ \"a\" \"b\" ]).check", &[Word]),
    ("lib.isStringLike", &[Str]),
    ("lib.isFunction", &[Raw("(x: x)")]),
    ("lib.mergeAttrsList", &[Raw("[ { a = 1; } { b = 2; } { a = 3; } ]")]),
    ("lib.modules.mkIf true", &[Int]),
    ("lib.mkMerge", &[Raw("[ { a = 1; } ]")]),
    ("lib.mkOverride 10", &[Int]),
    ("lib.mkOrder 500", &[Int]),
];

fn case_expr(name: &str, args: &[Arg], r: &mut Rng) -> String {
    let mut e = format!("({name})");
    for a in args {
        let _ = write!(e, " {}", a.generate(r));
    }
    e
}

fn evaluate(program: &str, dir: &Path, use_dendrite: Option<&Path>) -> Result<String, String> {
    let file = dir.join("case.nix");
    std::fs::write(&file, program).map_err(|e| e.to_string())?;
    let mut cmd = match use_dendrite {
        Some(bin) => {
            let mut c = Command::new(bin);
            c.arg("eval");
            c
        }
        None => {
            let mut c = Command::new("nix-instantiate");
            c.arg("--eval").env("NIX_STATE_DIR", dir.join("nix-state"));
            c
        }
    };
    cmd.arg("--strict").arg(&file).current_dir(dir);
    let o = util::run_limited(cmd, None, Duration::from_secs(120));
    if o.code == Some(0) {
        Ok(String::from_utf8_lossy(&o.stdout).trim_end().to_string())
    } else {
        let err = String::from_utf8_lossy(&o.stderr);
        Err(err.lines().find(|l| l.contains("error")).unwrap_or("failed").to_string())
    }
}

/// Runs the comparison; `per_function` calls are generated for each case.
pub fn run(per_function: usize, seed: u64) -> Result<(), String> {
    if Command::new("nix-instantiate").arg("--version").output().is_err() {
        println!("lib-diff: skipped: the oracle nix-instantiate is not installed (apt-get install nix-bin)");
        return Ok(());
    }
    let lib = util::corpus()?.join("nixpkgs-lib/lib");
    let bin = util::dendrite_binary()?;
    let dir = util::target_dir().join("lib-diff");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut r = Rng(seed | 1);
    let mut calls: Vec<(String, String)> = Vec::new();
    for (name, args) in CASES {
        for _ in 0..per_function {
            calls.push((name.to_string(), case_expr(name, args, &mut r)));
        }
    }
    let wrap = |e: &str| format!("(let r = builtins.tryEval ({e}); in if r.success then r.value else \"«throws»\")");
    let program = |items: &[&(String, String)]| {
        let body: Vec<String> = items.iter().map(|(_, e)| wrap(e)).collect();
        format!("let lib = import {}; in [\n{}\n]\n", lib.display(), body.join("\n"))
    };
    let all: Vec<&(String, String)> = calls.iter().collect();
    let nix = evaluate(&program(&all), &dir, None);
    let ours = evaluate(&program(&all), &dir, Some(&bin));
    let functions: std::collections::BTreeSet<&str> = CASES.iter().map(|(n, _)| *n).collect();
    if nix.is_ok() && nix == ours {
        println!(
            "lib-diff: {} calls of {} nixpkgs lib functions print identically with dendrite and nix-instantiate {}",
            calls.len(),
            functions.len(),
            oracle_version()
        );
        return Ok(());
    }
    // Narrow the difference down to individual calls.
    let mut differing = Vec::new();
    let mut oracle_failures = 0;
    for c in &calls {
        let n = evaluate(&program(&[c]), &dir, None);
        if n.is_err() {
            oracle_failures += 1;
            println!("  the oracle cannot evaluate: {}", c.1);
            continue;
        }
        let d = evaluate(&program(&[c]), &dir, Some(&bin));
        if n != d {
            differing.push(format!("{}\n    nix:      {:?}\n    dendrite: {:?}", c.1, n, d));
        }
    }
    if differing.is_empty() {
        println!(
            "lib-diff: {} calls of {} functions agree ({oracle_failures} calls the oracle cannot evaluate were skipped)",
            calls.len(),
            functions.len()
        );
        return Ok(());
    }
    for d in &differing {
        println!("  {d}");
    }
    Err(format!("lib-diff: {} of {} calls differ", differing.len(), calls.len()))
}

fn oracle_version() -> String {
    Command::new("nix-instantiate")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().replace("nix-instantiate ", ""))
        .unwrap_or_default()
}

/// The names of the compared functions, for the documentation.
pub fn function_list() -> Vec<&'static str> {
    let mut v: Vec<&str> = CASES.iter().map(|(n, _)| *n).collect();
    v.dedup();
    v
}
