//! Open311 GeoReport v2, the parts that need no database or web framework:
//! response formats (JSON, and XML by the "Spark" mapping of the same
//! value), the form body of `POST requests`, statuses, and datetimes; and
//! as a client of a back office's endpoint (`outbound`).

pub mod outbound;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::reports::questions::{parse_datetime, RawAnswer};
use crate::reports::ReportStatus;

/// The suffix of every resource: `.json` or `.xml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `requests.json` into ("requests", Json), on the last dot so a
    /// code may itself contain dots. None for another or a missing suffix.
    pub fn split(name: &str) -> Option<(&str, Format)> {
        let (stem, suffix) = name.rsplit_once('.')?;
        match suffix {
            "json" => Some((stem, Format::Json)),
            "xml" => Some((stem, Format::Xml)),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }

    /// The body for `value`; `root` names the XML root element.
    pub fn render(self, root: &str, value: &Value) -> String {
        match self {
            Format::Json => value.to_string(),
            Format::Xml => to_xml(root, value),
        }
    }
}

/// The XML element name for the items of an array named `name`.
fn item_name(name: &str) -> &str {
    match name {
        "service_requests" => "request",
        "service_request_updates" => "request_update",
        "services" => "service",
        "errors" => "error",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

/// Renders a value as GeoReport XML: objects become elements in key order,
/// an array named `foos` becomes `<foos><foo>…</foo>…</foos>`, null an empty
/// element. A top-level array is the root's items.
pub fn to_xml(root: &str, value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    element(&mut out, root, value);
    out
}

fn element(out: &mut String, name: &str, value: &Value) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => escape_into(out, s),
        Value::Array(items) => {
            let item = item_name(name);
            for v in items {
                element(out, item, v);
            }
        }
        Value::Object(fields) => {
            for (key, v) in fields {
                element(out, key, v);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

/// An error body: `[{code, description}]`, or `<errors><error>…`.
pub fn errors(code: u16, description: &str) -> Value {
    serde_json::json!([{"code": code, "description": description}])
}

/// `open` or `closed`, the only statuses plain GeoReport knows. A report the
/// city has answered counts as closed (it may reopen if the resident refutes).
pub fn plain_status(status: ReportStatus) -> &'static str {
    match status {
        ReportStatus::Resolved
        | ReportStatus::Confirmed
        | ReportStatus::Closed
        | ReportStatus::Rejected
        | ReportStatus::Duplicate => "closed",
        _ => "open",
    }
}

/// mySociety's extended status for a report's status.
pub fn extended_status(status: ReportStatus) -> &'static str {
    match status {
        ReportStatus::Moderation => "for_triage",
        ReportStatus::Assigned => "open",
        ReportStatus::InProgress => "in_progress",
        ReportStatus::Paused => "action_scheduled",
        ReportStatus::Returned => "internal_referral",
        ReportStatus::Reopened => "reopen",
        ReportStatus::Resolved | ReportStatus::Confirmed => "fixed",
        ReportStatus::Closed => "closed",
        ReportStatus::Rejected => "no_further_action",
        ReportStatus::Duplicate => "duplicate",
    }
}

/// `YYYY-MM-DDTHH:MM:SS±HH:MM` in the city's time zone, from a UTC time.
pub fn format_datetime(utc: NaiveDateTime, zone: Tz) -> String {
    zone.from_utc_datetime(&utc)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// A W3C/RFC 3339 datetime from a query or form (fractional seconds and a
/// space for `T` allowed; the offset required), as UTC.
pub fn parse_query_datetime(field: &str, text: &str) -> Result<NaiveDateTime, String> {
    parse_datetime(text)
        .map(|t| t.with_timezone(&Utc).naive_utc())
        .ok_or_else(|| format!("{field}: '{text}' is not a date and time with an offset, like 2026-03-02T09:00:00+03:00"))
}

/// The pairs of a form body, in order, keys and values decoded.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map_err(|e| format!("the form body cannot be read: {e}"))
}

/// The first non-empty value of `key`; an empty value counts as absent.
pub fn form_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .find(|v| !v.is_empty())
}

/// `attribute[CODE]=v` and `attribute[CODE][]=v` (repeated for lists) as
/// answers by code: one value stays text, several become a list.
pub fn form_attributes(pairs: &[(String, String)]) -> BTreeMap<String, RawAnswer> {
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut listed: Vec<String> = Vec::new();
    for (key, value) in pairs {
        let Some(rest) = key.strip_prefix("attribute[") else {
            continue;
        };
        let (code, is_list) = match rest.strip_suffix("][]") {
            Some(code) => (code, true),
            None => match rest.strip_suffix(']') {
                Some(code) => (code, false),
                None => continue,
            },
        };
        if is_list && !listed.iter().any(|c| c == code) {
            listed.push(code.to_string());
        }
        values
            .entry(code.to_string())
            .or_default()
            .push(value.clone());
    }
    values
        .into_iter()
        .map(|(code, mut v)| {
            let answer = if v.len() == 1 && !listed.contains(&code) {
                RawAnswer::Text(v.remove(0))
            } else {
                RawAnswer::List(v)
            };
            (code, answer)
        })
        .collect()
}

/// The current time as a discovery `changeset`.
pub fn changeset(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn suffixes_split_on_the_last_dot() {
        assert_eq!(
            Format::split("services.json"),
            Some(("services", Format::Json))
        );
        assert_eq!(Format::split("a.b.xml"), Some(("a.b", Format::Xml)));
        assert_eq!(Format::split("services.html"), None);
        assert_eq!(Format::split("services"), None);
    }

    #[test]
    fn xml_follows_the_spark_mapping() {
        let value = json!([{"service_request_id": "7", "lat": 55.7, "address": "Тверская <1> & Co",
            "media_url": null, "metadata": true, "notes": [{"type": "opened"}]}]);
        assert_eq!(
            to_xml("service_requests", &value),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request><service_request_id>7</service_request_id>\
             <lat>55.7</lat><address>Тверская &lt;1&gt; &amp; Co</address><media_url></media_url><metadata>true</metadata>\
             <notes><note><type>opened</type></note></notes></request></service_requests>"
        );
        assert_eq!(
            to_xml("errors", &errors(403, "no key")),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error><code>403</code><description>no key</description></error></errors>"
        );
    }

    #[test]
    fn form_attributes_take_both_bracket_styles() {
        let pairs = parse_form(b"service_code=pothole&attribute%5Bsize%5D=large&attribute[kinds][]=a&attribute[kinds][]=b&attribute[one][]=x&x=1").unwrap();
        let attributes = form_attributes(&pairs);
        assert_eq!(attributes["size"], RawAnswer::Text("large".into()));
        assert_eq!(
            attributes["kinds"],
            RawAnswer::List(vec!["a".into(), "b".into()])
        );
        assert_eq!(attributes["one"], RawAnswer::List(vec!["x".into()]));
        assert_eq!(form_value(&pairs, "service_code"), Some("pothole"));
        assert_eq!(form_value(&[("status".into(), " ".into())], "status"), None);
    }

    #[test]
    fn datetimes_go_out_in_the_citys_zone_and_come_in_in_many_forms() {
        let utc =
            NaiveDateTime::parse_from_str("2026-03-02 06:00:00.123456", "%Y-%m-%d %H:%M:%S%.f")
                .unwrap();
        assert_eq!(
            format_datetime(utc, chrono_tz::Europe::Moscow),
            "2026-03-02T09:00:00+03:00"
        );
        for text in [
            "2026-03-02T09:00:00+03:00",
            "2026-03-02 09:00:00+03:00",
            "2026-03-02T06:00:00Z",
            "2026-03-02T01:00:00.000000-05:00",
        ] {
            assert_eq!(
                parse_query_datetime("start_date", text).unwrap(),
                utc.with_nanosecond(0).unwrap(),
                "{text}"
            );
        }
        assert!(parse_query_datetime("start_date", "2026-03-02T09:00:00")
            .unwrap_err()
            .contains("start_date"));
    }

    use chrono::Timelike;
}
