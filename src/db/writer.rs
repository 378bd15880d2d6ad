//! Group commit for filings. Reports arrive concurrently; one writer thread
//! per instance takes whatever filings are waiting (up to `MAX_BATCH`) and
//! writes them in one transaction with multi-row statements, so a busy
//! moment costs a handful of statements and one commit instead of a dozen
//! statements and a commit per report. Each filing is answered only after its
//! transaction committed. If a batch fails, its filings are retried one by
//! one, so one bad filing never sinks the others.
//!
//! SQLite has one writer at a time, so one thread is all it can use. On
//! PostgreSQL several threads (`database.writers`) take batches from the same
//! queue and commit in parallel: report numbers come from a sequence, and a
//! batch that collides with another (both creating the same new resident)
//! fails and is written one by one, which then finds the resident.

use std::sync::{mpsc, Arc, Mutex};

use tokio::sync::oneshot;

use super::reports::{insert_filings, FiledReport, FilingRecord};
use super::{write_transaction, DbError, Pool};

pub const MAX_BATCH: usize = 64;

struct Job {
    record: FilingRecord,
    reply: oneshot::Sender<Result<FiledReport, DbError>>,
}

/// The queue to this instance's filing writer. The thread ends when the last
/// handle is dropped.
#[derive(Clone)]
pub struct FilingWriter {
    jobs: mpsc::Sender<Job>,
}

impl FilingWriter {
    /// Starts `threads` writer threads (at least one) over one queue.
    pub fn start(pool: Pool, threads: usize) -> std::io::Result<FilingWriter> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let (pool, queue) = (pool.clone(), queue.clone());
            std::thread::Builder::new()
                .name(format!("gorod-writer-{n}"))
                .spawn(move || {
                    while let Some(batch) = next_batch(&queue) {
                        write(&pool, batch);
                    }
                })?;
        }
        Ok(FilingWriter { jobs })
    }

    /// Writes one filing (with whatever others are waiting) and returns it
    /// once committed.
    pub async fn file(&self, record: FilingRecord) -> Result<FiledReport, DbError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { record, reply })
            .map_err(|_| DbError::Unavailable("the filing writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbError::Unavailable("the filing writer has stopped".into()))?
    }
}

/// Waits for a filing and takes whatever others are waiting with it; `None`
/// once every handle is gone.
fn next_batch(queue: &Mutex<mpsc::Receiver<Job>>) -> Option<Vec<Job>> {
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

fn write(pool: &Pool, batch: Vec<Job>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => {
            let message = e.to_string();
            for job in batch {
                let _ = job.reply.send(Err(DbError::Unavailable(message.clone())));
            }
            return;
        }
    };
    let records: Vec<&FilingRecord> = batch.iter().map(|j| &j.record).collect();
    match write_transaction(&mut conn, |conn| insert_filings(conn, &records)) {
        Ok(filed) => {
            for (job, filed) in batch.into_iter().zip(filed) {
                let _ = job.reply.send(Ok(filed));
            }
        }
        Err(error) if batch.len() == 1 => {
            if let Some(job) = batch.into_iter().next() {
                let _ = job.reply.send(Err(error));
            }
        }
        Err(error) => {
            log::warn!(
                "a batch of {} filings failed ({error}); writing them one by one",
                batch.len()
            );
            for job in batch {
                let single =
                    write_transaction(&mut conn, |conn| insert_filings(conn, &[&job.record]))
                        .and_then(|mut filed| {
                            filed
                                .pop()
                                .ok_or_else(|| DbError::Corrupt("nothing was filed".into()))
                        });
                let _ = job.reply.send(single);
            }
        }
    }
}
