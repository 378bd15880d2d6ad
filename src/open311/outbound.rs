//! Gorod as an Open311 client of a back office: what a department's
//! endpoint is told (the POST form of a report, its categories and
//! answers mapped to the endpoint's service codes and attributes), and
//! what it answers (the new request's id, or a token to resolve later;
//! its errors), and how the endpoint's statuses read as the workflow's
//! moves. Pure: sending is the outbox's.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::locale::Text;
use crate::workflow::Action;

/// A department's back office, as an admin describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Endpoint {
    /// The base URL, ending before `requests.json`.
    pub url: String,
    pub api_key: String,
    pub jurisdiction: Option<String>,
    /// Gorod's category codes to the endpoint's service codes.
    pub services: BTreeMap<String, String>,
    /// Gorod's question codes to the endpoint's attribute codes (a
    /// question not named goes under its own code).
    pub attributes: BTreeMap<String, String>,
    /// The endpoint's (extended) statuses to the move they make here.
    pub statuses: BTreeMap<String, Action>,
}

/// A report as it is handed over.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Handover {
    pub category: String,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    pub description: String,
    /// Answers to the category's questions, each value as text (a list
    /// as several).
    pub answers: BTreeMap<String, Vec<String>>,
    /// The public URLs of its photos.
    pub photos: Vec<String>,
    /// The report's number here, sent as an attribute so the back office
    /// can name it.
    pub number: i64,
}

/// The attribute that carries the report's number here.
pub const NUMBER_ATTRIBUTE: &str = "gorod_number";

/// The form a report is POSTed as, or why it cannot be: its category has
/// no service code at the endpoint.
pub fn request_form(endpoint: &Endpoint, report: &Handover) -> Result<Vec<(String, String)>, Text> {
    let service = endpoint.services.get(&report.category).ok_or_else(|| {
        Text::new(
            format!(
                "у категории «{}» нет кода услуги в этой системе",
                report.category
            ),
            format!(
                "category '{}' has no service code at this endpoint",
                report.category
            ),
        )
    })?;
    let mut form = vec![
        ("api_key".to_string(), endpoint.api_key.clone()),
        ("service_code".to_string(), service.clone()),
        ("lat".to_string(), format!("{:.6}", report.lat)),
        ("long".to_string(), format!("{:.6}", report.lon)),
        ("description".to_string(), report.description.clone()),
    ];
    if let Some(jurisdiction) = &endpoint.jurisdiction {
        form.push(("jurisdiction_id".to_string(), jurisdiction.clone()));
    }
    if let Some(address) = &report.address {
        form.push(("address_string".to_string(), address.clone()));
    }
    for url in &report.photos {
        form.push(("media_url".to_string(), url.clone()));
    }
    for (question, values) in &report.answers {
        let code = endpoint.attributes.get(question).unwrap_or(question);
        match values.as_slice() {
            [one] => form.push((format!("attribute[{code}]"), one.clone())),
            many => form.extend(
                many.iter()
                    .map(|v| (format!("attribute[{code}][]"), v.clone())),
            ),
        }
    }
    form.push((
        format!("attribute[{NUMBER_ATTRIBUTE}]"),
        report.number.to_string(),
    ));
    Ok(form)
}

/// What the endpoint answered a POST with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The request's id there.
    Id(String),
    /// A token to resolve later (`tokens/{token}.json`).
    Token(String),
    /// Neither (a "blackbox" service): nothing to follow.
    Nothing,
}

/// Reads the answer to a POST (or to `tokens/{token}.json`): an array of
/// one request, or of errors `{code, description}`.
pub fn read_created(body: &str) -> Result<Created, Text> {
    let first = first_item(body)?;
    if let Some(description) = first
        .get("description")
        .filter(|_| first.get("code").is_some())
    {
        let said = description.as_str().unwrap_or_default();
        return Err(Text::new(
            format!("система отказала: {said}"),
            format!("the endpoint refused: {said}"),
        ));
    }
    let text = |key: &str| {
        first
            .get(key)
            .and_then(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    Ok(match (text("service_request_id"), text("token")) {
        (Some(id), _) => Created::Id(id),
        (None, Some(token)) => Created::Token(token),
        (None, None) => Created::Nothing,
    })
}

fn first_item(body: &str) -> Result<serde_json::Map<String, Value>, Text> {
    let not_open311 = |why: &str| {
        Text::new(
            format!("ответ не похож на Open311: {why}"),
            format!("the answer is not Open311: {why}"),
        )
    };
    let value: Value = serde_json::from_str(body).map_err(|e| not_open311(&e.to_string()))?;
    value
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| not_open311("expected an array of objects"))
}

/// A change the endpoint reports on one of its requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Its id at the endpoint (the update's own id for
    /// `servicerequestupdates`, else the request's with its time and
    /// status).
    pub key: String,
    pub service_request_id: String,
    /// The status, lower case.
    pub status: String,
    /// What the back office wrote (`status_notes` or `description`).
    pub notes: Option<String>,
    /// When, as the endpoint wrote it.
    pub updated: String,
    pub media: Vec<String>,
}

