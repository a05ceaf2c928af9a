//! Checking machines in worker processes.
//!
//! The evaluator's values are reference-counted and tied to one thread, so
//! machines cannot be shared out to threads; but after the top level is
//! evaluated, `fork` gives each worker a copy-on-write image of it. Each
//! worker checks its share of the machines and sends its findings back
//! through a pipe; its memory is returned to the system when it exits.
//! When anything goes wrong the caller checks the machines itself.

use std::path::PathBuf;

use crate::diag::{Diagnostic, Location, Severity, rule};

/// Runs `work(k)` for `k` in `0..n`, each in a forked child, at most
/// `jobs` at a time, and returns what each child produced, in order;
/// `None` if a worker failed. Small shards keep each worker's memory small
/// (the evaluator frees little until its process ends).
#[cfg(unix)]
pub fn fork_map(n: usize, jobs: usize, mut work: impl FnMut(usize) -> Vec<u8>) -> Option<Vec<Vec<u8>>> {
    use std::io::{Read, Write};
    use std::os::fd::FromRawFd;
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(n);
    let mut running: std::collections::VecDeque<(i32, std::fs::File)> = std::collections::VecDeque::new();
    let mut ok = true;
    let finish = |child: (i32, std::fs::File), out: &mut Vec<Vec<u8>>| -> bool {
        let (pid, mut f) = child;
        let mut bytes = Vec::new();
        let read = f.read_to_end(&mut bytes).is_ok();
        let mut status = 0;
        // SAFETY: `pid` is a child of this process.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        out.push(bytes);
        read && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    };
    for k in 0..n {
        if running.len() >= jobs.max(1)
            && let Some(oldest) = running.pop_front()
        {
            ok &= finish(oldest, &mut out);
        }
        let mut fds = [0i32; 2];
        // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return reap(running.into());
        }
        // No background parse may hold a lock the child would need.
        dendrite_syntax::db::prefetch::quiesce();
        // Output written before the fork must not be written twice.
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // SAFETY: the child only evaluates, writes to its pipe and calls
        // `_exit`; the process's other threads (the main thread, blocked
        // joining this one) do not exist in it and are never needed there.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            // SAFETY: both descriptors were just opened by pipe(2).
            unsafe {
                libc::close(fds[0]);
                libc::close(fds[1]);
            }
            return reap(running.into());
        }
        if pid == 0 {
            // SAFETY: the read end belongs to the parent.
            unsafe { libc::close(fds[0]) };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(k)));
            let code = match result {
                Ok(bytes) => {
                    // SAFETY: the write end is this child's, owned by the File from here on.
                    let mut f = unsafe { std::fs::File::from_raw_fd(fds[1]) };
                    if f.write_all(&bytes).is_ok() { 0 } else { 1 }
                }
                Err(_) => 1,
            };
            // SAFETY: ends the child without running the parent's destructors
            // or atexit handlers (which belong to the parent).
            unsafe { libc::_exit(code) };
        }
        // SAFETY: the write end belongs to the child.
        unsafe { libc::close(fds[1]) };
        // SAFETY: the read end is the parent's, owned by the File from here on.
        running.push_back((pid, unsafe { std::fs::File::from_raw_fd(fds[0]) }));
    }
    while let Some(child) = running.pop_front() {
        ok &= finish(child, &mut out);
    }
    ok.then_some(out)
}

#[cfg(unix)]
fn reap(children: Vec<(i32, std::fs::File)>) -> Option<Vec<Vec<u8>>> {
    for (pid, f) in children {
        drop(f);
        let mut status = 0;
        // SAFETY: `pid` is a child of this process.
        unsafe { libc::waitpid(pid, &mut status, 0) };
    }
    None
}

/// Without `fork`, the caller does the work itself.
#[cfg(not(unix))]
pub fn fork_map(_n: usize, _jobs: usize, _work: impl FnMut(usize) -> Vec<u8>) -> Option<Vec<Vec<u8>>> {
    None
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(&n.to_le_bytes());
}

