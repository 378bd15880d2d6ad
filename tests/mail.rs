//! Email through the outbox, against a real SMTP server process (aiosmtpd):
//! who gets what, in which language, with which headers and links; and the
//! faults — the server down for a minute, a 5xx, a 4xx, a server that never
//! answers.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::smtp::{Received, SmtpServer};
use diesel::prelude::*;
use gorod::config::Settings;
use gorod::db::schema::{outbox, users};
use gorod::db::DbConnection;
use serde_json::{json, Value};

/// Settings that send through `server`, retrying quickly.
fn through(server: &SmtpServer) -> impl FnOnce(&mut Settings) + '_ {
    move |settings: &mut Settings| {
        settings.mail.transport = "smtp".into();
        settings.mail.smtp.port = server.port;
        settings.mail.smtp.timeout_secs = 2;
        settings.mail.lease_secs = 20;
        settings.mail.backoff_base_secs = 1;
        settings.mail.backoff_max_secs = 4;
        settings.mail.max_attempts = 1000;
        settings.mail.poll_ms = 50;
    }
}

async fn file_for(app: &common::TestApp, email: &str) -> (String, i64, String) {
    let mut body = common::valid_report();
    body["reporter"] = json!({"email": email, "name": "Анна Петрова"});
    let (status, filed) = app.post_json("/api/v1/reports", &body).await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    let number = filed["number"].as_i64().unwrap();
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let department = report["department"]["code"].as_str().unwrap().to_string();
    (id, number, department)
}

async fn act(app: &common::TestApp, token: &str, id: &str, body: Value) {
    let (status, answer) = app.act(token, id, &body).await;
    assert_eq!(status, 200, "{body} → {answer}");
}

/// Moves a report of `dept` through `actions`: the supervisor accepts, the
/// first crew member does the rest.
async fn moves(app: &common::TestApp, id: &str, dept: &str, actions: &[Value]) {
    for action in actions {
        let who = if action["action"] == "accept" {
            format!("demo-token-supervisor.{dept}")
        } else {
            format!("demo-token-crew1.{dept}")
        };
        act(app, &who, id, action.clone()).await;
    }
}

/// The outbox's rows by status.
fn outbox_rows(app: &common::TestApp) -> Vec<(String, String, i32, Option<String>, String)> {
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    outbox::table
        .select((
            outbox::message_id,
            outbox::status,
            outbox::attempts,
            outbox::last_error,
            outbox::recipient,
        ))
        .load(conn)
        .unwrap()
}

