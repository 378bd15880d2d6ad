//! Sessions: starting one, finding the live one a cookie names (and keeping it alive), completing its second factor, ending them.

use super::*;

/// A live session, as a request needs it.
#[derive(Debug, Clone, Queryable)]
pub struct Session {
    pub user_id: String,
    pub role: String,
    pub department_id: Option<String>,
    pub stage: String,
    pub csrf_key: String,
    pub last_seen_at: NaiveDateTime,
    /// The account's language (`ru`, `en`).
    pub locale: String,
}

/// Session limits: idle and absolute.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub idle: TimeDelta,
    pub absolute: TimeDelta,
}

/// A session to start.
pub struct NewSession<'a> {
    /// SHA-256 of the cookie's value.
    pub id_hash: &'a str,
    pub user_id: &'a str,
    /// `full`, or `password` while a second factor is owed.
    pub stage: &'a str,
    pub csrf_key: &'a str,
    pub ip: Option<&'a str>,
}

/// Starts a session; it lasts at most `limits.absolute`.
pub fn start_session(
    conn: &mut DbConnection,
    new: &NewSession,
    now: NaiveDateTime,
    limits: Limits,
) -> Result<(), DbError> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(new.id_hash),
            sessions::user_id.eq(new.user_id),
            sessions::stage.eq(new.stage),
            sessions::csrf_key.eq(new.csrf_key),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
            sessions::expires_at.eq(now + limits.absolute),
            sessions::ip.eq(new.ip),
        ))
        .execute(conn)?;
    Ok(())
}

/// The live session with this id hash. Its last-seen time moves on when
/// more than a minute old (so a busy session costs one write a minute).
pub fn session(
    conn: &mut DbConnection,
    id_hash: &str,
    now: NaiveDateTime,
    limits: Limits,
) -> Result<Option<Session>, DbError> {
    let found: Option<Session> = sessions::table
        .inner_join(users::table.inner_join(accounts::table))
        .filter(sessions::id_hash.eq(id_hash))
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::last_seen_at.gt(now - limits.idle))
        .filter(accounts::disabled_at.is_null())
        .select((
            users::id,
            users::role,
            users::department_id,
            sessions::stage,
            sessions::csrf_key,
            sessions::last_seen_at,
            users::locale,
        ))
        .first(conn)
        .optional()?;
    if let Some(session) = &found {
        if now - session.last_seen_at > TimeDelta::minutes(1) {
            diesel::update(sessions::table.find(id_hash))
                .set(sessions::last_seen_at.eq(now))
                .execute(conn)?;
        }
    }
    Ok(found)
}

/// Marks a session's second factor done.
pub fn complete_session(conn: &mut DbConnection, id_hash: &str) -> Result<(), DbError> {
    diesel::update(sessions::table.find(id_hash))
        .set(sessions::stage.eq("full"))
        .execute(conn)?;
    Ok(())
}

/// Ends every session of an account.
pub fn end_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(now))
    .execute(conn)?;
    Ok(())
}
