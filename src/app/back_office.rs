//! The city's back offices and webhook subscribers: configuring them, and
//! what happens between Gorod and them.
//!
//! - An **endpoint** is a back office that speaks Open311 GeoReport v2. A
//!   department names one (every report routed to it goes there), or a
//!   category does (which wins). Its maps turn category codes into its
//!   service codes, question codes into its attribute codes, and its
//!   statuses into moves here.
//! - Every report event is queued (`hook_pending`) in its own transaction
//!   while anything listens; [`match_events`] takes the queue in order, one
//!   instance at a time (rows locked), and turns each event into
//!   deliveries: one per matching webhook (`webhook:{hook}:{event}`), and
//!   the report's handover when it is now in the hands of a department
//!   with an endpoint (`open311:{report}:{endpoint}`): each is queued once
//!   whatever happens, by its unique `dedupe`. A report reassigned away
//!   from an endpoint is withdrawn there when the endpoint takes updates
//!   (`withdraw`), or its handover records that it could not be told.
//! - A back office's word (pulled, pushed, or answered through a mailed
//!   link) is [`take_update`]: once per department and `update_id`; its
//!   status makes the move the endpoint's map says, as the department's
//!   crew would, checked by the same rules, in one transaction with its
//!   record. A move the rules refuse is recorded with the reason and
//!   changes nothing.
//! - Sending is the courier's (deliver.rs).

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, TimeDelta};
use serde::Deserialize;
use serde_json::{json, Value};

use super::moves::{self, Move, MoveError};
use super::{Refused, Services};
use crate::db::back_office::{self as store, QueuedEvent};
use crate::db::filing::StoredPhoto;
pub use crate::db::rows::{BackOfficeUpdateRow, DeliveryRow, EndpointRow, HandoverRow, WebhookRow};
use crate::db::{self, new_id, write_transaction, DbConnection, DbError};
use crate::locale::Text;
use crate::open311::outbound::{self, Endpoint, Handover};
use crate::reports::history::Detail;
use crate::reports::questions::Answer;
use crate::reports::ValidationError;
use crate::webhooks::{Event, Secret};
use crate::workflow::{Action, Actor, Command, Role};

/// The shape of a report as the public API shows it, which the web layer
/// owns: webhooks carry it.
pub trait PublicReports {
    fn public_report(
        &self,
        conn: &mut DbConnection,
        report_id: &str,
    ) -> Result<Option<Value>, DbError>;
}

/// The moves a back office's status may make here: those a crew makes
/// without more than a text.
pub const BACK_OFFICE_MOVES: [Action; 4] =
    [Action::Take, Action::Answer, Action::Return, Action::Resume];

/// Statuses in which a report is in its department's hands (and so in its
/// back office's).
const IN_HAND: [&str; 4] = ["assigned", "in_progress", "paused", "reopened"];

/// An endpoint as an admin describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct EndpointInput {
    pub url: String,
    pub api_key: String,
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// Category code to the endpoint's service code.
    #[serde(default)]
    pub services: BTreeMap<String, String>,
    /// Question code to the endpoint's attribute code.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// The endpoint's status to a move (`take`, `answer`, `return`, `resume`).
    #[serde(default)]
    pub statuses: BTreeMap<String, String>,
    /// `requests` (default), `updates` or `none`.
    #[serde(default)]
    pub pull: Option<String>,
    /// Whether it takes `servicerequestupdates` from here (a report
    /// reassigned away is withdrawn there).
    #[serde(default)]
    pub withdraw: bool,
}

/// Whose endpoint: a department's or a category's.
#[derive(Debug, Clone)]
pub enum Owner {
    Department(String),
    Category(String),
}

fn invalid(field: &str, ru: String, en: String) -> Refused {
    Refused::Invalid(ValidationError::new(field, Text::new(ru, en)))
}

