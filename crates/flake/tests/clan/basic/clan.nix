# Fixture: a clan with machines from all registration paths.
{
  meta.name = "fixture";
  meta.domain = "example.org";
  inventory.machines = {
    alpha.tags = [ "servers" ];
    mac = {
      machineClass = "darwin";
      tags = [ "laptops" ];
    };
  };
  machines = {
    alpha = { networking.hostName = "alpha"; };
    gamma = { };
  };
  inventory.instances = {
    zerotier = {
      roles.controller.machines.alpha = { };
      roles.peer.tags.all = { };
    };
    sshd = {
      roles.server.tags = [ "servers" ];
      roles.server.settings.authorizedKeys.me = "ssh-ed25519 AAAA";
      roles.client.machines.mac.settings.certificate.searchDomains = [ "example.org" ];
    };
    user-alice = {
      module.name = "users";
      roles.default.tags.laptops = { };
      roles.default.settings.user = "alice";
    };
  };
}
