//! The SLA scanner: several scanners at once record each mark once, and
//! the background scanner runs by itself.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use chrono::NaiveDateTime;
use gorod::app::clocks::scan;
use gorod::db::catalog::load_snapshot;

fn utc(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

async fn file_many(app: &common::TestApp, n: usize) {
    app.clock.set(utc("2026-02-20 14:00"));
    for i in 0..n {
        let mut body = common::valid_report();
        body["lat"] = serde_json::json!(55.7700 + i as f64 * 0.0002);
        let (status, answer) = app.post_json("/api/v1/reports", &body).await;
        assert_eq!(status, 201, "{answer}");
    }
}

#[tokio::test]
async fn scanners_running_at_once_record_every_mark_exactly_once() {
    let app = common::spawn_app().await;
    file_many(&app, 40).await;
    // Long past every deadline: per report, moderation and answer each get
    // two warnings, the breach and two escalation levels.
    let now = utc("2026-04-30 12:00");
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let pool = app.pool.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                let snapshot = load_snapshot(&mut conn).unwrap();
                scan(&mut conn, &snapshot, now).unwrap()
            })
        })
        .collect();
    let recorded: usize = threads.into_iter().map(|t| t.join().unwrap().marks).sum();
    assert_eq!(recorded, 40 * 2 * 5);
    assert_eq!(app.count_rows("sla_marks"), 40 * 2 * 5);
    let mut conn = app.conn();
    let snapshot = load_snapshot(&mut conn).unwrap();
    let again = scan(&mut conn, &snapshot, now).unwrap();
    assert_eq!(
        (again.looked_at, again.marks),
        (0, 0),
        "nothing is due any more"
    );
    assert_eq!(app.count_rows("report_events"), 40 + 40 * 2 * 5);
}

#[tokio::test]
async fn the_background_scanner_records_marks_by_itself() {
    let app = common::spawn_app_with(|s| s.sla.scan_interval_secs = 1).await;
    file_many(&app, 1).await;
    app.clock.set(utc("2026-04-30 12:00"));
    let mut waited = 0;
    while app.count_rows("sla_marks") < 10 && waited < 50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(app.count_rows("sla_marks"), 10);
}
