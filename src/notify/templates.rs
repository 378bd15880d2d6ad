//! The words of every email, in Russian and English, plain text and HTML
//! (from the askama templates `templates/email/message.{txt,html}`).
//! A message is rendered when it is sent, from what its outbox row keeps:
//! the template (the event that caused it), the recipient's language and a
//! payload (the report's number and id, its deadline, the event's note, and
//! for a digest its lists). Every message carries the report's number and
//! link, its current deadline when it has one, and the one-click
//! unsubscribe links. Pure: no database, no transport.

use askama::Template;
use chrono::NaiveDateTime;
use serde_json::Value;

use super::dates::StepDate;
pub use crate::locale::Locale;
use crate::sla::schedule::Stage;

/// Everything a message is made of besides its row.
pub struct Context<'a> {
    pub template: &'a str,
    pub locale: Locale,
    pub payload: &'a Value,
    /// The city's time zone, for the deadlines shown.
    pub time_zone: chrono_tz::Tz,
    /// Base of the links, without a trailing slash.
    pub public_url: &'a str,
    /// One-click unsubscribe links: from this report (when the message is
    /// about one) and from everything.
    pub unsubscribe_report: Option<String>,
    pub unsubscribe_all: String,
    /// The recipient's page to confirm or refute an answer (answers and
    /// check reminders).
    pub check_link: Option<String>,
    /// The one-time link of an account email (verify the address, reset
    /// the password).
    pub account_link: Option<String>,
    /// An area alert's link that ends it.
    pub unsubscribe_alert: Option<String>,
    /// A mail-only department's page for a report handed to it.
    pub office_link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a template says: the subject's tail and the opening sentence.
struct Words {
    subject: &'static str,
    opening: &'static str,
}

