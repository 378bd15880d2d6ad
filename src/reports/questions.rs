//! A category's questions (Open311 service-definition attributes) and the
//! validation of a resident's answers to them.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::ValidationError;
use crate::locale::{Locale, Text};

pub const MAX_STRING_ANSWER_CHARS: usize = 500;
pub const MAX_TEXT_ANSWER_CHARS: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub key: String,
    /// In the city's language (Open311 gives this one).
    pub name: String,
    /// In English, for the English pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
}

/// One question, in the Open311 service-definition shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// False for informational entries that take no answer.
    #[serde(default = "yes")]
    pub variable: bool,
    pub code: String,
    pub datatype: Datatype,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub datatype_description: Option<String>,
    pub order: u32,
    /// The prompt shown to the resident (Russian).
    pub description: String,
    /// The prompt in English.
    #[serde(default)]
    pub description_en: Option<String>,
    #[serde(default)]
    pub values: Vec<Choice>,
}

fn yes() -> bool {
    true
}

/// An answer as it arrives: JSON gives numbers, strings or lists; forms give
/// strings and repeated strings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RawAnswer {
    Number(f64),
    Text(String),
    List(Vec<String>),
}

/// A checked answer, stored and shown as a JSON number, string or list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Number(f64),
    Text(String),
    Choices(Vec<String>),
}

/// What to do with answers to questions the category does not ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownAnswers {
    /// Refuse them (our JSON API: a typo deserves an error).
    Reject,
    /// Drop them (Open311 clients send extra attributes of their own).
    Ignore,
}

/// Checks answers against the questions; the errors name `answers.CODE`
/// (`field_prefix` lets Open311 say `attribute[CODE]`).
pub fn check_answers(
    questions: &[Question],
    raw: BTreeMap<String, RawAnswer>,
    unknown: UnknownAnswers,
    field: impl Fn(&str) -> String,
) -> Result<BTreeMap<String, Answer>, ValidationError> {
    if unknown == UnknownAnswers::Reject {
        if let Some(code) = raw
            .keys()
            .find(|code| !questions.iter().any(|q| q.variable && &q.code == *code))
        {
            return Err(ValidationError::new(
                field(code),
                Text::new(
                    "нет такого вопроса в этой категории",
                    "is not a question of this category",
                ),
            ));
        }
    }
    let mut answers = BTreeMap::new();
    let mut errors = Vec::new();
    let mut ordered: Vec<&Question> = questions.iter().filter(|q| q.variable).collect();
    ordered.sort_by_key(|q| q.order);
    for question in ordered {
        let name = field(&question.code);
        let answer = match raw.get(&question.code).map(|raw| check_one(question, raw)) {
            Some(Err(problem)) => {
                errors.push(ValidationError::new(name, about(question, &problem)));
                continue;
            }
            Some(Ok(answer)) => answer,
            None => None,
        };
        match answer {
            Some(answer) => {
                answers.insert(question.code.clone(), answer);
            }
            None if question.required => errors.push(ValidationError::coded(
                name,
                "required",
                about(question, &Text::new("нужен ответ", "is required")),
            )),
            None => {}
        }
    }
    ValidationError::all(errors)?;
    Ok(answers)
}

/// A problem with an answer, saying which question it answers (its field
/// is a code people do not know).
fn about(question: &Question, problem: &Text) -> Text {
    let en = question
        .description_en
        .as_deref()
        .unwrap_or(&question.description);
    Text::new(
        format!("{}: {}", question.description, problem.get(Locale::Ru)),
        format!("{en}: {}", problem.en()),
    )
}

