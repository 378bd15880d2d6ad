//! The courier: a background thread per instance that speaks HTTP to the
//! city's back offices and webhook subscribers.
//!
//! Each round it (1) matches queued report events to deliveries
//! (`super::back_office::match_events`); (2) takes due deliveries under a
//! lease, as the mail dispatcher does, sends them several at once, and
//! records each outcome (with what a back office answered, in the same
//! transaction); (3) every `back_office.pull_secs`, reads each endpoint's
//! changes, one instance per endpoint (a lease), and takes them as moves.
//!
//! Sent once: a delivery is leased before it is sent and started only
//! while a whole HTTP timeout is left of its lease, so no other instance
//! takes it meanwhile. A report POSTed to a back office carries an
//! `Idempotency-Key` (the delivery's id): when an instance dies after the
//! endpoint filed it but before the answer was recorded, the retry gets
//! the first answer back from an endpoint that keeps keys (Gorod does),
//! not a second request. A webhook delivery keeps its `webhook-id` on
//! every retry, for receivers to drop repeats as the specification asks.
//!
//! Retry and lease times are the wall clock's.

use std::sync::{mpsc, Mutex, Weak};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};

use super::back_office::{self, PublicReports, Taken, Update};
use super::dispatch::{later, wall_clock, Pace};
use super::Services;
use crate::config::BackOfficeSettings;
use crate::db::back_office as store;
use crate::db::outbox::Outcome;
use crate::db::rows::{DeliveryRow, EndpointRow};
use crate::db::{self, write_transaction, DbConnection, DbError};
use crate::open311::outbound::{self, Created};
use crate::webhooks;

/// How the courier paces itself.
#[derive(Debug, Clone)]
pub struct Courier {
    pub pace: Pace,
    /// How often endpoints' changes are read.
    pub pull_every: Duration,
}

impl Courier {
    pub fn from_settings(settings: &BackOfficeSettings) -> Courier {
        Courier {
            pace: Pace {
                batch: settings.batch.max(1),
                workers: settings.workers.max(1),
                lease: Duration::from_secs(settings.lease_secs.max(1)),
                send_budget: Duration::from_secs(settings.timeout_secs.max(1)),
                poll: Duration::from_millis(settings.poll_ms.max(1)),
                max_attempts: settings.max_attempts.max(1),
                backoff_base: Duration::from_secs(settings.backoff_base_secs),
                backoff_max: Duration::from_secs(settings.backoff_max_secs),
            },
            pull_every: Duration::from_secs(settings.pull_secs.max(1)),
        }
    }
}

/// Starts the courier for `state`'s services; it ends when the state does.
pub fn start<S>(state: Weak<S>, courier: Courier) -> std::io::Result<()>
where
    S: AsRef<Services> + PublicReports + Send + Sync + 'static,
{
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(courier.pace.send_budget))
        .http_status_as_error(false)
        .user_agent("Gorod")
        .build()
        .into();
    let holder = db::new_id();
    std::thread::Builder::new()
        .name("gorod-courier".into())
        .spawn(move || {
            let mut pulled = Instant::now() - courier.pull_every;
            loop {
                let Some(state) = state.upgrade() else { break };
                let services = (*state).as_ref();
                let round = (|| -> Result<usize, DbError> {
                    let mut conn = db::checkout(&services.pool)?;
                    while store::waiting(&mut conn)?
                        && back_office::match_events(services, &*state, &mut conn)? > 0
                    {
                    }
                    let sent = deliver(services, &agent, &courier.pace, &mut conn)?;
                    if pulled.elapsed() >= courier.pull_every {
                        pulled = Instant::now();
                        pull_all(services, &agent, &holder, &mut conn)?;
                    }
                    Ok(sent)
                })();
                drop(state);
                match round {
                    Ok(taken) if taken == courier.pace.batch => {}
                    Ok(_) => std::thread::sleep(courier.pace.poll),
                    Err(e) => {
                        log::error!("courier: {e}");
                        std::thread::sleep(courier.pace.poll.max(Duration::from_secs(1)));
                    }
                }
            }
        })?;
    Ok(())
}

/// What sending one delivery came to.
enum Sent {
    Done(Option<Created>),
    Failed { permanent: bool, error: String },
}

/// One round of deliveries: how many were taken.
fn deliver(
    services: &Services,
    agent: &ureq::Agent,
    pace: &Pace,
    conn: &mut DbConnection,
) -> Result<usize, DbError> {
    let now = wall_clock();
    let leased = Instant::now();
    let batch = i64::try_from(pace.batch).unwrap_or(i64::MAX);
    let taken = store::lease(conn, now, later(now, pace.lease), batch)?;
    let count = taken.len();
    if count == 0 {
        return Ok(0);
    }
    let queue = Mutex::new(taken.into_iter());
    let (done, outcomes) = mpsc::channel::<(DeliveryRow, Option<Sent>)>();
    std::thread::scope(|scope| {
        for _ in 0..pace.workers.min(count) {
            let done = done.clone();
            let queue = &queue;
            let pool = &services.pool;
            scope.spawn(move || loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some(row) = next else { break };
                let sent = if pace.may_start(leased.elapsed()) {
                    Some(send(pool, agent, &row))
                } else {
                    None
                };
                if done.send((row, sent)).is_err() {
                    break;
                }
            });
        }
        drop(done);
        let mut failed = None;
        for (row, sent) in outcomes.iter() {
            if let Err(e) = record(services, conn, pace, &row, sent) {
                failed = Some(e);
            }
        }
        failed.map_or(Ok(count), Err)
    })
}

