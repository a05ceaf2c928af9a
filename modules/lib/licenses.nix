# Software licences: a selection of common ones (the complete nixpkgs table
# is not reproduced), the SPDX-style operators and predicates on them.
{ lib }:
let
  b = builtins;
  inherit (lib.attrsets) optionalAttrs;

  # A simple licence; an SPDX id also gives the licence's spdx.org page.
  simple =
    shortName:
    {
      free ? true,
      deprecated ? false,
      redistributable ? free,
      spdxId ? null,
      fullName ? null,
      url ? null,
    }@given:
    {
      inherit shortName free deprecated redistributable;
      licenseType = "simple";
    }
    // optionalAttrs (given ? spdxId) {
      inherit spdxId;
      url = "https://spdx.org/licenses/${spdxId}.html";
    }
    // optionalAttrs (given ? url) { inherit url; }
    // optionalAttrs (given ? fullName) { inherit fullName; };

  spdx = spdxId: fullName: { inherit spdxId fullName; };

  table = {
    agpl3Only = spdx "AGPL-3.0-only" "GNU Affero General Public License v3.0 only";
    agpl3Plus = spdx "AGPL-3.0-or-later" "GNU Affero General Public License v3.0 or later";
    # Deprecated in nixpkgs: easily confused with asl20.
    apsl20 = spdx "APSL-2.0" "Apple Public Source License 2.0" // { deprecated = true; };
    asl20 = spdx "Apache-2.0" "Apache License 2.0";
    bsd0 = spdx "0BSD" "BSD Zero Clause License";
    bsd2 = spdx "BSD-2-Clause" "BSD 2-clause \"Simplified\" License";
    bsd3 = spdx "BSD-3-Clause" "BSD 3-clause \"New\" or \"Revised\" License";
    cc0 = spdx "CC0-1.0" "Creative Commons Zero v1.0 Universal";
    cc-by-40 = spdx "CC-BY-4.0" "Creative Commons Attribution 4.0";
    cc-by-sa-40 = spdx "CC-BY-SA-4.0" "Creative Commons Attribution Share Alike 4.0";
    free.fullName = "Unspecified free software license";
    gpl2Only = spdx "GPL-2.0-only" "GNU General Public License v2.0 only";
    gpl2Plus = spdx "GPL-2.0-or-later" "GNU General Public License v2.0 or later";
    gpl3Only = spdx "GPL-3.0-only" "GNU General Public License v3.0 only";
    gpl3Plus = spdx "GPL-3.0-or-later" "GNU General Public License v3.0 or later";
    isc = spdx "ISC" "ISC License";
    lgpl21Only = spdx "LGPL-2.1-only" "GNU Lesser General Public License v2.1 only";
    lgpl21Plus = spdx "LGPL-2.1-or-later" "GNU Lesser General Public License v2.1 or later";
    lgpl3Only = spdx "LGPL-3.0-only" "GNU Lesser General Public License v3.0 only";
    lgpl3Plus = spdx "LGPL-3.0-or-later" "GNU Lesser General Public License v3.0 or later";
    mit = spdx "MIT" "MIT License";
    mpl20 = spdx "MPL-2.0" "Mozilla Public License 2.0";
    ofl = spdx "OFL-1.1" "SIL Open Font License 1.1";
    publicDomain.fullName = "Public Domain";
    unfree = {
      fullName = "Unfree";
      free = false;
    };
    unfreeRedistributable = {
      fullName = "Unfree redistributable";
      free = false;
      redistributable = true;
    };
    unlicense = spdx "Unlicense" "The Unlicense";
    wtfpl = spdx "WTFPL" "Do What The F*ck You Want To Public License";
    zlib = spdx "Zlib" "zlib License";
  };

  operators = {
    OR = licenses: {
      licenseType = "compound";
      operator = "OR";
      inherit licenses;
    };
    AND = licenses: {
      licenseType = "compound";
      operator = "AND";
      inherit licenses;
    };
    WITH = license: exception: {
      licenseType = "exception";
      operator = "WITH";
      inherit license exception;
    };
    PLUS = license: {
      licenseType = "plus";
      operator = "+";
      inherit license;
    };
  };

  # Evaluates `test` on the simple licences of a compound one. Permissive:
  # an OR needs one side, an AND both; strict swaps the two.
  evaluateWith =
    test: permissive:
    let
      eval =
        l:
        if l.licenseType == "simple" then
          test l
        else if l.licenseType == "compound" then
          (
            if l.operator == "OR" then
              (if permissive then b.any else b.all) eval l.licenses
            else if l.operator == "AND" then
              (if permissive then b.all else b.any) eval l.licenses
            else
              throw "Unknown license operator"
          )
        else if l.licenseType == "exception" then
          eval l.license && eval l.exception
        else if l.licenseType == "plus" then
          eval l.license
        else
          throw "Unknown license type or legacy license";
    in
    eval;

  helpers = rec {
    evaluateProperty = evaluateWith;
    evaluateNamedProperty = name: evaluateWith (l: l.${name});
    isFree = evaluateNamedProperty "free" true;
    isRedistributable = evaluateNamedProperty "redistributable" true;
    containsLicenses = licenses: evaluateWith (l: b.elem l licenses) false;
    toSPDX =
      l:
      let
        grouped = x: if x.licenseType == "compound" || x.licenseType == "exception" then "(${toSPDX x})" else toSPDX x;
      in
      if l.licenseType == "simple" then
        l.spdxId or "LicenseRef-nixos-${l.shortName}"
      else if l.licenseType == "compound" then
        b.concatStringsSep " ${l.operator} " (map grouped l.licenses)
      else if l.licenseType == "exception" then
        "${grouped l.license} ${l.operator} ${grouped l.exception}"
      else if l.licenseType == "plus" then
        "${grouped l.license}${l.operator}"
      else
        throw "Unknown license type";
  };
in
b.mapAttrs simple table // operators // helpers
