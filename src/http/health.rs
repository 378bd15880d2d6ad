//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{db, ApiError, AppState};

/// The process is up and answering.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers and every migration is applied. The read replica,
/// when there is one, is reported (`ok`, `lagging`, `unreachable`) but does
/// not decide readiness: reads fall back to the primary without it.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pending = db(&state, |conn| {
        Ok(crate::app::health::pending_migrations(conn)?)
    })
    .await;
    let replica = state.reads.state();
    let replica = json!({"state": replica.name(), "lag_seconds": replica.lag_secs()});
    match pending {
        Ok(0) => HttpResponse::Ok().json(json!({
            "status": "ready", "database": "ok", "pending_migrations": 0, "replica": replica
        })),
        Ok(n) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "not_ready", "database": "ok", "pending_migrations": n, "replica": replica
        })),
        Err(e) => {
            log::warn!("readiness check failed: {e}");
            let reason = match e {
                ApiError::Unavailable(_) => "unreachable",
                _ => "error",
            };
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "not_ready", "database": reason}))
        }
    }
}