/// A length-prefixed byte string.
pub(crate) fn put_blob(out: &mut Vec<u8>, b: &[u8]) {
    put_u64(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn put_loc(out: &mut Vec<u8>, l: &Location) {
    put_str(out, &l.path.to_string_lossy());
    for n in [l.line, l.column, l.end_line, l.end_column, l.start, l.end] {
        put_u64(out, u64::from(n));
    }
}

/// Findings and counts of a worker, as bytes.
pub fn encode(diags: &[Diagnostic], machines: usize, skipped: usize) -> Vec<u8> {
    let mut out = Vec::new();
    put_u64(&mut out, machines as u64);
    put_u64(&mut out, skipped as u64);
    put_u64(&mut out, diags.len() as u64);
    for d in diags {
        put_str(&mut out, d.code);
        put_str(&mut out, d.severity.as_str());
        put_str(&mut out, &d.message);
        match &d.location {
            Some(l) => {
                out.push(1);
                put_loc(&mut out, l);
            }
            None => out.push(0),
        }
        put_str(&mut out, d.help.as_deref().unwrap_or("\u{0}"));
        put_u64(&mut out, d.related.len() as u64);
        for (label, l) in &d.related {
            put_str(&mut out, label);
            put_loc(&mut out, l);
        }
        put_u64(&mut out, d.contexts.len() as u64);
        for c in &d.contexts {
            put_str(&mut out, c);
        }
    }
    out
}

/// Reads what the `put_*` functions wrote.
pub(crate) struct Reader<'a>(pub &'a [u8]);

impl Reader<'_> {
    pub(crate) fn u64(&mut self) -> Option<u64> {
        let (head, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(u64::from_le_bytes(*head))
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.u64()?).ok()
    }
    pub(crate) fn str(&mut self) -> Option<String> {
        let n = usize::try_from(self.u64()?).ok()?;
        if n > self.0.len() {
            return None;
        }
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8(s.to_vec()).ok()
    }
    pub(crate) fn blob(&mut self) -> Option<&[u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        if n > self.0.len() {
            return None;
        }
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(b)
    }
    pub(crate) fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    pub(crate) fn loc(&mut self) -> Option<Location> {
        let path = PathBuf::from(self.str()?);
        Some(Location {
            path,
            line: self.u32()?,
            column: self.u32()?,
            end_line: self.u32()?,
            end_column: self.u32()?,
            start: self.u32()?,
            end: self.u32()?,
        })
    }
}

/// The inverse of [`encode`].
pub fn decode(bytes: &[u8]) -> Option<(Vec<Diagnostic>, usize, usize)> {
    let mut r = Reader(bytes);
    let machines = usize::try_from(r.u64()?).ok()?;
    let skipped = usize::try_from(r.u64()?).ok()?;
    let n = r.u64()?;
    let mut out = Vec::new();
    for _ in 0..n {
        let code = rule(&r.str()?)?.code;
        let severity = Severity::parse(&r.str()?)?;
        let message = r.str()?;
        let location = match r.byte()? {
            1 => Some(r.loc()?),
            _ => None,
        };
        let help = Some(r.str()?).filter(|h| h != "\u{0}");
        let mut d = Diagnostic::new(code, message, location);
        d.severity = severity;
        d.help = help;
        for _ in 0..r.u64()? {
            let label = r.str()?;
            d.related.push((label, r.loc()?));
        }
        for _ in 0..r.u64()? {
            d.contexts.push(r.str()?);
        }
        out.push(d);
    }
    Some((out, machines, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let loc = Location {
            path: PathBuf::from("/f/modules/a.nix"),
            line: 3,
            column: 5,
            end_line: 3,
            end_column: 9,
            start: 40,
            end: 44,
        };
        let mut d = Diagnostic::new("D101", "`flake.modules.nixos` has no key `bse`", Some(loc.clone()));
        d.help = Some("did you mean `base`?".into());
        d.related.push(("first".into(), loc));
        d.contexts.push("clan.machines.x".into());
        let plain = Diagnostic::new("D002", "boom", None);
        let bytes = encode(&[d, plain], 7, 2);
        let (back, m, s) = decode(&bytes).expect("decodes");
        assert_eq!((m, s), (7, 2));
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].code, "D101");
        assert_eq!(back[0].help.as_deref(), Some("did you mean `base`?"));
        assert_eq!(back[0].location.as_ref().map(|l| (l.line, l.column, l.end)), Some((3, 5, 44)));
        assert_eq!(back[0].related.len(), 1);
        assert_eq!(back[0].contexts, vec!["clan.machines.x".to_string()]);
        assert!(back[1].location.is_none() && back[1].help.is_none());
        assert!(decode(&bytes[..bytes.len() - 3]).is_none(), "truncated input is refused");
    }
}
