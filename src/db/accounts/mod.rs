//! Accounts, sessions and one-time account tokens.
//!
//! A session is found by the SHA-256 of its cookie value and is live while
//! it has not ended, its idle and absolute limits have not passed and its
//! account is not disabled. Ending "every session of an account" is one
//! UPDATE, so logout, a password change or disabling takes effect on the
//! next request everywhere.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::json;

use super::outbox::send_account_message;
use super::rows::UserRow;
use super::schema::{account_tokens, accounts, sessions, users};
use super::{new_id, write_transaction, DbConnection, DbError};

mod live_sessions;
pub use live_sessions::*;

/// A person who may log in, as the login needs them.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct Login {
    #[diesel(column_name = id)]
    pub user_id: String,
    pub email: String,
    pub role: String,
    pub department_id: Option<String>,
    pub locale: String,
    #[diesel(select_expression = accounts::password_hash)]
    pub password_hash: Option<String>,
    #[diesel(select_expression = accounts::email_verified_at)]
    pub email_verified_at: Option<NaiveDateTime>,
    #[diesel(select_expression = accounts::totp_secret)]
    pub totp_secret: Option<String>,
    #[diesel(select_expression = accounts::totp_enrolled_at)]
    pub totp_enrolled_at: Option<NaiveDateTime>,
    #[diesel(select_expression = accounts::totp_last_step)]
    pub totp_last_step: Option<i64>,
    #[diesel(select_expression = accounts::disabled_at)]
    pub disabled_at: Option<NaiveDateTime>,
}

/// The account of this email, if it has one.
pub fn login_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<Login>, DbError> {
    Ok(users::table
        .inner_join(accounts::table)
        .filter(users::email.eq(email))
        .select(Login::as_select())
        .first(conn)
        .optional()?)
}

/// The account of this user, if they have one.
pub fn login_by_id(conn: &mut DbConnection, user_id: &str) -> Result<Option<Login>, DbError> {
    Ok(users::table
        .inner_join(accounts::table)
        .filter(users::id.eq(user_id))
        .select(Login::as_select())
        .first(conn)
        .optional()?)
}

/// Whether a user has an account, and when its address was verified:
/// `None` (no account), `Some(None)` (not verified yet), `Some(Some(_))`.
pub fn verified_at(
    conn: &mut DbConnection,
    user_id: &str,
) -> Result<Option<Option<NaiveDateTime>>, DbError> {
    Ok(accounts::table
        .find(user_id)
        .select(accounts::email_verified_at)
        .first(conn)
        .optional()?)
}

