//! Residents' updates to a report and following one (the rules are
//! `reports::updates`'): adding an update in one transaction with its
//! photos (stored before) and the messages it sends, a moderator's
//! decision on one, following and unfollowing.
//!
//! Who hears of an update once it is published: the department (its
//! address) and the crew member assigned, and every other follower and the
//! reporter — never its author. A moderated update is told when a
//! moderator publishes it; a hidden one is told to nobody but its author.

use chrono::NaiveDateTime;
use serde_json::json;

use super::Services;
use crate::db::filing::{resident_by_email, StoredPhoto};
use crate::db::rows::{AttachmentRow, ReportEventRow};
use crate::db::updates::{self as updates_db, Standing, UpdateRow};
use crate::db::{self, new_id, outbox, write_transaction, DbConnection, DbError};
use crate::locale::Text;
use crate::policy::Target;
use crate::reports::updates::{
    may_add, may_follow, Decision, Refusal, Relation, StaffReason, UpdateState, UpdateText,
};
use crate::reports::{ReportStatus, Reporter, ValidationError};
use crate::workflow::Audience;

pub use crate::db::updates::UpdateRow as Update;

/// Why an update, a follow or a decision is refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("there is no report {0}")]
    NoSuchReport(String),
    #[error("there is no update {0}")]
    NoSuchUpdate(String),
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The caller may not moderate this report's content.
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The resident's updates of the day are spent.
    #[error(transparent)]
    TooMany(#[from] super::filing::FilingError),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn standing_of(
    conn: &mut DbConnection,
    report_id: &str,
    user_id: Option<&str>,
) -> Result<(Standing, ReportStatus), UpdateError> {
    let standing = updates_db::standing(conn, report_id, user_id)?
        .ok_or_else(|| UpdateError::NoSuchReport(report_id.to_string()))?;
    let status = standing
        .status
        .parse()
        .map_err(|e| DbError::Corrupt(format!("report {}: {e}", standing.number)))?;
    Ok((standing, status))
}

/// What a follow did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    Started {
        number: i64,
    },
    /// They already hear of it (they filed, support or follow it).
    Already {
        number: i64,
    },
}

/// A resident starts following an open report (without supporting it).
pub fn follow(
    app: &Services,
    conn: &mut DbConnection,
    report_id: &str,
    resident: &Reporter,
) -> Result<Followed, UpdateError> {
    let now = app.clock.now();
    let (standing, status) = standing_of(conn, report_id, None)?;
    may_follow(status)?;
    let user_id = resident_by_email(conn, now, resident)?;
    let number = standing.number;
    Ok(if updates_db::follow(conn, now, report_id, &user_id)? {
        Followed::Started { number }
    } else {
        Followed::Already { number }
    })
}

/// How someone stands to a report (a stranger to one that is not there).
pub fn relation(
    conn: &mut DbConnection,
    report_id: &str,
    user_id: &str,
) -> Result<Relation, DbError> {
    Ok(Relation::of_subscription(
        updates_db::standing(conn, report_id, Some(user_id))?
            .and_then(|s| s.subscription)
            .as_deref(),
    ))
}

/// A resident stops hearing of a report; whether they did before.
pub fn unfollow(
    app: &Services,
    conn: &mut DbConnection,
    report_id: &str,
    user_id: &str,
) -> Result<bool, UpdateError> {
    standing_of(conn, report_id, None)?;
    Ok(updates_db::unfollow(conn, app.clock.now(), report_id, user_id)? > 0)
}

/// The user a resident is (made an account-less user at their first
/// report, "me too", follow or update).
pub fn resident(
    app: &Services,
    conn: &mut DbConnection,
    resident: &Reporter,
) -> Result<String, DbError> {
    resident_by_email(conn, app.clock.now(), resident)
}

/// An update as a resident sends it (photos cleaned and stored already).
pub struct NewUpdate<'a> {
    pub report_id: &'a str,
    pub author_id: &'a str,
    pub text: UpdateText,
    pub photos: Vec<StoredPhoto>,
}

/// What adding an update did.
#[derive(Debug, Clone)]
pub struct Added {
    pub number: i64,
    pub event_id: String,
    pub state: UpdateState,
}

/// Adds a resident's update to an open report they filed or follow,
/// within their updates of the day.
pub fn add(
    app: &Services,
    conn: &mut DbConnection,
    update: NewUpdate<'_>,
) -> Result<Added, UpdateError> {
    let now = app.clock.now();
    within_daily_limit(app, conn, update.author_id, now)?;
    write_transaction(conn, |conn| {
        let (standing, status) = standing_of(conn, update.report_id, Some(update.author_id))?;
        may_add(
            status,
            Relation::of_subscription(standing.subscription.as_deref()),
        )?;
        let state = UpdateState::on_arrival(standing.updates_moderated);
        let event_id = new_id();
        let event = ReportEventRow {
            id: event_id.clone(),
            report_id: update.report_id.to_string(),
            actor_id: Some(update.author_id.to_string()),
            actor_role: "resident".into(),
            kind: "update".into(),
            from_status: Some(standing.status.clone()),
            to_status: standing.status.clone(),
            note: Some(update.text.as_str().to_string()),
            public: state.is_public(),
            created_at: now,
            details: None,
        };
        let photos: Vec<AttachmentRow> = update
            .photos
            .iter()
            .enumerate()
            .map(|(i, p)| p.attachment(update.report_id, &event_id, i, now))
            .collect();
        let row = UpdateRow {
            event_id: event_id.clone(),
            report_id: update.report_id.to_string(),
            author_id: update.author_id.to_string(),
            state: state.as_str().into(),
            reason: None,
            decided_by: None,
            decided_at: None,
            created_at: now,
        };
        updates_db::add(conn, &event, &photos, &row)?;
        if state.is_public() {
            tell(app, conn, &standing, &event, update.author_id, now)?;
        }
        Ok(Added {
            number: standing.number,
            event_id,
            state,
        })
    })
}

