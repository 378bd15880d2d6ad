//! Prometheus metrics: requests by route and status, and a latency histogram
//! per route, served at `/metrics` in the text exposition format. Routes are
//! labelled by their pattern (`/api/v1/reports/{id}`), never the raw path, so
//! the number of series stays bounded.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::{ApiError, AppState};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("gorod");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        let latency: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 16)));
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            latency.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_string(),
                route: route.to_string(),
            })
            .observe(seconds);
    }

    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Middleware counting and timing every request.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let started = Instant::now();
    let response = next.call(req).await?;
    if let Some(metrics) = metrics {
        let status = response.status().as_u16();
        metrics.observe(&method, &route, status, started.elapsed().as_secs_f64());
    }
    Ok(response)
}

/// The state of the installation, read at each scrape: how much mail waits
/// and since when, how far behind the SLA scanner is, the read replica, the
/// ledger's size and its last checkpoint's age. Absent figures (no
/// replica, no checkpoint yet) are left out.
async fn state_text(state: &AppState) -> Result<String, ApiError> {
    let now = state.clock.now();
    let app = state.services.clone();
    let figures = super::db(state, move |conn| {
        Ok(crate::app::health::figures(&app, conn)?)
    })
    .await?;
    let age = |at: Option<chrono::NaiveDateTime>| {
        at.map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0)
    };
    let replica = state.reads.state();
    let gauges: [(&str, &str, Option<f64>); 10] = [
        (
            "deliveries_pending",
            "Deliveries to back offices and webhook receivers waiting to be sent",
            Some(figures.deliveries_pending as f64),
        ),
        (
            "deliveries_dead",
            "Deliveries given up (dead letters), for an admin to read and requeue",
            Some(figures.deliveries_dead as f64),
        ),
        (
            "outbox_pending_messages",
            "Messages waiting to be sent",
            Some(figures.outbox_pending as f64),
        ),
        (
            "outbox_oldest_due_seconds",
            "How long the oldest due message has waited",
            age(figures.outbox_oldest_due).or(Some(0.0)),
        ),
        (
            "scanner_lag_seconds",
            "How long the SLA scanner is behind the earliest report it should have looked at",
            age(figures.scanner_behind_since).or(Some(0.0)),
        ),
        (
            "replica_serving",
            "1 while public reads go to the read replica",
            state
                .reads
                .has_replica()
                .then_some(if crate::app::health::replica_serving(state) {
                    1.0
                } else {
                    0.0
                }),
        ),
        (
            "replica_lag_seconds",
            "How far the read replica is behind the primary",
            replica.lag_secs(),
        ),
        (
            "ledger_entries",
            "Entries in the resolution ledger",
            Some(figures.ledger_entries as f64),
        ),
        (
            "ledger_last_checkpoint_age_seconds",
            "Age of the last signed ledger checkpoint",
            age(figures.last_checkpoint_at),
        ),
        (
            "database_failing",
            "1 while connections to the database are failing",
            Some(if crate::app::health::database_failing() {
                1.0
            } else {
                0.0
            }),
        ),
    ];
    let mut text = String::new();
    for (name, help, value) in gauges {
        if let Some(value) = value {
            text.push_str(&format!(
                "# HELP gorod_{name} {help}.\n# TYPE gorod_{name} gauge\ngorod_{name} {value}\n"
            ));
        }
    }
    Ok(text)
}

pub async fn render(metrics: web::Data<Metrics>, state: web::Data<AppState>) -> HttpResponse {
    let figures = match state_text(&state).await {
        Ok(text) => text,
        Err(e) => {
            log::warn!("metrics without the database's figures: {e}");
            String::new()
        }
    };
    match metrics.encode().map(|text| {
        // The registry's text ends with "# EOF"; the figures go before it.
        match text.strip_suffix("# EOF\n") {
            Some(head) => format!("{head}{figures}# EOF\n"),
            None => format!("{text}{figures}"),
        }
    }) {
        Ok(text) => HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(text),
        Err(e) => {
            log::error!("cannot encode metrics: {e}");
            HttpResponse::InternalServerError().finish()
        }
    }
}
