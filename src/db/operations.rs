//! What running an installation needs from the database: secrets rotated
//! with a grace period, the demo city's published credentials found and
//! disabled, leases that let one instance of several run a job, and the
//! answers kept for clients' idempotency keys.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    accounts, api_keys, idempotency_keys, job_leases, retired_secrets, secrets, sessions, users,
};
use super::{write_transaction, DbConnection, DbError};

/// A replaced secret, still accepted until `accepted_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiredSecret {
    pub value: String,
    pub retired_at: NaiveDateTime,
    pub accepted_until: NaiveDateTime,
}

/// Replaces the secret `name` with `fresh`; the old value (if there was
/// one) is kept as retired, accepted until `accepted_until`. Returns it.
pub fn rotate_secret(
    conn: &mut DbConnection,
    name: &str,
    fresh: &str,
    accepted_until: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Option<String>, DbError> {
    write_transaction(conn, |conn| {
        let old: Option<String> = secrets::table
            .find(name)
            .select(secrets::value)
            .first(conn)
            .optional()?;
        if let Some(old) = &old {
            diesel::insert_into(retired_secrets::table)
                .values((
                    retired_secrets::name.eq(name),
                    retired_secrets::value.eq(old),
                    retired_secrets::retired_at.eq(now),
                    retired_secrets::accepted_until.eq(accepted_until),
                ))
                .execute(conn)?;
            diesel::update(secrets::table.find(name))
                .set((secrets::value.eq(fresh), secrets::created_at.eq(now)))
                .execute(conn)?;
        } else {
            diesel::insert_into(secrets::table)
                .values((
                    secrets::name.eq(name),
                    secrets::value.eq(fresh),
                    secrets::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(old)
    })
}

/// Every retired value of the secret `name`, oldest first.
pub fn retired(conn: &mut DbConnection, name: &str) -> Result<Vec<RetiredSecret>, DbError> {
    let rows: Vec<(String, NaiveDateTime, NaiveDateTime)> = retired_secrets::table
        .filter(retired_secrets::name.eq(name))
        .order(retired_secrets::retired_at.asc())
        .select((
            retired_secrets::value,
            retired_secrets::retired_at,
            retired_secrets::accepted_until,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(value, retired_at, accepted_until)| RetiredSecret {
            value,
            retired_at,
            accepted_until,
        })
        .collect())
}

/// Ends every open session by `until` at the latest (sooner when it
/// ends sooner anyway). How many sessions were shortened.
pub fn end_sessions_by(conn: &mut DbConnection, until: NaiveDateTime) -> Result<usize, DbError> {
    write_transaction(conn, |conn| {
        Ok(diesel::update(
            sessions::table
                .filter(sessions::ended_at.is_null())
                .filter(sessions::expires_at.gt(until)),
        )
        .set(sessions::expires_at.eq(until))
        .execute(conn)?)
    })
}

/// The demo city's published credentials still usable in a database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoCredentials {
    /// Enabled accounts at the demo's email domain or with its TOTP secret.
    pub accounts: i64,
    /// Unrevoked API keys whose token the demo publishes.
    pub keys: i64,
}

impl DemoCredentials {
    pub fn any(&self) -> bool {
        self.accounts > 0 || self.keys > 0
    }
}

/// Looks for the demo's accounts and keys: `domain` is its email domain,
/// `totp_secret` its published second factor, `key_digests` the digests of
/// its published tokens.
pub fn demo_credentials(
    conn: &mut DbConnection,
    domain: &str,
    totp_secret: &str,
    key_digests: &[String],
) -> Result<DemoCredentials, DbError> {
    let pattern = format!("%@{domain}");
    let accounts = users::table
        .inner_join(accounts::table)
        .filter(accounts::disabled_at.is_null())
        .filter(
            users::email
                .like(&pattern)
                .or(accounts::totp_secret.eq(totp_secret)),
        )
        .count()
        .get_result(conn)?;
    let demo_users = users::table
        .filter(users::email.like(&pattern))
        .select(users::id);
    let keys = api_keys::table
        .filter(api_keys::revoked_at.is_null())
        .filter(
            api_keys::key_hash
                .eq_any(key_digests)
                .or(api_keys::user_id.eq_any(demo_users.nullable())),
        )
        .count()
        .get_result(conn)?;
    Ok(DemoCredentials { accounts, keys })
}

/// Disables what [`demo_credentials`] finds: the accounts lose their
/// password and second factor and are disabled (their sessions end), the
/// keys are revoked. Reports and history stay. What was disabled.
pub fn disable_demo_credentials(
    conn: &mut DbConnection,
    domain: &str,
    totp_secret: &str,
    key_digests: &[String],
    now: NaiveDateTime,
) -> Result<DemoCredentials, DbError> {
    write_transaction(conn, |conn| {
        let pattern = format!("%@{domain}");
        let demo_users: Vec<String> = users::table
            .left_join(accounts::table)
            .filter(
                users::email
                    .like(&pattern)
                    .or(accounts::totp_secret.eq(totp_secret)),
            )
            .select(users::id)
            .load(conn)?;
        let accounts = diesel::update(
            accounts::table
                .filter(accounts::user_id.eq_any(&demo_users))
                .filter(accounts::disabled_at.is_null()),
        )
        .set((
            accounts::disabled_at.eq(now),
            accounts::password_hash.eq(None::<String>),
            accounts::totp_secret.eq(None::<String>),
            accounts::totp_enrolled_at.eq(None::<NaiveDateTime>),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)?;
        diesel::update(
            sessions::table
                .filter(sessions::user_id.eq_any(&demo_users))
                .filter(sessions::ended_at.is_null()),
        )
        .set(sessions::ended_at.eq(now))
        .execute(conn)?;
        let keys = diesel::update(
            api_keys::table
                .filter(api_keys::revoked_at.is_null())
                .filter(
                    api_keys::key_hash
                        .eq_any(key_digests)
                        .or(api_keys::user_id.eq_any(demo_users.iter().map(Some))),
                ),
        )
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)?;
        Ok(DemoCredentials {
            accounts: i64::try_from(accounts).unwrap_or(i64::MAX),
            keys: i64::try_from(keys).unwrap_or(i64::MAX),
        })
    })
}

/// Takes (or extends) the lease of `job` for `holder` until `until`: it is
/// taken when nobody holds it, when the holder's lease lapsed, or when
/// `holder` holds it already. Whether `holder` now holds it.
pub fn take_lease(
    conn: &mut DbConnection,
    job: &str,
    holder: &str,
    until: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let inserted = insert_or_ignore!(
        conn,
        job_leases::table,
        (
            job_leases::job.eq(job),
            job_leases::holder.eq(holder),
            job_leases::until.eq(until),
        )
    );
    if inserted == 1 {
        return Ok(true);
    }
    // An UPDATE re-checks its condition on the row it waited for, so of
    // two instances asking at once only one matches.
    let written = diesel::update(
        job_leases::table
            .filter(job_leases::job.eq(job))
            .filter(job_leases::until.lt(now).or(job_leases::holder.eq(holder))),
    )
    .set((job_leases::holder.eq(holder), job_leases::until.eq(until)))
    .execute(conn)?;
    Ok(written == 1)
}

/// What is kept for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct KeptAnswer {
    pub request_hash: String,
    /// The report the request filed (none for a held filing).
    pub report_id: Option<String>,
    /// The answer as it was sent, once it was made.
    pub status: Option<i32>,
    pub response: Option<String>,
}

/// What is kept under `key_hash`, if anything.
pub fn kept_answer(conn: &mut DbConnection, key_hash: &str) -> Result<Option<KeptAnswer>, DbError> {
    Ok(idempotency_keys::table
        .find(key_hash)
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::report_id,
            idempotency_keys::status,
            idempotency_keys::response,
        ))
        .first(conn)
        .optional()?)
}

