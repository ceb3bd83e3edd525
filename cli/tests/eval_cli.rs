//! Runs the built `conturs` binary on CSV files, as an operator would.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flate2::Compression;
use flate2::write::GzEncoder;

fn conturs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conturs"))
        .args(args)
        .output()
        .expect("the conturs binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Deterministic xorshift so the test data needs no RNG crate.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A CRM-like export where plan and seats drive the outcome and `color` is noise.
fn export_csv(rows: usize) -> String {
    let mut rng = Xorshift(0x9e3779b97f4a7c15);
    let plans = [
        ("enterprise", 1.5),
        ("team", 0.3),
        ("starter", -0.6),
        ("free", -1.5),
    ];
    let colors = ["red", "green", "blue"];
    let mut csv = String::from("id,plan,seats,color,won,closed_at\n");
    for id in 0..rows {
        let (plan, effect) = plans[(rng.next() * plans.len() as f64) as usize % plans.len()];
        let seats = (1.0 + rng.next() * 400.0).round();
        let color = colors[(rng.next() * 3.0) as usize % 3];
        let logit = -2.5 + effect + 0.9 * (seats.ln() - 3.0);
        let won = rng.next() < 1.0 / (1.0 + (-logit).exp());
        let closed_at = if won {
            format!("2026-{:02}-{:02}", 1 + id % 12, 1 + id % 28)
        } else {
            String::new()
        };
        let seats_text = if id % 17 == 0 {
            String::new()
        } else {
            seats.to_string()
        };
        csv.push_str(&format!(
            "{id},{plan},{seats_text},{color},{},{closed_at}\n",
            if won { "yes" } else { "no" }
        ));
    }
    csv
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn json_of(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "stderr: {}", stderr(output));
    serde_json::from_str(stdout(output).trim()).expect("one JSON object on stdout")
}

#[test]
fn json_report_has_the_promised_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "export.csv", &export_csv(3000));
    let output = conturs(&[
        "eval",
        path.to_str().unwrap(),
        "--label",
        "won",
        "--ignore",
        "id",
        "--json",
    ]);
    let report = json_of(&output);
    assert_eq!(report["rows"], 3000);
    assert_eq!(report["positive_value"], "yes");
    let positives = report["positives"].as_u64().unwrap();
    assert!(positives > 100 && positives < 1500, "positives {positives}");
    let auc = report["auc"].as_f64().unwrap();
    assert!(auc > 0.7 && auc < 0.95, "auc {auc}");
    assert!(report["lift_top_decile"].as_f64().unwrap() > 1.5);
    assert!(report["capture_top20"].as_f64().unwrap() > 0.3);
    assert_eq!(report["fold_aucs"].as_array().unwrap().len(), 5);
    let columns = report["columns"].as_array().unwrap();
    let types: Vec<(&str, &str)> = columns
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("plan", "categorical"),
            ("seats", "numeric"),
            ("color", "categorical"),
            ("closed_at", "categorical")
        ]
    );
}

#[test]
fn gzip_input_gives_the_same_numbers_as_plain() {
    let dir = tempfile::tempdir().unwrap();
    let content = export_csv(1500);
    let plain = write(dir.path(), "export.csv", &content);
    let gz_path = dir.path().join("export.csv.gz");
    let mut encoder = GzEncoder::new(
        std::fs::File::create(&gz_path).unwrap(),
        Compression::default(),
    );
    encoder.write_all(content.as_bytes()).unwrap();
    encoder.finish().unwrap();
    let args = |path: &Path| {
        conturs(&[
            "eval",
            path.to_str().unwrap(),
            "--label",
            "won",
            "--positive",
            "yes",
            "--ignore",
            "id,closed_at",
            "--folds",
            "3",
            "--seed",
            "7",
            "--json",
        ])
    };
    let from_plain = json_of(&args(&plain));
    let from_gzip = json_of(&args(&gz_path));
    assert_eq!(from_plain["auc"], from_gzip["auc"]);
    assert_eq!(from_plain["lift_top_decile"], from_gzip["lift_top_decile"]);
    assert_eq!(from_plain["folds"], 3);
}

