//! What residents add after filing and how they follow reports: updates
//! (published at once or after a moderator, hidden with a reason, told to
//! the department and the other followers, in Open311), following without
//! supporting, unfollowing, and the confirmations that keep anyone from
//! speaking in a stranger's name.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use common::{emailed_link, get_as, jpeg, send_as, subjects_to, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

/// Files a report of `category` as a demo resident (by their token); its
/// id, number and department code.
async fn file_as(app: &TestApp, resident: &str, category: &str) -> (String, i64, String) {
    let mut body = common::report_at(category, 55.7700, 37.6050);
    body.as_object_mut().unwrap().remove("reporter");
    let token = format!("demo-token-{resident}");
    let (status, filed) = app
        .post_as(&token, "/api/v1/reports", &body.to_string())
        .await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let department = report["department"]["code"].as_str().unwrap().to_string();
    (id, filed["number"].as_i64().unwrap(), department)
}

async fn follow(app: &TestApp, resident: &str, id: &str) -> (u16, Value) {
    let token = format!("demo-token-{resident}");
    send_as(
        app,
        Method::POST,
        Some(&token),
        &format!("/api/v1/reports/{id}/follow"),
        &json!({}),
    )
    .await
}

/// Posts an update as a demo resident (or anonymously with an email), with
/// photos as multipart when there are any.
async fn update(
    app: &TestApp,
    who: Result<&str, &str>,
    id: &str,
    text: &str,
    photos: Vec<Vec<u8>>,
) -> (u16, Value) {
    let mut body = json!({ "text": text });
    if let Err(email) = who {
        body["email"] = json!(email);
    }
    let mut form = Form::new().part(
        "update",
        Part::text(body.to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    for (i, bytes) in photos.into_iter().enumerate() {
        form = form.part(
            "photos",
            Part::bytes(bytes)
                .file_name(format!("photo{i}.jpg"))
                .mime_str("image/jpeg")
                .unwrap(),
        );
    }
    let mut request = app
        .client
        .post(app.url(&format!("/api/v1/reports/{id}/updates?lang=en")))
        .multipart(form);
    if let Ok(resident) = who {
        request = request.bearer_auth(format!("demo-token-{resident}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The history entries of kind `update`, as `token` sees them (`None`:
/// the public).
async fn updates_seen(app: &TestApp, token: Option<&str>, id: &str) -> (Vec<Value>, Value) {
    let path = format!("/api/v1/reports/{id}");
    let (status, report) = match token {
        Some(token) => get_as(app, token, &path).await,
        None => app.get_json(&path).await,
    };
    assert_eq!(status, 200, "{report}");
    let updates = report["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "update")
        .cloned()
        .collect();
    (updates, report)
}

fn department_email(app: &TestApp, code: &str) -> String {
    use diesel::prelude::*;
    use gorod::db::schema::departments;
    let mut pooled = app.conn();
    let conn: &mut gorod::db::DbConnection = &mut pooled;
    departments::table
        .filter(departments::code.eq(code))
        .select(departments::email)
        .first::<Option<String>>(conn)
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_follower_adds_an_update_with_a_photo_that_others_hear_of_and_open311_shows() {
    let app = common::spawn_app().await;
    common::resident_tokens(&app, 1..=3);
    let (id, number, dept) = file_as(&app, "resident1", "pothole").await;

    // A stranger may not add to it; following first is how.
    let (status, refused) = update(&app, Ok("resident3"), &id, "Яма стала глубже", vec![]).await;
    assert_eq!(status, 403, "{refused}");
    let (status, followed) = follow(&app, "resident2", &id).await;
    assert_eq!(
        (status, &followed["changed"]),
        (201, &json!(true)),
        "{followed}"
    );
    let (status, again) = follow(&app, "resident2", &id).await;
    assert_eq!((status, &again["changed"]), (200, &json!(false)));
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(report["support_count"], 1, "following is not support");

    // Bad input is refused naming the field, and changes nothing.
    let (status, blank) = update(&app, Ok("resident2"), &id, "   ", vec![]).await;
    assert_eq!(
        (status, blank["field"].as_str()),
        (400, Some("text")),
        "{blank}"
    );

    let (status, added) = update(
        &app,
        Ok("resident2"),
        &id,
        "Яма стала глубже, рядом провал",
        vec![jpeg(64, 48)],
    )
    .await;
    assert_eq!(
        (status, added["state"].as_str()),
        (201, Some("published")),
        "{added}"
    );
    let update_id = added["id"].as_str().unwrap().to_string();
    let (seen, report) = updates_seen(&app, None, &id).await;
    assert_eq!(seen.len(), 1, "{report}");
    assert_eq!(seen[0]["note"], "Яма стала глубже, рядом провал");
    let photo = report["photos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["event_id"] == json!(update_id))
        .expect("the update's photo is public");
    let served = app
        .client
        .get(photo["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.status().as_u16(), 200);

    // The reporter and the department hear of it; its author does not.
    let subject = format!("Обращение № {number}: новость от жителя");
    let told = |subjects: Vec<String>| subjects.iter().filter(|s| **s == subject).count();
    assert_eq!(
        told(subjects_to(&app, "resident1@demo.gorod.local").await),
        1
    );
    assert_eq!(
        told(subjects_to(&app, &department_email(&app, &dept)).await),
        1
    );
    assert_eq!(
        told(subjects_to(&app, "resident2@demo.gorod.local").await),
        0
    );

    // Open311 shows it among the notes and as a service request update.
    let (_, requests) = app
        .get_json(&format!(
            "/open311/v2/requests/{number}.json?extensions=true"
        ))
        .await;
    let notes = requests[0]["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["summary"] == "update"
                && n["description"] == "Яма стала глубже, рядом провал"),
        "{notes:?}"
    );
    let (_, updates) = app
        .get_json("/open311/v2/servicerequestupdates.json?start_date=2026-03-01T00:00:00Z&end_date=2026-03-03T00:00:00Z")
        .await;
    assert!(
        updates
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["update_id"] == json!(update_id)),
        "{updates}"
    );
}

#[tokio::test]
async fn a_follower_who_did_not_support_hears_of_each_change_counts_nowhere_and_can_leave() {
    let app = common::spawn_app().await;
    common::resident_tokens(&app, 1..=3);
    let (id, number, dept) = file_as(&app, "resident1", "pothole").await;
    follow(&app, "resident2", &id).await;
    let supervisor = format!("demo-token-supervisor.{dept}");
    let (status, moved) = app
        .act(&supervisor, &id, &json!({"action": "accept"}))
        .await;
    assert_eq!(status, 200, "{moved}");
    let follower = "resident2@demo.gorod.local";
    assert!(
        subjects_to(&app, follower)
            .await
            .contains(&format!("Обращение № {number}: прошло модерацию")),
        "the follower is told"
    );
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(report["support_count"], 1);
    let (_, requests) = app
        .get_json(&format!(
            "/open311/v2/requests/{number}.json?extensions=true"
        ))
        .await;
    assert_eq!(
        requests[0]["extended_attributes"]["support_count"], 1,
        "nor does Open311"
    );
    // A follower who then says "me too" supports: counted once.
    let (status, _) = app
        .post_as(
            "demo-token-resident2",
            &format!("/api/v1/reports/{id}/support"),
            "{}",
        )
        .await;
    assert_eq!(status, 201);
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(report["support_count"], 2);

    // Unfollowing ends the mail.
    let before = subjects_to(&app, follower).await.len();
    let (status, left) = send_as(
        &app,
        Method::DELETE,
        Some("demo-token-resident2"),
        &format!("/api/v1/reports/{id}/follow"),
        &json!(null),
    )
    .await;
    assert_eq!((status, &left["following"]), (200, &json!(false)), "{left}");
    let crew = format!("demo-token-crew1.{dept}");
    let (status, _) = app.act(&crew, &id, &json!({"action": "take"})).await;
    assert_eq!(status, 200);
    assert_eq!(subjects_to(&app, follower).await.len(), before);
    assert!(
        subjects_to(&app, "resident1@demo.gorod.local")
            .await
            .contains(&format!("Обращение № {number}: в работе")),
        "the reporter still is"
    );
}

#[tokio::test]
async fn an_update_from_someone_not_logged_in_waits_for_the_emailed_link_and_a_strangers_is_refused(
) {
    let app = common::spawn_app_with(|s| s.accounts.confirm_anonymous_reports = true).await;
    common::resident_tokens(&app, 1..=3);
    let (id, number, _) = file_as(&app, "resident1", "pothole").await;
    follow(&app, "resident2", &id).await;

    // Nothing from a stranger's or a follower's address is added until the
    // address confirms it.
    for email in ["resident2@demo.gorod.local", "stranger@example.ru"] {
        let (status, held) = update(
            &app,
            Err(email),
            &id,
            &format!("Новость от {email}"),
            vec![],
        )
        .await;
        assert_eq!(
            (status, held["status"].as_str()),
            (202, Some("awaiting_confirmation")),
            "{held}"
        );
    }
    let (seen, _) = updates_seen(&app, Some("demo-token-admin"), &id).await;
    assert!(seen.is_empty(), "nothing before confirmation: {seen:?}");

    let link = emailed_link(
        &app,
        "resident2@demo.gorod.local",
        "/api/v1/account/confirm_support/",
    )
    .await;
    let opened = app.client.get(&link).send().await.unwrap();
    assert_eq!(opened.status().as_u16(), 200);
    assert!(
        updates_seen(&app, None, &id).await.0.is_empty(),
        "opening changes nothing"
    );
    let confirmed = app.client.post(&link).send().await.unwrap();
    assert_eq!(confirmed.status().as_u16(), 200);
    let page = confirmed.text().await.unwrap();
    assert!(page.contains(&format!("/reports/{number}")), "{page}");
    let (seen, _) = updates_seen(&app, None, &id).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["note"], "Новость от resident2@demo.gorod.local");

    // The stranger confirms their address, but they neither filed nor
    // follow the report: refused.
    let link = emailed_link(
        &app,
        "stranger@example.ru",
        "/api/v1/account/confirm_support/",
    )
    .await;
    let refused = app.client.post(&link).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    assert_eq!(
        updates_seen(&app, Some("demo-token-admin"), &id)
            .await
            .0
            .len(),
        1
    );

    // Following by email waits for its link too.
    let (status, _) = send_as(
        &app,
        Method::POST,
        None,
        &format!("/api/v1/reports/{id}/follow"),
        &json!({"email": "watcher@example.ru"}),
    )
    .await;
    assert_eq!(status, 202);
    let link = emailed_link(
        &app,
        "watcher@example.ru",
        "/api/v1/account/confirm_support/",
    )
    .await;
    let followed = app.client.post(&link).send().await.unwrap();
    assert_eq!(followed.status().as_u16(), 200);
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(report["support_count"], 1);
}

#[tokio::test]
async fn a_moderated_categorys_updates_wait_for_a_moderator_who_publishes_or_hides_them_with_a_reason(
) {
    let app = common::spawn_app_with(|s| s.limits.updates_per_day = 2).await;
    common::resident_tokens(&app, 1..=3);
    // Graffiti's updates are moderated in the demo city.
    let (id, number, dept) = file_as(&app, "resident1", "graffiti").await;
    let (status, added) = update(
        &app,
        Ok("resident1"),
        &id,
        "Надпись стала больше",
        vec![jpeg(40, 30)],
    )
    .await;
    assert_eq!(
        (status, added["state"].as_str()),
        (201, Some("waiting")),
        "{added}"
    );
    let update_id = added["id"].as_str().unwrap().to_string();

    // The public sees neither the update nor its photo; staff see both.
    let (seen, report) = updates_seen(&app, None, &id).await;
    assert!(seen.is_empty());
    assert!(report["photos"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["event_id"] != json!(update_id)));
    let supervisor = format!("demo-token-supervisor.{dept}");
    let (seen, report) = updates_seen(&app, Some(&supervisor), &id).await;
    assert_eq!(seen[0]["update"]["state"], "waiting", "{seen:?}");
    assert!(report["photos"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["event_id"] == json!(update_id)));
    let (_, waiting) = get_as(&app, &supervisor, "/api/v1/updates/waiting").await;
    assert!(waiting
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["number"] == number));
    let reporter = "resident1@demo.gorod.local";
    let subject = format!("Обращение № {number}: новость от жителя");
    assert!(!subjects_to(&app, &department_email(&app, &dept))
        .await
        .contains(&subject));

    // Crew may not decide; a supervisor publishes, and the department hears.
    let decide = |token: String, body: Value| {
        let path = format!("/api/v1/updates/{update_id}/decision?lang=en");
        let app = &app;
        async move { send_as(app, Method::POST, Some(&token), &path, &body).await }
    };
    let (status, _) = decide(
        format!("demo-token-crew1.{dept}"),
        json!({"decision": "publish"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, published) = decide(supervisor.clone(), json!({"decision": "publish"})).await;
    assert_eq!(
        (status, published["state"].as_str()),
        (200, Some("published")),
        "{published}"
    );
    assert_eq!(updates_seen(&app, None, &id).await.0.len(), 1);
    assert!(subjects_to(&app, &department_email(&app, &dept))
        .await
        .contains(&subject));
    assert!(
        !subjects_to(&app, reporter).await.contains(&subject),
        "not its author"
    );

    // Hiding needs a reason; hidden, it leaves the public history.
    let (status, refused) = decide(supervisor.clone(), json!({"decision": "hide"})).await;
    assert_eq!(
        (status, refused["field"].as_str()),
        (400, Some("reason")),
        "{refused}"
    );
    let (status, _) = decide(
        supervisor.clone(),
        json!({"decision": "hide", "reason": "Личные данные на фото"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(updates_seen(&app, None, &id).await.0.is_empty());
    let (seen, _) = updates_seen(&app, Some(&supervisor), &id).await;
    assert_eq!(
        (&seen[0]["update"]["state"], &seen[0]["update"]["reason"]),
        (&json!("hidden"), &json!("Личные данные на фото"))
    );
    let (_, audit) = get_as(&app, "demo-token-admin", "/api/v1/admin/audit?per_page=100").await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"update.hide") && actions.contains(&"update.publish"),
        "{actions:?}"
    );

    // Two updates a day here: the third is refused until tomorrow.
    let (status, _) = update(&app, Ok("resident1"), &id, "Вторая", vec![]).await;
    assert_eq!(status, 201);
    let (status, limited) = update(&app, Ok("resident1"), &id, "Третья", vec![]).await;
    assert_eq!(status, 429, "{limited}");
}

/// Moves a report of `dept` to answered: the supervisor accepts, the first
/// crew member takes it and answers.
async fn answered(app: &TestApp, id: &str, dept: &str) {
    for (who, action) in [
        ("supervisor", json!({"action": "accept"})),
        ("crew1", json!({"action": "take"})),
        (
            "crew1",
            json!({"action": "answer", "answer": "Яма заделана"}),
        ),
    ] {
        let (status, moved) = app
            .act(&format!("demo-token-{who}.{dept}"), id, &action)
            .await;
        assert_eq!(status, 200, "{action} → {moved}");
    }
}

async fn check(app: &TestApp, resident: &str, id: &str, body: Value) -> (u16, Value) {
    send_as(
        app,
        Method::POST,
        Some(&format!("demo-token-{resident}")),
        &format!("/api/v1/reports/{id}/check?lang=en"),
        &body,
    )
    .await
}

#[tokio::test]
async fn residents_rate_the_answer_and_the_ratings_reach_the_department_statistics() {
    let app = common::spawn_app().await;
    common::resident_tokens(&app, 1..=3);
    let (id, _, dept) = file_as(&app, "resident1", "pothole").await;
    let (status, _) = app
        .post_as(
            "demo-token-resident2",
            &format!("/api/v1/reports/{id}/support"),
            "{}",
        )
        .await;
    assert_eq!(status, 201);
    answered(&app, &id, &dept).await;

    // A rating out of range is refused naming it, and nothing moves.
    let (status, refused) =
        check(&app, "resident1", &id, json!({"fixed": true, "rating": 6})).await;
    assert_eq!(
        (status, refused["field"].as_str()),
        (400, Some("rating")),
        "{refused}"
    );
    let (status, refused) = check(
        &app,
        "resident1",
        &id,
        json!({"fixed": true, "comment": "без оценки"}),
    )
    .await;
    assert_eq!(
        (status, refused["field"].as_str()),
        (400, Some("rating")),
        "{refused}"
    );
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(report["status"], "resolved");

    let (status, said) = check(
        &app,
        "resident2",
        &id,
        json!({"fixed": false, "reason": "Яма осталась", "rating": 2}),
    )
    .await;
    assert_eq!(status, 200, "{said}");
    let (status, said) = check(
        &app,
        "resident1",
        &id,
        json!({"fixed": true, "rating": 5, "comment": "Быстро"}),
    )
    .await;
    assert_eq!(
        (status, said["status"].as_str()),
        (200, Some("confirmed")),
        "{said}"
    );

    let (_, stats) = get_as(&app, "demo-token-admin", "/api/v1/supervisor/stats").await;
    let department = &stats["by_department"][&dept];
    assert_eq!(
        (&department["ratings"], &department["average_rating"]),
        (&json!(2), &json!(3.5)),
        "{stats}"
    );
    // The public page shows the statistics as of the scanner's last pass.
    let (status, _) = app
        .post_as("demo-token-admin", "/api/v1/admin/sla/scan", "")
        .await;
    assert_eq!(status, 200);
    let page = app.get("/stats?lang=en").await.text().await.unwrap();
    assert!(
        page.contains("3.5") && page.contains("(2 ratings)"),
        "the public table shows it"
    );
}

#[tokio::test]
async fn a_supervisor_keeps_canned_answers_that_staff_get_filled_for_the_report() {
    let app = common::spawn_app().await;
    common::resident_tokens(&app, 1..=1);
    let (id, number, dept) = file_as(&app, "resident1", "pothole").await;
    let supervisor = format!("demo-token-supervisor.{dept}");
    let canned = json!({
        "department": dept, "title": "Заделано",
        "body": "По обращению № {number} по адресу {address} яма заделана.",
        "actions": ["answer", "reject"]
    });
    let (status, bad) = send_as(
        &app,
        Method::POST,
        Some(&supervisor),
        "/api/v1/canned-answers?lang=en",
        &json!({"title": "x", "body": "Срок {due}", "actions": ["answer"]}),
    )
    .await;
    assert_eq!(
        (status, bad["field"].as_str()),
        (400, Some("body")),
        "{bad}"
    );
    let (status, other) = send_as(
        &app,
        Method::POST,
        Some(&supervisor),
        "/api/v1/canned-answers",
        &json!({"department": "triage", "title": "x", "body": "y", "actions": ["answer"]}),
    )
    .await;
    assert_eq!(status, 403, "another department's: {other}");
    let (status, crew) = send_as(
        &app,
        Method::POST,
        Some(&format!("demo-token-crew1.{dept}")),
        "/api/v1/canned-answers",
        &canned,
    )
    .await;
    assert_eq!(status, 403, "crew use them, not keep them: {crew}");
    let (status, made) = send_as(
        &app,
        Method::POST,
        Some(&supervisor),
        "/api/v1/canned-answers",
        &canned,
    )
    .await;
    assert_eq!(status, 201, "{made}");

    // The crew's report page offers it filled in, with the answer move.
    for (who, action) in [("supervisor", "accept"), ("crew1", "take")] {
        let (status, _) = app
            .act(
                &format!("demo-token-{who}.{dept}"),
                &id,
                &json!({"action": action}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let page = app
        .client
        .get(app.url(&format!("/reports/{number}")))
        .bearer_auth(format!("demo-token-crew1.{dept}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            "По обращению № {number} по адресу ул. Тверская, 12 яма заделана."
        )),
        "filled for the report"
    );
    let (_, listed) = get_as(
        &app,
        &format!("demo-token-crew1.{dept}"),
        "/api/v1/canned-answers",
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (_, elsewhere) = get_as(&app, "demo-token-crew1.triage", "/api/v1/canned-answers").await;
    assert!(
        elsewhere.as_array().unwrap().is_empty(),
        "another department's staff do not see it"
    );
    let (_, audit) = get_as(&app, "demo-token-admin", "/api/v1/admin/audit?per_page=100").await;
    assert!(audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "canned_answer.put"));
}

#[tokio::test]
async fn a_bulk_accept_of_100_reports_where_3_may_not_be_moved_moves_97_and_names_the_3() {
    let app = common::spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..100 {
        let body = common::report_at("pothole", 55.7700 + f64::from(i) * 0.00001, 37.6050);
        let (status, filed) = app.post_json("/api/v1/reports", &body).await;
        assert_eq!(status, 201, "{filed}");
        ids.push(filed["id"].as_str().unwrap().to_string());
    }
    let (_, report) = app.get_json(&format!("/api/v1/reports/{}", ids[0])).await;
    let dept = report["department"]["code"].as_str().unwrap().to_string();
    let supervisor = format!("demo-token-supervisor.{dept}");
    // Two accepted already, one rejected: not in moderation any more.
    for (i, action) in [
        (10, json!({"action": "accept"})),
        (20, json!({"action": "accept"})),
        (30, json!({"action": "reject", "reason": "Дубль"})),
    ] {
        let (status, _) = app.act(&supervisor, &ids[i], &action).await;
        assert_eq!(status, 200);
    }
    let (status, refused) = send_as(
        &app,
        Method::POST,
        Some(&supervisor),
        "/api/v1/reports/bulk-actions?lang=en",
        &json!({"reports": [], "action": "accept"}),
    )
    .await;
    assert_eq!((status, refused["field"].as_str()), (400, Some("reports")));
    let (status, done) = send_as(
        &app,
        Method::POST,
        Some(&supervisor),
        "/api/v1/reports/bulk-actions?lang=en",
        &json!({"reports": ids, "action": "accept"}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["moved"].as_array().unwrap().len(), 97);
    let refused: Vec<&Value> = done["refused"].as_array().unwrap().iter().collect();
    let named: Vec<&str> = refused.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        named,
        [ids[10].as_str(), ids[20].as_str(), ids[30].as_str()]
    );
    assert!(
        refused.iter().all(|r| r["code"] == "conflict"
            && r["number"].is_i64()
            && r["message"].as_str().is_some_and(|m| !m.is_empty())),
        "{refused:?}"
    );
    // Each is a move of its own: in the history and the audit log.
    let (_, one) = get_as(&app, &supervisor, &format!("/api/v1/reports/{}", ids[99])).await;
    assert_eq!(one["status"], "assigned");
    let (_, audit) = get_as(
        &app,
        "demo-token-admin",
        "/api/v1/admin/audit?per_page=200&action=report.accept",
    )
    .await;
    assert_eq!(audit["total"], 99, "97 now and 2 before");
}

/// Files a report as a demo resident with a photo and their name shown.
async fn file_with_photo(app: &TestApp, resident: &str) -> (String, i64, String) {
    let mut body = common::report_at("pothole", 55.7700, 37.6050);
    body["reporter"] = json!({"show_name": true});
    let form = Form::new()
        .part(
            "report",
            Part::text(body.to_string())
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "photos",
            Part::bytes(jpeg(64, 48))
                .file_name("a.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let response = app
        .client
        .post(app.url("/api/v1/reports"))
        .bearer_auth(format!("demo-token-{resident}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let filed: Value = response.json().await.unwrap();
    let id = filed["id"].as_str().unwrap().to_string();
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    (
        id,
        filed["number"].as_i64().unwrap(),
        report["department"]["code"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_moderator_edits_what_is_published_and_staff_keep_the_original_and_the_hidden_photo() {
    let app = common::spawn_app().await;
    common::resident_tokens(&app, 1..=1);
    let (id, number, dept) = file_with_photo(&app, "resident1").await;
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let photo = report["photos"][0].clone();
    let photo_url = photo["url"].as_str().unwrap().to_string();
    let name = report["reporter_name"].as_str().unwrap().to_string();
    let supervisor = format!("demo-token-supervisor.{dept}");
    let path = format!("/api/v1/reports/{id}/edits?lang=en");
    let edits = json!({
        "description": "Яма у перехода (телефон заявителя удалён модератором)",
        "address": "ул. Тверская, 12",
        "hide_photos": [photo["id"]],
        "hide_name": true,
        "reason": "Личные данные в тексте и на фото"
    });
    let mut no_reason = edits.clone();
    no_reason.as_object_mut().unwrap().remove("reason");
    let (status, refused) = send_as(&app, Method::POST, Some(&supervisor), &path, &no_reason).await;
    assert_eq!(
        (status, refused["field"].as_str()),
        (400, Some("reason")),
        "{refused}"
    );
    let (status, _) = send_as(
        &app,
        Method::POST,
        Some(&format!("demo-token-crew1.{dept}")),
        &path,
        &edits,
    )
    .await;
    assert_eq!(status, 403, "crew do not moderate");
    let (status, made) = send_as(&app, Method::POST, Some(&supervisor), &path, &edits).await;
    assert_eq!(status, 200, "{made}");
    let fields: Vec<&str> = made
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["description", "photo", "reporter_name"],
        "the same address is no edit"
    );

    // The public sees the published version: no photo, no name.
    let (_, public) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(public["description"], edits["description"]);
    assert!(public["photos"].as_array().unwrap().is_empty(), "{public}");
    assert!(public["reporter_name"].is_null());
    assert!(public.get("edits").is_none(), "the originals are for staff");
    let (_, open311) = app
        .get_json(&format!(
            "/open311/v2/requests/{number}.json?extensions=true"
        ))
        .await;
    assert!(open311[0]["media_url"].is_null(), "{open311}");
    let page = app
        .get(&format!("/reports/{number}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Глубокая яма") && !page.contains(&name));
    // The hidden photo is never served to the public, and is to staff.
    let served = app.client.get(&photo_url).send().await.unwrap();
    assert_eq!(served.status().as_u16(), 404, "as if there were none");
    let served = app
        .client
        .get(&photo_url)
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(served.status().as_u16(), 200);
    assert_eq!(served.headers()["cache-control"], "private, no-store");

    // Staff see both versions and who changed what, when and why.
    let (_, staff) = get_as(&app, &supervisor, &format!("/api/v1/reports/{id}")).await;
    let kept = staff["edits"].as_array().unwrap();
    assert!(
        kept[0]["before"]
            .as_str()
            .unwrap()
            .starts_with("Глубокая яма"),
        "{kept:?}"
    );
    assert_eq!(kept[0]["reason"], "Личные данные в тексте и на фото");
    assert_eq!(staff["photos"][0]["hidden"], true);
    let (_, audit) = get_as(
        &app,
        "demo-token-admin",
        "/api/v1/admin/audit?per_page=100&action=report.edit",
    )
    .await;
    assert_eq!(audit["total"], 3);
    // The reporter is told.
    assert!(subjects_to(&app, "resident1@demo.gorod.local")
        .await
        .contains(&format!(
            "Обращение № {number}: обращение отредактировано модератором"
        )));
}

#[tokio::test]
async fn a_reporter_hides_their_name_and_a_deleted_account_leaves_no_personal_data_and_a_verifying_ledger(
) {
    let app = common::spawn_app().await;
    common::resident_tokens(&app, 1..=2);
    let (id, number, dept) = file_with_photo(&app, "resident1").await;
    let (_, public) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let name = public["reporter_name"].as_str().unwrap().to_string();
    let (status, _) = app
        .post_as(
            "demo-token-resident2",
            &format!("/api/v1/reports/{id}/hide-name"),
            "",
        )
        .await;
    assert_eq!(status, 403, "only the reporter");
    let (status, _) = app
        .post_as(
            "demo-token-resident1",
            &format!("/api/v1/reports/{id}/hide-name"),
            "",
        )
        .await;
    assert_eq!(status, 200);
    let (_, public) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert!(public["reporter_name"].is_null());

    // The reporter confirms the fix: their pseudonym is in the ledger.
    follow(&app, "resident2", &id).await;
    answered(&app, &id, &dept).await;
    let (status, _) = check(&app, "resident1", &id, json!({"fixed": true, "rating": 5})).await;
    assert_eq!(status, 200);

    // A second report of theirs is still open, followed by resident2.
    let (open_id, open_number, _) = file_as(&app, "resident1", "pothole").await;
    follow(&app, "resident2", &open_id).await;

    // resident1 deletes their account (the demo's password is theirs).
    let delete = |password: &str| {
        let body = json!({ "password": password });
        let app = &app;
        async move {
            send_as(
                app,
                Method::POST,
                Some("demo-token-resident1"),
                "/api/v1/account/delete?lang=en",
                &body,
            )
            .await
        }
    };
    let (status, wrong) = delete("not the password").await;
    assert_eq!(
        (status, wrong["field"].as_str()),
        (400, Some("password")),
        "{wrong}"
    );
    let mailed_before = subjects_to(&app, "resident1@demo.gorod.local").await.len();
    let (status, deleted) = delete("demo-password-2026").await;
    assert_eq!(status, 200, "{deleted}");
    let (status, _) = get_as(&app, "demo-token-resident1", "/api/v1/account/me").await;
    assert_eq!(status, 401, "its tokens end");

    // The report stays, with no trace of them anywhere the public looks.
    for path in [
        format!("/api/v1/reports/{id}"),
        format!("/open311/v2/requests/{number}.json?extensions=true"),
        format!("/reports/{number}"),
        "/api/v1/ledger/export".to_string(),
    ] {
        let text = app.get(&path).await.text().await.unwrap();
        assert!(
            text.contains(&number.to_string()),
            "{path} still shows the report"
        );
        for personal in ["resident1", name.as_str()] {
            assert!(!text.contains(personal), "{path} shows {personal}");
        }
    }
    // Nor in what others are emailed of their reports from now on.
    let supervisor = format!("demo-token-supervisor.{dept}");
    let (status, _) = app
        .act(&supervisor, &open_id, &json!({"action": "accept"}))
        .await;
    assert_eq!(status, 200);
    let told = subjects_to(&app, "resident2@demo.gorod.local").await;
    assert!(
        told.contains(&format!("Обращение № {open_number}: прошло модерацию")),
        "{told:?}"
    );
    assert_eq!(
        subjects_to(&app, "resident1@demo.gorod.local").await.len(),
        mailed_before,
        "no new mail to them"
    );
    let kept = app.mailbox.as_ref().unwrap().lock().unwrap().clone();
    assert!(kept.iter().all(|k| !k.to.ends_with("deleted.invalid")));
    for k in kept.iter().filter(|k| !k.to.contains("resident1@")) {
        let message = mail_parser::MessageParser::default().parse(&k.raw).unwrap();
        assert!(
            !message.body_text(0).unwrap().contains(&name),
            "mail to others never names them"
        );
    }
    let staff_view = get_as(
        &app,
        &format!("demo-token-supervisor.{dept}"),
        &format!("/api/v1/reports/{id}"),
    )
    .await
    .1;
    assert!(
        !staff_view.to_string().contains("resident1@"),
        "nor to staff"
    );
    let (status, verified) = app.get_json("/api/v1/ledger/verify").await;
    assert_eq!(
        (status, &verified["intact"]),
        (200, &json!(true)),
        "{verified}"
    );
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_gorod"))
        .args([
            "--config-dir",
            common::config_dir().to_str().unwrap(),
            "ledger",
            "verify",
        ])
        .env("GOROD__DATABASE__URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
}
