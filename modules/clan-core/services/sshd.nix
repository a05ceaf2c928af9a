# clan service `sshd` (upstream: clanServices/sshd): host keys and optional
# CA-signed host certificates. The machine module declares the vars
# generators the real service creates, so that other generators may depend
# on them without a false D503.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  searchDomains = mkOption {
    type = types.listOf types.str;
    default = [ ];
  };
in
{
  _class = "clan.service";
  manifest.name = "clan-core/sshd";
  manifest.description = "Enables secure remote access to the machine over SSH with automatic host key management and optional CA-signed host certificates.";
  manifest.categories = [ "Network" ];

  roles.server = {
    description = "Runs sshd with persistent host keys and (if certificate.enable is not false) a CA-signed host certificate.";
    interface = {
      options = {
        authorizedKeys = mkOption {
          type = types.attrsOf types.str;
          default = { };
        };
        certificate.enable = mkOption {
          type = types.bool;
          default = true;
        };
        certificate.searchDomains = searchDomains;
        generateRootKey = mkOption {
          type = types.bool;
          default = false;
        };
        hostKeys.rsa.enable = mkOption {
          type = types.bool;
          default = false;
        };
      };
    };
    perInstance =
      { settings, ... }:
      {
        nixosModule.clan.core.vars.generators = {
          openssh = { };
        }
        // lib.optionalAttrs settings.certificate.enable {
          openssh-ca.share = true;
          openssh-cert.dependencies = [ "openssh" "openssh-ca" ];
        }
        // lib.optionalAttrs settings.hostKeys.rsa.enable { openssh-rsa = { }; }
        // lib.optionalAttrs settings.generateRootKey { sshd-root-key = { }; };
      };
  };

  roles.client = {
    description = "Installs the SSH CA public key into known_hosts for the configured domains.";
    interface.options.certificate.searchDomains = searchDomains;
    perInstance =
      { ... }:
      {
        nixosModule.clan.core.vars.generators.openssh-ca.share = true;
      };
  };
}