/// Sets (or replaces) the endpoint of a department or a category.
pub fn configure_endpoint(
    app: &Services,
    conn: &mut DbConnection,
    owner: &Owner,
    input: EndpointInput,
) -> Result<EndpointRow, Refused> {
    let snapshot = app.catalog_snapshot(conn)?;
    let (department_id, category_id) = match owner {
        Owner::Department(code) => {
            let id = snapshot.map.departments().id_of(code).ok_or_else(|| {
                ValidationError::unknown("department", code, ("подразделение", "department"))
            })?;
            (Some(id.to_string()), None)
        }
        Owner::Category(code) => {
            let category = snapshot.categories.get(code).ok_or_else(|| {
                ValidationError::unknown("category", code, ("категория", "category"))
            })?;
            (None, Some(category.routing.id.to_string()))
        }
    };
    let url = input.url.trim().trim_end_matches('/').to_string();
    let mailbox = mailbox_of(&url);
    if let Some(address) = mailbox {
        crate::reports::EmailAddress::parse("url", address)?;
    } else if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 500 {
        return Err(invalid(
            "url",
            format!("«{url}» — не адрес http(s) и не mailto:"),
            format!("'{url}' is not an http(s) address or a mailto:"),
        ));
    }
    if mailbox.is_none() && input.api_key.trim().is_empty() {
        return Err(ValidationError::required("api_key").into());
    }
    for code in input.services.keys() {
        if !snapshot.categories.contains_key(code) {
            return Err(ValidationError::unknown(
                format!("services.{code}"),
                code,
                ("категория", "category"),
            )
            .into());
        }
    }
    for (status, action) in &input.statuses {
        let allowed = Action::parse(action).filter(|a| BACK_OFFICE_MOVES.contains(a));
        if allowed.is_none() {
            let names: Vec<&str> = BACK_OFFICE_MOVES.iter().map(|a| a.as_str()).collect();
            return Err(invalid(
                &format!("statuses.{status}"),
                format!("«{action}» — не ход; возможны: {}", names.join(", ")),
                format!("'{action}' is not a move; the moves: {}", names.join(", ")),
            ));
        }
    }
    // A mailbox is told by email and answers through its link.
    let pull = match mailbox {
        Some(_) => "none".to_string(),
        None => input.pull.unwrap_or_else(|| "requests".into()),
    };
    if !matches!(pull.as_str(), "requests" | "updates" | "none") {
        return Err(invalid(
            "pull",
            format!("«{pull}» — не requests, updates или none"),
            format!("'{pull}' is not requests, updates or none"),
        ));
    }
    let now = app.clock.now();
    let existing = store::endpoint_of(conn, department_id.as_deref(), category_id.as_deref())?;
    let json = |map: &BTreeMap<String, String>| serde_json::to_string(map).unwrap_or_default();
    let row = EndpointRow {
        id: existing.as_ref().map_or_else(new_id, |e| e.id.clone()),
        department_id,
        category_id,
        url,
        api_key: input.api_key.trim().to_string(),
        jurisdiction: input.jurisdiction.filter(|j| !j.trim().is_empty()),
        services: json(&input.services),
        attributes: json(&input.attributes),
        statuses: json(&input.statuses),
        pull,
        withdraw: input.withdraw,
        pulled_at: existing.as_ref().and_then(|e| e.pulled_at),
        created_at: existing.as_ref().map_or(now, |e| e.created_at),
        updated_at: now,
    };
    store::save_endpoint(conn, &row)?;
    Ok(row)
}

/// The address of a mail-only department's endpoint (`mailto:…`).
pub fn mailbox_of(url: &str) -> Option<&str> {
    url.strip_prefix("mailto:")
}

/// An endpoint row as the domain's description.
pub fn endpoint_of(row: &EndpointRow) -> Endpoint {
    let map =
        |text: &str| serde_json::from_str::<BTreeMap<String, String>>(text).unwrap_or_default();
    Endpoint {
        url: row.url.clone(),
        api_key: row.api_key.clone(),
        jurisdiction: row.jurisdiction.clone(),
        services: map(&row.services),
        attributes: map(&row.attributes),
        statuses: map(&row.statuses)
            .into_iter()
            .filter_map(|(status, action)| Some((status.to_lowercase(), Action::parse(&action)?)))
            .collect(),
    }
}

pub fn endpoints(conn: &mut DbConnection) -> Result<Vec<EndpointRow>, DbError> {
    store::endpoints(conn)
}

/// Removes an endpoint; refused while reports handed to it are followed.
pub fn remove_endpoint(conn: &mut DbConnection, id: &str) -> Result<(), Refused> {
    if store::endpoint(conn, id)?.is_none() {
        return Err(Refused::NotFound(Text::new(
            format!("нет системы {id}"),
            format!("there is no endpoint {id}"),
        )));
    }
    if !store::delete_endpoint(conn, id)? {
        return Err(Refused::Conflict(Text::new(
            "этой системе уже передавали сообщения: их ответы читаются через неё",
            "reports were handed to this endpoint: their answers are read through it",
        )));
    }
    Ok(())
}

/// Deliveries in one state, newest first (optionally one report's).
pub fn deliveries(
    conn: &mut DbConnection,
    status: &str,
    report_id: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, DbError> {
    store::list(conn, Some(status), report_id, limit)
}

/// A dead delivery back in the queue, due now: the delivery as it is then.
pub fn requeue(conn: &mut DbConnection, id: &str) -> Result<Option<DeliveryRow>, DbError> {
    let now = chrono::Utc::now().naive_utc();
    if !store::requeue(conn, id, now)? {
        return Ok(None);
    }
    store::delivery(conn, id)
}

// ---- webhooks ----

/// A webhook subscription as an admin asks for it.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookInput {
    pub url: String,
    pub events: Vec<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
}

