# `clan.meta` and `clan.inventory.meta` (upstream:
# modules/inventoryClass/meta.nix): the clan's name and domain.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  clanLib = import ./lib.nix { inherit lib; };
in
{
  options = {
    # Becomes a directory name, hence the restricted alphabet.
    name = mkOption { type = types.strMatching "[a-zA-Z0-9_-]*"; };
    description = mkOption {
      type = types.nullOr types.str;
      default = null;
    };
    icon = mkOption {
      type = types.nullOr types.str;
      default = null;
    };
    # Deprecated upstream in favour of `domain`, still accepted.
    tld = mkOption {
      type = types.nullOr (types.strMatching "[a-z]+");
      default = null;
    };
    domain = mkOption {
      type = clanLib.domainName;
      default = if config.tld != null then config.tld else "clan";
    };
  };
}
