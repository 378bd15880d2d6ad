//! Group commit: filings written together, and one bad filing in a batch
//! does not sink the others.

mod common;

use std::collections::BTreeMap;

use gorod::db::reports::FilingRecord;
use gorod::db::writer::FilingWriter;
use gorod::db::{catalog, DbConnection};
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
            email: email.into(),
            name: None,
            phone: None,
            show_name: false,
        },
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
    }
}

#[tokio::test]
async fn a_failing_filing_fails_alone_and_the_rest_of_its_batch_is_written() {
    let app = common::spawn_app().await;
    let writer = FilingWriter::start(app.pool.clone(), 4).unwrap();
    let records: Vec<FilingRecord> = {
        let mut pooled = app.conn();
        let conn: &mut DbConnection = &mut pooled;
        (0..30)
            .map(|i| record(conn, &format!("r{i}@example.ru"), i != 7))
            .collect()
    };
    let filings = records.into_iter().map(|r| {
        let writer = writer.clone();
        tokio::spawn(async move { writer.file(r).await })
    });
    let mut results = Vec::new();
    for filing in filings.collect::<Vec<_>>() {
        results.push(filing.await.unwrap());
    }
    for (i, result) in results.iter().enumerate() {
        assert_eq!(result.is_ok(), i != 7, "filing {i}: {result:?}");
    }
    let mut numbers: Vec<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|f| f.number)
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 29, "every written filing has its own number");
    assert_eq!(app.count_rows("reports"), 29);
    assert_eq!(app.count_rows("report_events"), 29);
    assert_eq!(app.count_rows("subscriptions"), 29);
}

#[tokio::test]
async fn parallel_writers_filing_for_the_same_new_resident_create_them_once() {
    let app = common::spawn_app().await;
    let residents_before = app.count_rows("users");
    let writer = FilingWriter::start(app.pool.clone(), 4).unwrap();
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
            tokio::spawn(async move { writer.file(r).await })
        })
        .collect();
    for filing in filings {
        filing.await.unwrap().expect("every filing is written");
    }
    assert_eq!(app.count_rows("reports"), 40);
    assert_eq!(app.count_rows("users"), residents_before + 1);
    assert_eq!(app.count_rows("subscriptions"), 40);
}
