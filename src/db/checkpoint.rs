//! SQLite's WAL checkpoints, on a thread of their own. SQLite would run a
//! checkpoint inside whichever commit pushes the write-ahead log past its
//! threshold, so the filing writer would now and then stop for the copy and
//! its `fsync`s while filings queue behind it. Instead every connection's
//! automatic threshold is set high (`AUTOCHECKPOINT_PAGES`, a safety net for
//! tools that run without the service) and this thread makes a passive
//! checkpoint every `INTERVAL`: it copies what it can without waiting for
//! readers or blocking the writer. It ends when its handle is dropped.
//! PostgreSQL has its own checkpointer and needs none of this.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::{DbConnection, Pool};

/// How often the log is copied back into the database.
pub const INTERVAL: Duration = Duration::from_millis(200);

/// The automatic checkpoint threshold each SQLite connection is given.
pub const AUTOCHECKPOINT_PAGES: u32 = 20_000;

/// Keeps the checkpoint thread alive; dropping it stops the thread.
pub struct Checkpointer {
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts the thread for a SQLite pool; `None` for PostgreSQL.
    pub fn start(pool: &Pool) -> Result<Option<Checkpointer>, super::DbError> {
        if !matches!(*pool.get()?, DbConnection::Sqlite(_)) {
            return Ok(None);
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let pool = pool.clone();
        std::thread::Builder::new()
            .name("gorod-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    if let Err(e) = checkpoint(&pool) {
                        log::warn!("WAL checkpoint failed: {e}");
                    }
                }
            })
            .map_err(|e| {
                super::DbError::Unavailable(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Some(Checkpointer { _stop: stop }))
    }
}

fn checkpoint(pool: &Pool) -> Result<(), super::DbError> {
    let mut conn = pool.get()?;
    if let DbConnection::Sqlite(sqlite) = &mut *conn {
        sqlite.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")?;
    }
    Ok(())
}
