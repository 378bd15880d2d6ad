//! The admin API: departments and categories created and changed by code
//! with validation, API keys shown once, scoped and revoked, Open311 keys
//! limited per minute, and every change in the audit log.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use serde_json::{json, Value};

const ADMIN: &str = "demo-token-admin";

async fn put(app: &common::TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .put(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn audit(app: &common::TestApp, query: &str) -> Vec<Value> {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/admin/audit?{query}")))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let page: Value = response.json().await.unwrap();
    page["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn admins_create_and_change_departments_and_categories_that_routing_uses_at_once() {
    let app = common::spawn_app().await;
    let department = json!({"name_ru": "Мосты", "name_en": "Bridges", "parent": "roads", "calendar": "ru-moscow"});
    // Wrong fields are named; nothing changes.
    for (field, bad) in [
        ("parent", json!({"parent": "nowhere"})),
        ("calendar", json!({"calendar": "mars"})),
        ("name_ru", json!({"name_ru": "  "})),
        ("email", json!({"email": "not an email"})),
    ] {
        let mut body = department.clone();
        body.as_object_mut()
            .unwrap()
            .extend(bad.as_object().unwrap().clone());
        let (status, answer) = put(&app, ADMIN, "/api/v1/admin/departments/bridges", &body).await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (400, Some(field)),
            "{answer}"
        );
    }
    let (status, _) = put(
        &app,
        ADMIN,
        "/api/v1/admin/departments/Bad Code",
        &department,
    )
    .await;
    assert_eq!(status, 400);
    let (_, listed) = app.get_json("/api/v1/departments").await;
    assert!(!listed.to_string().contains("bridges"));
    // A crew member may not.
    let (status, _) = put(
        &app,
        "demo-token-crew1.roads",
        "/api/v1/admin/departments/bridges",
        &department,
    )
    .await;
    assert_eq!(status, 403);

    let (status, created) = put(
        &app,
        ADMIN,
        "/api/v1/admin/departments/bridges",
        &department,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (_, listed) = app.get_json("/api/v1/departments").await;
    assert!(listed.to_string().contains("bridges"), "{listed}");
    // A loop is refused: roads cannot sit below its own child.
    let (status, answer) = put(&app, ADMIN, "/api/v1/admin/departments/roads", &json!({"name_ru": "Дороги", "name_en": "Roads", "parent": "bridges", "calendar": "ru-moscow"})).await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("parent")),
        "{answer}"
    );

    // A category routed to the new department by default.
    let category = json!({
        "group": "roads", "name_ru": "Трещина в мосту", "name_en": "Crack in a bridge",
        "default_department": "bridges", "sla_policy": "standard",
        "questions": [{"code": "span", "datatype": "string", "required": true, "order": 1, "description": "Какой пролёт?"}]
    });
    let mut broken = category.clone();
    broken["questions"] =
        json!([{"code": "span", "datatype": "string", "order": 0, "description": "?"}]);
    let (status, answer) = put(
        &app,
        ADMIN,
        "/api/v1/admin/categories/bridge_crack",
        &broken,
    )
    .await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("questions")),
        "{answer}"
    );
    let (status, _) = put(
        &app,
        ADMIN,
        "/api/v1/admin/categories/bridge_crack",
        &category,
    )
    .await;
    assert_eq!(status, 201);
    let mut report = common::report_at("bridge_crack", 55.7712, 37.6041);
    report["answers"] = json!({"span": "третий"});
    let (status, filed) = app.post_json("/api/v1/reports", &report).await;
    assert_eq!(status, 201, "{filed}");
    let (_, shown) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            filed["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(shown["category"]["code"], "bridge_crack");

    // Switched off, it takes no more reports.
    let mut off = category.clone();
    off["active"] = json!(false);
    let (status, _) = put(&app, ADMIN, "/api/v1/admin/categories/bridge_crack", &off).await;
    assert_eq!(status, 200);
    assert_eq!(app.post_json("/api/v1/reports", &report).await.0, 400);

    let entries = audit(&app, "object_type=category").await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["category.update", "category.create"]);
    assert!(entries[0]["before"]
        .as_str()
        .unwrap()
        .contains("\"active\":true"));
    assert!(entries[0]["after"]
        .as_str()
        .unwrap()
        .contains("\"active\":false"));
    assert_eq!(
        audit(&app, "object_type=department&object_id=bridges")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn api_keys_are_shown_once_scoped_and_revoked_at_once() {
    let app = common::spawn_app().await;
    let create = |body: Value| {
        let app = &app;
        async move {
            app.post_as(ADMIN, "/api/v1/admin/api-keys", &body.to_string())
                .await
        }
    };
    let (status, answer) = create(json!({"name": "x", "kind": "api", "user": "crew1.roads@demo.gorod.local", "scopes": ["fly"]})).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("scopes")));
    let (status, key) = create(json!({"name": "Roads dashboard", "kind": "api", "user": "supervisor.roads@demo.gorod.local", "scopes": ["watch_sla"]})).await;
    assert_eq!(status, 201, "{key}");
    let token = key["key"].as_str().unwrap().to_string();
    let watch = |token: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/api/v1/supervisor/reports"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(watch(token.clone()).await, 200);
    // Its scope does not reach workflow moves, though its user's role would.
    let (_, filed) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    let (status, _) = app
        .act(
            &token,
            filed["id"].as_str().unwrap(),
            &json!({"action": "accept"}),
        )
        .await;
    assert_eq!(status, 403);
    // Listed without the key itself; revoked, it stops at once.
    let listed: Value = app
        .client
        .get(app.url("/api/v1/admin/api-keys"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!listed.to_string().contains(&token));
    let id = key["id"].as_str().unwrap();
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/admin/api-keys/{id}")))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 204);
    assert_eq!(watch(token).await, 401);
    let actions: Vec<String> = audit(&app, &format!("object_id={id}"))
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["api_key.revoke", "api_key.create"]);
}

