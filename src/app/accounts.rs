//! Accounts: registering and verifying an address, logging in (and the
//! second factor), sessions, passwords and their reset, mail settings.
//! The HTTP handlers parse and authorise; these decide what is stored and
//! read the clock. Passwords arrive hashed (Argon2id runs on the blocking
//! pool before the database is touched).

pub use crate::db::access::TokenHolder;
pub use crate::db::accounts::{Limits, Login, MailSettings, Session};

use chrono::NaiveDateTime;

use super::Services;
use crate::accounts::{RESET_PASSWORD_FOR, VERIFY_EMAIL_FOR};
use crate::db::accounts::{self as accounts_db, NewSession};
use crate::db::rows::UserRow;
use crate::db::{self, DbConnection, DbError};
use crate::locale::Locale;
use crate::policy::Role;
use crate::reports::EmailAddress;

/// Registers a resident: their account with this password, usable once
/// the address is verified through the emailed link. A resident known
/// from earlier filings keeps their user (and reports). An address whose
/// account is verified already gets a note saying so instead, and nothing
/// changes; the caller answers the same either way, so that registering
/// tells no one which addresses have accounts.
pub fn register(
    services: &super::Services,
    conn: &mut DbConnection,
    email: &EmailAddress,
    name: Option<&str>,
    locale: Locale,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let resident = UserRow {
        id: db::new_id(),
        email: email.as_str().to_string(),
        name: name.map(str::to_string),
        phone: None,
        role: Role::Resident.as_str().into(),
        department_id: None,
        locale: locale.code().to_string(),
        created_at: now,
    };
    db::write_transaction(conn, |conn| {
        let (user_id, locale) = db::filing::find_or_create_user(conn, &resident)?;
        let mailbox = (email.as_str(), locale.as_str());
        let may_mail = super::limits::confirmation_allowed(services, conn, email.as_str(), now)?;
        match accounts_db::verified_at(conn, &user_id)? {
            Some(Some(_)) if !may_mail => Ok(()),
            Some(Some(_)) => {
                let key = db::new_id();
                let nothing = serde_json::json!({});
                db::outbox::send_account_message(
                    conn,
                    &key,
                    "account_exists",
                    mailbox,
                    &nothing,
                    now,
                )
            }
            account => {
                accounts_db::keep_unverified_password(
                    conn,
                    &user_id,
                    password_hash,
                    account.is_some(),
                    now,
                )?;
                if !may_mail {
                    return Ok(());
                }
                let to = (user_id.as_str(), mailbox.0, mailbox.1);
                accounts_db::send_token(conn, "verify_email", to, now, VERIFY_EMAIL_FOR)
            }
        }
    })
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

/// Emails a password-reset link to this address if it has a live
/// account; does nothing otherwise (the caller answers the same either
/// way).
pub fn request_password_reset(
    services: &super::Services,
    conn: &mut DbConnection,
    email: &EmailAddress,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    db::write_transaction(conn, |conn| {
        let Some(login) = accounts_db::login_by_email(conn, email.as_str())? else {
            return Ok(());
        };
        if login.disabled_at.is_some()
            || !super::limits::confirmation_allowed(services, conn, &login.email, now)?
        {
            return Ok(());
        }
        let to = (
            login.user_id.as_str(),
            login.email.as_str(),
            login.locale.as_str(),
        );
        accounts_db::send_token(conn, "reset_password", to, now, RESET_PASSWORD_FOR)
    })
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
