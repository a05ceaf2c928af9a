//! Writes a synthetic dendritic flake: N feature modules and M machines.
//!
//! `gen-dendritic OUT_DIR N M [CORPUS_DIR]`
//!
//! Every file under `modules/` is a flake-parts module. Features add NixOS
//! modules to one of a few aggregates (`flake.modules.nixos.<aggregate>`, so
//! several files merge into each aggregate); machines are
//! `flake.modules.nixos."machines/<name>"` modules that import aggregates
//! with `with config.flake.modules.nixos; [ ... ]` and enable features.
//! `eval.nix` evaluates the flake with the real flake-parts and import-tree
//! from the corpus and nixpkgs lib, then every machine's module closure, and
//! returns a JSON summary both evaluators must print identically.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const AGGREGATES: &[&str] = &["base", "development", "ai", "desktop", "server", "network", "security", "media"];

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("creating directories");
    }
    std::fs::write(path, text).expect("writing a generated file");
}

fn feature(i: usize) -> String {
    let agg = AGGREGATES[i % AGGREGATES.len()];
    let name = format!("f{i:05}");
    let mut s = String::new();
    let _ = write!(
        s,
        r#"# Feature {i}: part of the `{agg}` aggregate.
{{ config, lib, ... }}:
{{
  flake.modules.nixos.{agg} =
    {{ config, lib, ... }}:
    let
      cfg = config.features.{name};
    in
    {{
      options.features.{name} = {{
        enable = lib.mkEnableOption "feature {i}";
        port = lib.mkOption {{
          type = lib.types.port;
          default = {port};
          description = "Port of feature {i}.";
        }};
        tags = lib.mkOption {{
          type = lib.types.listOf lib.types.str;
          default = [ ];
        }};
      }};
      config = lib.mkIf cfg.enable {{
        services.enabled = [ "{name}" ];
        services.ports.{name} = cfg.port;
        environment.variables.FEATURE_{upper} = toString cfg.port;
      }};
    }};
}}
"#,
        port = 1024 + i % 60000,
        upper = name.to_uppercase(),
    );
    s
}

fn machine(m: usize, n_features: usize) -> String {
    let name = format!("m{m:04}");
    // Every machine imports `base` (it declares the shared options) and two more aggregates.
    let others = &AGGREGATES[1..];
    let first = m % others.len();
    // A different second aggregate: importing one twice would declare its options twice.
    let second = (first + 1 + (m / others.len()) % (others.len() - 1)) % others.len();
    let aggs: Vec<&str> = vec!["base", others[first], others[second]];
    let mut enabled = String::new();
    let mut chosen = Vec::new();
    for k in 0..5 {
        // Enable features that belong to one of the imported aggregates.
        let agg_index = AGGREGATES.iter().position(|a| *a == aggs[k % aggs.len()]).unwrap_or(0);
        let slot = (m * 7 + k * 13) % (n_features / AGGREGATES.len()).max(1);
        let f = slot * AGGREGATES.len() + agg_index;
        // Small trees have few slots: a feature enabled twice would be a
        // duplicate attribute.
        if f < n_features && !chosen.contains(&f) {
            chosen.push(f);
            let _ = writeln!(enabled, "      features.f{f:05}.enable = true;");
            let _ = writeln!(enabled, "      features.f{f:05}.tags = [ \"{name}\" ];");
        }
    }
    format!(
        r#"# Machine {m}.
{{ config, ... }}:
{{
  flake.modules.nixos."machines/{name}" =
    {{ lib, ... }}:
    {{
      imports = with config.flake.modules.nixos; [ {aggs} ];
      networking.hostName = "{name}";
{enabled}    }};
}}
"#,
        aggs = aggs.join(" "),
    )
}

const CORE: &str = r#"# Options every NixOS machine of the synthetic fleet shares.
{ lib, ... }:
{
  systems = [ "x86_64-linux" ];
  flake.modules.nixos.base =
    { lib, ... }:
    {
      options = {
        networking.hostName = lib.mkOption { type = lib.types.str; };
        services.enabled = lib.mkOption {
          type = lib.types.listOf lib.types.str;
          default = [ ];
        };
        services.ports = lib.mkOption {
          type = lib.types.attrsOf lib.types.port;
          default = { };
        };
        environment.variables = lib.mkOption {
          type = lib.types.attrsOf lib.types.str;
          default = { };
        };
      };
    };
}
"#;

