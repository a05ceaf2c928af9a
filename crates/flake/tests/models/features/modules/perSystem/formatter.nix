{
  perSystem =
    { pkgs, system, ... }:
    {
      formatter = if system == "x86_64-linux" then pkgs.hello else null;
    };
}
