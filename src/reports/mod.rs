//! Reports as residents file them: the input parsed at the edge into domain
//! types (`Location`, `Description`, …) so that everything past the handler
//! holds only valid values, and the statuses a report moves through.

pub mod alerts;
pub mod evidence;
pub mod history;
pub mod map;
pub mod nearby;
pub mod open_data;
pub mod questions;
pub mod rating;
pub mod search;
mod status;
pub mod updates;

pub use status::ReportStatus;

use std::collections::BTreeMap;

use crate::locale::{Locale, Text};
use serde::Deserialize;

use questions::RawAnswer;

/// Longest description a resident may write (the Open311 limit).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
pub const MAX_ADDRESS_CHARS: usize = 500;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PHONE_CHARS: usize = 32;

/// A rejected input field and what is wrong with it, in words a person
/// understands, in each language; with the other fields found wrong in the
/// same input, so that a form shows all its errors at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    /// Stable and machine-readable: `required`, `too_long`, `not_a_number`,
    /// `not_a_date`, `not_an_email`, or `invalid`.
    pub code: &'static str,
    pub message: Text,
    /// Other fields of the same input that are wrong too.
    pub more: Vec<ValidationError>,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: Text) -> ValidationError {
        ValidationError::coded(field, "invalid", message)
    }

    pub fn coded(field: impl Into<String>, code: &'static str, message: Text) -> ValidationError {
        ValidationError {
            field: field.into(),
            code,
            message,
            more: Vec::new(),
        }
    }

    pub fn required(field: impl Into<String>) -> ValidationError {
        ValidationError::coded(
            field,
            "required",
            Text::new("обязательное поле", "is required"),
        )
    }

    pub fn too_long(field: impl Into<String>, max_chars: usize) -> ValidationError {
        ValidationError::coded(
            field,
            "too_long",
            Text::new(
                format!("длиннее {max_chars} символов"),
                format!("is longer than {max_chars} characters"),
            ),
        )
    }

    pub fn not_a_number(field: impl Into<String>, text: &str) -> ValidationError {
        ValidationError::coded(
            field,
            "not_a_number",
            Text::new(
                format!("«{text}» — не число"),
                format!("'{text}' is not a number"),
            ),
        )
    }

    pub fn not_a_date(field: impl Into<String>, text: &str) -> ValidationError {
        ValidationError::coded(
            field,
            "not_a_date",
            Text::new(
                format!("«{text}» — не дата (ГГГГ-ММ-ДД)"),
                format!("'{text}' is not a date (YYYY-MM-DD)"),
            ),
        )
    }

    /// `given` names no `what` (say a category) of this city.
    pub fn unknown(field: impl Into<String>, given: &str, what: (&str, &str)) -> ValidationError {
        let (ru, en) = what;
        ValidationError::coded(
            field,
            "unknown",
            Text::new(
                format!("«{given}» — не {ru} этого города"),
                format!("'{given}' is not a {en} of this city"),
            ),
        )
    }

    /// The first of these errors carrying the rest, if there are any.
    pub fn all(errors: Vec<ValidationError>) -> Result<(), ValidationError> {
        let mut errors = errors.into_iter();
        match errors.next() {
            None => Ok(()),
            Some(mut first) => {
                first.more.extend(errors);
                Err(first)
            }
        }
    }

    /// This error and the others found with it, each on its own.
    pub fn into_each(mut self) -> Vec<ValidationError> {
        let more = std::mem::take(&mut self.more);
        std::iter::once(self)
            .chain(more.into_iter().flat_map(ValidationError::into_each))
            .collect()
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
    #[serde(default, deserialize_with = "null_as_default")]
    pub reporter: ReporterInput,
    /// The city object the report is about (its id), if one was picked.
    #[serde(default)]
    pub object: Option<String>,
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
    #[serde(default, deserialize_with = "null_as_default")]
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
    /// The id of the city object picked, checked when filing.
    pub object: Option<String>,
    /// Photos given as addresses (Open311 `media_url`), kept as links.
    pub media_urls: Vec<String>,
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
        let email = EmailAddress::parse(&field("email"), given.or(account).unwrap_or_default())
            .and_then(|email| match account.filter(|own| *own != email.as_str()) {
                Some(own) => Err(ValidationError::new(
                    field("email"),
                    Text::new(
                        format!("вы вошли как {own}: сообщайте от своего имени"),
                        format!("you are logged in as {own}: file as yourself"),
                    ),
                )),
                None => Ok(email),
            });
        let name = optional_text(&field("name"), input.name, MAX_NAME_CHARS);
        let phone = parse_phone(&field("phone"), input.phone);
        let locale = input
            .locale
            .map(|code| parse_locale(&field("locale"), &code))
            .transpose();
        match (email, name, phone, locale) {
            (Ok(email), Ok(name), Ok(phone), Ok(locale)) => Ok(Reporter {
                email,
                name,
                phone,
                show_name: input.show_name,
                locale,
            }),
            (email, name, phone, locale) => {
                ValidationError::all(
                    [email.err(), name.err(), phone.err(), locale.err()]
                        .into_iter()
                        .flatten()
                        .collect(),
                )?;
                unreachable!("one of the fields was wrong")
            }
        }
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
            Text::new(
                format!("«{phone}» — не номер телефона"),
                format!("'{phone}' is not a telephone number"),
            ),
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
        let category = match category_code.is_empty() {
            true => Err(ValidationError::required("category")),
            false => Ok(()),
        };
        let location = Location::parse(input.lat, input.lon);
        let description = Description::parse(&input.description);
        let address = optional_text("address", input.address, MAX_ADDRESS_CHARS);
        let reporter = Reporter::parse_by(input.reporter, "reporter.", account);
        match (category, location, description, address, reporter) {
            (Ok(()), Ok(location), Ok(description), Ok(address), Ok(reporter)) => Ok(NewReport {
                category_code,
                location,
                description,
                address,
                raw_answers: input.answers,
                reporter: Some(reporter),
                object: input
                    .object
                    .map(|o| o.trim().to_string())
                    .filter(|o| !o.is_empty()),
                media_urls: Vec::new(),
            }),
            (category, location, description, address, reporter) => {
                ValidationError::all(
                    [
                        category.err(),
                        location.err(),
                        description.err(),
                        address.err(),
                        reporter.err(),
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                )?;
                unreachable!("one of the fields was wrong")
            }
        }
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
            return Err(ValidationError::coded(
                "lat",
                "out_of_range",
                Text::new(
                    format!("должна быть числом от -90 до 90, а не {lat}"),
                    format!("latitude must be a number from -90 to 90, got {lat}"),
                ),
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(ValidationError::coded(
                "lon",
                "out_of_range",
                Text::new(
                    format!("должна быть числом от -180 до 180, а не {lon}"),
                    format!("longitude must be a number from -180 to 180, got {lon}"),
                ),
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
            return Err(ValidationError::coded(
                "description",
                "required",
                Text::new(
                    "обязательное поле: опишите проблему",
                    "is required: say what is wrong",
                ),
            ));
        }
        let chars = text.chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            return Err(ValidationError::coded(
                "description",
                "too_long",
                Text::new(
                    format!("{chars} символов, а можно не больше {MAX_DESCRIPTION_CHARS}"),
                    format!(
                        "is {chars} characters long; at most {MAX_DESCRIPTION_CHARS} are allowed"
                    ),
                ),
            ));
        }
        Ok(Description(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A value sent as `null` reads as its default, as if it were left out.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// One of the city's languages by its exact code.
pub fn parse_locale(field: &str, code: &str) -> Result<Locale, ValidationError> {
    Locale::exact(code).ok_or_else(|| {
        ValidationError::new(
            field,
            Text::new(
                format!("«{code}» — не язык этого города: ru или en"),
                format!("'{code}' is not a language of this city: 'ru' or 'en'"),
            ),
        )
    })
}

/// An email address, checked for shape only (delivery proves the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &str, text: &str) -> Result<EmailAddress, ValidationError> {
        let text = text.trim();
        let invalid = || {
            ValidationError::coded(
                field,
                "not_an_email",
                Text::new(
                    format!("«{text}» — не адрес эл. почты"),
                    format!("'{text}' is not an email address"),
                ),
            )
        };
        if text.is_empty() {
            return Err(ValidationError::required(field));
        }
        if text.chars().count() > MAX_EMAIL_CHARS {
            return Err(ValidationError::too_long(field, MAX_EMAIL_CHARS));
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
        return Err(ValidationError::too_long(field, max_chars));
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
            object: None,
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
            other.message.en().contains("boris@example.ru"),
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
