# Kinds of source a package is built from (for `meta.sourceProvenance`).
{ lib }:
builtins.mapAttrs
  (name: extra: {
    shortName = name;
    isSource = false;
  } // extra)
  {
    fromSource.isSource = true;
    binaryNativeCode = { };
    binaryBytecode = { };
    binaryFirmware = { };
    obfuscatedCode = { };
  }