/// None for an empty answer.
fn check_one(question: &Question, raw: &RawAnswer) -> Result<Option<Answer>, Text> {
    let single = |raw: &RawAnswer| -> Result<Option<String>, Text> {
        match raw {
            RawAnswer::Text(t) => Ok(Some(t.trim().to_string()).filter(|t| !t.is_empty())),
            RawAnswer::Number(n) => Ok(Some(n.to_string())),
            RawAnswer::List(items) => match &items[..] {
                [] => Ok(None),
                [one] => Ok(Some(one.trim().to_string()).filter(|t| !t.is_empty())),
                _ => Err(Text::new(
                    "нужно одно значение, а не список",
                    "takes one value, not a list",
                )),
            },
        }
    };
    let key_of = |value: &str| {
        question
            .values
            .iter()
            .find(|c| c.key == value)
            .map(|c| c.key.clone())
            .ok_or_else(|| {
                let keys: Vec<&str> = question.values.iter().map(|c| c.key.as_str()).collect();
                let keys = keys.join(", ");
                Text::new(
                    format!("«{value}» — не один из вариантов: {keys}"),
                    format!("'{value}' is not one of the choices: {keys}"),
                )
            })
    };
    match question.datatype {
        Datatype::String | Datatype::Text => {
            let Some(text) = single(raw)? else {
                return Ok(None);
            };
            let (limit, one_line) = match question.datatype {
                Datatype::String => (MAX_STRING_ANSWER_CHARS, true),
                _ => (MAX_TEXT_ANSWER_CHARS, false),
            };
            if one_line && text.contains(['\n', '\r']) {
                return Err(Text::new("нужна одна строка", "takes a single line"));
            }
            if text.chars().count() > limit {
                return Err(Text::new(
                    format!("длиннее {limit} символов"),
                    format!("is longer than {limit} characters"),
                ));
            }
            Ok(Some(Answer::Text(text)))
        }
        Datatype::Number => match raw {
            RawAnswer::Number(n) if n.is_finite() => Ok(Some(Answer::Number(*n))),
            _ => {
                let Some(text) = single(raw)? else {
                    return Ok(None);
                };
                match text.replace(',', ".").parse::<f64>() {
                    Ok(n) if n.is_finite() => Ok(Some(Answer::Number(n))),
                    _ => Err(Text::new(
                        format!("«{text}» — не число"),
                        format!("'{text}' is not a number"),
                    )),
                }
            }
        },
        Datatype::Datetime => {
            let Some(text) = single(raw)? else {
                return Ok(None);
            };
            let parsed = parse_datetime(&text).ok_or_else(|| {
                Text::new(
                    format!("«{text}» — не дата и время вида 2026-03-02T09:00:00+03:00"),
                    format!("'{text}' is not a date and time like 2026-03-02T09:00:00+03:00"),
                )
            })?;
            Ok(Some(Answer::Text(
                parsed.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            )))
        }
        Datatype::Singlevaluelist => {
            let Some(value) = single(raw)? else {
                return Ok(None);
            };
            Ok(Some(Answer::Text(key_of(&value)?)))
        }
        Datatype::Multivaluelist => {
            let values: Vec<String> = match raw {
                RawAnswer::List(items) => items
                    .iter()
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect(),
                other => single(other)?.into_iter().collect(),
            };
            let mut keys = Vec::new();
            for value in &values {
                let key = key_of(value)?;
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            Ok(Some(Answer::Choices(keys)).filter(|_| !values.is_empty()))
        }
    }
}

/// RFC 3339 with or without fractional seconds, with `T` or a space; the
/// offset is required.
pub fn parse_datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)))
        .ok()
}

