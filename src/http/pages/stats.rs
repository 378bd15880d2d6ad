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

/// How many days back the public statistics count.
const STATS_DAYS: i64 = 365;

pub(super) async fn stats_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    let since = state.clock.now() - TimeDelta::days(STATS_DAYS);
    let counted = crate::http::read(&state, &request, move |conn| {
        let filter = ReportFilter {
            created_from: Some(since),
            ..ReportFilter::default()
        };
        Ok((
            supervision::outcomes(conn, &filter)?,
            departments(conn)?,
            supervision::flagged_answers(conn)?,
        ))
    })
    .await?;
    let (counted, names, flagged) = (counted.0, counted.1, counted.2);
    use crate::sla::stats::aggregate;
    let all: Vec<_> = counted.iter().map(|c| c.outcome.clone()).collect();
    let lines = supervision::group_by(&counted, |c| c.department.clone())
        .into_iter()
        .map(|(code, outcomes)| {
            let named = names.iter().find(|d| d.code == code);
            StatsLine {
                name_ru: named.map_or(code.clone(), |d| d.name_ru.clone()),
                name_en: named.map_or(code.clone(), |d| d.name_en.clone()),
                photos: flagged.get(&code).copied().unwrap_or_default(),
                numbers: aggregate(&outcomes),
            }
        })
        .collect();
    html(&StatsPage {
        ctx,
        total: aggregate(&all),
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