/// Refused when the resident added their updates of the day.
fn within_daily_limit(
    app: &Services,
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<(), UpdateError> {
    let today = crate::limits::local_day(now, app.time_zone);
    let most = app.limits.updates_per_day;
    if updates_db::added_since(conn, user_id, today.start)? < most {
        return Ok(());
    }
    Err(super::filing::FilingError::TooMany {
        what: crate::limits::come_back(
            Text::new(
                format!("новостей к обращениям в день от одного жителя — не больше {most}"),
                format!("{most} updates a day is the most one resident may add"),
            ),
            today.end,
            app.time_zone,
        ),
        window: today,
        retry_after: today.end - now,
    }
    .into())
}

/// Tells of a published update: the department, the crew member assigned,
/// the reporter and followers — everyone but its author.
fn tell(
    app: &Services,
    conn: &mut DbConnection,
    standing: &Standing,
    event: &ReportEventRow,
    author_id: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let snapshot = app.catalog_snapshot(conn)?;
    let author = db::access::email_of(conn, author_id)?;
    let assignee = standing.assignee_id.as_deref().unwrap_or("");
    let staff = outbox::load_staff(conn, &[assignee])?;
    let at = crate::notify::audience::Placement {
        department: standing.department_id.as_deref(),
        assignee: standing.assignee_id.as_deref(),
    };
    let mut people = outbox::residents(conn, &event.report_id)?;
    for audience in [Audience::Department, Audience::Assignee] {
        people.extend(staff.of(at, audience, snapshot.map.departments()));
    }
    people.retain(|(email, _)| Some(email) != author.as_ref());
    let payload = json!({
        "report": standing.number,
        "report_id": event.report_id,
        "event": "update",
        "status": standing.status,
        "note": event.note,
    });
    let messages = outbox::messages(&event.id, "update", people, &payload, now);
    outbox::enqueue(conn, &messages)?;
    Ok(())
}

/// A moderator's decision on an update.
pub struct Moderation<'a> {
    pub event_id: &'a str,
    pub decision: Decision,
    /// Required to hide.
    pub reason: Option<&'a str>,
    pub audit: super::audit::Actor,
}

/// What a decision did.
#[derive(Debug, Clone)]
pub struct Decided {
    pub number: i64,
    pub report_id: String,
    pub state: UpdateState,
}

/// Publishes or hides an update, once `authorise` allows it for the
/// report's department; audited. Publishing a waiting update tells its
/// audience; hiding one tells nobody (the author sees it on the page).
pub fn decide(
    app: &Services,
    conn: &mut DbConnection,
    asked: Moderation<'_>,
    authorise: impl FnOnce(Target, &crate::routing::Departments) -> bool,
) -> Result<Decided, UpdateError> {
    let now = app.clock.now();
    let reason = match asked.decision {
        Decision::Hide => Some(StaffReason::parse("reason", asked.reason)?),
        Decision::Publish => None,
    };
    let by = asked.audit.user_id.clone().unwrap_or_default();
    write_transaction(conn, |conn| {
        let (update, event) = updates_db::find(conn, asked.event_id)?
            .ok_or_else(|| UpdateError::NoSuchUpdate(asked.event_id.to_string()))?;
        let (standing, _) = standing_of(conn, &update.report_id, None)?;
        let snapshot = app.catalog_snapshot(conn)?;
        let target = Target::Report {
            department: standing
                .department_id
                .as_deref()
                .and_then(|d| d.parse().ok()),
            involves_caller: false,
        };
        if !authorise(target, snapshot.map.departments()) {
            return Err(UpdateError::Forbidden);
        }
        let was = UpdateState::parse(&update.state);
        let state = asked.decision.state();
        updates_db::decide(
            conn,
            asked.event_id,
            (state.as_str(), state.is_public()),
            reason.as_ref().map(StaffReason::as_str),
            &by,
            now,
        )?;
        if was == Some(UpdateState::Waiting) && state == UpdateState::Published {
            tell(app, conn, &standing, &event, &update.author_id, now)?;
        }
        super::audit::record(
            app,
            conn,
            &asked.audit,
            super::audit::Entry {
                action: match asked.decision {
                    Decision::Publish => "update.publish",
                    Decision::Hide => "update.hide",
                },
                object_type: "report",
                object_id: Some(&update.report_id),
                before: Some(json!({ "update": update.event_id, "state": update.state })),
                after: Some(json!({
                    "update": update.event_id,
                    "state": state.as_str(),
                    "reason": reason.as_ref().map(StaffReason::as_str),
                })),
            },
        )?;
        Ok(Decided {
            number: standing.number,
            report_id: update.report_id,
            state,
        })
    })
}

/// A report's updates with where each stands.
pub fn of_report(conn: &mut DbConnection, report_id: &str) -> Result<Vec<Update>, DbError> {
    updates_db::of_report(conn, report_id)
}

/// Updates waiting for a moderator whom `reaches` lets decide them (by the
/// report's department), oldest first: (update, report number).
pub fn waiting(
    conn: &mut DbConnection,
    reaches: impl Fn(Option<&str>) -> bool,
    limit: i64,
) -> Result<Vec<(Update, i64)>, DbError> {
    Ok(updates_db::waiting(conn, limit)?
        .into_iter()
        .filter(|(_, _, department)| reaches(department.as_deref()))
        .map(|(u, number, _)| (u, number))
        .collect())
}
