//! Accounts in the database: registration and address verification by a
//! one-time token, password reset, server-side sessions that end together,
//! disabled accounts whose sessions and tokens stop at once, and TOTP steps
//! used once. (The HTTP endpoints over these come with the login pages.)
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use chrono::TimeDelta;
use diesel::prelude::*;
use gorod::accounts::{self, NewPassword};
use gorod::db::accounts::{self as account_db, Limits, NewSession};
use gorod::db::schema::outbox;
use gorod::db::{access, DbConnection};
use gorod::locale::Locale;
use gorod::reports::EmailAddress;

fn address(email: &str) -> EmailAddress {
    EmailAddress::parse("email", email).unwrap()
}

const LIMITS: Limits = Limits {
    idle: TimeDelta::hours(2),
    absolute: TimeDelta::hours(24),
};

/// The token id in the newest account email of this template to `email`.
fn emailed_token(conn: &mut DbConnection, template: &str, email: &str) -> Option<String> {
    let payloads: Vec<String> = outbox::table
        .filter(outbox::template.eq(template))
        .filter(outbox::recipient.eq(email))
        .order(outbox::created_at.desc())
        .select(outbox::payload)
        .load(conn)
        .unwrap();
    payloads.first().map(|p| {
        serde_json::from_str::<serde_json::Value>(p).unwrap()["token_id"]
            .as_str()
            .unwrap()
            .to_string()
    })
}

fn session(conn: &mut DbConnection, user_id: &str, now: chrono::NaiveDateTime) -> String {
    let cookie = accounts::new_secret();
    account_db::start_session(
        conn,
        &NewSession {
            id_hash: &accounts::secret_digest(&cookie),
            user_id,
            stage: "full",
            csrf_key: "00",
            ip: Some("203.0.113.7"),
        },
        now,
        LIMITS,
    )
    .unwrap();
    cookie
}

fn live(conn: &mut DbConnection, cookie: &str, now: chrono::NaiveDateTime) -> bool {
    account_db::session(conn, &accounts::secret_digest(cookie), now, LIMITS)
        .unwrap()
        .is_some()
}

#[tokio::test]
async fn a_resident_registers_verifies_once_and_the_hash_carries_owasp_parameters() {
    let app = common::spawn_app().await;
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    let now = common::start_time();
    let email = "new.resident@example.ru";
    let password = NewPassword::parse("тихая улица 42", email).unwrap();
    gorod::app::accounts::register(
        &app.services,
        conn,
        &address(email),
        Some("Анна"),
        Locale::Ru,
        &password.hash(),
        now,
    )
    .unwrap();

    let login = account_db::login_by_email(conn, email).unwrap().unwrap();
    assert_eq!(login.role, "resident");
    assert!(login.email_verified_at.is_none());
    // The stored hash names its algorithm and parameters.
    let stored = login.password_hash.unwrap();
    let (m, t, p) = accounts::PASSWORD_PARAMS;
    assert!(
        stored.starts_with(&format!("$argon2id$v=19$m={m},t={t},p={p}$")),
        "{stored}"
    );
    assert!(m >= 19_456 && t >= 2 && p >= 1, "OWASP's minimum");
    assert!(accounts::verify_password("тихая улица 42", &stored));

    let token = emailed_token(conn, "verify_email", email).expect("a verification email");
    assert!(!account_db::verify_email(conn, "not-a-token", now).unwrap());
    assert!(account_db::verify_email(conn, &token, now).unwrap());
    assert!(
        !account_db::verify_email(conn, &token, now).unwrap(),
        "used once"
    );
    let login = account_db::login_by_email(conn, email).unwrap().unwrap();
    assert_eq!(login.email_verified_at, Some(now));

    // Registering again with a verified address changes nothing and says so.
    let other = NewPassword::parse("другой пароль 1", email).unwrap();
    gorod::app::accounts::register(
        &app.services,
        conn,
        &address(email),
        None,
        Locale::Ru,
        &other.hash(),
        now,
    )
    .unwrap();
    let login = account_db::login_by_email(conn, email).unwrap().unwrap();
    assert!(accounts::verify_password(
        "тихая улица 42",
        &login.password_hash.unwrap()
    ));
    let notes: i64 = outbox::table
        .filter(outbox::template.eq("account_exists"))
        .filter(outbox::recipient.eq(email))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(notes, 1);
}

#[tokio::test]
async fn a_verification_link_expires_after_48_hours() {
    let app = common::spawn_app().await;
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    let now = common::start_time();
    let email = "late@example.ru";
    let password = NewPassword::parse("достаточно длинный", email).unwrap();
    gorod::app::accounts::register(
        &app.services,
        conn,
        &address(email),
        None,
        Locale::En,
        &password.hash(),
        now,
    )
    .unwrap();
    let token = emailed_token(conn, "verify_email", email).unwrap();
    let later = now + gorod::accounts::VERIFY_EMAIL_FOR + TimeDelta::seconds(1);
    assert!(!account_db::verify_email(conn, &token, later).unwrap());
}

