//! One small failing flake per rule (fixtures/rules/<code>/): each must
//! produce its rule's finding at a known place and no error of another
//! rule. The human (color off) and JSON renderings are snapshotted with
//! the timing normalised; the JSON and SARIF renderings are parsed and
//! cross-checked against the report; the exit code follows the error count,
//! including after `dendrite.toml` changes a severity.
//!
//! The expected places below were written from the fixture sources (the
//! line and column of the offending token), not copied from the output.

use std::path::{Path, PathBuf};

use dendrite_check::output::{Format, render};
use dendrite_check::{CheckOptions, RULES, Report, Severity, Summary, check};

/// What one fixture must produce.
struct Case {
    code: &'static str,
    /// File (relative to the fixture), line and column of the finding.
    file: &'static str,
    line: u32,
    column: u32,
    /// How many findings of `code` the fixture yields.
    count: usize,
    /// Warning-level codes of other rules that may appear (with why).
    other_warnings: &'static [&'static str],
}

const fn case(code: &'static str, file: &'static str, line: u32, column: u32) -> Case {
    Case { code, file, line, column, count: 1, other_warnings: &[] }
}

fn fixture(code: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rules").join(code)
}

fn run(dir: &Path) -> Report {
    check(CheckOptions { dir: dir.to_path_buf(), ..Default::default() })
        .unwrap_or_else(|e| panic!("check of {} could not run: {e}", dir.display()))
}

/// Replaces the wall time in the summary line / `duration_ms`.
fn normalise(out: &str) -> String {
    let mut s = out.to_string();
    // Human: "... checked (0 skipped: unknown inputs) in 42 ms".
    if let Some(i) = s.rfind(" in ")
        && let Some(j) = s[i + 4..].find(" ms")
        && s[i + 4..i + 4 + j].chars().all(|c| c.is_ascii_digit())
    {
        s.replace_range(i + 4..i + 4 + j, "[duration]");
    }
    // JSON: "duration_ms":42 (a string placeholder keeps the document valid).
    let key = "\"duration_ms\":";
    if let Some(i) = s.find(key) {
        let start = i + key.len();
        let len = s[start..].chars().take_while(char::is_ascii_digit).count();
        s.replace_range(start..start + len, "\"[duration]\"");
    }
    s
}

fn rule_default(code: &str) -> Severity {
    RULES.iter().find(|r| r.code == code).unwrap_or_else(|| panic!("no rule {code}")).default
}

/// Runs one fixture and asserts its findings; returns the report.
fn assert_case(c: &Case) -> Report {
    let dir = fixture(c.code);
    let report = run(&dir);
    let listing: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| {
            let at = d.location.as_ref().map(|l| format!("{}:{}:{}", l.path.display(), l.line, l.column));
            format!("{} {} {} at {}", d.severity.as_str(), d.code, d.message, at.unwrap_or_default())
        })
        .collect();
    let listing = listing.join("\n  ");

    let want = report.root.join(c.file);
    let found = report.diagnostics.iter().find(|d| {
        d.code == c.code
            && d.location.as_ref().is_some_and(|l| l.path == want && l.line == c.line && l.column == c.column)
    });
    let Some(found) = found else {
        panic!("{}: no {} at {}:{}:{}; findings:\n  {listing}", c.code, c.code, c.file, c.line, c.column)
    };
    assert_eq!(found.severity, rule_default(c.code), "{}: severity of the finding", c.code);
    let n = report.diagnostics.iter().filter(|d| d.code == c.code).count();
    assert_eq!(n, c.count, "{}: number of {} findings; findings:\n  {listing}", c.code, c.code);
    for d in &report.diagnostics {
        match d.severity {
            Severity::Error => {
                assert_eq!(d.code, c.code, "{}: another error-level finding; findings:\n  {listing}", c.code)
            }
            _ => assert!(
                d.code == c.code || c.other_warnings.contains(&d.code),
                "{}: an undocumented {} finding; findings:\n  {listing}",
                c.code,
                d.code
            ),
        }
    }
    // The summary counts what the list holds.
    let errors = report.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = report.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count();
    assert_eq!((report.summary.errors, report.summary.warnings), (errors, warnings), "{}: summary", c.code);
    let exit = i32::from(rule_default(c.code) == Severity::Error);
    assert_eq!(report.exit_code(), exit, "{}: exit code", c.code);
    report
}

