//! Drives `dendrite lsp` over stdio as an editor would: initialize, open a
//! file, introduce a typo, get the finding, fix it, see it cleared, jump to
//! a definition, hover, complete.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use dendrite_corpus::copy_tree as copy_dir;

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<serde_json::Value>,
    next_id: i64,
}

fn read_message(r: &mut BufReader<ChildStdout>) -> Option<serde_json::Value> {
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

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dendrite"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starts");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            while let Some(m) = read_message(&mut stdout) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        Client { child, stdin, messages, next_id: 1 }
    }

    fn send(&mut self, v: serde_json::Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: serde_json::Value) {
        self.send(serde_json::json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn request(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let m = self.messages.recv_timeout(Duration::from_secs(30)).expect("a response");
            if m["id"] == id {
                return m["result"].clone();
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics_for(&mut self, uri: &str) -> Vec<serde_json::Value> {
        loop {
            let m = self.messages.recv_timeout(Duration::from_secs(30)).expect("diagnostics");
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                return m["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            }
        }
    }
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

#[test]
fn typo_appears_and_clears_and_definitions_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().canonicalize().unwrap();
    copy_dir(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/fleet"), &root);
    let file = root.join("modules/machines/darwin/stibnite.nix");
    let text = std::fs::read_to_string(&file).unwrap();
    let furi = uri(&file);

    let mut c = Client::start();
    let init =
        c.request("initialize", serde_json::json!({ "processId": null, "rootUri": uri(&root), "capabilities": {} }));
    assert_eq!(init["capabilities"]["definitionProvider"], true);
    c.notify("initialized", serde_json::json!({}));
    c.notify(
        "textDocument/didOpen",
        serde_json::json!({ "textDocument": { "uri": furi, "languageId": "nix", "version": 1, "text": text } }),
    );

    // A typo in the buffer (not on disk) is found, at its line.
    let typo = text.replacen("      casks\n", "      caks\n", 1);
    c.notify(
        "textDocument/didChange",
        serde_json::json!({ "textDocument": { "uri": furi, "version": 2 }, "contentChanges": [ { "text": typo } ] }),
    );
    let diags = c.diagnostics_for(&furi);
    let d101 = diags.iter().find(|d| d["code"] == "D101").unwrap_or_else(|| panic!("D101 in {diags:?}"));
    assert_eq!(d101["range"]["start"]["line"], 9);
    assert!(d101["message"].as_str().unwrap().contains("did you mean `casks`?"));

    // Fixed again: the file's findings are cleared.
    c.notify(
        "textDocument/didChange",
        serde_json::json!({ "textDocument": { "uri": furi, "version": 3 }, "contentChanges": [ { "text": text } ] }),
    );
    assert!(c.diagnostics_for(&furi).is_empty());

    // `base` in `with config.flake.modules.darwin; [ base ... ]` (line 6).
    let line = text.lines().position(|l| l.trim() == "base").unwrap() as u32;
    let defs = c.request(
        "textDocument/definition",
        serde_json::json!({ "textDocument": { "uri": furi }, "position": { "line": line, "character": 7 } }),
    );
    let defs = defs.as_array().expect("locations");
    assert!(!defs.is_empty());
    for d in defs {
        let path = d["uri"].as_str().unwrap().trim_start_matches("file://").to_string();
        let body = std::fs::read_to_string(&path).unwrap();
        assert!(body.contains("flake.modules.darwin.base"), "{path} defines darwin.base");
    }
    let hover = c.request(
        "textDocument/hover",
        serde_json::json!({ "textDocument": { "uri": furi }, "position": { "line": line, "character": 7 } }),
    );
    assert!(hover["contents"]["value"].as_str().unwrap().contains("flake.modules.darwin.base"));

    // Completion: keys of a class, and inventory machines in a role.
    let zt = root.join("modules/clan/instances/zerotier.nix");
    let zt_text = std::fs::read_to_string(&zt).unwrap();
    let zt_uri = uri(&zt);
    let edited = zt_text.replacen(
        "    roles.peer.tags.server = { };\n",
        "    roles.peer.tags.server = { };\n    roles.moon.machines.\n",
        1,
    );
    let moon_line = edited.lines().position(|l| l.trim() == "roles.moon.machines.").expect("inserted") as u32;
    c.notify(
        "textDocument/didOpen",
        serde_json::json!({ "textDocument": { "uri": zt_uri, "languageId": "nix", "version": 1, "text": edited } }),
    );
    let items = c.request(
        "textDocument/completion",
        serde_json::json!({ "textDocument": { "uri": zt_uri }, "position": { "line": moon_line, "character": 24 } }),
    );
    let labels: Vec<&str> = items.as_array().unwrap().iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.contains(&"cinnabar") && labels.contains(&"stibnite"), "{labels:?}");
    let keys = c.request(
        "textDocument/completion",
        serde_json::json!({ "textDocument": { "uri": furi }, "position": { "line": 3, "character": 31 } }),
    );
    let labels: Vec<&str> = keys.as_array().unwrap().iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.contains(&"base") && labels.contains(&"casks"), "{labels:?}");

    // Hover on a module argument and on an option the flake declares.
    let hover_at = |c: &mut Client, uri: &str, line: u32, character: u32| -> String {
        let h = c.request(
            "textDocument/hover",
            serde_json::json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } }),
        );
        h["contents"]["value"].as_str().unwrap_or_default().to_string()
    };
    let arg = hover_at(&mut c, &furi, 1, 3);
    assert!(arg.contains("module argument `config`") && arg.contains("top-level"), "{arg}");
    let crs58 = root.join("modules/users/crs58.nix");
    let crs58_text = std::fs::read_to_string(&crs58).unwrap();
    let admin_line = crs58_text.lines().position(|l| l.trim() == "admin = true;").expect("crs58 is an admin") as u32;
    let admin = hover_at(&mut c, &uri(&crs58), admin_line, 5);
    assert!(admin.contains("option `flake.meta.users.crs58.admin`"), "{admin}");
    assert!(admin.contains("boolean") && admin.contains("Admins get root SSH access"), "{admin}");
    assert!(admin.contains("modules/meta.nix:"), "{admin}");

    // Completion of the roles of an instance's service.
    let with_role =
        zt_text.replacen("    roles.peer.tags.server = { };\n", "    roles.peer.tags.server = { };\n    roles.\n", 1);
    let role_line = with_role.lines().position(|l| l.trim() == "roles.").expect("inserted") as u32;
    c.notify(
        "textDocument/didChange",
        serde_json::json!({ "textDocument": { "uri": zt_uri, "version": 2 }, "contentChanges": [ { "text": with_role } ] }),
    );
    let _ = c.diagnostics_for(&zt_uri);
    let items = c.request(
        "textDocument/completion",
        serde_json::json!({ "textDocument": { "uri": zt_uri }, "position": { "line": role_line, "character": 10 } }),
    );
    let labels: Vec<&str> = items.as_array().unwrap().iter().filter_map(|i| i["label"].as_str()).collect();
    assert_eq!(labels, ["controller", "moon", "peer"]);

    c.request("shutdown", serde_json::Value::Null);
    c.notify("exit", serde_json::Value::Null);
    let status = c.child.wait().unwrap();
    assert!(status.success());
}
