//! Background work, in one place: each job is one function that both its
//! thread and its admin endpoint call.
//!
//! - [`scan`]: an SLA pass (warnings, breaches, escalations), the
//!   reporters' reminders, the auto-confirmations and the area alerts
//!   (`super::alerts`). Shared by every
//!   instance: each takes its own batch of due reports (`SKIP LOCKED`),
//!   each mark is recorded once.
//! - [`checkpoint`]: a signed checkpoint of the ledger, now or when due.
//! - [`queue_digests`]: the supervisors' daily digests — each supervisor's
//!   departments' reports at risk and breached — queued once per day and
//!   supervisor, whoever queues them.
//! - [`housekeep`]: forgetting what expired, the public statistics'
//!   refresh, the due checkpoint and the day's digests, run after a pass by the one instance that holds the
//!   housekeeping [`Lease`].
//! - [`start_scanner`]: the thread that runs them every
//!   `sla.scan_interval_secs`.
//!
//! The mail dispatcher ([`super::dispatch`]) is a thread pool of its own,
//! leasing messages row by row.

use std::sync::Weak;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta, Timelike};

use super::clocks::ScanSummary;
use super::Services;
use crate::db::ledger::CheckpointError;
use crate::db::supervisor::Risk;
use crate::db::{self, operations, DbConnection, DbError};
use crate::ledger::Checkpoint;
use serde_json::json;

/// How long an idempotency key's answer is kept.
pub const IDEMPOTENCY_KEPT: TimeDelta = TimeDelta::hours(24);

/// A job that one instance at a time runs.
#[derive(Debug, Clone)]
pub struct Lease {
    pub job: &'static str,
    /// This instance (a fresh id at every start).
    pub holder: String,
    /// How long a run may take before another instance may take over.
    pub length: TimeDelta,
}

impl Lease {
    /// Runs `work` when this instance holds (or takes) the lease; `None`
    /// when another instance holds it.
    pub fn run<T>(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        work: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        if !operations::take_lease(conn, self.job, &self.holder, now + self.length, now)? {
            return Ok(None);
        }
        work(conn).map(Some)
    }
}

/// What one scan did.
#[derive(Debug, Clone, Default)]
pub struct Scanned {
    pub summary: ScanSummary,
    pub reminders: usize,
    pub auto_confirmed: usize,
    pub alerts: super::alerts::Pass,
    /// Reports filed before search existed, indexed in this pass.
    pub indexed: usize,
}

/// One SLA pass, with the reminders and auto-confirmations that are due.
pub fn scan(
    services: &Services,
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<Scanned, DbError> {
    let snapshot = services.catalog_snapshot(conn)?;
    let summary = super::clocks::scan(conn, &snapshot, now)?;
    let reminders = db::outbox::remind_checks(conn, now, services.check_reminder)?;
    let auto_confirmed = super::moves::auto_confirm_due(conn, &snapshot, now)?;
    let alerts = super::alerts::run(services, conn, now)?;
    let indexed = super::search::backfill(conn)?;
    Ok(Scanned {
        summary,
        reminders,
        auto_confirmed,
        alerts,
        indexed,
    })
}

/// When [`checkpoint`] signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Now (the existing checkpoint when the ledger has not grown).
    Now,
    /// When the ledger grew and the last checkpoint is older than
    /// `ledger.checkpoint_interval_secs`.
    IfDue,
}

/// Signs a checkpoint of the ledger, once it verifies.
pub fn checkpoint(
    services: &Services,
    conn: &mut DbConnection,
    now: NaiveDateTime,
    when: When,
) -> Result<Option<Checkpoint>, CheckpointError> {
    let keys = &services.ledger_keys;
    match when {
        When::Now => db::ledger::sign_checkpoint(conn, &keys.signing, &keys.trusted, now).map(Some),
        When::IfDue => db::ledger::checkpoint_if_due(
            conn,
            &keys.signing,
            &keys.trusted,
            now,
            services.checkpoint_interval,
        ),
    }
}

/// Queues the supervisors' digests of `day` (a local date); how many.
pub fn queue_digests(
    services: &Services,
    conn: &mut DbConnection,
    day: NaiveDate,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let snapshot = services.catalog_snapshot(conn)?;
    let tree = snapshot.map.departments();
    let supervisors = db::outbox::supervisors(conn)?;
    if supervisors.is_empty() {
        return Ok(0);
    }
    let watched = db::supervisor::watched(conn, &Default::default())?;
    let key = format!("digest:{day}");
    let mut queued = 0;
    for (department, email, locale) in supervisors {
        let Some(own) = department.and_then(|d| uuid::Uuid::parse_str(&d).ok()) else {
            continue;
        };
        let (mut at_risk, mut breached) = (Vec::new(), Vec::new());
        for w in &watched {
            let department = w.report.department_id.as_deref();
            let within = department
                .and_then(|d| uuid::Uuid::parse_str(d).ok())
                .is_some_and(|d| tree.depth_below(d, own).is_some());
            if !within {
                continue;
            }
            let item = json!({"report": w.report.number, "due_at": w.report.answer_due_at});
            match w.risk {
                Risk::AtRisk => at_risk.push(item),
                Risk::Breached => breached.push(item),
            }
        }
        let payload = json!({"day": day, "at_risk": at_risk, "breached": breached});
        queued +=
            db::outbox::queue_scheduled(conn, &key, "digest", (email, locale), &payload, now)?;
    }
    Ok(queued)
}