fn fresh_secret() -> Secret {
    Secret::from_bytes(rand::random())
}

/// Registers a webhook; the row and its secret (shown once).
pub fn create_webhook(
    app: &Services,
    conn: &mut DbConnection,
    input: WebhookInput,
) -> Result<(WebhookRow, String), Refused> {
    let url = input.url.trim().to_string();
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 500 {
        return Err(invalid(
            "url",
            format!("«{url}» — не адрес http(s)"),
            format!("'{url}' is not an http(s) address"),
        ));
    }
    if input.events.is_empty() {
        return Err(ValidationError::required("events").into());
    }
    let mut events = Vec::new();
    for name in &input.events {
        let event = Event::parse(name)
            .map_err(|message| Refused::Invalid(ValidationError::new("events", message)))?;
        if !events.contains(&event.name()) {
            events.push(event.name());
        }
    }
    let snapshot = app.catalog_snapshot(conn)?;
    let category_id = match input.category.as_deref() {
        Some(code) => Some(
            snapshot
                .categories
                .get(code)
                .ok_or_else(|| {
                    ValidationError::unknown("category", code, ("категория", "category"))
                })?
                .routing
                .id
                .to_string(),
        ),
        None => None,
    };
    let department_id = match input.department.as_deref() {
        Some(code) => Some(
            snapshot
                .map
                .departments()
                .id_of(code)
                .ok_or_else(|| {
                    ValidationError::unknown("department", code, ("подразделение", "department"))
                })?
                .to_string(),
        ),
        None => None,
    };
    let secret = fresh_secret().encode();
    let row = WebhookRow {
        id: new_id(),
        url,
        events: events.join(","),
        category_id,
        department_id,
        secret: secret.clone(),
        previous_secret: None,
        previous_until: None,
        created_at: app.clock.now(),
        deleted_at: None,
    };
    store::create_webhook(conn, &row)?;
    Ok((row, secret))
}

pub fn webhooks(conn: &mut DbConnection) -> Result<Vec<WebhookRow>, DbError> {
    store::webhooks(conn)
}

fn no_webhook(id: &str) -> Refused {
    Refused::NotFound(Text::new(
        format!("нет подписки {id}"),
        format!("there is no webhook {id}"),
    ))
}

/// A new secret for a webhook; deliveries are signed with both until
/// `overlap` has passed. The new secret.
pub fn rotate_webhook(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    overlap: TimeDelta,
) -> Result<String, Refused> {
    let secret = fresh_secret().encode();
    if !store::rotate_webhook(conn, id, &secret, now + overlap)? {
        return Err(no_webhook(id));
    }
    Ok(secret)
}

