//! Limits per resident and per address, a report filed without an account
//! held for its emailed confirmation, and the demo's documented logins.

use super::*;

#[tokio::test]
async fn the_21st_report_of_the_day_gets_a_429_that_says_when() {
    let app = common::spawn_app_with(|s| {
        let defaults =
            gorod::config::Settings::load_with_env(&common::config_dir(), Default::default())
                .unwrap();
        s.limits.reports_per_day = defaults.limits.reports_per_day;
    })
    .await;
    for n in 0..20 {
        let mut report = common::valid_report();
        report["description"] = json!(format!("Яма номер {n} у перехода на Тверской"));
        let (status, body) = app.post_json("/api/v1/reports", &report).await;
        assert_eq!(status, 201, "report {n}: {body}");
    }
    let (status, body) = app
        .post_json("/api/v1/reports?lang=en", &common::valid_report())
        .await;
    assert_eq!(status, 429, "{body}");
    // Moscow's next midnight: 21:00 UTC.
    assert!(
        body["retry_at"].as_str().unwrap().ends_with("T21:00:00Z"),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("20 reports a day"),
        "{body}"
    );
    // When to come back, in the city's time.
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .ends_with("try again after 3 March 2026, 00:00"),
        "{body}"
    );
    let before = app.count_rows("reports");
    // Another resident still files; the next local day, so does this one.
    let mut other = common::valid_report();
    other["reporter"]["email"] = json!("someone.else@example.org");
    assert_eq!(app.post_json("/api/v1/reports", &other).await.0, 201);
    app.clock.advance(chrono::TimeDelta::days(1));
    assert_eq!(
        app.post_json("/api/v1/reports", &common::valid_report())
            .await
            .0,
        201
    );
    assert_eq!(app.count_rows("reports"), before + 2);
}

