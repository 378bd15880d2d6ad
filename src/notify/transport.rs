//! How messages leave, chosen by `mail.transport`:
//! - `smtp`: a relay through `lettre`, with pooled connections (one per
//!   sending worker), TLS `none`, `starttls` or `tls`, a timeout on every
//!   step, and credentials from `GOROD_SMTP_USERNAME`/`GOROD_SMTP_PASSWORD`;
//! - `file` (the default on a fresh machine): one `.eml` file per message
//!   under `mail.dir`, named after its Message-ID, so a message sent twice is
//!   one file;
//! - `memory`: kept in a list, for tests.
//!
//! A failure is temporary (refused or dropped connection, timeout, a 4xx
//! reply: try again later) or permanent (a 5xx reply, an address that cannot
//! be an address: retrying cannot help).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::PoolConfig;
use lettre::{Message, SmtpTransport, Transport};

use super::templates::Rendered;
use crate::config::MailSettings;

/// One message ready to go.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub message_id: String,
    pub to: String,
    pub rendered: Rendered,
    /// The one-click link of `List-Unsubscribe` (RFC 8058).
    pub unsubscribe: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    Temporary(String),
    Permanent(String),
}

/// A message as the memory transport kept it.
#[derive(Debug, Clone)]
pub struct Kept {
    pub to: String,
    pub message_id: String,
    pub raw: String,
}

/// The memory transport's list, shared with whoever reads it.
pub type MemoryBox = Arc<Mutex<Vec<Kept>>>;

#[derive(Clone)]
pub enum Mailer {
    Smtp(SmtpTransport),
    File(PathBuf),
    Memory(MemoryBox),
}

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("mail.transport: '{0}' is not one of smtp, file, memory")]
    Transport(String),
    #[error("mail.smtp.tls: '{0}' is not one of none, starttls, tls")]
    Tls(String),
    #[error("mail.smtp: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("mail.from: '{0}' is not an address like Gorod <no-reply@example.org>")]
    From(String),
    #[error("mail.smtp.timeout_secs ({timeout}) must be shorter than mail.lease_secs ({lease}), so that a message in flight is never leased twice")]
    Timeout { timeout: u64, lease: u64 },
    #[error("cannot create mail.dir {0}: {1}")]
    Dir(String, std::io::Error),
}

impl Mailer {
    pub fn from_settings(mail: &MailSettings) -> Result<Mailer, MailerError> {
        if mail.smtp.timeout_secs >= mail.lease_secs {
            return Err(MailerError::Timeout {
                timeout: mail.smtp.timeout_secs,
                lease: mail.lease_secs,
            });
        }
        match mail.transport.as_str() {
            "smtp" => {
                let smtp = &mail.smtp;
                let builder = match smtp.tls.as_str() {
                    "none" => SmtpTransport::builder_dangerous(&smtp.host),
                    "starttls" => SmtpTransport::starttls_relay(&smtp.host)?,
                    "tls" => SmtpTransport::relay(&smtp.host)?,
                    other => return Err(MailerError::Tls(other.into())),
                };
                let mut builder = builder
                    .port(smtp.port)
                    .timeout(Some(Duration::from_secs(smtp.timeout_secs.max(1))))
                    .pool_config(
                        PoolConfig::new()
                            .max_size(u32::try_from(mail.workers.max(1)).unwrap_or(u32::MAX)),
                    );
                if let (Ok(user), Ok(password)) = (
                    std::env::var("GOROD_SMTP_USERNAME"),
                    std::env::var("GOROD_SMTP_PASSWORD"),
                ) {
                    builder = builder.credentials(Credentials::new(user, password));
                }
                Ok(Mailer::Smtp(builder.build()))
            }
            "file" => {
                std::fs::create_dir_all(&mail.dir)
                    .map_err(|e| MailerError::Dir(mail.dir.display().to_string(), e))?;
                Ok(Mailer::File(mail.dir.clone()))
            }
            "memory" => Ok(Mailer::Memory(MemoryBox::default())),
            other => Err(MailerError::Transport(other.into())),
        }
    }

    /// The memory transport's list (`None` for the others).
    pub fn kept(&self) -> Option<MemoryBox> {
        match self {
            Mailer::Memory(kept) => Some(kept.clone()),
            _ => None,
        }
    }

    /// Sends one message from `from`.
    pub fn send(&self, from: &Mailbox, message: &Outgoing) -> Result<(), SendError> {
        let email = build(from, message)?;
        match self {
            Mailer::Smtp(smtp) => smtp.send(&email).map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Permanent(e.to_string())
                } else {
                    SendError::Temporary(e.to_string())
                }
            }),
            Mailer::File(dir) => {
                // Written aside, then renamed: a reader never sees half a file.
                let name: String = message
                    .message_id
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect();
                let partial = dir.join(format!(".{name}.part"));
                std::fs::write(&partial, email.formatted())
                    .and_then(|()| std::fs::rename(&partial, dir.join(format!("{name}.eml"))))
                    .map_err(|e| SendError::Temporary(format!("cannot write the message: {e}")))
            }
            Mailer::Memory(kept) => {
                kept.lock().unwrap_or_else(|e| e.into_inner()).push(Kept {
                    to: message.to.clone(),
                    message_id: message.message_id.clone(),
                    raw: String::from_utf8_lossy(&email.formatted()).into_owned(),
                });
                Ok(())
            }
        }
    }
}

fn build(from: &Mailbox, message: &Outgoing) -> Result<Message, SendError> {
    let to: Mailbox = message.to.parse().map_err(|e| {
        SendError::Permanent(format!("'{}' is not an email address: {e}", message.to))
    })?;
    let mut email = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&message.rendered.subject)
        .message_id(Some(message.message_id.clone()))
        .multipart(MultiPart::alternative_plain_html(
            message.rendered.text.clone(),
            message.rendered.html.clone(),
        ))
        .map_err(|e| SendError::Permanent(format!("the message cannot be built: {e}")))?;
    let headers = email.headers_mut();
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("List-Unsubscribe"),
        format!("<{}>", message.unsubscribe),
    ));
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click".into(),
    ));
    Ok(email)
}
