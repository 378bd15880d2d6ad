//! The resident check and the resolution ledger, end to end on both
//! backends: confirming and refuting through the API and the emailed link,
//! followers' answers, the refutation limit and the check window, the
//! ledger's entries, checkpoints, proofs and verification (by the service,
//! the `gorod` command and the standard-library Python verifier), tampering
//! done directly in the database, and concurrent appends.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

#[path = "../common/mod.rs"]
mod common;
mod tampering;
mod witnessing;

use std::time::{Duration, Instant};

use diesel::prelude::*;
use gorod::clock::Clock;
use gorod::db::schema::ledger_entries;
use gorod::db::DbConnection;
use serde_json::{json, Value};

const ANNA: &str = "anna.petrova@example.ru";
const BORIS: &str = "boris.ivanov@example.ru";

/// Files a pothole as Anna; its id, number and department.
async fn file(app: &common::TestApp) -> (String, i64, String) {
    let (status, filed) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    let report = report(app, &id).await;
    let dept = report["department"]["code"].as_str().unwrap().to_string();
    (id, filed["number"].as_i64().unwrap(), dept)
}

async fn report(app: &common::TestApp, id: &str) -> Value {
    let (status, body) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn act(app: &common::TestApp, who: &str, id: &str, body: Value) -> (u16, Value) {
    app.act(who, id, &body).await
}

async fn ok(app: &common::TestApp, who: &str, id: &str, body: Value) {
    let (status, answer) = act(app, who, id, body.clone()).await;
    assert_eq!(status, 200, "{body} → {answer}");
}

fn crew(dept: &str) -> String {
    format!("demo-token-crew1.{dept}")
}

fn supervisor(dept: &str) -> String {
    format!("demo-token-supervisor.{dept}")
}

/// A report filed, accepted, taken and answered.
async fn answered(app: &common::TestApp) -> (String, i64, String) {
    let (id, number, dept) = file(app).await;
    ok(app, &supervisor(&dept), &id, json!({"action": "accept"})).await;
    ok(app, &crew(&dept), &id, json!({"action": "take"})).await;
    ok(
        app,
        &crew(&dept),
        &id,
        json!({"action": "answer", "answer": "Яма заделана"}),
    )
    .await;
    (id, number, dept)
}

/// The plain-text bodies of the messages `email` got so far.
fn mails_to(app: &common::TestApp, email: &str) -> Vec<String> {
    let kept = app.mailbox.as_ref().expect("the memory transport");
    let kept = kept.lock().unwrap();
    kept.iter()
        .filter(|k| k.to.eq_ignore_ascii_case(email))
        .filter_map(|k| {
            let message = mail_parser::MessageParser::default().parse(&k.raw)?;
            Some(message.body_text(0)?.to_string())
        })
        .collect()
}

/// The check link in the `nth` (from 1) answer email to `email` about
/// `number` (without its query: its language and `answer=` choice).
async fn check_link(app: &common::TestApp, email: &str, number: i64, nth: usize) -> String {
    let started = Instant::now();
    loop {
        let link = mails_to(app, email)
            .iter()
            .filter(|text| text.contains(&format!("/reports/{number}")))
            .filter_map(|text| {
                let start = text.find("http")?;
                let line = &text[start..];
                let at = line.find("/api/v1/check/")?;
                let rest = &line[at..];
                let end = rest.find('?')?;
                Some(rest[..end].to_string())
            })
            .nth(nth - 1);
        if let Some(link) = link {
            return link;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no answer email {nth} with a check link to {email}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn token_of(link: &str) -> String {
    link.trim_start_matches("/api/v1/check/").to_string()
}

async fn check(app: &common::TestApp, id: &str, body: Value) -> (u16, Value) {
    app.post_json(&format!("/api/v1/reports/{id}/check?lang=en"), &body)
        .await
}

fn ledger_kinds(report: &Value) -> Vec<String> {
    report["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn sign_checkpoint(app: &common::TestApp) -> Value {
    let (status, body) = app
        .post_as("demo-token-admin", "/api/v1/admin/ledger/checkpoints", "")
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_refuted_answer_reopens_one_level_up_counts_as_disputed_and_the_ledger_shows_it() {
    let app = common::spawn_app().await;
    let (id, number, dept) = answered(&app).await;
    let before = report(&app, &id).await;
    assert_eq!(before["status"], "resolved");
    assert!(before["check"]["window_closes_at"].is_string(), "{before}");
    let link = check_link(&app, ANNA, number, 1).await;

    // Refuting needs a reason, and says which field lacks it.
    let (status, error) = check(&app, &id, json!({"token": token_of(&link), "fixed": false})).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (400, Some("reason")),
        "{error}"
    );

    // Two days later Anna refutes it, with a photo of the hole.
    app.clock.advance(chrono::TimeDelta::days(2));
    let mut photo = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        16,
        16,
        image::Rgb([90, 90, 90]),
    ))
    .write_to(&mut photo, image::ImageFormat::Jpeg)
    .unwrap();
    let form = reqwest::multipart::Form::new()
        .text(
            "check",
            json!({"token": token_of(&link), "fixed": false, "reason": "Яма на месте, стало хуже"})
                .to_string(),
        )
        .part(
            "photos",
            reqwest::multipart::Part::bytes(photo.into_inner())
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let response = app
        .client
        .post(app.url(&format!("/api/v1/reports/{id}/check")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let checked: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{checked}");
    assert_eq!(checked["counted_as"], "reporter");
    assert_eq!(checked["status"], "reopened");

    let after = report(&app, &id).await;
    assert_eq!(after["status"], "reopened");
    // The escalation level is for staff: the public sees none.
    assert!(after["deadline"]["escalation_level"].is_null(), "{after}");
    let staff: Value = app
        .client
        .get(app.url(&format!("/api/v1/reports/{id}")))
        .bearer_auth(supervisor(&dept))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(staff["deadline"]["escalation_level"], 1, "{staff}");
    assert_eq!(after["deadline"]["cycle"], 1);
    assert!(
        after["answer_due_at"].as_str() > before["answer_due_at"].as_str(),
        "a new deadline: {} after {}",
        after["answer_due_at"],
        before["answer_due_at"]
    );
    assert_eq!(after["check"]["refutations"], 1);
    assert_eq!(ledger_kinds(&after), ["resolved", "refuted", "reopened"]);
    let ledger = after["ledger"].as_array().unwrap();
    // Digests, not text; a pseudonym, not the resident.
    assert_eq!(
        ledger[0]["answer_digest"],
        gorod::ledger::digest("Яма заделана".as_bytes())
    );
    assert!(ledger[0]["actor"].as_str().unwrap().starts_with("staff:"));
    let resident = ledger[1]["actor"].as_str().unwrap();
    assert!(resident.starts_with("resident:"), "{resident}");
    assert!(!ledger.iter().any(|e| e.to_string().contains("anna")));
    assert_eq!(ledger[2]["actor"], "system");
    // The refutation's photo is in the ledger by the digest it is served under.
    let photo = ledger[1]["photo_digests"][0].as_str().unwrap();
    let served = app.get(&format!("/media/{photo}.jpg")).await;
    assert_eq!(served.status().as_u16(), 200);
    assert_eq!(gorod::ledger::digest(&served.bytes().await.unwrap()), photo);

    // The department's statistics count it as disputed.
    let (status, stats) = app
        .client
        .get(app.url("/api/v1/supervisor/stats"))
        .bearer_auth(supervisor(&dept))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 200);
    let stats: Value = stats.json().await.unwrap();
    assert_eq!(
        stats["by_department"][&dept]["disputed_percent"], 100.0,
        "{stats}"
    );

    // The link was for the answer just refuted: it does nothing more.
    let (status, error) = check(&app, &id, json!({"token": token_of(&link), "fixed": true})).await;
    assert_eq!(status, 409, "{error}");
}

#[tokio::test]
async fn the_emailed_link_opens_a_form_that_confirms_and_followers_are_counted_apart() {
    let app = common::spawn_app().await;
    let (id, number, dept) = file(&app).await;
    // Boris says "me too" and follows the report.
    let (status, joined) = app
        .post_json(
            &format!("/api/v1/reports/{id}/support"),
            &json!({"email": BORIS, "name": "Борис"}),
        )
        .await;
    assert_eq!(status, 201, "{joined}");
    ok(&app, &supervisor(&dept), &id, json!({"action": "accept"})).await;
    ok(&app, &crew(&dept), &id, json!({"action": "take"})).await;
    ok(
        &app,
        &crew(&dept),
        &id,
        json!({"action": "answer", "answer": "Сделано"}),
    )
    .await;

    // Boris's own link: his answer is counted, the report does not move.
    let boris = check_link(&app, BORIS, number, 1).await;
    let response = app
        .client
        .post(app.url(&boris))
        .form(&[("answer", "not_fixed"), ("reason", "Не сделано")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.text().await.unwrap().contains("учтён"));
    let counted = report(&app, &id).await;
    assert_eq!(counted["status"], "resolved");
    assert_eq!(counted["check"]["followers_not_fixed"], 1);
    assert_eq!(counted["check"]["followers_fixed"], 0);
    // He changes his mind: still one answer of his.
    let (status, view) = check(&app, &id, json!({"token": token_of(&boris), "fixed": true})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (
            view["counted_as"].as_str(),
            view["followers_fixed"].as_i64(),
            view["followers_not_fixed"].as_i64()
        ),
        (Some("follower"), Some(1), Some(0))
    );

    // Anna's link opens a form; following it changes nothing.
    let anna = check_link(&app, ANNA, number, 1).await;
    let page = app.get(&format!("{anna}?answer=fixed")).await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\""), "{html}");
    assert!(html.contains(&format!("№ {number}")));
    assert_eq!(report(&app, &id).await["status"], "resolved");
    // Posting the form confirms the fix.
    let response = app
        .client
        .post(app.url(&anna))
        .multipart(reqwest::multipart::Form::new().text("answer", "fixed"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let confirmed = report(&app, &id).await;
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(ledger_kinds(&confirmed), ["resolved", "confirmed"]);

    // A forged token, and someone who neither filed nor follows.
    let (status, error) = check(&app, &id, json!({"token": "bm9wZQ.bm9wZQ", "fixed": true})).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("token")));
    let (status, _) = app
        .post_as(
            "demo-token-crew1.roads",
            &format!("/api/v1/reports/{id}/check"),
            &json!({"fixed": true}).to_string(),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn refutations_stop_at_the_limit_and_the_last_one_hands_the_report_to_a_supervisor() {
    let app = common::spawn_app_with(|s| s.workflow.refutation_limit = 2).await;
    let (id, number, dept) = answered(&app).await;
    for round in 1..=2 {
        let link = check_link(&app, ANNA, number, round).await;
        let (status, body) = check(
            &app,
            &id,
            json!({"token": token_of(&link), "fixed": false, "reason": format!("Не сделано, раз {round}")}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        if round == 1 {
            ok(
                &app,
                &crew(&dept),
                &id,
                json!({"action": "answer", "answer": "Теперь сделано"}),
            )
            .await;
        }
    }
    // Refuted twice, the limit: the crew cannot answer it, a supervisor can.
    let (status, refused) = act(
        &app,
        &crew(&dept),
        &id,
        json!({"action": "answer", "answer": "Сделано"}),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("supervisor"),
        "{refused}"
    );
    ok(
        &app,
        &supervisor(&dept),
        &id,
        json!({"action": "answer", "answer": "Проверено лично"}),
    )
    .await;
    let link = check_link(&app, ANNA, number, 3).await;
    let (status, refused) = check(
        &app,
        &id,
        json!({"token": token_of(&link), "fixed": false, "reason": "Всё равно нет"}),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    let (status, _) = check(&app, &id, json!({"token": token_of(&link), "fixed": true})).await;
    assert_eq!(status, 200);
    let done = report(&app, &id).await;
    assert_eq!(
        ledger_kinds(&done),
        [
            "resolved",
            "refuted",
            "reopened",
            "resolved",
            "refuted",
            "reopened",
            "resolved",
            "confirmed"
        ]
    );
}

#[tokio::test]
async fn the_scanner_confirms_an_answer_nobody_checked_in_time() {
    let app = common::spawn_app().await;
    let (id, number, _) = answered(&app).await;
    let link = check_link(&app, ANNA, number, 1).await;
    app.clock.advance(chrono::TimeDelta::days(16));
    let (status, refused) = check(
        &app,
        &id,
        json!({"token": token_of(&link), "fixed": false, "reason": "Поздно, но нет"}),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("ended"));
    let (status, scan) = app
        .post_as("demo-token-admin", "/api/v1/admin/sla/scan", "")
        .await;
    assert_eq!(status, 200, "{scan}");
    assert_eq!(scan["auto_confirmed"], 1, "{scan}");
    let done = report(&app, &id).await;
    assert_eq!(done["status"], "confirmed");
    assert_eq!(ledger_kinds(&done), ["resolved", "auto_confirmed"]);
    assert_eq!(done["ledger"][1]["actor"], "system");
}

#[tokio::test]
async fn appends_from_two_instances_make_one_gapless_chain() {
    let first = common::spawn_app().await;
    let second = common::spawn_app_on(first.db.shared(), |_| {}).await;
    let mut ids = Vec::new();
    for _ in 0..24 {
        let (id, _, dept) = file(&first).await;
        ok(&first, &supervisor(&dept), &id, json!({"action": "accept"})).await;
        ok(&first, &crew(&dept), &id, json!({"action": "take"})).await;
        ids.push((id, dept));
    }
    let answers = ids.iter().enumerate().map(|(i, (id, dept))| {
        let app = if i % 2 == 0 { &first } else { &second };
        let who = crew(dept);
        async move {
            act(
                app,
                &who,
                id,
                json!({"action": "answer", "answer": format!("Сделано {i}")}),
            )
            .await
        }
    });
    for (status, body) in futures_util::future::join_all(answers).await {
        assert_eq!(status, 200, "{body}");
    }
    let mut conn = first.conn();
    let seqs: Vec<i64> = ledger_entries::table
        .order(ledger_entries::seq)
        .select(ledger_entries::seq)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(seqs, (1..=24).collect::<Vec<i64>>());
    let (status, verified) = second.get_json("/api/v1/ledger/verify").await;
    assert_eq!(
        (status, verified["entries"].as_i64()),
        (200, Some(24)),
        "{verified}"
    );
}

/// Runs `scripts/verify-ledger.py` (off the test's thread, as it may call
/// the app); its exit code, stdout and stderr.
async fn python_verifier(args: Vec<String>) -> (Option<i32>, String, String) {
    tokio::task::spawn_blocking(move || {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/verify-ledger.py");
        let output = std::process::Command::new("python3")
            .arg(script)
            .args(&args)
            .output()
            .expect("python3 runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

async fn text(app: &common::TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_python_verifier_checks_exports_checkpoints_and_proofs_on_its_own() {
    let app = common::spawn_app_with(|s| s.seed.demo_reports = 40).await;
    let first = sign_checkpoint(&app).await;
    let (_, number, _) = answered(&app).await;
    let second = sign_checkpoint(&app).await;
    assert_eq!(
        second["size"].as_i64(),
        first["size"].as_i64().map(|n| n + 1)
    );
    let key: Value = serde_json::from_str(&text(&app, "/api/v1/ledger/key").await).unwrap();
    let key = key["public_key"].as_str().unwrap().to_string();

    let dir = tempfile::tempdir().unwrap();
    let save = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path.display().to_string()
    };
    let export = text(&app, "/api/v1/ledger/export").await;
    assert_eq!(
        export.lines().count() as i64,
        second["size"].as_i64().unwrap()
    );
    let files = [
        ("--export", save("export.jsonl", &export)),
        (
            "--checkpoint",
            save(
                "checkpoint.json",
                &text(&app, "/api/v1/ledger/checkpoints/latest").await,
            ),
        ),
        (
            "--inclusion",
            save(
                "inclusion.json",
                &text(&app, &format!("/api/v1/ledger/inclusion?report={number}")).await,
            ),
        ),
        (
            "--consistency",
            save(
                "consistency.json",
                &text(
                    &app,
                    &format!("/api/v1/ledger/consistency?from={}", first["size"]),
                )
                .await,
            ),
        ),
    ];
    let args = |files: &[(&str, String)]| {
        let mut args = vec!["--public-key".to_string(), key.clone()];
        for (flag, path) in files {
            args.extend([flag.to_string(), path.clone()]);
        }
        args
    };
    let (code, said, complaint) = python_verifier(args(&files)).await;
    assert_eq!(code, Some(0), "{said}{complaint}");
    assert!(
        said.contains("1 entries proved in the signed tree"),
        "{said}"
    );
    assert!(said.contains("ledger verified"), "{said}");

    // An export with one entry edited.
    let mut lines: Vec<Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines[2]["actor"] = json!("system");
    lines[2]["kind"] = json!("closed");
    let tampered: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let (code, _, complaint) = python_verifier(args(&[
        ("--export", save("tampered.jsonl", &tampered)),
        files[1].clone(),
    ]))
    .await;
    assert_eq!(code, Some(1), "{complaint}");
    assert!(complaint.contains("entry 3"), "{complaint}");

    // A proof for another leaf, and a checkpoint with a forged root.
    let mut inclusion: Value =
        serde_json::from_str(&std::fs::read_to_string(&files[2].1).unwrap()).unwrap();
    inclusion["proofs"][0]["entry"]["report_number"] = json!(number + 1000);
    let (code, _, complaint) = python_verifier(args(&[(
        "--inclusion",
        save("bad-inclusion.json", &inclusion.to_string()),
    )]))
    .await;
    assert_eq!(code, Some(1), "{complaint}");
    let mut checkpoint: Value =
        serde_json::from_str(&std::fs::read_to_string(&files[1].1).unwrap()).unwrap();
    checkpoint["root_hash"] = json!("00".repeat(32));
    let (code, _, complaint) = python_verifier(args(&[(
        "--checkpoint",
        save("bad-checkpoint.json", &checkpoint.to_string()),
    )]))
    .await;
    assert_eq!(code, Some(1), "{complaint}");
    assert!(complaint.contains("signature"), "{complaint}");

    // Straight from the running instance.
    let (code, said, complaint) = python_verifier(vec![
        "--url".into(),
        app.address.clone(),
        "--report".into(),
        number.to_string(),
    ])
    .await;
    assert_eq!(code, Some(0), "{said}{complaint}");
}
