//! Helpers shared by the runners.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// The shared corpus (`$DENDRITE_CORPUS` or `../shared/corpus`), or an
/// error that says clearly that it is missing.
pub fn corpus() -> Result<PathBuf, String> {
    match dendrite_corpus::locate() {
        Ok(dir) => Ok(dir.canonicalize().unwrap_or(dir)),
        Err(dir) => Err(format!(
            "the shared test corpus is missing: expected it at {} (set DENDRITE_CORPUS to its location)",
            dir.display()
        )),
    }
}

/// Runs cargo with the given arguments in the workspace root.
pub fn run_cargo(args: &[&str]) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo {} failed", args.join(" ")));
    }
    Ok(())
}

/// Builds the release binary and returns its path.
pub fn dendrite_binary() -> Result<PathBuf, String> {
    run_cargo(&["build", "--release", "--quiet", "-p", "dendrite-cli"])?;
    let bin = target_dir().join("release/dendrite");
    if !bin.exists() {
        return Err(format!("{} was not built", bin.display()));
    }
    Ok(bin)
}

/// Cargo's target directory (`$CARGO_TARGET_DIR` or `target/`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() { d } else { root().join(d) }
        }
        None => root().join("target"),
    }
}

/// A directory holding a `nix-instantiate` link to `bin`.
pub fn nix_instantiate_dir(bin: &Path) -> Result<PathBuf, String> {
    let dir = target_dir().join("xtask-bin");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let link = dir.join("nix-instantiate");
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    std::os::unix::fs::symlink(bin, &link).map_err(|e| format!("linking {}: {e}", link.display()))?;
    Ok(dir)
}

/// The outcome of running a command with a time limit.
pub struct Outcome {
    /// Exit code, if it exited normally.
    pub code: Option<i32>,
    /// Terminating signal, if any.
    pub signal: Option<i32>,
    /// Whether it was killed for exceeding the limit.
    pub timed_out: bool,
    /// Captured standard output.
    pub stdout: Vec<u8>,
    /// Captured standard error.
    pub stderr: Vec<u8>,
}

/// Runs `cmd` with `stdin` fed from a file (if any), killing it after `limit`.
pub fn run_limited(mut cmd: Command, stdin_file: Option<&Path>, limit: Duration) -> Outcome {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    match stdin_file {
        Some(f) => match std::fs::File::open(f) {
            Ok(file) => {
                cmd.stdin(file);
            }
            Err(_) => {
                cmd.stdin(Stdio::null());
            }
        },
        None => {
            cmd.stdin(Stdio::null());
        }
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                code: None,
                signal: None,
                timed_out: false,
                stdout: Vec::new(),
                stderr: e.to_string().into_bytes(),
            };
        }
    };
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) => {
                if start.elapsed() > limit {
                    let _ = child.kill();
                    timed_out = true;
                    break child.wait().ok();
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => break None,
        }
    };
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    let (code, signal) = match status {
        Some(s) => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                (s.code(), s.signal())
            }
            #[cfg(not(unix))]
            {
                (s.code(), None)
            }
        }
        None => (None, None),
    };
    Outcome { code, signal, timed_out, stdout, stderr }
}

/// Reads `name value` lines (comments with `#`) into pairs.
pub fn read_pairs(path: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(char::is_whitespace).map(|(a, b)| (a.trim().to_string(), b.trim().to_string())))
        .collect()
}

/// A deterministic pseudo-random generator (xorshift64*), for generated
/// test inputs that must be the same on every run.
pub struct Rng(pub u64);

impl Rng {
    /// An independent stream for case `case` of a run seeded with `seed`
    /// (splitmix64 of both).
    pub fn for_case(seed: u64, case: u64) -> Rng {
        let mut z = seed ^ case.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// An index into a slice of length `n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
    /// One of `xs`.
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.index(xs.len())]
    }
}
