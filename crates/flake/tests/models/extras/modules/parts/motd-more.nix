{
  perSystem.motd = "have fun";
}
