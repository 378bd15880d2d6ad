//! The small bilingual pages the links in emails open (they work without
//! the web interface): a form to act on the link, or what happened. From
//! `templates/link.html`, escaped by askama like every page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::ApiError;

/// A link's page: a title, then what happened, a link, or one form.
#[derive(Template, Default)]
#[template(path = "link.html")]
pub struct LinkPage {
    pub title: String,
    /// What went wrong.
    pub alert: Option<String>,
    /// What happened.
    pub said: Vec<String>,
    /// Small print.
    pub notes: Vec<String>,
    pub link: Option<String>,
    /// A form with this one button, posted to the same address.
    pub button: Option<String>,
    /// The new-password form.
    pub password_form: bool,
    /// The resident's check form, starting at "not fixed" when `refuting`.
    pub check_form: bool,
    pub refuting: bool,
}

impl LinkPage {
    pub fn titled(title: impl Into<String>) -> LinkPage {
        LinkPage {
            title: title.into(),
            ..LinkPage::default()
        }
    }

    /// The page, answered with `status`.
    pub fn respond(&self, status: StatusCode) -> HttpResponse {
        match self.render() {
            Ok(html) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(html),
            Err(e) => ApiError::Internal(Box::new(e)).error_response(),
        }
    }
}

pub fn error_page(e: &ApiError) -> HttpResponse {
    LinkPage {
        alert: Some(e.message(super::requests::language())),
        ..LinkPage::titled("Не получилось / Something is wrong")
    }
    .respond(e.status_code())
}
