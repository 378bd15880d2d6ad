//! Back offices and webhooks: the endpoints departments (or categories)
//! hand reports to, what was handed over, the outgoing HTTP deliveries
//! (leased like the mail outbox), webhook subscriptions, the queue of
//! events waiting to be matched to them, and what back offices said.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::outbox::Outcome;
use super::rows::{
    BackOfficeUpdateRow, DeliveryRow, EndpointRow, HandoverRow, ReportEventRow, WebhookRow,
};
use super::schema::{
    attachments, back_office_updates, categories, deliveries, endpoints, handovers, hook_pending,
    report_events, reports, webhooks,
};
use super::{DbConnection, DbError};

// ---- endpoints ----

/// Every endpoint, departments' first.
pub fn endpoints(conn: &mut DbConnection) -> Result<Vec<EndpointRow>, DbError> {
    Ok(endpoints::table
        .order((endpoints::department_id.desc(), endpoints::category_id))
        .select(EndpointRow::as_select())
        .load(conn)?)
}

pub fn endpoint(conn: &mut DbConnection, id: &str) -> Result<Option<EndpointRow>, DbError> {
    Ok(endpoints::table
        .find(id)
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()?)
}

/// The endpoint a department's report of a category goes to: the
/// category's, else the department's.
pub fn endpoint_for(
    conn: &mut DbConnection,
    department_id: Option<&str>,
    category_id: &str,
) -> Result<Option<EndpointRow>, DbError> {
    let by_category = endpoints::table
        .filter(endpoints::category_id.eq(category_id))
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()?;
    if by_category.is_some() {
        return Ok(by_category);
    }
    let Some(department) = department_id else {
        return Ok(None);
    };
    Ok(endpoints::table
        .filter(endpoints::department_id.eq(department))
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()?)
}

/// The endpoint of a department (`Some`) or a category, if any.
pub fn endpoint_of(
    conn: &mut DbConnection,
    department_id: Option<&str>,
    category_id: Option<&str>,
) -> Result<Option<EndpointRow>, DbError> {
    let query = endpoints::table.select(EndpointRow::as_select());
    Ok(match (department_id, category_id) {
        (Some(d), _) => query
            .filter(endpoints::department_id.eq(d))
            .first(conn)
            .optional()?,
        (None, Some(c)) => query
            .filter(endpoints::category_id.eq(c))
            .first(conn)
            .optional()?,
        (None, None) => None,
    })
}