#[tokio::test]
async fn ending_sessions_ends_every_one_of_the_account_and_a_reset_does_too() {
    let app = common::spawn_app().await;
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    let now = common::start_time();
    let email = "two.devices@example.ru";
    let password = NewPassword::parse("первый пароль", email).unwrap();
    gorod::app::accounts::register(
        &app.services,
        conn,
        &address(email),
        None,
        Locale::Ru,
        &password.hash(),
        now,
    )
    .unwrap();
    let user = account_db::login_by_email(conn, email).unwrap().unwrap();

    let (phone, laptop) = (
        session(conn, &user.user_id, now),
        session(conn, &user.user_id, now),
    );
    assert!(live(conn, &phone, now) && live(conn, &laptop, now));
    account_db::end_sessions(conn, &user.user_id, now).unwrap();
    assert!(!live(conn, &phone, now) && !live(conn, &laptop, now));

    // Idle and absolute limits.
    let idle = session(conn, &user.user_id, now);
    assert!(live(conn, &idle, now + TimeDelta::minutes(119)));
    assert!(!live(
        conn,
        &idle,
        now + TimeDelta::minutes(119) + LIMITS.idle + TimeDelta::seconds(1)
    ));
    let busy = session(conn, &user.user_id, now);
    let mut t = now;
    while t < now + TimeDelta::hours(23) {
        t += TimeDelta::hours(1);
        assert!(live(conn, &busy, t), "kept alive at {t}");
    }
    assert!(!live(conn, &busy, now + TimeDelta::hours(24)), "absolute");

    // A password reset by the emailed link ends the sessions too.
    let open = session(conn, &user.user_id, now);
    gorod::app::accounts::request_password_reset(&app.services, conn, &address(email), now)
        .unwrap();
    let token = emailed_token(conn, "reset_password", email).unwrap();
    let new = NewPassword::parse("второй пароль", email).unwrap();
    let reset = account_db::reset_password(conn, &token, &new.hash(), now).unwrap();
    assert_eq!(reset.as_deref(), Some(user.user_id.as_str()));
    assert!(!live(conn, &open, now));
    let login = account_db::login_by_email(conn, email).unwrap().unwrap();
    assert!(accounts::verify_password(
        "второй пароль",
        &login.password_hash.unwrap()
    ));
    assert_eq!(
        account_db::reset_password(conn, &token, &new.hash(), now).unwrap(),
        None,
        "a reset link works once"
    );
    // No reset mail for an address without an account.
    gorod::app::accounts::request_password_reset(
        &app.services,
        conn,
        &address("nobody@example.ru"),
        now,
    )
    .unwrap();
    assert!(emailed_token(conn, "reset_password", "nobody@example.ru").is_none());
}

#[tokio::test]
async fn a_disabled_account_loses_its_sessions_and_api_tokens_at_once() {
    let app = common::spawn_app().await;
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    let now = common::start_time();
    // A demo crew member: an API token and a demo account.
    let crew_id = access::staff_by_token(conn, &accounts::secret_digest("demo-token-crew1.roads"))
        .unwrap()
        .expect("the demo crew token")
        .user_id;
    let cookie = session(conn, &crew_id, now);
    assert!(live(conn, &cookie, now));

    assert!(account_db::set_disabled(conn, &crew_id, true, now).unwrap());
    assert!(!live(conn, &cookie, now));
    assert!(
        access::staff_by_token(conn, &accounts::secret_digest("demo-token-crew1.roads"))
            .unwrap()
            .is_none(),
        "the token stops working"
    );
    assert!(account_db::set_disabled(conn, &crew_id, false, now).unwrap());
    assert!(
        !live(conn, &cookie, now),
        "enabling does not bring sessions back"
    );
    assert!(
        access::staff_by_token(conn, &accounts::secret_digest("demo-token-crew1.roads"))
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_totp_step_is_used_once_and_the_first_enrols_the_secret() {
    let app = common::spawn_app().await;
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    let now = common::start_time();
    let email = "supervisor.new@example.ru";
    let password = NewPassword::parse("надёжный пароль", email).unwrap();
    gorod::app::accounts::register(
        &app.services,
        conn,
        &address(email),
        None,
        Locale::Ru,
        &password.hash(),
        now,
    )
    .unwrap();
    let user = account_db::login_by_email(conn, email).unwrap().unwrap();
    let secret = accounts::totp::new_secret();
    account_db::set_totp_secret(conn, &user.user_id, &secret, now).unwrap();
    let step = accounts::totp::step_at(now.and_utc().timestamp());
    let code = accounts::totp::code(&secret, step).unwrap();
    let accepted = accounts::totp::accept(&secret, &code, now.and_utc().timestamp(), None);
    assert_eq!(accepted, Some(step));
    assert!(account_db::use_totp_step(conn, &user.user_id, step, now).unwrap());
    assert!(!account_db::use_totp_step(conn, &user.user_id, step, now).unwrap());
    let login = account_db::login_by_email(conn, email).unwrap().unwrap();
    assert_eq!(login.totp_enrolled_at, Some(now));
    assert_eq!(login.totp_last_step, Some(step));
}
