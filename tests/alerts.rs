//! Area alerts: a subscription starts only through its emailed link; once
//! on, it hears of each matching report once, as it is published, and of
//! nothing outside its place or categories; a daily one gets one digest a
//! day; every alert email ends the alert.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use common::{emailed_link, subjects_to, TestApp};
use serde_json::{json, Value};

/// Files a report as a demo resident and has its department's supervisor
/// accept it (publish it); its number.
async fn published(app: &TestApp, category: &str, (lat, lon): (f64, f64)) -> i64 {
    let (number, id) = filed(app, category, (lat, lon)).await;
    accept(app, &id).await;
    number
}

/// Its department's supervisor accepts a report.
async fn accept(app: &TestApp, id: &str) {
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let department = report["department"]["code"].as_str().unwrap();
    let (status, moved) = app
        .act(
            &format!("demo-token-supervisor.{department}"),
            id,
            &json!({"action": "accept"}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
}

/// Files a report (left in moderation); its number and id.
async fn filed(app: &TestApp, category: &str, (lat, lon): (f64, f64)) -> (i64, String) {
    let mut body = common::report_at(category, lat, lon);
    body.as_object_mut().unwrap().remove("reporter");
    let (status, filed) = app
        .post_as("demo-token-resident1", "/api/v1/reports", &body.to_string())
        .await;
    assert_eq!(status, 201, "{filed}");
    (
        filed["number"].as_i64().unwrap(),
        filed["id"].as_str().unwrap().to_string(),
    )
}

async fn scan(app: &TestApp) {
    let (status, body) = app
        .post_as("demo-token-admin", "/api/v1/admin/sla/scan", "")
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn subscribe(app: &TestApp, body: Value) -> (u16, Value) {
    app.post_json("/api/v1/alerts?lang=en", &body).await
}

/// Follows the confirmation link a subscription emailed: its page, then
/// its form.
async fn confirm(app: &TestApp, email: &str) {
    let link = emailed_link(app, email, "/account/confirm_alert/").await;
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Confirm the alert") || page.contains("Подтвердить подписку"));
    let done = app.client.post(&link).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let again = app.client.post(&link).send().await.unwrap();
    assert_eq!(again.status(), 409, "a link confirms once");
}

const HERE: (f64, f64) = (55.7700, 37.6050);

#[tokio::test]
async fn an_area_alert_fires_once_per_matching_report_and_never_outside_its_area() {
    let app = common::spawn_app().await;
    common::resident_tokens(&app, 1..=1);
    let watcher = "watcher@example.ru";
    let (status, held) = subscribe(
        &app,
        json!({"email": watcher, "lat": HERE.0, "lon": HERE.1, "radius_m": 400,
               "categories": ["pothole"], "locale": "en"}),
    )
    .await;
    assert_eq!(
        (status, &held["status"]),
        (202, &json!("awaiting_confirmation")),
        "{held}"
    );

    // Until the address confirms, nothing is sent to it but the link.
    let before = published(&app, "pothole", HERE).await;
    scan(&app).await;
    let subjects = subjects_to(&app, watcher).await;
    assert_eq!(subjects.len(), 1, "{subjects:?}");
    app.clock.advance(chrono::TimeDelta::minutes(1));
    confirm(&app, watcher).await;
    scan(&app).await;
    assert_eq!(
        subjects_to(&app, watcher).await.len(),
        1,
        "a report published before the alert was on is not news to it"
    );

    let near = published(&app, "pothole", (55.7712, 37.6041)).await;
    let far = published(&app, "pothole", (55.7500, 37.5900)).await;
    let other_kind = published(&app, "graffiti", HERE).await;
    let (unpublished, unpublished_id) = filed(&app, "pothole", HERE).await;
    scan(&app).await;
    scan(&app).await;
    let subjects = subjects_to(&app, watcher).await;
    let alerts: Vec<&String> = subjects
        .iter()
        .filter(|s| s.contains("new report"))
        .collect();
    assert_eq!(alerts.len(), 1, "{subjects:?}");
    assert!(alerts[0].contains(&near.to_string()), "{subjects:?}");
    for other in [before, far, other_kind, unpublished] {
        assert!(
            !subjects.iter().any(|s| s.contains(&format!(" {other}:"))),
            "№ {other} is not the alert's: {subjects:?}"
        );
    }

    // Published later, the one still in moderation is news then, once.
    accept(&app, &unpublished_id).await;
    scan(&app).await;
    scan(&app).await;
    let subjects = subjects_to(&app, watcher).await;
    let about = |n: i64| {
        subjects
            .iter()
            .filter(|s| s.contains(&format!(" {n}:")))
            .count()
    };
    assert_eq!((about(near), about(unpublished)), (1, 1), "{subjects:?}");

    // The alert's own email ends it, and says what it showed: the
    // category and address, nothing personal.
    let kept = app.mailbox.as_ref().unwrap().lock().unwrap().clone();
    let alert_mail = kept
        .iter()
        .filter(|k| k.to == watcher)
        .filter_map(|k| {
            let message = mail_parser::MessageParser::default().parse(&k.raw)?;
            Some(message.body_text(0)?.to_string())
        })
        .find(|text| text.contains("What and where"))
        .unwrap();
    // The registry's address of the house beside the point.
    assert!(
        alert_mail.contains("улица Малая Дмитровка, 23к2"),
        "{alert_mail}"
    );
    assert!(
        !alert_mail.contains("resident1@"),
        "no reporter in an alert"
    );
    let stop = emailed_link(&app, watcher, "/account/alert_unsubscribe/").await;
    let page = app.client.get(&stop).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(app.client.post(&stop).send().await.unwrap().status(), 200);
    let count = subjects_to(&app, watcher).await.len();
    published(&app, "pothole", HERE).await;
    scan(&app).await;
    assert_eq!(subjects_to(&app, watcher).await.len(), count, "ended");
}

#[tokio::test]
async fn a_daily_district_alert_sends_one_digest_a_day() {
    let app = common::spawn_app().await;
    common::resident_tokens(&app, 1..=1);
    let watcher = "district@example.ru";
    let (status, held) = subscribe(
        &app,
        json!({"email": watcher, "area": "tverskoy", "frequency": "daily"}),
    )
    .await;
    assert_eq!(status, 202, "{held}");
    confirm(&app, watcher).await;
    app.clock.advance(chrono::TimeDelta::minutes(1));
    let inside = [
        published(&app, "pothole", HERE).await,
        published(&app, "graffiti", (55.7800, 37.6100)).await,
    ];
    let outside = published(&app, "pothole", (55.7600, 37.6500)).await; // Basmanny
    scan(&app).await;
    scan(&app).await;
    let digests = || {
        let kept = app.mailbox.as_ref().unwrap().lock().unwrap().clone();
        kept.into_iter()
            .filter(|k| k.to == watcher)
            .filter_map(|k| {
                let message = mail_parser::MessageParser::default().parse(&k.raw)?;
                let text = message.body_text(0)?.to_string();
                text.contains("Stop these alerts").then_some(text)
            })
            .collect::<Vec<String>>()
    };
    subjects_to(&app, watcher).await;
    let sent = digests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    for n in inside {
        assert!(sent[0].contains(&format!("No. {n} (")), "{}", sent[0]);
    }
    assert!(
        !sent[0].contains(&format!("No. {outside} (")),
        "{}",
        sent[0]
    );

    // Later the same day: what is new waits for tomorrow's digest.
    let later = published(&app, "pothole", HERE).await;
    scan(&app).await;
    subjects_to(&app, watcher).await;
    assert_eq!(digests().len(), 1);
    app.clock.advance(chrono::TimeDelta::days(1));
    scan(&app).await;
    subjects_to(&app, watcher).await;
    let sent = digests();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[1].contains(&format!("No. {later} (")), "{}", sent[1]);
    assert!(
        !sent[1].contains(&format!("No. {} (", inside[0])),
        "once each"
    );
}

#[tokio::test]
async fn a_wrong_subscription_is_refused_naming_the_field_and_changes_nothing() {
    let app = common::spawn_app().await;
    for (body, field) in [
        (json!({"email": "a@example.ru"}), "area"),
        (
            json!({"email": "a@example.ru", "area": "tverskoy", "lat": 55.7, "lon": 37.6}),
            "area",
        ),
        (
            json!({"email": "a@example.ru", "lat": 55.7, "lon": 37.6, "radius_m": 10}),
            "radius_m",
        ),
        (json!({"email": "a@example.ru", "area": "atlantis"}), "area"),
        (
            json!({"email": "a@example.ru", "area": "arbat", "categories": ["unicorns"]}),
            "categories",
        ),
        (
            json!({"email": "a@example.ru", "area": "arbat", "frequency": "weekly"}),
            "frequency",
        ),
        (json!({"email": "not an address", "area": "arbat"}), "email"),
    ] {
        let (status, error) = subscribe(&app, body.clone()).await;
        assert_eq!(status, 400, "{body} → {error}");
        assert_eq!(error["field"], field, "{body} → {error}");
    }
    assert_eq!(app.count_rows("area_alerts"), 0);

    // Nobody can flood a stranger's mailbox with confirmation links.
    let mut last = 0;
    for _ in 0..12 {
        last = subscribe(&app, json!({"email": "victim@example.ru", "area": "arbat"}))
            .await
            .0;
    }
    assert_eq!(last, 429);
}
