//! Reports as residents file them: the input parsed at the edge into domain
//! types (`Location`, `Description`, …) so that everything past the handler
//! holds only valid values, and the statuses a report moves through.

pub mod history;
pub mod map;
pub mod nearby;
pub mod questions;
mod status;

pub use status::ReportStatus;

use std::collections::BTreeMap;

use crate::locale::Locale;
use serde::Deserialize;

use questions::RawAnswer;

/// Longest description a resident may write (the Open311 limit).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
pub const MAX_ADDRESS_CHARS: usize = 500;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PHONE_CHARS: usize = 32;

/// A rejected input field and what is wrong with it, in words a person
/// understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> ValidationError {
        ValidationError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A report as it arrives, before validation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    pub category: String,
    pub lat: f64,
    pub lon: f64,
    pub description: String,
    #[serde(default)]
    pub address: Option<String>,
    /// Answers to the category's questions, by question code.
    #[serde(default)]
    pub answers: BTreeMap<String, RawAnswer>,
    /// Who files it: optional for a logged-in resident (their account's
    /// address is used).
    #[serde(default)]
    pub reporter: ReporterInput,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReporterInput {
    /// Required unless the resident is logged in.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Whether the reporter agrees to show their name on the public report.
    #[serde(default)]
    pub show_name: bool,
    /// The language of the report, `ru` or `en`: a new account takes it.
    #[serde(default)]
    pub locale: Option<String>,
}

/// A report that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub category_code: String,
    pub location: Location,
    pub description: Description,
    pub address: Option<String>,
    /// Checked against the category's questions once the category is known.
    pub raw_answers: BTreeMap<String, RawAnswer>,
    /// None for an anonymous report (Open311 allows them).
    pub reporter: Option<Reporter>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reporter {
    pub email: EmailAddress,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub show_name: bool,
    /// The language the report was filed in, when it is known.
    pub locale: Option<Locale>,
}

impl Reporter {
    pub fn parse(input: ReporterInput, prefix: &str) -> Result<Reporter, ValidationError> {
        Reporter::parse_by(input, prefix, None)
    }

    /// As [`Reporter::parse`], for the logged-in resident with the address
    /// `account`: theirs when the input gives none, refused when it gives
    /// another.
    pub fn parse_by(
        input: ReporterInput,
        prefix: &str,
        account: Option<&str>,
    ) -> Result<Reporter, ValidationError> {
        let field = |name: &str| format!("{prefix}{name}");
        let given = input
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        let email = EmailAddress::parse(&field("email"), given.or(account).unwrap_or_default())?;
        if let Some(own) = account.filter(|own| *own != email.as_str()) {
            return Err(ValidationError::new(
                field("email"),
                format!("you are logged in as {own}: file as yourself"),
            ));
        }
        Ok(Reporter {
            email,
            name: optional_text(&field("name"), input.name, MAX_NAME_CHARS)?,
            phone: parse_phone(&field("phone"), input.phone)?,
            show_name: input.show_name,
            locale: input
                .locale
                .map(|code| {
                    Locale::exact(&code).ok_or_else(|| {
                        ValidationError::new(
                            field("locale"),
                            format!("'{code}' is not a language of this city: 'ru' or 'en'"),
                        )
                    })
                })
                .transpose()?,
        })
    }
}

/// Digits with the usual separators and an optional leading +.
fn parse_phone(field: &str, phone: Option<String>) -> Result<Option<String>, ValidationError> {
    let Some(phone) = optional_text(field, phone, MAX_PHONE_CHARS)? else {
        return Ok(None);
    };
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || " -().".contains(c) || (i == 0 && c == '+'));
    if !allowed || !(5..=15).contains(&digits) {
        return Err(ValidationError::new(
            field,
            format!("'{phone}' is not a telephone number"),
        ));
    }
    Ok(Some(phone))
}

impl NewReport {
    /// The report, in this language unless its reporter named one.
    pub fn in_language(mut self, locale: Option<Locale>) -> NewReport {
        if let Some(reporter) = &mut self.reporter {
            reporter.locale = reporter.locale.or(locale);
        }
        self
    }

    pub fn parse(input: ReportInput) -> Result<NewReport, ValidationError> {
        NewReport::parse_by(input, None)
    }

    /// As [`NewReport::parse`], filed by the logged-in resident with this
    /// address: the reporter's address may be left out, and may not be
    /// another one.
    pub fn parse_by(
        input: ReportInput,
        account: Option<&str>,
    ) -> Result<NewReport, ValidationError> {
        let category_code = input.category.trim().to_string();
        if category_code.is_empty() {
            return Err(ValidationError::new("category", "is required"));
        }
        let location = Location::parse(input.lat, input.lon)?;
        let description = Description::parse(&input.description)?;
        let address = optional_text("address", input.address, MAX_ADDRESS_CHARS)?;
        let reporter = Reporter::parse_by(input.reporter, "reporter.", account)?;
        Ok(NewReport {
            category_code,
            location,
            description,
            address,
            raw_answers: input.answers,
            reporter: Some(reporter),
        })
    }
}