pub fn delete_webhook(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<(), Refused> {
    if !store::delete_webhook(conn, id, now)? {
        return Err(no_webhook(id));
    }
    Ok(())
}

/// The secrets a webhook's deliveries are signed with now.
pub fn signing_secrets(row: &WebhookRow, now: NaiveDateTime) -> Vec<Secret> {
    let previous = row
        .previous_secret
        .as_deref()
        .filter(|_| row.previous_until.is_some_and(|until| until > now));
    [Some(row.secret.as_str()), previous]
        .into_iter()
        .flatten()
        .filter_map(|s| Secret::parse(s).ok())
        .collect()
}

// ---- matching events to deliveries ----

/// Events matched per transaction.
const MATCH_BATCH: i64 = 200;

/// Matches a batch of queued events to deliveries; how many events.
pub fn match_events(
    app: &Services,
    shapes: &dyn PublicReports,
    conn: &mut DbConnection,
) -> Result<usize, DbError> {
    let wall = chrono::Utc::now().naive_utc();
    // Read and shaped first, outside the write transaction: shaping a
    // report is the costly part, and filing waits for the writer.
    let (ids, queued) = store::queued(conn, MATCH_BATCH)?;
    if ids.is_empty() {
        return Ok(0);
    }
    let hooks = store::webhooks(conn)?;
    let mut shaped: HashMap<String, Option<Value>> = HashMap::new();
    let mut heard = Vec::new();
    for q in &queued {
        let Some(event) = Event::of_kind(&q.event.kind) else {
            continue;
        };
        for hook in hooks.iter().filter(|h| hears(h, event, q)) {
            if !shaped.contains_key(&q.event.report_id) {
                let view = shapes.public_report(conn, &q.event.report_id)?;
                shaped.insert(q.event.report_id.clone(), view);
            }
            let Some(Some(report)) = shaped.get(&q.event.report_id) else {
                continue;
            };
            let payload = json!({
                "type": event.as_str(),
                "timestamp": rfc3339(q.event.created_at),
                "data": {
                    "event_id": q.event.id,
                    "kind": q.event.kind,
                    "report": report,
                },
            });
            heard.push((
                q.event.id.clone(),
                delivery(
                    ("webhook", &hook.id),
                    q,
                    format!("webhook:{}:{}", hook.id, q.event.id),
                    event.as_str(),
                    payload.to_string(),
                    wall,
                ),
            ));
        }
    }
    write_transaction(conn, |conn| {
        let claimed = store::claim(conn, &ids)?;
        let mut rows: Vec<DeliveryRow> = heard
            .into_iter()
            .filter(|(event, _)| claimed.contains(event))
            .map(|(_, row)| row)
            .collect();
        for q in queued.iter().filter(|q| claimed.contains(&q.event.id)) {
            rows.extend(hand_over(app, conn, q, wall)?);
        }
        store::queue_deliveries(conn, &rows)?;
        // Another instance may hold them for a moment: still a round's work.
        Ok(claimed.len().max(1))
    })
}

fn hears(hook: &WebhookRow, event: Event, q: &QueuedEvent) -> bool {
    hook.events.split(',').any(|e| e == event.name())
        && hook
            .category_id
            .as_ref()
            .is_none_or(|c| *c == q.category_id)
        && hook
            .department_id
            .as_ref()
            .is_none_or(|d| q.department_id.as_ref() == Some(d))
}

fn delivery(
    (kind, target): (&str, &str),
    q: &QueuedEvent,
    dedupe: String,
    event_type: &str,
    payload: String,
    now: NaiveDateTime,
) -> DeliveryRow {
    DeliveryRow {
        id: format!("msg_{}", new_id().replace('-', "")),
        kind: kind.into(),
        target_id: target.into(),
        report_id: q.event.report_id.clone(),
        dedupe,
        event_type: event_type.into(),
        payload,
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: now,
        lease_until: None,
        last_error: None,
        created_at: now,
        sent_at: None,
    }
}

/// The handover an event calls for: the report to its department's
/// endpoint once it is in that department's hands, and a withdrawal from
/// an endpoint it left.
fn hand_over(
    app: &Services,
    conn: &mut DbConnection,
    q: &QueuedEvent,
    now: NaiveDateTime,
) -> Result<Vec<DeliveryRow>, DbError> {
    let report_id = &q.event.report_id;
    let current = store::handover(conn, report_id)?;
    let in_hand = IN_HAND.contains(&q.status.as_str());
    let target = if in_hand {
        store::endpoint_for(conn, q.department_id.as_deref(), &q.category_id)?
    } else {
        None
    };
    let mut rows = Vec::new();
    if let Some(old) = current.as_ref().filter(|h| h.state != "withdrawn") {
        let left = match &target {
            Some(t) => t.id != old.endpoint_id,
            // Out of the department's hands: returned to triage, or
            // reassigned to a department without an endpoint.
            None => q.status == "returned" || (in_hand && q.department_id.is_some()),
        };
        if left {
            rows.extend(withdraw(conn, q, old, now)?);
        }
    }
    let Some(endpoint) = target else {
        return Ok(rows);
    };
    if current
        .as_ref()
        .is_some_and(|h| h.endpoint_id == endpoint.id && h.state != "withdrawn")
    {
        return Ok(rows);
    }
    let Some(report) = db::workflow::report(conn, report_id)? else {
        return Ok(rows);
    };
    let photos = store::filing_photos(conn, report_id)?
        .iter()
        .map(|hash| app.photo_url(hash, crate::media::Variant::Full))
        .collect();
    let answers: BTreeMap<String, Answer> =
        serde_json::from_str(&report.answers).unwrap_or_default();
    let handover = Handover {
        category: q.category_code.clone(),
        lat: report.lat,
        lon: report.lon,
        address: report.address.clone(),
        description: report.description.clone(),
        answers: answers
            .into_iter()
            .map(|(code, answer)| {
                let values = match answer {
                    Answer::Number(n) => vec![n.to_string()],
                    Answer::Text(t) => vec![t],
                    Answer::Choices(c) => c,
                };
                (code, values)
            })
            .collect(),
        photos,
        number: report.number,
    };
    if let Some(address) = mailbox_of(&endpoint.url) {
        mail_handover(app, conn, q, &endpoint, address, &report, handover, now)?;
        return Ok(rows);
    }
    let described = endpoint_of(&endpoint);
    let (state, note, form) = match outbound::request_form(&described, &handover) {
        Ok(form) => ("queued", None, Some(form)),
        Err(why) => ("withdrawn", Some(why.en().to_string()), None),
    };
    store::save_handover(
        conn,
        &HandoverRow {
            report_id: report_id.clone(),
            endpoint_id: endpoint.id.clone(),
            external_id: None,
            token: None,
            state: state.into(),
            note,
            created_at: now,
            sent_at: None,
        },
    )?;
    if let Some(form) = form {
        // The key is the endpoint's at sending time, never stored here.
        let pairs: Vec<(String, String)> =
            form.into_iter().filter(|(k, _)| k != "api_key").collect();
        rows.push(delivery(
            ("open311", &endpoint.id),
            q,
            format!("open311:{report_id}:{}", endpoint.id),
            "open311.request",
            serde_json::to_string(&pairs).unwrap_or_default(),
            now,
        ));
    }
    Ok(rows)
}

/// Hands a report to a mail-only department: one structured email with
/// everything about it and a signed link to answer, pause or return it.
#[allow(clippy::too_many_arguments)]
fn mail_handover(
    app: &Services,
    conn: &mut DbConnection,
    q: &QueuedEvent,
    endpoint: &EndpointRow,
    address: &str,
    report: &crate::db::rows::ReportRow,
    handover: Handover,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    store::save_handover(
        conn,
        &HandoverRow {
            report_id: report.id.clone(),
            endpoint_id: endpoint.id.clone(),
            external_id: None,
            token: None,
            state: "sent".into(),
            note: Some(format!("mailed to {address}")),
            created_at: now,
            sent_at: Some(now),
        },
    )?;
    let snapshot = app.catalog_snapshot(conn)?;
    let category = snapshot.names.categories.get(&handover.category);
    let questions = snapshot
        .categories
        .get(&handover.category)
        .map(|c| c.questions.clone())
        .unwrap_or_default();
    let answers: Vec<Value> = questions
        .iter()
        .filter_map(|q| {
            let values = handover.answers.get(&q.code)?;
            let shown: Vec<String> = values
                .iter()
                .map(|v| {
                    q.values
                        .iter()
                        .find(|c| c.key == *v)
                        .map_or_else(|| v.clone(), |c| c.name.clone())
                })
                .collect();
            Some(json!({
                "label": {"ru": q.description, "en": q.description_en.clone().unwrap_or_else(|| q.description.clone())},
                "value": shown.join(", "),
            }))
        })
        .collect();
    let payload = json!({
        "report": report.number,
        "report_id": report.id,
        "endpoint_id": endpoint.id,
        "category": category.map(|(ru, en)| json!({"ru": ru, "en": en})),
        "address": report.address,
        "lat": report.lat,
        "lon": report.lon,
        "description": report.description,
        "answers": answers,
        "photos": handover.photos,
        "date": report.answer_due_at.map(|at| crate::notify::dates::StepDate::Deadline {
            stage: Some(crate::sla::schedule::Stage::Answer),
            at,
        }),
    });
    let messages = crate::db::outbox::messages(
        &q.event.id,
        "handover",
        vec![(address.to_string(), "ru".to_string())],
        &payload,
        now,
    );
    crate::db::outbox::enqueue(conn, &messages)?;
    Ok(())
}

/// Tells an endpoint a report left it when it takes updates; else records
/// that it could not be told.
fn withdraw(
    conn: &mut DbConnection,
    q: &QueuedEvent,
    old: &HandoverRow,
    now: NaiveDateTime,
) -> Result<Option<DeliveryRow>, DbError> {
    let endpoint = store::endpoint(conn, &old.endpoint_id)?;
    let told = endpoint.as_ref().is_some_and(|e| e.withdraw) && old.external_id.is_some();
    let mailed = endpoint
        .as_ref()
        .is_some_and(|e| mailbox_of(&e.url).is_some());
    let note = if told {
        "reassigned here; the endpoint is told through servicerequestupdates"
    } else if mailed {
        "reassigned here; the mailed link no longer acts on it"
    } else {
        "reassigned here; the endpoint takes no updates from Gorod, so it was not told"
    };
    store::withdraw_handover(conn, &q.event.report_id, note)?;
    let (Some(endpoint), Some(external)) = (endpoint.filter(|_| told), &old.external_id) else {
        return Ok(None);
    };
    let pairs = vec![
        ("service_request_id".to_string(), external.clone()),
        ("update_id".to_string(), q.event.id.clone()),
        ("status".to_string(), "closed".to_string()),
        (
            "description".to_string(),
            "Передано другой службе / reassigned to another service".to_string(),
        ),
        ("updated_datetime".to_string(), rfc3339(q.event.created_at)),
    ];
    Ok(Some(delivery(
        ("withdraw", &endpoint.id),
        q,
        format!("withdraw:{}:{}", q.event.report_id, endpoint.id),
        "open311.update",
        serde_json::to_string(&pairs).unwrap_or_default(),
        now,
    )))
}

// ---- what back offices say ----

/// A back office's word on one of its requests.
#[derive(Debug, Clone)]
pub struct Update {
    pub update_id: String,
    pub status: String,
    pub notes: Option<String>,
    /// `pull`, `push` or `mail`.
    pub source: &'static str,
    /// A pause's reason and the day work resumes (mail-only departments).
    pub pause: Option<(crate::workflow::PauseReason, chrono::NaiveDate)>,
}

/// What came of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// The move was made: its event.
    Applied { event_id: String },
    /// The rules refused it, for this reason; nothing changed.
    Refused { reason: Text },
    /// Its status makes no move here.
    Ignored { reason: Text },
}

