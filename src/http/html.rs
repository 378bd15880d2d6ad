//! Small bilingual HTML pages for the links in emails (they work without
//! the web interface): a form to act on the link, or what happened.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use super::ApiError;
use crate::notify::templates::escape;

/// A small bilingual page.
pub fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!DOCTYPE html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{0}</title></head><body><h1>{0}</h1>{body}</body></html>",
            escape(title)
        ))
}

pub fn error_page(e: &ApiError) -> HttpResponse {
    page(
        e.status_code(),
        "Не получилось / Something is wrong",
        &format!("<p role=\"alert\">{}</p>", escape(&e.to_string())),
    )
}
