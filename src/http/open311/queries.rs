//! Reading service requests: one by number or token, pages under Open311's filters with their photos and history, and the updates between two times.

use super::*;
use crate::locale::Text;

/// `GET /open311/v2/requests/{id}.{fmt}`
pub async fn request(state: web::Data<AppState>, name: web::Path<String>, query: Pairs) -> Answer {
    let (id, format) = split(&name)?;
    let missing = || {
        Open311Error::new(
            format,
            StatusCode::NOT_FOUND,
            format!("there is no service request '{id}'"),
        )
    };
    let number: i64 = id.parse().map_err(|_| missing())?;
    let extensions = flag(&query, "extensions");
    let filter = ReportFilter {
        numbers: vec![number],
        ..ReportFilter::default()
    };
    let page = load_requests(&state, format, filter, 1, 1, extensions).await?;
    if page.is_empty() {
        return Err(missing());
    }
    Ok(respond(format, "service_requests", &Value::Array(page)))
}

/// `GET /open311/v2/tokens/{token}.{fmt}`: a token is the report's id.
pub async fn token(state: web::Data<AppState>, name: web::Path<String>) -> Answer {
    let (token, format) = split(&name)?;
    let missing = || {
        Open311Error::new(
            format,
            StatusCode::NOT_FOUND,
            format!("there is no token '{token}'"),
        )
    };
    let id = uuid::Uuid::parse_str(token)
        .map_err(|_| missing())?
        .to_string();
    let key = id.clone();
    let found = crate::http::public_read(&state, move |conn| Ok(reading::find(conn, &key)?))
        .await
        .map_err(|e| Open311Error::from_api(format, e))?
        .ok_or_else(missing)?;
    let value = json!([{"service_request_id": found.report.number.to_string(), "token": id}]);
    Ok(respond(format, "service_requests", &value))
}

fn param<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    spec::form_value(query, key)
}

fn flag(query: &[(String, String)], key: &str) -> bool {
    param(query, key).is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn datetime(
    format: Format,
    query: &[(String, String)],
    key: &str,
) -> Result<Option<NaiveDateTime>, Open311Error> {
    param(query, key)
        .map(|text| spec::parse_query_datetime(key, text).map_err(|m| Open311Error::bad(format, m)))
        .transpose()
}

fn number(
    format: Format,
    query: &[(String, String)],
    key: &str,
) -> Result<Option<f64>, Open311Error> {
    param(query, key)
        .map(|text| {
            text.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| {
                    Open311Error::bad(format, format!("{key}: '{text}' is not a number"))
                })
        })
        .transpose()
}

/// A window of at most 90 days; either end defaults to 90 days from the other,
/// both to the last 90 days.
fn window(
    format: Format,
    now: NaiveDateTime,
    start: Option<NaiveDateTime>,
    end: Option<NaiveDateTime>,
    default_days: i64,
) -> Result<(NaiveDateTime, NaiveDateTime), Open311Error> {
    let span = TimeDelta::days(MAX_WINDOW_DAYS);
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + span),
        (None, Some(e)) => (e - span, e),
        (None, None) => {
            let end = now + TimeDelta::seconds(1);
            (end - TimeDelta::days(default_days), end)
        }
    };
    if end < start {
        return Err(Open311Error::bad(
            format,
            "end_date: comes before start_date",
        ));
    }
    if end - start > span {
        return Err(Open311Error::bad(
            format,
            format!("end_date: the window may not span more than {MAX_WINDOW_DAYS} days"),
        ));
    }
    Ok((start, end))
}

