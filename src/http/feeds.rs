//! Atom feeds (RFC 4287), in the request's language: new and updated
//! published reports of the city, a district, a category or a circle
//! around a point (`/feeds/reports.atom`, `app::feeds`), and one report's
//! public history (`/reports/{number}/feed.atom`). The pages name them in
//! `<link rel="alternate" type="application/atom+xml">`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::html::say;
use super::{public_read, ApiError, AppState};
use crate::app::feeds::{self, Wanted};
use crate::locale::Text;
use crate::reports::alerts::Place;

/// One entry.
struct Entry {
    id: String,
    title: String,
    updated: String,
    published: Option<String>,
    link: String,
    category: Option<(String, String)>,
    summary: String,
}

#[derive(Template)]
#[template(path = "feed.xml")]
struct Feed {
    lang: &'static str,
    id: String,
    title: String,
    updated: String,
    author: String,
    home: String,
    page: String,
    entries: Vec<Entry>,
}

fn time(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Text as XML 1.0 may carry it: without the control characters it has
/// no place for.
fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || !c.is_control())
        .collect()
}

impl Feed {
    fn respond(mut self) -> Result<HttpResponse, ApiError> {
        for e in &mut self.entries {
            e.title = xml_text(&e.title);
            e.summary = xml_text(&e.summary);
        }
        let body = self.render().map_err(|e| ApiError::Internal(Box::new(e)))?;
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"))
            .body(body))
    }
}

/// The newest time among the entries, else `now`: a feed has one.
fn latest(entries: &[Entry], now: NaiveDateTime) -> String {
    entries
        .iter()
        .map(|e| e.updated.clone())
        .max()
        .unwrap_or_else(|| time(now))
}

#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    area: Option<String>,
    category: Option<String>,
    lat: Option<String>,
    lon: Option<String>,
    radius_m: Option<String>,
}

fn number(field: &str, text: Option<String>) -> Result<Option<f64>, ApiError> {
    match super::filters::non_empty(text) {
        None => Ok(None),
        Some(t) => t.replace(',', ".").parse::<f64>().map(Some).map_err(|_| {
            ApiError::invalid(
                field,
                Text::new(
                    format!("«{t}» — не число"),
                    format!("'{t}' is not a number"),
                ),
            )
        }),
    }
}

impl FeedQuery {
    fn wanted(self) -> Result<Wanted, ApiError> {
        let area = super::filters::non_empty(self.area);
        let point = (number("lat", self.lat)?, number("lon", self.lon)?);
        let radius = number("radius_m", self.radius_m)?;
        let place = match (&area, point) {
            (None, (None, None)) => None,
            _ => Some(Place::parse(area, point, radius)?),
        };
        Ok(Wanted {
            place,
            category: super::filters::non_empty(self.category),
        })
    }
}

/// `GET /feeds/reports.atom?area=&category=&lat=&lon=&radius_m=`: new and
/// updated published reports, the most recently changed first.
pub async fn reports(
    state: web::Data<AppState>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let wanted = query.into_inner().wanted()?;
    let app = state.services.clone();
    let feed = public_read(&state, move |conn| Ok(feeds::reports(&app, conn, &wanted)?)).await?;
    let lang = super::requests::language();
    let texts = super::i18n::texts(lang);
    let base = &state.public_url;
    let entries: Vec<Entry> = feed
        .reports
        .iter()
        .map(|listing| {
            let r = &listing.report;
            let category = crate::locale::pick(
                lang.code(),
                &listing.category.name_ru,
                &listing.category.name_en,
            );
            let link = format!("{base}/reports/{}", r.number);
            let place = r.address.clone().unwrap_or_default();
            Entry {
                id: link.clone(),
                title: format!("№ {} · {category} — {}", r.number, texts.status(&r.status)),
                updated: time(r.updated_at),
                published: Some(time(r.moderated_at.unwrap_or(r.created_at))),
                link,
                category: Some((listing.category.code.clone(), category.to_string())),
                summary: [place.as_str(), r.description.as_str()]
                    .iter()
                    .filter(|t| !t.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" — "),
            }
        })
        .collect();
    let about: Vec<String> = feed.about.iter().map(|t| t.get(lang).to_string()).collect();
    let title = match about.is_empty() {
        true => say("Новые и изменённые обращения", "New and updated reports"),
        false => say(
            format!("Новые и изменённые обращения: {}", about.join(", ")),
            format!("New and updated reports: {}", about.join(", ")),
        ),
    };
    let here = super::requests::here();
    Feed {
        lang: lang.code(),
        id: format!("{base}{here}"),
        updated: latest(&entries, state.clock.now()),
        title: format!("{title} — {}", texts.site),
        author: texts.site.to_string(),
        home: format!("{base}/"),
        page: format!("{base}/"),
        entries,
    }
    .respond()
}

/// `GET /reports/{number}/feed.atom`: one published report's public
/// history, the newest first.
pub async fn report(
    state: web::Data<AppState>,
    request: HttpRequest,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let missing = Text::new(
        format!("нет сообщения № {number}"),
        format!("there is no report № {number}"),
    );
    let n: i64 = number
        .trim()
        .parse()
        .map_err(|_| ApiError::NotFound(missing.clone()))?;
    let id = super::read(&state, &request, move |conn| {
        Ok(crate::app::reports::id_of_number(conn, n)?)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(missing.clone()))?;
    let view = super::reports::public_view(&state, &request, id)
        .await?
        .filter(|v| !crate::reports::open_data::UNPUBLISHED.contains(&v.status.as_str()))
        .ok_or(ApiError::NotFound(missing))?;
    let lang = super::requests::language();
    let texts = super::i18n::texts(lang);
    let base = &state.public_url;
    let link = format!("{base}/reports/{n}");
    let mut entries: Vec<Entry> = view
        .history
        .iter()
        .filter(|e| !e.internal)
        .map(|e| {
            let said = e.text.pick(lang.code()).to_string();
            Entry {
                id: format!("urn:uuid:{}", e.id),
                title: said.clone(),
                updated: time(e.at),
                published: None,
                link: link.clone(),
                category: None,
                summary: e.note.clone().unwrap_or(said),
            }
        })
        .collect();
    entries.reverse();
    let category = view.category.name.pick(lang.code()).to_string();
    Feed {
        lang: lang.code(),
        id: format!("{link}/feed.atom"),
        updated: latest(&entries, view.updated_at),
        title: format!("№ {n} · {category} — {}", texts.site),
        author: texts.site.to_string(),
        home: format!("{base}/"),
        page: link,
        entries,
    }
    .respond()
}
