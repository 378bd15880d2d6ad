//! What the people who run an installation do from the command line
//! (`gorod admin …`): give a real installation its first administrator,
//! list and disable accounts, rotate secrets with a grace period, and find
//! or disable the demo city's published credentials. Every change is
//! written to the audit log as the operator's.

use chrono::{NaiveDateTime, TimeDelta};

use crate::accounts::{totp, NewPassword};
use crate::db::audit::{self, Actor, Entry};
use crate::db::operations::{self, DemoCredentials};
use crate::db::rows::UserRow;
use crate::db::{self, DbConnection, DbError};
use crate::ledger::SigningKeys;
use crate::reports::EmailAddress;

/// Names of the installation's secrets in the `secrets` table.
pub const LINK_SECRET: &str = "mail_signing_key";

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for OperatorError {
    fn from(e: diesel::result::Error) -> OperatorError {
        OperatorError::Db(DbError::from(e))
    }
}

/// The operator, as the audit log names them.
fn operator() -> Actor {
    Actor {
        user_id: None,
        role: "operator".into(),
        ip: None,
    }
}

/// A new administrator and their second factor, shown once.
#[derive(Debug)]
pub struct NewAdmin {
    pub user_id: String,
    pub email: String,
    pub totp_secret: String,
    pub totp_uri: String,
}

/// Creates an administrator who logs in with `password` and a code of the
/// returned TOTP secret (enrolled at once: it is shown to the operator
/// only).
pub fn create_admin(
    conn: &mut DbConnection,
    email: &str,
    name: Option<&str>,
    password: &str,
    issuer: &str,
    now: NaiveDateTime,
) -> Result<NewAdmin, OperatorError> {
    let email = EmailAddress::parse("--email", email)
        .map_err(|e| OperatorError::Invalid(format!("{}: {}", e.field, e.message)))?;
    let password = NewPassword::parse(password, email.as_str())
        .map_err(|e| OperatorError::Invalid(format!("the password {e}")))?;
    if db::access::user_by_email(conn, email.as_str())?.is_some() {
        return Err(OperatorError::Invalid(format!(
            "{} already has an account; disable it or choose another address",
            email.as_str()
        )));
    }
    let user = UserRow {
        id: db::new_id(),
        email: email.as_str().to_string(),
        name: name.map(str::to_string).filter(|n| !n.trim().is_empty()),
        phone: None,
        role: "admin".into(),
        department_id: None,
        locale: "ru".into(),
        created_at: now,
    };
    let secret = totp::new_secret();
    db::accounts::create_staff(conn, &user, &password.hash(), now)?;
    db::accounts::set_totp_secret(conn, &user.id, &secret, now)?;
    db::accounts::enrol_totp(conn, &user.id, now)?;
    audit::record(
        conn,
        &operator(),
        Entry {
            action: "create_admin",
            object_type: "user",
            object_id: Some(&user.id),
            before: None,
            after: Some(serde_json::json!({"email": user.email, "role": "admin"})),
        },
        now,
    )?;
    Ok(NewAdmin {
        totp_uri: totp::provisioning_uri(issuer, &user.email, &secret),
        user_id: user.id,
        email: user.email,
        totp_secret: secret,
    })
}

/// Every account with a login, for `gorod admin list`.
pub fn list_accounts(
    conn: &mut DbConnection,
) -> Result<Vec<db::accounts::AccountSummary>, OperatorError> {
    Ok(db::accounts::summaries(conn)?)
}

/// Disables (or enables again) the account of `email`.
pub fn set_disabled(
    conn: &mut DbConnection,
    email: &str,
    disabled: bool,
    now: NaiveDateTime,
) -> Result<(), OperatorError> {
    let user_id = db::access::user_by_email(conn, email.trim())?
        .ok_or_else(|| OperatorError::Invalid(format!("nobody has the address {email}")))?;
    db::accounts::set_disabled(conn, &user_id, disabled, now)?;
    audit::record(
        conn,
        &operator(),
        Entry {
            action: if disabled {
                "disable_user"
            } else {
                "enable_user"
            },
            object_type: "user",
            object_id: Some(&user_id),
            before: None,
            after: Some(serde_json::json!({"disabled": disabled})),
        },
        now,
    )?;
    Ok(())
}

/// The digests of every token the demo city publishes.
fn demo_key_digests(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let mut digests = vec![crate::access::api_key_digest(crate::demo::DEMO_OPEN311_KEY)];
    for email in db::access::emails_at_domain(conn, crate::demo::DEMO_EMAIL_DOMAIN)? {
        let local = email.split('@').next().unwrap_or_default();
        digests.push(crate::access::api_key_digest(&format!(
            "demo-token-{local}"
        )));
    }
    Ok(digests)
}

