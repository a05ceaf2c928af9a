//! A real editor: headless Neovim with its built-in LSP client shows the
//! finding `dendrite lsp` publishes for a typo. Skipped (with a message)
//! when `nvim` is not installed; CI installs Debian's neovim.

use std::path::PathBuf;
use std::process::Command;

use dendrite_corpus::copy_tree as copy_dir;

#[test]
fn neovim_shows_the_typo() {
    if Command::new("nvim").arg("--version").output().is_err() {
        println!("SKIPPED: neovim_shows_the_typo needs `nvim` (apt-get install neovim)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().canonicalize().unwrap();
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&here.join("../../fixtures/fleet"), &root);
    let file = root.join("modules/machines/darwin/stibnite.nix");
    let text = std::fs::read_to_string(&file).unwrap().replacen("      casks\n", "      caks\n", 1);
    std::fs::write(&file, text).unwrap();
    let out = Command::new("nvim")
        .args(["--headless", "--clean", "-n", "-u", "NONE", "-S"])
        .arg(here.join("tests/neovim/check.lua"))
        .env("DENDRITE_FILE", &file)
        .env("DENDRITE_CODE", "D101")
        .env("DENDRITE_BIN", env!("CARGO_BIN_EXE_dendrite"))
        .env("DENDRITE_ROOT", &root)
        .env("HOME", &root)
        .output()
        .expect("nvim runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "neovim saw no D101\nstdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("D101 at line 10"), "{stdout}");
}
