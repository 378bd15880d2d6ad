//! Group commit: filings checked and written together, one bad filing in a
//! batch does not sink the others, and the batch's duplicate candidates,
//! found in one statement, are those each filing would find on its own.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::collections::BTreeMap;

use gorod::app::writer::FilingWriter;
use gorod::db::filing as report_db;
use gorod::db::filing::{FilingRecord, Probe, MAX_CANDIDATES};
use gorod::db::{catalog, DbConnection, DbError};
use gorod::reports::{NewReport, ReportInput, ReporterInput};

fn record(conn: &mut DbConnection, email: &str, category_exists: bool) -> FilingRecord {
    let report = NewReport::parse(ReportInput {
        category: "graffiti".into(),
        lat: 55.77,
        lon: 37.605,
        description: "Граффити на фасаде".into(),
        address: None,
        answers: BTreeMap::new(),
        reporter: ReporterInput {
            email: Some(email.into()),
            name: None,
            phone: None,
            show_name: false,
            locale: None,
        },
        object: None,
    })
    .unwrap();
    let category = catalog::category_for_filing(conn, "graffiti")
        .unwrap()
        .unwrap();
    let decision = catalog::load_city_map(conn)
        .unwrap()
        .route(&category.routing, 55.77, 37.605)
        .unwrap();
    FilingRecord {
        now: common::start_time(),
        report,
        // A category that does not exist breaks the foreign key at insert.
        category_id: if category_exists {
            category.routing.id
        } else {
            uuid::Uuid::new_v4()
        },
        answers: BTreeMap::new(),
        decision,
        source: "api",
        photos: Vec::new(),
        due: Default::default(),
        next_sla_at: None,
        duplicate_radius_m: 50.0,
        idempotency: None,
        object: None,
    }
}

#[tokio::test]
async fn a_failing_filing_fails_alone_and_the_rest_of_its_batch_is_written() {
    let app = common::spawn_app().await;
    let writer = FilingWriter::<DbError>::start(app.pool.clone(), 4).unwrap();
    let records: Vec<FilingRecord> = {
        let mut pooled = app.conn();
        let conn: &mut DbConnection = &mut pooled;
        (0..30)
            .map(|i| record(conn, &format!("r{i}@example.ru"), i != 7))
            .collect()
    };
    // Filing 7 breaks at insert, 11 is refused by its check and 19's check
    // panics; the writer answers each and writes the other 27.
    let filings = records.into_iter().enumerate().map(|(i, r)| {
        let writer = writer.clone();
        tokio::spawn(async move {
            writer
                .file(move |_| match i {
                    11 => Err(DbError::Corrupt("refused by its check".into())),
                    19 => panic!("a check that panics"),
                    _ => Ok(r),
                })
                .await
        })
    });
    let mut results = Vec::new();
    for filing in filings.collect::<Vec<_>>() {
        results.push(filing.await.unwrap());
    }
    for (i, result) in results.iter().enumerate() {
        assert_eq!(
            result.is_ok(),
            ![7, 11, 19].contains(&i),
            "filing {i}: {result:?}"
        );
    }
    assert!(matches!(&results[11], Err(DbError::Corrupt(m)) if m == "refused by its check"));
    let mut numbers: Vec<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|(filed, _)| filed.number)
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 27, "every written filing has its own number");
    assert_eq!(app.count_rows("reports"), 27);
    assert_eq!(app.count_rows("report_events"), 27);
    assert_eq!(app.count_rows("subscriptions"), 27);
    // The writer lives on after a panicking check.
    let mut pooled = app.conn();
    let again = record(&mut pooled, "after@example.ru", true);
    drop(pooled);
    writer.file(move |_| Ok(again)).await.expect("written");
    assert_eq!(app.count_rows("reports"), 28);
}

