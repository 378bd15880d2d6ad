//! Load benchmark: filing and map queries through the running application,
//! each beside the same work done as plain SQL on the same database in the
//! same run, at several dataset sizes, on SQLite and PostgreSQL.
//!
//! Run it with `scripts/bench` (which finds or starts PostgreSQL), or
//! `cargo bench --bench load -- [--backends sqlite,postgres] [--sizes 100000,1000000]
//! [--seconds 5] [--map-clients 4] [--filing-clients 16] [--clients N (both)]
//! [--only map,lists,pages,filing,ledger,scanner,mail,geocode,search,hooks] [--postgres-url URL] [--replica-url URL]`.
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
use gorod::db::reports::ReportFilter;
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
#[path = "../../tests/common/smtp.rs"]
#[allow(dead_code)]
mod smtp;

mod dataset;
mod drive;
mod geo;
mod hooks;
mod jobs;
mod ledger;
mod lists;
mod raw;
use dataset::*;
use drive::*;
use geo::*;
use hooks::*;
use jobs::*;
use ledger::*;
use lists::*;
use raw::*;

const AREA: &str = include_str!("../moscow_mkad.geojson");
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
    /// Which measures to run: map, lists, pages, filing, ledger, scanner, mail, geocode, search, hooks
    #[arg(long, value_delimiter = ',', default_values_t = ["map", "lists", "pages", "filing", "ledger", "scanner", "mail", "geocode", "search", "hooks"].map(String::from))]
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
    /// Another run of the same measure, counted with this one.
    fn add(&mut self, other: Measure) {
        self.count += other.count;
        self.seconds += other.seconds;
        self.latencies.extend(other.latencies);
        self.latencies.sort();
    }

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
    // Each row is printed as soon as it is measured, so a long run shows
    // its results as it goes (and keeps them if a later part fails).
    print_header();
    for backend in &args.backends {
        for &size in &args.sizes {
            match runtime.block_on(run_case(&args, backend, size)) {
                Ok(_) => {}
                Err(e) => {
                    eprintln!("{backend} at {size} reports: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
}

fn print_header() {
    println!(
        "{:<9} {:>9}  {:<44} {:>7} {:>9} {:>8} {:>8}  {:>9} {:>8} {:>8}  {:>6}",
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
}

fn print_row(r: &Row) {
    println!(
        "{:<9} {:>9}  {:<44} {:>7} {:>9.0} {:>8.2} {:>8.2}  {:>9.0} {:>8.2} {:>8.2}  {:>6.2}",
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

/// A database of its own: a temporary SQLite file, or a new PostgreSQL
/// database dropped afterwards (both kept with `BENCH_KEEP`).
struct BenchDatabase {
    url: String,
    drop_with: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl BenchDatabase {
    fn new(backend: &str, postgres_url: Option<&str>) -> Result<BenchDatabase, String> {
        let mut dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        if backend == "sqlite" {
            if std::env::var("BENCH_KEEP").is_ok() {
                dir.disable_cleanup(true);
                eprintln!("   keeping {} (BENCH_KEEP)", dir.path().display());
            }
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
        let points = generate(&mut conn, size, now, args.runs("search"))?;
        settle(&mut conn)?;
        points
    };
    eprintln!("   generated in {:.1} s", started.elapsed().as_secs_f64());
    // From here the process's peak memory is the server's under the
    // measures (and the small load generator's), not the bulk load's.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    drop(pool);
    let points = Arc::new(points);

    let seconds = args.seconds;
    let mut rows = Printed::default();

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
    if args.runs("lists") {
        rows.extend(
            list_rows(
                &manager,
                &address,
                (backend, size),
                args.map_clients,
                seconds,
                points.clone(),
                now,
            )
            .await?,
        );
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
        rows.push(
            public_stats_row(&manager, &address, (backend, size), clients, seconds, now).await?,
        );
    }
    if args.runs("filing") {
        let clients = args.filing_clients;
        // Filing through the JSON API and through Open311, beside a plain INSERT.
        let categories = Arc::new(filing_categories(&manager)?);
        let sample_points = points.clone();
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
    if args.runs("search") {
        rows.extend(
            search_rows(&manager, &address, backend, size, args.map_clients, seconds).await?,
        );
        rows.push(
            indexed_filing_row(
                &manager,
                &address,
                backend,
                size,
                args.filing_clients,
                seconds,
                points.clone(),
            )
            .await?,
        );
    }
    if args.runs("hooks") {
        rows.push(
            hooked_filing_row(
                &manager,
                &address,
                backend,
                size,
                args.filing_clients,
                seconds,
                points.clone(),
            )
            .await?,
        );
    }
    // The registry does not grow with the city: measured once per backend.
    if args.runs("geocode") && Some(&size) == args.sizes.first() {
        let mut conn = manager.connect().map_err(|e| e.to_string())?;
        rows.extend(
            geocode_rows(
                &mut conn,
                &address,
                backend,
                size,
                args.map_clients,
                seconds,
                now,
            )
            .await?,
        );
    }
    if args.runs("ledger") {
        rows.push(
            ledger_row(
                &manager,
                &address,
                (backend, size),
                args.map_clients,
                seconds,
                now,
            )
            .await?,
        );
    }
    if let Some((now_mib, peak_mib)) = memory_mib() {
        eprintln!(
            "   memory: {now_mib:.0} MiB resident, {peak_mib:.0} MiB at the peak of the measures \
             (the server and the load generator, one process)"
        );
    }
    if args.runs("scanner") {
        rows.extend(scanner_rows(&manager, backend, size, seconds, now)?);
    }
    // Mail does not depend on the city's size: measured once per backend.
    if args.runs("mail") && Some(&size) == args.sizes.first() {
        rows.push(mail_row(&db.url, backend, size, now)?);
    }
    Ok(rows.0)
}

/// The rows of a case, each printed as soon as it is measured (a run at
/// ten million reports takes hours).
#[derive(Default)]
struct Printed(Vec<Row>);

impl Printed {
    fn push(&mut self, row: Row) {
        print_row(&row);
        self.0.push(row);
    }

    fn extend(&mut self, rows: impl IntoIterator<Item = Row>) {
        rows.into_iter().for_each(|row| self.push(row));
    }
}
