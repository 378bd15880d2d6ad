//! The web pages over HTTP (the browser test walks them in Chromium): the
//! language, escaping, who may open which page, the moves a report page
//! offers, the files served, and the mail settings behind the settings page.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use serde_json::{json, Value};

async fn page(app: &common::TestApp, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn file(app: &common::TestApp, report: Value) -> (String, i64) {
    let (status, filed) = app.post_json("/api/v1/reports", &report).await;
    assert_eq!(status, 201, "{filed}");
    (
        filed["id"].as_str().unwrap().to_string(),
        filed["number"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn pages_speak_the_language_of_the_switcher_then_of_the_browser() {
    let app = common::spawn_app().await;
    let (status, ru) = page(&app, "/", &[]).await;
    assert_eq!(status, 200);
    assert!(ru.contains(r#"<html lang="ru">"#) && ru.contains("Проблемы на карте"));
    let (_, en) = page(&app, "/", &[("Accept-Language", "en-GB,en;q=0.9,ru;q=0.5")]).await;
    assert!(en.contains(r#"<html lang="en">"#) && en.contains("Problems on the map"));

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let switched = no_redirects
        .get(app.url("/lang/en?back=/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status().as_u16(), 303);
    assert_eq!(switched.headers()["location"], "/stats");
    let cookie = switched.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("gorod_lang=en"), "{cookie}");
    // The switcher's choice wins over the browser's.
    let (_, chosen) = page(
        &app,
        "/stats",
        &[("Cookie", "gorod_lang=en"), ("Accept-Language", "ru")],
    )
    .await;
    assert!(chosen.contains("How the city answers"), "{chosen}");
    // It only ever sends people back to this site.
    let away = no_redirects
        .get(app.url("/lang/ru?back=//evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(away.headers()["location"], "/");
}

#[tokio::test]
async fn what_residents_write_is_shown_as_text() {
    let app = common::spawn_app().await;
    let mut report = common::valid_report();
    report["description"] = json!("<script>alert('описание')</script>");
    report["address"] = json!(r#""><img src=x onerror=alert(1)>"#);
    report["reporter"]["name"] = json!("<b>Анна</b>");
    report["reporter"]["show_name"] = json!(true);
    let (_, number) = file(&app, report).await;
    let response = app
        .client
        .get(app.url(&format!("/reports/{number}")))
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    let body = response.text().await.unwrap();
    assert!(
        body.contains("&#60;script&#62;") || body.contains("&lt;script&gt;"),
        "{body}"
    );
    assert!(!body.contains("<script>alert"));
    assert!(!body.contains("<img src=x"));
    assert!(!body.contains("<b>Анна</b>"));
}

#[tokio::test]
async fn staff_pages_send_everyone_else_to_log_in() {
    let app = common::spawn_app().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/queue", "/dashboard", "/my", "/settings"] {
        let response = no_redirects.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 303, "{path}");
        assert_eq!(
            response.headers()["location"],
            format!("/login?next=%2F{}", &path[1..]).as_str()
        );
    }
    let (_, number) = file(&app, common::valid_report()).await;
    let (status, body) = page_as(&app, "/dashboard?department=roads", "supervisor.roads").await;
    assert_eq!(status, 200);
    assert!(body.contains("Соблюдение сроков") && body.contains(r#"id="trend""#));
    let csv = body
        .split(r#"href=""#)
        .find(|s| s.starts_with("/api/v1/supervisor/reports?"))
        .and_then(|s| s.split('"').next())
        .unwrap();
    assert_eq!(
        csv,
        "/api/v1/supervisor/reports?format=csv&#38;department=roads"
    );
    // A department outside the supervisor's scope is refused, as in the API.
    let (status, _) = page_as(&app, "/dashboard?department=lighting", "supervisor.roads").await;
    assert_eq!(status, 403);
    // The queue lists the department's open report, and no other's.
    let row = format!(r#"data-number="{number}""#);
    let (_, queue) = page_as(&app, "/queue", "crew1.roads").await;
    assert!(queue.contains(&row), "{queue}");
    let (_, elsewhere) = page_as(&app, "/queue", "crew1.lighting").await;
    assert!(!elsewhere.contains(&row));
}

/// A page as the demo staff member `who` sees it (with their API token).
async fn page_as(app: &common::TestApp, path: &str, who: &str) -> (u16, String) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(format!("demo-token-{who}"))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The ids of the action forms a report page offers to the demo staff
/// member `who` (or to anyone, without).
async fn offered(app: &common::TestApp, number: i64, who: Option<&str>) -> Vec<String> {
    let path = format!("/reports/{number}");
    let body = match who {
        Some(who) => page_as(app, &path, who).await.1,
        None => page(app, &path, &[]).await.1,
    };
    body.match_indices(r#"<form class="action" id=""#)
        .map(|(at, found)| {
            let rest = &body[at + found.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_report_page_offers_each_person_exactly_the_moves_the_workflow_allows() {
    let app = common::spawn_app().await;
    let (id, number) = file(&app, common::valid_report()).await;
    assert!(offered(&app, number, None).await.is_empty());
    assert_eq!(
        offered(&app, number, Some("crew1.roads")).await,
        vec!["note-form"]
    );
    assert_eq!(
        offered(&app, number, Some("supervisor.roads")).await,
        vec![
            "action-accept",
            "action-reject",
            "action-mark_duplicate",
            "action-escalate",
            "note-form"
        ]
    );
    let (status, body) = app
        .act(
            "demo-token-supervisor.roads",
            &id,
            &json!({"action": "accept"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        offered(&app, number, Some("crew1.roads")).await,
        vec![
            "action-take",
            "action-pause",
            "action-answer",
            "action-return",
            "note-form"
        ]
    );
    assert!(offered(&app, number, Some("crew1.lighting"))
        .await
        .is_empty());
    let (status, missing) = page(&app, "/reports/999999", &[]).await;
    assert_eq!(status, 404);
    assert!(missing.contains("999999"));
}

#[tokio::test]
async fn the_city_answer_stays_on_the_page_after_a_me_too() {
    let app = common::spawn_app().await;
    let (id, number) = file(&app, common::valid_report()).await;
    for (who, body) in [
        ("demo-token-supervisor.roads", json!({"action": "accept"})),
        ("demo-token-crew1.roads", json!({"action": "take"})),
        (
            "demo-token-crew1.roads",
            json!({"action": "answer", "answer": "Яма заделана асфальтом"}),
        ),
    ] {
        let (status, answer) = app.act(who, &id, &body).await;
        assert_eq!(status, 200, "{body} → {answer}");
    }
    let neighbour = json!({"email": "boris.ivanov@example.ru", "name": "Борис"});
    let (status, joined) = app
        .post_json(&format!("/api/v1/reports/{id}/support"), &neighbour)
        .await;
    assert_eq!(status, 201, "{joined}");
    let (status, body) = page(&app, &format!("/reports/{number}"), &[]).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("<p id=\"answer-text\">Яма заделана асфальтом</p>"),
        "{body}"
    );
}

#[tokio::test]
async fn a_paused_report_shows_when_work_resumes_and_the_days_used_so_far() {
    let app = common::spawn_app().await;
    let (id, number) = file(&app, common::valid_report()).await;
    for (who, body) in [
        ("demo-token-supervisor.roads", json!({"action": "accept"})),
        ("demo-token-crew1.roads", json!({"action": "take"})),
    ] {
        let (status, answer) = app.act(who, &id, &body).await;
        assert_eq!(status, 200, "{body} → {answer}");
    }
    // Two working days in, the crew waits for a contractor.
    app.clock.advance(chrono::TimeDelta::days(2));
    let pause = json!({"action": "pause", "pause_reason": "third_party",
        "resume_on": "2026-03-20", "reason": "Ждём подрядчика"});
    let (status, paused) = app.act("demo-token-crew1.roads", &id, &pause).await;
    assert_eq!(status, 200, "{paused}");
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let deadline = &report["deadline"];
    assert_eq!(deadline["resume_on"], "2026-03-20", "{deadline}");
    let used = deadline["days_used"].as_u64().unwrap();
    assert!(used >= 1, "{deadline}");
    let target = deadline["target"]["value"].as_u64().unwrap();
    assert_eq!(
        deadline["days_left"].as_u64(),
        Some(target - used),
        "{deadline}"
    );

    let (_, ru) = page(
        &app,
        &format!("/reports/{number}"),
        &[("Accept-Language", "ru")],
    )
    .await;
    assert!(
        ru.contains("<dd id=\"resume-on\">20 марта 2026</dd>"),
        "{ru}"
    );
    assert!(
        ru.contains(&format!("<dd id=\"days-used\">{used}</dd>")),
        "{ru}"
    );
    assert!(
        !ru.contains("id=\"days-left\""),
        "no days left while paused: {ru}"
    );
    assert!(
        ru.contains(&format!(
            "<dd id=\"days-left-after-pause\">{}</dd>",
            target - used
        )),
        "{ru}"
    );
    let (_, en) = page(
        &app,
        &format!("/reports/{number}"),
        &[("Accept-Language", "en")],
    )
    .await;
    assert!(
        en.contains("<dd id=\"resume-on\">20 March 2026</dd>"),
        "{en}"
    );
}

#[tokio::test]
async fn the_pages_own_files_are_served_and_nothing_else() {
    let app = common::spawn_app().await;
    let script = app.get("/static/gorod.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    for path in [
        "/static/nothing.js",
        "/vendor/../Cargo.toml",
        "/vendor/%2e%2e/Cargo.toml",
        "/vendor/leaflet/.hidden.js",
        "/vendor/leaflet/missing.js",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn mail_settings_choose_the_language_and_turn_messages_off_and_on() {
    let app = common::spawn_app().await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let email = "resident1@demo.gorod.local";
    let login = client
        .post(app.url("/api/v1/account/login"))
        .json(&json!({"email": email, "password": gorod::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    let csrf = login.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let put = |body: Value| {
        client
            .put(app.url("/api/v1/account/settings"))
            .header("X-CSRF-Token", &csrf)
            .json(&body)
            .send()
    };
    let wrong = put(json!({"locale": "de", "email_notifications": true}))
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 400);
    assert_eq!(wrong.json::<Value>().await.unwrap()["field"], "locale");
    let off = put(json!({"locale": "en", "email_notifications": false}))
        .await
        .unwrap();
    assert_eq!(off.status().as_u16(), 200);
    let now: Value = client
        .get(app.url("/api/v1/account/settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now, json!({"locale": "en", "email_notifications": false}));
    // The same opt-out as the "unsubscribe from everything" link.
    use diesel::prelude::*;
    use gorod::db::schema::mail_opt_outs;
    let opted_out = || {
        mail_opt_outs::table
            .filter(mail_opt_outs::email.eq(email))
            .filter(mail_opt_outs::scope.eq("*"))
            .count()
            .get_result::<i64>(&mut *app.conn())
            .unwrap()
    };
    assert_eq!(opted_out(), 1);
    // The settings page shows it, in the account's pages.
    let settings = client
        .get(app.url("/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        settings.contains(r#"<option value="en" selected>"#),
        "{settings}"
    );
    assert!(!settings.contains("data-type=\"bool\" checked"));
    let on = put(json!({"locale": "ru", "email_notifications": true}))
        .await
        .unwrap();
    assert_eq!(on.status().as_u16(), 200);
    assert_eq!(opted_out(), 0);
    // Without the CSRF token nothing changes.
    let forged = client
        .put(app.url("/api/v1/account/settings"))
        .json(&json!({"locale": "en", "email_notifications": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(opted_out(), 0);
}

#[tokio::test]
async fn a_missing_page_is_a_page_in_the_sites_layout_and_language() {
    let app = common::spawn_app().await;
    let html = [("Accept", "text/html")];
    let (status, ru) = page(&app, "/no/such/page", &html).await;
    assert_eq!(status, 404);
    assert!(ru.contains(r#"<html lang="ru">"#), "{ru}");
    assert!(ru.contains("Такой страницы нет") && ru.contains("По этому адресу ничего нет"));
    assert!(
        ru.contains(r#"<a class="brand" href="/">"#),
        "the site's header: {ru}"
    );
    assert!(
        ru.contains(r#"href="/">На карту</a>"#),
        "the way back: {ru}"
    );
    assert!(!ru.contains("There is"), "one language: {ru}");
    let (_, en) = page(&app, "/no/such/page?lang=en", &html).await;
    assert!(en.contains(r#"<html lang="en">"#) && en.contains("There is no such page"));
    assert!(!en.contains("Такой"), "one language: {en}");
    // The switcher comes back to the same address, without its `lang=`.
    assert!(en.contains("/lang/ru?back=%2Fno%2Fsuch%2Fpage\""), "{en}");
    // The API and clients that do not ask for HTML get the JSON error.
    let (status, body) = app.get_json("/api/v1/no-such-thing").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, body) = app.get_json("/no/such/page").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn a_report_page_names_choices_and_districts_in_the_pages_language() {
    let app = common::spawn_app().await;
    let mut report = common::valid_report();
    report["answers"] = json!({"size": "large"});
    let (_, number) = file(&app, report).await;
    let (_, ru) = page(&app, &format!("/reports/{number}?lang=ru"), &[]).await;
    assert!(
        ru.contains("Больше метра") && ru.contains("Тверской район"),
        "{ru}"
    );
    assert!(!ru.contains("over a metre") && !ru.contains("Tverskoy District<"));
    let (_, en) = page(&app, &format!("/reports/{number}?lang=en"), &[]).await;
    assert!(
        en.contains("over a metre") && en.contains("<dd>Tverskoy District</dd>"),
        "{en}"
    );
    assert!(!en.contains("Больше метра") && !en.contains("Тверской район<"));
}

#[tokio::test]
async fn a_rejected_report_says_why_and_reassigning_preselects_no_department() {
    let app = common::spawn_app().await;
    // A supervisor reassigning an accepted report must choose the
    // department: none is preselected.
    let (accepted, number) = file(&app, common::valid_report()).await;
    let accept = json!({"action": "accept"});
    let (status, body) = app
        .act("demo-token-supervisor.roads", &accepted, &accept)
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, staff) = page_as(&app, &format!("/reports/{number}"), "supervisor.roads").await;
    assert!(
        staff.contains(r#"name="department" required><option value="" selected disabled>"#),
        "{staff}"
    );
    let (id, number) = file(&app, common::valid_report()).await;
    let reason = "Это частная территория, город её не обслуживает";
    let (status, body) = app
        .act(
            "demo-token-supervisor.roads",
            &id,
            &json!({"action": "reject", "reason": reason}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, public) = page(&app, &format!("/reports/{number}?lang=ru"), &[]).await;
    assert!(public.contains("Почему отклонено"), "{public}");
    assert!(
        public.contains(&format!(r#"<p id="rejection-reason">{reason}</p>"#)),
        "{public}"
    );
    // An open report has no such block.
    let (_, other) = file(&app, common::valid_report()).await;
    let (_, open) = page(&app, &format!("/reports/{other}"), &[]).await;
    assert!(!open.contains("rejection-reason"));
}

#[tokio::test]
async fn the_maps_use_the_citys_own_tile_server() {
    let app = common::spawn_app_with(|s| {
        s.map.tile_url = "https://tiles.city.example/{z}/{x}/{y}.png".into();
        s.map.attribution = "© City GIS <office>".into();
        s.map.max_zoom = 20;
    })
    .await;
    for path in ["/", "/new"] {
        let (status, body) = page(&app, path, &[]).await;
        assert_eq!(status, 200, "{path}");
        // The setup is JSON in an attribute, escaped for HTML.
        let setup = &body[body.find("data-setup=").unwrap()..];
        let setup = setup[12..setup[12..].find('"').unwrap() + 12].replace("&#34;", "\"");
        let setup: Value = serde_json::from_str(&setup).unwrap();
        assert_eq!(
            setup["tile_url"],
            "https://tiles.city.example/{z}/{x}/{y}.png"
        );
        assert_eq!(setup["attribution"], "© City GIS <office>");
        assert_eq!(setup["max_zoom"], 20);
        assert!(
            !body.contains("<office>"),
            "{path}: the attribution is escaped"
        );
    }
}

#[tokio::test]
async fn admins_see_the_catalogue_and_the_audit_log() {
    let app = common::spawn_app().await;
    let admin = [("Authorization", "Bearer demo-token-admin")];
    let (status, catalogue) = page(&app, "/admin/catalogue?lang=en", &admin).await;
    assert_eq!(status, 200);
    assert!(
        catalogue.contains(r#"<tr data-code="pothole">"#),
        "{catalogue}"
    );
    assert!(catalogue.contains("Pothole in the road") && catalogue.contains("Roads and pavements"));
    // A change, then the log says who made it.
    let renamed = json!({"name_ru": "Дороги", "name_en": "Roads"});
    let response = app
        .client
        .put(app.url("/api/v1/admin/category-groups/roads"))
        .bearer_auth("demo-token-admin")
        .json(&renamed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, log) = page(
        &app,
        "/admin/audit?object_type=category_group&lang=en",
        &admin,
    )
    .await;
    assert_eq!(status, 200);
    assert!(log.contains("admin@demo.gorod.local"), "{log}");
    assert!(log.contains("category_group roads"), "{log}");
    assert!(log.contains("1–1 of 1"), "{log}");
    // Crews and supervisors may not; anonymous visitors are sent to log in.
    let crew = [("Authorization", "Bearer demo-token-crew1.roads")];
    for path in ["/admin/audit", "/admin/catalogue"] {
        let (status, _) = page(&app, path, &crew).await;
        assert_eq!(status, 403, "{path}");
    }
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let anonymous = no_redirects
        .get(app.url("/admin/audit"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
}
