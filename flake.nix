# dendrite for Nix users: the package, an app, an overlay, and a flake-parts
# module that adds `checks.<system>.dendrite` to the consuming flake.
{
  description = "Check dendritic flake-parts + clan-core flakes without Nix";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      package =
        pkgs:
        pkgs.rustPlatform.buildRustPackage {
          pname = "dendrite";
          version = "0.1.0";
          src = self;
          cargoLock.lockFile = ./Cargo.lock;
          cargoBuildFlags = [
            "-p"
            "dendrite-cli"
          ];
          # The tests read ../shared/corpus, which is not part of the source.
          doCheck = false;
          meta = {
            description = "Check dendritic flake-parts + clan-core flakes without Nix";
            mainProgram = "dendrite";
            license = pkgs.lib.licenses.mit;
          };
        };
    in
    {
      packages = forAll (pkgs: {
        default = package pkgs;
      });
      apps = forAll (pkgs: {
        default = {
          type = "app";
          program = "${package pkgs}/bin/dendrite";
        };
      });
      overlays.default = final: _prev: { dendrite = package final; };
      flakeModules.default =
        { self, ... }:
        {
          perSystem =
            { pkgs, ... }:
            {
              checks.dendrite = pkgs.runCommand "dendrite-check" { } ''
                ${package pkgs}/bin/dendrite check ${self} -j 1
                touch $out
              '';
            };
        };
    };
}
