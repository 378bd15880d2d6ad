//! Background work that several instances share. Work split into rows
//! (SLA marks, outbox messages) is shared by leasing rows; work that must
//! run on one instance at a time (the housekeeping of a scanner pass:
//! checkpoints, digests, clean-up) runs under a named lease in the
//! database: the instance holding it runs the job, and when that instance
//! dies its lease lapses and another one takes over.

use chrono::{NaiveDateTime, TimeDelta};

use crate::db::{operations, DbConnection, DbError};

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

    /// Gives the lease back, so another instance takes the job at once.
    pub fn release(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        operations::release_lease(conn, self.job, &self.holder)
    }
}
