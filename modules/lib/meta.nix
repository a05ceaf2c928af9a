# Derivation metadata: priorities, names, platforms, licences, executables.
{ lib }:
let
  b = builtins;
  m = lib.meta;
in
{
  addMetaAttrs =
    extra: drv:
    if drv ? overrideAttrs then
      drv.overrideAttrs (old: { meta = (old.meta or { }) // extra; })
    else
      drv // { meta = (drv.meta or { }) // extra; };
  dontDistribute = m.addMetaAttrs { hydraPlatforms = [ ]; };

  setName = name: drv: drv // { inherit name; };
  updateName = f: drv: drv // { name = f drv.name; };
  appendToName =
    suffix:
    m.updateName (
      name:
      let
        parsed = b.parseDrvName name;
      in
      "${parsed.name}-${suffix}-${parsed.version}"
    );

  mapDerivationAttrset = f: set: b.mapAttrs (_: v: if lib.attrsets.isDerivation v then f v else v) set;

  defaultPriority = 5;
  setPrio = priority: m.addMetaAttrs { inherit priority; };
  lowPrio = m.setPrio 10;
  hiPrio = m.setPrio (-10);
  lowPrioSet = m.mapDerivationAttrset m.lowPrio;
  hiPrioSet = m.mapDerivationAttrset m.hiPrio;

  # `elem` is a system double ("x86_64-linux") or a pattern matched against
  # the platform (a pattern without `parsed` describes `platform.parsed`).
  platformMatch =
    platform: elem:
    if b.isString elem then
      platform ? system && elem == platform.system
    else
      lib.attrsets.matchAttrs (if elem ? parsed then elem else { parsed = elem; }) platform;

  availableOn =
    platform: pkg:
    (!(pkg ? meta.platforms) || b.any (m.platformMatch platform) pkg.meta.platforms)
    && !(pkg ? meta.badPlatforms && b.any (m.platformMatch platform) pkg.meta.badPlatforms);

  licensesSpdx = lib.attrsets.mapAttrs' (_: l: lib.attrsets.nameValuePair l.spdxId l) (
    lib.attrsets.filterAttrs (_: l: l ? spdxId) lib.licenses
  );
  getLicenseFromSpdxIdOr =
    let
      byLowerId = lib.attrsets.mapAttrs' (id: l: lib.attrsets.nameValuePair (lib.strings.toLower id) l) m.licensesSpdx;
    in
    id: default: byLowerId.${lib.strings.toLower id} or default;
  getLicenseFromSpdxId =
    id:
    m.getLicenseFromSpdxIdOr id (
      lib.trivial.warn "getLicenseFromSpdxId: No license with the given SPDX ID found: ${id}" {
        shortName = id;
        spdxId = id;
      }
    );

  getExe =
    drv:
    m.getExe' drv (
      drv.meta.mainProgram or (lib.trivial.warn
        "getExe: Package ${
          lib.strings.escapeNixIdentifier drv.meta.name or drv.pname or drv.name
        } does not have the meta.mainProgram attribute. We'll assume that the main program has the same name for now, but this behavior is deprecated, because it leads to surprising errors when the assumption does not hold. If the package has a main program, please set `meta.mainProgram` in its definition to make this warning go away. Otherwise, if the package does not have a main program, or if you don't control its definition, use getExe' to specify the name to the program, such as lib.getExe' foo \"bar\"."
        (lib.strings.getName drv)
      )
    );
  getExe' =
    drv: exe:
    assert lib.asserts.assertMsg (lib.attrsets.isDerivation drv)
      "lib.meta.getExe': The first argument is of type ${b.typeOf drv}, but it should be a derivation instead.";
    assert lib.asserts.assertMsg (b.isString exe)
      "lib.meta.getExe': The second argument is of type ${b.typeOf exe}, but it should be a string instead.";
    assert lib.asserts.assertMsg (b.match ".*/.*" exe == null)
      "lib.meta.getExe': The second argument \"${exe}\" is a nested path with a \"/\" character, but it should just be the name of the executable instead.";
    "${lib.attrsets.getBin drv}/bin/${exe}";

  cpeFullVersionWithVendor = vendor: version: {
    inherit vendor version;
    update = "*";
  };
}