/// Waits (up to `limit`) until nothing in the outbox is pending.
async fn drained(app: &common::TestApp, limit: Duration) {
    let started = Instant::now();
    loop {
        let pending = outbox_rows(app)
            .iter()
            .filter(|(_, status, ..)| status == "pending")
            .count();
        if pending == 0 {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "{pending} messages still pending after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn to<'a>(received: &'a [Received], email: &str) -> Vec<&'a Received> {
    received
        .iter()
        .filter(|r| r.to.iter().any(|t| t.eq_ignore_ascii_case(email)))
        .collect()
}

/// What the memory transport kept.
fn kept(app: &common::TestApp) -> Vec<Received> {
    let kept = app.mailbox.as_ref().expect("the memory transport");
    let kept = kept.lock().unwrap();
    kept.iter()
        .map(|k| Received {
            to: vec![k.to.clone()],
            raw: k.raw.clone(),
        })
        .collect()
}

/// The subjects, sorted.
fn subjects(received: &[&Received]) -> Vec<String> {
    sorted(received.iter().map(|r| r.subject()))
}

fn sorted(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut items: Vec<String> = items.into_iter().collect();
    items.sort();
    items
}

#[tokio::test]
async fn a_report_moved_through_its_workflow_mails_reporter_follower_crew_and_supervisor_in_their_language(
) {
    let server = SmtpServer::start();
    let app = common::spawn_app_with(through(&server)).await;
    let (id, number, dept) = file_for(&app, "anna.petrova@example.ru").await;
    // A follower whose account is in English.
    let (status, _) = app
        .post_json(
            &format!("/api/v1/reports/{id}/support"),
            &json!({"email": "boris@example.ru"}),
        )
        .await;
    assert_eq!(status, 201);
    {
        let mut pooled = app.conn();
        let conn: &mut DbConnection = &mut pooled;
        diesel::update(users::table.filter(users::email.eq("boris@example.ru")))
            .set(users::locale.eq("en"))
            .execute(conn)
            .unwrap();
    }
    let supervisor = format!("supervisor.{dept}@demo.gorod.local");
    let crew = format!("crew1.{dept}@demo.gorod.local");
    let pause = json!({"action": "pause", "pause_reason": "third_party",
        "resume_on": "2026-03-06", "reason": "Ждём подрядчика"});
    let steps = [
        json!({"action": "accept"}),
        json!({"action": "take"}),
        pause,
    ];
    moves(&app, &id, &dept, &steps).await;
    drained(&app, Duration::from_secs(20)).await;
    let received = server.received();

    // Messages due together are sent over several connections at once, so
    // they arrive in no particular order.
    let anna = to(&received, "anna.petrova@example.ru");
    assert_eq!(
        subjects(&anna),
        sorted([
            format!("Обращение № {number}: в работе"),
            format!("Обращение № {number}: приостановлено"),
            format!("Обращение № {number}: принято к рассмотрению"),
            format!("Обращение № {number}: прошло модерацию"),
        ])
    );
    let boris = to(&received, "boris@example.ru");
    assert_eq!(
        subjects(&boris),
        sorted([
            format!("Report No. {number}: accepted"),
            format!("Report No. {number}: in progress"),
            format!("Report No. {number}: paused"),
        ])
    );
    assert_eq!(
        subjects(&to(&received, &crew)),
        [format!("Обращение № {number}: в работе")]
    );
    assert_eq!(
        subjects(&to(&received, &supervisor)),
        [format!("Обращение № {number}: приостановлено")]
    );

    // The receipt: number, link, deadline, the pause's reason, unsubscribe
    // links in both parts and in the headers; the Message-ID the outbox keeps.
    let by_subject = |subject: &str| {
        *anna
            .iter()
            .find(|r| r.subject().ends_with(subject))
            .expect("the message")
    };
    let receipt = by_subject("принято к рассмотрению");
    let link = format!("{}/reports/{number}", app.address);
    assert!(receipt.text().contains(&link), "{}", receipt.text());
    assert!(receipt.html().contains(&link));
    assert!(
        receipt.text().contains("Срок модерации: "),
        "{}",
        receipt.text()
    );
    let paused = by_subject("приостановлено");
    assert!(
        paused.text().contains("Ждём подрядчика"),
        "{}",
        paused.text()
    );
    let unsubscribe = receipt
        .header("List-Unsubscribe")
        .expect("List-Unsubscribe");
    assert_eq!(
        receipt.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let unsubscribe = unsubscribe
        .trim_matches(|c| c == '<' || c == '>')
        .to_string();
    assert!(unsubscribe.starts_with(&format!("{}/api/v1/unsubscribe/", app.address)));
    assert!(receipt.text().contains(&unsubscribe));
    let sent_ids: HashSet<String> = outbox_rows(&app).into_iter().map(|r| r.0).collect();
    for message in &received {
        assert!(
            sent_ids.contains(&message.message_id()),
            "{}",
            message.message_id()
        );
    }

    // Boris leaves this report (twice: the second time changes nothing);
    // Anna leaves everything; the next change reaches neither.
    let boris_link = boris[0]
        .header("List-Unsubscribe")
        .unwrap()
        .trim_matches(|c| c == '<' || c == '>')
        .to_string();
    // Opening the link (as a mail scanner would) only shows the button.
    for _ in 0..2 {
        let page = app.client.get(&boris_link).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(
            page.contains("<button type=\"submit\">Unsubscribe</button>")
                && !page.contains("Отписаться"),
            "{page}"
        );
    }
    assert_eq!(
        app.count_rows("mail_opt_outs"),
        0,
        "a GET unsubscribes nobody"
    );
    for _ in 0..2 {
        let page = app
            .client
            .post(&boris_link)
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("no more email about this report"));
    }
    let everything = receipt
        .text()
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .rfind(|url| url.contains("/api/v1/unsubscribe/"))
        .expect("the link for everything")
        .to_string();
    assert_ne!(everything, unsubscribe);
    let one_click = app.client.post(&everything).send().await.unwrap();
    assert_eq!(one_click.status(), 200);
    assert_eq!(app.count_rows("mail_opt_outs"), 2);
    let (signed, query) = everything.split_once('?').unwrap();
    let forged = format!("{}x?{query}", &signed[..signed.len() - 1]);
    let refused = app.client.get(&forged).send().await.unwrap();
    assert_eq!(refused.status(), 400);

    moves(&app, &id, &dept, &[json!({"action": "resume"})]).await;
    drained(&app, Duration::from_secs(20)).await;
    let after = server.received();
    assert_eq!(to(&after, "anna.petrova@example.ru").len(), 4);
    assert_eq!(to(&after, "boris@example.ru").len(), 3);
}

#[tokio::test]
async fn the_server_down_for_a_minute_during_500_status_changes_loses_nothing_and_sends_nothing_twice(
) {
    let mut server = SmtpServer::start();
    let app = common::spawn_app_with(through(&server)).await;
    server.stop();
    let down = Instant::now();
    let mut changes = 0;
    for n in 0..100 {
        let (id, _, dept) = file_for(&app, &format!("resident{n}@example.ru")).await;
        let steps = [
            json!({"action": "accept"}),
            json!({"action": "take"}),
            json!({"action": "pause", "pause_reason": "procurement", "resume_on": "2026-03-20"}),
            json!({"action": "resume"}),
            json!({"action": "answer", "answer": "Сделано"}),
        ];
        moves(&app, &id, &dept, &steps).await;
        changes += steps.len();
    }
    assert_eq!(changes, 500);
    let queued = outbox_rows(&app);
    assert!(
        queued.iter().all(|(_, status, ..)| status == "pending"),
        "nothing is sent while the server is down"
    );
    tokio::time::sleep(Duration::from_secs(60).saturating_sub(down.elapsed())).await;
    server.restart();
    drained(&app, Duration::from_secs(60)).await;

    let rows = outbox_rows(&app);
    assert!(rows.len() >= changes, "{} messages", rows.len());
    assert!(rows.iter().all(|(_, status, ..)| status == "sent"));
    assert!(
        rows.iter().any(|(_, _, attempts, ..)| *attempts > 1),
        "some were retried"
    );
    let received = server.received();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for message in &received {
        *seen.entry(message.message_id()).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    let expected: HashSet<String> = rows.into_iter().map(|r| r.0).collect();
    let arrived: HashSet<String> = seen.into_keys().collect();
    assert_eq!(arrived, expected);
}

#[tokio::test]
async fn a_5xx_reply_dead_letters_after_one_attempt_and_an_admin_can_requeue_it() {
    let server = SmtpServer::start();
    let app = common::spawn_app_with(through(&server)).await;
    file_for(&app, "bounce-nobody@example.ru").await;
    drained(&app, Duration::from_secs(20)).await;
    let rows = outbox_rows(&app);
    let (_, status, attempts, error, _) = &rows[0];
    assert_eq!((status.as_str(), *attempts), ("dead", 1));
    assert!(
        error.as_deref().unwrap_or_default().contains("550"),
        "{error:?}"
    );
    assert!(server.received().is_empty());

    let listed = app
        .client
        .get(app.url("/api/v1/admin/outbox"))
        .bearer_auth("demo-token-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["recipient"], "bounce-nobody@example.ru");
    assert!(listed[0]["last_error"].as_str().unwrap().contains("550"));
    let id = listed[0]["id"].as_str().unwrap();
    for limit in ["0", "1001", "many"] {
        let refused = app
            .client
            .get(app.url(&format!("/api/v1/admin/outbox?limit={limit}&lang=en")))
            .bearer_auth("demo-token-admin")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "limit={limit}");
        let refused: Value = refused.json().await.unwrap();
        assert_eq!(refused["field"], "limit", "{refused}");
    }

    let (status, body) = app
        .post_as(
            "demo-token-admin",
            &format!("/api/v1/admin/outbox/{id}/requeue"),
            "",
        )
        .await;
    assert_eq!((status, body["status"].clone()), (200, json!("pending")));
    drained(&app, Duration::from_secs(20)).await;
    assert_eq!(outbox_rows(&app)[0].1, "dead", "bounced again");
    let (status, _) = app
        .post_as("demo-token-admin", "/api/v1/admin/outbox/nope/requeue", "")
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post_as(
            "demo-token-crew1.roads",
            &format!("/api/v1/admin/outbox/{id}/requeue"),
            "",
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_4xx_reply_is_retried_and_delivered() {
    let server = SmtpServer::start();
    let app = common::spawn_app_with(through(&server)).await;
    file_for(&app, "later-anna@example.ru").await;
    drained(&app, Duration::from_secs(20)).await;
    let rows = outbox_rows(&app);
    let (_, status, attempts, error, _) = &rows[0];
    assert_eq!((status.as_str(), *attempts), ("sent", 2));
    assert_eq!(error, &None);
    assert_eq!(to(&server.received(), "later-anna@example.ru").len(), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_without_holding_up_other_messages() {
    let server = SmtpServer::start_with(1);
    let app = common::spawn_app_with(through(&server)).await;
    for n in 0..8 {
        file_for(&app, &format!("r{n}@example.ru")).await;
    }
    drained(&app, Duration::from_secs(30)).await;
    let rows = outbox_rows(&app);
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|(_, status, ..)| status == "sent"));
    // One message met the silent connection: it timed out and went again;
    // every other one went at the first attempt.
    let mut attempts: Vec<i32> = rows.iter().map(|r| r.2).collect();
    attempts.sort();
    assert_eq!(attempts, [1, 1, 1, 1, 1, 1, 1, 2]);
    assert_eq!(server.received().len(), 8);
}

#[tokio::test]
async fn with_the_default_file_transport_messages_are_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().join("mail");
    let wanted = mail_dir.clone();
    let app = common::spawn_app_with(move |settings| {
        settings.mail.transport = "file".into();
        settings.mail.dir = wanted;
    })
    .await;
    let (_, number, _) = file_for(&app, "anna.petrova@example.ru").await;
    drained(&app, Duration::from_secs(20)).await;
    let files: Vec<_> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    let message = Received { to: vec![], raw };
    assert_eq!(
        message.subject(),
        format!("Обращение № {number}: принято к рассмотрению")
    );
    assert_eq!(message.message_id(), outbox_rows(&app)[0].0);
}

#[tokio::test]
async fn reporters_are_reminded_once_before_the_check_window_closes_and_supervisors_get_one_digest_a_day(
) {
    let app = common::spawn_app().await;
    let (id, number, dept) = file_for(&app, "anna.petrova@example.ru").await;
    let steps = [
        json!({"action": "accept"}),
        json!({"action": "take"}),
        json!({"action": "answer", "answer": "Сделано"}),
    ];
    moves(&app, &id, &dept, &steps).await;
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let check_due = chrono::NaiveDateTime::parse_from_str(
        report["deadline"]["deadline"]
            .as_str()
            .expect("a check deadline"),
        "%Y-%m-%dT%H:%M:%SZ",
    )
    .unwrap();
    let scan = || async {
        let (status, body) = app
            .post_as("demo-token-admin", "/api/v1/admin/sla/scan", "")
            .await;
        assert_eq!(status, 200, "{body}");
        body["reminders"].as_i64().unwrap()
    };
    app.clock.set(check_due - chrono::TimeDelta::hours(72));
    assert_eq!(scan().await, 0, "not yet");
    app.clock.set(check_due - chrono::TimeDelta::hours(47));
    assert_eq!(scan().await, 1);
    assert_eq!(scan().await, 0, "once");

    let (status, digest) = app
        .post_as("demo-token-admin", "/api/v1/admin/mail/digest", "")
        .await;
    assert_eq!(status, 200, "{digest}");
    assert!(digest["queued"].as_i64().unwrap() > 0);
    let (_, again) = app
        .post_as("demo-token-admin", "/api/v1/admin/mail/digest", "")
        .await;
    assert_eq!(again["queued"], 0, "one a day");

    drained(&app, Duration::from_secs(20)).await;
    let kept = kept(&app);
    let reminders: Vec<_> = to(&kept, "anna.petrova@example.ru")
        .into_iter()
        .filter(|r| r.subject() == format!("Обращение № {number}: подтвердите решение"))
        .collect();
    assert_eq!(reminders.len(), 1);
    let digests = kept
        .iter()
        .filter(|r| r.to[0].starts_with("supervisor."))
        .filter(|r| r.subject() == "Сводка по срокам")
        .count();
    assert_eq!(
        i64::try_from(digests).unwrap(),
        digest["queued"].as_i64().unwrap()
    );
}

/// The labels of the date a Russian message shows.
const DATE_LABELS: [&str; 6] = [
    "Срок",
    "Срок модерации",
    "Срок ответа",
    "Срок устранения",
    "Подтвердить или опровергнуть ответ можно до",
    "Работа возобновится",
];

/// The line of a message's text that gives its date, if any.
fn date_line(message: &Received) -> Option<String> {
    message
        .text()
        .lines()
        .find(|l| {
            l.split_once(": ")
                .is_some_and(|(label, _)| DATE_LABELS.contains(&label))
        })
        .map(str::to_string)
}

#[tokio::test]
async fn each_email_shows_the_date_that_matters_at_its_step() {
    let app = common::spawn_app().await;
    let anna = "anna.petrova@example.ru";
    let (id, number, dept) = file_for(&app, anna).await;
    let (rejected_id, rejected_number, _) = file_for(&app, anna).await;
    let local = |stored: &Value| {
        let utc = chrono::NaiveDateTime::parse_from_str(
            stored.as_str().expect("a time"),
            "%Y-%m-%dT%H:%M:%SZ",
        )
        .unwrap();
        let local = utc.and_utc().with_timezone(&chrono_tz::Europe::Moscow);
        gorod::locale::Locale::Ru.date_time(local.naive_local())
    };
    let (_, filed) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let moderation_due = local(&filed["deadline"]["deadline"]);
    let pause = json!({"action": "pause", "pause_reason": "third_party",
        "resume_on": "2026-03-06"});
    moves(&app, &id, &dept, &[json!({"action": "accept"})]).await;
    let (_, accepted) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let answer_due = local(&accepted["deadline"]["deadline"]);
    moves(&app, &id, &dept, &[json!({"action": "take"})]).await;
    let (_, taken) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    // The stage a taken report works towards: the fix where the category
    // has a fix target, else still the answer.
    let taken_due = format!(
        "{}: {}",
        match taken["deadline"]["stage"].as_str() {
            Some("fix") => "Срок устранения",
            _ => "Срок ответа",
        },
        local(&taken["deadline"]["deadline"])
    );
    let steps = [
        pause,
        json!({"action": "resume"}),
        json!({"action": "answer", "answer": "Яма заделана"}),
    ];
    moves(&app, &id, &dept, &steps).await;
    let (_, answered) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let check_until = local(&answered["deadline"]["deadline"]);
    act(
        &app,
        &format!("demo-token-supervisor.{dept}"),
        &rejected_id,
        json!({"action": "reject", "reason": "Не относится к городскому хозяйству"}),
    )
    .await;
    app.clock.advance(chrono::TimeDelta::days(16));
    let (status, scan) = app
        .post_as("demo-token-admin", "/api/v1/admin/sla/scan", "")
        .await;
    assert_eq!(status, 200, "{scan}");
    drained(&app, Duration::from_secs(20)).await;

    let kept = kept(&app);
    let mail = to(&kept, anna);
    let about = |n: i64, subject: &str| {
        let subject = format!("Обращение № {n}: {subject}");
        *mail
            .iter()
            .find(|r| r.subject() == subject)
            .unwrap_or_else(|| panic!("no “{subject}” in {:?}", subjects(&mail)))
    };
    let deadline = |n: i64, subject: &str| date_line(about(n, subject));
    assert_eq!(
        deadline(number, "принято к рассмотрению"),
        Some(format!("Срок модерации: {moderation_due}"))
    );
    assert_eq!(
        deadline(number, "прошло модерацию"),
        Some(format!("Срок ответа: {answer_due}"))
    );
    assert_eq!(deadline(number, "в работе"), Some(taken_due.clone()));
    let resumed = deadline(number, "работа возобновлена").expect("a deadline");
    assert_eq!(resumed.split(':').next(), taken_due.split(':').next());
    assert_eq!(
        deadline(number, "приостановлено"),
        Some("Работа возобновится: 6 марта 2026".into())
    );
    assert_eq!(
        deadline(number, "получен ответ"),
        Some(format!(
            "Подтвердить или опровергнуть ответ можно до: {check_until}"
        ))
    );
    assert_eq!(deadline(rejected_number, "отклонено"), None);
    assert_eq!(deadline(number, "решение подтверждено автоматически"), None);
}

#[tokio::test]
async fn a_new_residents_receipt_is_in_the_language_the_report_was_filed_in() {
    let app = common::spawn_app().await;
    let file = |email: &str, locale: Option<&str>, accept: Option<&str>| {
        let mut body = common::valid_report();
        body["reporter"] = json!({"email": email});
        if let Some(locale) = locale {
            body["reporter"]["locale"] = json!(locale);
        }
        let mut request = app.client.post(app.url("/api/v1/reports")).json(&body);
        if let Some(accept) = accept {
            request = request.header("Accept-Language", accept);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body)
        }
    };
    let (status, chosen) = file("jane@example.com", Some("en"), Some("ru")).await;
    assert_eq!(status, 201, "{chosen}");
    let (status, by_header) = file("john@example.com", None, Some("de, en-GB;q=0.8")).await;
    assert_eq!(status, 201, "{by_header}");
    let (status, default) = file("olga@example.ru", None, None).await;
    assert_eq!(status, 201, "{default}");
    // An account keeps its language whatever a later report says.
    let (status, later) = file("jane@example.com", Some("ru"), None).await;
    assert_eq!(status, 201, "{later}");
    let reports = app.count_rows("reports");
    let (status, wrong) = file("ivan@example.ru", Some("de"), None).await;
    assert_eq!(status, 400, "{wrong}");
    assert_eq!(wrong["field"], "reporter.locale", "{wrong}");
    assert_eq!(app.count_rows("reports"), reports, "nothing written");
    // Open311 has no language field: the header decides.
    let form = [
        ("api_key", "demo-open311-key"),
        ("service_code", "graffiti"),
        ("lat", "55.7701"),
        ("long", "37.6051"),
        ("description", "Tags on the wall"),
        ("email", "mary@example.com"),
    ];
    let response = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .header("Accept-Language", "en-US,en;q=0.9")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let open311: Value = response.json().await.unwrap();
    let open311_number: i64 = open311[0]["service_request_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    drained(&app, Duration::from_secs(20)).await;
    let kept = kept(&app);
    let subject_to = |email: &str, number: &Value| {
        let number = number.as_i64().unwrap_or_else(|| panic!("{number}"));
        let found: Vec<String> = to(&kept, email)
            .iter()
            .map(|r| r.subject())
            .filter(|s| s.contains(&format!(" {number}:")))
            .collect();
        assert_eq!(found.len(), 1, "{email}: {found:?}");
        found[0].clone()
    };
    let n = |filed: &Value| filed["number"].clone();
    assert_eq!(
        subject_to("jane@example.com", &n(&chosen)),
        format!("Report No. {}: received", n(&chosen))
    );
    assert_eq!(
        subject_to("john@example.com", &n(&by_header)),
        format!("Report No. {}: received", n(&by_header))
    );
    assert_eq!(
        subject_to("olga@example.ru", &n(&default)),
        format!("Обращение № {}: принято к рассмотрению", n(&default))
    );
    assert_eq!(
        subject_to("jane@example.com", &n(&later)),
        format!("Report No. {}: received", n(&later))
    );
    assert_eq!(
        subject_to("mary@example.com", &json!(open311_number)),
        format!("Report No. {open311_number}: received")
    );
}

#[tokio::test]
async fn two_instances_on_one_database_share_the_outbox_and_send_each_message_once() {
    let server = SmtpServer::start_slow(10);
    let instance = |name: &'static str| {
        let through = through(&server);
        move |settings: &mut Settings| {
            through(settings);
            settings.mail.from = format!("Gorod <{name}@gorod.test>");
            settings.mail.batch = 8;
        }
    };
    let one = common::spawn_app_with(instance("one")).await;
    let two = common::spawn_app_on(one.db.shared(), instance("two")).await;
    // Filed and moved on both instances while both dispatchers run.
    for n in 0..40 {
        let app = if n % 2 == 0 { &one } else { &two };
        let (id, _, dept) = file_for(app, &format!("resident{n}@example.ru")).await;
        let steps = [json!({"action": "accept"}), json!({"action": "take"})];
        moves(app, &id, &dept, &steps).await;
    }
    drained(&one, Duration::from_secs(60)).await;

    let rows = outbox_rows(&one);
    assert!(rows.len() >= 120, "{} messages", rows.len());
    assert!(rows
        .iter()
        .all(|(_, status, attempts, ..)| status == "sent" && *attempts == 1));
    let received = server.received();
    let mut sent_by: HashMap<String, usize> = HashMap::new();
    let mut seen = HashSet::new();
    for message in &received {
        assert!(
            seen.insert(message.message_id()),
            "sent twice: {}",
            message.message_id()
        );
        let from = message.header("From").unwrap_or_default();
        *sent_by.entry(from).or_default() += 1;
    }
    let expected: HashSet<String> = rows.into_iter().map(|r| r.0).collect();
    assert_eq!(seen, expected);
    assert_eq!(sent_by.len(), 2, "both instances sent: {sent_by:?}");
}

#[tokio::test]
async fn a_lapsed_lease_makes_a_message_due_again_and_a_released_one_costs_no_attempt() {
    use gorod::db::outbox::{self, Outcome};
    // No dispatcher in this instance: the test takes the messages itself.
    let app = common::spawn_app_with(|settings| settings.mail.poll_ms = 0).await;
    file_for(&app, "anna.petrova@example.ru").await;
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    let now = chrono::Utc::now().naive_utc();
    let at = |secs: i64| now + chrono::TimeDelta::seconds(secs);
    let taken = outbox::lease(conn, at(0), at(20), 10).unwrap();
    assert_eq!(taken.len(), 1);
    assert!(
        outbox::lease(conn, at(10), at(30), 10).unwrap().is_empty(),
        "held while its lease runs"
    );
    // The instance that took it died: after the lease it is due again,
    // the same message.
    let again = outbox::lease(conn, at(21), at(41), 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message_id, taken[0].message_id);
    outbox::record(conn, &[(again[0].id.clone(), Outcome::Released)], at(22)).unwrap();
    let released = outbox::lease(conn, at(22), at(42), 10).unwrap();
    assert_eq!(released.len(), 1, "released: due at once");
    assert_eq!(released[0].attempts, 0, "no attempt counted");
    outbox::record(conn, &[(released[0].id.clone(), Outcome::Sent)], at(23)).unwrap();
    assert!(outbox::lease(conn, at(100), at(120), 10)
        .unwrap()
        .is_empty());
    let rows = outbox_rows(&app);
    assert_eq!((rows[0].1.as_str(), rows[0].2), ("sent", 1));
}