fn words(template: &str, locale: Locale) -> Words {
    let (ru, en) = match template {
        "verify_email" => (
            ("подтвердите адрес", "Чтобы завершить регистрацию, откройте ссылку ниже. Она действует 48 часов. Если вы не регистрировались, ничего делать не нужно."),
            ("confirm your address", "To finish registering, open the link below. It works for 48 hours. If you did not register, there is nothing to do."),
        ),
        "reset_password" => (
            ("смена пароля", "Чтобы задать новый пароль, откройте ссылку ниже. Она действует 1 час и один раз. Если вы не просили сменить пароль, ничего делать не нужно."),
            ("password reset", "To set a new password, open the link below. It works once, for 1 hour. If you did not ask for this, there is nothing to do."),
        ),
        "confirm_report" => (
            ("подтвердите обращение", "Чтобы обращение было опубликовано и передано исполнителю, откройте ссылку ниже и подтвердите его. Ссылка действует 72 часа. Если вы ничего не отправляли, ничего делать не нужно."),
            ("confirm your report", "To have your report published and sent to the department responsible, open the link below and confirm it. The link works for 72 hours. If you sent nothing, there is nothing to do."),
        ),
        "confirm_support" => (
            ("подтвердите «у меня то же»", "Чтобы присоединиться к обращению и получать новости о нём, откройте ссылку ниже и подтвердите. Ссылка действует 72 часа. Если вы ничего не отправляли, ничего делать не нужно."),
            ("confirm your “me too”", "To join the report and hear about every change, open the link below and confirm. The link works for 72 hours. If you sent nothing, there is nothing to do."),
        ),
        "confirm_follow" => (
            ("подтвердите подписку на обращение", "Чтобы следить за обращением и получать письма о каждом его шаге, откройте ссылку ниже и подтвердите. Ссылка действует 72 часа. Если вы ничего не отправляли, ничего делать не нужно."),
            ("confirm you follow the report", "To follow the report and get an email at every step, open the link below and confirm. The link works for 72 hours. If you sent nothing, there is nothing to do."),
        ),
        "confirm_update" => (
            ("подтвердите новость к обращению", "Чтобы ваша новость была добавлена к обращению, откройте ссылку ниже и подтвердите её. Ссылка действует 72 часа. Если вы ничего не отправляли, ничего делать не нужно."),
            ("confirm your update", "To add your update to the report, open the link below and confirm it. The link works for 72 hours. If you sent nothing, there is nothing to do."),
        ),
        "update" => (
            ("новость от жителя", "К обращению добавлена новость:"),
            ("an update from a resident", "A resident added an update to the report:"),
        ),
        "edited" => (
            ("обращение отредактировано модератором", "Модератор изменил опубликованный текст вашего обращения (описание, адрес, фотографию или скрыл имя). Ваш исходный текст сохранён. Причина:"),
            ("edited by a moderator", "A moderator changed what is published of your report (its description, address, a photo, or hid your name). What you wrote is kept. The reason:"),
        ),
        "account_exists" => (
            ("вы уже зарегистрированы", "Кто-то (возможно, вы) пытался зарегистрироваться с этим адресом, но учётная запись уже есть. Если вы забыли пароль, воспользуйтесь восстановлением пароля."),
            ("you are already registered", "Someone (perhaps you) tried to register with this address, but the account already exists. If you forgot your password, reset it."),
        ),
        "filed" => (
            ("принято к рассмотрению", "Ваше обращение зарегистрировано. Мы сообщим о каждом изменении."),
            ("received", "Your report is registered. We will tell you about every change."),
        ),
        "accepted" => (
            ("прошло модерацию", "Обращение прошло модерацию и передано исполнителю."),
            ("accepted", "The report passed moderation and went to the department responsible."),
        ),
        "rejected" => (
            ("отклонено", "Обращение отклонено модератором."),
            ("rejected", "The report was rejected by a moderator."),
        ),
        "marked_duplicate" => (
            ("объединено с другим", "Обращение объединено с другим обращением о той же проблеме; вы будете получать новости по нему."),
            ("merged", "The report was merged into another report of the same problem; you will hear about that one."),
        ),
        "assigned" => (
            ("назначен исполнитель", "Обращение назначено подразделению."),
            ("assigned", "The report was assigned to a department."),
        ),
        "taken" => (
            ("в работе", "Исполнитель взял обращение в работу."),
            ("in progress", "A crew has taken the report in hand."),
        ),
        "paused" => (
            ("приостановлено", "Работа по обращению приостановлена; срок не идёт, пока она стоит."),
            ("paused", "Work on the report is paused; the deadline does not run meanwhile."),
        ),
        "resumed" => (
            ("работа возобновлена", "Работа по обращению возобновлена."),
            ("resumed", "Work on the report has resumed."),
        ),
        "answered" => (
            ("получен ответ", "По обращению дан ответ. Подтвердите, что проблема решена, или опровергните ответ."),
            ("answered", "The city has answered the report. Please confirm the fix or refute it."),
        ),
        "returned" => (
            ("возвращено как ошибочно направленное", "Исполнитель вернул обращение как направленное не по адресу."),
            ("returned as misrouted", "The crew returned the report as misrouted."),
        ),
        "confirmed" => (
            ("решение подтверждено", "Заявитель подтвердил, что проблема решена."),
            ("fix confirmed", "The reporter confirmed the fix."),
        ),
        "refuted" => (
            ("открыто повторно", "Заявитель опроверг ответ; обращение открыто повторно с новым сроком."),
            ("reopened", "The reporter refuted the answer; the report is open again with a new deadline."),
        ),
        "auto_confirmed" => (
            ("решение подтверждено автоматически", "Срок проверки истёк без ответа заявителя; решение считается подтверждённым."),
            ("fix confirmed automatically", "The check window closed without an answer; the fix counts as confirmed."),
        ),
        "closed" => (
            ("закрыто", "Обращение закрыто."),
            ("closed", "The report is closed."),
        ),
        "sla_warning" => (
            ("срок подходит к концу", "Срок по обращению подходит к концу."),
            ("deadline approaching", "The report's deadline is approaching."),
        ),
        "sla_breached" => (
            ("срок нарушен", "Срок по обращению нарушен."),
            ("deadline breached", "The report's deadline has passed."),
        ),
        "escalated" => (
            ("эскалация", "Обращение эскалировано: срок нарушен, и оно передано на уровень выше."),
            ("escalated", "The report is escalated: its deadline passed and it went one level up."),
        ),
        "escalated_by_supervisor" => (
            ("передано на уровень выше", "Руководитель подразделения передал обращение на уровень выше."),
            ("escalated by a supervisor", "The department's supervisor escalated the report one level up."),
        ),
        "check_reminder" => (
            ("подтвердите решение", "Скоро истекает срок, в который можно подтвердить или опровергнуть ответ. Без ответа решение будет считаться подтверждённым."),
            ("please confirm the fix", "The time to confirm or refute the answer ends soon. Without an answer the fix will count as confirmed."),
        ),
        "confirm_alert" => (
            ("подтвердите подписку на новые обращения", "Чтобы получать письма о новых обращениях в выбранном месте, откройте ссылку ниже и подтвердите подписку. Ссылка действует 72 часа. Если вы ни на что не подписывались, ничего делать не нужно."),
            ("confirm your area alert", "To get emails about new reports in the place you chose, open the link below and confirm. The link works for 72 hours. If you did not subscribe, there is nothing to do."),
        ),
        "alert" => (
            ("новое обращение рядом", "В месте, на которое вы подписаны, опубликовано новое обращение."),
            ("a new report in your area", "A new report was published in the place you follow."),
        ),
        "alert_digest" => (
            ("новые обращения за день", "Обращения, опубликованные за день в месте, на которое вы подписаны."),
            ("today's new reports in your area", "The reports published today in the place you follow."),
        ),
        "handover" => (
            ("новое обращение для вашего подразделения", "Городская система передала вашему подразделению обращение. Всё о нём — ниже. Ответить, приостановить работу или вернуть обращение как направленное не по адресу можно по ссылке в конце письма, без учётной записи."),
            ("a new report for your department", "The city's system handed your department a report. Everything about it is below. To answer it, pause work on it or return it as misrouted, open the link at the end of this message; no account is needed."),
        ),
        "digest" => (
            ("сводка по срокам", "Обращения ваших подразделений, срок по которым на исходе или нарушен."),
            ("deadline digest", "Your departments' reports whose deadline is near or has passed."),
        ),
        _ => (
            ("изменение", "Обращение изменилось."),
            ("update", "The report has changed."),
        ),
    };
    let (subject, opening) = match locale {
        Locale::Ru => ru,
        Locale::En => en,
    };
    Words { subject, opening }
}

