//! Load benchmark: filing and map queries through the running application,
//! each beside the same work done as plain SQL on the same database in the
//! same run, at several dataset sizes, on SQLite and PostgreSQL.
//!
//! Run it with `scripts/bench` (which finds or starts PostgreSQL), or
//! `cargo bench --bench load -- [--backends sqlite,postgres] [--sizes 100000,1000000]
//! [--seconds 5] [--map-clients 4] [--filing-clients 16] [--clients N (both)]
//! [--only map,pages,filing,scanner,mail] [--postgres-url URL] [--replica-url URL]`.
//!
//! With `--replica-url` (a streaming replica of the `--postgres-url` server;
//! `scripts/bench --replica` makes both), the PostgreSQL map is measured
//! three ways in the same run: reading from the primary, from the replica
//! through one instance, and through two instances sharing the load, each
//! beside the bare query on the database it reads.
//!
//! Each operation runs at the concurrency that saturates both its sides on
//! a two-core machine shared by the load generator, the server and the
//! database. Map queries are CPU-bound: 4 clients keep both cores busy, and
//! more only add run-queue wait to every latency. Filings wait on each
//! commit's flush to disk: one-row INSERTs in their own transactions reach
//! their plateau at 8–16 clients (group commit in the database), and the
//! application's group commit needs filings in flight to batch them, so
//! filing runs at 16.
//!
//! The dataset: a city-wide service area (Moscow inside the ring road,
//! approximated in `benches/moscow_mkad.geojson`) on top of the demo city,
//! filled by a generator with reports clustered around neighbourhood centres,
//! filed over two years, each in the status its age gives it in a city that
//! answers within days (recent ones open, old ones closed, a few stuck open),
//! routed by the real routing rules and with its history.
//!
//! `BENCH_HTTP_FLOOR=1` also prints the rate of `GET /healthz`, the HTTP
//! floor under every app figure.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::r2d2::ManageConnection;
use gorod::clock::SettableClock;
use gorod::config::Settings;
use gorod::db::rows::{ReportEventRow, ReportRow, UserRow};
use gorod::db::{catalog, seed, ConnectionManager, DbConnection};
use gorod::reports::questions::Question;
use gorod::reports::ReportStatus;
use gorod::routing::{self, CategoryRouting, CityMap};
use gorod::startup::Application;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// The test suite's SMTP server harness (aiosmtpd), shared.
#[path = "../tests/common/smtp.rs"]
#[allow(dead_code)]
mod smtp;

const AREA: &str = include_str!("moscow_mkad.geojson");
/// The statuses the public map shows by default: what is still being handled.
const OPEN: &str = "moderation,assigned,in_progress,paused,returned,reopened,resolved";
const CHUNK: usize = 20_000;

/// The benchmark's options (`cargo bench --bench load -- --help`).
#[derive(clap::Parser)]
#[command(about = "Gorod's load benchmark: the application beside plain SQL in the same run")]
struct Args {
    /// Backends to measure
    #[arg(long, value_delimiter = ',', default_values_t = ["sqlite".to_string(), "postgres".to_string()])]
    backends: Vec<String>,
    /// Dataset sizes, in reports
    #[arg(long, value_delimiter = ',', default_values_t = [100_000, 1_000_000])]
    sizes: Vec<usize>,
    /// Seconds each measure runs
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Concurrent clients of the map and page measures
    #[arg(long, default_value_t = 4)]
    map_clients: usize,
    /// Concurrent clients of the filing measures
    #[arg(long, default_value_t = 16)]
    filing_clients: usize,
    /// Sets both --map-clients and --filing-clients
    #[arg(long)]
    clients: Option<usize>,
    /// Which measures to run: map, pages, filing, scanner, mail
    #[arg(long, value_delimiter = ',', default_values_t = ["map", "pages", "filing", "scanner", "mail"].map(String::from))]
    only: Vec<String>,
    /// The PostgreSQL server (each size gets a database of its own on it);
    /// BENCH_POSTGRES_URL when not given
    #[arg(long)]
    postgres_url: Option<String>,
    /// A streaming replica of the PostgreSQL server, for the map's reads
    #[arg(long)]
    replica_url: Option<String>,
    /// Passed by `cargo bench`
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    fn runs(&self, measure: &str) -> bool {
        self.only.iter().any(|m| m == measure)
    }
}

fn parse_args() -> Args {
    use clap::Parser;
    let mut args = Args::parse();
    if let Some(clients) = args.clients {
        (args.map_clients, args.filing_clients) = (clients, clients);
    }
    if args.postgres_url.is_none() {
        args.postgres_url = std::env::var("BENCH_POSTGRES_URL").ok();
    }
    args
}

/// Latencies of one measured operation.
struct Measure {
    count: usize,
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Measure {
    fn rate(&self) -> f64 {
        self.count as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i].as_secs_f64() * 1000.0
    }
}

struct Row {
    backend: String,
    size: usize,
    operation: &'static str,
    clients: usize,
    app: Measure,
    raw: Measure,
}