/// Why an update made no move, in both languages (stored as JSON).
pub fn reason_of(row: &BackOfficeUpdateRow) -> Option<Text> {
    let stored = row.reason.as_deref()?;
    #[derive(Deserialize)]
    struct Both {
        ru: String,
        en: String,
    }
    Some(match serde_json::from_str::<Both>(stored) {
        Ok(both) => Text::new(both.ru, both.en),
        Err(_) => Text::new(stored, stored),
    })
}

fn stored_reason(text: &Text) -> String {
    json!({"ru": text.get(crate::locale::Locale::Ru), "en": text.en()}).to_string()
}

impl Taken {
    fn of(row: &BackOfficeUpdateRow) -> Taken {
        let reason = reason_of(row).unwrap_or_else(|| Text::new("", ""));
        match row.outcome.as_str() {
            "applied" => Taken::Applied {
                event_id: row.event_id.clone().unwrap_or_default(),
            },
            "refused" => Taken::Refused { reason },
            _ => Taken::Ignored { reason },
        }
    }
}

/// Whether an update was taken before (its photos need not be fetched).
pub fn update_seen(conn: &mut DbConnection, scope: &str, update_id: &str) -> Result<bool, DbError> {
    Ok(store::update_seen(conn, scope, update_id)?.is_some())
}

