//! Accounts as people use them over HTTP: register and verify by the
//! emailed link, log in (staff with a second factor), sessions on two
//! devices that end together, disabled accounts, password reset, CSRF on
//! every state-changing cookie route, rate limits, and anonymous reports
//! held until confirmed.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

#[path = "../common/mod.rs"]
mod common;
mod limits;

use common::emailed_link;
use gorod::accounts::totp;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A browser: its own cookie jar.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

async fn send(
    client: &reqwest::Client,
    app: &common::TestApp,
    method: &str,
    path: &str,
    body: Value,
    csrf: Option<&str>,
) -> (u16, Value) {
    let mut request = client
        .request(method.parse().unwrap(), app.url(path))
        .json(&body);
    if let Some(csrf) = csrf {
        request = request.header("X-CSRF-Token", csrf);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn register_and_verify(app: &common::TestApp, email: &str, password: &str) {
    let (status, body) = send(
        &app.client,
        app,
        "POST",
        "/api/v1/account/register",
        json!({"email": email, "password": password}),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let link = emailed_link(app, email, "/api/v1/account/verify_email/").await;
    // Following the link changes nothing; its form's button verifies.
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let verified = app.client.post(&link).send().await.unwrap();
    assert_eq!(verified.status().as_u16(), 200);
    let again = app.client.post(&link).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 409, "a link works once");
}

async fn log_in(
    client: &reqwest::Client,
    app: &common::TestApp,
    email: &str,
    password: &str,
    code: Option<String>,
) -> (u16, Value) {
    let mut body = json!({"email": email, "password": password});
    if let Some(code) = code {
        body["totp"] = json!(code);
    }
    send(client, app, "POST", "/api/v1/account/login", body, None).await
}

#[tokio::test]
async fn logging_out_on_one_device_ends_the_session_on_the_other() {
    let app = common::spawn_app().await;
    let (email, password) = ("vera@example.org", "a long enough password");
    // Not verified yet: no login.
    send(
        &app.client,
        &app,
        "POST",
        "/api/v1/account/register",
        json!({"email": email, "password": password}),
        None,
    )
    .await;
    let (status, body) = log_in(&browser(), &app, email, password, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("email_not_verified")),
        "{body}"
    );
    register_and_verify(&app, email, password).await;

    let (phone, laptop) = (browser(), browser());
    let (status, on_phone) = log_in(&phone, &app, email, password, None).await;
    assert_eq!(status, 200, "{on_phone}");
    let (_, on_laptop) = log_in(&laptop, &app, email, password, None).await;
    for (client, session) in [(&phone, &on_phone), (&laptop, &on_laptop)] {
        let (status, me) = send(client, &app, "GET", "/api/v1/account/me", json!({}), None).await;
        assert_eq!((status, me["email"].as_str()), (200, Some(email)));
        assert_eq!(me["csrf_token"], session["csrf_token"]);
    }
    // The cookie is HttpOnly and SameSite=Lax.
    let response = app
        .client
        .post(app.url("/api/v1/account/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    // Logging out without the CSRF token is refused; with it, it ends both.
    let (status, body) = send(
        &phone,
        &app,
        "POST",
        "/api/v1/account/logout",
        json!({}),
        None,
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("csrf")));
    let (status, _) = send(
        &phone,
        &app,
        "POST",
        "/api/v1/account/logout",
        json!({}),
        on_phone["csrf_token"].as_str(),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = send(&laptop, &app, "GET", "/api/v1/account/me", json!({}), None).await;
    assert_eq!(
        status, 401,
        "the laptop's session ended with the phone's logout"
    );

    // Wrong passwords: five are answered 401, ever more slowly (from the
    // third, a pause that doubles), then the account waits (429).
    for n in 1..=5 {
        let started = Instant::now();
        let (status, _) = log_in(&browser(), &app, email, "not the password at all", None).await;
        assert_eq!(status, 401);
        if n == 5 {
            assert!(
                started.elapsed() >= Duration::from_millis(1000),
                "{:?}",
                started.elapsed()
            );
        }
    }
    let (status, body) = log_in(&browser(), &app, email, password, None).await;
    assert_eq!(status, 429, "{body}");
    assert!(body["retry_after_seconds"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn staff_enrol_a_second_factor_and_need_it_and_a_disabled_account_stops_at_once() {
    let app = common::spawn_app().await;
    let admin = "demo-token-admin";
    let password = "crew password 2026";
    let (status, created) = app
        .post_as(admin, "/api/v1/admin/users", &json!({"email": "pavel@roads.example", "role": "crew", "department": "roads", "password": password}).to_string())
        .await;
    assert_eq!(status, 201, "{created}");
    let user_id = created["id"].as_str().unwrap().to_string();

    // The first login owes the second factor: nothing but enrolment works.
    let device = browser();
    let (status, session) = log_in(&device, &app, "pavel@roads.example", password, None).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["second_factor_pending"], true);
    let csrf = session["csrf_token"].as_str().unwrap().to_string();
    let (status, body) = send(
        &device,
        &app,
        "GET",
        "/api/v1/supervisor/reports",
        json!({}),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("second_factor_required"))
    );
    let (status, enrol) = send(
        &device,
        &app,
        "POST",
        "/api/v1/account/totp",
        json!({}),
        Some(&csrf),
    )
    .await;
    assert_eq!(status, 200, "{enrol}");
    let secret = enrol["secret"].as_str().unwrap().to_string();
    let now = common::start_time().and_utc().timestamp();
    let code = |offset: i64| totp::code(&secret, totp::step_at(now) + offset).unwrap();
    let (status, _) = send(
        &device,
        &app,
        "POST",
        "/api/v1/account/totp/confirm",
        json!({"code": "000000"}),
        Some(&csrf),
    )
    .await;
    assert_eq!(status, 400);
    let (status, done) = send(
        &device,
        &app,
        "POST",
        "/api/v1/account/totp/confirm",
        json!({"code": code(0)}),
        Some(&csrf),
    )
    .await;
    assert_eq!(
        (status, done["second_factor_pending"].as_bool()),
        (200, Some(false)),
        "{done}"
    );
    let (status, _) = send(
        &device,
        &app,
        "GET",
        "/api/v1/supervisor/reports",
        json!({}),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // From now on the code is part of the login, and each code works once.
    let other = browser();
    let (status, body) = log_in(&other, &app, "pavel@roads.example", password, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("totp_required"))
    );
    let (status, _) = log_in(&other, &app, "pavel@roads.example", password, Some(code(0))).await;
    assert_eq!(status, 401, "the step was used at enrolment");
    let (status, _) = log_in(&other, &app, "pavel@roads.example", password, Some(code(1))).await;
    assert_eq!(status, 200);

    // An API token of the account, for the disabling to stop too.
    let (status, key) = app
        .post_as(
            admin,
            "/api/v1/admin/api-keys",
            &json!({"name": "Pavel's tablet", "kind": "api", "user": "pavel@roads.example"})
                .to_string(),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let token = key["key"].as_str().unwrap().to_string();
    let with_token = || {
        app.client
            .get(app.url("/api/v1/supervisor/reports"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(with_token().await.unwrap().status().as_u16(), 200);

    // An admin disables the account: both sessions and the token stop at once.
    let (status, _) = app
        .post_as(admin, &format!("/api/v1/admin/users/{user_id}/disable"), "")
        .await;
    assert_eq!(status, 200);
    for client in [&device, &other] {
        let (status, _) = send(client, &app, "GET", "/api/v1/account/me", json!({}), None).await;
        assert_eq!(status, 401);
    }
    let (status, body) = log_in(
        &browser(),
        &app,
        "pavel@roads.example",
        password,
        Some(code(2)),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("account_disabled"))
    );
    assert_eq!(with_token().await.unwrap().status().as_u16(), 401);
    // The audit log has both admin actions, with the values before and after.
    let audit: Value = app
        .client
        .get(app.url(&format!("/api/v1/admin/audit?object_id={user_id}")))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user.disable", "user.create"]);
    let disable = &audit["entries"][0];
    assert!(disable["before"]
        .as_str()
        .unwrap()
        .contains("\"disabled_at\":null"));
    assert!(!disable["after"]
        .as_str()
        .unwrap()
        .contains("\"disabled_at\":null"));
}

#[tokio::test]
async fn a_forgotten_password_is_reset_once_by_the_emailed_link() {
    let app = common::spawn_app().await;
    let email = "oleg@example.org";
    register_and_verify(&app, email, "the first password").await;
    let device = browser();
    assert_eq!(
        log_in(&device, &app, email, "the first password", None)
            .await
            .0,
        200
    );
    // The answer is the same for an unknown address.
    for address in [email, "nobody@example.org"] {
        let (status, _) = send(
            &app.client,
            &app,
            "POST",
            "/api/v1/account/password-reset",
            json!({"email": address}),
            None,
        )
        .await;
        assert_eq!(status, 202);
    }
    let link = emailed_link(&app, email, "/api/v1/account/reset_password/").await;
    let short = app
        .client
        .post(&link)
        .form(&[("password", "short")])
        .send()
        .await
        .unwrap();
    assert_eq!(short.status().as_u16(), 400);
    let reset = app
        .client
        .post(&link)
        .form(&[("password", "the second password")])
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    let again = app
        .client
        .post(&link)
        .form(&[("password", "the third password!")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 409);
    let (status, _) = send(&device, &app, "GET", "/api/v1/account/me", json!({}), None).await;
    assert_eq!(status, 401, "a reset ends every session");
    assert_eq!(
        log_in(&browser(), &app, email, "the first password", None)
            .await
            .0,
        401
    );
    assert_eq!(
        log_in(&browser(), &app, email, "the second password", None)
            .await
            .0,
        200
    );
}

/// Every route that changes something refuses a cookie session without its
/// CSRF token, or from another site, and accepts it with both.
#[tokio::test]
async fn every_state_changing_cookie_route_needs_the_csrf_token() {
    let app = common::spawn_app().await;
    let spec: Value = app.get_json("/api/v1/openapi.json").await.1;
    let email = "nina@example.org";
    register_and_verify(&app, email, "nina's password").await;
    let device = browser();
    let (_, session) = log_in(&device, &app, email, "nina's password", None).await;
    let csrf = session["csrf_token"].as_str().unwrap().to_string();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if method == "get" {
                continue;
            }
            let method = method.to_uppercase();
            let url = path
                .replace("{id}", "00000000-0000-0000-0000-000000000000")
                .replace("{code}", "standard")
                .replace("{day}", "2026-01-01")
                .replace("{token}", "not-a-token");
            // Links from emails prove themselves, as a witness's cosignature
            // does by its signature; logging in starts a session.
            let cookie_free = path.contains("{token}")
                || path.ends_with("/ledger/log/cosignature")
                || path.ends_with("/login")
                || path.ends_with("/register")
                || path.ends_with("/password-reset");
            if cookie_free {
                continue;
            }
            let (status, body) = send(&device, &app, &method, &url, json!({}), None).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (403, Some("csrf")),
                "{method} {path} without a token: {body}"
            );
            let request = device
                .request(method.parse().unwrap(), app.url(&url))
                .header("X-CSRF-Token", &csrf)
                .header("Origin", "https://evil.example")
                .json(&json!({}));
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status().as_u16(),
                403,
                "{method} {path} from another origin"
            );
            checked += 1;
            if path.ends_with("/logout") {
                continue; // with the token it works: the test above shows it
            }
            let (status, body) = send(&device, &app, &method, &url, json!({}), Some(&csrf)).await;
            assert_ne!(
                body["code"].as_str(),
                Some("csrf"),
                "{method} {path} with the token: {status}"
            );
        }
    }
    assert!(checked >= 20, "{checked}");
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_keeps_this_device() {
    let app = common::spawn_app().await;
    let email = "lev@example.org";
    register_and_verify(&app, email, "lev's first password").await;
    let (this, other) = (browser(), browser());
    let (_, session) = log_in(&this, &app, email, "lev's first password", None).await;
    log_in(&other, &app, email, "lev's first password", None).await;
    let csrf = session["csrf_token"].as_str().unwrap();
    let wrong =
        json!({"current_password": "wrong one here", "new_password": "lev's second password"});
    let (status, body) = send(
        &this,
        &app,
        "POST",
        "/api/v1/account/password",
        wrong,
        Some(csrf),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("current_password"))
    );
    let right = json!({"current_password": "lev's first password", "new_password": "lev's second password"});
    let (status, renewed) = send(
        &this,
        &app,
        "POST",
        "/api/v1/account/password",
        right,
        Some(csrf),
    )
    .await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(
        renewed["csrf_token"], session["csrf_token"],
        "a new session"
    );
    assert_eq!(
        send(&this, &app, "GET", "/api/v1/account/me", json!({}), None)
            .await
            .0,
        200
    );
    assert_eq!(
        send(&other, &app, "GET", "/api/v1/account/me", json!({}), None)
            .await
            .0,
        401
    );
    assert_eq!(
        log_in(&browser(), &app, email, "lev's second password", None)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn a_logged_in_resident_files_without_repeating_their_address() {
    let app = common::spawn_app().await;
    let email = "resident1@demo.gorod.local";
    let client = browser();
    let (status, session) = log_in(&client, &app, email, gorod::demo::DEMO_PASSWORD, None).await;
    assert_eq!(status, 200, "{session}");
    let csrf = session["csrf_token"].as_str().unwrap().to_string();
    let mut report = common::valid_report();
    report.as_object_mut().unwrap().remove("reporter");
    let (status, filed) = send(
        &client,
        &app,
        "POST",
        "/api/v1/reports",
        report.clone(),
        Some(&csrf),
    )
    .await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    use diesel::prelude::*;
    use gorod::db::schema::{reports, users};
    let mut pooled = app.conn();
    let conn: &mut gorod::db::DbConnection = &mut pooled;
    let reporter: Option<String> = reports::table
        .inner_join(users::table.on(reports::reporter_id.eq(users::id.nullable())))
        .filter(reports::id.eq(&id))
        .select(users::email)
        .first(conn)
        .optional()
        .unwrap();
    assert_eq!(reporter.as_deref(), Some(email));
    // Another address is refused, naming the field.
    report["reporter"] = json!({"email": "someone.else@example.ru"});
    let (status, refused) = send(
        &client,
        &app,
        "POST",
        "/api/v1/reports",
        report.clone(),
        Some(&csrf),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["field"], "reporter.email");
    // Without a session the address is required.
    report.as_object_mut().unwrap().remove("reporter");
    let (status, refused) = app.post_json("/api/v1/reports", &report).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["field"], "reporter.email");
}

#[tokio::test]
async fn errors_speak_the_asked_language_then_the_accounts_then_the_browsers() {
    let app = common::spawn_app().await;
    let bad = "/api/v1/reports?per_page=0";
    let message = |body: &Value| body["message"].as_str().unwrap().to_string();
    // Nobody said: the city's language.
    let (status, body) = app.get_json(bad).await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).starts_with("Строк на странице: "), "{body}");
    // The browser's language.
    let english = app
        .client
        .get(app.url(bad))
        .header("Accept-Language", "en-GB,en;q=0.9,ru;q=0.5")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(
        message(&english).starts_with("Rows per page: "),
        "{english}"
    );
    // A resident who chose English is answered in English whatever the
    // browser says, unless the request asks otherwise.
    let client = browser();
    let email = "resident1@demo.gorod.local";
    let (status, session) = log_in(&client, &app, email, gorod::demo::DEMO_PASSWORD, None).await;
    assert_eq!(status, 200, "{session}");
    let csrf = session["csrf_token"].as_str().unwrap().to_string();
    let settings = json!({"locale": "en", "email_notifications": true});
    let (status, body) = send(
        &client,
        &app,
        "PUT",
        "/api/v1/account/settings",
        settings,
        Some(&csrf),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer = |path: &str| {
        client
            .get(app.url(path))
            .header("Accept-Language", "ru")
            .send()
    };
    let body: Value = answer(bad).await.unwrap().json().await.unwrap();
    assert!(message(&body).starts_with("Rows per page: "), "{body}");
    let body: Value = answer(&format!("{bad}&lang=ru"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(message(&body).starts_with("Строк на странице: "), "{body}");
}