fn main() {
    let args = parse_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut rows = Vec::new();
    for backend in &args.backends {
        for &size in &args.sizes {
            match runtime.block_on(run_case(&args, backend, size)) {
                Ok(mut case) => rows.append(&mut case),
                Err(e) => {
                    eprintln!("{backend} at {size} reports: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    println!();
    println!(
        "{:<9} {:>9}  {:<30} {:>7} {:>9} {:>8} {:>8}  {:>9} {:>8} {:>8}  {:>6}",
        "backend",
        "reports",
        "operation",
        "clients",
        "app/s",
        "p50 ms",
        "p99 ms",
        "raw/s",
        "p50 ms",
        "p99 ms",
        "ratio"
    );
    for r in &rows {
        println!(
            "{:<9} {:>9}  {:<30} {:>7} {:>9.0} {:>8.2} {:>8.2}  {:>9.0} {:>8.2} {:>8.2}  {:>6.2}",
            r.backend,
            r.size,
            r.operation,
            r.clients,
            r.app.rate(),
            r.app.percentile(0.5),
            r.app.percentile(0.99),
            r.raw.rate(),
            r.raw.percentile(0.5),
            r.raw.percentile(0.99),
            r.app.rate() / r.raw.rate()
        );
    }
}

/// A database of its own: a temporary SQLite file, or a new PostgreSQL
/// database dropped afterwards.
struct BenchDatabase {
    url: String,
    drop_with: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl BenchDatabase {
    fn new(backend: &str, postgres_url: Option<&str>) -> Result<BenchDatabase, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        if backend == "sqlite" {
            return Ok(BenchDatabase {
                url: format!("sqlite://{}", dir.path().join("bench.db").display()),
                drop_with: None,
                _dir: dir,
            });
        }
        let admin_url =
            postgres_url.ok_or("PostgreSQL needs --postgres-url or BENCH_POSTGRES_URL")?;
        let name = format!("gorod_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url).map_err(|e| e.to_string())?;
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .map_err(|e| e.to_string())?;
        Ok(BenchDatabase {
            url: on_server(&name, admin_url)?,
            drop_with: Some((admin_url.to_string(), name)),
            _dir: dir,
        })
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.drop_with {
            if std::env::var_os("BENCH_KEEP").is_some() {
                eprintln!("   kept database {name} (BENCH_KEEP)");
                return;
            }
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

async fn run_case(args: &Args, backend: &str, size: usize) -> Result<Vec<Row>, String> {
    eprintln!("== {backend}, {size} reports");
    let db = BenchDatabase::new(backend, args.postgres_url.as_deref())?;
    // The server's settings, overridable as the server's are (GOROD__…).
    let overrides = std::env::vars()
        .filter(|(k, _)| k.starts_with("GOROD__"))
        .collect();
    let mut settings = Settings::load_with_env(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
        overrides,
    )
    .map_err(|e| e.to_string())?;
    settings.server.port = 0;
    settings.database.url = db.url.clone();
    settings.database.pool_size = (args.map_clients.max(args.filing_clients) + 2) as u32;
    settings.seed.demo = true;
    settings.seed.demo_reports = 0;
    // The scanner and the mail dispatcher are measured on their own below.
    settings.sla.scan_interval_secs = 0;
    settings.mail.poll_ms = 0;
    // Filing itself is measured: as a logged-in resident or an integration
    // files, not held for an emailed confirmation.
    settings.accounts.confirm_anonymous_reports = false;
    // One key files thousands a second here: counted, never refused.
    settings.limits.open311_posts_per_minute = i64::MAX;
    settings.media.dir = db._dir.path().join("media");
    let now = NaiveDateTime::parse_from_str("2026-11-20 09:00:00", "%Y-%m-%d %H:%M:%S")
        .map_err(|e| e.to_string())?;
    let app = Application::build(&settings, Arc::new(SettableClock::new(now)))
        .map_err(|e| e.to_string())?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool().clone();
    tokio::spawn(app.run_until_stopped());

    let manager = ConnectionManager::new(&db.url).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let points = {
        let mut conn = manager.connect().map_err(|e| e.to_string())?;
        let drafts = routing::parse_areas(AREA).map_err(|e| e.to_string())?;
        catalog::import_areas(&mut conn, &drafts).map_err(|e| e.to_string())?;
        let points = generate(&mut conn, size, now)?;
        settle(&mut conn)?;
        points
    };
    eprintln!("   generated in {:.1} s", started.elapsed().as_secs_f64());
    drop(pool);

    let seconds = args.seconds;
    let mut rows = Vec::new();

    if std::env::var("BENCH_HTTP_FLOOR").is_ok() {
        let base = address.clone();
        let floor = http_load(args.map_clients, seconds, move |client, _| {
            let url = format!("{base}/healthz");
            async move {
                client
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .bytes()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(())
            }
        })
        .await?;
        eprintln!(
            "   HTTP floor (GET /healthz): {:.0}/s, p50 {:.2} ms",
            floor.rate(),
            floor.percentile(0.5)
        );
    }

    if args.runs("map") {
        let clients = args.map_clients;
        // Map: the public map's view, open reports in random neighbourhood
        // viewports (1024 × 768 px at zoom 16).
        let viewports: Arc<Vec<(f64, f64, f64, f64)>> = Arc::new(
            points
                .iter()
                .map(|&(lat, lon)| {
                    let width = 360.0 / f64::from(1u32 << 16) * 4.0;
                    let height = width * 0.75 * lat.to_radians().cos();
                    (
                        lon - width / 2.0,
                        lat - height / 2.0,
                        lon + width / 2.0,
                        lat + height / 2.0,
                    )
                })
                .collect(),
        );
        // Warm-up, not measured: the pages the viewports touch are read
        // into memory before either side is timed, so neither pays for the
        // cold cache the bulk load left.
        let raw_view = |views: Arc<Vec<(f64, f64, f64, f64)>>| {
            move |conn: &mut DbConnection, i: usize| raw_map_query(conn, views[i % views.len()])
        };
        sql_load(&manager, clients, 1.0, raw_view(viewports.clone()))?;
        let (map_views, base) = (viewports.clone(), address.clone());
        let app_map = http_load(clients, seconds, move |client, i| {
            let (a, b, c, d) = map_views[i % map_views.len()];
            let url = format!("{base}/api/v1/map?bbox={a},{b},{c},{d}&zoom=16&status={OPEN}");
            async move { expect(client.get(url).send().await, 200).await }
        });
        let app_map = app_map.await?;
        let raw_map = sql_load(&manager, clients, seconds, raw_view(viewports.clone()))?;
        rows.push(Row {
            backend: backend.into(),
            size,
            operation: "map, open reports, zoom 16",
            clients,
            app: app_map,
            raw: raw_map,
        });
        if let (Some(replica), "postgres") = (&args.replica_url, backend) {
            let replica_db = same_database_on(&db.url, replica)?;
            let replica_manager = ConnectionManager::new(&replica_db).map_err(|e| e.to_string())?;
            let mut settings = settings.clone();
            settings.database.read_url = replica_db;
            settings.seed.demo = false;
            // Two instances of the city, reading from the replica.
            let mut bases = Vec::new();
            for _ in 0..2 {
                let app = Application::build(&settings, Arc::new(SettableClock::new(now)))
                    .map_err(|e| e.to_string())?;
                bases.push(format!("http://127.0.0.1:{}", app.port()));
                tokio::spawn(app.run_until_stopped());
            }
            for base in &bases {
                replica_serving(base).await?;
            }
            sql_load(&replica_manager, clients, 1.0, raw_view(viewports.clone()))?;
            for instances in [1, 2] {
                let (map_views, bases) = (viewports.clone(), Arc::new(bases.clone()));
                let app = http_load(clients, seconds, move |client, i| {
                    let (a, b, c, d) = map_views[i % map_views.len()];
                    let base = &bases[i % instances];
                    let url =
                        format!("{base}/api/v1/map?bbox={a},{b},{c},{d}&zoom=16&status={OPEN}");
                    async move { expect(client.get(url).send().await, 200).await }
                })
                .await?;
                let raw = sql_load(
                    &replica_manager,
                    clients,
                    seconds,
                    raw_view(viewports.clone()),
                )?;
                rows.push(Row {
                    backend: backend.into(),
                    size,
                    operation: if instances == 1 {
                        "map via replica, 1 instance"
                    } else {
                        "map via replica, 2 instances"
                    },
                    clients,
                    app,
                    raw,
                });
            }
        }
    }
    if args.runs("pages") {
        let clients = args.map_clients;
        // A report's web page, beside the same report from the JSON API it
        // is built on (the baseline here is the API, not SQL): what the
        // template, the moves offered and the names looked up cost.
        let mut conn = manager.connect().map_err(|e| e.to_string())?;
        let sample: Arc<Vec<IdNumber>> = Arc::new(
            diesel::sql_query("SELECT id, number FROM reports ORDER BY number LIMIT 2000")
                .load(&mut conn)
                .map_err(|e| e.to_string())?,
        );
        let (reports, base) = (sample.clone(), address.clone());
        let page = http_load(clients, seconds, move |client, i| {
            let url = format!("{base}/reports/{}", reports[i % reports.len()].number);
            async move { expect(client.get(url).send().await, 200).await }
        })
        .await?;
        let (reports, base) = (sample.clone(), address.clone());
        let json = http_load(clients, seconds, move |client, i| {
            let url = format!("{base}/api/v1/reports/{}", reports[i % reports.len()].id);
            async move { expect(client.get(url).send().await, 200).await }
        })
        .await?;
        rows.push(Row {
            backend: backend.into(),
            size,
            operation: "report page (raw: its JSON)",
            clients,
            app: page,
            raw: json,
        });
    }
    if args.runs("filing") {
        let clients = args.filing_clients;
        // Filing through the JSON API and through Open311, beside a plain INSERT.
        let categories = Arc::new(filing_categories(&manager)?);
        let sample_points = Arc::new(points);
        let (cats, pts, base) = (categories.clone(), sample_points.clone(), address.clone());
        let app_post = http_load(clients, seconds, move |client, i| {
            let (code, answers) = cats[i % cats.len()].clone();
            let (lat, lon) = near(pts[(i * 7919) % pts.len()], i);
            let body = json!({
                "category": code, "lat": lat, "lon": lon, "answers": answers,
                "description": "Глубокая яма у перехода, машины объезжают по встречной.",
                // Mostly residents who filed before, some new ones.
                "reporter": {"email": resident_email((i * 31) % (residents(size) * 5 / 4))}
            });
            let url = format!("{base}/api/v1/reports");
            async move { expect(client.post(url).json(&body).send().await, 201).await }
        })
        .await?;
        let refs = Arc::new(raw_refs(&manager)?);
        let raw_refs = refs.clone();
        let raw_post = sql_load(&manager, clients, seconds, move |conn, i| {
            raw_insert(conn, now, &raw_refs[i % raw_refs.len()])
        })?;
        let (cats, pts, base) = (categories.clone(), sample_points.clone(), address.clone());
        let app_open311 = http_load(clients, seconds, move |client, i| {
            let (code, answers) = cats[i % cats.len()].clone();
            let (lat, lon) = near(pts[(i * 104_729) % pts.len()], i);
            let mut form = vec![
                ("api_key".to_string(), "demo-open311-key".to_string()),
                ("service_code".to_string(), code),
                ("lat".to_string(), lat.to_string()),
                ("long".to_string(), lon.to_string()),
                (
                    "description".to_string(),
                    "Не горит фонарь во дворе".to_string(),
                ),
            ];
            if let Some(answers) = answers.as_object() {
                for (k, v) in answers {
                    form.push((
                        format!("attribute[{k}]"),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    ));
                }
            }
            let url = format!("{base}/open311/v2/requests.json");
            async move { expect(client.post(url).form(&form).send().await, 200).await }
        })
        .await?;
        let raw_insert_again = sql_load(&manager, clients, seconds, move |conn, i| {
            raw_insert(conn, now, &refs[i % refs.len()])
        })?;
        rows.push(Row {
            backend: backend.into(),
            size,
            operation: "POST /api/v1/reports",
            clients,
            app: app_post,
            raw: raw_post,
        });
        rows.push(Row {
            backend: backend.into(),
            size,
            operation: "POST open311 requests",
            clients,
            app: app_open311,
            raw: raw_insert_again,
        });
    }
    if args.runs("scanner") {
        rows.extend(scanner_rows(&manager, backend, size, seconds, now)?);
    }
    // Mail does not depend on the city's size: measured once per backend.
    if args.runs("mail") && Some(&size) == args.sizes.first() {
        rows.push(mail_row(&db.url, backend, size, now)?);
    }
    Ok(rows)
}

/// The SLA scanner over a city whose every report is open: a pass when
/// nothing is due (against the bare query for due reports), then a pass
/// over 1 % of them falling due at once (reports handled per second,
/// against selecting the same reports).
fn scanner_rows(
    manager: &ConnectionManager,
    backend: &str,
    size: usize,
    seconds: f64,
    now: NaiveDateTime,
) -> Result<Vec<Row>, String> {
    use gorod::db::schema::reports;
    let mut conn = manager.connect().map_err(|e| e.to_string())?;
    diesel::update(reports::table)
        .set((
            reports::status.eq("assigned"),
            reports::next_sla_at.eq(Some(now + TimeDelta::days(1))),
        ))
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    diesel::sql_query("ANALYZE")
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    let snapshot = Arc::new(catalog::load_snapshot(&mut conn).map_err(|e| e.to_string())?);
    let due_query = move |conn: &mut DbConnection| -> Result<Vec<String>, String> {
        reports::table
            .filter(reports::next_sla_at.le(now))
            .order(reports::next_sla_at)
            .select(reports::id)
            .load(conn)
            .map_err(|e| e.to_string())
    };
    let shared = snapshot.clone();
    let idle_app = sql_load(manager, 1, seconds, move |conn, _| {
        let summary = gorod::app::clocks::scan(conn, &shared, now).map_err(|e| e.to_string())?;
        match summary.looked_at {
            0 => Ok(()),
            n => Err(format!("{n} reports were due")),
        }
    })?;
    let idle_raw = sql_load(manager, 1, seconds, move |conn, _| {
        due_query(conn).map(|_| ())
    })?;

    let due =
        diesel::sql_query("UPDATE reports SET next_sla_at = created_at WHERE number % 100 = 0")
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let selected = due_query(&mut conn)?.len();
    let raw_time = started.elapsed();
    let started = Instant::now();
    let pass = gorod::app::clocks::scan(&mut conn, &snapshot, now).map_err(|e| e.to_string())?;
    let app_time = started.elapsed();
    if pass.looked_at != due || selected != due {
        return Err(format!(
            "{due} reports were due; the scan looked at {}, the query found {selected}",
            pass.looked_at
        ));
    }
    eprintln!(
        "   scanner: {} reports due, {} marks recorded in {:.2} s",
        due,
        pass.marks,
        app_time.as_secs_f64()
    );
    let once = |count: usize, time: Duration| Measure {
        count,
        seconds: time.as_secs_f64(),
        latencies: vec![time],
    };
    Ok(vec![
        Row {
            backend: backend.into(),
            size,
            operation: "SLA scan pass, nothing due",
            clients: 1,
            app: idle_app,
            raw: idle_raw,
        },
        Row {
            backend: backend.into(),
            size,
            operation: "SLA scan, 1 % due (reports/s)",
            clients: 1,
            app: once(pass.looked_at, app_time),
            raw: once(selected, raw_time),
        },
    ])
}

/// Reads the whole answer; anything but `status` is an error with its body.
/// The URL of `database_url`'s database on the server `server_url` names.
fn same_database_on(database_url: &str, server_url: &str) -> Result<String, String> {
    let name = database_url
        .split_once('?')
        .map_or(database_url, |(path, _)| path)
        .rsplit_once('/')
        .ok_or("a PostgreSQL URL ends in /database")?
        .1;
    on_server(name, server_url)
}

/// The database `name` on the server `server_url` names, with its options
/// (e.g. sslmode).
fn on_server(name: &str, server_url: &str) -> Result<String, String> {
    let (path, query) = server_url
        .split_once('?')
        .map_or((server_url, String::new()), |(p, q)| (p, format!("?{q}")));
    let (base, _) = path
        .rsplit_once('/')
        .ok_or("a PostgreSQL URL ends in /database")?;
    Ok(format!("{base}/{name}{query}"))
}

/// Waits until the instance at `base` reads from its replica (which has
/// replayed everything generated).
async fn replica_serving(base: &str) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let ready: serde_json::Value = reqwest::get(format!("{base}/readyz"))
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        if ready["replica"]["state"] == "ok" {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!("the replica never caught up: {ready}"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn expect(sent: reqwest::Result<reqwest::Response>, status: u16) -> Result<(), String> {
    let response = sent.map_err(|e| e.to_string())?;
    let got = response.status().as_u16();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if got != status {
        return Err(format!("answered {got} instead of {status}: {body}"));
    }
    Ok(())
}

/// A point up to about 300 m from `point`, different for each `i`, so that
/// filings spread like real ones instead of piling onto the sample points.
fn near((lat, lon): (f64, f64), i: usize) -> (f64, f64) {
    let mut rng = StdRng::seed_from_u64(i as u64);
    (
        lat + rng.random_range(-0.003..0.003),
        lon + rng.random_range(-0.005..0.005),
    )
}

/// Each category's code and answers to its required questions.
fn filing_categories(
    manager: &ConnectionManager,
) -> Result<Vec<(String, serde_json::Value)>, String> {
    let mut conn = manager.connect().map_err(|e| e.to_string())?;
    let mut rng = StdRng::seed_from_u64(7);
    catalog::list_categories(&mut conn)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|l| {
            let questions: Vec<Question> =
                serde_json::from_str(&l.category.attributes).map_err(|e| e.to_string())?;
            let answers = gorod::demo::sample_answers(&mut rng, &questions);
            Ok((
                l.category.code,
                serde_json::to_value(answers).map_err(|e| e.to_string())?,
            ))
        })
        .collect()
}

/// Runs `one` from `clients` tasks for `seconds`, timing each call.
async fn http_load<F, Fut>(clients: usize, seconds: f64, one: F) -> Result<Measure, String>
where
    F: Fn(reqwest::Client, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .map_err(|e| e.to_string())?;
    let one = Arc::new(one);
    // A short warm-up, not measured.
    for i in 0..clients {
        one(client.clone(), i).await?;
    }
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..clients {
        let (client, one) = (client.clone(), one.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = worker;
            while Instant::now() < deadline {
                let t = Instant::now();
                one(client.clone(), i).await?;
                latencies.push(t.elapsed());
                i += clients;
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    Ok(Measure {
        count: latencies.len(),
        seconds: elapsed,
        latencies,
    })
}

/// Runs `one` on `clients` threads, each with its own connection, for `seconds`.
fn sql_load<F>(
    manager: &ConnectionManager,
    clients: usize,
    seconds: f64,
    one: F,
) -> Result<Measure, String>
where
    F: Fn(&mut DbConnection, usize) -> Result<(), String> + Send + Sync + 'static,
{
    let one = Arc::new(one);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let started = Instant::now();
    for worker in 0..clients {
        let mut conn = manager.connect().map_err(|e| e.to_string())?;
        one(&mut conn, worker + 500_000_000)?; // warm-up
        let (one, stop) = (one.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            let mut latencies = Vec::new();
            let mut i = worker;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                one(&mut conn, i)?;
                latencies.push(t.elapsed());
                i += clients;
            }
            Ok::<_, String>(latencies)
        }));
    }
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for thread in threads {
        latencies.extend(
            thread
                .join()
                .map_err(|_| "a thread panicked".to_string())??,
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    Ok(Measure {
        count: latencies.len(),
        seconds: elapsed,
        latencies,
    })
}

#[derive(QueryableByName)]
struct IdNumber {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    number: i64,
}

#[derive(QueryableByName)]
#[allow(dead_code)]
struct MapRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    number: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    category_id: String,
    #[diesel(sql_type = diesel::sql_types::Double)]
    lat: f64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    lon: f64,
}

/// The map's query, as plain SQL.
fn raw_map_query(
    conn: &mut DbConnection,
    (min_lon, min_lat, max_lon, max_lat): (f64, f64, f64, f64),
) -> Result<(), String> {
    use diesel::sql_types::Double;
    let sql = |p: [&str; 4]| {
        format!(
            "SELECT id, number, status, category_id, lat, lon FROM reports \
             WHERE status IN ('moderation','assigned','in_progress','paused','returned','reopened','resolved') \
             AND lat BETWEEN {} AND {} AND lon BETWEEN {} AND {} \
             ORDER BY created_at DESC, number DESC LIMIT 50001",
            p[0], p[1], p[2], p[3]
        )
    };
    let rows = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql(["?", "?", "?", "?"]))
            .bind::<Double, _>(min_lat)
            .bind::<Double, _>(max_lat)
            .bind::<Double, _>(min_lon)
            .bind::<Double, _>(max_lon)
            .load::<MapRow>(c),
        DbConnection::Postgres(c) => diesel::sql_query(sql(["$1", "$2", "$3", "$4"]))
            .bind::<Double, _>(min_lat)
            .bind::<Double, _>(max_lat)
            .bind::<Double, _>(min_lon)
            .bind::<Double, _>(max_lon)
            .load::<MapRow>(c),
    };
    rows.map(|_| ()).map_err(|e| e.to_string())
}

static RAW_NUMBERS: std::sync::atomic::AtomicI64 =
    std::sync::atomic::AtomicI64::new(10_000_000_000);

/// What a filed report refers to (category, service area, department,
/// reporter), taken from generated reports, so that the plain INSERT writes
/// the same kind of row as filing does, with the same foreign keys to check.
#[derive(Clone, QueryableByName)]
struct RawRefs {
    #[diesel(sql_type = diesel::sql_types::Text)]
    category_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    service_area_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    department_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    reporter_id: String,
}

fn raw_refs(manager: &ConnectionManager) -> Result<Vec<RawRefs>, String> {
    let sql = "SELECT category_id, service_area_id, department_id, reporter_id FROM reports \
               WHERE service_area_id IS NOT NULL AND department_id IS NOT NULL \
               AND reporter_id IS NOT NULL LIMIT 1000";
    let refs = match manager.connect().map_err(|e| e.to_string())? {
        DbConnection::Sqlite(mut c) => diesel::sql_query(sql).load::<RawRefs>(&mut c),
        DbConnection::Postgres(mut c) => diesel::sql_query(sql).load::<RawRefs>(&mut c),
    }
    .map_err(|e| e.to_string())?;
    if refs.is_empty() {
        return Err("the generated city has no routed reports with reporters".into());
    }
    Ok(refs)
}

/// One report row, as filing writes it (routed, with a reporter, deadlines
/// and the scanner's next look), through a plain single-row INSERT in its own
/// transaction.
fn raw_insert(conn: &mut DbConnection, now: NaiveDateTime, refs: &RawRefs) -> Result<(), String> {
    let sql = |p: &dyn Fn(usize) -> String| {
        format!(
            "INSERT INTO reports (id, number, category_id, lat, lon, address, description, answers, source, \
             support_count, status, service_area_id, department_id, routing_rule, assignee_id, reporter_id, \
             reporter_name_public, duplicate_of, created_at, updated_at, moderation_due_at, answer_due_at, \
             resolved_at, closed_at, cycle, cycle_started_at, moderated_at, responded_at, fix_due_at, \
             check_due_at, escalation_level, next_sla_at) \
             VALUES ({}, {}, {}, 55.75, 37.62, NULL, {}, '{{}}', 'api', 1, 'moderation', {}, {}, \
             'area route', NULL, {}, FALSE, NULL, {}, {}, {}, {}, NULL, NULL, 0, {}, NULL, NULL, NULL, \
             NULL, 0, {})",
            p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(8), p(9), p(10), p(8), p(11)
        )
    };
    use diesel::sql_types::{BigInt, Text, Timestamp};
    // The same kind of id the application gives a report.
    let id = gorod::db::new_id();
    // Numbers far above the app's, so the two never collide.
    let number = RAW_NUMBERS.fetch_add(1, Ordering::Relaxed);
    let description = "Глубокая яма у перехода, машины объезжают по встречной.";
    let (moderation, answer) = (now + TimeDelta::days(1), now + TimeDelta::days(12));
    let next = now + TimeDelta::hours(20);
    macro_rules! bound {
        ($query:expr) => {
            $query
                .bind::<Text, _>(&id)
                .bind::<BigInt, _>(number)
                .bind::<Text, _>(&refs.category_id)
                .bind::<Text, _>(description)
                .bind::<Text, _>(&refs.service_area_id)
                .bind::<Text, _>(&refs.department_id)
                .bind::<Text, _>(&refs.reporter_id)
                .bind::<Timestamp, _>(now)
                .bind::<Timestamp, _>(moderation)
                .bind::<Timestamp, _>(answer)
                .bind::<Timestamp, _>(next)
        };
    }
    let done = match conn {
        DbConnection::Sqlite(c) => bound!(diesel::sql_query(sql(&|n| format!("?{n}")))).execute(c),
        DbConnection::Postgres(c) => {
            bound!(diesel::sql_query(sql(&|n| format!("${n}")))).execute(c)
        }
    };
    done.map(|_| ()).map_err(|e| e.to_string())
}

/// Where a report stands, by its age in days: as in a city that answers in
/// about eight working days and closes after a fortnight's resident check,
/// recent reports are still being handled and old ones are done — but a few
/// stay open long (paused for seasonal work, refuted and reopened).
fn status_at_age(rng: &mut StdRng, days: i64) -> ReportStatus {
    use ReportStatus::*;
    let roll = rng.random_range(0..100u32);
    let pick = |table: &[(ReportStatus, u32)]| {
        let mut left = roll;
        table
            .iter()
            .find(|(_, share)| {
                let hit = left < *share;
                left = left.saturating_sub(*share);
                hit
            })
            .map_or(Closed, |(s, _)| *s)
    };
    match days {
        0..=1 => pick(&[(Moderation, 60), (Assigned, 40)]),
        2..=10 => pick(&[
            (Assigned, 25),
            (InProgress, 40),
            (Paused, 5),
            (Returned, 2),
            (Resolved, 23),
            (Rejected, 5),
        ]),
        11..=25 => pick(&[
            (InProgress, 5),
            (Paused, 3),
            (Resolved, 30),
            (Reopened, 2),
            (Confirmed, 30),
            (Closed, 25),
            (Rejected, 5),
        ]),
        _ => pick(&[
            (Paused, 1),
            (Reopened, 1),
            (Confirmed, 20),
            (Closed, 68),
            (Rejected, 6),
            (Duplicate, 4),
        ]),
    }
}

/// Fills the city with `size` reports; returns a sample of their points.
fn generate(
    conn: &mut DbConnection,
    size: usize,
    now: NaiveDateTime,
) -> Result<Vec<(f64, f64)>, String> {
    let map: CityMap = catalog::load_city_map(conn).map_err(|e| e.to_string())?;
    let categories: Vec<(CategoryRouting, String)> = catalog::list_categories(conn)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter_map(|l| {
            let routing = catalog::category_for_filing(conn, &l.category.code)
                .ok()??
                .routing;
            let questions: Vec<Question> = serde_json::from_str(&l.category.attributes).ok()?;
            let mut rng = StdRng::seed_from_u64(1);
            let answers =
                serde_json::to_string(&gorod::demo::sample_answers(&mut rng, &questions)).ok()?;
            Some((routing, answers))
        })
        .collect();
    let city = map
        .areas()
        .iter()
        .find(|a| a.code == "moscow-mkad")
        .ok_or("the city-wide area is missing")?
        .shape
        .clone();
    let (min_lat, min_lon, max_lat, max_lon) = city.bounding_box();
    let (mid_lat, mid_lon) = ((min_lat + max_lat) / 2.0, (min_lon + max_lon) / 2.0);
    let (half_lat, half_lon) = ((max_lat - min_lat) / 2.0, (max_lon - min_lon) / 2.0);
    let mut rng = StdRng::seed_from_u64(2026);
    // Neighbourhood centres: reports crowd around them, as in a real city.
    let centres: Vec<(f64, f64, f64)> = (0..200)
        .map(|_| {
            (
                rng.random_range(min_lat..max_lat),
                rng.random_range(min_lon..max_lon),
                rng.random_range(0.008..0.04),
            )
        })
        .collect();
    // The city's residents, who filed the reports.
    let resident_ids: Vec<String> = (0..residents(size)).map(|_| gorod::db::new_id()).collect();
    for (start, ids) in resident_ids.chunks(CHUNK).enumerate() {
        let users: Vec<UserRow> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| UserRow {
                id: id.clone(),
                email: resident_email(start * CHUNK + k),
                name: None,
                phone: None,
                role: "resident".into(),
                department_id: None,
                locale: "ru".into(),
                created_at: now - TimeDelta::days(800),
            })
            .collect();
        seed::insert_users(conn, &users).map_err(|e| e.to_string())?;
    }
    let mut sample = Vec::new();
    let mut number = 0i64;
    while (number as usize) < size {
        let chunk = CHUNK.min(size - number as usize);
        let mut rows = Vec::with_capacity(chunk);
        let mut events = Vec::with_capacity(chunk * 2);
        while rows.len() < chunk {
            let (lat, lon) = if rng.random_bool(0.7) {
                let &(clat, clon, sigma) = centres.choose(&mut rng).ok_or("no centres")?;
                (
                    clat + gaussian(&mut rng) * sigma * 0.6,
                    clon + gaussian(&mut rng) * sigma,
                )
            } else {
                (
                    rng.random_range(min_lat..max_lat),
                    rng.random_range(min_lon..max_lon),
                )
            };
            let Some((category, answers)) = categories.choose(&mut rng) else {
                break;
            };
            let Some(decision) = map.route(category, lat, lon) else {
                continue;
            };
            number += 1;
            let age = TimeDelta::seconds(rng.random_range(0..2 * 365 * 86_400));
            let created = now - age;
            let status = status_at_age(&mut rng, age.num_days());
            let updated = (created + TimeDelta::seconds(rng.random_range(0..20 * 86_400))).min(now);
            let id = gorod::db::new_id();
            // Sample points well inside the city, so that points near them
            // (see `near`) are inside too.
            let inner =
                ((lat - mid_lat) / half_lat).powi(2) + ((lon - mid_lon) / half_lon).powi(2) < 0.6;
            if sample.len() < 2000 && inner {
                sample.push((lat, lon));
            }
            let event =
                |kind: &str, from: Option<&str>, to: &str, at: NaiveDateTime| ReportEventRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    report_id: id.clone(),
                    actor_id: None,
                    actor_role: "system".into(),
                    kind: kind.into(),
                    from_status: from.map(str::to_string),
                    to_status: to.into(),
                    note: None,
                    public: true,
                    created_at: at,
                };
            events.push(event("filed", None, "moderation", created));
            if status != ReportStatus::Moderation {
                events.push(event(
                    "changed",
                    Some("moderation"),
                    status.as_str(),
                    updated,
                ));
            }
            let closed = !status.is_open() || status == ReportStatus::Resolved;
            rows.push(ReportRow {
                id: id.clone(),
                number,
                category_id: category.id.to_string(),
                lat,
                lon,
                address: None,
                description: "Сгенерированное обращение для нагрузочного теста".into(),
                answers: answers.clone(),
                source: "demo".into(),
                support_count: 1 + (rng.random_range(0..100u32) / 90) as i32,
                status: status.as_str().into(),
                service_area_id: Some(decision.service_area_id.to_string()),
                department_id: decision.department_id.map(|d| d.to_string()),
                routing_rule: decision.rule,
                assignee_id: None,
                reporter_id: resident_ids.choose(&mut rng).cloned(),
                reporter_name_public: false,
                duplicate_of: None,
                created_at: created,
                updated_at: updated,
                moderation_due_at: None,
                answer_due_at: None,
                resolved_at: closed.then_some(updated),
                closed_at: (!status.is_open()).then_some(updated),
                cycle: 0,
                cycle_started_at: Some(created),
                moderated_at: None,
                responded_at: None,
                fix_due_at: None,
                check_due_at: None,
                escalation_level: 0,
                next_sla_at: None,
            });
        }
        seed::insert_reports(conn, &rows, &events).map_err(|e| e.to_string())?;
    }
    Ok(sample)
}

/// Brings the freshly generated city to the state a city's database is in
/// after its bulk load has been digested, so that the measures do not pay
/// for the load: statistics gathered, and on PostgreSQL the tables vacuumed
/// (hint bits and visibility map set) and a checkpoint taken; on SQLite the
/// write-ahead log copied back and truncated.
fn settle(conn: &mut DbConnection) -> Result<(), String> {
    let done = match conn {
        DbConnection::Postgres(c) => diesel::sql_query("VACUUM ANALYZE")
            .execute(c)
            .and_then(|_| diesel::sql_query("CHECKPOINT").execute(c)),
        DbConnection::Sqlite(c) => diesel::sql_query("ANALYZE")
            .execute(c)
            .and_then(|_| diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(c)),
    };
    done.map(|_| ()).map_err(|e| e.to_string())
}

/// How many residents a generated city of `size` reports has.
fn residents(size: usize) -> usize {
    (size / 5).max(1000)
}

fn resident_email(k: usize) -> String {
    format!("resident{k}@example.ru")
}

/// A standard normal number (Box–Muller).
fn gaussian(rng: &mut StdRng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// Messages from the outbox to a local SMTP server (the test suite's
/// aiosmtpd server) through the dispatcher, beside the same messages sent
/// by a bare lettre client over as many connections, in the same run.
fn mail_row(url: &str, backend: &str, size: usize, now: NaiveDateTime) -> Result<Row, String> {
    use gorod::app::dispatch::{self as dispatcher, Pace, Sender};
    use gorod::db::schema::{report_events, reports};
    use gorod::notify::links::Signer;
    use gorod::notify::transport::Mailer;
    const MESSAGES: usize = 2000;
    let server = smtp::SmtpServer::start();
    let mut settings = gorod::config::Settings::load_with_env(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
        Default::default(),
    )
    .map_err(|e| e.to_string())?;
    settings.mail.transport = "smtp".into();
    settings.mail.smtp.port = server.port;
    let mailer = Mailer::from_settings(&settings.mail).map_err(|e| e.to_string())?;
    let sender = Sender {
        mailer: mailer.clone(),
        from: settings.mail.from.parse().map_err(|e| format!("{e}"))?,
        signer: Signer::new(b"bench"),
        public_url: "http://127.0.0.1:8080".into(),
        time_zone: chrono_tz::Europe::Moscow,
    };
    let pace = Pace::from_settings(&settings.mail);
    let pool = gorod::db::connect_and_migrate(url, 4, Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let rows: Vec<_> = {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        // Two recipients of each of the first events: the generated reports'.
        let events: Vec<(String, String, i64)> = report_events::table
            .inner_join(reports::table)
            .select((report_events::id, reports::id, reports::number))
            .order(reports::number)
            .limit(MESSAGES as i64 / 2)
            .load(&mut *conn)
            .map_err(|e| e.to_string())?;
        let rows: Vec<_> = events
            .iter()
            .flat_map(|(event, report, number)| {
                let payload = serde_json::json!({"report": number, "report_id": report,
                    "answer_due_at": now, "note": "Яма заделана"});
                let to = (0..2)
                    .map(|k| (format!("resident{number}.{k}@example.ru"), "ru".to_string()))
                    .collect();
                gorod::db::outbox::messages(event, "answered", to, &payload, now)
            })
            .collect();
        gorod::db::outbox::enqueue(&mut conn, &rows).map_err(|e| e.to_string())?;
        rows
    };
    // The same messages, built once, for the bare client.
    let built: Vec<lettre::Message> = rows
        .iter()
        .map(|row| sender.outgoing(row))
        .map(|o| {
            lettre::Message::builder()
                .from(sender.from.clone())
                .to(o.to.parse().expect("an address"))
                .subject(o.rendered.subject)
                .message_id(Some(o.message_id))
                .multipart(lettre::message::MultiPart::alternative_plain_html(
                    o.rendered.text,
                    o.rendered.html,
                ))
                .expect("a message")
        })
        .collect();

    let started = Instant::now();
    let mut sent = 0;
    loop {
        let taken = dispatcher::round(&pool, &sender, &pace).map_err(|e| e.to_string())?;
        if taken == 0 {
            break;
        }
        sent += taken;
    }
    let app = Measure {
        count: sent,
        seconds: started.elapsed().as_secs_f64(),
        latencies: Vec::new(),
    };

    let raw_client = lettre::SmtpTransport::builder_dangerous("127.0.0.1")
        .port(server.port)
        .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(pace.workers as u32))
        .build();
    let queue = std::sync::Mutex::new(built.into_iter());
    let latencies = std::sync::Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..pace.workers {
            scope.spawn(|| loop {
                let next = queue.lock().expect("the queue").next();
                let Some(message) = next else { break };
                let t = Instant::now();
                use lettre::Transport;
                raw_client.send(&message).expect("the server accepts");
                latencies.lock().expect("latencies").push(t.elapsed());
            });
        }
    });
    let mut latencies = latencies.into_inner().map_err(|e| e.to_string())?;
    latencies.sort();
    let raw = Measure {
        count: latencies.len(),
        seconds: started.elapsed().as_secs_f64(),
        latencies,
    };
    let received = server.count();
    if received != sent * 2 {
        return Err(format!(
            "the SMTP server received {received} of {}",
            sent * 2
        ));
    }
    Ok(Row {
        backend: backend.into(),
        size,
        operation: "mail, outbox to SMTP",
        clients: pace.workers,
        app,
        raw,
    })
}
