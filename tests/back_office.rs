//! The city's back office: two Gorod instances on separate databases, the
//! second (a real process) the roads department's back office. Reports
//! routed to roads on the first are POSTed to the second over Open311,
//! once, with their answers mapped and their photos' URLs; the second's
//! staff answer; the first reads the answer back (pulled) or is told
//! (pushed); the resident hears of it and the ledger verifies. Webhooks
//! are checked by the Standard Webhooks reference library.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::time::{Duration, Instant};

use common::instance::Instance;
use common::*;
use serde_json::{json, Value};

const ADMIN: &str = "demo-token-admin";

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The back office: the demo city served by the built binary on a port
/// of its own, restartable on the same database and port.
struct BackOffice {
    db: TestDatabase,
    port: u16,
}

impl BackOffice {
    fn start(&self) -> Instance {
        Instance::start(
            &self.db.url,
            &["--demo"],
            &[
                ("GOROD__SERVER__PORT", self.port.to_string()),
                ("GOROD__SEED__DEMO_REPORTS", "0".into()),
                ("GOROD__LIMITS__OPEN311_POSTS_PER_MINUTE", "100000".into()),
                ("GOROD__BACK_OFFICE__POLL_MS", "0".into()),
            ],
        )
        .expect("the back office starts")
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A form POSTed to the city: the status and the answer.
async fn post_form(app: &TestApp, path: &str, form: &[(&str, String)]) -> (u16, Value) {
    json_of(
        app.client
            .post(app.url(path))
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn back_office_get(office: &BackOffice, token: &str, path: &str) -> (u16, Value) {
    json_of(
        reqwest::Client::new()
            .get(office.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn back_office_act(office: &BackOffice, token: &str, id: &str, body: Value) -> (u16, Value) {
    json_of(
        reqwest::Client::new()
            .post(office.url(&format!("/api/v1/reports/{id}/actions?lang=en")))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The city: the first instance, with a quick courier.
async fn city() -> TestApp {
    spawn_app_with(|s| {
        s.back_office.poll_ms = 50;
        s.back_office.pull_secs = 1;
        s.back_office.timeout_secs = 2;
        s.back_office.lease_secs = 10;
        s.back_office.backoff_base_secs = 1;
        s.back_office.backoff_max_secs = 2;
        s.back_office.max_attempts = 1000;
    })
    .await
}

async fn put(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    send_as(app, reqwest::Method::PUT, Some(ADMIN), path, &body).await
}

/// Roads' back office is the second instance (pull: `pull`).
async fn connect_roads(app: &TestApp, office: &BackOffice, pull: &str) {
    let (status, body) = put(
        app,
        "/api/v1/admin/departments/roads/endpoint",
        json!({
            "url": office.url("/open311/v2"),
            "api_key": "demo-open311-key",
            "services": {"pothole": "pothole"},
            "attributes": {"size": "size", "depth_cm": "depth_cm"},
            "statuses": {"closed": "answer"},
            "pull": pull,
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Files a pothole with a photo as a resident and accepts it to roads:
/// (its id, its number).
async fn file_and_accept(app: &TestApp, description: &str) -> (String, i64) {
    let mut report = valid_report();
    report["description"] = json!(description);
    report["answers"] = json!({"size": "large", "depth_cm": 12});
    let form = reqwest::multipart::Form::new()
        .text("report", report.to_string())
        .part(
            "photo",
            reqwest::multipart::Part::bytes(jpeg(64, 48))
                .file_name("pothole.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let response = app
        .client
        .post(app.url("/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, filed) = json_of(response).await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    let number = filed["number"].as_i64().unwrap();
    let (status, body) = app
        .act(
            "demo-token-supervisor.roads",
            &id,
            &json!({"action": "accept"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (id, number)
}

/// Waits (up to `within`) until `check` gives something.
async fn until<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(started.elapsed() < within, "waited {within:?} for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The report's id at the back office, once it has one.
async fn external_id(app: &TestApp, id: &str, within: Duration) -> String {
    let path = format!("/api/v1/reports/{id}/back-office");
    until(within, "the back office's id", || async {
        let (status, body) = get_as(app, ADMIN, &path).await;
        assert_eq!(status, 200, "{body}");
        body["handover"]["external_id"].as_str().map(str::to_string)
    })
    .await
}

/// The back office's own id of its request `number`.
async fn office_report(office: &BackOffice, number: &str) -> Value {
    let (status, body) = back_office_get(
        office,
        ADMIN,
        &format!("/open311/v2/requests/{number}.json?extensions=true"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body[0].clone()
}

async fn office_report_id(office: &BackOffice, number: &str) -> String {
    let (status, list) = back_office_get(office, ADMIN, "/api/v1/reports?per_page=100").await;
    assert_eq!(status, 200, "{list}");
    let items = list["reports"].as_array().unwrap().clone();
    items
        .iter()
        .find(|r| r["number"].as_i64().map(|n| n.to_string()).as_deref() == Some(number))
        .and_then(|r| r["id"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no report {number} at the back office: {list}"))
}

/// Accepts and answers the back office's request as its own staff.
async fn answer_there(office: &BackOffice, number: &str, answer: &str) {
    let id = office_report_id(office, number).await;
    let (status, body) = back_office_act(
        office,
        "demo-token-supervisor.roads",
        &id,
        json!({"action": "accept"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = back_office_act(
        office,
        "demo-token-crew1.roads",
        &id,
        json!({"action": "answer", "answer": answer}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn status_of(app: &TestApp, id: &str) -> String {
    let (_, report) = get_as(app, ADMIN, &format!("/api/v1/reports/{id}")).await;
    report["status"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_report_goes_to_the_back_office_once_and_its_answer_comes_back() {
    let app = city().await;
    let office = BackOffice {
        db: TestDatabase::new(),
        port: free_port(),
    };
    // The back office is down when the report is handed over, for a minute.
    drop(office.start());
    connect_roads(&app, &office, "requests").await;
    let (id, _) = file_and_accept(&app, "Яма у остановки, колесо провалилось.").await;
    tokio::time::sleep(Duration::from_secs(60)).await;
    let (status, pending) = get_as(
        &app,
        ADMIN,
        &format!("/api/v1/admin/deliveries?status=pending&report={id}"),
    )
    .await;
    assert_eq!(status, 200, "{pending}");
    let delivery = &pending.as_array().unwrap()[0];
    assert_eq!(delivery["kind"], "open311");
    assert!(delivery["attempts"].as_i64().unwrap() >= 3, "{delivery}");
    assert!(delivery["last_error"].as_str().is_some(), "{delivery}");

    let _running = office.start();
    let number = external_id(&app, &id, Duration::from_secs(30)).await;
    let there = office_report(&office, &number).await;
    assert_eq!(there["service_code"], "pothole");
    assert_eq!(there["description"], "Яма у остановки, колесо провалилось.");
    let attribute = |code: &str| {
        there["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == code)
            .map(|a| a["value"].clone())
    };
    assert_eq!(attribute("size"), Some(json!("large")), "{there}");
    assert_eq!(attribute("depth_cm"), Some(json!(12.0)), "{there}");
    // Its photo, as the city serves it.
    let photo = there["media_url"].as_str().unwrap_or_default();
    assert!(
        photo.starts_with(&format!("{}/media/", app.services.public_url)),
        "{there}"
    );
    // Sent once: the back office has this one report.
    let (_, all) = back_office_get(&office, ADMIN, "/open311/v2/requests.json").await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");

    answer_there(&office, &number, "Яму заделали асфальтом.").await;
    until(Duration::from_secs(20), "the answer read back", || async {
        (status_of(&app, &id).await == "resolved").then_some(())
    })
    .await;
    let (_, report) = get_as(&app, ADMIN, &format!("/api/v1/reports/{id}")).await;
    let history = report["history"].as_array().unwrap();
    let answered = history.iter().find(|e| e["kind"] == "answered").unwrap();
    assert_eq!(answered["note"], "Яму заделали асфальтом.", "{answered}");
    // The back office answered as the department's crew; its update names
    // the move it made.
    assert_eq!(answered["actor_role"], "crew", "{answered}");
    let (_, said) = get_as(&app, ADMIN, &format!("/api/v1/reports/{id}/back-office")).await;
    let applied: Vec<&Value> = said["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["outcome"] == "applied")
        .collect();
    assert_eq!(applied.len(), 1, "{said}");
    assert_eq!(applied[0]["source"], "pull", "{said}");
    assert_eq!(applied[0]["event_id"], answered["id"], "{said}");
    assert_eq!(said["handover"]["external_id"], number.as_str(), "{said}");
    let subjects = subjects_to(&app, "anna.petrova@example.ru").await;
    assert!(subjects.len() >= 2, "{subjects:?}");
    let (status, verified) = get_as(&app, ADMIN, "/api/v1/ledger/verify").await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(
        verified["entries"], 1,
        "the answer is in the ledger: {verified}"
    );
    // Nothing was sent twice, and nothing is left to send.
    let (_, sent) = get_as(
        &app,
        ADMIN,
        &format!("/api/v1/admin/deliveries?status=sent&report={id}"),
    )
    .await;
    assert_eq!(sent.as_array().unwrap().len(), 1, "{sent}");
    let (_, all) = back_office_get(&office, ADMIN, "/open311/v2/requests.json").await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
}

#[tokio::test]
async fn a_back_office_pushes_its_answer_once_with_its_departments_key() {
    let app = city().await;
    let office = BackOffice {
        db: TestDatabase::new(),
        port: free_port(),
    };
    let _running = office.start();
    connect_roads(&app, &office, "none").await;
    let (id, _) = file_and_accept(&app, "Провал асфальта у въезда во двор.").await;
    let external = external_id(&app, &id, Duration::from_secs(30)).await;
    // An instance that died after the back office filed the report but
    // before it recorded the answer: the delivery is due again. Its retry
    // carries the same Idempotency-Key, and the back office answers as it
    // did the first time instead of filing it again.
    {
        use diesel::prelude::*;
        use gorod::db::schema::deliveries;
        let mut conn = app.conn();
        let changed = diesel::update(deliveries::table.filter(deliveries::report_id.eq(&id)))
            .set((
                deliveries::status.eq("pending"),
                deliveries::next_attempt_at.eq(chrono::Utc::now().naive_utc()),
            ))
            .execute(&mut *conn)
            .unwrap();
        assert_eq!(changed, 1);
    }
    until(
        Duration::from_secs(20),
        "the delivery sent again",
        || async {
            let (_, sent) = get_as(
                &app,
                ADMIN,
                &format!("/api/v1/admin/deliveries?status=sent&report={id}"),
            )
            .await;
            (sent[0]["attempts"] == 2).then_some(())
        },
    )
    .await;
    let (_, all) = back_office_get(&office, ADMIN, "/open311/v2/requests.json").await;
    assert_eq!(all.as_array().unwrap().len(), 1, "filed once: {all}");
    assert_eq!(
        external_id(&app, &id, Duration::from_secs(1)).await,
        external
    );
    answer_there(&office, &external, "Асфальт переложили.").await;

    let (status, key) = app
        .post_as(
            ADMIN,
            "/api/v1/admin/api-keys",
            &json!({"name": "roads back office", "kind": "back_office", "department": "roads"})
                .to_string(),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let key = key["key"].as_str().unwrap().to_string();
    // The back office's photo of its work: a picture served over HTTP (here
    // the city's own copy of the report's photo).
    let (_, report) = get_as(&app, ADMIN, &format!("/api/v1/reports/{id}")).await;
    let served = report["photos"][0]["url"].as_str().unwrap();
    let photo_url = app.url(&served[served.find("/media/").unwrap()..]);
    let push = |key: String, external: String, status: &'static str| {
        let app = &app;
        let photo_url = photo_url.clone();
        async move {
            let form = [
                ("api_key", key),
                ("service_request_id", external),
                ("update_id", "upd-1".to_string()),
                ("updated_datetime", "2026-03-02T12:00:00+03:00".to_string()),
                ("status", status.to_string()),
                ("description", "Асфальт переложили.".to_string()),
                ("media_url", photo_url),
            ];
            post_form(app, "/open311/v2/servicerequestupdates.json", &form).await
        }
    };
    // Another department's key, and the city's Open311 key, may not.
    let (status, body) = push("demo-open311-key".into(), external.clone(), "closed").await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = push(key.clone(), "999999".into(), "closed").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(status_of(&app, &id).await, "assigned");

    let (status, body) = push(key.clone(), external.clone(), "closed").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["update_id"], "upd-1");
    assert_eq!(status_of(&app, &id).await, "resolved");
    // The same update again changes nothing.
    let (status, body) = push(key.clone(), external.clone(), "closed").await;
    assert_eq!(status, 200, "{body}");
    let (_, report) = get_as(&app, ADMIN, &format!("/api/v1/reports/{id}")).await;
    let answers = report["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "answered")
        .count();
    assert_eq!(answers, 1, "{report}");
    // The back office's photo came with its answer, stored as the city's own.
    let answered = report["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "answered")
        .unwrap();
    let with_answer: Vec<&Value> = report["photos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["event_id"] == answered["id"])
        .collect();
    assert_eq!(with_answer.len(), 1, "{report}");
    let (_, said) = get_as(&app, ADMIN, &format!("/api/v1/reports/{id}/back-office")).await;
    assert_eq!(said["updates"][0]["outcome"], "applied", "{said}");
    // An update the rules refuse (an answer to an answered report) is
    // recorded with the reason and changes nothing.
    let again = [
        ("api_key", key.clone()),
        ("service_request_id", external.clone()),
        ("update_id", "upd-2".to_string()),
        ("status", "closed".to_string()),
        ("description", "Ещё раз".to_string()),
    ];
    let again: Vec<(&str, String)> = again.into_iter().collect();
    let (status, body) = post_form(&app, "/open311/v2/servicerequestupdates.json", &again).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body[0]["description"].as_str().unwrap().contains("refused"),
        "{body}"
    );
    let (_, said) = get_as(&app, ADMIN, &format!("/api/v1/reports/{id}/back-office")).await;
    assert_eq!(said["updates"][1]["outcome"], "refused", "{said}");
    assert!(said["updates"][1]["reason"].as_str().is_some(), "{said}");
    // Staff see it on the report's page; the public does not.
    let number = report["number"].as_i64().unwrap();
    let page = |token: Option<&'static str>| {
        let app = &app;
        async move {
            let mut request = app
                .client
                .get(app.url(&format!("/reports/{number}?lang=en")));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send().await.unwrap().text().await.unwrap()
        }
    };
    let staff = page(Some("demo-token-supervisor.roads")).await;
    assert!(
        staff.contains("The department&#39;s system") || staff.contains("The department's system"),
        "{staff}"
    );
    assert!(staff.contains(&external), "{staff}");
    assert!(staff.contains("refused by the rules"), "{staff}");
    assert!(
        staff.contains("The department answered from its own system"),
        "{staff}"
    );
    let public = page(None).await;
    assert!(!public.contains("refused by the rules"), "{public}");
    assert_eq!(said["updates"][0]["source"], "push", "{said}");
    assert!(
        subjects_to(&app, "anna.petrova@example.ru").await.len() >= 2,
        "the resident hears of the answer"
    );
    let (_, verified) = get_as(&app, ADMIN, "/api/v1/ledger/verify").await;
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(
        verified["entries"], 1,
        "the answer is in the ledger: {verified}"
    );
}

/// The Standard Webhooks reference library, as `scripts/test` installs it.
fn webhook_checker() -> String {
    let checker = std::env::var("GOROD_TEST_WEBHOOK_CHECKER").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/tools/webhooks/bin/python"
        )
        .to_string()
    });
    assert!(
        std::path::Path::new(&checker).exists(),
        "no webhook checker at {checker}: scripts/test installs it"
    );
    checker
}

/// A webhook receiver that verifies each delivery with the library and
/// writes a line per delivery to `log`.
struct Receiver {
    child: std::process::Child,
}

impl Receiver {
    fn start(port: u16, secret: &str, log: &std::path::Path) -> Receiver {
        let child = std::process::Command::new(webhook_checker())
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/webhook_receiver.py"
            ))
            .arg(port.to_string())
            .arg(secret)
            .arg(log)
            .spawn()
            .expect("the receiver starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "receiver never listened"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Receiver { child }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn received(log: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn webhooks_are_signed_and_each_event_arrives_once_after_the_receiver_was_down() {
    let app = city().await;
    resident_tokens(&app, 1..=1);
    let port = free_port();
    let (status, hook) = app
        .post_as(
            ADMIN,
            "/api/v1/admin/webhooks",
            &json!({
                "url": format!("http://127.0.0.1:{port}/hooks"),
                "events": ["filed", "moved", "answered", "confirmed"],
                "department": "roads",
            })
            .to_string(),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    // Unknown events and filters are named.
    let (status, body) = app
        .post_as(
            ADMIN,
            "/api/v1/admin/webhooks",
            &json!({"url": "http://127.0.0.1:1/", "events": ["exploded"]}).to_string(),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "events", "{body}");

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("received.jsonl");
    let receiver = Receiver::start(port, &secret, &log);
    let mut report = valid_report();
    report.as_object_mut().unwrap().remove("reporter");
    let (status, filed) = app
        .post_as(
            "demo-token-resident1",
            "/api/v1/reports",
            &report.to_string(),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    until(Duration::from_secs(20), "the filing delivered", || async {
        (!received(&log).is_empty()).then_some(())
    })
    .await;

    // The receiver goes down for a minute; the city goes on.
    drop(receiver);
    let (status, body) = app
        .act(
            "demo-token-supervisor.roads",
            &id,
            &json!({"action": "accept"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .act(
            "demo-token-crew1.roads",
            &id,
            &json!({"action": "answer", "answer": "Заделали."}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The secret rotates meanwhile: deliveries carry both signatures.
    let (status, rotated) = app
        .post_as(
            ADMIN,
            &format!(
                "/api/v1/admin/webhooks/{}/rotate",
                hook["id"].as_str().unwrap()
            ),
            "",
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    tokio::time::sleep(Duration::from_secs(60)).await;
    // Meanwhile the operators' metrics show the deliveries waiting.
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let waiting = metrics
        .lines()
        .find_map(|l| l.strip_prefix("gorod_deliveries_pending "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no deliveries gauge in {metrics}"));
    assert!(waiting >= 2.0, "{waiting}");
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    let _receiver = Receiver::start(port, &new_secret, &log);
    let (status, body) = app
        .post_as(
            "demo-token-resident1",
            &format!("/api/v1/reports/{id}/check?lang=en"),
            &json!({"fixed": true}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let events = until(Duration::from_secs(30), "every event", || async {
        let got = received(&log);
        (got.len() >= 4).then_some(got)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let events_now = received(&log);
    assert_eq!(
        events_now.len(),
        events.len(),
        "nothing arrives twice: {events_now:?}"
    );
    for event in &events_now {
        assert_eq!(event["verified"], true, "{event}");
        assert_eq!(event["report_id"], id.as_str(), "{event}");
    }
    // Retried deliveries may arrive in either order; each event once.
    let mut types: Vec<&str> = events_now
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    types.sort_unstable();
    assert_eq!(
        types,
        [
            "report.answered",
            "report.confirmed",
            "report.filed",
            "report.moved"
        ]
    );
    let ids: std::collections::HashSet<&str> = events_now
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4);
    let (_, dead) = get_as(&app, ADMIN, "/api/v1/admin/deliveries?status=dead").await;
    assert_eq!(dead, json!([]));
}

/// The text of the last message to `email`.
fn last_mail_to(app: &TestApp, email: &str) -> (String, String) {
    let kept = app.mailbox.as_ref().expect("the memory transport");
    let kept = kept.lock().unwrap();
    let raw = &kept
        .iter()
        .rev()
        .find(|k| k.to.eq_ignore_ascii_case(email))
        .expect("a message")
        .raw;
    let message = mail_parser::MessageParser::default().parse(raw).unwrap();
    (
        message.subject().unwrap_or_default().to_string(),
        message.body_text(0).unwrap().to_string(),
    )
}

async fn office_post(app: &TestApp, link: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = app.client.post(link).form(form).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_mail_only_department_answers_pauses_and_returns_through_its_emailed_link() {
    let app = city().await;
    const DESK: &str = "roads-desk@demo.gorod.local";
    let (status, body) = put(
        &app,
        "/api/v1/admin/departments/roads/endpoint",
        json!({"url": format!("mailto:{DESK}"), "api_key": ""}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pull"], "none");
    let (status, body) = put(
        &app,
        "/api/v1/admin/departments/roads/endpoint",
        json!({"url": "mailto:not an address", "api_key": ""}),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("url")),
        "{body}"
    );

    let (id, number) = file_and_accept(&app, "Яма во дворе у подъезда 3.").await;
    let link = emailed_link(&app, DESK, "/api/v1/office/").await;
    let (subject, text) = last_mail_to(&app, DESK);
    assert!(subject.contains(&number.to_string()), "{subject}");
    for expected in [
        "Яма во дворе у подъезда 3.",
        "ул. Тверская, 12",
        "Больше метра",
        "/media/",
        "55.770000, 37.605000",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    // Opening the link shows the report and changes nothing.
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Яма во дворе у подъезда 3."), "{page}");
    assert_eq!(status_of(&app, &id).await, "assigned");
    // A forged link is refused.
    let forged = link.replace("/office/", "/office/x");
    let (status, _) = office_post(
        &app,
        &forged,
        &[("action", "answer"), ("text", "x"), ("update_id", "f")],
    )
    .await;
    assert_eq!(status, 400);

    let answer = [
        ("action", "answer"),
        ("text", "Яму заделали холодным асфальтом."),
        ("update_id", "form-1"),
    ];
    let (status, page) = office_post(&app, &link, &answer).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(status_of(&app, &id).await, "resolved");
    // The same form sent again moves nothing.
    let (status, page) = office_post(&app, &link, &answer).await;
    assert_eq!(status, 200, "{page}");
    let (_, report) = get_as(&app, ADMIN, &format!("/api/v1/reports/{id}")).await;
    let answered: Vec<&Value> = report["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "answered")
        .collect();
    assert_eq!(answered.len(), 1, "{report}");
    assert_eq!(answered[0]["note"], "Яму заделали холодным асфальтом.");
    assert!(subjects_to(&app, "anna.petrova@example.ru").await.len() >= 2);
    let (_, verified) = get_as(&app, ADMIN, "/api/v1/ledger/verify").await;
    assert_eq!(verified["intact"], true, "{verified}");
    // Answered, it is out of the department's hands: the link says so.
    let (status, page) = office_post(
        &app,
        &link,
        &[
            ("action", "return"),
            ("text", "не наше"),
            ("update_id", "form-2"),
        ],
    )
    .await;
    assert_eq!(status, 409, "{page}");

    // Another report: a pause needs a date; then it pauses.
    let (second, _) = file_and_accept(&app, "Провал асфальта у школы.").await;
    let first = link.clone();
    let link = until(Duration::from_secs(10), "the second mail", || async {
        let link = emailed_link(&app, DESK, "/api/v1/office/").await;
        (link != first).then_some(link)
    })
    .await;
    let (status, page) = office_post(
        &app,
        &link,
        &[
            ("action", "pause"),
            ("reason", "procurement"),
            ("resume_on", "весной"),
            ("update_id", "p-1"),
        ],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("resume_on") || page.contains("не дата"),
        "{page}"
    );
    assert_eq!(status_of(&app, &second).await, "assigned");
    let (status, page) = office_post(
        &app,
        &link,
        &[
            ("action", "pause"),
            ("reason", "procurement"),
            ("resume_on", "2026-03-20"),
            ("update_id", "p-2"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(status_of(&app, &second).await, "paused");
}

#[tokio::test]
async fn photos_sent_as_addresses_are_kept_as_links_and_bad_ones_are_named() {
    let app = city().await;
    let post = |media: &'static str| {
        let app = &app;
        async move {
            let form = [
                ("api_key", "demo-open311-key"),
                ("service_code", "pothole"),
                ("lat", "55.7700"),
                ("long", "37.6050"),
                ("description", "Яма, фото по ссылке"),
                ("attribute[size]", "small"),
                ("media_url", media),
            ];
            let form: Vec<(&str, String)> = form.iter().map(|(k, v)| (*k, v.to_string())).collect();
            post_form(app, "/open311/v2/requests.json?lang=en", &form).await
        }
    };
    let (status, body) = post("javascript:alert(1)").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body[0]["description"]
            .as_str()
            .unwrap()
            .contains("media_url"),
        "{body}"
    );
    let (status, body) = post("https://city.example/media/abc.jpg").await;
    assert_eq!(status, 200, "{body}");
    let number = body[0]["service_request_id"].as_str().unwrap().to_string();
    let (status, request) = app
        .get_json(&format!(
            "/open311/v2/requests/{number}.json?extensions=true"
        ))
        .await;
    assert_eq!(status, 200, "{request}");
    assert_eq!(
        request[0]["media_url"],
        "https://city.example/media/abc.jpg"
    );
    assert_eq!(
        request[0]["extended_attributes"]["photos"][0]["media_url"],
        "https://city.example/media/abc.jpg"
    );
}

#[tokio::test]
async fn updates_are_read_from_the_feed_and_a_report_reassigned_away_is_withdrawn() {
    let app = city().await;
    let office = BackOffice {
        db: TestDatabase::new(),
        port: free_port(),
    };
    let _running = office.start();
    let (status, body) = put(
        &app,
        "/api/v1/admin/departments/roads/endpoint",
        json!({
            "url": office.url("/open311/v2"),
            "api_key": "demo-open311-key",
            "services": {"pothole": "pothole"},
            "statuses": {"in_progress": "take", "fixed": "answer"},
            "pull": "updates",
            "withdraw": true,
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Taken and answered there: both moves come back from the feed, in order.
    let (id, _) = file_and_accept(&app, "Яма на парковке у поликлиники.").await;
    let number = external_id(&app, &id, Duration::from_secs(30)).await;
    let there = office_report_id(&office, &number).await;
    let (status, body) = back_office_act(
        &office,
        "demo-token-supervisor.roads",
        &there,
        json!({"action": "accept"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = back_office_act(
        &office,
        "demo-token-crew1.roads",
        &there,
        json!({"action": "take"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = back_office_act(
        &office,
        "demo-token-crew1.roads",
        &there,
        json!({"action": "answer", "answer": "Яму засыпали щебнем и заасфальтировали."}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    until(Duration::from_secs(20), "the feed read", || async {
        (status_of(&app, &id).await == "resolved").then_some(())
    })
    .await;
    let (_, report) = get_as(&app, ADMIN, &format!("/api/v1/reports/{id}")).await;
    let kinds: Vec<&str> = report["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    let taken = kinds.iter().position(|k| *k == "taken").expect("taken");
    let answered = kinds
        .iter()
        .position(|k| *k == "answered")
        .expect("answered");
    assert!(taken < answered, "{kinds:?}");

    // Reassigned to a department without a system: the endpoint is told.
    let (second, _) = file_and_accept(&app, "Выбоина у светофора.").await;
    external_id(&app, &second, Duration::from_secs(30)).await;
    let (status, body) = app
        .act(
            "demo-token-supervisor.roads",
            &second,
            &json!({"action": "assign", "department": "lighting", "reason": "не наше"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let said = until(Duration::from_secs(20), "the withdrawal", || async {
        let (_, said) = get_as(
            &app,
            ADMIN,
            &format!("/api/v1/reports/{second}/back-office"),
        )
        .await;
        (said["handover"]["state"] == "withdrawn").then_some(said)
    })
    .await;
    let note = said["handover"]["note"].as_str().unwrap();
    assert!(
        note.contains("told through servicerequestupdates"),
        "{note}"
    );
    let withdrawals = until(Duration::from_secs(20), "the withdrawal sent", || async {
        let mut found = Vec::new();
        for state in ["sent", "dead"] {
            let (_, list) = get_as(
                &app,
                ADMIN,
                &format!("/api/v1/admin/deliveries?status={state}&report={second}"),
            )
            .await;
            found.extend(
                list.as_array()
                    .unwrap()
                    .iter()
                    .filter(|d| d["kind"] == "withdraw")
                    .cloned(),
            );
        }
        (!found.is_empty()).then_some(found)
    })
    .await;
    // The back office here is another Gorod, which takes updates only from
    // its own back offices: it refuses, and the refusal is kept.
    assert_eq!(withdrawals.len(), 1, "{withdrawals:?}");
    assert!(
        withdrawals[0]["last_error"].as_str().is_some(),
        "{withdrawals:?}"
    );
}

#[tokio::test]
async fn a_categorys_back_office_wins_over_its_departments() {
    let app = city().await;
    for (path, mailbox) in [
        (
            "/api/v1/admin/departments/roads/endpoint",
            "roads-desk@demo.gorod.local",
        ),
        (
            "/api/v1/admin/categories/pothole/endpoint",
            "potholes@contractor.example",
        ),
    ] {
        let (status, body) = put(&app, path, json!({"url": format!("mailto:{mailbox}")})).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = put(
        &app,
        "/api/v1/admin/categories/no-such-thing/endpoint",
        json!({"url": "mailto:x@example.org"}),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("category")),
        "{body}"
    );
    let (status, body) = put(
        &app,
        "/api/v1/admin/departments/roads/endpoint",
        json!({"url": "https://works.example/open311/v2", "api_key": "k", "statuses": {"closed": "close"}}),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("statuses.closed")),
        "{body}"
    );

    let (id, _) = file_and_accept(&app, "Яма у въезда в гараж.").await;
    emailed_link(&app, "potholes@contractor.example", "/api/v1/office/").await;
    let (_, said) = get_as(&app, ADMIN, &format!("/api/v1/reports/{id}/back-office")).await;
    assert!(
        said["handover"]["note"]
            .as_str()
            .unwrap()
            .contains("potholes@contractor.example"),
        "{said}"
    );
    let kept = app.mailbox.as_ref().unwrap().lock().unwrap();
    assert!(
        !kept.iter().any(|k| k.to == "roads-desk@demo.gorod.local"),
        "the department's desk got nothing"
    );
}