/// Checks that a category's questions are well formed (codes unique, orders
/// unique and positive, lists with choices).
pub fn check_questions(questions: &[Question]) -> Result<(), Text> {
    for (i, q) in questions.iter().enumerate() {
        let code = &q.code;
        if code.trim().is_empty() {
            return Err(Text::new(
                format!("у вопроса {i} нет кода"),
                format!("question {i} has no code"),
            ));
        }
        if questions[..i].iter().any(|p| p.code == q.code) {
            return Err(Text::new(
                format!("код вопроса «{code}» встречается дважды"),
                format!("question code '{code}' appears twice"),
            ));
        }
        if q.order == 0 || questions[..i].iter().any(|p| p.order == q.order) {
            return Err(Text::new(
                format!("вопросу «{code}» нужен свой порядковый номер от 1"),
                format!("question '{code}' needs a unique order from 1"),
            ));
        }
        let is_list = matches!(
            q.datatype,
            Datatype::Singlevaluelist | Datatype::Multivaluelist
        );
        if is_list == q.values.is_empty() {
            return Err(Text::new(
                format!("вопрос «{code}»: варианты бывают только у вопросов-списков, и у них они обязательны"),
                format!("question '{code}': only list questions have values, and they must have some"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn questions() -> Vec<Question> {
        serde_json::from_str(
            r#"[
            {"code":"size","datatype":"singlevaluelist","required":true,"order":1,"description":"Размер ямы",
             "values":[{"key":"small","name":"Меньше 30 см"},{"key":"large","name":"Больше 30 см"}]},
            {"code":"depth","datatype":"number","order":2,"description":"Глубина, см"},
            {"code":"seen","datatype":"datetime","order":3,"description":"Когда заметили"},
            {"code":"hazards","datatype":"multivaluelist","order":4,"description":"Опасности",
             "values":[{"key":"cars","name":"Машины"},{"key":"people","name":"Пешеходы"}]},
            {"code":"where","datatype":"string","order":5,"description":"Ориентир"},
            {"code":"info","datatype":"text","variable":false,"order":6,"description":"Справка"}
        ]"#,
        )
        .unwrap()
    }

    fn raw(pairs: &[(&str, RawAnswer)]) -> BTreeMap<String, RawAnswer> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn field(code: &str) -> String {
        format!("answers.{code}")
    }

    #[test]
    fn good_answers_are_normalised() {
        let answers = check_answers(
            &questions(),
            raw(&[
                ("size", RawAnswer::Text("large".into())),
                ("depth", RawAnswer::Text("12,5".into())),
                (
                    "seen",
                    RawAnswer::Text("2026-03-01 18:30:00.25+03:00".into()),
                ),
                (
                    "hazards",
                    RawAnswer::List(vec!["people".into(), "cars".into(), "people".into()]),
                ),
            ]),
            UnknownAnswers::Reject,
            field,
        )
        .unwrap();
        assert_eq!(answers["size"], Answer::Text("large".into()));
        assert_eq!(answers["depth"], Answer::Number(12.5));
        assert_eq!(
            answers["seen"],
            Answer::Text("2026-03-01T18:30:00+03:00".into())
        );
        assert_eq!(
            answers["hazards"],
            Answer::Choices(vec!["people".into(), "cars".into()])
        );
        assert!(!answers.contains_key("where"));
    }

    #[test]
    fn bad_answers_name_their_question() {
        let cases = [
            (raw(&[]), "answers.size", "required"),
            (
                raw(&[("size", RawAnswer::Text("  ".into()))]),
                "answers.size",
                "required",
            ),
            (
                raw(&[("size", RawAnswer::Text("huge".into()))]),
                "answers.size",
                "not one of the choices",
            ),
            (
                raw(&[
                    ("size", RawAnswer::Text("small".into())),
                    ("depth", RawAnswer::Text("deep".into())),
                ]),
                "answers.depth",
                "not a number",
            ),
            (
                raw(&[
                    ("size", RawAnswer::Text("small".into())),
                    ("seen", RawAnswer::Text("2026-03-01T18:30:00".into())),
                ]),
                "answers.seen",
                "date and time",
            ),
            (
                raw(&[
                    ("size", RawAnswer::Text("small".into())),
                    ("hazards", RawAnswer::List(vec!["fire".into()])),
                ]),
                "answers.hazards",
                "not one of",
            ),
            (
                raw(&[
                    ("size", RawAnswer::Text("small".into())),
                    ("where", RawAnswer::Text("a\nb".into())),
                ]),
                "answers.where",
                "single line",
            ),
            (
                raw(&[
                    ("size", RawAnswer::Text("small".into())),
                    ("colour", RawAnswer::Text("red".into())),
                ]),
                "answers.colour",
                "not a question",
            ),
            (
                raw(&[
                    ("size", RawAnswer::Text("small".into())),
                    ("info", RawAnswer::Text("x".into())),
                ]),
                "answers.info",
                "not a question",
            ),
        ];
        for (answers, name, words) in cases {
            let err =
                check_answers(&questions(), answers, UnknownAnswers::Reject, field).unwrap_err();
            assert_eq!(err.field, name, "{err}");
            assert!(err.message.en().contains(words), "{err}");
        }
        // Open311 clients' own extras are dropped, not refused.
        let kept = check_answers(
            &questions(),
            raw(&[
                ("size", RawAnswer::Text("small".into())),
                ("uprn", RawAnswer::Text("123".into())),
            ]),
            UnknownAnswers::Ignore,
            field,
        )
        .unwrap();
        assert_eq!(kept.len(), 1);
    }

    #[test]
    fn malformed_question_lists_are_caught() {
        assert!(check_questions(&questions()).is_ok());
        let mut twice = questions();
        twice[1].code = "size".into();
        assert!(check_questions(&twice).unwrap_err().en().contains("twice"));
        let mut no_values = questions();
        no_values[0].values.clear();
        assert!(check_questions(&no_values).is_err());
    }
}
