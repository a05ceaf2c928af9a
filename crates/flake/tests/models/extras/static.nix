{ who }:
{ lib, ... }:
{
  options.who = lib.mkOption { default = who; };
}
