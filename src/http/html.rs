//! The site's frame: what every page knows ([`Ctx`]: its language, who is
//! looking, the city's zone), and the small pages outside the web
//! interface's routes — those the links in emails open (a form to act on
//! the link, or what happened) and the error pages (404, 500) — in the
//! site's layout and the request's language (`requests::language`). From
//! `templates/link.html`, escaped by askama like every page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use chrono::NaiveDateTime;

use super::i18n::{self, Texts};
use super::ApiError;
use crate::locale::{pick, Locale};
use crate::reports::questions::{Datatype, Question};
use crate::workflow::Role;

/// A value a template hands over as it has it: itself, or behind one or
/// two references (askama's loops and `if let` give references).
pub trait Value<T: Copy> {
    fn get(&self) -> T;
}

impl<T: Copy> Value<T> for T {
    fn get(&self) -> T {
        *self
    }
}

impl<T: Copy> Value<T> for &T {
    fn get(&self) -> T {
        **self
    }
}

impl<T: Copy> Value<T> for &&T {
    fn get(&self) -> T {
        ***self
    }
}

pub fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// The logged-in person, for the header.
pub struct NavUser {
    pub email: String,
    pub role: Role,
}

/// What every page knows: the language, who is looking, the CSRF token
/// their forms send, and the city's time zone for the times shown.
pub struct Ctx {
    pub t: &'static Texts,
    pub user: Option<NavUser>,
    pub csrf: Option<String>,
    /// This page's address, for the language switcher to come back to.
    pub here: String,
    pub time_zone: chrono_tz::Tz,
}

impl Ctx {
    /// A time in the city's zone, as people read it.
    pub fn time(&self, at: impl Value<NaiveDateTime>) -> String {
        at.get()
            .and_utc()
            .with_timezone(&self.time_zone)
            .format("%d.%m.%Y %H:%M")
            .to_string()
    }

    /// A coordinate to five decimals (about a metre): as precise as a
    /// phone's location, no more.
    pub fn coordinate(&self, degrees: impl Value<f64>) -> String {
        format!("{:.5}", degrees.get())
    }

    /// A status's colour group.
    pub fn tone(&self, status: &str) -> &'static str {
        tone(status)
    }

    /// A date in words in the page's language: `6 марта 2026`.
    pub fn date(&self, day: impl Value<chrono::NaiveDate>) -> String {
        crate::locale::Locale::parse(self.t.lang).date(day.get())
    }

    pub fn opt_time(&self, at: impl Value<Option<NaiveDateTime>>) -> String {
        at.get().map_or_else(|| "—".into(), |t| self.time(t))
    }

    /// A question's prompt in the page's language.
    pub fn prompt<'a>(&self, q: &'a Question) -> &'a str {
        match (&q.description_en, self.t.lang) {
            (Some(en), "en") if !en.is_empty() => en,
            _ => &q.description,
        }
    }

    /// A choice's name in the page's language.
    pub fn choice<'a>(&self, c: &'a crate::reports::questions::Choice) -> &'a str {
        pick(
            self.t.lang,
            &c.name,
            c.name_en.as_deref().unwrap_or_default(),
        )
    }

    /// Which input a question takes: choice, choices, number, datetime,
    /// text or line.
    pub fn kind(&self, q: &Question) -> &'static str {
        match q.datatype {
            Datatype::Singlevaluelist => "choice",
            Datatype::Multivaluelist => "choices",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::String => "line",
        }
    }

    /// The name in the page's language.
    pub fn name<'a>(&self, ru: &'a str, en: &'a str) -> &'a str {
        pick(self.t.lang, ru, en)
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role == Role::Admin)
    }

    /// Supervisors and admins keep canned answers.
    pub fn keeps_canned(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| matches!(u.role, Role::Supervisor | Role::Admin))
    }

    pub fn is_staff(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| matches!(u.role, Role::Crew | Role::Supervisor | Role::Admin))
    }

    /// The switcher's link to this page in `code`.
    /// (Without this page's `lang=`, which would outrank the choice.)
    pub fn switch_to(&self, code: &str) -> String {
        let back = match self.here.split_once('?') {
            Some((path, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| !pair.starts_with("lang="))
                    .collect();
                match kept.is_empty() {
                    true => path.to_string(),
                    false => format!("{path}?{}", kept.join("&")),
                }
            }
            None => self.here.clone(),
        };
        format!("/lang/{code}?back={}", urlencode(&back))
    }

    /// A percentage, or a dash when there is nothing to count.
    pub fn percent(&self, value: impl Value<Option<f64>>) -> String {
        value
            .get()
            .map_or_else(|| "—".into(), |v| format!("{v:.1} %"))
    }

    pub fn hours(&self, value: impl Value<Option<f64>>) -> String {
        value
            .get()
            .map_or_else(|| "—".into(), |v| format!("{v:.1}"))
    }
}

