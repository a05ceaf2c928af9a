//! `flake.lock` (version 7): nodes, `follows` paths, locked store paths.
