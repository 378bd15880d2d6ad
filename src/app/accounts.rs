//! Accounts: registering and verifying an address, logging in (and the
//! second factor), sessions, passwords and their reset, mail settings.
//! The HTTP handlers parse and authorise; these decide what is stored and
//! read the clock. Passwords arrive hashed (Argon2id runs on the blocking
//! pool before the database is touched).

pub use crate::db::access::TokenHolder;
pub use crate::db::accounts::{Limits, Login, MailSettings, Session};

use super::Services;
use crate::db::accounts::{self as accounts_db, NewSession};
use crate::db::{DbConnection, DbError};
use crate::locale::Locale;
use crate::reports::EmailAddress;

/// Registers a resident (or emails the owner of an address that has an
/// account already; the caller cannot tell which).
pub fn register(
    app: &Services,
    conn: &mut DbConnection,
    email: &EmailAddress,
    name: Option<&str>,
    locale: Locale,
    password_hash: &str,
) -> Result<(), DbError> {
    let now = app.clock.now();
    accounts_db::register(
        conn,
        email.as_str(),
        name,
        locale.code(),
        password_hash,
        now,
    )
}

/// Marks the address of a verification token verified; false when the
/// token was used or has expired.
pub fn verify_email(
    app: &Services,
    conn: &mut DbConnection,
    token_id: &str,
) -> Result<bool, DbError> {
    accounts_db::verify_email(conn, token_id, app.clock.now())
}

/// The account of an address.
pub fn by_email(conn: &mut DbConnection, email: &EmailAddress) -> Result<Option<Login>, DbError> {
    accounts_db::login_by_email(conn, email.as_str())
}

/// The account of a user.
pub fn by_id(conn: &mut DbConnection, user_id: &str) -> Result<Option<Login>, DbError> {
    accounts_db::login_by_id(conn, user_id)
}

/// Uses up the TOTP step a code was accepted for; false when it (or a
/// later one) was used already.
pub fn use_totp_step(
    app: &Services,
    conn: &mut DbConnection,
    user_id: &str,
    step: i64,
) -> Result<bool, DbError> {
    accounts_db::use_totp_step(conn, user_id, step, app.clock.now())
}

/// A new session to start.
pub struct NewLogin {
    pub user_id: String,
    /// The digest of the session's secret (the cookie holds the secret).
    pub id_hash: String,
    pub csrf_key: String,
    /// Whether every factor was given (else the session can only enrol one).
    pub full: bool,
    pub ip: Option<String>,
    /// The session the request came with, ended first.
    pub previous: Option<String>,
}

/// Starts a session, ending the one the request came with.
pub fn start_session(
    app: &Services,
    conn: &mut DbConnection,
    new: &NewLogin,
    limits: Limits,
) -> Result<(), DbError> {
    let now = app.clock.now();
    if let Some(previous) = &new.previous {
        accounts_db::end_session(conn, previous, now)?;
    }
    accounts_db::start_session(
        conn,
        &NewSession {
            id_hash: &new.id_hash,
            user_id: &new.user_id,
            stage: if new.full { "full" } else { "password" },
            csrf_key: &new.csrf_key,
            ip: new.ip.as_deref(),
        },
        now,
        limits,
    )
}

/// The live session a cookie's secret digest names, kept alive.
pub fn session(
    app: &Services,
    conn: &mut DbConnection,
    id_hash: &str,
    limits: Limits,
) -> Result<Option<Session>, DbError> {
    accounts_db::session(conn, id_hash, app.clock.now(), limits)
}

/// The staff member an API token's digest belongs to.
pub fn token_holder(conn: &mut DbConnection, digest: &str) -> Result<Option<TokenHolder>, DbError> {
    crate::db::access::staff_by_token(conn, digest)
}

/// A session that owed its second factor becomes a full one.
pub fn complete_session(conn: &mut DbConnection, id_hash: &str) -> Result<(), DbError> {
    accounts_db::complete_session(conn, id_hash)
}

/// Ends every session of an account (logging out everywhere).
pub fn end_sessions(app: &Services, conn: &mut DbConnection, user_id: &str) -> Result<(), DbError> {
    accounts_db::end_sessions(conn, user_id, app.clock.now())
}

/// Sets a new password; every session of the account ends.
pub fn set_password(
    app: &Services,
    conn: &mut DbConnection,
    user_id: &str,
    hash: &str,
) -> Result<(), DbError> {
    accounts_db::set_password(conn, user_id, hash, app.clock.now())
}

/// Emails a reset link when the address has an account.
pub fn request_password_reset(
    app: &Services,
    conn: &mut DbConnection,
    email: &EmailAddress,
) -> Result<(), DbError> {
    accounts_db::request_password_reset(conn, email.as_str(), app.clock.now())
}

/// The address a live reset token is for.
pub fn reset_token_email(
    app: &Services,
    conn: &mut DbConnection,
    token_id: &str,
) -> Result<Option<String>, DbError> {
    accounts_db::token_email(conn, "reset_password", token_id, app.clock.now())
}

/// Sets the password a reset token allows, once; `None` when the token was
/// used or has expired.
pub fn reset_password(
    app: &Services,
    conn: &mut DbConnection,
    token_id: &str,
    hash: &str,
) -> Result<Option<String>, DbError> {
    accounts_db::reset_password(conn, token_id, hash, app.clock.now())
}

/// Keeps a new TOTP secret, counted once its first code is confirmed.
pub fn set_totp_secret(
    app: &Services,
    conn: &mut DbConnection,
    user_id: &str,
    secret: &str,
) -> Result<(), DbError> {
    accounts_db::set_totp_secret(conn, user_id, secret, app.clock.now())
}

/// An account's mail settings.
pub fn mail_settings(
    conn: &mut DbConnection,
    user_id: &str,
) -> Result<Option<MailSettings>, DbError> {
    accounts_db::mail_settings(conn, user_id)
}

/// Changes an account's mail settings, from the next queued message on.
pub fn set_mail_settings(
    app: &Services,
    conn: &mut DbConnection,
    user_id: &str,
    chosen: &MailSettings,
) -> Result<(), DbError> {
    accounts_db::set_mail_settings(conn, user_id, chosen, app.clock.now())
}

/// The code of a staff member's department.
pub fn department_code(
    app: &Services,
    conn: &mut DbConnection,
    department_id: Option<&str>,
) -> Result<Option<String>, DbError> {
    let snapshot = app.catalog_snapshot(conn)?;
    Ok(department_id
        .and_then(|d| d.parse().ok())
        .map(|id| snapshot.map.departments().code(id).to_string()))
}
