//! A city object's page (its place and its reports' history) and the
//! search page (the public's over published reports; staff's within their
//! scope, also by number and a reporter's email).

use super::*;
use crate::app::geodata;
use crate::app::geodata::CityObjectRow;
use crate::app::reports::Wanted;
use crate::app::search::{self, Asked};

#[derive(Template)]
#[template(path = "object.html")]
pub struct ObjectPage {
    ctx: Ctx,
    object: CityObjectRow,
    /// Its type in the page's language.
    kind: &'static str,
    /// The department that looks after it, in the page's language.
    owner: Option<String>,
    place: MapSetup,
    rows: Vec<Row>,
    this_year: usize,
}

/// A type of object in words (the demo's types; another is "a city object").
fn kind_words(t: &Texts, kind: &str) -> &'static str {
    match kind {
        "lamp_post" => t.object_type_lamp_post,
        "bench" => t.object_type_bench,
        "bin" => t.object_type_bin,
        "bus_stop" => t.object_type_bus_stop,
        "playground" => t.object_type_playground,
        _ => t.object_type_other,
    }
}

pub(super) async fn object_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    let id = id.into_inner();
    let app = state.services.clone();
    let history = db(&state, move |conn| {
        Ok(geodata::history(&app, conn, &id, 200)?)
    })
    .await?
    .ok_or_else(|| {
        ApiError::NotFound(Text::new("такого объекта нет", "there is no such object"))
    })?;
    let object = history.object;
    let owner = history
        .owner
        .map(|d| pick(ctx.t.lang, &d.name_ru, &d.name_en).to_string());
    let spot = [object.lat, object.lon];
    html(&ObjectPage {
        kind: kind_words(ctx.t, &object.kind),
        owner,
        place: MapSetup::around(&state, [spot, spot]),
        rows: history
            .reports
            .into_iter()
            .map(|l| Row::new(l, None))
            .collect(),
        this_year: history.this_year,
        object,
        ctx,
    })
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    ctx: Ctx,
    q: String,
    /// Whether the searcher is staff (who also search by email).
    staff: bool,
    /// `None` until something was asked.
    total: Option<i64>,
    rows: Vec<Row>,
}

#[derive(Deserialize, Default)]
pub struct SearchForm {
    q: Option<String>,
}

pub(super) async fn search_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Query<SearchForm>,
) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    let q = form.into_inner().q.unwrap_or_default().trim().to_string();
    let staff = caller.require_any(Permission::ReadInternal).is_ok();
    if q.is_empty() {
        return html(&SearchPage {
            ctx,
            q,
            staff,
            total: None,
            rows: Vec::new(),
        });
    }
    let app = state.services.clone();
    let who = caller.who.clone();
    let text = q.clone();
    let (total, found) = db(&state, move |conn| {
        let asked = Asked {
            text,
            wanted: Wanted::default(),
            page: 1,
            per_page: 100,
        };
        Ok(search::find(&app, conn, &who, asked)?)
    })
    .await?;
    html(&SearchPage {
        ctx,
        q,
        staff,
        total: Some(total),
        rows: found.into_iter().map(|l| Row::new(l, None)).collect(),
    })
}