/// Fetches the photos a back office's update names (`media_url`), at most
/// `media.max_photos`, each within the photo limits, cleaned and stored as
/// a resident's are; why not, when one cannot be had.
pub fn fetch_photos(app: &Services, urls: &[String]) -> Result<Vec<StoredPhoto>, Text> {
    if urls.is_empty() {
        return Ok(Vec::new());
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(20)))
        .http_status_as_error(false)
        .build()
        .into();
    let limit = u64::try_from(app.photo_limits.max_bytes).unwrap_or(u64::MAX) + 1;
    let mut uploads = Vec::new();
    for url in urls.iter().take(app.max_photos) {
        let failed = |why: String| {
            Text::new(
                format!("фото {url} не получить: {why}"),
                format!("the photo {url} could not be had: {why}"),
            )
        };
        let mut answer = agent.get(url).call().map_err(|e| failed(e.to_string()))?;
        if !answer.status().is_success() {
            return Err(failed(format!("HTTP {}", answer.status().as_u16())));
        }
        let content_type = answer
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = answer
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| failed(e.to_string()))?;
        uploads.push(super::filing::Upload {
            bytes,
            content_type,
        });
    }
    let stored = super::filing::clean_photos(app, &uploads, |i| format!("media_url[{i}]"))
        .and_then(|clean| super::filing::store_photos(app, &clean));
    stored.map_err(|e| match e {
        super::filing::FilingError::Invalid(invalid) => invalid.message,
        other => Text::new(other.to_string(), other.to_string()),
    })
}

