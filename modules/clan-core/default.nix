# dendrite's model of the clan-core flake input.
#
# Used by `dendrite check` when the clan-core input is not on disk: it returns
# the part of clan-core's outputs that user flakes consume (flakeModules,
# lib.clan, nixosModules.clanCore / darwinModules.clanCore, clan.modules),
# typed like upstream so that mistakes in a user's `clan` configuration are
# caught, plus `dendrite`, the data the checker reads (see README.md).
# Nothing here builds a system: outputs that need nixpkgs are `unknown`.
{
  lib,
  unknown,
  isUnknown ? (_: false),
  flake-parts-lib ? null,
}:
let
  mkUnknown = unknown;
in
let
  # Inside the model `unknown` is a value (forcing it skips the check that
  # needed it); `isUnknown` tells an opaque input from a real one.
  unknown = mkUnknown "a clan-core output that needs nixpkgs";
  clanLib = import ./lib.nix { inherit lib; };

  # Built-in services, one file per service; the attribute names are the
  # names clan-core exports under `clan.modules` (the directory names upstream).
  serviceNames = lib.mapAttrsToList (file: _: lib.removeSuffix ".nix" file) (
    lib.filterAttrs (file: kind: kind == "regular" && lib.hasSuffix ".nix" file) (
      builtins.readDir ./services
    )
  );
  services = lib.genAttrs serviceNames (name: ./services + "/${name}.nix");

  clanCore = import ./core.nix;

  # The outputs of the model flake, passed back into the clan module as
  # `clan-core` so that the same resolution paths as upstream work
  # (`module.input = null` means these built-in services).
  self = {
    _type = "flake";
    outPath = "/dendrite-model/clan-core";
    dendriteIsUnknown = isUnknown;
    inherit clanLib;
    lib = clanLib // {
      clan = clanLib.mkClan { clan-core = self; inherit unknown; };
      # Still public upstream, deprecated: returns the configuration itself.
      buildClan = args: (self.lib.clan args).config;
    };
    clan = {
      modules = services;
      # Services that upstream keeps only as migration stubs.
      deprecatedModules = [ ];
      templates = { };
    };
    modules.clan.default = clanLib.clanModule { clan-core = self; inherit unknown; };
    nixosModules.clanCore = clanCore;
    darwinModules.clanCore = clanCore;
    flakeModules = rec {
      clan = import ./flake-module.nix {
        inherit flake-parts-lib unknown;
        clan-core = self;
      };
      default = clan;
    };
    packages = unknown;
    inputs = { };
  };
in
self
