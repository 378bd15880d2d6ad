//! Query parameters shared by the report list and the map: parsed into a
//! `ReportFilter`, each bad one named in a 400.

use crate::locale::Text;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use super::ApiError;
use crate::app::reports::{ReportFilter, Wanted};
use crate::open311::parse_query_datetime;
use crate::reports::ReportStatus;

/// `status`, `category` and `department` take comma-separated lists; `from`
/// and `to` bound the filing time (a date, or a date and time with offset;
/// `to` is exclusive, a bare date means its whole day in UTC); `bbox` is
/// `min_lon,min_lat,max_lon,max_lat`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// Statuses, comma-separated (moderation, assigned, in_progress, paused,
    /// resolved, confirmed, closed, rejected, duplicate, returned, reopened)
    #[param(schema_with = super::contract::query_statuses)]
    pub status: Option<String>,
    /// Category codes, comma-separated
    pub category: Option<String>,
    /// Department codes, comma-separated
    pub department: Option<String>,
    /// min_lon,min_lat,max_lon,max_lat
    #[param(schema_with = super::contract::query_bbox)]
    pub bbox: Option<String>,
    /// Filed at or after: a date (YYYY-MM-DD) or an RFC 3339 time
    #[param(schema_with = super::contract::query_date_or_time)]
    pub from: Option<String>,
    /// Filed before: a date (its whole day) or an RFC 3339 time
    #[param(schema_with = super::contract::query_date_or_time)]
    pub to: Option<String>,
}

impl FilterParams {
    /// Checks everything that needs no database; the codes are resolved
    /// by the use case (`app::reports::resolve`).
    pub fn into_wanted(self) -> Result<Wanted, ApiError> {
        let statuses = list(self.status)
            .iter()
            .map(|s| s.parse::<ReportStatus>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::invalid("status", e.text()))?;
        let bbox = non_empty(self.bbox)
            .map(|b| parse_bbox("bbox", &b))
            .transpose()?;
        let created_from = non_empty(self.from)
            .map(|t| parse_bound("from", &t, false))
            .transpose()?;
        let created_before = non_empty(self.to)
            .map(|t| parse_bound("to", &t, true))
            .transpose()?;
        Ok(Wanted {
            filter: ReportFilter {
                statuses,
                bbox,
                created_from,
                created_before,
                ..ReportFilter::default()
            },
            category_codes: list(self.category),
            department_codes: list(self.department),
        })
    }
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A whole number from 1 to `max`, or `default` when absent.
pub fn parse_count(
    field: &str,
    value: Option<String>,
    default: i64,
    max: i64,
) -> Result<i64, ApiError> {
    let Some(text) = non_empty(value) else {
        return Ok(default);
    };
    match text.parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid(
            field,
            Text::new(
                format!("должно быть целым числом от 1 до {max}, а не «{text}»"),
                format!("must be a whole number from 1 to {max}, got '{text}'"),
            ),
        )),
    }
}

/// `min_lon,min_lat,max_lon,max_lat` in degrees.
pub fn parse_bbox(field: &str, text: &str) -> Result<(f64, f64, f64, f64), ApiError> {
    let invalid = |(why_ru, why_en): (&str, &str)| {
        ApiError::invalid(
            field,
            Text::new(
                format!(
                    "нужно min_lon,min_lat,max_lon,max_lat в градусах ({why_ru}), а не «{text}»"
                ),
                format!(
                    "must be min_lon,min_lat,max_lon,max_lat in degrees ({why_en}), got '{text}'"
                ),
            ),
        )
    };
    let numbers = text
        .split(',')
        .map(|n| n.trim().parse::<f64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| invalid(("четыре числа", "four numbers")))?;
    let [min_lon, min_lat, max_lon, max_lat] = numbers[..] else {
        return Err(invalid(("четыре числа", "four numbers")));
    };
    check_box(min_lon, min_lat, max_lon, max_lat).map_err(invalid)?;
    Ok((min_lon, min_lat, max_lon, max_lat))
}

/// Whether a box is on the Earth and the right way round.
pub fn check_box(
    min_lon: f64,
    min_lat: f64,
    max_lon: f64,
    max_lat: f64,
) -> Result<(), (&'static str, &'static str)> {
    let lon_ok = |v: f64| v.is_finite() && (-180.0..=180.0).contains(&v);
    let lat_ok = |v: f64| v.is_finite() && (-90.0..=90.0).contains(&v);
    if !(lon_ok(min_lon) && lon_ok(max_lon) && lat_ok(min_lat) && lat_ok(max_lat)) {
        return Err((
            "долготы в пределах ±180, широты в пределах ±90",
            "longitudes within ±180, latitudes within ±90",
        ));
    }
    if min_lon > max_lon || min_lat > max_lat {
        return Err((
            "каждый минимум не больше своего максимума",
            "each minimum no larger than its maximum",
        ));
    }
    Ok(())
}

/// A date (its start, or for an exclusive end the start of the next day) or
/// a datetime with offset, as UTC.
fn parse_bound(field: &str, text: &str, end: bool) -> Result<NaiveDateTime, ApiError> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = if end {
            day.succ_opt().unwrap_or(day)
        } else {
            day
        };
        return Ok(day.and_time(chrono::NaiveTime::MIN));
    }
    parse_query_datetime(field, text).map_err(|_| {
        ApiError::invalid_as(
            field,
            "not_a_date",
            Text::new(
                format!("«{text}» — не дата (ГГГГ-ММ-ДД) и не дата и время со смещением, вроде 2026-03-02T09:00:00+03:00"),
                format!("'{text}' is not a date (YYYY-MM-DD) nor a date and time with an offset, like 2026-03-02T09:00:00+03:00"),
            ),
        )
    })
}

/// A queue's page as asked for (the mail outbox, deliveries): its state,
/// `pending`, `sent` or `dead` (default: the dead letters), and how many
/// (default 100, at most 1,000).
pub fn queue_page(
    status: Option<String>,
    limit: Option<String>,
) -> Result<(String, i64), ApiError> {
    let status = status.unwrap_or_else(|| "dead".into());
    if !["pending", "sent", "dead"].contains(&status.as_str()) {
        return Err(ApiError::invalid(
            "status",
            crate::locale::Text::new(
                format!("«{status}» — не pending, не sent и не dead"),
                format!("'{status}' is not one of pending, sent, dead"),
            ),
        ));
    }
    Ok((status, parse_count("limit", limit, 100, 1000)?))
}