/// Takes a back office's update on a report it was handed (`action`: the
/// move its status maps to, if any; `photos`: those it sent, stored), as
/// the crew of the report's department: once per `scope` and update id (a
/// repeat answers as the first did).
pub fn take_update(
    app: &Services,
    conn: &mut DbConnection,
    scope: &str,
    report_id: &str,
    action: Option<Action>,
    update: &Update,
    photos: Vec<StoredPhoto>,
) -> Result<Taken, DbError> {
    if let Some(seen) = store::update_seen(conn, scope, &update.update_id)? {
        return Ok(Taken::of(&seen));
    }
    let now = app.clock.now();
    let mut record = BackOfficeUpdateRow {
        scope: scope.to_string(),
        update_id: update.update_id.clone(),
        report_id: Some(report_id.to_string()),
        source: update.source.into(),
        status: update.status.clone(),
        notes: update.notes.clone(),
        outcome: "ignored".into(),
        reason: None,
        event_id: None,
        received_at: now,
    };
    let Some(action) = action else {
        record.reason = Some(stored_reason(&Text::new(
            format!(
                "статус «{}» не означает здесь никакого хода (по карте статусов системы)",
                update.status
            ),
            format!(
                "status '{}' makes no move here (the endpoint's status map)",
                update.status
            ),
        )));
        store::record_update(conn, &record)?;
        return Ok(Taken::of(&record));
    };
    let snapshot = app.catalog_snapshot(conn)?;
    let department = acting_department(conn, report_id)?.and_then(|d| d.parse().ok());
    let text = update.notes.clone().filter(|n| !n.trim().is_empty());
    // A back office's answer is checked as a crew's is (and published with
    // its flags: nobody here could hold it for the department).
    let (checks, _) = super::evidence::check_photos(app, conn, report_id, &photos)?;
    let command = Command {
        answer: text.clone().filter(|_| action == Action::Answer),
        reason: text.filter(|_| action == Action::Return),
        pause_reason: update.pause.map(|(reason, _)| reason),
        resume_on: update.pause.map(|(_, on)| on),
        photos: photos.len(),
        ..Command::default()
    };
    // The record first: a repeat taken at the same moment by another
    // instance finds it and makes no second move.
    let applied = write_transaction(conn, |conn| {
        let mut row = record.clone();
        row.outcome = "applied".into();
        if !store::record_update(conn, &row)? {
            return Err(Failed::Seen);
        }
        let moved = moves::apply_in(
            conn,
            &snapshot,
            Move {
                report_id,
                action,
                command,
                actor: Actor {
                    role: Role::Crew,
                    department,
                    is_reporter: false,
                },
                actor_id: None,
                via: Some(Detail::BackOffice {
                    source: update.source.to_string(),
                }),
                photos: photos.clone(),
                checks: checks.clone(),
                now,
                refutation_limit: app.refutation_limit,
            },
        )
        .map_err(Failed::Move)?;
        store::update_applied(conn, scope, &update.update_id, &moved.event_id)?;
        super::audit::record(
            app,
            conn,
            &super::audit::Actor {
                user_id: None,
                role: "back_office".into(),
                ip: None,
            },
            super::audit::Entry {
                action: &format!("report.{}", action.as_str()),
                object_type: "report",
                object_id: Some(report_id),
                before: Some(json!({ "status": moved.from.as_str() })),
                after: Some(json!({
                    "status": moved.to.as_str(),
                    "event_id": moved.event_id,
                    "update": { "scope": scope, "update_id": update.update_id },
                })),
            },
        )?;
        row.event_id = Some(moved.event_id);
        Ok(row)
    });
    match applied {
        Ok(row) => Ok(Taken::of(&row)),
        Err(Failed::Seen) => Ok(store::update_seen(conn, scope, &update.update_id)?
            .map_or_else(|| Taken::of(&record), |r| Taken::of(&r))),
        Err(Failed::Move(MoveError::Db(e)) | Failed::Db(e)) => Err(e),
        Err(Failed::Move(refused)) => {
            record.outcome = "refused".into();
            record.reason = Some(stored_reason(&refusal_text(&refused)));
            store::record_update(conn, &record)?;
            Ok(Taken::of(&record))
        }
    }
}

enum Failed {
    Seen,
    Move(MoveError),
    Db(DbError),
}

impl From<DbError> for Failed {
    fn from(e: DbError) -> Self {
        Failed::Db(e)
    }
}

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn refusal_text(error: &MoveError) -> Text {
    match error {
        MoveError::Refused(refusal) => refusal.text(),
        MoveError::Invalid(invalid) => invalid.message.clone(),
        other => Text::new(other.to_string(), other.to_string()),
    }
}

/// What back offices said about a report, oldest first (for staff).
pub fn updates_of(
    conn: &mut DbConnection,
    report_id: &str,
) -> Result<(Option<HandoverRow>, Vec<BackOfficeUpdateRow>), DbError> {
    Ok((
        store::handover(conn, report_id)?,
        store::updates_of(conn, report_id)?,
    ))
}

/// A report's handover, the system it went to (its address or mailbox),
/// and what that system said, oldest first; `None` when it was never
/// handed over.
#[allow(clippy::type_complexity)]
pub fn at_back_office(
    conn: &mut DbConnection,
    report_id: &str,
) -> Result<Option<(HandoverRow, String, Vec<BackOfficeUpdateRow>)>, DbError> {
    let Some(handover) = store::handover(conn, report_id)? else {
        return Ok(None);
    };
    let system = store::endpoint(conn, &handover.endpoint_id)?
        .map(|e| e.url)
        .unwrap_or_default();
    let updates = store::updates_of(conn, report_id)?;
    Ok(Some((handover, system, updates)))
}

/// The report a department's back office knows by `external_id`, and the
/// endpoint it went through.
pub fn report_known_as(
    conn: &mut DbConnection,
    department_id: &str,
    external_id: &str,
) -> Result<Option<(String, EndpointRow)>, DbError> {
    let endpoints = store::endpoints_answering_for(conn, department_id)?;
    let Some(report_id) = store::report_by_external(conn, &endpoints, external_id)? else {
        return Ok(None);
    };
    let Some(handover) = store::handover(conn, &report_id)? else {
        return Ok(None);
    };
    Ok(store::endpoint(conn, &handover.endpoint_id)?.map(|e| (report_id, e)))
}