/// The city's local date at `now`.
pub fn local_day(services: &Services, now: NaiveDateTime) -> NaiveDate {
    now.and_utc()
        .with_timezone(&services.time_zone)
        .date_naive()
}

/// What one instance at a time does after a pass: forget what has expired,
/// refresh the public statistics (`super::statistics`), sign a checkpoint
/// when one is due, queue the day's digests from the set
/// hour (once a day per instance; the outbox keeps one per supervisor and
/// day whoever queues it).
pub fn housekeep(
    services: &Services,
    conn: &mut DbConnection,
    now: NaiveDateTime,
    digest_done: &mut Option<NaiveDate>,
) -> Result<(), DbError> {
    // Rate-limit windows end within a day; held reports whose link expired
    // are not coming; idempotency keys are kept for a day.
    db::limits::forget_before(conn, now - TimeDelta::days(2))?;
    db::pending::forget_expired(conn, now)?;
    operations::forget_answers_before(conn, now - IDEMPOTENCY_KEPT)?;
    super::statistics::refresh(conn, now)?;
    match checkpoint(services, conn, now, When::IfDue) {
        Ok(Some(c)) => log::info!("ledger checkpoint signed at {} entries", c.size),
        Ok(None) => {}
        Err(CheckpointError::Db(e)) => return Err(e),
        Err(broken) => log::error!("{broken}"),
    }
    let local = now.and_utc().with_timezone(&services.time_zone);
    let today = local.date_naive();
    if local.hour() >= services.digest_hour && *digest_done != Some(today) {
        queue_digests(services, conn, today, now)?;
        *digest_done = Some(today);
    }
    Ok(())
}

/// The scanner's thread: a pass at start, then one every `interval_secs`
/// (0: none); the housekeeping under its lease. It ends when the
/// application (whatever holds the services) does.
pub fn start_scanner<S>(state: Weak<S>, interval_secs: u64)
where
    S: AsRef<Services> + Send + Sync + 'static,
{
    if interval_secs == 0 {
        return;
    }
    let lease = Lease {
        job: "scanner-housekeeping",
        holder: db::new_id(),
        // Held while this instance keeps passing; lapses soon after it dies.
        length: TimeDelta::seconds(
            i64::try_from(interval_secs.saturating_mul(3))
                .unwrap_or(i64::MAX)
                .max(30),
        ),
    };
    let spawned = std::thread::Builder::new()
        .name("gorod-sla-scanner".into())
        .spawn(move || {
            let mut digest_done: Option<NaiveDate> = None;
            loop {
                let Some(state) = state.upgrade() else { break };
                let services = (*state).as_ref();
                let pass = db::checkout(&services.pool).and_then(|mut conn| {
                    let now = services.clock.now();
                    let scanned = scan(services, &mut conn, now)?;
                    lease.run(&mut conn, now, |conn| {
                        housekeep(services, conn, now, &mut digest_done)
                    })?;
                    Ok(scanned.summary)
                });
                match pass {
                    Ok(summary) if summary.marks > 0 => log::info!(
                        "SLA scanner: {} reports looked at, {} marks recorded",
                        summary.looked_at,
                        summary.marks
                    ),
                    Ok(_) => {}
                    Err(e) => log::error!("SLA scanner pass failed: {e}"),
                }
                drop(state);
                std::thread::sleep(Duration::from_secs(interval_secs));
            }
        });
    if let Err(e) = spawned {
        log::error!("the SLA scanner could not start: {e}");
    }
}

/// Starts the search indexer: every `interval_ms` it writes the terms of
/// the reports waiting for it, a batch at a time until none wait, on one
/// instance at a time (a lease that lapses soon after its holder dies).
pub fn start_indexer<S>(state: Weak<S>, interval_ms: u64)
where
    S: AsRef<Services> + Send + Sync + 'static,
{
    if interval_ms == 0 {
        return;
    }
    let lease = Lease {
        job: "search-indexer",
        holder: db::new_id(),
        length: TimeDelta::seconds(30),
    };
    let spawned = std::thread::Builder::new()
        .name("gorod-search-indexer".into())
        .spawn(move || loop {
            let Some(state) = state.upgrade() else { break };
            let services = (*state).as_ref();
            let pass = db::checkout(&services.pool).and_then(|mut conn| {
                // A read first: an idle city writes nothing twice a second.
                if !super::search::waiting(&mut conn)? {
                    return Ok(None);
                }
                let now = services.clock.now();
                lease.run(&mut conn, now, |conn| {
                    let mut indexed = 0;
                    loop {
                        let batch = super::search::index_pending(conn)?;
                        indexed += batch;
                        if batch < usize::try_from(super::search::INDEX_BATCH).unwrap_or(0) {
                            return Ok(indexed);
                        }
                    }
                })
            });
            if let Err(e) = pass {
                log::error!("search indexer pass failed: {e}");
            }
            drop(state);
            std::thread::sleep(Duration::from_millis(interval_ms));
        });
    if let Err(e) = spawned {
        log::error!("the search indexer could not start: {e}");
    }
}
