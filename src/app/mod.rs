//! Use cases: one module per thing a person or a job does. Each takes typed
//! input, asks the domain what follows and has `db/` persist it, deciding
//! which transaction holds what. Plain functions over the application's
//! services; callers (the HTTP handlers, the command line, background jobs)
//! parse and authorise before they call.

pub mod jobs;
pub mod operators;
