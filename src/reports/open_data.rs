//! Open data: what of a report the city publishes in bulk, and its data
//! dictionary. Never personal data: no reporter, no contact, no
//! description (the resident's own words may name people); the address is
//! the published one. A report is published once past moderation and not
//! rejected. Pure.

use chrono::NaiveDateTime;

/// One report as the open data carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub number: i64,
    pub category: String,
    pub department: Option<String>,
    pub district: Option<String>,
    pub status: String,
    pub filed_at: NaiveDateTime,
    pub answered_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub answer_due_at: Option<NaiveDateTime>,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    pub supporters: i32,
}

impl Record {
    /// Whether the answer came by its deadline: unknown while it is not
    /// answered and not yet due; late once due and unanswered.
    pub fn answered_on_time(&self, now: NaiveDateTime) -> Option<bool> {
        match (self.answered_at, self.answer_due_at) {
            (Some(answered), Some(due)) => Some(answered <= due),
            (None, Some(due)) if now > due => Some(false),
            _ => None,
        }
    }
}

/// The columns, in order, with what each means (the data dictionary).
pub const DICTIONARY: [(&str, &str, &str); 14] = [
    ("number", "номер обращения", "the report's public number"),
    ("category", "код категории", "the category's code (GET /api/v1/categories)"),
    ("department", "код подразделения, которому направлено обращение", "the code of the department it is routed to"),
    ("district", "код района", "the district's (service area's) code"),
    ("status", "статус: assigned (назначено), in_progress (в работе), paused (приостановлено), resolved (дан ответ), confirmed (решение подтверждено), closed (закрыто), duplicate (повтор другого), returned (возвращено на распределение), reopened (переоткрыто)", "status: assigned, in_progress, paused, resolved (answered), confirmed (the fix confirmed), closed, duplicate (of another report), returned (back for routing), reopened"),
    ("filed_at", "когда подано (UTC, RFC 3339)", "when it was filed (UTC, RFC 3339)"),
    ("answered_at", "когда дан последний ответ (пусто — ответа нет)", "when it was last answered (empty: not answered)"),
    ("closed_at", "когда закрыто", "when it was closed"),
    ("answer_due_at", "срок ответа с учётом приостановок", "the answer's deadline, pauses counted"),
    ("answered_on_time", "ответ дан в срок: true, false (в том числе просрочено без ответа) или пусто (срок не наступил)", "answered by the deadline: true, false (also overdue and unanswered) or empty (not yet due)"),
    ("latitude", "широта, WGS 84", "latitude, WGS 84"),
    ("longitude", "долгота, WGS 84", "longitude, WGS 84"),
    ("address", "адрес, как опубликован", "the address as published"),
    ("supporters", "сколько жителей поддержали («у меня то же»), включая заявителя", "how many residents support it (\"me too\"), the reporter included"),
];

/// The statuses a published report is not in.
pub const UNPUBLISHED: [&str; 2] = ["moderation", "rejected"];

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> NaiveDateTime {
        NaiveDateTime::default() + chrono::TimeDelta::hours(h)
    }

    #[test]
    fn on_time_is_known_once_answered_or_overdue() {
        let mut r = Record {
            number: 1,
            category: "pothole".into(),
            department: None,
            district: None,
            status: "assigned".into(),
            filed_at: at(0),
            answered_at: None,
            closed_at: None,
            answer_due_at: Some(at(10)),
            lat: 55.7,
            lon: 37.6,
            address: None,
            supporters: 1,
        };
        assert_eq!(r.answered_on_time(at(5)), None);
        assert_eq!(r.answered_on_time(at(11)), Some(false));
        r.answered_at = Some(at(9));
        assert_eq!(r.answered_on_time(at(11)), Some(true));
        r.answered_at = Some(at(12));
        assert_eq!(r.answered_on_time(at(13)), Some(false));
    }

    #[test]
    fn the_dictionary_names_no_personal_field() {
        for (column, ..) in DICTIONARY {
            assert!(!["email", "name", "phone", "description", "reporter"].contains(&column));
        }
    }
}
