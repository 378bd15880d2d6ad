//! API tokens and Open311 keys, looked up by digest.

use diesel::prelude::*;

use super::schema::{accounts, api_keys, users};
use super::{DbConnection, DbError};

/// The user behind a live API token, and what the token may do.
#[derive(Debug, Clone, Queryable)]
pub struct TokenHolder {
    pub user_id: String,
    pub role: String,
    pub department_id: Option<String>,
    /// `*`, or the policy actions it may do, comma-separated.
    pub scopes: String,
}

/// The holder of a live API token; a token of a disabled account is not
/// live.
pub fn staff_by_token(
    conn: &mut DbConnection,
    digest: &str,
) -> Result<Option<TokenHolder>, DbError> {
    Ok(api_keys::table
        .inner_join(users::table.left_join(accounts::table))
        .filter(api_keys::key_hash.eq(digest))
        .filter(api_keys::kind.eq("api"))
        .filter(api_keys::revoked_at.is_null())
        .filter(accounts::disabled_at.is_null())
        .select((
            users::id,
            users::role,
            users::department_id,
            api_keys::scopes,
        ))
        .first(conn)
        .optional()?)
}

/// Whether a live Open311 key has this digest.
pub fn open311_key_exists(conn: &mut DbConnection, digest: &str) -> Result<bool, DbError> {
    let count: i64 = api_keys::table
        .filter(api_keys::key_hash.eq(digest))
        .filter(api_keys::kind.eq("open311"))
        .filter(api_keys::revoked_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// The department a live back-office key (by digest) speaks for.
pub fn back_office_key(conn: &mut DbConnection, digest: &str) -> Result<Option<String>, DbError> {
    Ok(api_keys::table
        .filter(api_keys::key_hash.eq(digest))
        .filter(api_keys::kind.eq("back_office"))
        .filter(api_keys::revoked_at.is_null())
        .select(api_keys::scopes)
        .first(conn)
        .optional()?)
}

/// The id of the user with this email.
/// The addresses of every user at `domain`.
pub fn emails_at_domain(conn: &mut DbConnection, domain: &str) -> Result<Vec<String>, DbError> {
    Ok(users::table
        .filter(users::email.like(format!("%@{domain}")))
        .select(users::email)
        .load(conn)?)
}

/// The email of a user.
pub fn email_of(conn: &mut DbConnection, user_id: &str) -> Result<Option<String>, DbError> {
    Ok(users::table
        .find(user_id)
        .select(users::email)
        .first(conn)
        .optional()?)
}

pub fn user_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<String>, DbError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(conn)
        .optional()?)
}
