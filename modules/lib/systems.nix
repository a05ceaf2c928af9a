# System doubles ("x86_64-linux"): the flake-exposed ones and the known
# ones grouped by CPU family and kernel. The full platform parser of
# nixpkgs (`systems.parse`, `systems.elaborate`) is not provided.
{ lib }:
let
  b = builtins;

  # Every double nixpkgs knows, in its order.
  known = [
    "i686-cygwin" "x86_64-cygwin"
    "x86_64-darwin" "aarch64-darwin"
    "i686-freebsd" "x86_64-freebsd" "aarch64-freebsd"
    "aarch64-genode" "i686-genode" "x86_64-genode"
    "x86_64-solaris"
    "javascript-ghcjs"
    "aarch64-linux" "arc-linux" "armv5tel-linux" "armv6l-linux" "armv7a-linux" "armv7l-linux"
    "i686-linux" "loongarch64-linux" "m68k-linux" "sh4-linux" "microblaze-linux" "microblazeel-linux"
    "mips-linux" "mips64-linux" "mips64el-linux" "mipsel-linux" "powerpc-linux" "powerpc64-linux"
    "powerpc64le-linux" "riscv32-linux" "riscv64-linux" "s390-linux" "s390x-linux" "x86_64-linux"
    "mmix-mmixware"
    "aarch64-netbsd" "armv6l-netbsd" "armv7a-netbsd" "armv7l-netbsd" "i686-netbsd" "m68k-netbsd"
    "mipsel-netbsd" "powerpc-netbsd" "riscv32-netbsd" "riscv64-netbsd" "x86_64-netbsd"
    "aarch64_be-none" "aarch64-none" "arm-none" "armv6l-none" "avr-none" "i686-none" "microblaze-none"
    "microblazeel-none" "mips-none" "mips64-none" "msp430-none" "or1k-none" "m68k-none" "powerpc-none"
    "powerpcle-none" "riscv32-none" "riscv64-none" "rx-none" "s390-none" "s390x-none" "vc4-none" "x86_64-none"
    "i686-openbsd" "x86_64-openbsd"
    "x86_64-redox"
    "wasm64-wasi" "wasm32-wasi"
    "aarch64-windows" "x86_64-windows" "i686-windows"
    "aarch64-uefi" "x86_64-uefi"
  ];

  cpuOf = d: b.head (b.match "([^-]*)-.*" d);
  kernelOf = d: b.head (b.match "[^-]*-(.*)" d);

  withCpu = cpus: b.filter (d: b.elem (cpuOf d) cpus) known;
  withKernel = kernels: b.filter (d: b.elem (kernelOf d) kernels) known;

  arm32 = [ "armv5tel" "armv6l" "armv7a" "armv7l" "arm" ];
  arm64 = [ "aarch64" "aarch64_be" ];
in
{
  # The systems flakes conventionally provide outputs for.
  flakeExposed = [
    "x86_64-linux"
    "aarch64-linux"
    "x86_64-darwin"
    "armv6l-linux"
    "armv7l-linux"
    "i686-linux"
    "aarch64-darwin"
    "powerpc64le-linux"
    "riscv64-linux"
    "x86_64-freebsd"
  ];

  doubles = {
    all = known;
    none = [ ];

    arm = withCpu arm32;
    armv7 = withCpu [ "armv7a" "armv7l" ];
    aarch64 = withCpu arm64;
    aarch = withCpu (arm32 ++ arm64);
    x86 = withCpu [ "i686" "x86_64" ];
    i686 = withCpu [ "i686" ];
    x86_64 = withCpu [ "x86_64" ];
    microblaze = withCpu [ "microblaze" "microblazeel" ];
    mips = withCpu [ "mips" "mips64" "mips64el" "mipsel" ];
    mmix = withCpu [ "mmix" ];
    power = withCpu [ "powerpc" "powerpc64" "powerpc64le" "powerpcle" ];
    riscv = withCpu [ "riscv32" "riscv64" ];
    riscv32 = withCpu [ "riscv32" ];
    riscv64 = withCpu [ "riscv64" ];
    rx = withCpu [ "rx" ];
    vc4 = withCpu [ "vc4" ];
    or1k = withCpu [ "or1k" ];
    m68k = withCpu [ "m68k" ];
    arc = withCpu [ "arc" ];
    sh4 = withCpu [ "sh4" ];
    s390 = withCpu [ "s390" "s390x" ];
    s390x = withCpu [ "s390x" ];
    loongarch64 = withCpu [ "loongarch64" ];
    js = withCpu [ "javascript" ];

    cygwin = withKernel [ "cygwin" ];
    darwin = withKernel [ "darwin" ];
    freebsd = withKernel [ "freebsd" ];
    genode = withKernel [ "genode" ];
    illumos = withKernel [ "solaris" ];
    linux = withKernel [ "linux" ];
    netbsd = withKernel [ "netbsd" ];
    openbsd = withKernel [ "openbsd" ];
    redox = withKernel [ "redox" ];
    wasi = withKernel [ "wasi" ];
    windows = withKernel [ "windows" ];
    uefi = withKernel [ "uefi" ];
    embedded = withKernel [ "none" ];
    unix = withKernel [ "cygwin" "darwin" "freebsd" "solaris" "linux" "netbsd" "openbsd" "redox" ];
  };
}
