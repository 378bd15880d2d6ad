//! The schema is the same on both backends: the migration trees list the same
//! versions, and every table round-trips a row through `schema.rs`.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use chrono::NaiveDate;
use common::{spawn_app_with, TestDatabase};
use diesel::prelude::*;
use gorod::db::rows::*;
use gorod::db::schema::*;
use gorod::db::DbConnection;

fn versions(backend: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn both_migration_trees_list_the_same_versions() {
    let sqlite = versions("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, versions("postgres"));
    for name in &sqlite {
        for backend in ["sqlite", "postgres"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend)
                .join(name);
            assert!(
                dir.join("up.sql").exists() && dir.join("down.sql").exists(),
                "{backend}/{name}"
            );
        }
    }
}

#[tokio::test]
async fn the_backend_under_test_is_the_one_asked_for() {
    let db = TestDatabase::new();
    let wants_postgres = common::postgres_url().is_some();
    assert_eq!(db.is_postgres(), wants_postgres);
    let app = common::spawn_app_on(db, |_| {}).await;
    let conn = app.conn();
    let is_postgres = matches!(&*conn, DbConnection::Postgres(_));
    assert_eq!(is_postgres, wants_postgres);
}

/// Loads every row of every table through its row type: a column missing,
/// renamed or of another type on either backend fails here.
#[tokio::test]
async fn every_table_round_trips_through_the_shared_schema() {
    let app = spawn_app_with(|s| s.seed.demo_reports = 30).await;
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    let now = common::start_time();

    // Tables the demo leaves empty get a row of their own first.
    let report: ReportRow = reports::table
        .select(ReportRow::as_select())
        .first(conn)
        .unwrap();
    let event: ReportEventRow = report_events::table
        .select(ReportEventRow::as_select())
        .first(conn)
        .unwrap();
    diesel::insert_into(attachments::table)
        .values(AttachmentRow {
            id: gorod::db::new_id(),
            report_id: report.id.clone(),
            event_id: Some(event.id.clone()),
            position: 0,
            content_hash: "ab".repeat(32),
            mime: "image/jpeg".into(),
            width: 4000,
            height: 3000,
            bytes: 5_000_000_000,
            created_at: now,
            hidden_at: None,
        })
        .execute(conn)
        .unwrap();
    diesel::insert_into(outbox::table)
        .values(OutboxRow {
            id: gorod::db::new_id(),
            event_id: Some(event.id.clone()),
            recipient: "resident@example.ru".into(),
            template: "filed".into(),
            locale: "ru".into(),
            payload: "{}".into(),
            message_id: "<x@gorod>".into(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            lease_until: Some(now),
            last_error: None,
            created_at: now,
            sent_at: None,
        })
        .execute(conn)
        .unwrap();
    diesel::insert_into(report_pauses::table)
        .values(ReportPauseRow {
            id: gorod::db::new_id(),
            report_id: report.id.clone(),
            cycle: 0,
            from_status: "in_progress".into(),
            reason: "procurement".into(),
            note: Some("закупка".into()),
            resume_on: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            started_at: now,
            ended_at: None,
            started_by: None,
        })
        .execute(conn)
        .unwrap();
    diesel::insert_into(sla_marks::table)
        .values(SlaMarkRow {
            report_id: report.id.clone(),
            cycle: 0,
            stage: "answer".into(),
            mark: "breach".into(),
            due_at: now,
            recorded_at: now,
        })
        .execute(conn)
        .unwrap();
    diesel::insert_into(ledger_entries::table)
        .values(LedgerEntryRow {
            seq: 1_000_000,
            report_id: report.id.clone(),
            report_number: report.number,
            kind: "resolved".into(),
            actor: "staff:1".into(),
            recorded_at: now,
            answer_digest: Some("00".repeat(32)),
            photo_digests: "[]".into(),
            prev_hash: "00".repeat(32),
            hash: "11".repeat(32),
            evidence: Some("ab:taken=after,place=near,copy=new".into()),
        })
        .execute(conn)
        .unwrap();

    diesel::insert_into(ledger_checkpoints::table)
        .values(LedgerCheckpointRow {
            size: 1_000_000,
            head_hash: "11".repeat(32),
            root_hash: "22".repeat(32),
            signed_at: now,
            public_key: "33".repeat(32),
            signature: "44".repeat(64),
        })
        .execute(conn)
        .unwrap();
    let reporter: String = users::table.select(users::id).first(conn).unwrap();
    diesel::insert_into(report_checks::table)
        .values(ReportCheckRow {
            report_id: report.id.clone(),
            cycle: 0,
            user_id: reporter,
            fixed: false,
            reason: Some("не сделано".into()),
            created_at: now,
        })
        .execute(conn)
        .unwrap();

    let counts = [
        (
            "report_pauses",
            report_pauses::table
                .select(ReportPauseRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "sla_marks",
            sla_marks::table
                .select(SlaMarkRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "calendars",
            calendars::table
                .select(CalendarRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "calendar_days",
            calendar_days::table
                .select(CalendarDayRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "sla_policies",
            sla_policies::table
                .select(SlaPolicyRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "departments",
            departments::table
                .select(DepartmentRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "category_groups",
            category_groups::table
                .select(CategoryGroupRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "categories",
            categories::table
                .select(CategoryRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "service_areas",
            service_areas::table
                .select(ServiceAreaRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "service_area_routes",
            service_area_routes::table
                .select(ServiceAreaRouteRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "users",
            users::table
                .select(UserRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "api_keys",
            api_keys::table
                .select(ApiKeyRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "counters",
            counters::table
                .select(CounterRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "reports",
            reports::table
                .select(ReportRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "report_events",
            report_events::table
                .select(ReportEventRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "attachments",
            attachments::table
                .select(AttachmentRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "subscriptions",
            subscriptions::table
                .select(SubscriptionRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "outbox",
            outbox::table
                .select(OutboxRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "ledger_entries",
            ledger_entries::table
                .select(LedgerEntryRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "ledger_checkpoints",
            ledger_checkpoints::table
                .select(LedgerCheckpointRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
        (
            "report_checks",
            report_checks::table
                .select(ReportCheckRow::as_select())
                .load(conn)
                .unwrap()
                .len(),
        ),
    ];
    for (table, n) in counts {
        assert!(n > 0, "{table} is empty");
    }
    // The operations tables: secrets kept through a rotation, job leases,
    // idempotency keys with their report.
    diesel::insert_into(retired_secrets::table)
        .values((
            retired_secrets::name.eq("mail_signing_key"),
            retired_secrets::value.eq("ab".repeat(32)),
            retired_secrets::retired_at.eq(now),
            retired_secrets::accepted_until.eq(now),
        ))
        .execute(conn)
        .unwrap();
    diesel::insert_into(job_leases::table)
        .values((
            job_leases::job.eq("scanner-housekeeping"),
            job_leases::holder.eq("instance"),
            job_leases::until.eq(now),
        ))
        .execute(conn)
        .unwrap();
    diesel::insert_into(idempotency_keys::table)
        .values(IdempotencyRow {
            key_hash: "cd".repeat(32),
            request_hash: "ef".repeat(32),
            report_id: Some(report.id.clone()),
            status: Some(201),
            response: Some("{}".into()),
            created_at: now,
        })
        .execute(conn)
        .unwrap();
    let kept: IdempotencyRow = idempotency_keys::table
        .select(IdempotencyRow::as_select())
        .first(conn)
        .unwrap();
    assert_eq!(
        (kept.report_id.as_deref(), kept.status),
        (Some(report.id.as_str()), Some(201))
    );
    // (The search indexer holds a lease of its own.)
    let lease: (String, String, chrono::NaiveDateTime) = job_leases::table
        .find("scanner-housekeeping")
        .first(conn)
        .unwrap();
    assert_eq!(lease.2, now);
    let retired: (String, String, chrono::NaiveDateTime, chrono::NaiveDateTime) =
        retired_secrets::table.first(conn).unwrap();
    assert_eq!(retired.3, now);

    // The geodata and the search index: the demo's registry and objects,
    // a report about an object, its terms, its list of terms, the queue.
    let address: AddressRow = addresses::table
        .select(AddressRow::as_select())
        .first(conn)
        .unwrap();
    assert!(address.key.contains('|'), "{}", address.key);
    let object: CityObjectRow = city_objects::table
        .select(CityObjectRow::as_select())
        .first(conn)
        .unwrap();
    diesel::insert_into(report_objects::table)
        .values(ReportObjectRow {
            report_id: report.id.clone(),
            object_id: object.id.clone(),
            created_at: now,
        })
        .execute(conn)
        .unwrap();
    let about: ReportObjectRow = report_objects::table
        .select(ReportObjectRow::as_select())
        .first(conn)
        .unwrap();
    assert_eq!(about.object_id, object.id);
    diesel::delete(search_terms::table.filter(search_terms::term.eq("schema-test")))
        .execute(conn)
        .unwrap();
    diesel::insert_into(search_terms::table)
        .values(SearchTermRow {
            term: "schema-test".into(),
            report_id: report.id.clone(),
            weight: 7,
        })
        .execute(conn)
        .unwrap();
    let term: SearchTermRow = search_terms::table
        .filter(search_terms::term.eq("schema-test"))
        .select(SearchTermRow::as_select())
        .first(conn)
        .unwrap();
    assert_eq!(term.weight, 7);
    let docs: Vec<SearchDocRow> = search_docs::table
        .select(SearchDocRow::as_select())
        .load(conn)
        .unwrap();
    let pending: Vec<SearchPendingRow> = search_pending::table
        .select(SearchPendingRow::as_select())
        .load(conn)
        .unwrap();
    // Every demo report is indexed or waiting for the indexer.
    assert!(docs.len() + pending.len() > 0);

    // Values survive the trip unchanged on both backends.
    let day: CalendarDayRow = calendar_days::table
        .filter(calendar_days::day.eq(NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()))
        .select(CalendarDayRow::as_select())
        .first(conn)
        .unwrap();
    assert_eq!(day.kind, "shortened");
    let pause: ReportPauseRow = report_pauses::table
        .filter(report_pauses::reason.eq("procurement"))
        .filter(report_pauses::note.eq("закупка"))
        .select(ReportPauseRow::as_select())
        .first(conn)
        .unwrap();
    assert_eq!(
        pause.resume_on,
        NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()
    );
    assert_eq!(pause.ended_at, None);
    let attachment: AttachmentRow = attachments::table
        .filter(attachments::content_hash.eq("ab".repeat(32)))
        .select(AttachmentRow::as_select())
        .first(conn)
        .unwrap();
    assert_eq!(attachment.bytes, 5_000_000_000);
    let back: ReportRow = reports::table
        .find(&report.id)
        .select(ReportRow::as_select())
        .first(conn)
        .unwrap();
    assert_eq!(
        (back.lat, back.lon, back.created_at),
        (report.lat, report.lon, report.created_at)
    );
}

#[tokio::test]
async fn constraints_hold_on_both_backends() {
    let app = spawn_app_with(|s| s.seed.demo_reports = 1).await;
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    let report: ReportRow = reports::table
        .select(ReportRow::as_select())
        .first(conn)
        .unwrap();
    // An unknown status is refused by the CHECK constraint.
    let bad_status = diesel::update(reports::table.find(&report.id))
        .set(reports::status.eq("lost"))
        .execute(conn);
    assert!(bad_status.is_err());
    // A dangling category is refused by the foreign key (SQLite too: the
    // connection turns foreign keys on).
    let dangling = diesel::update(reports::table.find(&report.id))
        .set(reports::category_id.eq("no-such-category"))
        .execute(conn);
    assert!(dangling.is_err());
    // Staff must belong to a department.
    let crew_without_department = diesel::insert_into(users::table)
        .values(UserRow {
            id: gorod::db::new_id(),
            email: "crew@example.ru".into(),
            name: None,
            phone: None,
            role: "crew".into(),
            department_id: None,
            locale: "ru".into(),
            created_at: common::start_time(),
        })
        .execute(conn);
    assert!(crew_without_department.is_err());
}

#[tokio::test]
async fn sqlite_connections_carry_the_pragmas() {
    let app = common::spawn_app().await;
    let mut pooled = app.conn();
    if !matches!(&*pooled, DbConnection::Sqlite(_)) {
        return; // PostgreSQL has no pragmas
    }
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let conn: &mut DbConnection = &mut pooled;
    let mut pragma = |name: &str| {
        let column = if name == "busy_timeout" {
            "timeout"
        } else {
            name
        };
        diesel::sql_query(format!(
            "SELECT CAST({column} AS TEXT) AS value FROM pragma_{name}"
        ))
        .get_result::<Setting>(conn)
        .unwrap()
        .value
    };
    assert_eq!(pragma("journal_mode"), "wal");
    assert_eq!(pragma("foreign_keys"), "1");
    assert_eq!(pragma("busy_timeout"), "5000");
    assert_eq!(pragma("synchronous"), "1"); // NORMAL
}