struct Labels {
    report: &'static str,
    note: &'static str,
    deadline: &'static str,
    moderation_due: &'static str,
    answer_due: &'static str,
    fix_due: &'static str,
    check_until: &'static str,
    resume_on: &'static str,
    link: &'static str,
    open: &'static str,
    fixed: &'static str,
    not_fixed: &'static str,
    leave_report: &'static str,
    leave_all: &'static str,
    at_risk: &'static str,
    breached: &'static str,
    nothing: &'static str,
    summary: &'static str,
    new_reports: &'static str,
    leave_alert: &'static str,
    category: &'static str,
    address: &'static str,
    place: &'static str,
    description: &'static str,
    photo: &'static str,
    office: &'static str,
}

fn labels(locale: Locale) -> Labels {
    match locale {
        Locale::Ru => Labels {
            report: "Обращение №",
            note: "Комментарий",
            deadline: "Срок",
            moderation_due: "Срок модерации",
            answer_due: "Срок ответа",
            fix_due: "Срок устранения",
            check_until: "Подтвердить или опровергнуть ответ можно до",
            resume_on: "Работа возобновится",
            link: "Подробнее",
            open: "Ссылка",
            fixed: "Проблема решена",
            not_fixed: "Проблема не решена",
            leave_report: "Не присылать писем об этом обращении",
            leave_all: "Не присылать никаких писем",
            at_risk: "Срок на исходе",
            breached: "Срок нарушен",
            nothing: "нет",
            summary: "Что и где",
            new_reports: "Новые обращения",
            leave_alert: "Отписаться от этих уведомлений",
            category: "Категория",
            address: "Адрес",
            place: "Координаты",
            description: "Описание",
            photo: "Фото",
            office: "Ответить, приостановить или вернуть",
        },
        Locale::En => Labels {
            report: "Report No.",
            note: "Note",
            deadline: "Deadline",
            moderation_due: "Moderation due",
            answer_due: "Answer due",
            fix_due: "Fix due",
            check_until: "You can confirm or refute the answer until",
            resume_on: "Work resumes on",
            link: "Details",
            open: "Link",
            fixed: "Fixed: confirm",
            not_fixed: "Not fixed: refute",
            leave_report: "No more emails about this report",
            leave_all: "No more emails at all",
            at_risk: "Deadline near",
            breached: "Deadline passed",
            nothing: "none",
            summary: "What and where",
            new_reports: "New reports",
            leave_alert: "Stop these alerts",
            category: "Category",
            address: "Address",
            place: "Position",
            description: "Description",
            photo: "Photo",
            office: "Answer, pause or return",
        },
    }
}