#[tokio::test]
async fn a_report_filed_without_an_account_waits_for_its_confirmation() {
    let app = common::spawn_app_with(|s| s.accounts.confirm_anonymous_reports = true).await;
    let email = "anna.petrova@example.ru";
    let (status, held) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    assert_eq!(
        (status, held["status"].as_str()),
        (202, Some("awaiting_confirmation")),
        "{held}"
    );
    assert_eq!(app.count_rows("reports"), 0, "not published, not routed");
    // Bad input is refused at once, and nothing is held.
    let mut bad = common::valid_report();
    bad["category"] = json!("no-such-category");
    assert_eq!(app.post_json("/api/v1/reports", &bad).await.0, 400);
    assert_eq!(app.count_rows("pending_reports"), 1);

    let link = emailed_link(&app, email, "/api/v1/account/confirm_report/").await;
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    // The page says what is being confirmed, in the email's one language.
    let page = page.text().await.unwrap();
    assert!(page.contains("<blockquote>"), "{page}");
    assert!(
        page.contains("Подтвердить и отправить") != page.contains("Confirm and send"),
        "{page}"
    );
    assert_eq!(
        app.count_rows("reports"),
        0,
        "following the link changes nothing"
    );
    let confirmed = app.client.post(&link).send().await.unwrap();
    assert_eq!(confirmed.status().as_u16(), 201);
    // It leads to the report's page, not to an API address.
    let confirmed = confirmed.text().await.unwrap();
    assert!(confirmed.contains(r#"href="/reports/1""#), "{confirmed}");
    assert!(!confirmed.contains("/api/v1/reports"), "{confirmed}");
    assert_eq!(app.count_rows("reports"), 1);
    let (_, list) = app.get_json("/api/v1/reports").await;
    assert_eq!(list["total"], 1);
    assert_eq!(
        app.client
            .post(&link)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        409,
        "once"
    );
    assert_eq!(app.count_rows("reports"), 1);

    // A logged-in resident's report is filed at once.
    register_and_verify(&app, "ivan@example.org", "ivan's password").await;
    let device = browser();
    let (_, session) = log_in(&device, &app, "ivan@example.org", "ivan's password", None).await;
    let mut own = common::valid_report();
    own["reporter"]["email"] = json!("ivan@example.org");
    let (status, body) = send(
        &device,
        &app,
        "POST",
        "/api/v1/reports",
        own,
        session["csrf_token"].as_str(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn registrations_from_one_address_are_limited() {
    let app = common::spawn_app().await;
    let mut statuses = Vec::new();
    for n in 0..21 {
        let body = json!({"email": format!("r{n}@example.org"), "password": "a good password"});
        statuses.push(
            send(
                &app.client,
                &app,
                "POST",
                "/api/v1/account/register",
                body,
                None,
            )
            .await
            .0,
        );
    }
    assert_eq!(&statuses[..20], &[202; 20]);
    assert_eq!(statuses[20], 429);
    // A reset request from the same address is counted with them.
    let reset = json!({"email": "r1@example.org"});
    let (status, _) = send(
        &app.client,
        &app,
        "POST",
        "/api/v1/account/password-reset",
        reset,
        None,
    )
    .await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn the_demo_people_log_in_with_the_documented_password_and_code() {
    let app = common::spawn_app().await;
    let password = gorod::demo::DEMO_PASSWORD;
    let (status, me) = log_in(
        &browser(),
        &app,
        "resident1@demo.gorod.local",
        password,
        None,
    )
    .await;
    assert_eq!(
        (status, me["role"].as_str()),
        (200, Some("resident")),
        "{me}"
    );
    let now = common::start_time().and_utc().timestamp();
    let code = totp::code(gorod::demo::DEMO_TOTP_SECRET, totp::step_at(now)).unwrap();
    let admin = "admin@demo.gorod.local";
    let (status, body) = log_in(&browser(), &app, admin, password, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("totp_required"))
    );
    let (status, me) = log_in(&browser(), &app, admin, password, Some(code)).await;
    assert_eq!(
        (status, me["second_factor_pending"].as_bool()),
        (200, Some(false)),
        "{me}"
    );
}

#[tokio::test]
async fn a_me_too_without_an_account_waits_for_its_confirmation() {
    let app = common::spawn_app_with(|s| s.accounts.confirm_anonymous_reports = true).await;
    let (status, filed) = app
        .post_as(
            "demo-token-admin",
            "/api/v1/reports",
            &common::valid_report().to_string(),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let (id, number) = (
        filed["id"].as_str().unwrap(),
        filed["number"].as_i64().unwrap(),
    );
    let stranger = "boris.ivanov@example.ru";
    let (status, held) = app
        .post_json(
            &format!("/api/v1/reports/{id}/support"),
            &json!({"email": stranger, "name": "Борис"}),
        )
        .await;
    assert_eq!(
        (status, held["status"].as_str()),
        (202, Some("awaiting_confirmation")),
        "{held}"
    );
    assert_eq!(app.count_rows("pending_supports"), 1);
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(report["support_count"], 1, "nobody joined yet");

    let link = emailed_link(&app, stranger, "/api/v1/account/confirm_support/").await;
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(
        report["support_count"], 1,
        "following the link changes nothing"
    );
    let joined = app.client.post(&link).send().await.unwrap();
    assert_eq!(joined.status().as_u16(), 200);
    let page = joined.text().await.unwrap();
    assert!(
        page.contains(&format!("/reports/{number}")),
        "links the report's page: {page}"
    );
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(report["support_count"], 2);
    let again = app.client.post(&link).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 409, "once");
}

#[tokio::test]
async fn one_address_gets_a_few_confirmation_emails_a_day_whoever_asks() {
    let app = common::spawn_app_with(|s| {
        s.accounts.confirm_anonymous_reports = true;
        s.limits.confirmations_per_address_per_day = 3;
    })
    .await;
    // Someone files in a stranger's name, again and again.
    let mut statuses = Vec::new();
    for n in 0..5 {
        let mut report = common::valid_report();
        report["description"] = json!(format!("Яма номер {n} у перехода на Тверской"));
        statuses.push(app.post_json("/api/v1/reports?lang=en", &report).await);
    }
    let codes: Vec<u16> = statuses.iter().map(|(s, _)| *s).collect();
    assert_eq!(codes, [202, 202, 202, 429, 429]);
    assert!(
        statuses[3].1["message"]
            .as_str()
            .unwrap()
            .contains("3 confirmation emails today"),
        "{}",
        statuses[3].1
    );
    assert_eq!(app.count_rows("pending_reports"), 3, "nothing more is held");
    // Registering the same address sends nothing more either, and answers
    // as usual (so it tells no one anything).
    let before = app.count_rows("outbox");
    let registered = app
        .post_json(
            "/api/v1/account/register",
            &json!({"email": "anna.petrova@example.ru", "password": "a good password"}),
        )
        .await;
    assert_eq!(registered.0, 202, "{}", registered.1);
    assert_eq!(app.count_rows("outbox"), before);
    // Another address is not affected; the next local day, this one is not.
    let mut other = common::valid_report();
    other["reporter"]["email"] = json!("someone.else@example.org");
    assert_eq!(app.post_json("/api/v1/reports", &other).await.0, 202);
    app.clock.advance(chrono::TimeDelta::days(1));
    assert_eq!(
        app.post_json("/api/v1/reports", &common::valid_report())
            .await
            .0,
        202
    );
}
