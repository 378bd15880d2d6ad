//! The deadline clocks of stored reports: reading them, and the SLA scan
//! that records what fell due. `sla::schedule` says which warnings,
//! breaches and escalations are due and what each tells whom; this module
//! reads what it needs, asks, and has `db/` write the marks, their history
//! events, their messages and the reports' new deadlines in the caller's
//! transaction (a scan batch's, or a move's).

use chrono::NaiveDateTime;
use serde_json::json;

use crate::db::catalog::CatalogSnapshot;
use crate::db::rows::{ReportEventRow, ReportPauseRow, ReportRow, SlaMarkRow};
use crate::db::{self, new_id, outbox, write_transaction, DbConnection, DbError};
use crate::notify::audience::Placement;
use crate::notify::dates::StepDate;
use crate::reports::history::Detail;
use crate::sla::schedule::{self, ClockReading, Stage};
use crate::sla::SlaPlan;

/// The clocks of a stored report at `now` (its pauses and recorded marks
/// read from the database).
pub fn read(
    conn: &mut DbConnection,
    report: &ReportRow,
    plan: &SlaPlan,
    now: NaiveDateTime,
) -> Result<ClockReading, DbError> {
    let pauses = db::workflow::pauses_of(conn, report)?;
    let recorded = db::workflow::recorded_marks(conn, report)?;
    let facts = db::workflow::deadline_facts(report, &pauses)?;
    Ok(schedule::clocks_at(
        &plan.policy,
        &plan.calendar,
        &facts,
        now,
        |stage: Stage, mark| recorded.contains(&(stage.as_str().to_string(), mark.code())),
    ))
}

/// Where a report stands for its notifications.
pub fn placement(report: &ReportRow) -> Placement<'_> {
    Placement {
        department: report.department_id.as_deref(),
        assignee: report.assignee_id.as_deref(),
    }
}

/// What one scanner pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanSummary {
    /// Reports whose clocks were looked at.
    pub looked_at: usize,
    /// Warnings, breaches and escalations recorded.
    pub marks: usize,
}

/// Reports taken per transaction.
pub const SCAN_BATCH: i64 = 500;

/// One pass of the SLA scanner: every report whose `next_sla_at` has come
/// gets its due warnings, breach and escalations recorded — each once, as
/// `sla_marks` holds — with a history event and notifications, and its
/// deadlines and next look worked out again. One transaction per batch of
/// leased reports, so several instances share the work.
pub fn scan(
    conn: &mut DbConnection,
    snapshot: &CatalogSnapshot,
    now: NaiveDateTime,
) -> Result<ScanSummary, DbError> {
    let mut summary = ScanSummary::default();
    loop {
        let (looked_at, marks) = write_transaction(conn, |conn| {
            let mut batch = db::sla::lease_due(conn, now, SCAN_BATCH)?;
            let marks = record_due_marks(conn, snapshot, &mut batch, now)?;
            Ok::<_, DbError>((batch.len(), marks))
        })?;
        summary.looked_at += looked_at;
        summary.marks += marks;
        if looked_at < SCAN_BATCH as usize {
            return Ok(summary);
        }
    }
}

/// Records the due marks of reports (locked by the caller: the scanner's
/// batch, or the report a move is about to change) and stores their clocks;
/// returns how many marks were new. Each mark gets its history event and its
/// messages; what is read and written is read and written once for the
/// whole batch, except each report's own clocks.
pub fn record_due_marks(
    conn: &mut DbConnection,
    snapshot: &CatalogSnapshot,
    reports: &mut [ReportRow],
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    if reports.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = reports.iter().map(|r| r.id.as_str()).collect();
    let db::sla::ClockInputs { pauses, recorded } = db::sla::clock_inputs(conn, &ids)?;
    let assignees: Vec<&str> = reports
        .iter()
        .filter_map(|r| r.assignee_id.as_deref())
        .collect();
    let staff = outbox::load_staff(conn, &assignees)?;
    let tree = snapshot.map.departments();
    let (mut marks, mut events, mut messages) = (Vec::new(), Vec::new(), Vec::new());
    for report in reports.iter_mut() {
        let plan = db::workflow::plan_of(snapshot, report)?;
        let cycle_pauses: Vec<ReportPauseRow> = pauses
            .get(&report.id)
            .map(|all| {
                all.iter()
                    .filter(|p| p.cycle == report.cycle)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let reading = schedule::clocks_at(
            &plan.policy,
            &plan.calendar,
            &db::workflow::deadline_facts(report, &cycle_pauses)?,
            now,
            |stage, mark| {
                let key = (
                    report.id.clone(),
                    report.cycle,
                    stage.as_str().to_string(),
                    mark.code(),
                );
                recorded.contains(&key)
            },
        );
        for &(stage, mark, due_at) in &reading.marks {
            let notice = schedule::notice(mark);
            if let Some(level) = notice.escalation_level {
                report.escalation_level = report.escalation_level.max(level as i32);
            }
            marks.push(SlaMarkRow {
                report_id: report.id.clone(),
                cycle: report.cycle,
                stage: stage.as_str().into(),
                mark: mark.code(),
                due_at,
                recorded_at: now,
            });
            let event_id = new_id();
            let recipients = notice
                .audiences
                .iter()
                .flat_map(|&audience| staff.of(placement(report), audience, tree))
                .collect();
            let payload = json!({
                "report": report.number,
                "event": mark.event(),
                "stage": stage.as_str(),
                "mark": mark.code(),
                "date": StepDate::Deadline { stage: Some(stage), at: due_at },
            });
            messages.extend(outbox::messages(
                &event_id,
                mark.event(),
                recipients,
                &payload,
                now,
            ));
            events.push(ReportEventRow {
                id: event_id,
                report_id: report.id.clone(),
                actor_id: None,
                actor_role: "system".into(),
                kind: mark.event().into(),
                from_status: Some(report.status.clone()),
                to_status: report.status.clone(),
                note: None,
                public: notice.public,
                created_at: now,
                details: Some(
                    Detail::Mark {
                        stage,
                        mark: mark.code(),
                        due_at,
                    }
                    .to_json(),
                ),
            });
        }
        db::workflow::store_clocks(report, &reading, now);
        report.next_sla_at = reading.next;
    }
    db::sla::record_marks(conn, &marks, &events)?;
    let queued: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.id.as_str(), e.report_id.as_str()))
        .collect();
    db::back_office::enqueue(conn, &queued, now)?;
    outbox::enqueue(conn, &messages)?;
    for report in reports.iter() {
        db::workflow::save_clocks(conn, report)?;
    }
    Ok(marks.len())
}