/// Asserts a case, then snapshots its human and JSON renderings.
fn snapshot_case(c: &Case) {
    let report = assert_case(c);
    let human = render(&report, Format::Human, false);
    assert!(!human.contains('\x1b'), "{}: color codes with color off", c.code);
    assert!(human.contains(&format!("[{}]", c.code)), "{}: human output names the code", c.code);
    let json = render(&report, Format::Json, false);
    assert!(!json.contains(&report.root.display().to_string()), "{}: JSON paths are relative", c.code);
    insta::assert_snapshot!(format!("{}_human", c.code), normalise(&human));
    insta::assert_snapshot!(format!("{}_json", c.code), normalise(&json));
}

macro_rules! rule_tests {
    ($($name:ident => $case:expr;)*) => {
        $(
            #[test]
            fn $name() {
                snapshot_case(&$case);
            }
        )*

        /// Every rule has a fixture here.
        #[test]
        fn every_rule_has_a_fixture() {
            let cases: Vec<Case> = vec![$($case),*];
            for r in RULES {
                assert!(cases.iter().any(|c| c.code == r.code), "no fixture test for {}", r.code);
                assert!(fixture(r.code).join("flake.nix").is_file(), "no fixtures/rules/{}/flake.nix", r.code);
            }
        }

        fn all_cases() -> Vec<Case> {
            vec![$($case),*]
        }
    };
}

rule_tests! {
    // `programs.eza.enable = true` with no `;` before `}`: "unexpected '}'"
    // at the `}`. Only the first syntax error of a file is reported, as Nix
    // does (the parser's recovery would add "unexpected end of file").
    d001_parse_error => case("D001", "modules/eza.nix", 6, 3);
    // `cache.uri` on a set with `url`, forced by the machine's substituters.
    d002_eval_error => case("D002", "modules/box.nix", 14, 45);
    // beta imports `shel`; alpha imports `shell`, so nothing is unused.
    d101_unknown_namespace_key => case("D101", "modules/machines/beta.nix", 5, 50);
    // `flake.modules.homeManger` (at the class name).
    d102_unknown_class => case("D102", "modules/starship.nix", 4, 17);
    // `{ inputs, ... }:` in a nixos module, no specialArgs anywhere.
    d201_missing_module_argument => case("D201", "modules/registry.nix", 5, 7);
    // `_module.args.admins` (at the name).
    d202_special_args_leak => case("D202", "modules/machines/box.nix", 5, 18);
    // `config.flake.modules.nixos.server` inside a darwin machine (at the key).
    d301_class_mismatch => case("D301", "modules/machines/mac.nix", 5, 44);
    // `clan.inventory.machines.galena` with no `clan.machines.galena`.
    d401_registry_drift => case("D401", "modules/clan.nix", 6, 27);
    // `roles.server.tags.servers`: the only machine is tagged `server`.
    d501_inventory_unknown_reference => case("D501", "modules/clan.nix", 17, 23);
    // `roles.default.machines.box.settings.prompt = "no"` (a bool option).
    d502_inventory_settings => case("D502", "modules/clan.nix", 15, 41);
    // `dependencies = [ "acme-dns-tokn" ]`; the finding is at the misspelled name.
    d503_vars_unknown_dependency => case("D503", "modules/clan.nix", 15, 24);
    // `fleet.timeZone = 1` against `types.str` (at the option name).
    d601_module_system_error => case("D601", "modules/settings.nix", 3, 9);
    // `services.journald.extraConfig` in a file under modules/.
    d602_not_a_module => case("D602", "modules/journald.nix", 4, 21);
    // `flake.modules.homeManager.multiplexer` (at the key), imported nowhere.
    d701_unused_module => case("D701", "modules/zellij.nix", 3, 29);
    // modules/_old/zellij.nix, nothing imports it (at the definition it would have made).
    d702_skipped_file => case("D702", "modules/_old/zellij.nix", 3, 3);
    // `shell` twice in one `imports` list (at the second one).
    d703_duplicate_import => case("D703", "modules/machines/box.nix", 8, 7);
}

// A minimal JSON reader, enough to check that the output is one valid
// document and to look into it.

