# Fixture: inventory mistakes the checker must see.
{
  meta.name = "bad";
  inventory.machines.alpha.tags = [ "servers" ];
  inventory.instances = {
    sshd = {
      roles.server.machines.alpha.settings = {
        certificate.enable = "yes";
      };
      roles.client.settings.authorizedKeyz = { };
      roles.client.machines.alpha = { };
      roles.gateway.machines.alpha = { };
    };
    vpn = {
      module.name = "zerotiers";
      roles.peer.tags.all = { };
    };
    mesh = {
      module.name = "zerotier";
      roles.peer.machines.ghost = { };
      roles.peer.tags = [ "nope" ];
    };
  };
}
