//! How the installation is doing, for readiness checks and the metrics
//! scrape: migrations still owed, the database's health, the operational
//! figures (mail waiting, the scanner's lag, the ledger).

pub use crate::db::operations::Figures;

use super::Services;
use crate::db::{self, DbConnection, DbError};

/// How many migrations the database still lacks (0 when ready).
pub fn pending_migrations(conn: &mut DbConnection) -> Result<usize, DbError> {
    db::pending_migrations(conn)
}

/// The figures the metrics report, as of now.
pub fn figures(app: &Services, conn: &mut DbConnection) -> Result<Figures, DbError> {
    db::operations::figures(conn, app.clock.now())
}

/// Whether connections to the database are failing.
pub fn database_failing() -> bool {
    db::health::suspected()
}

/// Whether public reads go to the read replica now.
pub fn replica_serving(app: &Services) -> bool {
    matches!(app.reads.state(), db::replica::ReplicaState::Serving { .. })
}
