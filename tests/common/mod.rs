//! Test harness: the real application on port 0 against a fresh database —
//! a temporary SQLite file, or a fresh PostgreSQL schema when
//! `TEST_DATABASE_URL` names a PostgreSQL server.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

pub mod cluster;
pub mod instance;
pub mod s3;
pub mod smtp;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use gorod::clock::SettableClock;
use gorod::config::Settings;
use gorod::db::{DbConnection, Pool};
use gorod::startup::Application;

pub fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
}

/// The PostgreSQL server under test, if any. Tests talk to it without TLS
/// unless the URL says otherwise: TLS buys nothing on a test server, and
/// OpenSSL's clean-up at process exit can crash a test binary whose pooled
/// connections other threads still hold.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))?;
    if url.contains("sslmode=") {
        return Some(url);
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{separator}sslmode=disable"))
}

pub fn start_time() -> NaiveDateTime {
    NaiveDateTime::parse_from_str("2026-03-02 09:00:00", "%Y-%m-%d %H:%M:%S").unwrap()
}

/// A database of its own for one test, removed when dropped.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        schema: String,
    },
    /// Another [`TestDatabase`] owns it.
    Shared,
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        match postgres_url() {
            Some(admin_url) => TestDatabase::on_server(&admin_url),
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                TestDatabase {
                    url: format!("sqlite://{}", dir.path().join("gorod.db").display()),
                    cleanup: Cleanup::Sqlite(dir),
                }
            }
        }
    }

    /// A fresh schema on the PostgreSQL server at `admin_url`.
    pub fn on_server(admin_url: &str) -> TestDatabase {
        let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url).expect("connect to PostgreSQL");
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .expect("create test schema");
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        TestDatabase {
            url: format!("{admin_url}{separator}options=--search_path%3D{schema}"),
            cleanup: Cleanup::Postgres {
                admin_url: admin_url.to_string(),
                schema,
            },
        }
    }

    /// The same database, for a second app instance; the original removes
    /// it.
    #[allow(dead_code)]
    pub fn shared(&self) -> TestDatabase {
        TestDatabase {
            url: self.url.clone(),
            cleanup: Cleanup::Shared,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, schema } = &self.cleanup {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ =
                    diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut admin);
            }
        }
    }
}

/// Settings as a fresh checkout has them, pointed at `database_url`, on port
/// 0, with the demo catalogue but no sample reports.
pub fn test_settings(database_url: &str) -> Settings {
    let mut settings =
        Settings::load_with_env(&config_dir(), HashMap::new()).expect("default settings load");
    settings.server.port = 0;
    settings.database.url = database_url.to_string();
    settings.database.pool_size = 4;
    settings.seed.demo = true;
    settings.seed.demo_reports = 0;
    // Tests run the SLA scanner themselves, after moving the clock.
    settings.sla.scan_interval_secs = 0;
    // Reports are found by search within a blink.
    settings.search.index_ms = 20;
    // Mail stays in the process unless a test sends it somewhere.
    settings.mail.transport = "memory".into();
    settings.mail.poll_ms = 50;
    // Tests file many reports from one address, replay real records through
    // one Open311 key and file as anonymous filers;
    // the tests of those rules set them back to the defaults.
    settings.limits.reports_per_day = 100_000;
    settings.limits.open311_posts_per_minute = 100_000;
    settings.accounts.confirm_anonymous_reports = false;
    settings
}

pub struct TestApp {
    pub address: String,
    pub media_dir: tempfile::TempDir,
    pub client: reqwest::Client,
    pub clock: SettableClock,
    pub pool: Pool,
    pub db: TestDatabase,
    /// What the `memory` mail transport sent (the tests' default).
    pub mailbox: Option<gorod::notify::transport::MemoryBox>,
    pub services: Arc<gorod::app::Services>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(TestDatabase::new(), adjust).await
}

pub async fn spawn_app_on(db: TestDatabase, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings(&db.url);
    let media_dir = tempfile::tempdir().expect("media dir");
    settings.media.dir = media_dir.path().to_path_buf();
    adjust(&mut settings);
    let clock = SettableClock::new(start_time());
    let app = Application::build(&settings, Arc::new(clock.clone())).expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool().clone();
    let mailbox = app.mailbox();
    let services = app.services();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        media_dir,
        client: reqwest::Client::new(),
        clock,
        pool,
        db,
        mailbox,
        services,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        status_and_json(self.get(path).await).await
    }

    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST");
        status_and_json(response).await
    }

    /// POST with a bearer token.
    pub async fn post_as(&self, token: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .body(body.to_string())
            .send()
            .await
            .expect("POST");
        status_and_json(response).await
    }

    /// A workflow action on a report, as `token`'s holder.
    #[allow(dead_code)]
    pub async fn act(
        &self,
        token: &str,
        id: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.post_as(
            token,
            &format!("/api/v1/reports/{id}/actions?lang=en"),
            &body.to_string(),
        )
        .await
    }

    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("POST");
        status_and_json(response).await
    }

    pub fn conn(&self) -> diesel::r2d2::PooledConnection<gorod::db::ConnectionManager> {
        self.pool.get().expect("a pooled connection")
    }

    /// How many rows a table holds, counted straight from the database.
    pub fn count_rows(&self, table: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.conn();
        let conn: &mut DbConnection = &mut conn;
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<Count>(conn)
            .expect("count rows")
            .n
    }
}

