//! The workflow over HTTP: staff move reports with their tokens, within
//! their scope; deadlines are counted on the production calendar; the SLA
//! scanner records warnings, the breach and escalations once each.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use chrono::NaiveDateTime;
use serde_json::{json, Value};

fn utc(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

/// Files a pothole in Tverskoy at the clock's time; its id and department.
async fn file(app: &common::TestApp) -> (String, String) {
    let (status, filed) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let department = report["department"]["code"].as_str().unwrap().to_string();
    (id, department)
}

async fn act(app: &common::TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    app.act(token, id, &body).await
}

async fn report(app: &common::TestApp, id: &str) -> Value {
    app.get_json(&format!("/api/v1/reports/{id}")).await.1
}

async fn scan(app: &common::TestApp) -> Value {
    let (status, body) = app
        .post_as("demo-token-admin", "/api/v1/admin/sla/scan", "")
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn kinds(report: &Value) -> Vec<String> {
    report["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Events of the report by kind, straight from the database (public or not).
fn events(app: &common::TestApp, id: &str, kind: &str) -> Vec<String> {
    use diesel::prelude::*;
    use gorod::db::schema::report_events;
    let mut conn = app.conn();
    report_events::table
        .filter(report_events::report_id.eq(id))
        .filter(report_events::kind.eq(kind))
        .order(report_events::created_at)
        .select(report_events::note)
        .load::<Option<String>>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|n| n.unwrap_or_default())
        .collect()
}

/// The report as staff read it.
async fn staff_report(app: &common::TestApp, id: &str) -> Value {
    app.client
        .get(app.url(&format!("/api/v1/reports/{id}")))
        .bearer_auth("demo-token-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The history lines of `kind` as staff read them in English.
async fn told(app: &common::TestApp, id: &str, kind: &str) -> Vec<String> {
    staff_report(app, id).await["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .map(|e| e["text"]["en"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_report_filed_friday_afternoon_before_a_holiday_gets_the_documented_deadlines() {
    let app = common::spawn_app().await;
    // Friday 20 February 2026, 17:00 in Moscow; Monday 23 February is a holiday.
    app.clock.set(utc("2026-02-20 14:00"));
    let (id, _) = file(&app).await;
    let r = report(&app, &id).await;
    assert_eq!(
        r["moderation_due_at"], "2026-02-24T15:00:00Z",
        "Tuesday 18:00 MSK"
    );
    assert_eq!(
        r["answer_due_at"], "2026-03-05T15:00:00Z",
        "Thursday 5 March 18:00 MSK"
    );
    assert_eq!(r["deadline"]["stage"], "moderation");
    assert_eq!(
        r["deadline"]["target"],
        json!({"unit": "working_days", "value": 1})
    );
    assert_eq!(r["deadline"]["days_left"], 1);
    assert_eq!(r["deadline"]["breached"], false);
    // Open311 gives the answer deadline in the city's time.
    let number = r["number"].as_i64().unwrap();
    let (_, o311) = app
        .get_json(&format!("/open311/v2/requests/{number}.json"))
        .await;
    assert_eq!(o311[0]["expected_datetime"], "2026-03-05T18:00:00+03:00");
}

#[tokio::test]
async fn staff_move_a_report_from_moderation_to_an_answer_with_a_pause_that_moves_the_deadline() {
    let app = common::spawn_app().await;
    app.clock.set(utc("2026-02-20 14:00"));
    let (id, dept) = file(&app).await;
    let supervisor = format!("demo-token-supervisor.{dept}");
    let crew = format!("demo-token-crew1.{dept}");

    // Crew cannot moderate; the supervisor accepts.
    let (status, body) = act(&app, &crew, &id, json!({"action": "accept"})).await;
    assert_eq!(status, 403, "{body}");
    app.clock.set(utc("2026-02-24 07:00"));
    let (status, body) = act(&app, &supervisor, &id, json!({"action": "accept"})).await;
    assert_eq!(
        (status, body["status"].clone()),
        (200, json!("assigned")),
        "{body}"
    );
    let (status, body) = act(&app, &crew, &id, json!({"action": "take"})).await;
    assert_eq!(
        (status, body["status"].clone()),
        (200, json!("in_progress")),
        "{body}"
    );

    // Paused Wednesday 25 February 12:00 MSK until Friday 27 February 12:00:
    // 18 working hours, so the answer deadline moves from 5 to 10 March.
    app.clock.set(utc("2026-02-25 09:00"));
    let pause = json!({"action": "pause", "pause_reason": "third_party",
        "resume_on": "2026-02-27", "reason": "Ждём подрядчика по газу"});
    let (status, body) = act(&app, &crew, &id, pause).await;
    assert_eq!(
        (status, body["status"].clone()),
        (200, json!("paused")),
        "{body}"
    );
    let r = report(&app, &id).await;
    assert_eq!(r["deadline"]["paused"], true);
    assert_eq!(r["deadline"]["deadline"], Value::Null);
    assert_eq!(r["pauses"][0]["reason"], "third_party");
    assert_eq!(r["pauses"][0]["resume_on"], "2026-02-27");
    app.clock.set(utc("2026-02-27 09:00"));
    let (status, body) = act(&app, &crew, &id, json!({"action": "resume"})).await;
    assert_eq!(
        (status, body["status"].clone()),
        (200, json!("in_progress")),
        "{body}"
    );
    let r = report(&app, &id).await;
    assert_eq!(r["answer_due_at"], "2026-03-10T15:00:00Z");
    assert_eq!(r["deadline"]["stage"], "answer");
    assert_eq!(r["deadline"]["deadline"], "2026-03-10T15:00:00Z");

    // The answer needs its text; then the resident check begins.
    let (status, body) = act(&app, &crew, &id, json!({"action": "answer"})).await;
    assert_eq!(
        (status, body["field"].clone()),
        (400, json!("answer")),
        "{body}"
    );
    let answer = json!({"action": "answer", "answer": "Яма заделана горячим асфальтом"});
    let (status, body) = act(&app, &crew, &id, answer).await;
    assert_eq!(
        (status, body["status"].clone()),
        (200, json!("resolved")),
        "{body}"
    );
    let r = report(&app, &id).await;
    assert_eq!(r["deadline"]["stage"], "resident_check");
    assert_eq!(
        kinds(&r),
        ["filed", "accepted", "taken", "paused", "resumed", "answered"]
    );
    // Notifications wait in the outbox for the reporter (a resident) at each change.
    assert!(app.count_rows("outbox") >= 5);
}

#[tokio::test]
async fn another_departments_crew_gets_403_and_bad_moves_change_nothing() {
    let app = common::spawn_app().await;
    let (id, dept) = file(&app).await;
    let other = if dept == "waste" { "parks" } else { "waste" };
    let before = report(&app, &id).await;
    for (token, action) in [
        (format!("demo-token-crew1.{other}"), "take"),
        (format!("demo-token-supervisor.{other}"), "accept"),
    ] {
        let (status, body) = act(&app, &token, &id, json!({"action": action})).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["message"], "you may not act on this report");
        assert!(
            !body.to_string().contains(&dept),
            "the refusal names no department"
        );
    }
    let supervisor = format!("demo-token-supervisor.{dept}");
    let cases = [
        (json!({"action": "approve"}), 400, "action"),
        (json!({"action": "reject"}), 400, "reason"),
        (json!({"action": "accept", "colour": "red"}), 400, "colour"),
        (
            json!({"action": "pause", "pause_reason": "holidays", "resume_on": "2026-04-01"}),
            400,
            "pause_reason",
        ),
        (
            json!({"action": "assign", "department": "nowhere"}),
            400,
            "department",
        ),
    ];
    for (body, status, field) in cases {
        let (got, answer) = act(&app, &supervisor, &id, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer.to_string().contains(field), "{body}: {answer}");
    }
    let (status, body) = act(&app, &supervisor, &id, json!({"action": "take"})).await;
    assert_eq!(status, 409, "taking a report still in moderation: {body}");
    let (status, _) = act(&app, "no-such-token", &id, json!({"action": "accept"})).await;
    assert_eq!(status, 401);
    let (status, _) = act(
        &app,
        &supervisor,
        "00000000-0000-0000-0000-000000000000",
        json!({"action": "accept"}),
    )
    .await;
    assert_eq!(status, 404);
    let after = report(&app, &id).await;
    assert_eq!(before, after, "nothing changed");
    assert_eq!(app.count_rows("report_events"), 1);
}

#[tokio::test]
async fn warnings_then_the_breach_then_escalations_are_recorded_once_each() {
    let app = common::spawn_app().await;
    app.clock.set(utc("2026-02-20 14:00"));
    let (id, dept) = file(&app).await;
    let supervisor = format!("demo-token-supervisor.{dept}");
    app.clock.set(utc("2026-02-24 07:00"));
    act(&app, &supervisor, &id, json!({"action": "accept"})).await;
    // The answer budget is 73 working hours from Friday 17:00 MSK.
    // 70 % = 51.1 h: 1 h on Friday, 9 h on 24–27 February and 2 March,
    // then 5.1 h on Tuesday 3 March: 14:06 MSK.
    app.clock.set(utc("2026-03-03 11:00"));
    assert_eq!(scan(&app).await["marks"], 0, "not yet");
    app.clock.set(utc("2026-03-03 11:10"));
    assert_eq!(scan(&app).await["marks"], 1);
    assert_eq!(
        told(&app, &id, "sla_warning").await,
        ["70% of the answer time used"]
    );
    assert_eq!(scan(&app).await["marks"], 0, "a second pass adds nothing");
    // Past the deadline (5 March 18:00 MSK): the 90 % warning, the breach
    // and level 1 together.
    app.clock.set(utc("2026-03-06 06:00"));
    assert_eq!(scan(&app).await["marks"], 3);
    assert_eq!(events(&app, &id, "sla_warning").len(), 2);
    assert_eq!(events(&app, &id, "sla_breached").len(), 1);
    assert_eq!(
        told(&app, &id, "sla_breached").await,
        ["The answer deadline passed: 5 March 2026, 18:00"]
    );
    let escalations = told(&app, &id, "escalated").await;
    assert_eq!(escalations.len(), 1);
    assert!(
        escalations[0].contains("the department's supervisors were told"),
        "{escalations:?}"
    );
    let r = report(&app, &id).await;
    assert_eq!(r["deadline"]["breached"], true);
    // Escalation levels are the city's own business.
    assert_eq!(r["deadline"]["escalation_level"], Value::Null);
    assert_eq!(
        staff_report(&app, &id).await["deadline"]["escalation_level"],
        1
    );
    assert!(
        kinds(&r).contains(&"sla_breached".to_string()),
        "the breach is public"
    );
    // 150 % of the budget: level 2, the city's supervisors.
    app.clock.set(utc("2026-03-20 06:00"));
    assert_eq!(scan(&app).await["marks"], 1);
    let escalations = told(&app, &id, "escalated").await;
    assert!(
        escalations[1].contains("the city's supervisors were told"),
        "{escalations:?}"
    );
    assert_eq!(scan(&app).await["marks"], 0);
    // The supervisors were told (their messages wait in the outbox).
    use diesel::prelude::*;
    use gorod::db::schema::outbox;
    let mut conn = app.conn();
    let to_city: i64 = outbox::table
        .filter(outbox::recipient.eq("supervisor.city@demo.gorod.local"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(to_city, 1);
}

async fn admin_put(app: &common::TestApp, path: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .put(app.url(path))
        .bearer_auth("demo-token-admin")
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn changing_a_policy_or_the_calendar_recounts_the_deadlines_of_open_reports() {
    let app = common::spawn_app().await;
    app.clock.set(utc("2026-02-20 14:00"));
    let (id, _) = file(&app).await;
    assert_eq!(
        report(&app, &id).await["answer_due_at"],
        "2026-03-05T15:00:00Z"
    );
    let policy = |answer: u32, warn: Vec<u32>| {
        json!({"moderation": {"unit": "working_days", "value": 1},
               "answer": {"unit": "working_days", "value": answer}, "fix": null,
               "resident_check_days": 15, "warn_percents": warn, "escalation_percents": [100, 150]})
    };
    // Ten working days: two more, past the 9 March day off.
    let (status, body) = admin_put(
        &app,
        "/api/v1/admin/sla-policies/standard",
        policy(10, vec![70, 90]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["reports_recounted"].as_u64().unwrap() >= 1);
    assert_eq!(
        report(&app, &id).await["answer_due_at"],
        "2026-03-10T15:00:00Z"
    );
    // A new holiday on Friday 6 March moves it one more working day.
    let day = "/api/v1/admin/calendars/ru-moscow/days/2026-03-06";
    let (status, body) = admin_put(
        &app,
        day,
        json!({"kind": "holiday", "note": "Городской праздник"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        report(&app, &id).await["answer_due_at"],
        "2026-03-11T15:00:00Z"
    );
    let response = app
        .client
        .delete(app.url(day))
        .bearer_auth("demo-token-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        report(&app, &id).await["answer_due_at"],
        "2026-03-10T15:00:00Z"
    );
    // Bad input names the field and changes nothing.
    let (status, body) = admin_put(
        &app,
        "/api/v1/admin/sla-policies/standard",
        policy(8, vec![120]),
    )
    .await;
    assert_eq!(
        (status, body["field"].clone()),
        (400, json!("warn_percents")),
        "{body}"
    );
    let mut bad_unit = policy(8, vec![70]);
    bad_unit["answer"]["unit"] = json!("fortnights");
    let (status, body) = admin_put(&app, "/api/v1/admin/sla-policies/standard", bad_unit).await;
    assert_eq!(
        (status, body["field"].clone()),
        (400, json!("answer")),
        "{body}"
    );
    let (status, body) = admin_put(&app, day, json!({"kind": "festival"})).await;
    assert_eq!(
        (status, body["field"].clone()),
        (400, json!("kind")),
        "{body}"
    );
    // An unknown code would create a policy, which needs a name first.
    let (status, body) = admin_put(
        &app,
        "/api/v1/admin/sla-policies/nonexistent",
        policy(8, vec![70]),
    )
    .await;
    assert_eq!(
        (status, body["field"].clone()),
        (400, json!("name")),
        "{body}"
    );
    assert_eq!(
        report(&app, &id).await["answer_due_at"],
        "2026-03-10T15:00:00Z"
    );
    let (status, _) = app
        .post_as("demo-token-crew1.roads", "/api/v1/admin/sla/scan", "")
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_supervisor_escalates_a_report_one_level_up_and_the_supervisors_above_hear_of_it() {
    let app = common::spawn_app().await;
    let (id, department) = file(&app).await;
    assert_eq!(department, "roads");
    // Crew may not escalate; a reason is required.
    let (status, body) = act(
        &app,
        "demo-token-crew1.roads",
        &id,
        json!({"action": "escalate", "reason": "no asphalt"}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = act(
        &app,
        "demo-token-supervisor.roads",
        &id,
        json!({"action": "escalate"}),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("reason")),
        "{body}"
    );
    let (status, moved) = act(
        &app,
        "demo-token-supervisor.roads",
        &id,
        json!({"action": "escalate", "reason": "the contractor has no asphalt until spring"}),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(
        (moved["from"].as_str(), moved["status"].as_str()),
        (Some("moderation"), Some("moderation"))
    );
    let after = report(&app, &id).await;
    assert_eq!(
        staff_report(&app, &id).await["deadline"]["escalation_level"],
        1
    );
    // Internal: not in the public history, but recorded with its reason.
    assert!(!kinds(&after).contains(&"escalated_by_supervisor".to_string()));
    assert_eq!(
        events(&app, &id, "escalated_by_supervisor"),
        vec!["the contractor has no asphalt until spring".to_string()]
    );
    // Roads sits under the city department: its supervisors are told.
    use diesel::prelude::*;
    use gorod::db::schema::outbox;
    let mut conn = app.conn();
    let told: Vec<String> = outbox::table
        .filter(outbox::template.eq("escalated_by_supervisor"))
        .select(outbox::recipient)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(told, vec!["supervisor.city@demo.gorod.local".to_string()]);
}
