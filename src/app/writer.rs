//! Group commit for filings. Reports arrive concurrently; one writer thread
//! per instance takes whatever filings are waiting (up to `MAX_BATCH`), runs
//! each one's checks on its own connection (those that may still refuse it,
//! against the catalogue), looks for the duplicate candidates of all of them
//! in one statement, and writes the accepted ones in one transaction with
//! multi-row statements. A busy moment so costs a handful of statements and
//! one commit instead of a dozen statements and a commit per report, and a
//! filing crosses threads once: from the request to the writer and back. Each filing is answered only
//! after its transaction committed. If a batch fails, its filings are written
//! one by one, so one bad filing never sinks the others. The checks are
//! `app::filing::check`, given by the caller with whatever of its own must
//! run first (an Open311 key).
//!
//! Each thread keeps its connection from batch to batch (and gives it back
//! after an error, taking a fresh one for the next batch), with a page cache
//! of its own (`db::keep_for_writing`): at ten million reports each filing
//! descends a dozen indexes of the reports, the residents and the history,
//! and with SQLite's default 2 MiB every descent read their upper pages
//! from the file again. Other connections' caches would not keep them: in
//! WAL mode any other connection's commit empties a connection's cache.
//!
//! SQLite has one writer at a time, so one thread is all it can use. On
//! PostgreSQL several threads (`database.filing_writers`) take batches from
//! the same queue and commit in parallel: report numbers come from a
//! sequence, and two batches creating the same new resident at once both
//! end up with the one user (`pg_filing::residents`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};

use tokio::sync::oneshot;

use crate::db::filing::{file_batch, nearby_open_all, FiledReport, FilingRecord, Nearby, Probe};
use crate::db::{
    checkout, keep_for_writing, keep_for_writing_no_more, DbConnection, DbError, Pool, PooledConn,
};

pub const MAX_BATCH: usize = 64;

/// A filing's checks: on the writer's connection, they either refuse it
/// (with the caller's own error) or give the record to write.
pub type Check<E> = Box<dyn FnOnce(&mut DbConnection) -> Result<FilingRecord, E> + Send>;

type Answer<E> = Result<(FiledReport, Vec<Nearby>), E>;

struct Job<E> {
    check: Check<E>,
    reply: oneshot::Sender<Answer<E>>,
}

/// A checked filing waiting for its batch's commit.
struct Accepted<E> {
    record: FilingRecord,
    reply: oneshot::Sender<Answer<E>>,
}

/// The queue to this instance's filing writers; `E` is the error a refused
/// filing is answered with. The threads end when the last handle is dropped.
pub struct FilingWriter<E> {
    jobs: mpsc::Sender<Job<E>>,
}

impl<E> Clone for FilingWriter<E> {
    fn clone(&self) -> Self {
        FilingWriter {
            jobs: self.jobs.clone(),
        }
    }
}

