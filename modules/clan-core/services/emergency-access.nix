# clan service `emergency-access` (upstream: clanServices/emergency-access):
# a recovery root password for debugging boot problems; no settings.
{ ... }:
{
  _class = "clan.service";
  manifest.name = "clan-core/emergency-access";
  manifest.description = "Set recovery password for emergency access to machine to debug boot issues";
  manifest.categories = [ "System" ];

  roles.default = {
    description = "Placeholder role to apply the emergency-access service";
    perInstance =
      { ... }:
      {
        nixosModule.clan.core.vars.generators.emergency-access = { };
      };
  };
}
