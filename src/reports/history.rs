//! A report's history in words. An event keeps what it says besides a
//! person's own words as data (`Detail`: the routing rule, the department,
//! a pause's reason and date, the original of a duplicate, an SLA mark);
//! this module says it in Russian or English, with names rather than codes
//! and times in the city's zone. Pure: the names come from the catalogue.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::locale::Locale;
use crate::routing::Route;
use crate::sla::schedule::Stage;

/// What an event says besides a person's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Detail {
    /// The filing's routing.
    Routed(Route),
    /// Assigned to the department with this code.
    Assigned { department: String },
    /// Paused for a reason (`workflow::PauseReason` code) until a date.
    Paused {
        reason: String,
        resume_on: NaiveDate,
    },
    /// Merged into the report with this number.
    Duplicate { of: i64 },
    /// Refuted once more than allowed: a supervisor answers now.
    ToSupervisor { refutations: i32 },
    /// An SLA mark (`sla::schedule::Mark` code) of a stage, due at a moment.
    Mark {
        stage: Stage,
        mark: String,
        due_at: NaiveDateTime,
    },
    /// Made by the department's back office (`source`: `pull`, `push` or
    /// `mail`), not by a person here.
    BackOffice { source: String },
}

impl Detail {
    /// As stored with the event.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// As stored; `None` for nothing or what this version cannot read.
    pub fn from_json(stored: Option<&str>) -> Option<Detail> {
        stored.and_then(|s| serde_json::from_str(s).ok())
    }
}

/// The catalogue's names by code, in both languages.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub departments: HashMap<String, (String, String)>,
    pub areas: HashMap<String, (String, String)>,
    pub categories: HashMap<String, (String, String)>,
}

impl Names {
    fn pick(map: &HashMap<String, (String, String)>, code: &str, locale: Locale) -> String {
        match (map.get(code), locale) {
            (Some((_, en)), Locale::En) if !en.is_empty() => en.clone(),
            (Some((ru, _)), _) => ru.clone(),
            (None, _) => code.to_string(),
        }
    }

    fn department(&self, code: &str, locale: Locale) -> String {
        Self::pick(&self.departments, code, locale)
    }

    fn area(&self, code: &str, locale: Locale) -> String {
        Self::pick(&self.areas, code, locale)
    }

    fn category(&self, code: &str, locale: Locale) -> String {
        Self::pick(&self.categories, code, locale)
    }
}

/// One event as the history shows it.
pub struct Event<'a> {
    pub kind: &'a str,
    pub detail: Option<&'a Detail>,
}

/// Where times are shown: the city's zone.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    pub names: &'a Names,
    pub time_zone: chrono_tz::Tz,
}

/// The event in words, in `locale` (without the person's own words, which
/// the history shows beside it).
pub fn describe(event: &Event, shown: Shown, locale: Locale) -> String {
    let ru = locale == Locale::Ru;
    let say = |r: &str, e: &str| if ru { r.to_string() } else { e.to_string() };
    let names = shown.names;
    let quoted = |name: String| if ru { quote(&name) } else { name };
    match (event.kind, event.detail) {
        ("filed", Some(Detail::Routed(route))) => routed(route, names, locale),
        ("filed", _) => say("Обращение подано", "Report filed"),
        ("supported", _) => say(
            "Житель поддержал обращение",
            "A resident supported the report",
        ),
        ("note", _) => say("Заметка для сотрудников", "Note for staff"),
        ("update", _) => say("Житель добавил новость", "A resident added an update"),
        ("accepted", _) => say(
            "Модератор принял обращение",
            "A moderator accepted the report",
        ),
        ("rejected", _) => say(
            "Модератор отклонил обращение",
            "A moderator rejected the report",
        ),
        ("marked_duplicate", Some(Detail::Duplicate { of })) => say(
            &format!("Объединено с обращением № {of}"),
            &format!("Merged into report No. {of}"),
        ),
        ("marked_duplicate", _) => say(
            "Объединено с другим обращением",
            "Merged into another report",
        ),
        ("assigned", Some(Detail::Assigned { department })) => {
            let name = quoted(names.department(department, locale));
            say(
                &format!("Передано в {name}"),
                &format!("Assigned to {name}"),
            )
        }
        ("assigned", _) => say("Передано подразделению", "Assigned to a department"),
        ("paused", Some(Detail::Paused { reason, resume_on })) => {
            let day = locale.date(*resume_on);
            let why = pause_reason(reason, locale);
            say(
                &format!("Работа приостановлена до {day}: {why}"),
                &format!("Work paused until {day}: {why}"),
            )
        }
        ("paused", Some(Detail::BackOffice { .. })) => say(
            "Подразделение приостановило работу в своей системе",
            "The department paused work in its own system",
        ),
        ("paused", _) => say("Работа приостановлена", "Work paused"),
        ("taken", Some(Detail::BackOffice { .. })) => say(
            "Подразделение взяло обращение в работу в своей системе",
            "The department took the report in hand in its own system",
        ),
        ("answered", Some(Detail::BackOffice { .. })) => say(
            "Подразделение ответило из своей системы",
            "The department answered from its own system",
        ),
        ("returned", Some(Detail::BackOffice { .. })) => say(
            "Подразделение вернуло обращение из своей системы как направленное не по адресу",
            "The department returned the report from its own system as misrouted",
        ),
        ("resumed", Some(Detail::BackOffice { .. })) => say(
            "Подразделение возобновило работу в своей системе",
            "The department resumed work in its own system",
        ),
        ("taken", _) => say(
            "Исполнитель взял обращение в работу",
            "A crew took the report in hand",
        ),
        ("resumed", _) => say("Работа возобновлена", "Work resumed"),
        ("answered", _) => say("Город ответил", "The city answered"),
        ("returned", _) => say(
            "Исполнитель вернул обращение как направленное не по адресу",
            "The crew returned the report as misrouted",
        ),
        ("confirmed", _) => say(
            "Заявитель подтвердил, что проблема решена",
            "The reporter confirmed the fix",
        ),
        ("refuted", Some(Detail::ToSupervisor { refutations })) => say(
            &format!(
                "Заявитель опроверг ответ ({refutations}-й раз); теперь отвечает руководитель"
            ),
            &format!(
                "The reporter refuted the answer (time {refutations}); a supervisor answers now"
            ),
        ),
        ("refuted", _) => say(
            "Заявитель опроверг ответ; обращение снова в работе",
            "The reporter refuted the answer; the report is open again",
        ),
        ("auto_confirmed", _) => say(
            "Срок проверки истёк без ответа заявителя; решение считается подтверждённым",
            "The check window closed without an answer; the fix counts as confirmed",
        ),
        ("closed", _) => say("Обращение закрыто", "Report closed"),
        ("escalated_by_supervisor", _) => say(
            "Руководитель передал обращение на уровень выше",
            "A supervisor escalated the report one level up",
        ),
        (
            kind,
            Some(Detail::Mark {
                stage,
                mark,
                due_at,
            }),
        ) => mark_words(kind, *stage, mark, *due_at, shown, locale),
        (kind, _) => kind.replace('_', " "),
    }
}