pub(super) async fn requests(
    state: &web::Data<AppState>,
    format: Format,
    query: &[(String, String)],
) -> Answer {
    let extensions = flag(query, "extensions");
    let page = match param(query, "page") {
        None => 1,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| {
                Open311Error::bad(
                    format,
                    format!("page: '{text}' is not a page number from 1"),
                )
            })?,
    };
    let page_size = match param(query, "page_size") {
        None => MAX_PAGE_SIZE,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|p| (1..=MAX_PAGE_SIZE).contains(p))
            .ok_or_else(|| {
                Open311Error::bad(
                    format,
                    format!("page_size: '{text}' is not a number from 1 to {MAX_PAGE_SIZE}"),
                )
            })?,
    };
    let mut filter = ReportFilter::default();
    if let Some(ids) = param(query, "service_request_id") {
        // The ids override every other filter.
        filter.numbers = ids
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
            .collect();
        if filter.numbers.is_empty() {
            return Ok(respond(format, "service_requests", &json!([])));
        }
    } else {
        let now = state.clock.now();
        let (start, end) = window(
            format,
            now,
            datetime(format, query, "start_date")?,
            datetime(format, query, "end_date")?,
            MAX_WINDOW_DAYS,
        )?;
        filter.created_from = Some(start);
        filter.created_before = Some(end);
        filter.updated_from = datetime(format, query, "updated_after")?;
        filter.updated_before = datetime(format, query, "updated_before")?;
        if let Some(statuses) = param(query, "status") {
            for status in statuses.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let matching = ReportStatus::ALL
                    .into_iter()
                    .filter(|s| spec::plain_status(*s) == status);
                let before = filter.statuses.len();
                filter.statuses.extend(matching);
                if filter.statuses.len() == before {
                    return Err(Open311Error::bad(
                        format,
                        format!("status: '{status}' is not open or closed"),
                    ));
                }
            }
        }
        let corners = ["lat_ne", "long_ne", "lat_sw", "long_sw"].map(|k| number(format, query, k));
        let [lat_ne, long_ne, lat_sw, long_sw] = corners;
        match (lat_ne?, long_ne?, lat_sw?, long_sw?) {
            (None, None, None, None) => {}
            (Some(lat_ne), Some(long_ne), Some(lat_sw), Some(long_sw)) => {
                check_box(long_sw, lat_sw, long_ne, lat_ne).map_err(|(_, why)| {
                    Open311Error::bad(format, format!("lat_ne,long_ne,lat_sw,long_sw: {why}"))
                })?;
                filter.bbox = Some((long_sw, lat_sw, long_ne, lat_ne));
            }
            _ => {
                return Err(Open311Error::bad(
                    format,
                    "lat_ne, long_ne, lat_sw and long_sw go together",
                ))
            }
        }
        match (
            number(format, query, "lat")?,
            number(format, query, "long")?,
        ) {
            (None, None) => {}
            (Some(lat), Some(long)) => {
                Location::parse(lat, long).map_err(|e| Open311Error::bad(format, e.to_string()))?;
                let radius = number(format, query, "radius")?.unwrap_or(DEFAULT_RADIUS_M);
                if !(radius > 0.0 && radius <= 50_000.0) {
                    return Err(Open311Error::bad(
                        format,
                        "radius: must be more than 0 and at most 50000 metres",
                    ));
                }
                filter.near = Some((lat, long, radius));
            }
            _ => return Err(Open311Error::bad(format, "lat and long go together")),
        }
        if let Some(codes) = param(query, "service_code") {
            let codes: Vec<String> = codes
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect();
            let ids = db(state, move |conn| {
                codes
                    .iter()
                    .map(|code| {
                        catalogue::category_id(conn, code)?.ok_or_else(|| {
                            ApiError::invalid(
                                "service_code",
                                Text::new(
                                    format!("нет услуги «{code}»"),
                                    format!("there is no service '{code}'"),
                                ),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, ApiError>>()
            })
            .await
            .map_err(|e| Open311Error::from_api(format, e))?;
            filter.category_ids = ids;
        }
    }
    let page = load_requests(state, format, filter, page, page_size, extensions).await?;
    Ok(respond(format, "service_requests", &Value::Array(page)))
}

/// A page of requests as Open311 values.
async fn load_requests(
    state: &web::Data<AppState>,
    format: Format,
    filter: ReportFilter,
    page: i64,
    page_size: i64,
    extensions: bool,
) -> Result<Vec<Value>, Open311Error> {
    let page = crate::http::public_read(state, move |conn| {
        Ok(reading::requests_page(
            conn, &filter, page, page_size, extensions,
        )?)
    })
    .await
    .map_err(|e| Open311Error::from_api(format, e))?;
    let mut photos_of: HashMap<&str, Vec<&AttachmentRow>> = HashMap::new();
    for photo in &page.photos {
        photos_of
            .entry(photo.report_id.as_str())
            .or_default()
            .push(photo);
    }
    let mut links_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for link in &page.links {
        links_of
            .entry(link.report_id.as_str())
            .or_default()
            .push(link.url.as_str());
    }
    let mut events_of: HashMap<&str, Vec<&ReportEventRow>> = HashMap::new();
    for event in &page.events {
        events_of
            .entry(event.report_id.as_str())
            .or_default()
            .push(event);
    }
    page.listings
        .iter()
        .map(|l| {
            let id = l.report.id.as_str();
            request_value(
                state,
                l,
                (
                    photos_of.get(id).map(Vec::as_slice).unwrap_or(&[]),
                    links_of.get(id).map(Vec::as_slice).unwrap_or(&[]),
                ),
                (
                    page.status_notes.get(id).map(String::as_str),
                    events_of.get(id).map(Vec::as_slice).unwrap_or(&[]),
                ),
                extensions,
            )
            .map_err(|e| Open311Error::from_api(format, e))
        })
        .collect()
}

fn request_value(
    state: &AppState,
    listing: &ReportListing,
    (photos, links): (&[&AttachmentRow], &[&str]),
    (status_note, events): (Option<&str>, &[&ReportEventRow]),
    extensions: bool,
) -> Result<Value, ApiError> {
    let r = &listing.report;
    let status: ReportStatus = r
        .status
        .parse()
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let time = |t: NaiveDateTime| spec::format_datetime(t, state.time_zone);
    let status_notes = status_note.filter(|_| status != ReportStatus::Moderation);
    let updated = r
        .closed_at
        .filter(|_| spec::plain_status(status) == "closed")
        .unwrap_or(r.updated_at);
    let mut value = json!({
        "service_request_id": r.number.to_string(),
        "status": spec::plain_status(status),
        "status_notes": status_notes,
        "service_name": listing.category.name_ru,
        "service_code": listing.category.code,
        "description": r.description,
        "agency_responsible": listing.department.as_ref().map(|d| d.name_ru.clone()),
        "service_notice": Value::Null,
        "requested_datetime": time(r.created_at),
        "updated_datetime": time(updated),
        "expected_datetime": r.answer_due_at.map(time),
        "address": r.address.clone().unwrap_or_default(),
        "address_id": Value::Null,
        "zipcode": Value::Null,
        "lat": r.lat,
        "long": r.lon,
        // Its own first photo, else the first it came with as an address.
        "media_url": photos
            .first()
            .map(|p| state.photo_url(&p.content_hash, Variant::Full))
            .or_else(|| links.first().map(|l| l.to_string())),
    });
    if extensions {
        let questions: Vec<Question> =
            serde_json::from_str(&listing.category.attributes).unwrap_or_default();
        let answers: serde_json::Map<String, Value> =
            serde_json::from_str(&r.answers).unwrap_or_default();
        let mut attributes: Vec<Value> = answers
            .iter()
            .map(|(code, value)| {
                let label = questions
                    .iter()
                    .find(|q| &q.code == code)
                    .map(|q| q.description.clone());
                json!({"code": code, "name": code, "label": label, "value": value})
            })
            .collect();
        // The city object, as FixMyStreet's asset attributes carry it.
        if let Some(o) = &listing.object {
            attributes.push(
                json!({"code": "object_id", "name": "object_id", "label": "Объект", "value": o.id}),
            );
            attributes.push(json!({"code": "object_type", "name": "object_type", "label": "Тип объекта", "value": o.kind}));
            attributes.push(json!({"code": "object_code", "name": "object_code", "label": "Номер объекта", "value": o.code}));
        }
        let notes: Vec<Value> = events
            .iter()
            .map(|e| {
                let kind = match e.kind.as_str() {
                    "filed" => "opened",
                    "closed" | "rejected" | "marked_duplicate" => "closed",
                    _ => "activity",
                };
                json!({"datetime": time(e.created_at), "summary": e.kind, "description": e.note, "type": kind})
            })
            .collect();
        let photos: Vec<Value> = photos
            .iter()
            .map(|p| json!({"media_url": state.photo_url(&p.content_hash, Variant::Full), "width": p.width, "height": p.height, "created_at": time(p.created_at)}))
            .chain(links.iter().map(|l| json!({"media_url": l, "linked": true})))
            .collect();
        if let Value::Object(fields) = &mut value {
            fields.insert("attributes".into(), Value::Array(attributes));
            fields.insert(
                "extended_attributes".into(),
                json!({
                    "status": spec::extended_status(status),
                    "support_count": r.support_count,
                    "department": listing.department.as_ref().map(|d| d.code.clone()),
                    "duplicate": r.duplicate_of.is_some(),
                    "photos": photos,
                    "object": listing.object.as_ref().map(|o| json!({
                        "id": o.id, "type": o.kind, "code": o.code, "name": o.name,
                    })),
                }),
            );
            fields.insert("notes".into(), Value::Array(notes));
        }
    }
    Ok(value)
}

/// `GET servicerequestupdates.{fmt}?start_date=&end_date=`: the public
/// history as updates, with mySociety's extended statuses (default window:
/// the last day).
pub(super) async fn updates(
    state: &web::Data<AppState>,
    format: Format,
    query: &[(String, String)],
) -> Answer {
    let now = state.clock.now();
    let (start, end) = window(
        format,
        now,
        datetime(format, query, "start_date")?,
        datetime(format, query, "end_date")?,
        1,
    )?;
    let events = crate::http::public_read(state, move |conn| {
        Ok(reading::events_between(conn, start, end, MAX_PAGE_SIZE)?)
    })
    .await
    .map_err(|e| Open311Error::from_api(format, e))?;
    let updates: Vec<Value> = events
        .iter()
        .map(|(e, number)| {
            let status = e
                .to_status
                .parse::<ReportStatus>()
                .map(spec::extended_status)
                .unwrap_or("open");
            json!({
                "update_id": e.id,
                "service_request_id": number.to_string(),
                "status": status,
                "updated_datetime": spec::format_datetime(e.created_at, state.time_zone),
                "description": e.note.clone().unwrap_or_else(|| e.kind.clone()),
                "media_url": Value::Null,
            })
        })
        .collect();
    Ok(respond(
        format,
        "service_request_updates",
        &Value::Array(updates),
    ))
}
