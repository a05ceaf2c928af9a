//! Flakes without Nix: reading `flake.lock`, resolving each input to a
//! local copy, a bundled model or an opaque value, and calling `outputs`.

pub mod inputs;
pub mod lock;