#[test]
fn table_output_time_holdout_and_scores_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "export.csv", &export_csv(2000));
    let scores = dir.path().join("scores.csv");
    let output = conturs(&[
        "eval",
        path.to_str().unwrap(),
        "--label",
        "won",
        "--ignore",
        "id",
        "--time",
        "closed_at",
        "--scores-out",
        scores.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let table = stdout(&output);
    assert!(table.contains("AUC (cross-validated)"), "{table}");
    assert!(table.contains("lift, top decile"));
    assert!(table.contains("capture, top 20%"));
    for grade in ["A ", "B ", "C ", "D ", "F "] {
        assert!(
            table.contains(&format!("  {grade}")),
            "grade row {grade} in {table}"
        );
    }
    assert!(table.contains("time holdout           AUC"), "{table}");

    let mut reader = csv::Reader::from_path(&scores).unwrap();
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "line",
            "label",
            "score",
            "grade",
            "percentile",
            "cv_percentile",
            "top_factors",
            "explanation"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2000);
    assert_eq!(&records[0][0], "2", "first data row is on line 2");
    for record in &records {
        let score: u8 = record[2].parse().unwrap();
        assert!(score <= 100);
        assert!(["A", "B", "C", "D", "F"].contains(&&record[3]));
        assert!(!record[7].is_empty());
    }
    assert!(
        records
            .iter()
            .any(|r| &r[3] == "A" && r[7].starts_with("Strong fit: "))
    );
    assert!(
        records
            .iter()
            .any(|r| &r[3] == "F" && r[7].starts_with("Weak fit: "))
    );
}

#[test]
fn malformed_rows_are_reported_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut content = export_csv(50);
    content.push_str("51,team,10,red,no,,surplus\n");
    let path = write(dir.path(), "bad.csv", &content);
    let output = conturs(&["eval", path.to_str().unwrap(), "--label", "won"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("line 52"), "{message}");
    assert!(message.contains("expected 6 fields"), "{message}");
}

#[test]
fn bad_values_in_a_forced_numeric_column_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let content = "plan,seats,won\nteam,10,1\nfree,lots,0\n";
    let path = write(dir.path(), "typed.csv", content);
    let output = conturs(&[
        "eval",
        path.to_str().unwrap(),
        "--label",
        "won",
        "--numeric",
        "seats",
    ]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("line 3, column `seats`"), "{message}");
    assert!(message.contains("`lots` is not a number"), "{message}");
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.csv");
    let mut bytes = b"plan,seats,won\nteam,10,1\n".to_vec();
    bytes.extend_from_slice(b"caf\xe9,3,0\n");
    std::fs::write(&path, bytes).unwrap();
    let output = conturs(&["eval", path.to_str().unwrap(), "--label", "won"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("line 3, column `plan`"), "{message}");
}

