//! The native option types against nixpkgs' interpreted `lib/types.nix`:
//! the same cases (descriptions, checks, merges, type merging, module
//! evaluations, error messages) are evaluated with the native exports and
//! with the interpreted `lib.types`, and must print the same.

use std::path::PathBuf;

use dendrite_eval::value::{Attr, Value};
use dendrite_eval::{EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase};

fn lib_dir() -> Option<PathBuf> {
    dendrite_corpus::dir_or_skip("nixpkgs-lib/lib")
}

/// Cases: a function of `types` and `lib` returning a list of
/// `{ name; value; }`; each value is forced deeply on its own.
const CASES: &str = r#"
types: lib:
let
  file = "/cases.nix";
  defsOf = map (v: { inherit file; value = v; });
  merge = type: defs: (lib.modules.mergeDefinitions [ "opt" ] type (defsOf defs)).mergedValue;
  check = type: values: map type.check values;
  show = t: {
    inherit (t) name description descriptionClass;
    functor = t.functor.name;
    hasPayload = t.functor.payload != null;
    empty = t.emptyValue;
    subModules = if t.getSubModules == null then null else builtins.length t.getSubModules;
    deprecated = t.deprecationMessage;
    nested = builtins.attrNames t.nestedTypes;
    v2 = t.merge ? v2;
  };
  evalOpt = type: defs:
    (lib.evalModules {
      modules = [ { options.o = lib.mkOption { inherit type; }; } ]
        ++ map (d: { _file = "/def.nix"; config.o = d; }) defs;
    }).config.o;
  evalOptDefault = type: default: defs:
    (lib.evalModules {
      modules = [ { options.o = lib.mkOption { inherit type default; }; } ]
        ++ map (d: { _file = "/def.nix"; config.o = d; }) defs;
    }).config.o;
  tm = a: b: let m = a.typeMerge b.functor; in if m == null then null else show m;
  samples = [ 1 (-3) 0 256 70000 1.5 "" " " "a" "a\n" "a\nb" "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x" "/abs" true null [ ] [ 1 ] { } { a = 1; } ];
  leaves = {
    inherit (types) raw anything unspecified bool boolByOr int float number str nonEmptyStr singleLineStr
      lines commas envVar attrs package shellPackage path pathInStore externalPath port luaInline
      optionDeclaration optionType deferredModule json toml pkgs;
    u8 = types.ints.u8; u16 = types.ints.u16; u32 = types.ints.u32;
    s8 = types.ints.s8; s16 = types.ints.s16; s32 = types.ints.s32;
    unsigned = types.ints.unsigned; positive = types.ints.positive;
    between = types.ints.between (-21) 43;
    nbetween = types.numbers.between 0.5 10;
    nonneg = types.numbers.nonnegative; npos = types.numbers.positive;
    sm = types.strMatching "[a-z]+";
    sep = types.separatedString "; ";
    enum0 = types.enum [ ];
    enum1 = types.enum [ "a" ];
    enums = types.enum [ "a" 1 true null ];
    pw = types.pathWith { absolute = false; };
    passwd = types.passwdEntry types.str;
  };
  composites = {
    listOfInt = types.listOf types.int;
    nonEmpty = types.nonEmptyListOf types.str;
    attrsOfStr = types.attrsOf types.str;
    lazyAttrs = types.lazyAttrsOf types.int;
    attrsWith = types.attrsWith { elemType = types.int; placeholder = "id"; };
    nullOrInt = types.nullOr types.int;
    uniqInt = types.uniq types.int;
    uniqueMsg = types.unique { message = "only one"; } types.str;
    fnTo = types.functionTo types.int;
    eitherIS = types.either types.int types.str;
    eitherNrc = types.either types.ints.unsigned types.str;
    oneOf3 = types.oneOf [ types.int types.str types.bool ];
    coerced = types.coercedTo types.int toString types.str;
    addChecked = types.addCheck types.int (x: x > 2);
    addCheckedV2 = types.addCheck (types.attrsOf types.int) (x: x ? a);
    sub = types.submodule { options.x = lib.mkOption { type = types.int; default = 1; }; };
    subWith = types.submoduleWith { modules = [ ]; description = "thing"; };
    deferredWith = types.deferredModuleWith { staticModules = [ ]; };
    loa = types.loaOf types.int;
    attrList = types.attrListOf types.int;
    attrListAttrs = types.attrListWith { elemType = types.str; asAttrs = true; };
    tag = types.attrTag { a = lib.mkOption { type = types.int; }; b = lib.mkOption { type = types.str; }; };
  };
