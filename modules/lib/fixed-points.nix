# Fixed points of functions and overlay-style extension of them.
{ lib }:
let
  fp = lib.fixedPoints;
in
{
  fix =
    f:
    let
      result = f result;
    in
    result;

  # Like `fix`, remembering the function so the result can be re-tied.
  fix' =
    f:
    let
      result = f result // { __unfix__ = f; };
    in
    result;

  converge =
    f: x:
    let
      next = f x;
    in
    if next == x then x else fp.converge f next;

  # `extends overlay f` is the function whose fixed point is that of `f`
  # with the overlay's attributes laid over it.
  extends =
    overlay: f: final:
    let
      prev = f final;
    in
    prev // overlay final prev;

  composeExtensions =
    first: second: final: prev:
    let
      fromFirst = first final prev;
    in
    fromFirst // second final (prev // fromFirst);

  composeManyExtensions = lib.lists.foldr fp.composeExtensions (_: _: { });

  makeExtensible = fp.makeExtensibleWithCustomName "extend";

  makeExtensibleWithCustomName =
    name: rattrs:
    fp.fix' (
      self: rattrs self // { ${name} = overlay: fp.makeExtensibleWithCustomName name (fp.extends overlay rattrs); }
    );

  # Accepts an overlay (final: prev: ..), a function of prev only, or a plain
  # attribute set, and returns an overlay.
  toExtension =
    v:
    if !lib.trivial.isFunction v then
      _: _: v
    else
      final: prev:
      let
        onPrev = v prev;
      in
      if lib.trivial.isFunction onPrev then v final prev else onPrev;
}
