# Tracing helpers and a tiny unit-test runner.
{ lib }:
let
  b = builtins;
  d = lib.debug;

  prettyForTrace = lib.generators.toPretty { allowPrettyValues = true; };
in
{
  inherit (b) addErrorContext trace unsafeGetAttrPos;

  traceIf =
    cond: msg: x:
    if cond then b.trace msg x else x;
  traceValFn = f: x: b.trace (f x) x;
  traceVal = d.traceValFn (x: x);
  traceSeq = x: y: b.trace (b.deepSeq x x) y;

  # Traces `x` pretty-printed down to `depth` levels; deeper lists and sets
  # are shown as […] and {…}.
  traceSeqN =
    depth: x: y:
    let
      placeholder = shown: v: {
        __pretty = _: shown;
        val = v;
      };
      cut =
        v:
        if b.isList v then
          placeholder "[…]" v
        else if b.isAttrs v then
          placeholder "{…}" v
        else
          v;
      limit =
        n: v:
        if n == 0 then
          cut v
        else if b.isList v then
          map (limit (n - 1)) v
        else if b.isAttrs v then
          b.mapAttrs (_: limit (n - 1)) v
        else
          v;
    in
    b.trace (prettyForTrace (limit depth x)) y;
  traceValSeqFn = f: v: d.traceValFn f (b.deepSeq v v);
  traceValSeq = d.traceValSeqFn (x: x);
  traceValSeqNFn =
    f: depth: v:
    d.traceSeqN depth (f v) v;
  traceValSeqN = d.traceValSeqNFn (x: x);
  traceFnSeqN =
    depth: name: f: v:
    let
      result = f v;
    in
    d.traceSeqN (depth + 1) {
      fn = name;
      from = v;
      to = result;
    } result;

  # Runs the attributes named test* (or those listed in `tests.tests`) of
  # `{ expr; expected; }` and returns the failures.
  runTests =
    tests:
    let
      selected = tests.tests or [ ];
      failed =
        name: test:
        (b.substring 0 4 name == "test" || b.elem name selected)
        && (selected == [ ] || b.elem name tests.tests)
        && test.expr != test.expected;
    in
    b.concatLists (
      b.attrValues (
        b.mapAttrs (
          name: test:
          if failed name test then
            [
              {
                inherit name;
                inherit (test) expected;
                result = test.expr;
              }
            ]
          else
            [ ]
        ) tests
      )
    );

  throwTestFailures =
    {
      failures,
      description ? "tests",
      ...
    }:
    let
      show = v: b.unsafeDiscardStringContext (prettyForTrace v);
      report = f: ''
        FAIL ${show f.name}:
        Expected:
        ${show f.expected}
        Result:
        ${show f.result}
      '';
      traced = b.foldl' (_: f: d.traceVal (report f)) null failures;
    in
    if failures == [ ] then
      null
    else
      throw (
        b.seq traced (
          "${toString (b.length failures)} ${description} failed:\n- "
          + b.concatStringsSep "\n- " (map (f: f.name) failures)
          + "\n\n"
          + b.toJSON failures
        )
      );

  testAllTrue = expr: {
    inherit expr;
    expected = map (_: true) expr;
  };
}
