//! Gorod: residents report city problems, the city routes each report to the
//! department responsible, answers it within deadlines counted in working
//! days, and keeps a verifiable record of every resolution.

pub mod access;
pub mod accounts;
pub mod app;
pub mod cache;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod geo;
pub mod http;
pub mod ledger;
pub mod limits;
pub mod locale;
pub mod logging;
pub mod media;
pub mod notify;
pub mod open311;
pub mod policy;
pub mod reports;
pub mod routing;
pub mod sla;
pub mod startup;
pub mod webhooks;
pub mod witness;
pub mod workflow;