in
  lib.mapAttrsToList (n: t: { name = "show ${n}"; value = show t; }) (leaves // composites)
  ++ lib.mapAttrsToList (n: t: { name = "check ${n}"; value = check t samples; }) leaves
  ++ lib.mapAttrsToList (n: t: { name = "check ${n}"; value = check t (samples ++ [ [ "x" ] { a = "x"; } ]); }) composites
  ++ [
    { name = "merge int"; value = merge types.int [ 1 1 ]; }
    { name = "merge int conflict"; value = merge types.int [ 1 2 ]; }
    { name = "merge int bad"; value = merge types.int [ "x" ]; }
    { name = "merge boolByOr"; value = merge types.boolByOr [ false true false ]; }
    { name = "merge lines"; value = merge types.lines [ "a" "b" ]; }
    { name = "merge singleLineStr"; value = merge types.singleLineStr [ "abc\n" ]; }
    { name = "merge anything"; value = merge types.anything [ { a.b = 1; } { a.c = [ 1 ]; } { d = "x"; } ]; }
    { name = "merge anything fn"; value = (merge types.anything [ (x: { a = x; }) (x: { b = x; }) ]) 3; }
    { name = "merge anything conflict"; value = merge types.anything [ 1 "x" ]; }
    { name = "merge anything lists"; value = merge types.anything [ [ 1 ] [ 2 ] ]; }
    { name = "merge raw"; value = merge types.raw [ 1 2 ]; }
    { name = "merge listOf"; value = merge (types.listOf types.int) [ [ 1 2 ] [ (lib.mkIf false 5) 3 ] ]; }
    { name = "merge listOf bad"; value = merge (types.listOf types.int) [ [ "x" ] ]; }
    { name = "merge listOf notlist"; value = merge (types.listOf types.int) [ 3 ]; }
    { name = "merge nonEmpty"; value = merge (types.nonEmptyListOf types.int) [ [ ] ]; }
    { name = "merge attrsOf"; value = merge (types.attrsOf types.int) [ { a = 1; b = lib.mkIf false 2; } { c = 3; } ]; }
    { name = "merge attrsOf bad"; value = merge (types.attrsOf types.int) [ { a = "x"; } ]; }
    { name = "merge lazyAttrsOf"; value = builtins.attrNames (merge (types.lazyAttrsOf types.int) [ { a = 1; b = lib.mkIf false 2; } ]); }
    { name = "merge lazyAttrsOf nullOr"; value = merge (types.lazyAttrsOf (types.nullOr types.int)) [ { a = 1; b = lib.mkIf false 2; } ]; }
    { name = "merge nullOr"; value = merge (types.nullOr types.int) [ null null ]; }
    { name = "merge nullOr mixed"; value = merge (types.nullOr types.int) [ null 1 ]; }
    { name = "merge uniq"; value = merge (types.uniq types.int) [ 1 1 ]; }
    { name = "merge unique msg"; value = merge (types.unique { message = "just one"; } types.int) [ 1 2 ]; }
    { name = "merge functionTo"; value = (merge (types.functionTo (types.listOf types.int)) [ (x: [ x ]) (x: [ (x + 1) ]) ]) 1; }
    { name = "merge functionTo args"; value = lib.functionArgs (merge (types.functionTo types.int) [ ({ a, b ? 1 }: a) ({ a ? 2, b ? 1 }: b) ]); }
    { name = "merge either"; value = merge (types.either types.int types.str) [ "x" ]; }
    { name = "merge either neither"; value = merge (types.either types.int types.str) [ true ]; }
    { name = "merge oneOf"; value = merge (types.oneOf [ types.int types.bool (types.listOf types.int) ]) [ [ 1 ] [ 2 ] ]; }
    { name = "merge coercedTo"; value = merge (types.coercedTo types.int toString types.str) [ 42 ]; }
    { name = "merge coercedTo bad"; value = merge (types.coercedTo types.int toString types.str) [ [ ] ]; }
    { name = "merge coercedTo list"; value = merge (types.coercedTo types.str (x: [ x ]) (types.listOf types.str)) [ "a" [ "b" ] ]; }
    { name = "merge addCheck"; value = merge (types.addCheck types.int (x: x > 2)) [ 1 ]; }
    { name = "merge addCheck v2"; value = merge (types.addCheck (types.attrsOf types.int) (x: x ? a)) [ { b = 1; } ]; }
    { name = "merge adhoc"; value = merge (types.either ((types.attrsOf types.int) // { check = x: true; }) types.str) [ { } ]; }
    { name = "merge enum"; value = merge (types.enum [ "a" "b" ]) [ "a" ]; }
    { name = "merge enum bad"; value = merge (types.enum [ "a" "b" ]) [ "c" ]; }
    { name = "merge ints bad"; value = merge types.ints.u8 [ 300 ]; }
    { name = "merge between bad"; value = merge (types.ints.between (-21) 43) [ (-23) ]; }
    { name = "merge strMatching bad"; value = merge (types.strMatching "[a-z]+") [ "A" ]; }
    { name = "merge attrs"; value = merge types.attrs [ { a = 1; } { b = 2; a = 3; } ]; }
    { name = "merge deferred"; value = builtins.length (merge types.deferredModule [ { } { } ]).imports; }
    { name = "merge optionType"; value = (merge types.optionType [ (types.listOf types.int) (types.listOf types.int) ]).description; }
    { name = "merge optionType one"; value = (merge types.optionType [ types.str ]).name; }
    { name = "merge attrTag"; value = merge composites.tag [ { a = 1; } ]; }
    { name = "merge attrTag both"; value = merge composites.tag [ { a = 1; } { b = "x"; } ]; }
    { name = "merge attrTag bad"; value = merge composites.tag [ { c = 1; } ]; }
    { name = "merge package"; value = (merge types.package [ "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x" ]).name; }
    { name = "merge attrList"; value = merge (types.attrListOf types.int) [ [ { a = 1; } (lib.mkOrder 50 { b = 2; }) { c = lib.mkBefore 3; } ] { d = 4; e = lib.mkForce 5; } [ { e = 6; } { f = lib.mkIf false 1; } ] ]; }
    { name = "merge attrList lazy"; value = merge (types.attrListOf types.int) [ [ { a = lib.mkDefault (throw "not me"); } { a = lib.mkForce 42; } ] ]; }
    { name = "merge attrList asAttrs"; value = merge (types.attrListWith { elemType = types.str; asAttrs = true; }) [ [ { a = "x"; } { a = "y"; } ] { b = "z"; } ]; }
    { name = "merge attrList asAttrs fn"; value = merge (types.attrListWith { elemType = types.str; asAttrs = true; mergeAttrValues = n: vs: lib.concatStrings vs; }) [ [ { a = "x"; } { a = "y"; } ] ]; }
    { name = "merge attrList bad elem"; value = merge (types.attrListOf types.int) [ [ { a = 1; b = 2; } ] ]; }
    { name = "merge attrList bad str"; value = merge (types.attrListOf types.int) [ [ "x" ] ]; }
    { name = "merge attrList bad"; value = merge (types.attrListOf types.int) [ "x" ]; }
    { name = "merge attrList meta"; value = let t = types.attrListOf types.int; r = t.merge.v2 { loc = [ "o" ]; defs = defsOf [ [ { a = 1; } ] ]; }; in { inherit (r.valueMeta) attrListValue definitions; }; }
    { name = "lazy listOf"; value = (types.listOf (throw "elem")).name; }
    { name = "lazy attrsOf"; value = (types.attrsOf (throw "elem")).descriptionClass; }
    { name = "lazy either"; value = (types.either (throw "a") (throw "b")).name; }
    { name = "lazy nullOr"; value = (types.nullOr (throw "x")).emptyValue; }
    { name = "lazy submodule"; value = (types.submodule (throw "m")).name; }
    { name = "lazy coercedTo"; value = (types.coercedTo types.int (throw "f") types.str).name; }
    { name = "lazy unique"; value = (types.uniq (throw "t")).name; }
    { name = "lazy functionTo"; value = builtins.attrNames (merge (types.functionTo (throw "t")) [ (x: x) ]); }
    { name = "lazy lazyAttrsOf names"; value = builtins.attrNames (merge (types.lazyAttrsOf types.int) [ { a = throw "lazy"; b = 1; } ]); }
    { name = "lazy lazyAttrsOf value"; value = (merge (types.lazyAttrsOf types.int) [ { a = throw "lazy"; b = 1; } ]).b; }
    { name = "strict attrsOf names"; value = builtins.attrNames (merge (types.attrsOf types.int) [ { a = throw "strict"; b = 1; } ]); }
    { name = "strict listOf length"; value = builtins.length (merge (types.listOf types.int) [ [ (throw "strict") 1 ] ]); }
    { name = "lazy listOf elems"; value = builtins.length (merge (types.listOf types.raw) [ [ { x = throw "inner"; } 1 ] ]); }
    { name = "lazy submodule config"; value = (evalOpt composites.sub [ { x = 2; } ]).x; }
    { name = "between wrong"; value = (types.ints.between 5 1).name; }
    { name = "oneOf empty"; value = (types.oneOf [ ]).name; }
    { name = "coercedTo sub"; value = (types.coercedTo composites.sub (x: x) types.str).name; }
    { name = "pathWith bad"; value = (types.pathWith { inStore = true; absolute = false; }).name; }
    { name = "tm listOf"; value = tm (types.listOf types.int) (types.listOf types.int); }
    { name = "tm listOf mismatch"; value = tm (types.listOf types.int) (types.listOf types.str); }
    { name = "tm attrsWith"; value = tm (types.attrsWith { elemType = types.int; placeholder = "x"; }) (types.attrsOf types.int); }
    { name = "tm enum"; value = (composites.eitherIS.typeMerge composites.eitherIS.functor).description; }
    { name = "tm enums"; value = (lib.mergeTypes (types.enum [ "a" "b" ]) (types.enum [ "b" "c" ])).description; }
    { name = "tm sep"; value = tm types.lines types.lines; }
    { name = "tm sep mismatch"; value = tm types.lines types.commas; }
    { name = "tm strMatching"; value = tm (types.strMatching "a") (types.strMatching "a"); }
    { name = "tm path"; value = tm types.path types.pathInStore; }
    { name = "tm int str"; value = tm types.int types.str; }
    { name = "tm int int"; value = tm types.int types.int; }
    { name = "tm coerced"; value = tm composites.coerced composites.coerced; }
    { name = "tm nullOr"; value = tm (types.nullOr types.str) (types.nullOr types.str); }
    { name = "tm fn"; value = tm (types.functionTo types.str) (types.functionTo types.str); }
    { name = "tm sub"; value = tm composites.sub composites.sub; }
    { name = "tm deferred"; value = tm types.deferredModule types.deferredModule; }
    { name = "mergeTypes error"; value = lib.mergeTypes types.int types.str; }
    { name = "eval sub"; value = evalOpt composites.sub [ { x = 2; } ]; }
    { name = "eval sub default"; value = evalOptDefault composites.sub { } [ ]; }
    { name = "eval attrsOf sub"; value = evalOpt (types.attrsOf composites.sub) [ { a = { }; b.x = 3; } { a.x = lib.mkForce 5; } ]; }
    { name = "eval listOf sub"; value = evalOpt (types.listOf composites.sub) [ [ { } { x = 7; } ] ]; }
    { name = "eval sub bad"; value = evalOpt composites.sub [ { x = "s"; } ]; }
    { name = "eval sub wrong type"; value = evalOpt composites.sub [ 3 ]; }
    { name = "eval attrsOf mkIf"; value = evalOpt (types.attrsOf types.int) [ { a = lib.mkIf false 1; b = 2; } ]; }
    { name = "eval either"; value = evalOpt (types.either types.int types.str) [ "24" ]; }
    { name = "eval nullOr sub"; value = evalOpt (types.nullOr composites.sub) [ { x = 9; } ]; }
    { name = "eval subWith name"; value = evalOpt (types.attrsOf (types.submodule ({ name, ... }: { options.n = lib.mkOption { default = name; }; }))) [ { foo = { }; } ]; }
    { name = "eval deferred"; value = (lib.evalModules { modules = [ (evalOpt types.deferredModule [ { options.q = lib.mkOption { default = 4; }; } ]) ]; }).config.q; }
    { name = "eval freeform"; value = evalOpt (types.submodule { freeformType = types.attrsOf types.str; }) [ { a = "b"; } ]; }
    { name = "desc freeform"; value = (types.submodule { freeformType = types.attrsOf types.str; }).description; }
    { name = "suboptions"; value = builtins.attrNames ((types.attrsOf composites.sub).getSubOptions [ "p" ]); }
    { name = "suboptions loc"; value = ((types.listOf composites.sub).getSubOptions [ "p" ]).x.loc; }
    { name = "suboptions tag"; value = (composites.tag.getSubOptions [ "p" ]).a.loc; }
    { name = "subst"; value = show ((types.attrsOf composites.sub).substSubModules [ ]); }
    { name = "setType"; value = types.setType "x" { a = 1; }; }
    { name = "isType"; value = [ (types.isType "x" { _type = "x"; }) (types.isType "x" 1) (types.isOptionType types.int) ]; }
    { name = "mkOptionType"; value = show (types.mkOptionType { name = "mine"; }); }
    { name = "mkOptionType merge"; value = (types.mkOptionType { name = "mine"; }).merge [ "l" ] (defsOf [ [ 1 ] [ 2 ] ]); }
    { name = "defaultFunctor"; value = (types.defaultFunctor "int").name; }
    { name = "phrase"; value = types.optionDescriptionPhrase (c: c == "noun") (types.listOf types.int); }
  ]
"#;

/// Evaluates every case with the given `types`, printing each result or
/// its error message.
fn run_cases(ev: &mut Evaluator, cases: &Value, types: Value, lib: &Value) -> Vec<(String, String)> {
    let span = ev.builtin_span();
    let list = ev.call_n(cases.clone(), &[types, lib.clone()], span).expect("the cases evaluate");
    let list = ev.expect_list(&list).expect("a list of cases");
    let mut out = Vec::new();
    for case in list.iter() {
        let name = ev.select_str(case, "name", span).expect("a name");
        let name = ev.expect_string(&name).expect("a string name").to_str_lossy().into_owned();
        let shown = match ev.select_str(case, "value", span).and_then(|v| ev.deep_force(&v)) {
            Ok(v) => match dendrite_eval::print::print_strict(ev, &v) {
                Ok(s) => s,
                Err(e) => format!("error printing: {}", e.message()),
            },
            Err(e) => format!("error: {}", e.message()),
        };
        out.push((name, normalise(&shown)));
    }
    out
}

/// Functions print differently (`<LAMBDA>`, `<PRIMOP>`, native `<CODE>`).
fn normalise(s: &str) -> String {
    let mut s = s.to_string();
    for f in ["<LAMBDA>", "<PRIMOP>", "<PRIMOP-APP>", "<CODE>"] {
        s = s.replace(f, "<FUNCTION>");
    }
    s
}

#[test]
fn native_types_match_interpreted_types() {
    let Some(lib_path) = lib_dir() else { return };
    let (interpreted, native) = dendrite_eval::run_with_stack(move || {
        let settings = EvalSettings { print_traces: false, ..EvalSettings::default() };
        let mut ev = Evaluator::new(RootDatabase::default(), settings);
        let origin = Origin::String(std::env::temp_dir());
        let lib = ev.eval_string(&format!("import {}", lib_path.display()), origin.clone()).expect("lib evaluates");
        let cases = ev.eval_string(CASES, origin).expect("the cases parse");
        let span = ev.builtin_span();
        let types = ev.select_str(&lib, "types", span).expect("lib.types");
        let interpreted = run_cases(&mut ev, &cases, types.clone(), &lib);
        let natives: Vec<Attr> = dendrite_modules::types::native_exports(&mut ev, &lib);
        assert!(natives.len() > 60, "only {} native exports", natives.len());
        let base = ev.expect_attrs(&types).expect("types is a set");
        let overlaid =
            Value::Attrs(std::rc::Rc::new(base.update(&dendrite_eval::value::Attrs::from_unsorted(natives))));
        let native = run_cases(&mut ev, &cases, overlaid, &lib);
        (interpreted, native)
    });
    if std::env::var_os("SHOW_CASES").is_some() {
        for (n, v) in &native {
            eprintln!("{n}: {v}");
        }
    }
    assert_eq!(interpreted.len(), native.len());
    let mut diffs = Vec::new();
    for ((name, a), (_, b)) in interpreted.iter().zip(native.iter()) {
        if a != b {
            diffs.push(format!("{name}:\n  interpreted: {a}\n  native:      {b}"));
        }
    }
    assert!(diffs.is_empty(), "{} of {} cases differ:\n{}", diffs.len(), interpreted.len(), diffs.join("\n"));
}
