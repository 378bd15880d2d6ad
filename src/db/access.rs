//! API tokens and Open311 keys, looked up by digest.

use diesel::prelude::*;

use super::schema::{accounts, api_keys, users};
use super::{DbConnection, DbError};

/// (user id, role, department id) of the user behind a live API token; a
/// token of a disabled account is not live.
pub fn staff_by_token(
    conn: &mut DbConnection,
    digest: &str,
) -> Result<Option<(String, String, Option<String>)>, DbError> {
    Ok(api_keys::table
        .inner_join(users::table.left_join(accounts::table))
        .filter(api_keys::key_hash.eq(digest))
        .filter(api_keys::kind.eq("api"))
        .filter(api_keys::revoked_at.is_null())
        .filter(accounts::disabled_at.is_null())
        .select((users::id, users::role, users::department_id))
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

/// The id of the user with this email.
pub fn user_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<String>, DbError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(conn)
        .optional()?)
}