/// Why a filing went where it went.
fn routed(route: &Route, names: &Names, locale: Locale) -> String {
    let ru = locale == Locale::Ru;
    let q = |name: String| if ru { quote(&name) } else { name };
    let dept = |code: &str| q(names.department(code, locale));
    let cat = |code: &str| q(names.category(code, locale));
    let place = |code: &str| q(names.area(code, locale));
    match (route, ru) {
        (Route::AreaRoute { area, category, department }, true) => format!(
            "Обращение подано и направлено в {}: в районе {} обращения категории {} ведёт это подразделение",
            dept(department), place(area), cat(category)
        ),
        (Route::AreaRoute { area, category, department }, false) => format!(
            "Filed and sent to {}: in {}, {} reports go to this department",
            dept(department), place(area), cat(category)
        ),
        (Route::Branch { area, category, department, branch }, true) => format!(
            "Обращение подано и направлено в {}: категорию {} ведёт {}, а район {} обслуживает это его подразделение",
            dept(branch), cat(category), dept(department), place(area)
        ),
        (Route::Branch { area, category, department, branch }, false) => format!(
            "Filed and sent to {}: {} reports belong to {}, and this part of it serves {}",
            dept(branch), cat(category), dept(department), place(area)
        ),
        (Route::CategoryDepartment { category, department }, true) => format!(
            "Обращение подано и направлено в {}: за категорией {} закреплено это подразделение",
            dept(department), cat(category)
        ),
        (Route::CategoryDepartment { category, department }, false) => format!(
            "Filed and sent to {}: {} reports go to this department",
            dept(department), cat(category)
        ),
        (Route::Triage { category, department }, true) => format!(
            "Обращение подано и направлено в {}: для категории {} подразделение не назначено, его определит эта служба",
            dept(department), cat(category)
        ),
        (Route::Triage { category, department }, false) => format!(
            "Filed and sent to {}: no department is set for {} reports, so this service decides",
            dept(department), cat(category)
        ),
        (Route::Nowhere { category }, true) => format!(
            "Обращение подано; подразделение для категории {} не назначено",
            cat(category)
        ),
        (Route::Nowhere { category }, false) => format!(
            "Filed; no department is set for {} reports",
            cat(category)
        ),
        (Route::Object { object, department, .. }, true) => format!(
            "Обращение подано и направлено в {}: объект {} на его обслуживании",
            dept(department), quote(object)
        ),
        (Route::Object { object, department, .. }, false) => format!(
            "Filed and sent to {}: {} is this department's to look after",
            dept(department), object
        ),
    }
}

/// A name in Russian quotation marks, unless it carries its own (as in
/// `ГБУ «Жилищник»`).
fn quote(name: &str) -> String {
    if name.contains('«') {
        name.to_string()
    } else {
        format!("«{name}»")
    }
}