fn eval_nix(corpus: &Path) -> String {
    let c = corpus.display();
    format!(
        r#"# Evaluates the synthetic flake and every machine's module closure.
let
  corpus = {c};
  lib = import (corpus + "/nixpkgs-lib/lib");
  fp = corpus + "/flake-parts";
  flake-parts-lib = import (fp + "/lib.nix") {{
    inherit lib;
    builtinModules = {{
      apps = fp + "/modules/apps.nix";
      checks = fp + "/modules/checks.nix";
      debug = fp + "/modules/debug.nix";
      devShells = fp + "/modules/devShells.nix";
      flake = fp + "/modules/flake.nix";
      formatter = fp + "/modules/formatter.nix";
      legacyPackages = fp + "/modules/legacyPackages.nix";
      moduleWithSystem = fp + "/modules/moduleWithSystem.nix";
      nixosConfigurations = fp + "/modules/nixosConfigurations.nix";
      nixosModules = fp + "/modules/nixosModules.nix";
      nixpkgs = fp + "/modules/nixpkgs.nix";
      overlays = fp + "/modules/overlays.nix";
      packages = fp + "/modules/packages.nix";
      perSystem = fp + "/modules/perSystem.nix";
      transposition = fp + "/modules/transposition.nix";
      withSystem = fp + "/modules/withSystem.nix";
    }};
    extraModules = {{ modules = fp + "/extras/modules.nix"; }};
  }};
  # import-tree uses builtins.readFileType (Nix >= 2.14); give older Nix a polyfill.
  import-tree =
    if builtins ? readFileType then
      import (corpus + "/import-tree")
    else
      scopedImport {{
        builtins = builtins // {{
          readFileType = p: (builtins.readDir (dirOf p)).${{baseNameOf p}};
        }};
      }} (corpus + "/import-tree/default.nix");
  inputs = {{
    inherit self;
    nixpkgs-lib = {{ inherit lib; }};
  }};
  self = outputs // {{
    inherit inputs outputs;
    outPath = toString ./.;
    sourceInfo.outPath = toString ./.;
    _type = "flake";
  }};
  outputs = flake-parts-lib.mkFlake {{ inherit inputs; }} {{
    imports = [ (fp + "/extras/modules.nix") (import-tree ./modules) ];
  }};
  machines = lib.filterAttrs (n: _: lib.hasPrefix "machines/" n) outputs.modules.nixos;
  evalMachine = name: module:
    let
      config = (lib.evalModules {{
        modules = [ module ];
        class = "nixos";
      }}).config;
    in
    {{
      hostName = config.networking.hostName;
      enabled = config.services.enabled;
      ports = config.services.ports;
      variables = builtins.length (builtins.attrNames config.environment.variables);
    }};
in
builtins.toJSON (lib.mapAttrs evalMachine machines)
"#
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: gen-dendritic OUT_DIR N_FEATURES M_MACHINES [CORPUS_DIR]");
        std::process::exit(2);
    }
    let out = PathBuf::from(&args[1]);
    let n: usize = args[2].parse().expect("N is a number");
    let m: usize = args[3].parse().expect("M is a number");
    let corpus = match args.get(4) {
        Some(c) => PathBuf::from(c),
        None => dendrite_benches::corpus().expect("the shared corpus (pass it as the 4th argument)"),
    };
    let corpus = corpus.canonicalize().unwrap_or(corpus);
    let _ = std::fs::remove_dir_all(&out);
    write(&out.join("modules/core.nix"), CORE);
    for i in 0..n {
        write(&out.join(format!("modules/features/{}/f{i:05}.nix", AGGREGATES[i % AGGREGATES.len()])), &feature(i));
    }
    for j in 0..m {
        write(&out.join(format!("modules/machines/m{j:04}.nix")), &machine(j, n));
    }
    write(
        &out.join("flake.nix"),
        "{\n  inputs.flake-parts.url = \"github:hercules-ci/flake-parts\";\n  inputs.import-tree.url = \"github:vic/import-tree\";\n  outputs =\n    inputs:\n    inputs.flake-parts.lib.mkFlake { inherit inputs; } {\n      imports = [\n        inputs.flake-parts.flakeModules.modules\n        (inputs.import-tree ./modules)\n      ];\n    };\n}\n",
    );
    write(&out.join("eval.nix"), &eval_nix(&corpus));
    println!("wrote {} feature modules and {} machines to {}", n, m, out.display());
}

#[cfg(test)]
mod tests {
    use super::machine;

    #[test]
    fn machines_enable_each_feature_once() {
        for n in [8, 10, 16, 39, 40, 1000, 5000] {
            for m in 0..60 {
                let text = machine(m, n);
                let enabled: Vec<&str> = text.lines().filter(|l| l.contains(".enable = true")).collect();
                let mut unique = enabled.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), enabled.len(), "N={n}, machine {m}:\n{text}");
                assert!(!enabled.is_empty(), "N={n}, machine {m} enables nothing");
            }
        }
    }
}