/// The lines of a message: (label, value, is a link).
type Line = (String, String, bool);

/// Renders one message.
pub fn render(context: &Context) -> Rendered {
    let labels = labels(context.locale);
    let words = words(context.template, context.locale);
    let number = context.payload.get("report").and_then(Value::as_i64);
    let subject = match number {
        Some(n) => format!("{} {n}: {}", labels.report, words.subject),
        None => capitalised(words.subject),
    };
    let mut lines: Vec<Line> = Vec::new();
    if let Some(summary) = text(context.payload, "summary") {
        lines.push((labels.summary.into(), summary, false));
    }
    if context.template == "handover" {
        lines.extend(handover_lines(context, &labels));
    }
    if let Some(note) = text(context.payload, "note") {
        lines.push((labels.note.into(), note, false));
    }
    if let Some(date) = step_date(context.payload) {
        let (label, shown) = match date {
            StepDate::Deadline { stage, at } => {
                let label = match stage {
                    Some(Stage::Moderation) => labels.moderation_due,
                    Some(Stage::Answer) => labels.answer_due,
                    Some(Stage::Fix) => labels.fix_due,
                    None => labels.deadline,
                };
                (label, local_time(at, context))
            }
            StepDate::CheckUntil { at } => (labels.check_until, local_time(at, context)),
            StepDate::ResumeOn { on } => (labels.resume_on, context.locale.date(on)),
        };
        lines.push((label.into(), shown, false));
    }
    if let Some(n) = number {
        lines.push((labels.link.into(), report_link(context.public_url, n), true));
    }
    if let Some(link) = &context.office_link {
        lines.push((labels.office.into(), link.clone(), true));
    }
    if let Some(link) = &context.account_link {
        lines.push((labels.open.into(), link.clone(), true));
    }
    if let Some(check) = &context.check_link {
        for (label, answer) in [(labels.fixed, "fixed"), (labels.not_fixed, "not_fixed")] {
            lines.push((
                label.into(),
                format!(
                    "{check}{}answer={answer}",
                    if check.contains('?') { '&' } else { '?' }
                ),
                true,
            ));
        }
    }
    let mut lists: Vec<(String, Vec<(i64, String)>)> = Vec::new();
    if context.template == "digest" {
        for (key, title) in [("at_risk", labels.at_risk), ("breached", labels.breached)] {
            let items = context
                .payload
                .get(key)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| {
                            let n = i.get("report")?.as_i64()?;
                            let due = text(i, "due_at")
                                .and_then(|d| parse_stored(&d))
                                .map(|d| local_time(d, context))
                                .unwrap_or_default();
                            Some((n, due))
                        })
                        .collect()
                })
                .unwrap_or_default();
            lists.push((title.to_string(), items));
        }
    }
    if context.template == "alert_digest" {
        let items = context
            .payload
            .get("reports")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| Some((i.get("report")?.as_i64()?, text(i, "summary")?)))
                    .collect()
            })
            .unwrap_or_default();
        lists.push((labels.new_reports.to_string(), items));
    }
    let mut leave: Vec<(String, String)> = Vec::new();
    if let Some(url) = &context.unsubscribe_alert {
        leave.push((labels.leave_alert.into(), url.clone()));
    }
    if let Some(url) = &context.unsubscribe_report {
        leave.push((labels.leave_report.into(), url.clone()));
    }
    leave.push((labels.leave_all.into(), context.unsubscribe_all.clone()));

    let lists = lists
        .into_iter()
        .map(|(title, items)| {
            let items = items
                .into_iter()
                .map(|(n, due)| (n, due, report_link(context.public_url, n)))
                .collect();
            (title, items)
        })
        .collect();
    let message = Message {
        opening: words.opening,
        lines,
        lists,
        leave,
        nothing: labels.nothing,
        report_label: labels.report,
    };
    let text = TextMessage(&message)
        .render()
        .unwrap_or_else(|e| unreachable!("the text template renders: {e}"));
    let html = message
        .render()
        .unwrap_or_else(|e| unreachable!("the HTML template renders: {e}"));
    Rendered {
        subject,
        text,
        html,
    }
}

