# Helpers on derivations.
{ lib }:
let
  b = builtins;

  # ", at file:line:column" of an attribute, or "".
  positionOf =
    prefix: name: set:
    let
      pos = b.unsafeGetAttrPos name set;
    in
    if pos == null then "" else "${prefix}${pos.file}:${toString pos.line}:${toString pos.column}";
  packagePosition =
    prefix: pkg: if pkg ? meta.position && b.isString pkg.meta.position then "${prefix}${pkg.meta.position}" else "";
  oneLine = lib.generators.toPretty { multiline = false; };
in
{
  inherit (b) addDrvOutputDependencies unsafeDiscardOutputDependency;

  # A derivation whose attributes can be listed without evaluating the
  # wrapped derivation, which is checked only when one of them is used.
  lazyDerivation =
    args@{
      derivation,
      meta ? null,
      passthru ? { },
      outputs ? [ "out" ],
    }:
    let
      checked =
        lib.trivial.throwIfNot (derivation.type or null == "derivation") "lazyDerivation: input must be a derivation."
          lib.trivial.throwIfNot
          (derivation.outputs == outputs)
          ''
            lib.lazyDerivation: The derivation ${derivation.name or "<unknown>"} has outputs that don't match the assumed outputs.
            Assumed outputs passed to lazyDerivation${positionOf ",\n    at " "outputs" args}:
                ${oneLine outputs};
            Actual outputs of the derivation${packagePosition ",\n    defined at " derivation}:
                ${oneLine derivation.outputs}
            If the outputs are known ahead of evaluating the derivation,
            then update the lazyDerivation call to match the actual outputs, in the same order.
            If lazyDerivation is passed a literal value, just change it to the actual outputs.
            As a result it will work as before / as intended.
            Otherwise, when the outputs are dynamic and can't be known ahead of time, it won't
            be possible to add laziness, but lib.lazyDerivation may still be useful for trimming
            the attributes.
            If you want to keep trimming the attributes, make sure that the package is in a
            variable (don't evaluate it twice!) and pass the variable and its outputs attribute
            to lib.lazyDerivation. This largely defeats laziness, but keeps the trimming.
            If none of the above works for you, replace the lib.lazyDerivation call by the
            expression in the derivation argument.
          ''
          derivation;
    in
    {
      type = "derivation";
      inherit (checked) outPath outputName drvPath name system;
      inherit outputs;
      meta = args.meta or checked.meta;
    }
    // lib.attrsets.genAttrs outputs (o: checked.${o})
    // passthru;

  optionalDrvAttr = cond: v: if cond then v else null;

  # Warns when any attribute other than the metadata is used.
  warnOnInstantiate =
    msg: drv:
    drv
    // b.mapAttrs (_: lib.trivial.warn msg) (b.removeAttrs drv [ "meta" "name" "type" "outputName" ])
    // lib.attrsets.optionalAttrs (drv ? overrideAttrs && b.isFunction drv.overrideAttrs) {
      overrideAttrs = f: lib.derivations.warnOnInstantiate msg (drv.overrideAttrs f);
    };
}