#[tokio::test]
async fn an_open311_key_posting_past_its_limit_gets_429() {
    let app = common::spawn_app_with(|s| s.limits.open311_posts_per_minute = 3).await;
    let form = [
        ("api_key", "demo-open311-key"),
        ("service_code", "pothole"),
        ("lat", "55.7700"),
        ("long", "37.6050"),
        ("description", "Яма"),
        ("attribute[size]", "small"),
    ];
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = app
            .client
            .post(app.url("/open311/v2/requests.json"))
            .form(&form)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    app.clock.advance(chrono::TimeDelta::minutes(1));
    let response = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn admins_create_sla_policies_and_move_staff_between_departments() {
    let app = common::spawn_app().await;
    let targets = json!({
        "moderation": {"unit": "working_hours", "value": 4},
        "answer": {"unit": "working_days", "value": 3},
        "fix": null,
        "resident_check_days": 10,
        "warn_percents": [50, 80],
        "escalation_percents": [100, 150]
    });
    // A calendar of its own: a six-day week.
    let week = json!({"name": "Шестидневка", "time_zone": "Europe/Moscow", "weekly_days_off": [7], "work_starts": "08:00", "work_ends": "20:00"});
    for (field, bad) in [
        ("time_zone", json!({"time_zone": "Mars/Olympus"})),
        ("weekly_days_off", json!({"weekly_days_off": [8]})),
        ("work_starts", json!({"work_starts": "8 am"})),
    ] {
        let mut body = week.clone();
        body.as_object_mut()
            .unwrap()
            .extend(bad.as_object().unwrap().clone());
        let (status, answer) = put(&app, ADMIN, "/api/v1/admin/calendars/six-day", &body).await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (400, Some(field)),
            "{answer}"
        );
    }
    assert_eq!(
        put(&app, ADMIN, "/api/v1/admin/calendars/six-day", &week)
            .await
            .0,
        201
    );
    assert_eq!(
        put(&app, ADMIN, "/api/v1/admin/calendars/six-day", &week)
            .await
            .0,
        200
    );
    // Creating a policy needs a name and a calendar, each named when missing.
    let (status, answer) = put(&app, ADMIN, "/api/v1/admin/sla-policies/express", &targets).await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("name")),
        "{answer}"
    );
    let mut full = targets.clone();
    full["name"] = json!("Express");
    full["calendar"] = json!("mars");
    let (status, answer) = put(&app, ADMIN, "/api/v1/admin/sla-policies/express", &full).await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("calendar")),
        "{answer}"
    );
    full["calendar"] = json!("six-day");
    assert_eq!(
        put(&app, ADMIN, "/api/v1/admin/sla-policies/express", &full)
            .await
            .0,
        201
    );
    assert_eq!(
        put(&app, ADMIN, "/api/v1/admin/sla-policies/express", &targets)
            .await
            .0,
        200
    );
    let category = json!({"group": "roads", "name_ru": "Срочно", "name_en": "Urgent fix", "sla_policy": "express", "default_department": "roads"});
    assert_eq!(
        put(
            &app,
            ADMIN,
            "/api/v1/admin/categories/express_fix",
            &category
        )
        .await
        .0,
        201
    );
    let actions: Vec<String> = audit(&app, "object_type=sla_policy")
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["sla_policy.update", "sla_policy.create"]);

    // A crew member moves to parks: their token now reaches parks' reports only.
    let staff: Value = app
        .client
        .get(app.url("/api/v1/admin/users"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let crew = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "crew1.roads@demo.gorod.local")
        .unwrap();
    let id = crew["id"].as_str().unwrap();
    let (status, answer) = put(
        &app,
        ADMIN,
        &format!("/api/v1/admin/users/{id}"),
        &json!({"role": "crew"}),
    )
    .await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("department"))
    );
    let (status, moved) = put(
        &app,
        ADMIN,
        &format!("/api/v1/admin/users/{id}"),
        &json!({"role": "crew", "department": "parks"}),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    let (_, filed) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    let report = filed["id"].as_str().unwrap();
    let (_, shown) = app.get_json(&format!("/api/v1/reports/{report}")).await;
    assert_eq!(shown["department"]["code"], "roads");
    let (status, _) = app
        .act("demo-token-crew1.roads", report, &json!({"action": "take"}))
        .await;
    assert_eq!(status, 403);
    // Disabling someone known only by their API token stops the token.
    let (status, _) = app
        .post_as(ADMIN, &format!("/api/v1/admin/users/{id}/disable"), "")
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .act("demo-token-crew1.roads", report, &json!({"action": "take"}))
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn admins_name_the_groups_categories_are_listed_under() {
    let app = common::spawn_app().await;
    let body =
        json!({"name_ru": "Мосты и тоннели", "name_en": "Bridges and tunnels", "sort_order": 5});
    for (field, bad) in [
        ("name_ru", json!({"name_ru": " "})),
        ("name_en", json!({"name_en": "x".repeat(201)})),
        ("sort_order", json!({"sort_order": "first"})),
    ] {
        let mut wrong = body.clone();
        wrong
            .as_object_mut()
            .unwrap()
            .extend(bad.as_object().unwrap().clone());
        let (status, answer) =
            put(&app, ADMIN, "/api/v1/admin/category-groups/bridges", &wrong).await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (400, Some(field)),
            "{answer}"
        );
    }
    let (status, created) = put(&app, ADMIN, "/api/v1/admin/category-groups/bridges", &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name_en"], "Bridges and tunnels");
    let renamed = json!({"name_ru": "Мосты", "name_en": "Bridges"});
    let (status, changed) = put(
        &app,
        ADMIN,
        "/api/v1/admin/category-groups/bridges",
        &renamed,
    )
    .await;
    assert_eq!(
        (status, changed["sort_order"].as_i64()),
        (200, Some(0)),
        "{changed}"
    );
    let (status, _) = put(
        &app,
        "demo-token-crew1.roads",
        "/api/v1/admin/category-groups/bridges",
        &renamed,
    )
    .await;
    assert_eq!(status, 403);
    let logged = audit(&app, "object_type=category_group").await;
    assert_eq!(logged.len(), 2, "{logged:?}");
    // A category in the group is listed under its name on the filing form.
    let category = json!({"group": "bridges", "name_ru": "Трещина на мосту", "name_en": "Crack in a bridge",
        "default_department": "roads", "sla_policy": "standard"});
    let (status, _) = put(
        &app,
        ADMIN,
        "/api/v1/admin/categories/bridge_crack",
        &category,
    )
    .await;
    assert_eq!(status, 201);
    let form = app.get("/new?lang=en").await.text().await.unwrap();
    let heading = form
        .find(">Bridges<")
        .expect("the group's name on the form");
    let choice = form.find("Crack in a bridge").unwrap();
    assert!(heading < choice);
}
