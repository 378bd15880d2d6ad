//! The demo city loaded on first start.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::collections::{HashMap, HashSet};

use common::{spawn_app_on, spawn_app_with, TestDatabase};
use diesel::prelude::*;
use gorod::db::rows::*;
use gorod::db::schema::*;
use gorod::db::DbConnection;
use gorod::reports::ReportStatus;

#[tokio::test]
async fn the_demo_city_has_departments_categories_areas_calendar_staff_and_reports_in_every_status()
{
    let app = spawn_app_with(|s| s.seed.demo_reports = 300).await;
    let (_, departments) = app.get_json("/api/v1/departments").await;
    assert!(departments.as_array().unwrap().len() >= 12);
    let (_, categories) = app.get_json("/api/v1/categories").await;
    assert!(categories.as_array().unwrap().len() >= 20);
    assert!(app.count_rows("service_areas") >= 5);

    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    let days: Vec<CalendarDayRow> = calendar_days::table
        .select(CalendarDayRow::as_select())
        .load(conn)
        .unwrap();
    let years: HashSet<i32> = days
        .iter()
        .map(|d| chrono::Datelike::year(&d.day))
        .collect();
    assert_eq!(years, HashSet::from([2025, 2026]));
    assert!(
        days.iter().any(|d| {
            use chrono::{Datelike, Weekday};
            matches!(d.kind.as_str(), "working" | "shortened")
                && matches!(d.day.weekday(), Weekday::Sat | Weekday::Sun)
        }),
        "a weekend declared working"
    );
    assert!(
        days.iter().any(|d| d.kind == "day_off"),
        "a day off moved by decree"
    );

    // A supervisor and crew in every department.
    let staff: Vec<UserRow> = users::table
        .filter(users::role.ne("resident"))
        .select(UserRow::as_select())
        .load(conn)
        .unwrap();
    let departments: Vec<DepartmentRow> = departments::table
        .select(DepartmentRow::as_select())
        .load(conn)
        .unwrap();
    for d in &departments {
        let of = |role: &str| {
            staff
                .iter()
                .filter(|u| u.role == role && u.department_id.as_deref() == Some(d.id.as_str()))
                .count()
        };
        assert!(of("supervisor") >= 1 && of("crew") >= 2, "{}", d.code);
    }
    assert!(staff.iter().any(|u| u.role == "admin"));

    // The Open311 key and a token per staff member exist, only as digests.
    let keys: Vec<ApiKeyRow> = api_keys::table
        .select(ApiKeyRow::as_select())
        .load(conn)
        .unwrap();
    let open311: Vec<&ApiKeyRow> = keys.iter().filter(|k| k.kind == "open311").collect();
    assert_eq!(open311.len(), 1);
    assert_eq!(
        open311[0].key_hash,
        gorod::access::api_key_digest("demo-open311-key")
    );
    assert_eq!(keys.iter().filter(|k| k.kind == "api").count(), staff.len());
    let crew_token = gorod::access::api_key_digest("demo-token-crew1.roads");
    assert!(keys.iter().any(|k| k.key_hash == crew_token));
    assert!(keys.iter().all(|k| !k.key_hash.contains("demo")));

    // Reports in every status, each with a history that ends in it.
    let reports: Vec<ReportRow> = reports::table
        .select(ReportRow::as_select())
        .load(conn)
        .unwrap();
    assert_eq!(reports.len(), 300);
    let statuses: HashSet<&str> = reports.iter().map(|r| r.status.as_str()).collect();
    for status in ReportStatus::ALL {
        assert!(statuses.contains(status.as_str()), "no report is {status}");
    }
    let events: Vec<ReportEventRow> = report_events::table
        .order((report_events::created_at, report_events::id))
        .select(ReportEventRow::as_select())
        .load(conn)
        .unwrap();
    let mut last_status: HashMap<&str, &str> = HashMap::new();
    for e in &events {
        last_status.insert(&e.report_id, &e.to_status);
    }
    for r in &reports {
        assert_eq!(
            last_status.get(r.id.as_str()),
            Some(&r.status.as_str()),
            "report {}",
            r.number
        );
        assert!(r.created_at <= common::start_time());
        if r.status == "duplicate" {
            assert!(
                r.duplicate_of.is_some(),
                "duplicate {} has no original",
                r.number
            );
        }
    }
    // The history went through the workflow: every answer carries the photo
    // of the work and is in the ledger with it, and the replay told nobody.
    let answered: Vec<&ReportEventRow> = events.iter().filter(|e| e.kind == "answered").collect();
    assert!(!answered.is_empty());
    let photographed: HashSet<String> = attachments::table
        .select(attachments::event_id)
        .load::<Option<String>>(conn)
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    for e in &answered {
        assert!(photographed.contains(&e.id), "answer {} has no photo", e.id);
    }
    let resolutions: Vec<(String, String)> = ledger_entries::table
        .filter(ledger_entries::kind.eq("resolved"))
        .select((ledger_entries::report_id, ledger_entries::photo_digests))
        .load(conn)
        .unwrap();
    assert_eq!(resolutions.len(), answered.len());
    assert!(
        resolutions.iter().all(|(_, photos)| photos.len() > 2),
        "{resolutions:?}"
    );
    let queued: i64 = outbox::table.count().get_result(conn).unwrap();
    assert_eq!(queued, 0, "the replayed history queued mail");
    // Numbers follow filing order, and new reports continue after them.
    let mut by_number = reports.clone();
    by_number.sort_by_key(|r| r.number);
    assert!(by_number
        .windows(2)
        .all(|w| w[0].created_at <= w[1].created_at));
    drop(pooled);
    let (status, filed) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    assert_eq!(status, 201);
    assert_eq!(filed["number"], 301);
    // Every demo report is inside the city and visible through the API.
    let (_, page) = app
        .get_json("/api/v1/reports?per_page=200&bbox=37.5,55.7,37.7,55.8")
        .await;
    assert_eq!(page["total"], 301);
}

#[tokio::test]
async fn a_restart_does_not_load_the_demo_again() {
    let db = TestDatabase::new();
    let url = db.url.clone();
    let first = spawn_app_on(db, |s| s.seed.demo_reports = 20).await;
    let departments = first.count_rows("departments");
    let settings = common::test_settings(&url);
    let clock = std::sync::Arc::new(gorod::clock::SettableClock::new(common::start_time()));
    let again = gorod::startup::Application::build(&settings, clock).expect("second start");
    drop(again);
    assert_eq!(first.count_rows("departments"), departments);
    assert_eq!(first.count_rows("reports"), 20);
}

#[tokio::test]
async fn without_the_demo_the_city_starts_empty() {
    let app = spawn_app_with(|s| s.seed.demo = false).await;
    assert_eq!(app.count_rows("departments"), 0);
    assert_eq!(app.count_rows("api_keys"), 0);
    let (status, error) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    assert_eq!(status, 400);
    assert_eq!(error["field"], "category");
}
