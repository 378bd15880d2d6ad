//! Configuration layers, database URLs and the errors a person sees when the
//! database cannot be reached, and the `gorod` command itself.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;

use gorod::clock::SettableClock;
use gorod::config::Settings;
use gorod::startup::Application;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_defaults_work_on_a_fresh_machine() {
    let s = Settings::load_with_env(&common::config_dir(), HashMap::new()).unwrap();
    assert_eq!(s.server.host, "127.0.0.1");
    assert_eq!(s.server.port, 8080);
    assert_eq!(s.database.url, "sqlite://data/gorod.db");
    assert!(!s.seed.demo, "a fresh installation loads no demo");
}

#[test]
fn environment_variables_beat_the_environment_file_which_beats_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::config_dir().join("default.toml"),
        dir.path().join("default.toml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("staging.toml"),
        "[server]\nport = 9000\nhost = \"0.0.0.0\"\n[seed]\ndemo = true\n",
    )
    .unwrap();
    let s = Settings::load_with_env(dir.path(), env(&[("GOROD_ENV", "staging")])).unwrap();
    assert_eq!(
        (s.server.port, s.server.host.as_str(), s.seed.demo),
        (9000, "0.0.0.0", true)
    );
    let s = Settings::load_with_env(
        dir.path(),
        env(&[
            ("GOROD_ENV", "staging"),
            ("GOROD__SERVER__PORT", "9100"),
            ("GOROD__SEED__DEMO", "false"),
        ]),
    )
    .unwrap();
    assert_eq!(
        (s.server.port, s.server.host.as_str(), s.seed.demo),
        (9100, "0.0.0.0", false)
    );
    // A named environment without its file is a mistake worth hearing about.
    let missing = Settings::load_with_env(dir.path(), env(&[("GOROD_ENV", "prod")]));
    assert!(missing.unwrap_err().to_string().contains("prod"));
}

#[test]
fn database_url_is_honoured_unless_gorod_names_one() {
    let dir = common::config_dir();
    let s = Settings::load_with_env(&dir, env(&[("DATABASE_URL", "postgres://city@db/gorod")]))
        .unwrap();
    assert_eq!(s.database.url, "postgres://city@db/gorod");
    let s = Settings::load_with_env(
        &dir,
        env(&[
            ("DATABASE_URL", "postgres://city@db/gorod"),
            ("GOROD__DATABASE__URL", "sqlite://x.db"),
        ]),
    )
    .unwrap();
    assert_eq!(s.database.url, "sqlite://x.db");
}

#[test]
fn a_bad_value_names_the_key() {
    let err = Settings::load_with_env(
        &common::config_dir(),
        env(&[("GOROD__SERVER__PORT", "eighty")]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("port"), "{err}");
}

fn start_error(url: &str) -> String {
    let settings = common::test_settings(url);
    match Application::build(
        &settings,
        Arc::new(SettableClock::new(common::start_time())),
    ) {
        Ok(_) => panic!("{url} should not start"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn an_unknown_scheme_is_refused_not_taken_for_a_file_name() {
    let err = start_error("mysql://root@127.0.0.1/gorod");
    assert!(err.contains("scheme 'mysql' is not supported"), "{err}");
    let err = start_error("gorod.db");
    assert!(err.contains("no scheme"), "{err}");
}

#[test]
fn an_unreachable_server_says_so() {
    // Nothing listens on port 1.
    let err = start_error("postgres://postgres@127.0.0.1:1/gorod");
    assert!(
        err.contains("cannot connect to the database at postgres://postgres@127.0.0.1:1/gorod"),
        "{err}"
    );
    assert!(err.contains("Connection refused"), "{err}");
}

#[test]
fn a_password_in_the_url_never_shows_in_the_error() {
    let err = start_error("postgres://city:hunter2@127.0.0.1:1/gorod");
    assert!(!err.contains("hunter2"), "{err}");
    assert!(err.contains("city:***@"), "{err}");
}

#[test]
fn a_missing_database_or_role_is_named() {
    let Some(url) = common::postgres_url() else {
        return; // needs a PostgreSQL server; scripts/test runs this on one
    };
    let (base, _) = url.rsplit_once('/').unwrap();
    let err = start_error(&format!("{base}/no_such_city_db"));
    assert!(
        err.contains("database \"no_such_city_db\" does not exist"),
        "{err}"
    );
    let host = base
        .rsplit_once('@')
        .map_or(base.trim_start_matches("postgres://"), |(_, h)| h);
    let err = start_error(&format!("postgres://no_such_role:pw@{host}/postgres"));
    assert!(err.contains("no_such_role"), "{err}");
    assert!(!err.contains(":pw@"), "{err}");
}

#[test]
fn the_sqlite_directory_is_created_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("deeper").join("city.db");
    let settings = common::test_settings(&format!("sqlite://{}", path.display()));
    let app = Application::build(
        &settings,
        Arc::new(SettableClock::new(common::start_time())),
    );
    assert!(app.is_ok());
    assert!(path.exists());
}

#[test]
fn gorod_migrate_brings_a_database_up_to_date_and_reports_bad_urls() {
    let db = common::TestDatabase::new();
    let output = Command::new(env!("CARGO_BIN_EXE_gorod"))
        .arg("migrate")
        .arg("--config-dir")
        .arg(common::config_dir())
        .env("GOROD__DATABASE__URL", &db.url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("up to date"));

    let output = Command::new(env!("CARGO_BIN_EXE_gorod"))
        .arg("migrate")
        .arg("--config-dir")
        .arg(common::config_dir())
        .env("GOROD__DATABASE__URL", "oracle://scott@localhost/tiger")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("scheme 'oracle' is not supported"),
        "{stderr}"
    );
}
