//! Running a real installation: nothing of the demo unless asked for, a
//! refusal to serve the demo's published credentials beyond this machine,
//! `gorod admin` (first administrator, list, disable, secrets rotated with
//! a grace period, the demo's credentials removed), and one process per
//! SQLite file.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::process::{Command, Output};
use std::sync::Arc;

use chrono::TimeDelta;
use gorod::accounts::totp;
use gorod::app::operators::{self, Secret};
use gorod::clock::{Clock, SettableClock};
use gorod::startup::{Application, StartupError};
use serde_json::{json, Value};

/// Runs the `gorod` command against `database_url`.
fn gorod(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gorod"));
    command
        .arg("--config-dir")
        .arg(common::config_dir())
        .args(args)
        .env("GOROD__DATABASE__URL", database_url)
        .env("RUST_LOG", "warn")
        .env_remove("GOROD_ADMIN_PASSWORD");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the gorod command runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn log_in(
    app: &common::TestApp,
    email: &str,
    password: &str,
    code: Option<&str>,
) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let mut body = json!({"email": email, "password": password});
    if let Some(code) = code {
        body["totp"] = json!(code);
    }
    let response = client
        .post(app.url("/api/v1/account/login"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn code_now(secret: &str) -> String {
    let now = common::start_time().and_utc().timestamp();
    totp::code(secret, totp::step_at(now)).unwrap()
}

#[tokio::test]
async fn a_fresh_database_served_without_demo_holds_nothing_of_it() {
    // What config/default.toml says, as a new operator would serve it.
    let app = common::spawn_app_with(|s| s.seed.demo = app_settings_seed_demo()).await;
    assert!(
        !app_settings_seed_demo(),
        "config/default.toml seeds no demo"
    );
    for table in [
        "departments",
        "categories",
        "users",
        "accounts",
        "api_keys",
        "reports",
    ] {
        assert_eq!(app.count_rows(table), 0, "{table} is empty");
    }
    let (status, body) = log_in(
        &app,
        "admin@demo.gorod.local",
        gorod::demo::DEMO_PASSWORD,
        Some(&code_now(gorod::demo::DEMO_TOTP_SECRET)),
    )
    .await;
    assert_eq!(status, 401, "the demo admin's published password: {body}");
    let (status, _) = app
        .post_as("demo-token-admin", "/api/v1/admin/sla/scan", "{}")
        .await;
    assert_eq!(status, 401, "the demo admin's published token");
}

fn app_settings_seed_demo() -> bool {
    gorod::config::Settings::load_with_env(&common::config_dir(), Default::default())
        .unwrap()
        .seed
        .demo
}

#[tokio::test]
async fn the_demo_is_refused_beyond_loopback_until_its_credentials_are_removed() {
    let db = common::TestDatabase::new();
    let mut settings = common::test_settings(&db.url);
    let media = tempfile::tempdir().unwrap();
    settings.media.dir = media.path().to_path_buf();
    settings.server.host = "0.0.0.0".into();
    let clock = Arc::new(SettableClock::new(common::start_time()));
    let refused = Application::build(&settings, clock.clone()).err();
    let Some(StartupError::DemoOnPublicAddress { found, .. }) = &refused else {
        panic!("a public server with the demo's credentials started: {refused:?}");
    };
    assert!(found.accounts > 10 && found.keys > 10, "{found:?}");
    let message = refused.unwrap().to_string();
    assert!(message.contains("gorod admin remove-demo"), "{message}");

    // The operator removes them; the catalogue stays, the server starts.
    let output = gorod(&db.url, &["admin", "remove-demo"], &[]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("demo accounts"), "{}", text(&output));
    settings.seed.demo = false;
    let app = Application::build(&settings, clock.clone()).expect("starts without them");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let token = client
        .post(format!("{address}/api/v1/admin/sla/scan"))
        .bearer_auth("demo-token-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(token.status().as_u16(), 401, "the demo token was revoked");
    let categories: Value = client
        .get(format!("{address}/api/v1/categories"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(categories.as_array().is_some_and(|c| !c.is_empty()));
}

#[tokio::test]
async fn create_admin_makes_an_administrator_who_logs_in_with_a_second_factor() {
    let app = common::spawn_app().await;
    let password = "a strong first password 2026";
    let output = gorod(
        &app.db.url,
        &[
            "admin",
            "create-admin",
            "--email",
            "it@city.example",
            "--name",
            "Городской ИТ",
        ],
        &[("GOROD_ADMIN_PASSWORD", password)],
    );
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(!said.contains(password), "the password is never printed");
    let secret = said
        .lines()
        .find_map(|l| l.trim().strip_prefix("secret: "))
        .expect("the TOTP secret is shown once")
        .to_string();
    assert!(said.contains("otpauth://totp/"), "{said}");

    let (status, body) = log_in(&app, "it@city.example", password, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("totp_required")),
        "{body}"
    );
    let (status, me) = log_in(&app, "it@city.example", password, Some(&code_now(&secret))).await;
    assert_eq!(
        (
            status,
            me["role"].as_str(),
            me["second_factor_pending"].as_bool()
        ),
        (200, Some("admin"), Some(false)),
        "{me}"
    );

    let again = gorod(
        &app.db.url,
        &["admin", "create-admin", "--email", "it@city.example"],
        &[("GOROD_ADMIN_PASSWORD", password)],
    );
    assert!(!again.status.success());
    assert!(
        text(&again).contains("already has an account"),
        "{}",
        text(&again)
    );
    let short = gorod(
        &app.db.url,
        &["admin", "create-admin", "--email", "second@city.example"],
        &[("GOROD_ADMIN_PASSWORD", "short")],
    );
    assert!(!short.status.success());
    assert!(
        text(&short).contains("the password must be at least"),
        "{}",
        text(&short)
    );

    let list = text(&gorod(&app.db.url, &["admin", "list"], &[]));
    let line = list
        .lines()
        .find(|l| l.starts_with("it@city.example"))
        .expect("listed");
    assert!(
        line.contains("admin") && line.contains("enabled") && line.contains("second factor"),
        "{line}"
    );

    let disabled = gorod(
        &app.db.url,
        &["admin", "disable", "--email", "it@city.example"],
        &[],
    );
    assert!(disabled.status.success(), "{}", text(&disabled));
    let (status, _) = log_in(&app, "it@city.example", password, Some(&code_now(&secret))).await;
    assert_ne!(status, 200, "a disabled administrator cannot log in");
    let list = text(&gorod(&app.db.url, &["admin", "list"], &[]));
    assert!(list
        .lines()
        .any(|l| l.starts_with("it@city.example") && l.contains("disabled")));
    let audit: i64 = {
        use diesel::prelude::*;
        use gorod::db::schema::audit_log;
        let mut conn = app.conn();
        audit_log::table
            .filter(audit_log::actor_role.eq("operator"))
            .count()
            .get_result(&mut *conn)
            .unwrap()
    };
    assert_eq!(
        audit, 2,
        "creation and disabling are audited as the operator's"
    );
}

/// The unsubscribe link of the first message to `email`.
async fn unsubscribe_link(app: &common::TestApp, email: &str) -> String {
    let mailbox = app.mailbox.clone().expect("memory mail");
    for _ in 0..200 {
        let raw = {
            let kept = mailbox.lock().unwrap();
            kept.iter().find(|m| m.to == email).map(|m| m.raw.clone())
        };
        if let Some(raw) = raw {
            let start = raw
                .find("/api/v1/unsubscribe/")
                .expect("an unsubscribe link");
            let rest = &raw[start..];
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '>')
                .unwrap_or(rest.len());
            return rest[..end].to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no message to {email}");
}

#[tokio::test]
async fn rotated_link_keys_keep_old_links_working_for_the_grace_period_only() {
    let first = common::spawn_app().await;
    let (status, body) = first
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    assert_eq!(status, 201, "{body}");
    let link = unsubscribe_link(&first, "anna.petrova@example.ru").await;

    let now = first.clock.now();
    let mut conn = first.conn();
    operators::rotate(
        &mut conn,
        Secret::Links,
        TimeDelta::hours(24),
        ("", std::path::Path::new("")),
        now,
    )
    .unwrap();
    drop(conn);
    // An instance started after the rotation signs with the new key and
    // still accepts the old one.
    let second = common::spawn_app_on(first.db.shared(), |_| {}).await;
    second.clock.set(now + TimeDelta::hours(23));
    let page = second.get(&link).await;
    assert_eq!(page.status().as_u16(), 200, "within the grace period");
    second.clock.set(now + TimeDelta::hours(25));
    let page = second.get(&link).await;
    assert_eq!(page.status().as_u16(), 400, "after the grace period");
}

#[tokio::test]
async fn a_rotated_ledger_key_hands_over_in_a_checkpoint_and_the_ledger_still_verifies() {
    // Its own key file: the rotation changes it.
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("ledger.key");
    let key_env = key_file.to_str().unwrap().to_string();
    let env = [("GOROD__LEDGER__KEY_FILE", key_env.as_str())];
    // A witness follows the ledger across the change of key.
    let witness_key = keys.path().join("witness.key");
    let witness_state = keys.path().join("witness.state");
    let witness_args = |address: &str, log_key: Option<&str>| {
        let mut args = vec![
            "witness".to_string(),
            "watch".into(),
            "--once".into(),
            "--log".into(),
            address.to_string(),
            "--name".into(),
            "news.example/w".into(),
            "--key-file".into(),
            witness_key.to_str().unwrap().into(),
            "--state".into(),
            witness_state.to_str().unwrap().into(),
        ];
        if let Some(key) = log_key {
            args.extend(["--log-key".to_string(), key.to_string()]);
        }
        args
    };
    let made = gorod(
        "",
        &[
            "witness",
            "init",
            "--name",
            "news.example/w",
            "--key-file",
            witness_key.to_str().unwrap(),
        ],
        &[],
    );
    let witness_vkey = text(&made).trim().to_string();
    let with_key = |s: &mut gorod::config::Settings| {
        s.ledger.key_file = key_file.clone();
        s.ledger.witnesses = vec![witness_vkey.clone()];
        // Both instances are one log (their addresses differ here).
        s.ledger.origin = "city.example/ledger".into();
    };
    let app = common::spawn_app_with(|s| {
        s.seed.demo_reports = 40;
        with_key(s);
    })
    .await;
    assert!(key_file.exists(), "the first start writes the key file");
    let before = text(&gorod(&app.db.url, &["ledger", "checkpoint"], &env));
    let (_, key) = app.get_json("/api/v1/ledger/key").await;
    let args = witness_args(&app.address, key["note_key"].as_str());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let watched = gorod("", &args, &[]);
    assert!(watched.status.success(), "{}", text(&watched));
    let old_key = before
        .split("signed by ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();

    let rotated = gorod(
        &app.db.url,
        &["admin", "rotate-secret", "ledger", "--grace-hours", "1"],
        &env,
    );
    let said = text(&rotated);
    assert!(rotated.status.success(), "{said}");
    assert!(
        said.contains(&format!("ledger signing key {old_key} replaced by")),
        "{said}"
    );
    let new_key = said
        .split("replaced by ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_ne!(old_key, new_key);

    // More resolutions, a checkpoint by the new key, and the whole ledger
    // with the old key's checkpoints verifies.
    let second = common::spawn_app_on(app.db.shared(), with_key).await;
    let (status, key) = second.get_json("/api/v1/ledger/key").await;
    assert_eq!(status, 200);
    assert_eq!(key["public_key"].as_str(), Some(new_key.as_str()), "{key}");
    let (status, body) = second
        .post_as("demo-token-admin", "/api/v1/admin/ledger/checkpoints", "{}")
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let verified = gorod(&app.db.url, &["ledger", "verify"], &env);
    assert!(verified.status.success(), "{}", text(&verified));
    let (_, checkpoints) = second.get_json("/api/v1/ledger/checkpoints").await;
    let keys: Vec<&str> = checkpoints
        .as_array()
        .or_else(|| checkpoints["checkpoints"].as_array())
        .unwrap()
        .iter()
        .filter_map(|c| c["public_key"].as_str())
        .collect();
    assert!(keys.contains(&old_key.as_str()), "{checkpoints}");
    // The witness, trusting the old key, follows the rotation both keys
    // signed and cosigns the new key's checkpoint.
    let args = witness_args(&second.address, None);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let watched = gorod("", &args, &[]);
    assert!(watched.status.success(), "{}", text(&watched));
    assert!(text(&watched).contains("cosigned"), "{}", text(&watched));
    // The rotation is recorded, signed by both keys, and no key is in the
    // database.
    assert_eq!(key["rotations"][0]["old_key"], old_key.as_str(), "{key}");
    assert_eq!(key["rotations"][0]["new_key"], new_key.as_str(), "{key}");
    assert_eq!(
        second.count_rows("secrets WHERE name = 'ledger_signing_key'"),
        0
    );
    let file = std::fs::read_to_string(&key_file).unwrap();
    assert!(file.contains(&format!("retired {old_key} ")), "{file}");
}

#[tokio::test]
async fn rotating_sessions_ends_every_session_by_the_grace_period() {
    let app = common::spawn_app().await;
    let (status, _) = log_in(
        &app,
        "resident1@demo.gorod.local",
        gorod::demo::DEMO_PASSWORD,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let now = app.clock.now();
    let mut conn = app.conn();
    let rotation = operators::rotate(
        &mut conn,
        Secret::Sessions,
        TimeDelta::hours(2),
        ("", std::path::Path::new("")),
        now,
    )
    .unwrap();
    assert_eq!(rotation.sessions, 1);
    use diesel::prelude::*;
    use gorod::db::schema::sessions;
    let latest: chrono::NaiveDateTime = sessions::table
        .select(diesel::dsl::max(sessions::expires_at))
        .first::<Option<chrono::NaiveDateTime>>(&mut *conn)
        .unwrap()
        .unwrap();
    assert_eq!(latest, now + TimeDelta::hours(2));
}

#[tokio::test]
async fn a_second_process_on_the_same_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("city.db").display());
    let mut settings = common::test_settings(&url);
    settings.media.dir = dir.path().join("media");
    let app = Application::build(
        &settings,
        Arc::new(SettableClock::new(common::start_time())),
    )
    .unwrap();
    tokio::spawn(app.run_until_stopped());
    let output = gorod(&url, &["serve"], &[("GOROD__SERVER__PORT", "0")]);
    assert!(!output.status.success());
    let said = text(&output);
    assert!(said.contains("is served by another process"), "{said}");
    assert!(said.contains("PostgreSQL"), "{said}");
}