#[tokio::test]
async fn parallel_writers_filing_for_the_same_new_resident_create_them_once() {
    let app = common::spawn_app().await;
    let residents_before = app.count_rows("users");
    let writer = FilingWriter::<DbError>::start(app.pool.clone(), 4).unwrap();
    let records: Vec<FilingRecord> = {
        let mut pooled = app.conn();
        let conn: &mut DbConnection = &mut pooled;
        (0..40)
            .map(|_| record(conn, "same.new.resident@example.ru", true))
            .collect()
    };
    let filings: Vec<_> = records
        .into_iter()
        .map(|r| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.file(move |_| Ok(r)).await })
        })
        .collect();
    for filing in filings {
        filing.await.unwrap().expect("every filing is written");
    }
    assert_eq!(app.count_rows("reports"), 40);
    assert_eq!(app.count_rows("users"), residents_before + 1);
    assert_eq!(app.count_rows("subscriptions"), 40);
    // Every report and its first event name the one account.
    use diesel::prelude::*;
    use gorod::db::schema::{report_events, reports, users};
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    let resident: String = users::table
        .filter(users::email.eq("same.new.resident@example.ru"))
        .select(users::id)
        .first(conn)
        .unwrap();
    let reporters: i64 = reports::table
        .filter(reports::reporter_id.eq(&resident))
        .count()
        .get_result(conn)
        .unwrap();
    let actors: i64 = report_events::table
        .filter(report_events::actor_id.eq(&resident))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!((reporters, actors), (40, 40));
}

#[tokio::test]
async fn a_batch_finds_the_same_duplicate_candidates_as_each_filing_alone() {
    let app = common::spawn_app().await;
    let writer = FilingWriter::<DbError>::start(app.pool.clone(), 1).unwrap();
    // Open reports of one category spread over a few hundred metres,
    // across the corner of four grid cells (55.77, 37.61).
    let mut pooled = app.conn();
    let template = record(&mut pooled, "spread@example.ru", true);
    drop(pooled);
    let places: Vec<(f64, f64)> = (0..40)
        .map(|i| {
            (
                55.7692 + f64::from(i % 8) * 0.0002,
                37.6088 + f64::from(i / 8) * 0.0003,
            )
        })
        .collect();
    for &(lat, lon) in &places {
        let mut r = template.clone();
        r.report.location = gorod::reports::Location::parse(lat, lon).unwrap();
        writer.file(move |_| Ok(r)).await.expect("written");
    }
    let category_id = template.category_id.to_string();
    let probes: Vec<Probe> = (0..12)
        .map(|i| Probe {
            category_id: if i == 5 {
                uuid::Uuid::new_v4().to_string()
            } else {
                category_id.clone()
            },
            lat: 55.7687 + f64::from(i) * 0.00017,
            lon: 37.6086 + f64::from(i % 5) * 0.0004,
            radius_m: if i % 3 == 0 { 25.0 } else { 60.0 },
        })
        .collect();
    let mut pooled = app.conn();
    let together = report_db::nearby_open_all(&mut pooled, &probes).unwrap();
    assert_eq!(together.len(), probes.len());
    let mut found = 0;
    for (probe, batch) in probes.iter().zip(&together) {
        let alone = report_db::nearby_open(&mut pooled, probe).unwrap();
        let ids =
            |n: &[report_db::Nearby]| n.iter().map(|n| n.report.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(batch), ids(&alone), "{probe:?}");
        // Every report within the radius, whichever cell it is in.
        let within = places
            .iter()
            .filter(|(lat, lon)| {
                gorod::reports::nearby::distance_m(probe.lat, probe.lon, *lat, *lon)
                    <= probe.radius_m
            })
            .count();
        let same_category = probe.category_id == category_id;
        let expected = if same_category {
            within.min(MAX_CANDIDATES)
        } else {
            0
        };
        assert_eq!(alone.len(), expected, "{probe:?}");
        found += alone.len();
    }
    assert!(found > 20, "the probes find candidates ({found})");
    assert!(together[5].is_empty(), "another category finds none");
}
