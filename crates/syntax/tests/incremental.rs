//! The front end re-does only what an edit touched.

use std::path::Path;
use std::sync::{Arc, Mutex};

use dendrite_syntax::{RootDatabase, file_diagnostics, lower_file, parse};

fn executions(log: &Arc<Mutex<Vec<String>>>, query: &str) -> Vec<String> {
    log.lock().unwrap().iter().filter(|e| e.starts_with(query)).cloned().collect()
}

#[test]
fn editing_one_file_reparses_only_that_file() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut db = RootDatabase::with_event_log(log.clone());
    let a = db.set_file_text(Path::new("/virtual/a.nix"), Arc::from("{ x = 1; }"));
    let b = db.set_file_text(Path::new("/virtual/b.nix"), Arc::from("{ y = [ 1 2 ]; }"));

    let _ = lower_file(&db, a);
    let _ = lower_file(&db, b);
    assert_eq!(executions(&log, "parse").len(), 2, "both files parsed once: {:?}", log.lock().unwrap());
    log.lock().unwrap().clear();

    // Asking again does no work at all.
    let _ = lower_file(&db, a);
    let _ = lower_file(&db, b);
    assert!(log.lock().unwrap().is_empty(), "nothing re-executed: {:?}", log.lock().unwrap());

    // Edit a; only a is parsed and lowered again.
    db.set_file_text(Path::new("/virtual/a.nix"), Arc::from("{ x = 2; }"));
    let _ = lower_file(&db, a);
    let _ = lower_file(&db, b);
    let parses = executions(&log, "parse");
    assert_eq!(parses.len(), 1, "only the edited file re-parsed: {parses:?}");
    assert!(parses[0].contains(&format!("{:?}", salsa::plumbing::AsId::as_id(&a))), "{parses:?}");
    assert_eq!(executions(&log, "lower_file").len(), 1);
}

#[test]
fn static_diagnostics_follow_edits() {
    let mut db = RootDatabase::default();
    let f = db.set_file_text(Path::new("/virtual/c.nix"), Arc::from("x: y"));
    let diags = file_diagnostics(&db, f);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].message, "undefined variable 'y'");
    db.set_file_text(Path::new("/virtual/c.nix"), Arc::from("x: x"));
    assert!(file_diagnostics(&db, f).is_empty());
    assert!(parse(&db, f).errors.is_empty());
}
