//! Email notifications. What is to be sent is decided where it happens (a
//! workflow move, an SLA mark, a filing) and written to the outbox in the
//! same transaction (`db::outbox`); this module renders and sends it: the
//! templates, the transports, the dispatcher that drains the outbox, and the
//! signed links in messages (one-click unsubscribe, the resident's check).

pub mod audience;
pub mod dates;
pub mod links;
pub mod templates;
pub mod transport;