/// Stores an endpoint as it is now (new, or replacing the one with its id).
pub fn save_endpoint(conn: &mut DbConnection, row: &EndpointRow) -> Result<(), DbError> {
    let changed = diesel::update(endpoints::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(endpoints::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Removes an endpoint nothing was handed to yet, or keeps it (`false`):
/// reports handed over still read their changes through it.
pub fn delete_endpoint(conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    let used: i64 = handovers::table
        .filter(handovers::endpoint_id.eq(id))
        .count()
        .get_result(conn)?;
    if used > 0 {
        return Ok(false);
    }
    Ok(diesel::delete(endpoints::table.find(id)).execute(conn)? > 0)
}

pub fn set_pulled(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(endpoints::table.find(id))
        .set(endpoints::pulled_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

/// Whether any endpoint or live webhook exists: events are queued for
/// matching only then.
pub fn hooked(conn: &mut DbConnection) -> Result<bool, DbError> {
    let endpoint = endpoints::table
        .select(endpoints::id)
        .first::<String>(conn)
        .optional()?;
    if endpoint.is_some() {
        return Ok(true);
    }
    Ok(webhooks::table
        .filter(webhooks::deleted_at.is_null())
        .select(webhooks::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

// ---- the queue of events ----

/// Queues report events for matching, in the events' transaction, when
/// anything listens.
pub fn enqueue(
    conn: &mut DbConnection,
    events: &[(&str, &str)],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    if events.is_empty() || !hooked(conn)? {
        return Ok(());
    }
    let rows: Vec<_> = events
        .iter()
        .map(|(event, report)| {
            (
                hook_pending::event_id.eq(*event),
                hook_pending::report_id.eq(*report),
                hook_pending::created_at.eq(now),
            )
        })
        .collect();
    insert_batches!(conn, hook_pending::table, &rows);
    Ok(())
}

/// A queued event with what matching needs of its report.
#[derive(Debug, Clone)]
pub struct QueuedEvent {
    pub event: ReportEventRow,
    pub status: String,
    pub department_id: Option<String>,
    pub category_id: String,
    pub category_code: String,
}

/// The oldest queued events (at most `limit`): their ids, and those whose
/// report is there with what matching needs. Read without a lock: matching
/// them is [`claim`]ed in a write transaction.
pub fn queued(
    conn: &mut DbConnection,
    limit: i64,
) -> Result<(Vec<String>, Vec<QueuedEvent>), DbError> {
    let ids: Vec<String> = hook_pending::table
        .order(hook_pending::event_id)
        .limit(limit)
        .select(hook_pending::event_id)
        .load(conn)?;
    if ids.is_empty() {
        return Ok((ids, Vec::new()));
    }
    let found = report_events::table
        .inner_join(reports::table.inner_join(categories::table))
        .filter(report_events::id.eq_any(&ids))
        .order(report_events::id)
        .select((
            ReportEventRow::as_select(),
            reports::status,
            reports::department_id,
            reports::category_id,
            categories::code,
        ))
        .load::<(ReportEventRow, String, Option<String>, String, String)>(conn)?;
    let events = found
        .into_iter()
        .map(
            |(event, status, department_id, category_id, category_code)| QueuedEvent {
                event,
                status,
                department_id,
                category_id,
                category_code,
            },
        )
        .collect();
    Ok((ids, events))
}

/// Takes those of `ids` still queued off the queue, in the caller's write
/// transaction: which ones. On PostgreSQL the rows are locked first and
/// those another instance holds are skipped, so each event is matched by
/// one instance.
pub fn claim(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<String>, DbError> {
    let still = hook_pending::table
        .filter(hook_pending::event_id.eq_any(ids))
        .select(hook_pending::event_id);
    let claimed: Vec<String> = match conn {
        DbConnection::Postgres(pg) => still.for_update().skip_locked().load(pg)?,
        DbConnection::Sqlite(sqlite) => still.load(sqlite)?,
    };
    diesel::delete(hook_pending::table.filter(hook_pending::event_id.eq_any(&claimed)))
        .execute(conn)?;
    Ok(claimed)
}

pub fn waiting(conn: &mut DbConnection) -> Result<bool, DbError> {
    Ok(hook_pending::table
        .select(hook_pending::event_id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

// ---- handovers ----

/// The content hashes of the photos a report was filed with that the
/// public sees, in order.
pub fn filing_photos(conn: &mut DbConnection, report_id: &str) -> Result<Vec<String>, DbError> {
    let filed: Option<String> = report_events::table
        .filter(report_events::report_id.eq(report_id))
        .filter(report_events::kind.eq("filed"))
        .select(report_events::id)
        .first(conn)
        .optional()?;
    let own = attachments::event_id
        .is_null()
        .or(attachments::event_id.eq(filed.unwrap_or_default()));
    Ok(attachments::table
        .filter(attachments::report_id.eq(report_id))
        .filter(attachments::hidden_at.is_null())
        .filter(own)
        .order(attachments::position)
        .select(attachments::content_hash)
        .load(conn)?)
}

pub fn handover(conn: &mut DbConnection, report_id: &str) -> Result<Option<HandoverRow>, DbError> {
    Ok(handovers::table
        .find(report_id)
        .select(HandoverRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records a report as handed (or being handed) to an endpoint, replacing
/// an earlier handover to another.
pub fn save_handover(conn: &mut DbConnection, row: &HandoverRow) -> Result<(), DbError> {
    diesel::delete(handovers::table.find(&row.report_id)).execute(conn)?;
    diesel::insert_into(handovers::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// What the endpoint answered: its id or token for the report.
pub fn handed_over(
    conn: &mut DbConnection,
    report_id: &str,
    endpoint_id: &str,
    (external_id, token): (Option<&str>, Option<&str>),
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(
        handovers::table
            .filter(handovers::report_id.eq(report_id))
            .filter(handovers::endpoint_id.eq(endpoint_id)),
    )
    .set((
        handovers::external_id.eq(external_id),
        handovers::token.eq(token),
        handovers::state.eq("sent"),
        handovers::sent_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok(())
}

/// Marks a handover withdrawn, with what became of telling the endpoint.
pub fn withdraw_handover(
    conn: &mut DbConnection,
    report_id: &str,
    note: &str,
) -> Result<(), DbError> {
    diesel::update(handovers::table.find(report_id))
        .set((
            handovers::state.eq("withdrawn"),
            handovers::note.eq(Some(note)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Handovers to an endpoint still followed there: (report id, external
/// id or token, whether it is a token).
pub fn followed(conn: &mut DbConnection, endpoint_id: &str) -> Result<Vec<HandoverRow>, DbError> {
    Ok(handovers::table
        .inner_join(reports::table)
        .filter(handovers::endpoint_id.eq(endpoint_id))
        .filter(handovers::state.eq("sent"))
        .filter(reports::status.ne_all(["confirmed", "closed", "rejected", "duplicate"]))
        .select(HandoverRow::as_select())
        .load(conn)?)
}

/// The report an endpoint knows by `external_id`.
pub fn report_by_external(
    conn: &mut DbConnection,
    endpoint_ids: &[String],
    external_id: &str,
) -> Result<Option<String>, DbError> {
    Ok(handovers::table
        .filter(handovers::endpoint_id.eq_any(endpoint_ids))
        .filter(handovers::external_id.eq(external_id))
        .select(handovers::report_id)
        .first(conn)
        .optional()?)
}

/// The endpoints a department's back office answers for: its own and those
/// of the categories it is the default department of.
pub fn endpoints_answering_for(
    conn: &mut DbConnection,
    department_id: &str,
) -> Result<Vec<String>, DbError> {
    let own = endpoints::table
        .filter(endpoints::department_id.eq(department_id))
        .select(endpoints::id)
        .load::<String>(conn)?;
    let by_category = endpoints::table
        .inner_join(categories::table.on(endpoints::category_id.eq(categories::id.nullable())))
        .filter(categories::default_department_id.eq(department_id))
        .select(endpoints::id)
        .load::<String>(conn)?;
    Ok(own.into_iter().chain(by_category).collect())
}

// ---- deliveries ----

/// Queues deliveries; one already queued under the same `dedupe` stays as
/// it is. How many were new.
pub fn queue_deliveries(conn: &mut DbConnection, rows: &[DeliveryRow]) -> Result<usize, DbError> {
    let mut new = 0;
    for row in rows {
        new += insert_or_ignore!(conn, deliveries::table, row);
    }
    Ok(new)
}

/// Takes up to `limit` due deliveries until `until`, as the mail outbox's
/// `lease` does (`SKIP LOCKED` on PostgreSQL).
pub fn lease(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<DeliveryRow>, DbError> {
    super::write_transaction(conn, |conn| {
        let due = deliveries::table
            .filter(deliveries::status.eq("pending"))
            .filter(deliveries::next_attempt_at.le(now))
            .filter(
                deliveries::lease_until
                    .is_null()
                    .or(deliveries::lease_until.le(now)),
            )
            .order(deliveries::next_attempt_at)
            .limit(limit)
            .select(deliveries::id);
        let ids: Vec<String> = match conn {
            DbConnection::Postgres(pg) => due.for_update().skip_locked().load(pg)?,
            DbConnection::Sqlite(sqlite) => due.load(sqlite)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(deliveries::table.filter(deliveries::id.eq_any(&ids)))
            .set(deliveries::lease_until.eq(Some(until)))
            .execute(conn)?;
        Ok(deliveries::table
            .filter(deliveries::id.eq_any(&ids))
            .order(deliveries::next_attempt_at)
            .select(DeliveryRow::as_select())
            .load(conn)?)
    })
}

/// Records what became of one delivery.
pub fn record(
    conn: &mut DbConnection,
    id: &str,
    outcome: &Outcome,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let row = deliveries::table.find(id);
    match outcome {
        Outcome::Sent => diesel::update(row)
            .set((
                deliveries::status.eq("sent"),
                deliveries::sent_at.eq(Some(now)),
                deliveries::lease_until.eq(None::<NaiveDateTime>),
                deliveries::attempts.eq(deliveries::attempts + 1),
                deliveries::last_error.eq(None::<String>),
            ))
            .execute(conn)?,
        Outcome::Released => diesel::update(row)
            .set(deliveries::lease_until.eq(None::<NaiveDateTime>))
            .execute(conn)?,
        Outcome::Retry { at, error } => diesel::update(row)
            .set((
                deliveries::next_attempt_at.eq(at),
                deliveries::lease_until.eq(None::<NaiveDateTime>),
                deliveries::attempts.eq(deliveries::attempts + 1),
                deliveries::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
        Outcome::Dead { error } => diesel::update(row)
            .set((
                deliveries::status.eq("dead"),
                deliveries::lease_until.eq(None::<NaiveDateTime>),
                deliveries::attempts.eq(deliveries::attempts + 1),
                deliveries::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Deliveries in one state, newest first, optionally of one report.
pub fn list(
    conn: &mut DbConnection,
    status: Option<&str>,
    report_id: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, DbError> {
    let mut query = deliveries::table
        .select(DeliveryRow::as_select())
        .order(deliveries::created_at.desc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(deliveries::status.eq(status.to_string()));
    }
    if let Some(report) = report_id {
        query = query.filter(deliveries::report_id.eq(report.to_string()));
    }
    Ok(query.load(conn)?)
}

pub fn delivery(conn: &mut DbConnection, id: &str) -> Result<Option<DeliveryRow>, DbError> {
    Ok(deliveries::table
        .find(id)
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?)
}

/// A dead delivery back in the queue, due now, attempts counted afresh.
pub fn requeue(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let changed = diesel::update(
        deliveries::table
            .filter(deliveries::id.eq(id))
            .filter(deliveries::status.eq("dead")),
    )
    .set((
        deliveries::status.eq("pending"),
        deliveries::attempts.eq(0),
        deliveries::next_attempt_at.eq(now),
        deliveries::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}

/// How many deliveries wait, and how many were given up (dead letters).
pub fn depth(conn: &mut DbConnection) -> Result<(i64, i64), DbError> {
    let mut count = |status: &str| {
        deliveries::table
            .filter(deliveries::status.eq(status.to_string()))
            .count()
            .get_result::<i64>(&mut *conn)
    };
    Ok((count("pending")?, count("dead")?))
}

// ---- webhooks ----

pub fn create_webhook(conn: &mut DbConnection, row: &WebhookRow) -> Result<(), DbError> {
    diesel::insert_into(webhooks::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Live webhooks.
pub fn webhooks(conn: &mut DbConnection) -> Result<Vec<WebhookRow>, DbError> {
    Ok(webhooks::table
        .filter(webhooks::deleted_at.is_null())
        .order(webhooks::created_at)
        .select(WebhookRow::as_select())
        .load(conn)?)
}

pub fn webhook(conn: &mut DbConnection, id: &str) -> Result<Option<WebhookRow>, DbError> {
    Ok(webhooks::table
        .find(id)
        .filter(webhooks::deleted_at.is_null())
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?)
}

/// A new secret; the old one signs beside it until `until`.
pub fn rotate_webhook(
    conn: &mut DbConnection,
    id: &str,
    secret: &str,
    until: NaiveDateTime,
) -> Result<bool, DbError> {
    let Some(old) = webhook(conn, id)? else {
        return Ok(false);
    };
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::secret.eq(secret),
            webhooks::previous_secret.eq(Some(old.secret)),
            webhooks::previous_until.eq(Some(until)),
        ))
        .execute(conn)?;
    Ok(true)
}

pub fn delete_webhook(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    Ok(diesel::update(
        webhooks::table
            .find(id)
            .filter(webhooks::deleted_at.is_null()),
    )
    .set(webhooks::deleted_at.eq(Some(now)))
    .execute(conn)?
        > 0)
}

// ---- what back offices said ----

/// The update recorded under `update_id` in `scope` before, if any.
pub fn update_seen(
    conn: &mut DbConnection,
    scope: &str,
    update_id: &str,
) -> Result<Option<BackOfficeUpdateRow>, DbError> {
    Ok(back_office_updates::table
        .find((scope, update_id))
        .select(BackOfficeUpdateRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records an update; `false` when one with its id was recorded first.
pub fn record_update(conn: &mut DbConnection, row: &BackOfficeUpdateRow) -> Result<bool, DbError> {
    Ok(insert_or_ignore!(conn, back_office_updates::table, row) > 0)
}

/// Marks a recorded update applied by the move `event_id`.
pub fn update_applied(
    conn: &mut DbConnection,
    scope: &str,
    update_id: &str,
    event_id: &str,
) -> Result<(), DbError> {
    diesel::update(back_office_updates::table.find((scope, update_id)))
        .set(back_office_updates::event_id.eq(Some(event_id)))
        .execute(conn)?;
    Ok(())
}

/// A report's updates from back offices, oldest first.
pub fn updates_of(
    conn: &mut DbConnection,
    report_id: &str,
) -> Result<Vec<BackOfficeUpdateRow>, DbError> {
    Ok(back_office_updates::table
        .filter(back_office_updates::report_id.eq(report_id))
        .order(back_office_updates::received_at)
        .select(BackOfficeUpdateRow::as_select())
        .load(conn)?)
}