impl Ctx {
    /// A page's frame for the request being handled, for someone not (yet)
    /// known: in the request's language, with the way back to this address.
    pub fn new(user: Option<NavUser>, csrf: Option<String>, time_zone: chrono_tz::Tz) -> Ctx {
        Ctx {
            t: i18n::texts(super::requests::language()),
            user,
            csrf,
            here: super::requests::here(),
            time_zone,
        }
    }
}

/// The colours statuses are shown in, on the map and in badges: checked,
/// worked on, paused, answered, fixed, turned away.
pub const TONES: [&str; 6] = ["new", "work", "paused", "answered", "done", "off"];

/// A status's colour group (one of [`TONES`]).
pub fn tone(status: &str) -> &'static str {
    match status {
        "moderation" => "new",
        "assigned" | "in_progress" | "returned" | "reopened" => "work",
        "paused" => "paused",
        "resolved" => "answered",
        "confirmed" | "closed" => "done",
        _ => "off",
    }
}

/// These words in the request's language.
pub fn say(ru: impl Into<String>, en: impl Into<String>) -> String {
    match super::requests::language() {
        Locale::Ru => ru.into(),
        Locale::En => en.into(),
    }
}

/// The way to a report's page, in the request's language.
pub fn report_link(number: i64) -> (String, String) {
    (
        format!("/reports/{number}"),
        say(
            format!("Открыть сообщение № {number}"),
            format!("Open report № {number}"),
        ),
    )
}

/// A link's page: a title, then what happened, a link, or one form; in the
/// request's language (build its words with [`say`]).
#[derive(Template)]
#[template(path = "link.html")]
pub struct LinkPage {
    pub ctx: Ctx,
    pub title: String,
    /// What went wrong.
    pub alert: Option<String>,
    /// What happened.
    pub said: Vec<String>,
    /// What the link is about: a report's description, an answer.
    pub quote: Option<String>,
    /// Small print.
    pub notes: Vec<String>,
    /// A link onwards (a report's page) and its words.
    pub link: Option<(String, String)>,
    /// A form with this one button, posted to the same address.
    pub button: Option<String>,
    /// The new-password form.
    pub password_form: bool,
    /// The resident's check form, starting at "not fixed" when `refuting`.
    pub check_form: bool,
    pub refuting: bool,
}

impl Default for LinkPage {
    fn default() -> LinkPage {
        LinkPage {
            // Link and error pages show no times.
            ctx: Ctx::new(None, None, chrono_tz::UTC),
            title: String::new(),
            alert: None,
            said: Vec::new(),
            quote: None,
            notes: Vec::new(),
            link: None,
            button: None,
            password_form: false,
            check_form: false,
            refuting: false,
        }
    }
}

impl LinkPage {
    pub fn titled(title: impl Into<String>) -> LinkPage {
        LinkPage {
            title: title.into(),
            ..LinkPage::default()
        }
    }

    /// A page about report № `number`: titled by it, linking to its page.
    pub fn of_report(number: i64) -> LinkPage {
        LinkPage {
            link: Some(report_link(number)),
            ..LinkPage::titled(say(
                format!("Сообщение № {number}"),
                format!("Report № {number}"),
            ))
        }
    }

    /// The page, answered with `status`.
    pub fn respond(&self, status: StatusCode) -> HttpResponse {
        match self.render() {
            Ok(html) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
                .body(html),
            Err(e) => ApiError::Internal(Box::new(e)).error_response(),
        }
    }
}

/// The page for an error: what went wrong, in the request's language, and
/// the way back to the map.
pub fn error_page(e: &ApiError) -> HttpResponse {
    e.log();
    let locale = super::requests::language();
    let t = i18n::texts(locale);
    let title = match e.status_code() {
        StatusCode::NOT_FOUND => t.not_found_title,
        StatusCode::INTERNAL_SERVER_ERROR | StatusCode::SERVICE_UNAVAILABLE => t.server_error_title,
        _ => t.error_title,
    };
    let message = e.message(locale);
    let mut letters = message.chars();
    let message = letters
        .next()
        .map(|first| first.to_uppercase().chain(letters).collect())
        .unwrap_or(message);
    LinkPage {
        alert: Some(message),
        link: Some(("/".into(), t.to_map.into())),
        ..LinkPage::titled(title)
    }
    .respond(e.status_code())
}
