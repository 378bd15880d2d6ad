//! The dispatcher: a background thread per instance that takes due messages
//! from the outbox under a lease, sends them over several connections at
//! once, and records what became of each.
//!
//! - A message is taken for `mail.lease_secs`; if the instance dies while
//!   holding it, the lease lapses and the message is due again. The SMTP
//!   timeout is shorter than the lease (checked at start), and a worker
//!   starts a message only while a whole timeout is left of its lease; the
//!   rest of the batch is released, due again at once with no attempt
//!   counted. So a message still being sent is not taken by another
//!   instance (unless a server stalls for a whole timeout at several steps
//!   of one session; such a repeat keeps its Message-ID).
//! - `mail.workers` messages are sent at once: a server that never answers
//!   holds one worker until its timeout, not the others.
//! - A temporary failure is retried after an exponential backoff with
//!   jitter; a permanent one, or the last attempt, dead-letters the message
//!   with its reason, for an admin to read and requeue.
//! - Messages are rendered when they are sent; each keeps the Message-ID
//!   derived from (event, recipient) when it was queued, so a message sent
//!   again after a crash is recognisably the same.
//!
//! Retry and lease times are the wall clock's: they are about this machine's
//! work, not about the city's records.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta, Utc};
use lettre::message::Mailbox;
use rand::Rng;
use serde_json::Value;

use crate::config::MailSettings;
use crate::db::outbox::{self, Outcome};
use crate::db::rows::OutboxRow;
use crate::db::{DbError, Pool};
use crate::notify::links::{AccountLink, CheckLink, OfficeLink, OptOut, Signer};
use crate::notify::templates::{self, Context, Locale};
use crate::notify::transport::{Mailer, Outgoing, SendError};

/// What sending needs besides the database.
#[derive(Clone)]
pub struct Sender {
    pub mailer: Mailer,
    pub from: Mailbox,
    pub signer: Signer,
    pub public_url: String,
    pub time_zone: chrono_tz::Tz,
}