/// Reads `GET requests.json` or `GET servicerequestupdates.json`; items
/// that lack an id or a status are skipped.
pub fn read_changes(body: &str) -> Result<Vec<Change>, Text> {
    let value: Value = serde_json::from_str(body).map_err(|e| {
        Text::new(
            format!("ответ не похож на Open311: {e}"),
            format!("the answer is not Open311: {e}"),
        )
    })?;
    let items = value.as_array().cloned().unwrap_or_default();
    Ok(items
        .iter()
        .filter_map(|item| {
            let text = |key: &str| {
                item.get(key)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let id = text("service_request_id")?;
            let status = text("status")?.to_lowercase();
            let updated = text("updated_datetime").unwrap_or_default();
            let media = match item.get("media_url") {
                Some(Value::String(url)) if !url.is_empty() => vec![url.clone()],
                Some(Value::Array(urls)) => urls
                    .iter()
                    .filter_map(|u| u.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            Some(Change {
                // A request read again names the same change by its time
                // and status (times have whole seconds: a move within the
                // same second still differs by its status).
                key: text("update_id").unwrap_or_else(|| format!("{id}@{updated}@{status}")),
                service_request_id: id,
                notes: text("status_notes").or_else(|| text("description")),
                status,
                updated,
                media,
            })
        })
        .collect())
}

/// The move a change makes here, if its status maps to one.
pub fn move_of(endpoint: &Endpoint, change: &Change) -> Option<Action> {
    endpoint.statuses.get(&change.status).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint {
            url: "https://backoffice.example/open311/v2".into(),
            api_key: "key-1".into(),
            jurisdiction: Some("moscow".into()),
            services: [("pothole".to_string(), "ROAD-01".to_string())].into(),
            attributes: [("size".to_string(), "pothole_size".to_string())].into(),
            statuses: [
                ("closed".to_string(), Action::Answer),
                ("fixed".to_string(), Action::Answer),
                ("in_progress".to_string(), Action::Take),
            ]
            .into(),
        }
    }

    #[test]
    fn a_report_is_posted_with_its_service_answers_and_photos() {
        let report = Handover {
            category: "pothole".into(),
            lat: 55.7704,
            lon: 37.6051,
            address: Some("Тверская улица, 12".into()),
            description: "Яма".into(),
            answers: [
                ("size".to_string(), vec!["medium".to_string()]),
                ("kinds".to_string(), vec!["a".to_string(), "b".to_string()]),
            ]
            .into(),
            photos: vec!["https://gorod.example/media/ab.jpg".into()],
            number: 42,
        };
        let form = request_form(&endpoint(), &report).unwrap();
        let has = |k: &str, v: &str| form.iter().any(|(a, b)| a == k && b == v);
        assert!(has("service_code", "ROAD-01"));
        assert!(has("api_key", "key-1"));
        assert!(has("jurisdiction_id", "moscow"));
        assert!(has("lat", "55.770400") && has("long", "37.605100"));
        assert!(has("attribute[pothole_size]", "medium"));
        assert!(has("attribute[kinds][]", "a") && has("attribute[kinds][]", "b"));
        assert!(has("media_url", "https://gorod.example/media/ab.jpg"));
        assert!(has("attribute[gorod_number]", "42"));
        let unmapped = Handover {
            category: "graffiti".into(),
            ..report
        };
        assert!(request_form(&endpoint(), &unmapped)
            .unwrap_err()
            .en()
            .contains("no service code"));
    }

    #[test]
    fn the_answer_gives_an_id_a_token_nothing_or_an_error() {
        assert_eq!(
            read_created(r#"[{"service_request_id":"638344","service_notice":""}]"#),
            Ok(Created::Id("638344".into()))
        );
        assert_eq!(
            read_created(r#"[{"token":"12345"}]"#),
            Ok(Created::Token("12345".into()))
        );
        assert_eq!(
            read_created(r#"[{"service_request_id":638344,"token":"1"}]"#),
            Ok(Created::Id("638344".into()))
        );
        assert_eq!(
            read_created(r#"[{"account_id":null}]"#),
            Ok(Created::Nothing)
        );
        let refused =
            read_created(r#"[{"code":403,"description":"api_key is not valid"}]"#).unwrap_err();
        assert!(refused.en().contains("api_key is not valid"), "{refused:?}");
        assert!(read_created("<html>").is_err());
    }

    #[test]
    fn changes_read_from_requests_and_from_updates_and_map_to_moves() {
        let requests = r#"[
          {"service_request_id":"638344","status":"closed","status_notes":"Заделали","updated_datetime":"2026-03-02T12:00:00+03:00"},
          {"service_request_id":"638345","status":"open","updated_datetime":"2026-03-02T12:05:00+03:00"},
          {"status":"closed"}]"#;
        let changes = read_changes(requests).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].notes.as_deref(), Some("Заделали"));
        assert_eq!(changes[0].key, "638344@2026-03-02T12:00:00+03:00@closed");
        assert_eq!(move_of(&endpoint(), &changes[0]), Some(Action::Answer));
        assert_eq!(move_of(&endpoint(), &changes[1]), None);
        let updates = r#"[{"update_id":"u-9","service_request_id":"638344","status":"IN_PROGRESS",
          "description":"Бригада выехала","updated_datetime":"2026-03-02T10:00:00Z","media_url":["https://x/1.jpg"]}]"#;
        let changes = read_changes(updates).unwrap();
        assert_eq!(changes[0].key, "u-9");
        assert_eq!(changes[0].status, "in_progress");
        assert_eq!(changes[0].media, vec!["https://x/1.jpg"]);
        assert_eq!(move_of(&endpoint(), &changes[0]), Some(Action::Take));
    }
}