impl<E: From<DbError> + Send + 'static> FilingWriter<E> {
    /// Starts `threads` writer threads (at least one) over one queue.
    pub fn start(pool: Pool, threads: usize) -> std::io::Result<FilingWriter<E>> {
        let (jobs, queue) = mpsc::channel::<Job<E>>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let (pool, queue) = (pool.clone(), queue.clone());
            std::thread::Builder::new()
                .name(format!("gorod-writer-{n}"))
                .spawn(move || {
                    let mut held = None;
                    while let Some(batch) = next_batch(&queue) {
                        held = write(&pool, held, batch);
                    }
                })?;
        }
        Ok(FilingWriter { jobs })
    }

    /// Checks one filing and writes it (with whatever others are waiting);
    /// answers once it is committed, with its duplicate candidates, or with
    /// the check's refusal.
    pub async fn file(
        &self,
        check: impl FnOnce(&mut DbConnection) -> Result<FilingRecord, E> + Send + 'static,
    ) -> Answer<E> {
        let stopped = || E::from(DbError::Unavailable("the filing writer has stopped".into()));
        let (reply, answer) = oneshot::channel();
        let check: Check<E> = Box::new(check);
        self.jobs
            .send(Job { check, reply })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Waits for a filing and takes whatever others are waiting with it; `None`
/// once every handle is gone.
fn next_batch<E>(queue: &Mutex<mpsc::Receiver<Job<E>>>) -> Option<Vec<Job<E>>> {
    // A thread that panicked while holding the queue left it intact.
    let queue = queue
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut batch = vec![queue.recv().ok()?];
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Writes a batch on the connection `held` from the last one (or a fresh
/// one); gives back the connection to keep, none after a database error.
fn write<E: From<DbError>>(
    pool: &Pool,
    held: Option<PooledConn>,
    batch: Vec<Job<E>>,
) -> Option<PooledConn> {
    let fresh = || -> Result<PooledConn, DbError> {
        let mut conn = checkout(pool)?;
        keep_for_writing(&mut conn)?;
        Ok(conn)
    };
    // While connections are suspected (the database restarted), a fresh
    // one is checked before use, as every checkout then is.
    let held = held.filter(|_| !crate::db::health::suspected());
    let mut conn = match held.map_or_else(fresh, Ok) {
        Ok(conn) => conn,
        Err(e) => {
            unavailable(batch.into_iter().map(|job| job.reply), &e.to_string());
            return None;
        }
    };
    if write_on(&mut conn, batch) {
        return Some(conn);
    }
    // Back to the pool as any other connection (if it still answers).
    let _ = keep_for_writing_no_more(&mut conn);
    None
}

/// Writes a batch; false after a database error.
fn write_on<E: From<DbError>>(conn: &mut DbConnection, batch: Vec<Job<E>>) -> bool {
    let mut accepted = Vec::with_capacity(batch.len());
    for Job { check, reply } in batch {
        // A check that panics refuses its own filing, not the writer.
        match catch_unwind(AssertUnwindSafe(|| check(conn))) {
            Ok(Ok(record)) => accepted.push(Accepted { record, reply }),
            Ok(Err(refusal)) => {
                let _ = reply.send(Err(refusal));
            }
            Err(_) => {
                let _ = reply.send(Err(DbError::Corrupt(
                    "checking the filing failed unexpectedly".into(),
                )
                .into()));
            }
        }
    }
    if accepted.is_empty() {
        return true;
    }
    let records: Vec<&FilingRecord> = accepted.iter().map(|a| &a.record).collect();
    let probes: Vec<Probe> = records.iter().map(|r| r.probe()).collect();
    let candidates = match nearby_open_all(conn, &probes) {
        Ok(candidates) => candidates,
        Err(e) => {
            unavailable(accepted.into_iter().map(|a| a.reply), &e.to_string());
            return false;
        }
    };
    match file_batch(conn, &records) {
        Ok(filed) => {
            for ((one, filed), candidates) in accepted.into_iter().zip(filed).zip(candidates) {
                let _ = one.reply.send(Ok((filed, candidates)));
            }
            true
        }
        Err(error) if accepted.len() == 1 => {
            if let Some(one) = accepted.into_iter().next() {
                let _ = one.reply.send(Err(error.into()));
            }
            false
        }
        Err(error) => {
            log::warn!(
                "a batch of {} filings failed ({error}); writing them one by one",
                accepted.len()
            );
            for (one, candidates) in accepted.into_iter().zip(candidates) {
                let single = file_batch(conn, &[&one.record]).and_then(|mut filed| {
                    filed
                        .pop()
                        .ok_or_else(|| DbError::Corrupt("nothing was filed".into()))
                });
                let _ = one
                    .reply
                    .send(single.map(|f| (f, candidates)).map_err(E::from));
            }
            false
        }
    }
}

/// Answers each of `replies` that the database could not be used.
fn unavailable<E: From<DbError>>(
    replies: impl Iterator<Item = oneshot::Sender<Answer<E>>>,
    message: &str,
) {
    for reply in replies {
        let _ = reply.send(Err(DbError::Unavailable(message.to_string()).into()));
    }
}
