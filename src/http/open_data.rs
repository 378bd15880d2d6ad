//! Open data over HTTP: published reports in bulk as CSV and GeoJSON,
//! filtered by period (`from`, `to`: local days), district (`area`) and
//! category, streamed page by page as the client reads (memory stays flat
//! however many there are); the daily dump (everything up to the start of
//! the city's day, the same for everyone all day, cacheable until the
//! next); and the page with the data dictionary.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use bytes::Bytes;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::{public_read, ApiError, AppState};
use crate::app::open_data::{self, Filter, Wanted};
use crate::reports::open_data::Record;

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    from: Option<String>,
    to: Option<String>,
    area: Option<String>,
    category: Option<String>,
}

fn day(field: &str, text: Option<String>) -> Result<Option<chrono::NaiveDate>, ApiError> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| crate::reports::ValidationError::not_a_date(field, t).into()),
    }
}

fn wanted(query: ExportQuery) -> Result<Wanted, ApiError> {
    let filled = |t: Option<String>| t.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    Ok(Wanted {
        from: day("from", query.from)?,
        to: day("to", query.to)?,
        area: filled(query.area),
        category: filled(query.category),
    })
}

/// The formats.
#[derive(Debug, Clone, Copy)]
enum Format {
    Csv,
    GeoJson,
}

fn time(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn opt_time(at: Option<NaiveDateTime>) -> String {
    at.map(time).unwrap_or_default()
}

fn csv_page(records: &[Record], now: NaiveDateTime, header_row: bool) -> Result<Bytes, ApiError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| ApiError::Internal(Box::new(e));
    if header_row {
        let names: Vec<&str> = crate::reports::open_data::DICTIONARY
            .iter()
            .map(|(name, ..)| *name)
            .collect();
        out.write_record(&names).map_err(internal)?;
    }
    for r in records {
        out.write_record([
            r.number.to_string(),
            super::export::inert(r.category.clone()),
            super::export::inert(r.department.clone().unwrap_or_default()),
            super::export::inert(r.district.clone().unwrap_or_default()),
            r.status.clone(),
            time(r.filed_at),
            opt_time(r.answered_at),
            opt_time(r.closed_at),
            opt_time(r.answer_due_at),
            r.answered_on_time(now)
                .map(|b| b.to_string())
                .unwrap_or_default(),
            r.lat.to_string(),
            r.lon.to_string(),
            super::export::inert(r.address.clone().unwrap_or_default()),
            r.supporters.to_string(),
        ])
        .map_err(internal)?;
    }
    out.into_inner()
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(Box::new(e.into_error())))
}

fn geojson_page(records: &[Record], now: NaiveDateTime, first: bool) -> Result<Bytes, ApiError> {
    let mut out = String::new();
    for (i, r) in records.iter().enumerate() {
        if !(first && i == 0) {
            out.push(',');
        }
        let feature = serde_json::json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
            "properties": {
                "number": r.number,
                "category": r.category,
                "department": r.department,
                "district": r.district,
                "status": r.status,
                "filed_at": time(r.filed_at),
                "answered_at": r.answered_at.map(time),
                "closed_at": r.closed_at.map(time),
                "answer_due_at": r.answer_due_at.map(time),
                "answered_on_time": r.answered_on_time(now),
                "address": r.address,
                "supporters": r.supporters,
            }
        });
        out.push_str(
            &serde_json::to_string(&feature).map_err(|e| ApiError::Internal(Box::new(e)))?,
        );
        out.push('\n');
    }
    Ok(Bytes::from(out))
}

/// Where the stream is.
enum Step {
    /// Nothing sent yet.
    Start,
    /// Sent up to this number; whether a record went out already.
    After(i64, bool),
    /// Only the closing part is left.
    Tail,
    Done,
}

fn respond(state: web::Data<AppState>, filter: Filter, format: Format, name: &str) -> HttpResponse {
    let now = state.clock.now();
    let pages = futures_util::stream::unfold(Step::Start, move |step| {
        let (state, filter) = (state.clone(), filter.clone());
        async move {
            let (after, sent_any) = match step {
                Step::Done => return None,
                Step::Tail => {
                    let tail = match format {
                        Format::Csv => Bytes::new(),
                        Format::GeoJson => Bytes::from_static(b"]}\n"),
                    };
                    return Some((Ok(tail), Step::Done));
                }
                Step::Start => {
                    let head = match format {
                        Format::Csv => csv_page(&[], now, true),
                        Format::GeoJson => Ok(Bytes::from_static(
                            b"{\"type\":\"FeatureCollection\",\"features\":[\n",
                        )),
                    };
                    return Some((head, Step::After(0, false)));
                }
                Step::After(after, sent_any) => (after, sent_any),
            };
            let page = public_read(&state, move |conn| {
                Ok(open_data::page(conn, &filter, after)?)
            })
            .await;
            match page {
                Err(e) => Some((Err(e), Step::Done)),
                Ok(records) if records.is_empty() => Some((Ok(Bytes::new()), Step::Tail)),
                Ok(records) => {
                    let last = records.last().map_or(after, |r| r.number);
                    let full = records.len() as i64 == open_data::PAGE;
                    let body = match format {
                        Format::Csv => csv_page(&records, now, false),
                        Format::GeoJson => geojson_page(&records, now, !sent_any),
                    };
                    let next = if full {
                        Step::After(last, true)
                    } else {
                        Step::Tail
                    };
                    Some((body, next))
                }
            }
        }
    });
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::GeoJson => "application/geo+json",
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .streaming(pages)
}

async fn export(
    state: web::Data<AppState>,
    query: web::Query<ExportQuery>,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let wanted = wanted(query.into_inner())?;
    let app = state.services.clone();
    let filter = public_read(&state, move |conn| {
        Ok(open_data::resolve(&app, conn, &wanted)?)
    })
    .await?;
    let name = match format {
        Format::Csv => "reports.csv",
        Format::GeoJson => "reports.geojson",
    };
    Ok(respond(state, filter, format, name))
}

/// `GET /open-data/reports.csv`
pub async fn csv(
    state: web::Data<AppState>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    export(state, query, Format::Csv).await
}

/// `GET /open-data/reports.geojson`
pub async fn geojson(
    state: web::Data<AppState>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    export(state, query, Format::GeoJson).await
}

/// The daily dump: every published report filed before the start of the
/// city's day, named by the day, cacheable until the next one.
async fn daily(state: web::Data<AppState>, format: Format) -> HttpResponse {
    let today = crate::limits::local_day(state.clock.now(), state.time_zone);
    let filter = Filter {
        to: Some(today.start),
        ..Filter::default()
    };
    let day = today
        .start
        .and_utc()
        .with_timezone(&state.time_zone)
        .date_naive();
    let name = match format {
        Format::Csv => format!("reports-{day}.csv"),
        Format::GeoJson => format!("reports-{day}.geojson"),
    };
    let fresh_for = (today.end - state.clock.now()).num_seconds().max(0);
    let mut response = respond(state, filter, format, &name);
    if let Ok(value) = header::HeaderValue::from_str(&format!("public, max-age={fresh_for}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    if let Ok(value) = header::HeaderValue::from_str(&format!("\"{day}\"")) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// `GET /open-data/daily/reports.csv`
pub async fn daily_csv(state: web::Data<AppState>) -> HttpResponse {
    daily(state, Format::Csv).await
}

/// `GET /open-data/daily/reports.geojson`
pub async fn daily_geojson(state: web::Data<AppState>) -> HttpResponse {
    daily(state, Format::GeoJson).await
}
