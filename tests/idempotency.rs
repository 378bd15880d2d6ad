//! `Idempotency-Key` on the filing POSTs: a retry gets the first answer and
//! files nothing more, even when the first answer was never sent, and even
//! when the retries race the first request.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use serde_json::Value;

async fn post_keyed(
    app: &common::TestApp,
    path: &str,
    key: &str,
    body: &Value,
) -> (u16, Option<String>, Value) {
    let response = app
        .client
        .post(app.url(path))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("Idempotent-Replayed")
        .map(|v| v.to_str().unwrap().to_string());
    (status, replayed, response.json().await.unwrap())
}

#[tokio::test]
async fn a_retried_filing_returns_the_first_answer_and_files_once() {
    let app = common::spawn_app().await;
    let body = common::valid_report();
    let (status, replayed, first) = post_keyed(&app, "/api/v1/reports", "retry-1", &body).await;
    assert_eq!((status, replayed), (201, None), "{first}");
    let (status, replayed, again) = post_keyed(&app, "/api/v1/reports", "retry-1", &body).await;
    assert_eq!(
        (status, replayed.as_deref()),
        (201, Some("true")),
        "{again}"
    );
    assert_eq!(again, first);
    assert_eq!(app.count_rows("reports"), 1);

    // The same key for another report is refused, and files nothing.
    let mut other = body.clone();
    other["description"] = "Другая яма, у остановки.".into();
    let (status, _, refused) = post_keyed(&app, "/api/v1/reports", "retry-1", &other).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{refused}"
    );
    assert_eq!(app.count_rows("reports"), 1);
    // Another key files another report; a bad key is named.
    let (status, _, _) = post_keyed(&app, "/api/v1/reports", "retry-2", &body).await;
    assert_eq!(status, 201);
    let (status, _, bad) = post_keyed(&app, "/api/v1/reports", "with space", &body).await;
    assert_eq!(
        (status, bad["field"].as_str()),
        (400, Some("Idempotency-Key")),
        "{bad}"
    );
    assert_eq!(app.count_rows("reports"), 2);
}

#[tokio::test]
async fn a_filing_whose_answer_was_never_sent_is_answered_from_its_report() {
    let app = common::spawn_app().await;
    let body = common::valid_report();
    let (_, _, first) = post_keyed(&app, "/api/v1/reports", "lost-answer", &body).await;
    // As if the server had committed the report and died before answering:
    // the key was written with the report, the answer never was.
    {
        use diesel::prelude::*;
        use gorod::db::schema::idempotency_keys;
        let mut conn = app.conn();
        let cleared = diesel::update(idempotency_keys::table)
            .set((
                idempotency_keys::status.eq(None::<i32>),
                idempotency_keys::response.eq(None::<String>),
            ))
            .execute(&mut *conn)
            .unwrap();
        assert_eq!(cleared, 1, "the key is kept with the report");
    }
    let (status, replayed, again) = post_keyed(&app, "/api/v1/reports", "lost-answer", &body).await;
    assert_eq!(
        (status, replayed.as_deref()),
        (201, Some("true")),
        "{again}"
    );
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["number"], first["number"]);
    assert_eq!(app.count_rows("reports"), 1);
}

#[tokio::test]
async fn retries_racing_the_first_request_file_one_report() {
    let app = common::spawn_app().await;
    let body = common::valid_report();
    let answers = futures_util::future::join_all(
        (0..8).map(|_| post_keyed(&app, "/api/v1/reports", "racing", &body)),
    )
    .await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|(status, _, view)| {
            assert_eq!(*status, 201, "{view}");
            view["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(app.count_rows("reports"), 1);
}

#[tokio::test]
async fn an_open311_post_retried_with_its_key_files_once() {
    let app = common::spawn_app().await;
    let form = [
        ("api_key", "demo-open311-key"),
        ("service_code", "pothole"),
        ("lat", "55.7700"),
        ("long", "37.6050"),
        ("description", "Яма на переходе"),
        ("attribute[size]", "small"),
        ("email", "open311@example.ru"),
    ];
    let post = || {
        app.client
            .post(app.url("/open311/v2/requests.json"))
            .header("Idempotency-Key", "o311-1")
            .form(&form)
            .send()
    };
    let first = post().await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let first: Value = first.json().await.unwrap();
    let again = post().await.unwrap();
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(again.headers()["Idempotent-Replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(app.count_rows("reports"), 1);
}