impl Sender {
    /// The message an outbox row stands for.
    pub fn outgoing(&self, row: &OutboxRow) -> Outgoing {
        let payload: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
        let report_id = payload
            .get("report_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        // The pages the links open speak the message's language.
        let lang = &row.locale;
        let link = |report_id: Option<String>| {
            let token = self.signer.token(&OptOut {
                email: row.recipient.clone(),
                report_id,
            });
            format!("{}/api/v1/unsubscribe/{token}?lang={lang}", self.public_url)
        };
        let unsubscribe_report = report_id.clone().map(|id| link(Some(id)));
        let unsubscribe_all = link(None);
        let cycle = payload.get("cycle").and_then(Value::as_i64);
        let check_link = match (row.template.as_str(), &report_id, cycle) {
            ("answered" | "check_reminder", Some(report_id), Some(cycle)) => {
                let token = self.signer.check_token(&CheckLink {
                    report_id: report_id.clone(),
                    cycle: i32::try_from(cycle).unwrap_or_default(),
                    email: row.recipient.clone(),
                });
                Some(format!(
                    "{}/api/v1/check/{token}?lang={lang}",
                    self.public_url
                ))
            }
            _ => None,
        };
        // A held follow or update is confirmed as a held "me too" is.
        let purpose = match row.template.as_str() {
            "confirm_follow" | "confirm_update" => "confirm_support",
            template => template,
        };
        let signed = |purpose: &str, token_id: String| {
            let token = self.signer.account_token(&AccountLink {
                purpose: purpose.to_string(),
                token_id,
            });
            format!(
                "{}/api/v1/account/{purpose}/{token}?lang={lang}",
                self.public_url
            )
        };
        let account_link = match (purpose, text_of(&payload, "token_id")) {
            (
                purpose @ ("verify_email" | "reset_password" | "confirm_report" | "confirm_support"
                | "confirm_alert"),
                Some(token_id),
            ) => Some(signed(purpose, token_id)),
            _ => None,
        };
        // A mail-only department's page for a report handed to it.
        let office_link = match (
            row.template.as_str(),
            &report_id,
            text_of(&payload, "endpoint_id"),
        ) {
            ("handover", Some(report_id), Some(endpoint_id)) => {
                let token = self.signer.office_token(&OfficeLink {
                    report_id: report_id.clone(),
                    endpoint_id,
                });
                Some(format!(
                    "{}/api/v1/office/{token}?lang={lang}",
                    self.public_url
                ))
            }
            _ => None,
        };
        // An area alert's email ends that alert, and says so first.
        let unsubscribe_alert =
            text_of(&payload, "alert_id").map(|id| signed("alert_unsubscribe", id));
        let rendered = templates::render(&Context {
            template: &row.template,
            locale: Locale::parse(&row.locale),
            payload: &payload,
            time_zone: self.time_zone,
            public_url: &self.public_url,
            unsubscribe_report: unsubscribe_report.clone(),
            unsubscribe_all: unsubscribe_all.clone(),
            check_link,
            account_link,
            unsubscribe_alert: unsubscribe_alert.clone(),
            office_link,
        });
        Outgoing {
            message_id: row.message_id.clone(),
            to: row.recipient.clone(),
            rendered,
            unsubscribe: unsubscribe_alert
                .or(unsubscribe_report)
                .unwrap_or(unsubscribe_all),
        }
    }
}

fn text_of(payload: &Value, key: &str) -> Option<String> {
    payload.get(key).and_then(Value::as_str).map(str::to_string)
}

/// How the dispatcher paces itself.
#[derive(Debug, Clone)]
pub struct Pace {
    pub batch: usize,
    pub workers: usize,
    pub lease: Duration,
    /// The longest a send may take: messages are started only while this
    /// much of their lease is left.
    pub send_budget: Duration,
    pub poll: Duration,
    pub max_attempts: i32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Pace {
    pub fn from_settings(mail: &MailSettings) -> Pace {
        Pace {
            batch: mail.batch.max(1),
            workers: mail.workers.max(1),
            lease: Duration::from_secs(mail.lease_secs.max(1)),
            send_budget: Duration::from_secs(mail.smtp.timeout_secs),
            poll: Duration::from_millis(mail.poll_ms.max(1)),
            max_attempts: mail.max_attempts.max(1),
            backoff_base: Duration::from_secs(mail.backoff_base_secs),
            backoff_max: Duration::from_secs(mail.backoff_max_secs),
        }
    }

    /// What a failed attempt comes to, `attempts` counting it: a permanent
    /// failure or the last attempt is dead; any other is retried after a
    /// backoff with jitter.
    pub fn after_failure(&self, attempts: i32, permanent: bool, error: String) -> Outcome {
        if permanent {
            Outcome::Dead { error }
        } else if attempts >= self.max_attempts {
            Outcome::Dead {
                error: format!("gave up after {attempts} attempts: {error}"),
            }
        } else {
            let jitter = rand::rng().random_range(0.5..=1.0);
            let wait = backoff(attempts, self.backoff_base, self.backoff_max, jitter);
            Outcome::Retry {
                at: later(wall_clock(), wait),
                error,
            }
        }
    }

    /// Whether a send may start this long after its lease began: only if
    /// it would end within the lease however long it takes.
    pub fn may_start(&self, into_lease: Duration) -> bool {
        into_lease + self.send_budget < self.lease
    }
}

/// The wait before attempt `attempt + 1` after `attempt` failed ones:
/// `base · 2^(attempt-1)`, at most `max`, scaled by `jitter` in [0.5, 1]
/// so that messages that failed together do not return together.
pub fn backoff(attempt: i32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let full = base.saturating_mul(2u32.saturating_pow(doublings)).min(max);
    full.mul_f64(jitter.clamp(0.5, 1.0))
}

/// The running dispatcher; it stops (after its current round) when dropped.
pub struct Dispatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Dispatcher {
    pub fn start(pool: Pool, sender: Sender, pace: Pace) -> std::io::Result<Dispatcher> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("gorod-mail".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    match round(&pool, &sender, &pace) {
                        // A full batch: more may be waiting.
                        Ok(taken) if taken == pace.batch => {}
                        Ok(_) => std::thread::sleep(pace.poll),
                        Err(e) => {
                            log::error!("mail dispatcher: {e}");
                            std::thread::sleep(pace.poll.max(Duration::from_secs(1)));
                        }
                    }
                }
            })?;
        Ok(Dispatcher {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub(super) fn wall_clock() -> NaiveDateTime {
    Utc::now().naive_utc()
}

pub(super) fn later(now: NaiveDateTime, by: Duration) -> NaiveDateTime {
    now + TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX)
}

/// One round: take due messages, send them, record each outcome as it
/// comes. How many messages were taken.
pub fn round(pool: &Pool, sender: &Sender, pace: &Pace) -> Result<usize, DbError> {
    let mut conn = crate::db::checkout(pool)?;
    let now = wall_clock();
    let leased = Instant::now();
    let batch = i64::try_from(pace.batch).unwrap_or(i64::MAX);
    let taken = outbox::lease(&mut conn, now, later(now, pace.lease), batch)?;
    let count = taken.len();
    if count == 0 {
        return Ok(0);
    }
    let queue = Mutex::new(taken.into_iter());
    let (done, outcomes) = mpsc::channel::<(String, Outcome)>();
    std::thread::scope(|scope| {
        for _ in 0..pace.workers.min(count) {
            let done = done.clone();
            let queue = &queue;
            scope.spawn(move || loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some(row) = next else { break };
                let outcome = if pace.may_start(leased.elapsed()) {
                    attempt(sender, pace, &row)
                } else {
                    Outcome::Released
                };
                if done.send((row.id, outcome)).is_err() {
                    break;
                }
            });
        }
        drop(done);
        // Outcomes are recorded as they arrive, a few at a time, so a slow
        // send does not hold back the record of the others.
        let mut failed = None;
        while let Ok(first) = outcomes.recv() {
            let mut group = vec![first];
            group.extend(outcomes.try_iter());
            if let Err(e) = outbox::record(&mut conn, &group, wall_clock()) {
                failed = Some(e);
            }
        }
        failed.map_or(Ok(count), Err)
    })
}

/// Sends one message: its outcome.
fn attempt(sender: &Sender, pace: &Pace, row: &OutboxRow) -> Outcome {
    let message = sender.outgoing(row);
    match sender.mailer.send(&sender.from, &message) {
        Ok(()) => Outcome::Sent,
        Err(SendError::Permanent(error)) => Outcome::Dead { error },
        Err(SendError::Temporary(error)) => pace.after_failure(row.attempts + 1, false, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling_and_jitter_only_shortens_it() {
        let (base, max) = (Duration::from_secs(30), Duration::from_secs(3600));
        let waits: Vec<u64> = (1..=9)
            .map(|a| backoff(a, base, max, 1.0).as_secs())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(2, base, max, 0.5).as_secs(), 30);
        assert_eq!(
            backoff(2, base, max, 0.1).as_secs(),
            30,
            "jitter is at least half"
        );
        assert_eq!(backoff(1000, base, max, 1.0).as_secs(), 3600);
    }

    #[test]
    fn a_send_starts_only_while_a_whole_budget_is_left_of_the_lease() {
        let pace = Pace {
            batch: 32,
            workers: 4,
            lease: Duration::from_secs(60),
            send_budget: Duration::from_secs(10),
            poll: Duration::from_millis(500),
            max_attempts: 12,
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
        };
        assert!(pace.may_start(Duration::ZERO));
        assert!(pace.may_start(Duration::from_secs(49)));
        assert!(!pace.may_start(Duration::from_secs(50)));
        assert!(!pace.may_start(Duration::from_secs(75)));
    }
}
