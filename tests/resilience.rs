//! Surviving the database and the neighbours: a PostgreSQL outage gets
//! quick 503s with Retry-After (never a 500) and full service within
//! seconds of the database's return, on a busy and on an idle server;
//! instances started at the same moment migrate and seed once; a burst of
//! small files declaring huge images keeps the server within its photo
//! memory budget.
//!
//! The PostgreSQL tests run in the suite's PostgreSQL pass, each on clusters
//! of its own.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::cluster::Cluster;
use common::instance::Instance;

/// One answer under load: when it was asked, how long it took, its status
/// and whether it said when to retry.
#[derive(Debug, Clone)]
struct Answer {
    at: Instant,
    took: Duration,
    status: u16,
    retry_after: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_gets_quick_503s_and_service_returns_within_seconds() {
    if common::postgres_url().is_none() {
        return; // the suite's PostgreSQL pass runs it
    }
    let cluster = Cluster::start().expect("a PostgreSQL server is installed");
    let quiet = |s: &mut gorod::config::Settings| {
        s.database.connect_timeout_secs = 10;
        s.mail.poll_ms = 0;
    };
    let busy = common::spawn_app_on(common::TestDatabase::on_server(&cluster.url()), quiet).await;
    let idle = common::spawn_app_on(common::TestDatabase::on_server(&cluster.url()), quiet).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut load = Vec::new();
    for n in 0..4 {
        let (client, answers, running) = (client.clone(), answers.clone(), running.clone());
        let url = busy.url("/api/v1/reports");
        load.push(tokio::spawn(async move {
            let mut i = 0;
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                let mut body = common::valid_report();
                body["reporter"]["email"] = format!("load{n}.{i}@example.ru").into();
                i += 1;
                let at = Instant::now();
                let outcome = client.post(&url).json(&body).send().await;
                let (status, retry_after) = match outcome {
                    Ok(r) => (r.status().as_u16(), r.headers().contains_key("Retry-After")),
                    Err(_) => (0, false),
                };
                answers.lock().unwrap().push(Answer {
                    at,
                    took: at.elapsed(),
                    status,
                    retry_after,
                });
                if status != 201 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cluster = Arc::new(cluster);
    let stopping = cluster.clone();
    tokio::task::spawn_blocking(move || stopping.stop("fast"))
        .await
        .unwrap();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let starting = cluster.clone();
    tokio::task::spawn_blocking(move || starting.start_again())
        .await
        .unwrap();
    let up = Instant::now();

    // The idle server is asked only now.
    let mut idle_back = None;
    for _ in 0..100 {
        let response = client
            .get(idle.url("/api/v1/reports?per_page=1"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(
            status == 200 || status == 503,
            "idle server answered {status}"
        );
        if status == 200 {
            idle_back = Some(up.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let idle_back = idle_back.expect("the idle server came back");
    for _ in 0..5 {
        let response = client
            .get(idle.url("/api/v1/reports?per_page=1"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            200,
            "the idle server stays back"
        );
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }

    let answers = answers.lock().unwrap().clone();
    let during: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.at > down + Duration::from_millis(200) && a.at + a.took < up)
        .collect();
    let first_back = answers
        .iter()
        .filter(|a| a.at > up && a.status == 201)
        .map(|a| a.at)
        .min()
        .expect("filings succeed again");
    let after: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.at > first_back + Duration::from_secs(1))
        .collect();
    let count = |list: &[&Answer], status: u16| list.iter().filter(|a| a.status == status).count();
    let slowest = during.iter().map(|a| a.took).max().unwrap_or_default();
    println!(
        "outage: {} answers while the database was down ({} × 503, slowest {:?}); busy server back {:?} \
         after the database, idle server {:?}; afterwards {} of {} filings succeeded",
        during.len(),
        count(&during, 503),
        slowest,
        first_back - up,
        idle_back,
        count(&after, 201),
        after.len()
    );
    assert!(
        answers.iter().all(|a| a.status != 500 && a.status != 0),
        "no 500 and no dropped connection: {:?}",
        answers
            .iter()
            .filter(|a| a.status == 500 || a.status == 0)
            .take(3)
            .collect::<Vec<_>>()
    );
    assert!(during.len() > 10, "the load went on during the outage");
    assert!(
        during.iter().all(|a| a.status == 503 && a.retry_after),
        "every answer during the outage is a 503 with Retry-After"
    );
    assert!(
        slowest < Duration::from_secs(5),
        "503s come before the pool's 10 s connection timeout: {slowest:?}"
    );
    assert!(
        first_back - up < Duration::from_secs(10),
        "{:?}",
        first_back - up
    );
    assert!(idle_back < Duration::from_secs(10), "{idle_back:?}");
    assert!(!after.is_empty() && after.iter().all(|a| a.status == 201));
}

#[test]
fn instances_started_together_on_an_empty_database_migrate_and_seed_once() {
    let Some(server) = common::postgres_url() else {
        return; // PostgreSQL only: SQLite serves one process
    };
    let db = common::TestDatabase::on_server(&server);
    let started: Vec<_> = (0..3)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                Instance::start(
                    &url,
                    &["--demo"],
                    &[("GOROD__SEED__DEMO_REPORTS", "20".into())],
                )
            })
        })
        .collect();
    let mut instances = Vec::new();
    for handle in started {
        match handle.join().unwrap() {
            Ok(instance) => instances.push(instance),
            Err(said) => panic!("an instance did not start:\n{said}"),
        }
    }
    use diesel::prelude::*;
    let mut conn = gorod::db::connect_and_migrate_one(&db.url).unwrap();
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |conn: &mut gorod::db::DbConnection, sql: &str| {
        diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
    };
    let migrations = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM __diesel_schema_migrations",
    );
    let reports = count(&mut conn, "SELECT COUNT(*) AS n FROM reports");
    let admins = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM users WHERE email = 'admin@demo.gorod.local'",
    );
    drop(instances);
    assert_eq!(
        migrations,
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
            .unwrap()
            .count() as i64
    );
    assert_eq!((reports, admins), (20, 1), "the demo city is loaded once");
}

/// Peak resident memory of a process, in MiB.
fn peak_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024
}

/// A PNG of `width`×`height` black pixels: a few hundred kilobytes that
/// decode to hundreds of megabytes.
fn black_png(width: u32, height: u32) -> Vec<u8> {
    let script = format!(
        "import sys, zlib, struct\n\
         w, h = {width}, {height}\n\
         def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))\n\
         raw = zlib.compress(b'\\x00' * ((w * 3 + 1) * h), 9)\n\
         sys.stdout.buffer.write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', raw) + chunk(b'IEND', b''))\n"
    );
    let output = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(output.status.success());
    output.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_huge_declared_photos_stays_within_the_memory_budget() {
    if common::postgres_url().is_some() {
        return; // the same on both backends: decoding happens before the database
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("city.db").display());
    let mut server = Instance::start(&url, &["--demo"], &[]).expect("the server starts");
    let (port, pid) = (server.port, server.pid());
    let before = peak_mib(pid);
    // 49 megapixels (just under the 50 megapixel limit) in a small file.
    let png = black_png(7000, 7000);
    assert!(png.len() < 300_000, "{} bytes", png.len());
    let client = reqwest::Client::new();
    let report = common::valid_report().to_string();
    let burst = (0..8).map(|_| {
        let form = reqwest::multipart::Form::new()
            .part(
                "report",
                reqwest::multipart::Part::text(report.clone())
                    .mime_str("application/json")
                    .unwrap(),
            )
            .part(
                "photos",
                reqwest::multipart::Part::bytes(png.clone())
                    .file_name("black.png")
                    .mime_str("image/png")
                    .unwrap(),
            );
        client
            .post(format!("http://127.0.0.1:{port}/api/v1/reports"))
            .multipart(form)
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(burst)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    let peak = peak_mib(pid);
    server.kill();
    let refused = statuses.iter().filter(|s| **s == 503).count();
    println!(
        "8 photos of 49 megapixels ({} KB each) at once: peak memory {peak} MiB (from {before} MiB), \
         budget 768 MiB; {refused} refused with 503, statuses {statuses:?}",
        png.len() / 1024
    );
    assert!(
        refused > 0,
        "the budget refuses what does not fit: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 503 || *s == 201 || *s == 202),
        "{statuses:?}"
    );
    assert!(
        peak < before + 768 + 128,
        "peak {peak} MiB from {before} MiB with a budget of 768 MiB"
    );
}