/// Everything about a report handed to a mail-only department: its
/// category, address, position, description, answers and photos.
fn handover_lines(context: &Context, labels: &Labels) -> Vec<Line> {
    let payload = context.payload;
    let in_language = |value: Option<&Value>| {
        let key = match context.locale {
            Locale::Ru => "ru",
            Locale::En => "en",
        };
        value
            .and_then(|v| v.get(key).or_else(|| v.get("ru")))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut lines: Vec<Line> = Vec::new();
    if let Some(category) = in_language(payload.get("category")) {
        lines.push((labels.category.into(), category, false));
    }
    if let Some(address) = text(payload, "address") {
        lines.push((labels.address.into(), address, false));
    }
    if let (Some(lat), Some(lon)) = (
        payload.get("lat").and_then(Value::as_f64),
        payload.get("lon").and_then(Value::as_f64),
    ) {
        lines.push((labels.place.into(), format!("{lat:.6}, {lon:.6}"), false));
    }
    if let Some(description) = text(payload, "description") {
        lines.push((labels.description.into(), description, false));
    }
    for answer in payload
        .get("answers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(label), Some(value)) =
            (in_language(answer.get("label")), text(answer, "value"))
        {
            lines.push((label, value, false));
        }
    }
    for url in payload
        .get("photos")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        lines.push((labels.photo.into(), url.to_string(), true));
    }
    lines
}

/// A report in a digest: number, local deadline, link.
type DigestItem = (i64, String, String);

/// A message's body, as the templates `email/message.html` (escaped by
/// askama) and `email/message.txt` show it.
#[derive(Template)]
#[template(path = "email/message.html")]
struct Message {
    opening: &'static str,
    lines: Vec<Line>,
    /// A digest's lists: title, and its reports.
    lists: Vec<(String, Vec<DigestItem>)>,
    /// The unsubscribe links: label, link.
    leave: Vec<(String, String)>,
    nothing: &'static str,
    report_label: &'static str,
}

/// The same message as plain text (no escaping).
#[derive(Template)]
#[template(path = "email/message.txt")]
struct TextMessage<'a>(&'a Message);

impl std::ops::Deref for TextMessage<'_> {
    type Target = Message;

    fn deref(&self) -> &Message {
        self.0
    }
}

/// The public page of a report.
pub fn report_link(public_url: &str, number: i64) -> String {
    format!("{public_url}/reports/{number}")
}

