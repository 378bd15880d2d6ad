//! Several instances on one PostgreSQL database, as a city runs them behind
//! a proxy: three `gorod` processes file reports at once, move them through
//! the workflow, run their SLA scanners and mail dispatchers against a real
//! SMTP server, and one is killed with SIGKILL in the middle. Afterwards
//! every acknowledged report is there once, every message was delivered
//! (duplicates no more than the killed instance's leased batch, counted and
//! printed), every SLA mark is recorded once, and the ledger verifies.
//! Runs in the suite's PostgreSQL pass.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::instance::Instance;
use common::smtp::SmtpServer;
use diesel::prelude::*;
use serde_json::{json, Value};

const BATCH: usize = 8;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut gorod::db::DbConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

/// Sends a request to the instances in turn from `first`, skipping one that
/// does not answer (as a proxy would); the answer's status and body.
async fn send(
    client: &reqwest::Client,
    urls: &[String],
    first: usize,
    make: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
) -> (u16, Value) {
    for k in 0..urls.len() {
        let base = &urls[(first + k) % urls.len()];
        if let Ok(response) = make(client, base).send().await {
            let status = response.status().as_u16();
            return (status, response.json().await.unwrap_or(Value::Null));
        }
    }
    panic!("no instance answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_with_one_killed_lose_nothing_and_repeat_almost_nothing() {
    let Some(server) = common::postgres_url() else {
        return;
    };
    let db = common::TestDatabase::on_server(&server);
    let smtp = SmtpServer::start();
    let env = vec![
        ("GOROD__MAIL__TRANSPORT", "smtp".to_string()),
        ("GOROD__MAIL__SMTP__PORT", smtp.port.to_string()),
        ("GOROD__MAIL__SMTP__TIMEOUT_SECS", "2".into()),
        ("GOROD__MAIL__LEASE_SECS", "10".into()),
        ("GOROD__MAIL__BATCH", BATCH.to_string()),
        ("GOROD__MAIL__POLL_MS", "100".into()),
        ("GOROD__MAIL__BACKOFF_BASE_SECS", "1".into()),
        ("GOROD__MAIL__BACKOFF_MAX_SECS", "2".into()),
        ("GOROD__SLA__SCAN_INTERVAL_SECS", "1".into()),
        ("GOROD__SEED__DEMO_REPORTS", "0".into()),
        ("GOROD__LIMITS__REPORTS_PER_DAY", "100000".into()),
        ("GOROD__ACCOUNTS__CONFIRM_ANONYMOUS_REPORTS", "false".into()),
    ];
    let mut instances: Vec<Instance> = (0..3)
        .map(|_| {
            let (url, env) = (db.url.clone(), env.clone());
            std::thread::spawn(move || Instance::start(&url, &["--demo"], &env))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap().expect("an instance starts"))
        .collect();
    let urls: Arc<Vec<String>> = Arc::new(instances.iter().map(|i| i.url("")).collect());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // Filed through all three at once.
    let filings = (0..90).map(|n| {
        let (client, urls) = (client.clone(), urls.clone());
        async move {
            let mut body = common::valid_report();
            body["description"] = json!(format!("Яма номер {n} у перехода, машины объезжают."));
            body["reporter"] =
                json!({"email": format!("resident{n}@example.ru"), "name": "Житель"});
            let (status, filed) = send(&client, &urls, n, |c, base| {
                c.post(format!("{base}/api/v1/reports")).json(&body)
            })
            .await;
            assert_eq!(status, 201, "{filed}");
            (n, filed["id"].as_str().unwrap().to_string())
        }
    });
    let filed: Vec<(usize, String)> = futures_util::future::join_all(filings).await;
    let (_, report) = send(&client, &urls, 0, |c, base| {
        c.get(format!("{base}/api/v1/reports/{}", filed[0].1))
    })
    .await;
    let dept = report["department"]["code"].as_str().unwrap().to_string();

    // A third are left in moderation and made overdue, for the scanners.
    let mut conn = gorod::db::connect_and_migrate_one(&db.url).unwrap();
    let overdue: Vec<&String> = filed
        .iter()
        .filter(|(n, _)| n % 3 == 0)
        .map(|(_, id)| id)
        .collect();
    let ids = overdue
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    diesel::sql_query(format!(
        "UPDATE reports SET created_at = created_at - INTERVAL '40 days', \
         cycle_started_at = cycle_started_at - INTERVAL '40 days', \
         next_sla_at = created_at - INTERVAL '40 days' WHERE id IN ({ids})"
    ))
    .execute(&mut conn)
    .unwrap();

    // The rest are moved through the workflow on all three; one instance
    // is killed halfway.
    let moving: Vec<(usize, String)> = filed.iter().filter(|(n, _)| n % 3 != 0).cloned().collect();
    let steps = [
        (
            format!("demo-token-supervisor.{dept}"),
            json!({"action": "accept"}),
        ),
        (
            format!("demo-token-crew1.{dept}"),
            json!({"action": "take"}),
        ),
        (
            format!("demo-token-crew1.{dept}"),
            json!({"action": "answer", "answer": "Яма заделана, асфальт уложен."}),
        ),
    ];
    let started = Instant::now();
    let mut killed_at = None;
    for (i, chunk) in moving.chunks(12).enumerate() {
        if i == 2 {
            instances[2].kill();
            killed_at = Some(started.elapsed());
        }
        let moves = chunk.iter().map(|(n, id)| {
            let (client, urls, steps) = (client.clone(), urls.clone(), steps.clone());
            async move {
                for (token, body) in &steps {
                    let (status, answer) = send(&client, &urls, *n, |c, base| {
                        c.post(format!("{base}/api/v1/reports/{id}/actions"))
                            .bearer_auth(token)
                            .json(body)
                    })
                    .await;
                    assert_eq!(status, 200, "{body} → {answer}");
                }
            }
        });
        futures_util::future::join_all(moves).await;
    }
    let live: Vec<String> = urls[..2].to_vec();

    // Everything due is sent: wait for the outbox to empty and the scanners
    // to mark the overdue reports.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let pending = count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM outbox WHERE status <> 'sent'",
        );
        let marked = count(
            &mut conn,
            &format!(
                "SELECT COUNT(DISTINCT report_id) AS n FROM sla_marks WHERE report_id IN ({ids})"
            ),
        );
        if pending == 0 && marked == overdue.len() as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} messages unsent, {marked} of {} overdue reports marked",
            overdue.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // One more scanner round on each live instance changes nothing.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let reports = count(&mut conn, "SELECT COUNT(*) AS n FROM reports");
    let distinct = count(
        &mut conn,
        "SELECT COUNT(DISTINCT description) AS n FROM reports",
    );
    assert_eq!(
        (reports, distinct),
        (filed.len() as i64, filed.len() as i64),
        "each acknowledged report once"
    );
    let marks = count(&mut conn, "SELECT COUNT(*) AS n FROM sla_marks");
    let mark_events = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM report_events WHERE actor_role = 'system' \
         AND kind IN ('sla_warning', 'sla_breached', 'escalated')",
    );
    assert!(marks > 0);
    assert_eq!(
        mark_events, marks,
        "each SLA mark recorded once, with one event"
    );

    let messages: HashSet<String> = {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Text)]
            message_id: String,
        }
        diesel::sql_query("SELECT message_id FROM outbox")
            .load::<Id>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|r| r.message_id)
            .collect()
    };
    let received = smtp.received();
    let mut copies: HashMap<String, usize> = HashMap::new();
    for message in &received {
        *copies.entry(message.message_id()).or_default() += 1;
    }
    let missing = messages.iter().filter(|m| !copies.contains_key(*m)).count();
    let duplicates: usize = copies.values().map(|c| c - 1).sum();
    let verified = std::process::Command::new(env!("CARGO_BIN_EXE_gorod"))
        .arg("--config-dir")
        .arg(common::config_dir())
        .args(["ledger", "verify"])
        .env("GOROD__DATABASE__URL", &db.url)
        .output()
        .unwrap();
    println!(
        "three instances, one killed at {:?}: {} reports filed and found once; {} moves; {} SLA marks \
         with {} events; {} messages in the outbox, {} delivered ({} missing, {} duplicates, \
         the killed instance's batch is {BATCH}); ledger: {}",
        killed_at.unwrap_or_default(),
        reports,
        moving.len() * steps.len(),
        marks,
        mark_events,
        messages.len(),
        received.len(),
        missing,
        duplicates,
        String::from_utf8_lossy(&verified.stdout).trim()
    );
    assert_eq!(missing, 0, "every message is delivered");
    assert!(duplicates <= BATCH, "{duplicates} duplicates");
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert_eq!(live.len(), 2);
}
