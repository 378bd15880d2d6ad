//! What the OpenAPI document says of a value where its Rust type says less
//! than the server checks: the values a code may take, an address's shape,
//! a password's length, a date's format. Each is used by `schema_with` (or
//! `value_type`) next to the field it describes, so that a client generated
//! from the document, or a fuzzer reading it, sends only what is accepted.
//!
//! What no schema can state (a code in this city's catalogue, a signed link,
//! one field depending on another) is listed, with its reason, in
//! `schemathesis.toml`, the settings of the contract test (`scripts/api-fuzz`).

use utoipa::openapi::schema::{
    AnyOfBuilder, Array, ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable(builder: ObjectBuilder) -> Object {
    builder
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .build()
}

fn one_of_words(words: &[&str]) -> ObjectBuilder {
    string().enum_values(Some(words.iter().copied()))
}

/// A query parameter's words; an empty value is the default, as if the
/// parameter were left out (what an HTML form sends for "any").
fn query_words(words: &[&str]) -> Object {
    string()
        .pattern(Some(format!("^({})?$", words.join("|"))))
        .build()
}

/// Nothing: an empty query parameter, read as left out.
fn empty() -> Object {
    string().max_length(Some(0)).build()
}

fn email_address() -> ObjectBuilder {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(254))
}

/// An email address (at most 254 characters).
pub fn email() -> Object {
    email_address().build()
}

/// An email address, or nothing.
pub fn email_or_null() -> Object {
    nullable(email_address())
}

/// A language: `ru` or `en`.
pub fn locale() -> Object {
    one_of_words(&["ru", "en"]).build()
}

/// A language, or nothing (the default).
pub fn locale_or_null() -> Object {
    nullable(string().enum_values(Some([
        serde_json::Value::from("ru"),
        serde_json::Value::from("en"),
        serde_json::Value::Null,
    ])))
}

/// A staff role.
pub fn role() -> Object {
    one_of_words(&["crew", "supervisor", "admin"]).build()
}

/// The map's formats.
pub fn map_format() -> Object {
    query_words(&["json", "geojson"])
}

/// The formats of the supervisor's tables.
pub fn table_format() -> Object {
    query_words(&["json", "csv"])
}

/// A deadline risk the supervisor filters by.
pub fn risk() -> Object {
    query_words(&["at_risk", "breached"])
}

/// The outbox's message states.
pub fn message_status() -> Object {
    one_of_words(&["pending", "sent", "dead"]).build()
}

/// The kinds of API key.
pub fn key_kind() -> Object {
    one_of_words(&["api", "open311", "back_office"]).build()
}

/// What staff may do to a report (the workflow's own moves are not sent).
pub fn staff_action() -> Object {
    let names = crate::workflow::Action::ALL
        .iter()
        .filter(|a| a.sent_by_staff())
        .map(|a| a.as_str());
    string().enum_values(Some(names)).build()
}

/// The moves a canned answer is offered for, at least one.
pub fn canned_actions() -> Array {
    ArrayBuilder::new()
        .items(one_of_words(&["answer", "reject", "pause"]))
        .min_items(Some(1))
        .build()
}

/// How often an area alert is sent, or nothing (at once).
pub fn alert_frequency() -> Object {
    nullable(string().enum_values(Some([
        serde_json::Value::from("instant"),
        serde_json::Value::from("daily"),
        serde_json::Value::Null,
    ])))
}

/// The units a deadline is counted in.
pub fn target_unit() -> Object {
    one_of_words(&["working_days", "working_hours", "calendar_days"]).build()
}

/// The kinds of dated calendar exception.
pub fn day_kind() -> Object {
    one_of_words(&["holiday", "day_off", "working", "shortened"]).build()
}

/// A time of day, `HH:MM`.
pub fn clock_time() -> Object {
    string()
        .pattern(Some("^([01][0-9]|2[0-3]):[0-5][0-9]$"))
        .build()
}

/// ISO weekday numbers, 1 = Monday … 7 = Sunday, each at most once.
pub fn weekdays() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(7)),
        )
        .unique_items(true)
        .max_items(Some(6))
        .build()
}

/// A new password: 10 to 128 characters.
pub fn new_password() -> Object {
    string().min_length(Some(10)).max_length(Some(128)).build()
}

/// A date, `YYYY-MM-DD`.
pub fn date() -> Object {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .build()
}

/// A date as a query parameter, or nothing.
pub fn query_date() -> Schema {
    AnyOfBuilder::new()
        .item(date())
        .item(empty())
        .build()
        .into()
}

/// A date (its whole day) or an RFC 3339 date and time with an offset, as a
/// query parameter; or nothing.
pub fn query_date_or_time() -> Schema {
    let date_time = string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .build();
    AnyOfBuilder::new()
        .item(date())
        .item(date_time)
        .item(empty())
        .build()
        .into()
}

/// A number in degrees within `limit` either way, as the regular
/// expression of its decimal text (e.g. 180: `-180` to `180.0…`).
fn degrees(limit: u32) -> String {
    let below = match limit {
        90 => "[0-8]?[0-9]",
        _ => "(1[0-7][0-9]|[0-9]?[0-9])",
    };
    format!("-?({below}(\\.[0-9]{{1,7}})?|{limit}(\\.0{{1,7}})?)")
}

/// A box, `min_lon,min_lat,max_lon,max_lat` in degrees; or nothing.
pub fn query_bbox() -> Object {
    let (lon, lat) = (degrees(180), degrees(90));
    string()
        .pattern(Some(format!("^({lon},{lat},{lon},{lat})?$")))
        .build()
}

/// A comma-separated list of report statuses; or nothing.
pub fn query_statuses() -> Object {
    let codes: Vec<&str> = crate::reports::ReportStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    let one = format!("({})", codes.join("|"));
    string()
        .pattern(Some(format!("^({one}(,{one})*)?$")))
        .build()
}

/// Text with something in it besides spaces, at most `max` characters.
fn text(max: usize) -> ObjectBuilder {
    string().pattern(Some("\\S")).max_length(Some(max))
}

/// A name or short text (at most 200 characters), not blank.
pub fn short_text() -> Object {
    text(200).build()
}

/// A long text (at most 4,000 characters), not blank.
pub fn long_text() -> Object {
    text(4000).build()
}