/// A pause reason's name.
pub fn pause_reason(code: &str, locale: Locale) -> String {
    let (ru, en) = match code {
        "waiting_for_resident" => ("ждём ответа жителя", "waiting for the resident"),
        "seasonal_work" => ("сезонные работы", "seasonal work"),
        "third_party" => ("работы другой организации", "work by a third party"),
        "procurement" => ("закупка", "procurement"),
        other => (other, other),
    };
    match locale {
        Locale::Ru => ru.into(),
        Locale::En => en.into(),
    }
}

/// An SLA mark: a warning, a breach or an escalation of a stage.
fn mark_words(
    kind: &str,
    stage: Stage,
    mark: &str,
    due_at: NaiveDateTime,
    shown: Shown,
    locale: Locale,
) -> String {
    let (of_stage_ru, stage_en) = match stage {
        Stage::Moderation => ("модерации", "moderation"),
        Stage::Answer => ("ответа", "answer"),
        Stage::Fix => ("устранения", "fix"),
    };
    let local = due_at
        .and_utc()
        .with_timezone(&shown.time_zone)
        .naive_local();
    let at = locale.date_time(local);
    let ru = locale == Locale::Ru;
    if let Some(percent) = mark.strip_prefix("warning_") {
        return if ru {
            format!("Использовано {percent} % срока {of_stage_ru}")
        } else {
            format!("{percent}% of the {stage_en} time used")
        };
    }
    if let Some(level) = mark.strip_prefix("escalation_") {
        let first = level == "1";
        return match (ru, first) {
            (true, true) => {
                format!("Срок {of_stage_ru} нарушен; обращение передано руководителю подразделения")
            }
            (true, false) => {
                format!("Срок {of_stage_ru} нарушен; обращение передано руководству города")
            }
            (false, true) => {
                format!("The {stage_en} deadline passed; the department's supervisors were told")
            }
            (false, false) => {
                format!("The {stage_en} deadline passed; the city's supervisors were told")
            }
        };
    }
    match (kind, ru) {
        (_, true) => format!("Нарушен срок {of_stage_ru}: {at}"),
        (_, false) => format!("The {stage_en} deadline passed: {at}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let pair = |ru: &str, en: &str| (ru.to_string(), en.to_string());
        Names {
            departments: HashMap::from([("roads".into(), pair("Дорожное хозяйство", "Roads"))]),
            areas: HashMap::from([("tverskoy".into(), pair("Тверской", "Tverskoy"))]),
            categories: HashMap::from([("pothole".into(), pair("Яма на дороге", "Pothole"))]),
        }
    }

    fn shown(names: &Names) -> Shown<'_> {
        Shown {
            names,
            time_zone: chrono_tz::Europe::Moscow,
        }
    }

    #[test]
    fn routing_is_told_with_names_not_codes() {
        let names = names();
        let route = Detail::Routed(Route::AreaRoute {
            area: "tverskoy".into(),
            category: "pothole".into(),
            department: "roads".into(),
        });
        let event = Event {
            kind: "filed",
            detail: Some(&route),
        };
        let ru = describe(&event, shown(&names), Locale::Ru);
        assert_eq!(
            ru,
            "Обращение подано и направлено в «Дорожное хозяйство»: в районе «Тверской» обращения категории «Яма на дороге» ведёт это подразделение"
        );
        let en = describe(&event, shown(&names), Locale::En);
        assert_eq!(
            en,
            "Filed and sent to Roads: in Tverskoy, Pothole reports go to this department"
        );
    }

    #[test]
    fn marks_and_pauses_in_words_and_local_time() {
        let names = names();
        let due = NaiveDate::from_ymd_opt(2026, 3, 2)
            .and_then(|d| d.and_hms_opt(15, 0, 0))
            .expect("a time");
        let breach = Detail::Mark {
            stage: Stage::Answer,
            mark: "breach".into(),
            due_at: due,
        };
        let event = Event {
            kind: "sla_breached",
            detail: Some(&breach),
        };
        assert_eq!(
            describe(&event, shown(&names), Locale::Ru),
            "Нарушен срок ответа: 2 марта 2026, 18:00"
        );
        let pause = Detail::Paused {
            reason: "third_party".into(),
            resume_on: NaiveDate::from_ymd_opt(2026, 3, 20).expect("a date"),
        };
        let event = Event {
            kind: "paused",
            detail: Some(&pause),
        };
        assert_eq!(
            describe(&event, shown(&names), Locale::En),
            "Work paused until 20 March 2026: work by a third party"
        );
    }

    #[test]
    fn details_read_back_as_stored() {
        let detail = Detail::Routed(Route::Nowhere {
            category: "pothole".into(),
        });
        let stored = detail.to_json();
        assert!(stored.contains("\"what\":\"routed\""), "{stored}");
        assert_eq!(Detail::from_json(Some(&stored)), Some(detail));
        assert_eq!(Detail::from_json(Some("{\"what\":\"later\"}")), None);
    }
}