#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn get(&self, k: &str) -> &J {
        match self {
            J::Obj(m) => m.iter().find(|(n, _)| n == k).map(|(_, v)| v).unwrap_or_else(|| panic!("no key {k}")),
            _ => panic!("not an object looking up {k}"),
        }
    }
    fn arr(&self) -> &[J] {
        match self {
            J::Arr(a) => a,
            _ => panic!("not an array: {self:?}"),
        }
    }
    fn str(&self) -> &str {
        match self {
            J::Str(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }
    fn num(&self) -> f64 {
        match self {
            J::Num(n) => *n,
            _ => panic!("not a number: {self:?}"),
        }
    }
}

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn parse(text: &str) -> Result<J, String> {
        let mut r = Reader { s: text.as_bytes(), i: 0 };
        let v = r.value()?;
        r.ws();
        if r.i != r.s.len() {
            return Err(format!("trailing input at byte {}", r.i));
        }
        Ok(v)
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\n' | b'\r' | b'\t') {
            self.i += 1;
        }
    }
    fn eat(&mut self, lit: &str) -> Result<(), String> {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            Ok(())
        } else {
            Err(format!("expected {lit} at byte {}", self.i))
        }
    }
    fn value(&mut self) -> Result<J, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(J::Obj(m));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    self.eat(":")?;
                    let v = self.value()?;
                    if m.iter().any(|(n, _)| *n == k) {
                        return Err(format!("duplicate key {k}"));
                    }
                    m.push((k, v));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(J::Obj(m));
                        }
                        _ => return Err(format!("expected , or }} at byte {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(J::Arr(a));
                }
                loop {
                    a.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(J::Arr(a));
                        }
                        _ => return Err(format!("expected , or ] at byte {}", self.i)),
                    }
                }
            }
            Some(b'"') => Ok(J::Str(self.string()?)),
            Some(b't') => self.eat("true").map(|_| J::Bool(true)),
            Some(b'f') => self.eat("false").map(|_| J::Bool(false)),
            Some(b'n') => self.eat("null").map(|_| J::Null),
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                self.i += 1;
                while self.i < self.s.len() && matches!(self.s[self.i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                t.parse().map(J::Num).map_err(|_| format!("bad number {t}"))
            }
            _ => Err(format!("unexpected input at byte {}", self.i)),
        }
    }
    fn string(&mut self) -> Result<String, String> {
        self.eat("\"")?;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else { return Err("unterminated string".into()) };
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else { return Err("unterminated escape".into()) };
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = std::str::from_utf8(self.s.get(self.i..self.i + 4).ok_or("short \\u")?)
                                .map_err(|e| e.to_string())?;
                            let n = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                            self.i += 4;
                            let ch = char::from_u32(n).ok_or("surrogate escapes are not expected here")?;
                            out.extend_from_slice(ch.to_string().as_bytes());
                        }
                        _ => return Err(format!("bad escape at byte {}", self.i)),
                    }
                }
                c if c < 0x20 => return Err(format!("raw control character in a string at byte {}", self.i)),
                c => out.push(c),
            }
        }
    }
}

