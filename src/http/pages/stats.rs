//! The public statistics per department.

use super::*;

/// A line of the public statistics.
pub struct StatsLine {
    pub name_ru: String,
    pub name_en: String,
    pub numbers: crate::sla::stats::Aggregate,
    /// Answers whose photos were checked, and those with a flagged photo.
    pub photos: (i64, i64),
}

impl StatsLine {
    pub fn name(&self, t: &Texts) -> &str {
        pick(t.lang, &self.name_ru, &self.name_en)
    }
}

#[derive(Template)]
#[template(path = "stats.html")]
pub struct StatsPage {
    ctx: Ctx,
    total: crate::sla::stats::Aggregate,
    lines: Vec<StatsLine>,
}

pub(super) async fn stats_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    let now = state.clock.now();
    let (stats, names) = crate::http::read(&state, &request, move |conn| {
        Ok((
            crate::app::statistics::public(conn, now)?,
            departments(conn)?,
        ))
    })
    .await?;
    let lines = stats
        .departments
        .into_iter()
        .map(|line| {
            let named = names.iter().find(|d| d.code == line.code);
            StatsLine {
                name_ru: named.map_or(line.code.clone(), |d| d.name_ru.clone()),
                name_en: named.map_or(line.code.clone(), |d| d.name_en.clone()),
                photos: line.photos,
                numbers: line.numbers,
            }
        })
        .collect();
    html(&StatsPage {
        ctx,
        total: stats.total,
        lines,
    })
}

#[derive(Template)]
#[template(path = "open_data.html")]
pub struct OpenDataPage {
    ctx: Ctx,
    /// Column, meaning in Russian, in English.
    columns: Vec<(&'static str, &'static str, &'static str)>,
    categories: Vec<CategoryItem>,
    /// District codes and names.
    areas: Vec<(String, String, String)>,
}

/// The open data: what there is, the data dictionary, and a form for an
/// export of a period, district and category.
pub(super) async fn open_data_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    let (categories, areas) = categories_and_areas(&state, &request).await?;
    html(&OpenDataPage {
        ctx,
        columns: crate::reports::open_data::DICTIONARY.to_vec(),
        categories,
        areas,
    })
}