/// Gives a user an account with this password (replacing the password of
/// one not verified yet); it works once the address is verified.
pub fn keep_unverified_password(
    conn: &mut DbConnection,
    user_id: &str,
    password_hash: &str,
    has_account: bool,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    if has_account {
        diesel::update(accounts::table.find(user_id))
            .set((
                accounts::password_hash.eq(password_hash),
                accounts::updated_at.eq(now),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(accounts::table)
            .values((
                accounts::user_id.eq(user_id),
                accounts::password_hash.eq(password_hash),
                accounts::created_at.eq(now),
                accounts::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Makes a one-time token that lasts `lasts` and emails its link.
pub fn send_token(
    conn: &mut DbConnection,
    purpose: &str,
    (user_id, email, locale): (&str, &str, &str),
    now: NaiveDateTime,
    lasts: TimeDelta,
) -> Result<(), DbError> {
    let token_id = new_id();
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::id.eq(&token_id),
            account_tokens::purpose.eq(purpose),
            account_tokens::user_id.eq(user_id),
            account_tokens::created_at.eq(now),
            account_tokens::expires_at.eq(now + lasts),
        ))
        .execute(conn)?;
    send_account_message(
        conn,
        &token_id,
        purpose,
        (email, locale),
        &json!({ "token_id": token_id }),
        now,
    )
}

/// Uses a one-time token: the user it was made for, if it exists, is for
/// this purpose, has not expired and was not used before.
fn use_token(
    conn: &mut DbConnection,
    purpose: &str,
    token_id: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, DbError> {
    let used = diesel::update(
        account_tokens::table
            .filter(account_tokens::id.eq(token_id))
            .filter(account_tokens::purpose.eq(purpose))
            .filter(account_tokens::used_at.is_null())
            .filter(account_tokens::expires_at.gt(now)),
    )
    .set(account_tokens::used_at.eq(now))
    .execute(conn)?;
    if used == 0 {
        return Ok(None);
    }
    Ok(account_tokens::table
        .find(token_id)
        .select(account_tokens::user_id)
        .first(conn)
        .optional()?)
}

/// The email of the account a one-time token is for, while the token is
/// still good (nothing is used up).
pub fn token_email(
    conn: &mut DbConnection,
    purpose: &str,
    token_id: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, DbError> {
    Ok(account_tokens::table
        .inner_join(users::table)
        .filter(account_tokens::id.eq(token_id))
        .filter(account_tokens::purpose.eq(purpose))
        .filter(account_tokens::used_at.is_null())
        .filter(account_tokens::expires_at.gt(now))
        .select(users::email)
        .first(conn)
        .optional()?)
}

/// Ends one session (its cookie is replaced at login).
pub fn end_session(
    conn: &mut DbConnection,
    id_hash: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(
        sessions::table
            .find(id_hash)
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Verifies an address by its emailed token; whether the token was good.
pub fn verify_email(
    conn: &mut DbConnection,
    token_id: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    write_transaction(conn, |conn| {
        let Some(user_id) = use_token(conn, "verify_email", token_id, now)? else {
            return Ok(false);
        };
        diesel::update(accounts::table.find(&user_id))
            .set((
                accounts::email_verified_at.eq(now),
                accounts::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// Sets a new password by an emailed reset token, which also verifies the
/// address (the mail reached its owner); every session of the account
/// ends. The user whose password it was, if the token was good.
pub fn reset_password(
    conn: &mut DbConnection,
    token_id: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, DbError> {
    write_transaction(conn, |conn| {
        let Some(user_id) = use_token(conn, "reset_password", token_id, now)? else {
            return Ok(None);
        };
        diesel::update(accounts::table.find(&user_id))
            .set((
                accounts::password_hash.eq(password_hash),
                accounts::email_verified_at.eq(now),
                accounts::updated_at.eq(now),
            ))
            .execute(conn)?;
        end_sessions(conn, &user_id, now)?;
        Ok(Some(user_id))
    })
}

/// Sets a new password; every session of the account ends.
pub fn set_password(
    conn: &mut DbConnection,
    user_id: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        diesel::update(accounts::table.find(user_id))
            .set((
                accounts::password_hash.eq(password_hash),
                accounts::updated_at.eq(now),
            ))
            .execute(conn)?;
        end_sessions(conn, user_id, now)
    })
}

/// Creates a staff account (by an admin): the user, and an account with
/// this password whose address counts as verified. They still enrol a
/// second factor at their first login.
pub fn create_staff(
    conn: &mut DbConnection,
    user: &UserRow,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        diesel::insert_into(users::table)
            .values(user)
            .execute(conn)?;
        diesel::insert_into(accounts::table)
            .values((
                accounts::user_id.eq(&user.id),
                accounts::password_hash.eq(password_hash),
                accounts::email_verified_at.eq(now),
                accounts::created_at.eq(now),
                accounts::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Disables or enables a user's account (made for the purpose if they
/// have none yet). Disabling ends every session at once; their API tokens
/// stop working while it stays disabled. Whether the user exists.
pub fn set_disabled(
    conn: &mut DbConnection,
    user_id: &str,
    disabled: bool,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    write_transaction(conn, |conn| {
        let exists: i64 = users::table.find(user_id).count().get_result(conn)?;
        if exists == 0 {
            return Ok(false);
        }
        // A user known only by an API token gets an account row to hold
        // the mark (no password: it cannot log in).
        insert_or_ignore!(
            conn,
            accounts::table,
            (
                accounts::user_id.eq(user_id),
                accounts::created_at.eq(now),
                accounts::updated_at.eq(now),
            )
        );
        diesel::update(accounts::table.find(user_id))
            .set((
                accounts::disabled_at.eq(disabled.then_some(now)),
                accounts::updated_at.eq(now),
            ))
            .execute(conn)?;
        if disabled {
            end_sessions(conn, user_id, now)?;
        }
        Ok(true)
    })
}

/// Counts the account's TOTP secret as enrolled (an administrator made
/// on the command line, whose secret was shown to the operator).
pub fn enrol_totp(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(accounts::table.find(user_id))
        .set((
            accounts::totp_enrolled_at.eq(now),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// An account as `gorod admin list` shows it.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub email: String,
    pub role: String,
    pub department_id: Option<String>,
    pub has_password: bool,
    pub second_factor: bool,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
}

/// Every account, staff first, then by email.
pub fn summaries(conn: &mut DbConnection) -> Result<Vec<AccountSummary>, DbError> {
    #[derive(Queryable)]
    struct Row {
        email: String,
        role: String,
        department_id: Option<String>,
        hash: Option<String>,
        totp: Option<NaiveDateTime>,
        disabled: Option<NaiveDateTime>,
        created_at: NaiveDateTime,
    }
    let rows: Vec<Row> = users::table
        .inner_join(accounts::table)
        .order(users::email)
        .select((
            users::email,
            users::role,
            users::department_id,
            accounts::password_hash,
            accounts::totp_enrolled_at,
            accounts::disabled_at,
            accounts::created_at,
        ))
        .load(conn)?;
    let mut summaries: Vec<AccountSummary> = rows
        .into_iter()
        .map(|r| AccountSummary {
            email: r.email,
            role: r.role,
            department_id: r.department_id,
            has_password: r.hash.is_some(),
            second_factor: r.totp.is_some(),
            disabled: r.disabled.is_some(),
            created_at: r.created_at,
        })
        .collect();
    summaries.sort_by_key(|a| (a.role == "resident", a.email.clone()));
    Ok(summaries)
}

/// Keeps a new TOTP secret, not yet enrolled (the first code confirms it).
pub fn set_totp_secret(
    conn: &mut DbConnection,
    user_id: &str,
    secret: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(accounts::table.find(user_id))
        .set((
            accounts::totp_secret.eq(secret),
            accounts::totp_enrolled_at.eq(None::<NaiveDateTime>),
            accounts::totp_last_step.eq(None::<i64>),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records that a TOTP step was used (enrolling the secret if it was not);
/// false if that step or a later one was used already (a replayed code).
pub fn use_totp_step(
    conn: &mut DbConnection,
    user_id: &str,
    step: i64,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    write_transaction(conn, |conn| {
        let changed = diesel::update(
            accounts::table.find(user_id).filter(
                accounts::totp_last_step
                    .is_null()
                    .or(accounts::totp_last_step.lt(step)),
            ),
        )
        .set((
            accounts::totp_last_step.eq(step),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)?;
        if changed == 1 {
            diesel::update(
                accounts::table
                    .find(user_id)
                    .filter(accounts::totp_enrolled_at.is_null()),
            )
            .set(accounts::totp_enrolled_at.eq(now))
            .execute(conn)?;
        }
        Ok(changed == 1)
    })
}

/// What a resident chose about their mail: the language, and whether they
/// get any message at all (an opt-out from everything, the same one the
/// "unsubscribe from all" link records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    pub locale: String,
    pub email_notifications: bool,
}

/// The mail settings of this user (`None`: no such user).
pub fn mail_settings(
    conn: &mut DbConnection,
    user_id: &str,
) -> Result<Option<MailSettings>, DbError> {
    use super::schema::mail_opt_outs;
    let Some((email, locale)) = users::table
        .find(user_id)
        .select((users::email, users::locale))
        .first::<(String, String)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let opted_out: i64 = mail_opt_outs::table
        .filter(mail_opt_outs::email.eq(&email))
        .filter(mail_opt_outs::scope.eq(super::outbox::ALL))
        .count()
        .get_result(conn)?;
    Ok(Some(MailSettings {
        locale,
        email_notifications: opted_out == 0,
    }))
}

/// Changes a user's mail settings; from the next queued message on.
pub fn set_mail_settings(
    conn: &mut DbConnection,
    user_id: &str,
    settings: &MailSettings,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    use super::schema::mail_opt_outs;
    write_transaction(conn, |conn| {
        let email: String = users::table
            .find(user_id)
            .select(users::email)
            .first(conn)?;
        diesel::update(users::table.find(user_id))
            .set(users::locale.eq(&settings.locale))
            .execute(conn)?;
        if settings.email_notifications {
            diesel::delete(
                mail_opt_outs::table
                    .filter(mail_opt_outs::email.eq(&email))
                    .filter(mail_opt_outs::scope.eq(super::outbox::ALL)),
            )
            .execute(conn)?;
        } else {
            super::outbox::opt_out(conn, &email, None, now)?;
        }
        Ok(())
    })
}

/// Deletes a resident's account: their name, email and phone are gone
/// from every row that held them (the email becomes an address that can
/// never receive mail), their sessions, API tokens, subscriptions, held
/// requests and unsent mail end; their reports stay as the city's
/// records, without their name. The user's id stays (the ledger's
/// pseudonyms are derived from it and keep verifying). Whether the user
/// existed.
pub fn anonymise(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    use crate::db::schema::{
        api_keys, mail_opt_outs, outbox, pending_reports, pending_supports, reports, subscriptions,
    };
    write_transaction(conn, |conn| {
        let Some(email) = users::table
            .find(user_id)
            .select(users::email)
            .first::<String>(conn)
            .optional()?
        else {
            return Ok(false);
        };
        diesel::update(users::table.find(user_id))
            .set((
                users::email.eq(format!("deleted-{user_id}@deleted.invalid")),
                users::name.eq(None::<String>),
                users::phone.eq(None::<String>),
                users::deleted_at.eq(now),
            ))
            .execute(conn)?;
        diesel::update(accounts::table.find(user_id))
            .set((
                accounts::password_hash.eq(None::<String>),
                accounts::totp_secret.eq(None::<String>),
                accounts::disabled_at.eq(now),
                accounts::updated_at.eq(now),
            ))
            .execute(conn)?;
        end_sessions(conn, user_id, now)?;
        diesel::update(api_keys::table.filter(api_keys::user_id.eq(user_id)))
            .set(api_keys::revoked_at.eq(now))
            .execute(conn)?;
        diesel::update(
            subscriptions::table
                .filter(subscriptions::user_id.eq(user_id))
                .filter(subscriptions::unsubscribed_at.is_null()),
        )
        .set(subscriptions::unsubscribed_at.eq(now))
        .execute(conn)?;
        diesel::update(reports::table.filter(reports::reporter_id.eq(user_id)))
            .set(reports::reporter_name_public.eq(false))
            .execute(conn)?;
        diesel::delete(pending_reports::table.filter(pending_reports::email.eq(&email)))
            .execute(conn)?;
        diesel::delete(pending_supports::table.filter(pending_supports::email.eq(&email)))
            .execute(conn)?;
        diesel::delete(mail_opt_outs::table.filter(mail_opt_outs::email.eq(&email)))
            .execute(conn)?;
        diesel::delete(
            outbox::table
                .filter(outbox::recipient.eq(&email))
                .filter(outbox::status.ne("sent")),
        )
        .execute(conn)?;
        diesel::update(outbox::table.filter(outbox::recipient.eq(&email)))
            .set(outbox::recipient.eq(format!("deleted-{user_id}@deleted.invalid")))
            .execute(conn)?;
        Ok(true)
    })
}