#[test]
fn json_reader_rejects_broken_documents() {
    assert!(Reader::parse(r#"{"a":[1,2,{"b":null}],"c":"x\"y"}"#).is_ok());
    for bad in [r#"{"a":1"#, r#"{"a":1,}"#, r#"[1 2]"#, "\"a\nb\"", r#"{"a":1}{}"#, r#"{"a":1,"a":2}"#] {
        assert!(Reader::parse(bad).is_err(), "accepted {bad:?}");
    }
}

/// The JSON output of every fixture is one valid document that says what
/// the report says.
#[test]
fn json_output_parses_and_matches_the_report() {
    for c in all_cases() {
        let report = run(&fixture(c.code));
        let text = render(&report, Format::Json, false);
        let doc = Reader::parse(&text).unwrap_or_else(|e| panic!("{}: JSON does not parse: {e}\n{text}", c.code));
        let diags = doc.get("diagnostics").arr();
        assert_eq!(diags.len(), report.diagnostics.len(), "{}", c.code);
        for (j, d) in diags.iter().zip(&report.diagnostics) {
            assert_eq!(j.get("code").str(), d.code);
            assert_eq!(j.get("severity").str(), d.severity.as_str());
            assert_eq!(j.get("message").str(), d.message);
            let loc = d.location.as_ref().expect("fixture findings have a place");
            let file = j.get("file").str();
            assert!(!file.starts_with('/'), "{}: absolute path {file}", c.code);
            assert_eq!(report.root.join(file), loc.path);
            assert_eq!(j.get("line").num() as u32, loc.line);
            assert_eq!(j.get("column").num() as u32, loc.column);
        }
        let s = doc.get("summary");
        assert_eq!(s.get("errors").num() as usize, report.summary.errors, "{}", c.code);
        assert_eq!(s.get("warnings").num() as usize, report.summary.warnings, "{}", c.code);
        // The placeholder keeps the normalised document valid too.
        let normal = Reader::parse(&normalise(&text)).unwrap();
        assert_eq!(normal.get("summary").get("duration_ms"), &J::Str("[duration]".into()));
    }
}

/// SARIF: version 2.1.0, every rule described, one result per finding.
#[test]
fn sarif_output_has_one_result_per_diagnostic() {
    for c in all_cases() {
        let report = run(&fixture(c.code));
        let text = render(&report, Format::Sarif, false);
        let doc = Reader::parse(&text).unwrap_or_else(|e| panic!("{}: SARIF does not parse: {e}\n{text}", c.code));
        assert_eq!(doc.get("version").str(), "2.1.0");
        let runs = doc.get("runs").arr();
        assert_eq!(runs.len(), 1);
        let rules = runs[0].get("tool").get("driver").get("rules").arr();
        assert_eq!(rules.len(), RULES.len());
        let results = runs[0].get("results").arr();
        assert_eq!(results.len(), report.diagnostics.len(), "{}: results", c.code);
        for (r, d) in results.iter().zip(&report.diagnostics) {
            assert_eq!(r.get("ruleId").str(), d.code);
            let idx = r.get("ruleIndex").num() as usize;
            assert_eq!(rules[idx].get("id").str(), d.code, "{}: ruleIndex", c.code);
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "note",
            };
            assert_eq!(r.get("level").str(), level);
            let loc = d.location.as_ref().unwrap();
            let phys = r.get("locations").arr()[0].get("physicalLocation");
            assert_eq!(report.root.join(phys.get("artifactLocation").get("uri").str()), loc.path);
            assert_eq!(phys.get("region").get("startLine").num() as u32, loc.line);
        }
    }
}

fn report_with(errors: usize, warnings: usize, infos: usize) -> Report {
    Report {
        root: PathBuf::from("/nonexistent"),
        diagnostics: Vec::new(),
        summary: Summary { errors, warnings, infos, ..Default::default() },
        inputs: Vec::new(),
        symbols: Default::default(),
    }
}

#[test]
fn exit_code_is_one_with_errors_only() {
    assert_eq!(report_with(0, 0, 0).exit_code(), 0);
    assert_eq!(report_with(0, 3, 2).exit_code(), 0);
    assert_eq!(report_with(1, 0, 0).exit_code(), 1);
    assert_eq!(report_with(2, 5, 1).exit_code(), 1);
}

/// Copies a fixture into a temporary directory, with a `dendrite.toml`.
fn with_config(code: &str, toml: &str) -> Report {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture(code), tmp.path());
    std::fs::write(tmp.path().join("dendrite.toml"), toml).unwrap();
    run(tmp.path())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Severity changes in `dendrite.toml` move the exit code both ways.
#[test]
fn exit_code_follows_configured_severities() {
    // A warning-only fixture fails once its rule is an error...
    let r = with_config("D701", "[rules]\nD701 = \"error\"\n");
    assert_eq!((r.summary.errors, r.summary.warnings), (1, 0));
    assert_eq!(r.exit_code(), 1);
    // ...an error fixture passes with its rule at warning level (by name)...
    let r = with_config("D101", "[rules]\nunknown-namespace-key = \"warning\"\n");
    assert_eq!((r.summary.errors, r.summary.warnings), (0, 1));
    assert_eq!(r.exit_code(), 0);
    // ...and with it off there is nothing left.
    let r = with_config("D101", "[rules]\nD101 = \"off\"\n");
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(r.exit_code(), 0);
}

/// Fixtures that fail by rules at warning level exit 0; the others 1.
#[test]
fn exit_code_of_fixtures() {
    for c in all_cases() {
        let report = run(&fixture(c.code));
        let has_error = report.diagnostics.iter().any(|d| d.severity == Severity::Error);
        assert_eq!(report.exit_code(), i32::from(has_error), "{}", c.code);
        assert_eq!(has_error, rule_default(c.code) == Severity::Error, "{}", c.code);
    }
}
