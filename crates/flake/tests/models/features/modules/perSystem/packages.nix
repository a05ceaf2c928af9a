{
  perSystem =
    {
      pkgs,
      self',
      system,
      config,
      ...
    }:
    {
      packages.hello = pkgs.hello;
      packages.default = self'.packages.hello;
      checks.hello = config.packages.hello;
      devShells.default = pkgs.mkShell { name = "shell-${system}"; };
      legacyPackages.nested.tool = pkgs.hello;
      apps.hello.program = "${pkgs.hello}/bin/hello";
    };
}