/// A department's back office's update on a request it knows by
/// `external_id` (pushed with the department's key): `None` when no report
/// was handed to it under that id.
pub fn push_update(
    app: &Services,
    conn: &mut DbConnection,
    department_id: &str,
    external_id: &str,
    update: &Update,
    photos: Vec<StoredPhoto>,
) -> Result<Option<Taken>, DbError> {
    let Some((report_id, endpoint)) = report_known_as(conn, department_id, external_id)? else {
        return Ok(None);
    };
    let action = endpoint_of(&endpoint)
        .statuses
        .get(&update.status.to_lowercase())
        .copied();
    let scope = format!("department:{department_id}");
    take_update(app, conn, &scope, &report_id, action, update, photos).map(Some)
}

/// The department whose crew a back office acts as on a report.
fn acting_department(conn: &mut DbConnection, report_id: &str) -> Result<Option<String>, DbError> {
    Ok(db::workflow::report(conn, report_id)?.and_then(|r| r.department_id))
}

// ---- mail-only departments ----

/// A report as a mail-only department's link shows it.
#[derive(Debug, Clone)]
pub struct OfficeCase {
    pub number: i64,
    /// The category's name in Russian and English.
    pub category: (String, String),
    pub description: String,
    pub address: Option<String>,
    pub status: String,
    /// Still in the department's hands through this link: it may act.
    pub live: bool,
    pub photos: Vec<String>,
    pub answer_due_at: Option<NaiveDateTime>,
    /// The moves it made through the link, newest last.
    pub said: Vec<BackOfficeUpdateRow>,
}

/// What a link names, if the report was mailed through that endpoint.
pub fn office_case(
    app: &Services,
    conn: &mut DbConnection,
    link: &crate::notify::links::OfficeLink,
) -> Result<Option<OfficeCase>, DbError> {
    let Some(handover) =
        store::handover(conn, &link.report_id)?.filter(|h| h.endpoint_id == link.endpoint_id)
    else {
        return Ok(None);
    };
    let Some(report) = db::workflow::report(conn, &link.report_id)? else {
        return Ok(None);
    };
    let snapshot = app.catalog_snapshot(conn)?;
    let code = snapshot
        .codes
        .get(&report.category_id)
        .cloned()
        .unwrap_or_default();
    let category = snapshot
        .names
        .categories
        .get(&code)
        .cloned()
        .unwrap_or((code.clone(), code));
    let photos = store::filing_photos(conn, &report.id)?
        .iter()
        .map(|hash| app.photo_url(hash, crate::media::Variant::Full))
        .collect();
    let scope = office_scope(&link.endpoint_id);
    Ok(Some(OfficeCase {
        number: report.number,
        category,
        description: report.description,
        address: report.address,
        live: handover.state != "withdrawn" && IN_HAND.contains(&report.status.as_str()),
        status: report.status,
        photos,
        answer_due_at: report.answer_due_at,
        said: store::updates_of(conn, &report.id)?
            .into_iter()
            .filter(|u| u.scope == scope)
            .collect(),
    }))
}

fn office_scope(endpoint_id: &str) -> String {
    format!("mail:{endpoint_id}")
}

/// A mail-only department's move through its link (`update_id`: the
/// form's own, so a form sent twice moves once).
pub fn office_update(
    app: &Services,
    conn: &mut DbConnection,
    link: &crate::notify::links::OfficeLink,
    action: Action,
    update: &Update,
) -> Result<Taken, Refused> {
    let case = office_case(app, conn, link)?.ok_or_else(|| {
        Refused::NotFound(Text::new(
            "это обращение вашему подразделению не передавалось",
            "this report was not handed to your department",
        ))
    })?;
    if !case.live
        && store::update_seen(conn, &office_scope(&link.endpoint_id), &update.update_id)?.is_none()
    {
        return Err(Refused::Conflict(Text::new(
            format!(
                "обращение № {} больше не у вашего подразделения",
                case.number
            ),
            format!(
                "report No. {} is no longer in your department's hands",
                case.number
            ),
        )));
    }
    if !matches!(action, Action::Answer | Action::Pause | Action::Return) {
        return Err(invalid(
            "action",
            format!(
                "«{}» — не ответ, не приостановка и не возврат",
                action.as_str()
            ),
            format!("'{}' is not answer, pause or return", action.as_str()),
        ));
    }
    Ok(take_update(
        app,
        conn,
        &office_scope(&link.endpoint_id),
        &link.report_id,
        Some(action),
        update,
        Vec::new(),
    )?)
}
