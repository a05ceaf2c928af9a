//! `dendrite eval` as a command, where it must behave like
//! `nix-instantiate --eval`.

use std::process::Command;

fn eval(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dendrite")).arg("eval").args(args).output().expect("runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_function_is_called_only_when_arguments_are_given() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f.nix");
    std::fs::write(&f, "{ a ? 1, b ? 2 }: a + b\n").unwrap();
    let f = f.to_str().unwrap();
    assert_eq!(eval(&[f]), (0, "<LAMBDA>\n".to_string()));
    assert_eq!(eval(&[f, "--arg", "a", "10"]), (0, "12\n".to_string()));
    // An argument the function does not take still makes it a call.
    assert_eq!(eval(&[f, "--argstr", "c", "x"]), (0, "3\n".to_string()));
    // Selecting an attribute calls what it passes through, as Nix does.
    std::fs::write(dir.path().join("g.nix"), "{ a ? 1 }: { x = { b ? 5 }: a + b; }\n").unwrap();
    let g = dir.path().join("g.nix");
    assert_eq!(eval(&[g.to_str().unwrap(), "-A", "x"]), (0, "<LAMBDA>\n".to_string()));
}
