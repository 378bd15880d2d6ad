//! The supervisor view on a seeded fixture, checked against a hand count.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use chrono::NaiveDateTime;
use serde_json::{json, Value};

fn utc(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

async fn file_at(app: &common::TestApp, at: &str) -> (String, String) {
    app.clock.set(utc(at));
    let (status, filed) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    (
        id,
        report["department"]["code"].as_str().unwrap().to_string(),
    )
}

async fn act(app: &common::TestApp, token: &str, id: &str, at: &str, body: Value) {
    app.clock.set(utc(at));
    let (status, answer) = app.act(token, id, &body).await;
    assert_eq!(status, 200, "{body}: {answer}");
}

async fn get_as(app: &common::TestApp, token: &str, path: &str) -> (u16, String) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The cells of the public statistics page's total line.
async fn public_total(app: &common::TestApp) -> Vec<String> {
    let page = app.get("/stats").await.text().await.unwrap();
    let total = page.split("<tfoot>").nth(1).expect("the total line");
    total
        .split("<td")
        .skip(1)
        .map(|cell| {
            cell[cell.find('>').unwrap() + 1..]
                .split("</td>")
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn scan(app: &common::TestApp) {
    let (status, body) = app
        .post_as("demo-token-admin", "/api/v1/admin/sla/scan", "")
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_public_statistics_are_the_years_tallies_as_of_the_last_pass() {
    let app = common::spawn_app().await;
    // A report filed long ago (outside the year), two this year.
    let (old, dept) = file_at(&app, "2025-01-15 10:00").await;
    let supervisor = format!("demo-token-supervisor.{dept}");
    let accept = json!({"action": "accept"});
    let answer = json!({"action": "answer", "answer": "Яма заделана"});
    act(&app, &supervisor, &old, "2025-01-15 11:00", accept.clone()).await;
    act(&app, &supervisor, &old, "2025-01-16 10:00", answer.clone()).await;
    let (r1, _) = file_at(&app, "2026-01-20 10:00").await;
    act(&app, &supervisor, &r1, "2026-01-20 11:00", accept.clone()).await;
    let (r2, _) = file_at(&app, "2026-02-24 10:00").await;
    act(&app, &supervisor, &r2, "2026-02-24 11:00", accept.clone()).await;
    app.clock.set(utc("2026-03-02 09:00"));
    // Before the first pass the page works them out (without writing):
    // the year's two, none answered, none yet marked late. The pass
    // records that January's is past its deadline.
    assert_eq!(public_total(&app).await[..3], ["2", "0", "0"]);
    scan(&app).await;
    assert_eq!(public_total(&app).await[..3], ["2", "0", "1"]);
    // Only the year's days are tallied: the report of 2025 is not worked
    // out, though it is in the database.
    let tallied =
        gorod::db::tallies::since(&mut app.conn(), utc("2024-01-01 00:00").date()).unwrap();
    let reports: u64 = tallied.iter().map(|(_, t)| t.reports).sum();
    assert_eq!(reports, 2, "{tallied:?}");

    // A report of January answered, one filed today: the page stays as it
    // was until the scanner's next pass, which takes both in.
    act(&app, &supervisor, &r1, "2026-03-02 10:00", answer.clone()).await;
    let (r3, _) = file_at(&app, "2026-03-02 11:00").await;
    act(&app, &supervisor, &r3, "2026-03-02 12:00", accept.clone()).await;
    assert_eq!(public_total(&app).await[..3], ["2", "0", "1"]);
    scan(&app).await;
    let cells = public_total(&app).await;
    assert_eq!(cells[..3], ["3", "1", "0"], "{cells:?}");
    // 41 days to the answer (984 hours): the median, to the minute.
    assert!(cells.iter().any(|c| c.contains("984")), "{cells:?}");

    // Deadlines pass: the scanner's breach marks make two reports overdue,
    // though nothing else of them changed.
    app.clock.set(utc("2026-03-20 09:00"));
    scan(&app).await;
    let cells = public_total(&app).await;
    assert_eq!(cells[..3], ["3", "1", "2"], "{cells:?}");

    // The same as the per-request aggregates of the year.
    let (_, body) = get_as(
        &app,
        &supervisor,
        "/api/v1/supervisor/stats?from=2025-03-20",
    )
    .await;
    let stats: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            &stats["total"]["reports"],
            &stats["total"]["answered"],
            &stats["total"]["overdue"]
        ),
        (&json!(3), &json!(1), &json!(2)),
        "{stats}"
    );
    let _ = (r2, r3);
}

#[tokio::test]
async fn the_watch_list_and_the_aggregates_match_a_hand_count() {
    let app = common::spawn_app().await;
    // Five potholes; all filed at 17:00 Moscow time.
    let (r1, dept) = file_at(&app, "2026-02-20 14:00").await;
    let (r2, _) = file_at(&app, "2026-02-20 14:00").await;
    let (r3, _) = file_at(&app, "2026-02-20 14:00").await;
    let (r4, _) = file_at(&app, "2026-02-20 14:00").await;
    let (r5, _) = file_at(&app, "2026-02-26 14:00").await;
    let supervisor = format!("demo-token-supervisor.{dept}");
    let crew = format!("demo-token-crew1.{dept}");
    let answer = json!({"action": "answer", "answer": "Яма заделана"});
    for id in [&r1, &r2, &r3, &r4] {
        act(
            &app,
            &supervisor,
            id,
            "2026-02-24 07:00",
            json!({"action": "accept"}),
        )
        .await;
    }
    act(
        &app,
        &supervisor,
        &r5,
        "2026-02-27 07:00",
        json!({"action": "accept"}),
    )
    .await;
    // R1 answered on time after 144 h; R2 late (deadline 5 March 18:00 MSK)
    // after 336 h; R3 on time after 168 h, then refuted by its reporter.
    act(&app, &crew, &r1, "2026-02-26 14:00", answer.clone()).await;
    act(&app, &crew, &r3, "2026-02-27 14:00", answer.clone()).await;
    act(&app, &crew, &r2, "2026-03-06 14:00", answer.clone()).await;
    {
        use gorod::app::moves::{apply, Move};
        use gorod::workflow::{Action, Actor, Command, Role};
        let mut conn = app.conn();
        let snapshot = gorod::db::catalog::load_snapshot(&mut conn).unwrap();
        apply(
            &mut conn,
            &snapshot,
            Move {
                report_id: &r3,
                action: Action::Refute,
                command: Command {
                    reason: Some("Яма на месте".into()),
                    ..Command::default()
                },
                actor: Actor {
                    role: Role::Resident,
                    department: None,
                    is_reporter: true,
                },
                actor_id: None,
                via: None,
                photos: Vec::new(),
                checks: Vec::new(),
                refutation_limit: 3,
                now: utc("2026-03-02 10:00"),
            },
        )
        .unwrap();
    }
    // Tuesday 10 March, 10:00 MSK: R4 is past its deadline; R5 has used
    // 56 of its 73 working hours (77 %): at risk.
    app.clock.set(utc("2026-03-10 07:00"));
    let (status, _) = app
        .post_as("demo-token-admin", "/api/v1/admin/sla/scan", "")
        .await;
    assert_eq!(status, 200);

    let (status, body) = get_as(&app, &supervisor, "/api/v1/supervisor/reports").await;
    assert_eq!(status, 200, "{body}");
    let watch: Value = serde_json::from_str(&body).unwrap();
    let listed: Vec<(&str, &str)> = watch["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["risk"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [(r4.as_str(), "breached"), (r5.as_str(), "at_risk")]
    );
    assert_eq!(
        watch["by_department"][&dept],
        json!({"at_risk": 1, "breached": 1})
    );
    assert_eq!(
        watch["by_category"]["pothole"],
        json!({"at_risk": 1, "breached": 1})
    );
    assert_eq!(
        watch["by_district"]["tverskoy"],
        json!({"at_risk": 1, "breached": 1})
    );
    let (_, only) = get_as(
        &app,
        &supervisor,
        "/api/v1/supervisor/reports?risk=breached",
    )
    .await;
    let only: Value = serde_json::from_str(&only).unwrap();
    assert_eq!(only["reports"].as_array().unwrap().len(), 1);

    // The CSV export has a header and the same two reports.
    let (status, csv) = get_as(&app, &supervisor, "/api/v1/supervisor/reports?format=csv").await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("number,status,risk,stage,category"),
        "{csv}"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].contains(",breached,answer,pothole,"), "{csv}");

    // Aggregates: 5 reports, 3 answered (R1, R2, R3), 2 on time; R4 is
    // open past its deadline, late already: 2 of 4 on time, a small
    // sample. Median 168 h, 1 reopened and disputed.
    let (status, body) = get_as(&app, &supervisor, "/api/v1/supervisor/stats").await;
    assert_eq!(status, 200, "{body}");
    let stats: Value = serde_json::from_str(&body).unwrap();
    let expected = json!({"reports": 5, "answered": 3, "overdue": 1, "sample": 4,
        "on_time_percent": 50.0, "small_sample": true,
        "median_hours_to_answer": 168.0, "reopened_percent": 33.3, "disputed_percent": 33.3,
        "ratings": 0, "average_rating": null});
    assert_eq!(stats["total"], expected);
    assert_eq!(stats["by_department"][&dept], expected);
    assert_eq!(stats["by_category"]["pothole"], expected);
    // As a spreadsheet: the total, the department, the category.
    let (status, csv) = get_as(&app, &supervisor, "/api/v1/supervisor/stats?format=csv").await;
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "group,code,reports,answered,overdue,sample,on_time_percent,small_sample,\
         median_hours_to_answer,reopened_percent,disputed_percent,ratings,average_rating"
    );
    assert_eq!(lines[1], "total,,5,3,1,4,50,true,168,33.3,33.3,0,");
    assert_eq!(
        lines[2],
        format!("department,{dept},5,3,1,4,50,true,168,33.3,33.3,0,")
    );
    assert_eq!(
        lines[3],
        "category,pothole,5,3,1,4,50,true,168,33.3,33.3,0,"
    );
    // The public statistics page says the same, with the small sample marked.
    let cells = public_total(&app).await;
    assert_eq!(cells[..3], ["5", "3", "1"], "{cells:?}");
    assert!(
        cells[3].starts_with("50.0 %<abbr class=\"small-sample\""),
        "{cells:?}"
    );
    // A format it does not offer is refused, naming the field.
    for path in [
        "/api/v1/supervisor/stats?format=xml",
        "/api/v1/supervisor/reports?format=pdf",
    ] {
        let (status, body) = get_as(&app, &supervisor, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("format"), "{body}");
    }

    // Scope: a crew elsewhere sees none of it; a supervisor above sees it all.
    let other = if dept == "waste" { "parks" } else { "waste" };
    let outsider = format!("demo-token-supervisor.{other}");
    let (_, body) = get_as(&app, &outsider, "/api/v1/supervisor/reports").await;
    let theirs: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(theirs["reports"], json!([]));
    let (status, _) = get_as(
        &app,
        &outsider,
        &format!("/api/v1/supervisor/reports?department={dept}"),
    )
    .await;
    assert_eq!(status, 403);
    let (_, body) = get_as(
        &app,
        "demo-token-supervisor.city",
        "/api/v1/supervisor/stats",
    )
    .await;
    let city: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(city["total"]["reports"], 5);
    let (status, body) = get_as(&app, &supervisor, "/api/v1/supervisor/reports?risk=late").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("risk"));
}