async fn status_and_json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// A valid report of `category` at a point (answers only where the
/// category asks questions, i.e. for potholes).
pub fn report_at(category: &str, lat: f64, lon: f64) -> serde_json::Value {
    let mut body = valid_report();
    body["category"] = serde_json::json!(category);
    if category != "pothole" {
        body["answers"] = serde_json::json!({});
    }
    body["lat"] = serde_json::json!(lat);
    body["lon"] = serde_json::json!(lon);
    body
}

/// A valid report in Tverskoy district (inside the demo city).
pub fn valid_report() -> serde_json::Value {
    serde_json::json!({
        "category": "pothole",
        "lat": 55.7700,
        "lon": 37.6050,
        "description": "Глубокая яма у перехода, машины объезжают по встречке.",
        "address": "ул. Тверская, 12",
        "answers": {"size": "medium"},
        "reporter": {"email": "anna.petrova@example.ru", "name": "Анна Петрова"}
    })
}

/// The first link under `path` in the mail `email` got, waiting for it.
pub async fn emailed_link(app: &TestApp, email: &str, path: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        let found = {
            let kept = app.mailbox.as_ref().expect("the memory transport");
            let kept = kept.lock().unwrap();
            kept.iter()
                .rev()
                .filter(|k| k.to.eq_ignore_ascii_case(email))
                .filter_map(|k| {
                    let message = mail_parser::MessageParser::default().parse(&k.raw)?;
                    let text = message.body_text(0)?.to_string();
                    let at = text.find(path)?;
                    let start = text[..at].rfind("http")?;
                    let link: String = text[start..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    Some(link)
                })
                .next()
        };
        if let Some(link) = found {
            return link;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no {path} mail to {email}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A JPEG of `width` × `height` with a red left half, so orientation shows.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            image::Rgb([220, 20, 20])
        } else {
            image::Rgb([20, 20, 220])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

/// The subjects of the mail `email` got, once the outbox has sent what
/// was pending (the memory transport).
pub async fn subjects_to(app: &TestApp, email: &str) -> Vec<String> {
    let started = std::time::Instant::now();
    while app.count_rows("outbox WHERE status = 'pending'") > 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "mail still pending"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let kept = app.mailbox.as_ref().expect("the memory transport");
    let kept = kept.lock().unwrap();
    kept.iter()
        .filter(|k| k.to.eq_ignore_ascii_case(email))
        .filter_map(|k| {
            let message = mail_parser::MessageParser::default().parse(&k.raw)?;
            Some(message.subject()?.to_string())
        })
        .collect()
}

/// A request with a bearer token (`None`: anonymous) and a JSON body.
pub async fn send_as(
    app: &TestApp,
    method: reqwest::Method,
    token: Option<&str>,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut request = app.client.request(method, app.url(path));
    if !body.is_null() {
        request = request.json(body);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("a request");
    status_and_json(response).await
}

/// A GET with a bearer token.
pub async fn get_as(app: &TestApp, token: &str, path: &str) -> (u16, serde_json::Value) {
    send_as(
        app,
        reqwest::Method::GET,
        Some(token),
        path,
        &serde_json::json!(null),
    )
    .await
}

/// Gives demo residents API tokens `demo-token-resident<n>` (the demo
/// gives them to staff only), so tests act as residents by bearer token.
pub fn resident_tokens(app: &TestApp, numbers: std::ops::RangeInclusive<u32>) {
    use gorod::db::schema::{api_keys, users};
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    for n in numbers {
        let user_id: String = users::table
            .filter(users::email.eq(format!("resident{n}@demo.gorod.local")))
            .select(users::id)
            .first(conn)
            .unwrap();
        diesel::insert_into(api_keys::table)
            .values(gorod::db::rows::ApiKeyRow {
                id: uuid::Uuid::new_v4().to_string(),
                key_hash: gorod::access::api_key_digest(&format!("demo-token-resident{n}")),
                name: format!("test token of resident{n}"),
                kind: "api".into(),
                user_id: Some(user_id),
                created_at: start_time(),
                revoked_at: None,
                scopes: "*".into(),
            })
            .execute(conn)
            .unwrap();
    }
}
