//! Canned answers: texts a department keeps for its frequent answers,
//! rejections and pauses, with placeholders filled for the report at hand
//! — `{number}`, `{address}`, `{deadline}`. Staff choose one and may edit
//! it before sending; what is sent is an ordinary move. Pure.

use super::Action;
use crate::locale::Text;
use crate::reports::{ValidationError, MAX_DESCRIPTION_CHARS};

/// The placeholders a canned text may use.
pub const PLACEHOLDERS: [&str; 3] = ["number", "address", "deadline"];

/// The moves a canned text may be chosen for.
pub const FOR: [Action; 3] = [Action::Answer, Action::Reject, Action::Pause];

/// A canned text, checked: not blank, at most 4,000 characters, only
/// known placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedText(String);

impl CannedText {
    pub fn parse(field: &str, text: &str) -> Result<CannedText, ValidationError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ValidationError::required(field));
        }
        if text.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(ValidationError::too_long(field, MAX_DESCRIPTION_CHARS));
        }
        for name in placeholders(text) {
            if !PLACEHOLDERS.contains(&name) {
                return Err(ValidationError::coded(
                    field,
                    "unknown_placeholder",
                    Text::new(
                        format!("{{{name}}} — неизвестная подстановка; можно {{number}}, {{address}}, {{deadline}}"),
                        format!("{{{name}}} is not a placeholder; use {{number}}, {{address}}, {{deadline}}"),
                    ),
                ));
            }
        }
        Ok(CannedText(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The names between braces in a text.
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
}

/// The moves a canned text is offered for, from their names; at least one.
pub fn parse_actions(field: &str, names: &[String]) -> Result<Vec<Action>, ValidationError> {
    let mut actions = Vec::new();
    for name in names {
        let action = Action::parse(name)
            .filter(|a| FOR.contains(a))
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    Text::new(
                        format!("«{name}» — не answer, reject или pause"),
                        format!("'{name}' is not answer, reject or pause"),
                    ),
                )
            })?;
        if !actions.contains(&action) {
            actions.push(action);
        }
    }
    if actions.is_empty() {
        return Err(ValidationError::required(field));
    }
    Ok(actions)
}

/// What fills the placeholders for one report.
pub struct Facts<'a> {
    pub number: i64,
    pub address: Option<&'a str>,
    /// The current deadline as people read it (in the city's time).
    pub deadline: Option<&'a str>,
}

/// A canned text with the report's facts in place (a missing fact leaves
/// a dash).
pub fn fill(text: &str, facts: &Facts) -> String {
    text.replace("{number}", &facts.number.to_string())
        .replace("{address}", facts.address.unwrap_or("—"))
        .replace("{deadline}", facts.deadline.unwrap_or("—"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_for_the_report() {
        let text = CannedText::parse(
            "body",
            "По обращению № {number} ({address}): работы до {deadline}.",
        )
        .unwrap();
        let facts = Facts {
            number: 17,
            address: Some("ул. Тверская, 12"),
            deadline: None,
        };
        assert_eq!(
            fill(text.as_str(), &facts),
            "По обращению № 17 (ул. Тверская, 12): работы до —."
        );
    }

    #[test]
    fn unknown_placeholders_and_moves_are_refused_naming_the_field() {
        let e = CannedText::parse("body", "Срок {due}").unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("body", "unknown_placeholder"));
        assert_eq!(CannedText::parse("body", " ").unwrap_err().code, "required");
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_actions("actions", &names(&["answer", "pause", "answer"])),
            Ok(vec![Action::Answer, Action::Pause])
        );
        assert!(parse_actions("actions", &names(&["take"])).is_err());
        assert!(parse_actions("actions", &[]).is_err());
    }
}