/// The demo city's published accounts and keys still usable here.
pub fn demo_credentials(conn: &mut DbConnection) -> Result<DemoCredentials, DbError> {
    let digests = demo_key_digests(conn)?;
    operations::demo_credentials(
        conn,
        crate::demo::DEMO_EMAIL_DOMAIN,
        crate::demo::DEMO_TOTP_SECRET,
        &digests,
    )
}

/// Disables the demo's accounts and revokes its keys; the city it made
/// (catalogue, reports, history) stays.
pub fn remove_demo(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<DemoCredentials, OperatorError> {
    let digests = demo_key_digests(conn)?;
    let removed = operations::disable_demo_credentials(
        conn,
        crate::demo::DEMO_EMAIL_DOMAIN,
        crate::demo::DEMO_TOTP_SECRET,
        &digests,
        now,
    )?;
    audit::record(
        conn,
        &operator(),
        Entry {
            action: "remove_demo_credentials",
            object_type: "installation",
            object_id: None,
            before: None,
            after: Some(serde_json::json!({"accounts": removed.accounts, "keys": removed.keys})),
        },
        now,
    )?;
    Ok(removed)
}

/// Which secret to rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// Every open session ends within the grace period.
    Sessions,
    /// The key of emailed links (unsubscribe, check, account): links
    /// signed with the old one keep working for the grace period.
    Links,
    /// The ledger's checkpoint signing key: the old key's checkpoints stay
    /// trusted for good; instances not yet restarted may sign with it for
    /// the grace period.
    Ledger,
}

impl Secret {
    pub fn parse(text: &str) -> Result<Secret, OperatorError> {
        match text {
            "sessions" => Ok(Secret::Sessions),
            "links" => Ok(Secret::Links),
            "ledger" => Ok(Secret::Ledger),
            other => Err(OperatorError::Invalid(format!(
                "'{other}' is not sessions, links or ledger"
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Secret::Sessions => "sessions",
            Secret::Links => "links",
            Secret::Ledger => "ledger",
        }
    }
}

/// What a rotation did, for the operator (never a secret value).
#[derive(Debug)]
pub struct Rotation {
    pub secret: Secret,
    pub accepted_until: NaiveDateTime,
    /// Sessions shortened (`Sessions`).
    pub sessions: usize,
    /// The ledger's old and new public keys (`Ledger`).
    pub ledger_keys: Option<(String, String)>,
    /// The checkpoint the old ledger key signed before handing over.
    pub handover_checkpoint: Option<i64>,
}

/// Rotates `secret`; the old one is accepted for `grace`. The ledger's key
/// is the one in `ledger`'s key file (`ledger.signing_key`, then
/// `ledger.key_file`; see `app::signing_key`): with a key configured in the
/// environment it is changed there instead.
pub fn rotate(
    conn: &mut DbConnection,
    secret: Secret,
    grace: TimeDelta,
    ledger: (&str, &std::path::Path),
    now: NaiveDateTime,
) -> Result<Rotation, OperatorError> {
    let accepted_until = now + grace;
    let mut rotation = Rotation {
        secret,
        accepted_until,
        sessions: 0,
        ledger_keys: None,
        handover_checkpoint: None,
    };
    match secret {
        Secret::Sessions => {
            rotation.sessions = operations::end_sessions_by(conn, accepted_until)?;
        }
        Secret::Links => {
            operations::rotate_secret(
                conn,
                LINK_SECRET,
                &SigningKeys::fresh_seed(),
                accepted_until,
                now,
            )?;
        }
        Secret::Ledger => {
            let done =
                super::signing_key::rotate(conn, ledger.0, ledger.1, now).map_err(|e| match e {
                    super::signing_key::KeyError::Db(e) => OperatorError::Db(e),
                    other => OperatorError::Invalid(other.to_string()),
                })?;
            rotation.handover_checkpoint = Some(done.handover_size);
            rotation.ledger_keys = Some((done.old_key, done.new_key));
        }
    }
    audit::record(
        conn,
        &operator(),
        Entry {
            action: "rotate_secret",
            object_type: "secret",
            object_id: Some(secret.name()),
            before: rotation
                .ledger_keys
                .as_ref()
                .map(|(old, _)| serde_json::json!({"public_key": old})),
            after: Some(serde_json::json!({
                "accepted_until": accepted_until,
                "sessions_shortened": rotation.sessions,
                "public_key": rotation.ledger_keys.as_ref().map(|(_, new)| new),
                "handover_checkpoint": rotation.handover_checkpoint,
            })),
        },
        now,
    )?;
    Ok(rotation)
}