/// Keeps the answer under its key: added to the row the filing wrote, or a
/// new row (a held filing). Whether it was kept (false: another request
/// with the same key kept its own first).
pub fn keep_answer(
    conn: &mut DbConnection,
    key_hash: &str,
    request_hash: &str,
    status: i32,
    response: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let updated = diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::key_hash.eq(key_hash))
            .filter(idempotency_keys::request_hash.eq(request_hash))
            .filter(idempotency_keys::response.is_null()),
    )
    .set((
        idempotency_keys::status.eq(status),
        idempotency_keys::response.eq(response),
    ))
    .execute(conn)?;
    if updated == 1 {
        return Ok(true);
    }
    let inserted = insert_or_ignore!(
        conn,
        idempotency_keys::table,
        (
            idempotency_keys::key_hash.eq(key_hash),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::status.eq(status),
            idempotency_keys::response.eq(response),
            idempotency_keys::created_at.eq(now),
        )
    );
    Ok(inserted == 1)
}

/// Forgets answers kept since before `before`.
pub fn forget_answers_before(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
            .execute(conn)?,
    )
}

/// What the operators' metrics show of the database.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Messages waiting to be sent, and when the oldest due one fell due.
    pub outbox_pending: i64,
    pub outbox_oldest_due: Option<NaiveDateTime>,
    /// The earliest moment the SLA scanner should have looked at a report
    /// and has not yet (none when it is up to date).
    pub scanner_behind_since: Option<NaiveDateTime>,
    pub ledger_entries: i64,
    pub last_checkpoint_at: Option<NaiveDateTime>,
    /// Deliveries to back offices and webhooks waiting, and given up.
    pub deliveries_pending: i64,
    pub deliveries_dead: i64,
}

/// Reads the figures, each by an indexed query.
pub fn figures(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Figures, DbError> {
    use super::schema::{ledger_checkpoints, ledger_entries, outbox, reports};
    use diesel::dsl::{count_star, max, min};
    let outbox_pending = outbox::table
        .filter(outbox::status.eq("pending"))
        .select(count_star())
        .first(conn)?;
    let outbox_oldest_due = outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::next_attempt_at.le(now))
        .select(min(outbox::next_attempt_at))
        .first(conn)?;
    let scanner_behind_since = reports::table
        .filter(reports::next_sla_at.le(now))
        .select(min(reports::next_sla_at))
        .first(conn)?;
    let ledger_entries: Option<i64> = ledger_entries::table
        .select(max(ledger_entries::seq))
        .first(conn)?;
    let last_checkpoint_at = ledger_checkpoints::table
        .select(max(ledger_checkpoints::signed_at))
        .first(conn)?;
    let (deliveries_pending, deliveries_dead) = super::back_office::depth(conn)?;
    Ok(Figures {
        deliveries_pending,
        deliveries_dead,
        outbox_pending,
        outbox_oldest_due,
        scanner_behind_since,
        ledger_entries: ledger_entries.unwrap_or(0),
        last_checkpoint_at,
    })
}
