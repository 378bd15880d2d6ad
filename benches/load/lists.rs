//! The list read paths, each beside its bare query on the same database:
//! Open311 `GET requests` with a bounding box and with `lat/long/radius`,
//! the JSON report list with its filters (pages of 100), and the list
//! beside the map (the map's viewport, open reports, pages of 10). Boxes
//! are 0.01° on a side around generated reports' neighbourhoods. The
//! baseline is the page's read itself — what any implementation returning
//! the reports must read: the ids of the page, newest first, under the same
//! filter, as the database layer reads them (a small box cell by cell of
//! the grid), and those reports' rows. The application also counts the
//! matches (the JSON list), reads the categories, departments, photos and
//! status notes, and shapes the answer.

use super::*;

/// The filter of a case's bare read: the box (or the circle) and what
/// the application adds (statuses, a category, Open311's 90 days).
fn raw_filter(
    case: &ListCase,
    (a, b, c, d): Bbox,
    category_id: &str,
    now: NaiveDateTime,
) -> ReportFilter {
    let mut filter = ReportFilter::default();
    if case.operation.contains("radius") {
        filter.near = Some(((b + d) / 2.0, (a + c) / 2.0, 500.0));
    } else {
        filter.bbox = Some((a, b, c, d));
    }
    if case.operation.starts_with("open311") {
        // Open311's default window, as the application sets it.
        let end = now + TimeDelta::seconds(1);
        filter.created_from = Some(end - TimeDelta::days(90));
        filter.created_before = Some(end);
    }
    if case.open {
        filter.statuses = OPEN.split(',').filter_map(|s| s.parse().ok()).collect();
    }
    if case.in_category {
        filter.category_ids = vec![category_id.to_string()];
    }
    filter
}

/// A box of `side` degrees around a point.
fn around((lat, lon): (f64, f64), side: f64) -> (f64, f64, f64, f64) {
    (
        lon - side / 2.0,
        lat - side / 2.0,
        lon + side / 2.0,
        lat + side / 2.0,
    )
}

/// A box: west, south, east, north.
type Bbox = (f64, f64, f64, f64);

/// One list measure: the application's URL for a box beside the bare page.
struct ListCase {
    operation: &'static str,
    /// The address for the server, a box and a category's code.
    url: fn(&str, Bbox, &str) -> String,
    /// Open reports only.
    open: bool,
    /// One category only.
    in_category: bool,
    limit: i64,
}

pub(crate) async fn list_rows(
    manager: &ConnectionManager,
    address: &str,
    (backend, size): (&str, usize),
    clients: usize,
    seconds: f64,
    points: Arc<Vec<(f64, f64)>>,
    now: NaiveDateTime,
) -> Result<Vec<Row>, String> {
    let category = filing_categories(manager)?
        .first()
        .map(|(code, _)| code.clone())
        .ok_or("no category")?;
    let category_id: String = {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Text)]
            id: String,
        }
        let mut conn = manager.connect().map_err(|e| e.to_string())?;
        diesel::sql_query(format!(
            "SELECT id FROM categories WHERE code = '{category}'"
        ))
        .get_result::<Id>(&mut conn)
        .map_err(|e| e.to_string())?
        .id
    };
    let cases = [
        ListCase {
            operation: "open311 GET requests, bbox 0.01°",
            url: |base, (a, b, c, d), _| {
                format!(
                    "{base}/open311/v2/requests.json?lat_sw={b}&long_sw={a}&lat_ne={d}&long_ne={c}&page_size=100"
                )
            },
            open: false,
            in_category: false,
            limit: 100,
        },
        ListCase {
            operation: "open311 GET requests, lat/long/radius 500 m",
            url: |base, (a, b, c, d), _| {
                format!(
                    "{base}/open311/v2/requests.json?lat={}&long={}&radius=500&page_size=100",
                    (b + d) / 2.0,
                    (a + c) / 2.0
                )
            },
            open: false,
            in_category: false,
            limit: 100,
        },
        ListCase {
            operation: "JSON list, box + status + category",
            url: |base, (a, b, c, d), category| {
                format!(
                    "{base}/api/v1/reports?bbox={a},{b},{c},{d}&status={OPEN}&category={category}&per_page=100"
                )
            },
            open: true,
            in_category: true,
            limit: 100,
        },
        ListCase {
            operation: "list beside the map, open, zoom 16",
            url: |base, (a, b, c, d), _| {
                format!("{base}/api/v1/reports?bbox={a},{b},{c},{d}&status={OPEN}&per_page=10")
            },
            open: true,
            in_category: false,
            limit: 10,
        },
    ];
    let mut rows = Vec::new();
    for case in cases {
        // The map's viewport for its list; 0.01° boxes for the others.
        let side = if case.limit == 10 {
            360.0 / f64::from(1u32 << 16) * 4.0
        } else {
            0.01
        };
        let boxes: Arc<Vec<(f64, f64, f64, f64)>> =
            Arc::new(points.iter().map(|&p| around(p, side)).collect());
        let filters: Arc<Vec<ReportFilter>> = Arc::new(
            boxes
                .iter()
                .map(|&view| raw_filter(&case, view, &category_id, now))
                .collect(),
        );
        let limit = case.limit;
        let raw = {
            let filters = filters.clone();
            move |conn: &mut DbConnection, i: usize| {
                use gorod::db::schema::reports;
                let ids =
                    gorod::db::reports::newest_ids(conn, &filters[i % filters.len()], 1, limit)
                        .map_err(|e| e.to_string())?;
                reports::table
                    .filter(reports::id.eq_any(&ids))
                    .select(ReportRow::as_select())
                    .load::<ReportRow>(conn)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        };
        // Warm-up, not measured.
        sql_load(manager, clients, 1.0, raw.clone())?;
        let (views, base, url, category) = (
            boxes.clone(),
            address.to_string(),
            case.url,
            category.clone(),
        );
        let app = http_load(clients, seconds, move |client, i| {
            let url = url(&base, views[i % views.len()], &category);
            async move { expect(client.get(url).send().await, 200).await }
        })
        .await?;
        let raw = sql_load(manager, clients, seconds, raw)?;
        rows.push(Row {
            backend: backend.into(),
            size,
            operation: case.operation,
            clients,
            app,
            raw,
        });
    }
    Ok(rows)
}