/// Sends one delivery.
fn send(pool: &crate::db::Pool, agent: &ureq::Agent, row: &DeliveryRow) -> Sent {
    let target = (|| -> Result<Target, DbError> {
        let mut conn = db::checkout(pool)?;
        Ok(match row.kind.as_str() {
            "webhook" => {
                store::webhook(&mut conn, &row.target_id)?.map_or(Target::Gone, Target::Hook)
            }
            _ => store::endpoint(&mut conn, &row.target_id)?.map_or(Target::Gone, Target::Endpoint),
        })
    })();
    match target {
        Err(e) => Sent::Failed {
            permanent: false,
            error: e.to_string(),
        },
        Ok(Target::Gone) => Sent::Failed {
            permanent: true,
            error: "its endpoint or webhook was removed".into(),
        },
        Ok(Target::Hook(hook)) => {
            let secrets = back_office::signing_secrets(&hook, wall_clock());
            let at = Utc::now().timestamp();
            let signature =
                webhooks::signature_header(&secrets, &row.id, at, row.payload.as_bytes());
            let answer = agent
                .post(&hook.url)
                .header("content-type", "application/json")
                .header("webhook-id", &row.id)
                .header("webhook-timestamp", at.to_string())
                .header("webhook-signature", &signature)
                .send(row.payload.as_bytes());
            match answer {
                Ok(r) if r.status().is_success() => Sent::Done(None),
                Ok(r) => Sent::Failed {
                    // 410: the receiver says it is gone for good.
                    permanent: r.status().as_u16() == 410,
                    error: format!("the receiver answered HTTP {}", r.status().as_u16()),
                },
                Err(e) => Sent::Failed {
                    permanent: false,
                    error: e.to_string(),
                },
            }
        }
        Ok(Target::Endpoint(endpoint)) => {
            let mut form: Vec<(String, String)> =
                serde_json::from_str(&row.payload).unwrap_or_default();
            form.push(("api_key".into(), endpoint.api_key.clone()));
            let resource = match row.kind.as_str() {
                "withdraw" => "servicerequestupdates.json",
                _ => "requests.json",
            };
            let answer = agent
                .post(format!("{}/{resource}", endpoint.url))
                .header("idempotency-key", &row.id)
                .send_form(form.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            match answer {
                Ok(mut r) => {
                    let status = r.status().as_u16();
                    let body = r
                        .body_mut()
                        .with_config()
                        .limit(1 << 20)
                        .read_to_string()
                        .unwrap_or_default();
                    if (200..300).contains(&status) {
                        if row.kind == "withdraw" {
                            return Sent::Done(None);
                        }
                        match outbound::read_created(&body) {
                            Ok(created) => Sent::Done(Some(created)),
                            Err(why) => Sent::Failed {
                                permanent: true,
                                error: why.en().to_string(),
                            },
                        }
                    } else {
                        let said = outbound::read_created(&body)
                            .err()
                            .map(|t| t.en().to_string())
                            .unwrap_or_default();
                        Sent::Failed {
                            permanent: (400..500).contains(&status)
                                && status != 408
                                && status != 429,
                            error: format!("the endpoint answered HTTP {status}: {said}"),
                        }
                    }
                }
                Err(e) => Sent::Failed {
                    permanent: false,
                    error: e.to_string(),
                },
            }
        }
    }
}

enum Target {
    Hook(crate::db::rows::WebhookRow),
    Endpoint(EndpointRow),
    Gone,
}

/// Records what became of a delivery, with the back office's id for the
/// report in the same transaction.
fn record(
    services: &Services,
    conn: &mut DbConnection,
    pace: &Pace,
    row: &DeliveryRow,
    sent: Option<Sent>,
) -> Result<(), DbError> {
    let wall = wall_clock();
    let outcome = match &sent {
        None => Outcome::Released,
        Some(Sent::Done(_)) => Outcome::Sent,
        Some(Sent::Failed { permanent, error }) => {
            pace.after_failure(row.attempts + 1, *permanent, error.clone())
        }
    };
    write_transaction(conn, |conn| {
        store::record(conn, &row.id, &outcome, wall)?;
        if let Some(Sent::Done(Some(created))) = &sent {
            let ids = match created {
                Created::Id(id) => (Some(id.as_str()), None),
                Created::Token(token) => (None, Some(token.as_str())),
                Created::Nothing => (None, None),
            };
            store::handed_over(
                conn,
                &row.report_id,
                &row.target_id,
                ids,
                services.clock.now(),
            )?;
        }
        Ok(())
    })
}

/// Reads every pulled endpoint's changes, each on one instance at a time.
fn pull_all(
    services: &Services,
    agent: &ureq::Agent,
    holder: &str,
    conn: &mut DbConnection,
) -> Result<(), DbError> {
    for endpoint in store::endpoints(conn)?
        .into_iter()
        .filter(|e| e.pull != "none" && back_office::mailbox_of(&e.url).is_none())
    {
        let job = format!("pull:{}", endpoint.id);
        let now = wall_clock();
        let until = now + TimeDelta::minutes(2);
        if !crate::db::operations::take_lease(conn, &job, holder, until, now)? {
            continue;
        }
        if let Err(why) = pull(services, agent, conn, &endpoint) {
            log::warn!("pulling {}: {why}", endpoint.url);
        }
    }
    Ok(())
}

/// Reads one endpoint's changes and takes them: tokens first resolved to
/// ids, then the followed requests (`requests`: by their ids; `updates`:
/// `servicerequestupdates` since the last pull).
fn pull(
    services: &Services,
    agent: &ureq::Agent,
    conn: &mut DbConnection,
    endpoint: &EndpointRow,
) -> Result<usize, String> {
    let get = |resource: &str, query: &[(&str, String)]| -> Result<String, String> {
        let mut request = agent.get(format!("{}/{resource}", endpoint.url));
        for (k, v) in query {
            request = request.query(*k, v);
        }
        if let Some(j) = &endpoint.jurisdiction {
            request = request.query("jurisdiction_id", j);
        }
        let mut answer = request.call().map_err(|e| e.to_string())?;
        if !answer.status().is_success() {
            return Err(format!("HTTP {}", answer.status().as_u16()));
        }
        answer
            .body_mut()
            .with_config()
            .limit(8 << 20)
            .read_to_string()
            .map_err(|e| e.to_string())
    };
    let started = wall_clock();
    let followed = store::followed(conn, &endpoint.id).map_err(|e| e.to_string())?;
    let now = services.clock.now();
    for handover in followed.iter().filter(|h| h.external_id.is_none()) {
        let Some(token) = &handover.token else {
            continue;
        };
        if let Ok(Created::Id(id)) =
            outbound::read_created(&get(&format!("tokens/{token}.json"), &[])?)
        {
            store::handed_over(
                conn,
                &handover.report_id,
                &endpoint.id,
                (Some(&id), Some(token)),
                now,
            )
            .map_err(|e| e.to_string())?;
        }
    }
    let ids: Vec<String> = store::followed(conn, &endpoint.id)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter_map(|h| h.external_id)
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let mut changes = Vec::new();
    if endpoint.pull == "updates" {
        let since =
            endpoint.pulled_at.unwrap_or(started - TimeDelta::days(1)) - TimeDelta::minutes(5);
        let body = get(
            "servicerequestupdates.json",
            &[
                ("start_date", since.and_utc().to_rfc3339()),
                ("end_date", started.and_utc().to_rfc3339()),
            ],
        )?;
        changes.extend(
            outbound::read_changes(&body)
                .map_err(|t| t.en().to_string())?
                .into_iter()
                .filter(|c| ids.contains(&c.service_request_id)),
        );
    } else {
        for chunk in ids.chunks(50) {
            let body = get("requests.json", &[("service_request_id", chunk.join(","))])?;
            changes.extend(outbound::read_changes(&body).map_err(|t| t.en().to_string())?);
        }
    }
    let described = back_office::endpoint_of(endpoint);
    let mut taken = 0;
    for change in &changes {
        let found = store::report_by_external(
            conn,
            std::slice::from_ref(&endpoint.id),
            &change.service_request_id,
        )
        .map_err(|e| e.to_string())?;
        let Some(report_id) = found else { continue };
        let scope = format!("endpoint:{}", endpoint.id);
        // A request's own media_url is the resident's photo, not the back
        // office's: only an update's is the photo of what it did.
        let media: &[String] = match endpoint.pull.as_str() {
            "updates" => &change.media,
            _ => &[],
        };
        let photos = if media.is_empty()
            || back_office::update_seen(conn, &scope, &change.key).map_err(|e| e.to_string())?
        {
            Vec::new()
        } else {
            match back_office::fetch_photos(services, media) {
                Ok(photos) => photos,
                Err(why) => {
                    // Read again next time; nothing is recorded meanwhile.
                    log::warn!("update {} of {}: {}", change.key, endpoint.url, why.en());
                    continue;
                }
            }
        };
        let outcome = back_office::take_update(
            services,
            conn,
            &scope,
            &report_id,
            outbound::move_of(&described, change),
            &Update {
                update_id: change.key.clone(),
                status: change.status.clone(),
                notes: change.notes.clone(),
                source: "pull",
                pause: None,
            },
            photos,
        )
        .map_err(|e| e.to_string())?;
        if matches!(outcome, Taken::Applied { .. }) {
            taken += 1;
        }
    }
    store::set_pulled(conn, &endpoint.id, started).map_err(|e| e.to_string())?;
    Ok(taken)
}
