//! Time from an edit to fresh diagnostics in `dendrite lsp`: opens one file
//! of a flake, then alternately introduces and removes a namespace typo 20
//! times and measures, for each edit, the time until the server publishes
//! the file's diagnostics. Prints the median and the spread.
//!
//!   lsp-latency DENDRITE FLAKE_DIR FILE KEY
//!
//! FILE is a file of FLAKE_DIR that lists KEY alone on a line (an element
//! of an imports list); the edit appends `x<n>` to it, the fix restores it
//! and appends a comment `# <n>`: every state is new, so no edit can be
//! answered from findings the server kept for an earlier state.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn read_message(r: &mut impl BufRead) -> Option<serde_json::Value> {
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse().ok()?;
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bin, dir, file, key] = args.as_slice() else {
        eprintln!("usage: lsp-latency DENDRITE FLAKE_DIR FILE KEY");
        std::process::exit(2);
    };
    let dir = std::fs::canonicalize(dir).expect("flake dir");
    let file = dir.join(file);
    let text = std::fs::read_to_string(&file).expect("file");
    let needle = format!("{key}\n");
    assert!(text.contains(&needle), "{} has no line `{key}`", file.display());
    let uri = format!("file://{}", file.display());

    let mut child = Command::new(bin).arg("lsp").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("lsp");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |v: serde_json::Value| {
        let body = v.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    };
    let mut wait_for = |pred: &dyn Fn(&serde_json::Value) -> bool| -> serde_json::Value {
        loop {
            let m = read_message(&mut stdout).expect("server alive");
            if pred(&m) {
                return m;
            }
        }
    };
    send(
        serde_json::json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":format!("file://{}", dir.display()),"capabilities":{}}}),
    );
    wait_for(&|m| m["id"] == 1);
    send(serde_json::json!({"jsonrpc":"2.0","method":"initialized","params":{}}));
    let cold = Instant::now();
    send(
        serde_json::json!({"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":uri,"languageId":"nix","version":1,"text":text}}}),
    );
    let uri2 = uri.clone();
    let is_mine =
        move |m: &serde_json::Value| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri2;
    // A clean file may get no publication at all: the first edit tells.
    let mut times: Vec<Duration> = Vec::new();
    for i in 0..21 {
        let body =
            if i % 2 == 0 { text.replacen(&needle, &format!("{key}x{i}\n"), 1) } else { format!("{text}# {i}\n") };
        let t = Instant::now();
        send(
            serde_json::json!({"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":uri,"version":i + 2},"contentChanges":[{"text":body}]}}),
        );
        let m = wait_for(&is_mine);
        let n = m["params"]["diagnostics"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(n > 0, i % 2 == 0, "edit {i}: {m}");
        if i == 0 {
            eprintln!("first check after open: {:.0} ms", cold.elapsed().as_secs_f64() * 1000.0);
        } else {
            times.push(t.elapsed());
        }
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{}: edit -> fresh diagnostics over {} edits: median {:.0} ms, min {:.0} ms, max {:.0} ms",
        file.strip_prefix(&dir).unwrap_or(&file).display(),
        times.len(),
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
    send(serde_json::json!({"jsonrpc":"2.0","id":99,"method":"shutdown","params":null}));
    send(serde_json::json!({"jsonrpc":"2.0","method":"exit","params":null}));
    let _ = child.wait();
}
