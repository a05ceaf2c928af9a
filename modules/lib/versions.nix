# Pieces of version strings.
{ lib }:
let
  b = builtins;
  v = lib.versions;
in
{
  inherit (b) compareVersions splitVersion;

  major = version: b.elemAt (b.splitVersion version) 0;
  minor = version: b.elemAt (b.splitVersion version) 1;
  patch = version: b.elemAt (b.splitVersion version) 2;
  majorMinor = version: b.concatStringsSep "." (lib.lists.take 2 (b.splitVersion version));

  # Pads (or cuts) the numeric part to `n` components; a "-suffix" stays.
  pad =
    n: version:
    let
      numeric = b.head (lib.strings.splitString "-" version);
      suffix = lib.strings.removePrefix numeric version;
      parts = b.splitVersion numeric ++ b.genList (_: "0") n;
    in
    b.concatStringsSep "." (lib.lists.take n parts) + suffix;
}
