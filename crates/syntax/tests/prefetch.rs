//! Background parsing: files handed to `prefetch` are parsed and lowered
//! off the evaluating thread, and the evaluation then finds them done.

use std::sync::{Arc, Mutex};

use dendrite_syntax::db::prefetch;
use dendrite_syntax::{RootDatabase, lower_file};

#[test]
fn prefetched_files_are_lowered_once_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for i in 0..40 {
        let p = dir.path().join(format!("m{i}.nix"));
        std::fs::write(&p, format!("{{ lib, ... }}: {{ x{i} = {i}; }}")).unwrap();
        paths.push(p);
    }
    // A file that does not exist is left to the evaluation to report.
    paths.push(dir.path().join("missing.nix"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let db = RootDatabase::with_event_log(log.clone());
    prefetch::enable(true);
    db.prefetch(&paths);
    prefetch::quiesce();
    let lowered = log.lock().unwrap().iter().filter(|e| e.starts_with("lower_file")).count();
    // On a single core there is no background thread and nothing is done.
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if cores < 2 {
        assert_eq!(lowered, 0);
        return;
    }
    assert_eq!(lowered, 40, "every existing file lowered once in the background");
    assert!(db.known_file(&paths[40]).is_none());
    log.lock().unwrap().clear();
    for p in &paths[..40] {
        let f = db.known_file(p).expect("read in the background");
        assert!(!lower_file(&db, f).has_errors());
    }
    assert!(log.lock().unwrap().is_empty(), "nothing lowered again: {:?}", log.lock().unwrap());
}