/// A point on the map in WGS 84 degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    lat: f64,
    lon: f64,
}

impl Location {
    pub fn parse(lat: f64, lon: f64) -> Result<Location, ValidationError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(ValidationError::new(
                "lat",
                format!("latitude must be a number from -90 to 90, got {lat}"),
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(ValidationError::new(
                "lon",
                format!("longitude must be a number from -180 to 180, got {lon}"),
            ));
        }
        Ok(Location { lat, lon })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lon(&self) -> f64 {
        self.lon
    }
}

/// What the resident says is wrong: not blank, at most 4,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(text: &str) -> Result<Description, ValidationError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ValidationError::new(
                "description",
                "is required: say what is wrong",
            ));
        }
        let chars = text.chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            return Err(ValidationError::new(
                "description",
                format!("is {chars} characters long; at most {MAX_DESCRIPTION_CHARS} are allowed"),
            ));
        }
        Ok(Description(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, checked for shape only (delivery proves the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &str, text: &str) -> Result<EmailAddress, ValidationError> {
        let text = text.trim();
        let invalid = || ValidationError::new(field, format!("'{text}' is not an email address"));
        if text.is_empty() {
            return Err(ValidationError::new(field, "is required"));
        }
        if text.chars().count() > MAX_EMAIL_CHARS {
            return Err(ValidationError::new(
                field,
                format!("is longer than {MAX_EMAIL_CHARS} characters"),
            ));
        }
        let (local, domain) = text.split_once('@').ok_or_else(invalid)?;
        let well_formed = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err(invalid());
        }
        // Strictly only the domain is case-insensitive, but no mail system a
        // resident uses treats Anna@ and anna@ as two people.
        Ok(EmailAddress(text.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn optional_text(
    field: &str,
    text: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, ValidationError> {
    let Some(text) = text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            format!("is longer than {max_chars} characters"),
        ));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReportInput {
        ReportInput {
            category: "pothole".into(),
            lat: 55.75,
            lon: 37.61,
            description: "A deep pothole".into(),
            address: Some("  ".into()),
            answers: BTreeMap::new(),
            reporter: ReporterInput {
                email: Some("Anna@Example.RU".into()),
                name: None,
                phone: Some("+7 (495) 777-77-77".into()),
                show_name: false,
                locale: None,
            },
        }
    }

    #[test]
    fn a_valid_report_parses_and_is_normalised() {
        let report = NewReport::parse(input()).unwrap();
        let reporter = report.reporter.unwrap();
        assert_eq!(reporter.email.as_str(), "anna@example.ru");
        assert_eq!(reporter.phone.as_deref(), Some("+7 (495) 777-77-77"));
        assert_eq!(report.address, None);
        assert_eq!(report.location.lat(), 55.75);
    }

    #[test]
    fn each_bad_field_is_named() {
        type Spoil = fn(&mut ReportInput);
        let cases: Vec<(Spoil, &str)> = vec![
            (|i| i.lat = 95.0, "lat"),
            (|i| i.lat = f64::NAN, "lat"),
            (|i| i.lon = -180.5, "lon"),
            (|i| i.description = " \n ".into(), "description"),
            (|i| i.description = "я".repeat(4001), "description"),
            (|i| i.category = "".into(), "category"),
            (
                |i| i.reporter.email = Some("not-an-email".into()),
                "reporter.email",
            ),
            (|i| i.reporter.email = Some("a@b".into()), "reporter.email"),
            (|i| i.address = Some("x".repeat(501)), "address"),
            (|i| i.reporter.name = Some("x".repeat(201)), "reporter.name"),
            (
                |i| i.reporter.phone = Some("call me".into()),
                "reporter.phone",
            ),
            (|i| i.reporter.phone = Some("12".into()), "reporter.phone"),
        ];
        for (spoil, field) in cases {
            let mut bad = input();
            spoil(&mut bad);
            assert_eq!(NewReport::parse(bad).unwrap_err().field, field);
        }
        let mut anonymous = input();
        anonymous.reporter.email = None;
        assert_eq!(
            NewReport::parse(anonymous.clone()).unwrap_err().field,
            "reporter.email"
        );
        let own = NewReport::parse_by(anonymous, Some("anna@example.ru")).unwrap();
        assert_eq!(own.reporter.unwrap().email.as_str(), "anna@example.ru");
        let other = NewReport::parse_by(input(), Some("boris@example.ru")).unwrap_err();
        assert_eq!(other.field, "reporter.email");
        assert!(
            other.message.contains("boris@example.ru"),
            "{}",
            other.message
        );
    }

    #[test]
    fn a_description_of_exactly_the_limit_is_accepted() {
        let mut ok = input();
        ok.description = "я".repeat(MAX_DESCRIPTION_CHARS);
        assert!(NewReport::parse(ok).is_ok());
    }
}