fn text(payload: &Value, key: &str) -> Option<String> {
    payload
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The date a message shows: the payload's `date`, or in messages queued
/// before it was kept, the deadline they carried.
fn step_date(payload: &Value) -> Option<StepDate> {
    if let Some(date) = payload.get("date").filter(|d| !d.is_null()) {
        return serde_json::from_value(date.clone()).ok();
    }
    text(payload, "due_at")
        .or_else(|| text(payload, "answer_due_at"))
        .and_then(|d| parse_stored(&d))
        .map(|at| StepDate::Deadline { stage: None, at })
}

fn parse_stored(stored: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(stored, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// A UTC time as the city's local time in words, e.g. `30 ноября 2026, 18:00`.
fn local_time(utc: NaiveDateTime, context: &Context) -> String {
    let local = utc
        .and_utc()
        .with_timezone(&context.time_zone)
        .naive_local();
    context.locale.date_time(local)
}

fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context<'a>(template: &'a str, locale: Locale, payload: &'a Value) -> Context<'a> {
        Context {
            template,
            locale,
            payload,
            time_zone: chrono_tz::Europe::Moscow,
            public_url: "https://gorod.example",
            unsubscribe_report: Some("https://gorod.example/u/r".into()),
            unsubscribe_all: "https://gorod.example/u/all".into(),
            check_link: None,
            account_link: None,
            unsubscribe_alert: None,
            office_link: None,
        }
    }

    #[test]
    fn a_receipt_names_the_report_its_link_and_its_deadline_in_local_time() {
        let payload = json!({"report": 42,
            "date": {"kind": "deadline", "stage": "answer", "at": "2026-11-30T15:00:00"}});
        let ru = render(&context("filed", Locale::Ru, &payload));
        assert_eq!(ru.subject, "Обращение № 42: принято к рассмотрению");
        assert!(
            ru.text.contains("Срок ответа: 30 ноября 2026, 18:00"),
            "{}",
            ru.text
        );
        assert!(ru.text.contains("https://gorod.example/reports/42"));
        assert!(ru.text.contains("https://gorod.example/u/r"));
        assert!(ru.text.contains("https://gorod.example/u/all"));
        let en = render(&context("filed", Locale::En, &payload));
        assert_eq!(en.subject, "Report No. 42: received");
        assert!(en
            .html
            .contains("<a href=\"https://gorod.example/reports/42\">"));
    }

    #[test]
    fn each_date_is_named_for_what_it_means_and_a_rejection_shows_none() {
        let check =
            json!({"report": 9, "date": {"kind": "check_until", "at": "2026-12-01T09:00:00"}});
        let ru = render(&context("answered", Locale::Ru, &check));
        assert!(
            ru.text
                .contains("Подтвердить или опровергнуть ответ можно до: 1 декабря 2026, 12:00"),
            "{}",
            ru.text
        );
        assert!(!ru.text.contains("Срок"), "{}", ru.text);
        let paused = json!({"report": 9, "date": {"kind": "resume_on", "on": "2026-12-07"}});
        let en = render(&context("paused", Locale::En, &paused));
        assert!(
            en.text.contains("Work resumes on: 7 December 2026"),
            "{}",
            en.text
        );
        let rejected = json!({"report": 9, "date": null, "note": "Не по адресу"});
        let ru = render(&context("rejected", Locale::Ru, &rejected));
        assert!(!ru.text.contains("Срок"), "{}", ru.text);
        // Messages queued before dates were kept still show their deadline.
        let legacy = json!({"report": 9, "answer_due_at": "2026-11-30T15:00:00"});
        let ru = render(&context("filed", Locale::Ru, &legacy));
        assert!(
            ru.text.contains("Срок: 30 ноября 2026, 18:00"),
            "{}",
            ru.text
        );
    }

    #[test]
    fn the_automatic_confirmation_is_named_after_the_status_it_leads_to() {
        let payload = json!({"report": 3});
        assert_eq!(
            render(&context("auto_confirmed", Locale::Ru, &payload)).subject,
            "Обращение № 3: решение подтверждено автоматически"
        );
        assert_eq!(
            render(&context("auto_confirmed", Locale::En, &payload)).subject,
            "Report No. 3: fix confirmed automatically"
        );
    }

    #[test]
    fn notes_are_escaped_in_html_and_kept_in_text() {
        let payload = json!({"report": 7, "note": "<script>alert(1)</script> & co"});
        let message = render(&context("rejected", Locale::En, &payload));
        assert!(message
            .text
            .contains("Note: <script>alert(1)</script> & co"));
        assert!(
            message
                .html
                .contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; co"),
            "{}",
            message.html
        );
        assert!(!message.html.contains("<script>"));
    }

    #[test]
    fn a_digest_lists_reports_at_risk_and_breached() {
        let payload = json!({
            "at_risk": [{"report": 5, "due_at": "2026-11-30T15:00:00"}],
            "breached": [],
        });
        let message = render(&context("digest", Locale::Ru, &payload));
        assert_eq!(message.subject, "Сводка по срокам");
        assert!(message
            .text
            .contains("Обращение № 5 (30 ноября 2026, 18:00): https://gorod.example/reports/5"));
        assert!(message.text.contains("Срок нарушен:\n  нет"));
    }

    #[test]
    fn an_answer_carries_the_links_to_confirm_or_refute_it() {
        let payload = json!({"report": 9, "note": "Яма заделана"});
        let mut answered = context("answered", Locale::Ru, &payload);
        answered.check_link = Some("https://gorod.example/api/v1/check/t".into());
        let message = render(&answered);
        assert!(message
            .text
            .contains("Проблема решена: https://gorod.example/api/v1/check/t?answer=fixed"));
        assert!(message
            .text
            .contains("Проблема не решена: https://gorod.example/api/v1/check/t?answer=not_fixed"));
        assert!(message
            .html
            .contains("<a href=\"https://gorod.example/api/v1/check/t?answer=fixed\">"));
    }
}