#[test]
fn unclear_labels_and_missing_columns_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "export.csv", &export_csv(100));
    let missing = conturs(&["eval", path.to_str().unwrap(), "--label", "outcome"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("label column `outcome` is not in the header"));

    let ambiguous = write(
        dir.path(),
        "stage.csv",
        "plan,stage\nteam,won\nfree,lost\nteam,open\n",
    );
    let output = conturs(&[
        "eval",
        ambiguous.to_str().unwrap(),
        "--label",
        "stage",
        "--positive",
        "signed",
    ]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("never holds the positive value `signed`"));

    let unknown = write(dir.path(), "odd.csv", "plan,stage\nteam,alpha\nfree,beta\n");
    let output = conturs(&["eval", unknown.to_str().unwrap(), "--label", "stage"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("pass --positive VALUE"));

    let few = write(dir.path(), "few.csv", "plan,won\nteam,1\nfree,0\nteam,0\n");
    let output = conturs(&["eval", few.to_str().unwrap(), "--label", "won"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("not enough closed-won data"),
        "{}",
        stderr(&output)
    );
}

/// One seeded mutation of a valid export: the damage a hand-edited, truncated or mis-encoded
/// CSV brings.
fn mutate(valid: &[u8], rng: &mut Xorshift) -> Vec<u8> {
    let pick = |rng: &mut Xorshift, n: usize| (rng.next() * n as f64) as usize % n.max(1);
    let mut bytes = valid.to_vec();
    for _ in 0..1 + pick(rng, 4) {
        let at = pick(rng, bytes.len() + 1);
        match pick(rng, 12) {
            0 => bytes.truncate(at),
            1 => {
                let end = (at + pick(rng, 200)).min(bytes.len());
                bytes.drain(at..end);
            }
            2 => bytes.splice(at..at, [b'"']).for_each(drop),
            3 => bytes.splice(at..at, [0u8, 0xff, 0xfe, 0xc3]).for_each(drop),
            4 => bytes
                .splice(at..at, b",,,,,,".iter().copied())
                .for_each(drop),
            5 => bytes
                .splice(at..at, b"\r\n\r\n".iter().copied())
                .for_each(drop),
            6 => bytes
                .splice(at..at, "x".repeat(100_000).into_bytes())
                .for_each(drop),
            7 => bytes.splice(0..0, [0xef, 0xbb, 0xbf]).for_each(drop),
            8 => {
                bytes = bytes
                    .iter()
                    .map(|b| if *b == b',' { b';' } else { *b })
                    .collect()
            }
            9 => bytes = b"won\n".to_vec(),
            10 => {
                let line = format!("{},maybe,1e999,NaN,perhaps,not-a-date\n", at);
                bytes.extend_from_slice(line.as_bytes());
            }
            _ => bytes = with_broken_header(&bytes),
        }
    }
    bytes
}

/// The same rows under a header with duplicate and empty column names.
fn with_broken_header(bytes: &[u8]) -> Vec<u8> {
    let body = bytes.splitn(2, |b| *b == b'\n').nth(1).unwrap_or_default();
    let mut out = b"id,plan,plan,,won,won\n".to_vec();
    out.extend_from_slice(body);
    out
}

/// CSV fuzzing of `eval` (issue 11): 150 seeded mutations of a valid export, plain and gzip
/// (some gzip streams cut short). Whatever the damage, `conturs eval` ends with 0 or with a
/// one-line `error:` and exit 1 or 2: never a panic, a signal or an empty message.
#[test]
fn mutated_csvs_get_a_clear_error_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let valid = export_csv(80).into_bytes();
    let mut rng = Xorshift(0x5eed_cafe_f00d_d00d);
    let mut outcomes = std::collections::BTreeMap::<i32, usize>::new();
    for case in 0..150 {
        let content = mutate(&valid, &mut rng);
        let path = if case % 5 == 0 {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
            encoder.write_all(&content).unwrap();
            let mut gz = encoder.finish().unwrap();
            if case % 10 == 0 {
                gz.truncate(gz.len() / 2);
            }
            let path = dir.path().join(format!("case{case}.csv.gz"));
            std::fs::write(&path, gz).unwrap();
            path
        } else {
            let path = dir.path().join(format!("case{case}.csv"));
            std::fs::write(&path, &content).unwrap();
            path
        };
        let output = conturs(&["eval", path.to_str().unwrap(), "--label", "won", "--json"]);
        let code = output.status.code();
        let message = stderr(&output);
        assert!(
            matches!(code, Some(0..=2)),
            "case {case}: exit {:?} (a crash), stderr: {message}",
            output.status
        );
        if code != Some(0) {
            assert!(
                message.starts_with("error:") && !message.contains("panicked"),
                "case {case}: an unclear failure: {message}"
            );
        }
        *outcomes.entry(code.unwrap_or(-1)).or_default() += 1;
    }
    eprintln!("exit codes over 150 mutated CSVs: {outcomes:?}");
    assert!(
        outcomes.len() > 1,
        "the mutations should both pass and fail: {outcomes:?}"
    );
}
