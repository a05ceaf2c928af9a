{ ... }:
{
  # Fixture: picked up from machines/beta automatically.
  networking.hostName = "beta";
}
