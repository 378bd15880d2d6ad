//! The list read paths, each beside its bare query on the same database:
//! Open311 `GET requests` with a bounding box and with `lat/long/radius`,
//! the JSON report list with its filters (pages of 100), and the list
//! beside the map (the map's viewport, open reports, pages of 10). Boxes
//! are 0.01° on a side around generated reports' neighbourhoods. The bare
//! query is the page itself, newest first: what any implementation must
//! read; the application also counts the matches.

use super::*;

#[derive(QueryableByName)]
#[allow(dead_code)]
struct ListRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    number: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    description: String,
}

/// A page of reports in a box, newest first, as plain SQL; `extra` narrows
/// it further (statuses, a category).
fn raw_page(
    conn: &mut DbConnection,
    (min_lon, min_lat, max_lon, max_lat): (f64, f64, f64, f64),
    extra: &str,
    limit: i64,
) -> Result<(), String> {
    let sql = format!(
        "SELECT id, number, status, description FROM reports \
         WHERE lat BETWEEN {min_lat} AND {max_lat} AND lon BETWEEN {min_lon} AND {max_lon} {extra} \
         ORDER BY created_at DESC, number DESC LIMIT {limit}"
    );
    let rows = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load::<ListRow>(c),
        DbConnection::Postgres(c) => diesel::sql_query(sql).load::<ListRow>(c),
    };
    rows.map(|_| ()).map_err(|e| e.to_string())
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
    extra: fn(&str) -> String,
    limit: i64,
}

const OPEN_SQL: &str =
    "AND status IN ('moderation','assigned','in_progress','paused','returned','reopened','resolved')";

pub(crate) async fn list_rows(
    manager: &ConnectionManager,
    address: &str,
    (backend, size): (&str, usize),
    clients: usize,
    seconds: f64,
    points: Arc<Vec<(f64, f64)>>,
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
            extra: |_| String::new(),
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
            extra: |_| String::new(),
            limit: 100,
        },
        ListCase {
            operation: "JSON list, box + status + category",
            url: |base, (a, b, c, d), category| {
                format!(
                    "{base}/api/v1/reports?bbox={a},{b},{c},{d}&status={OPEN}&category={category}&per_page=100"
                )
            },
            extra: |category_id| format!("{OPEN_SQL} AND category_id = '{category_id}'"),
            limit: 100,
        },
        ListCase {
            operation: "list beside the map, open, zoom 16",
            url: |base, (a, b, c, d), _| {
                format!("{base}/api/v1/reports?bbox={a},{b},{c},{d}&status={OPEN}&per_page=10")
            },
            extra: |_| OPEN_SQL.to_string(),
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
        // Open311's circle is read as its bounding box by the bare query.
        let raw_boxes: Arc<Vec<(f64, f64, f64, f64)>> = if case.operation.contains("radius") {
            Arc::new(
                boxes
                    .iter()
                    .map(|&(a, b, c, d)| {
                        let (lat, lon) = ((b + d) / 2.0, (a + c) / 2.0);
                        let (min_lat, min_lon, max_lat, max_lon) =
                            gorod::reports::nearby::bounding_box(lat, lon, 500.0);
                        (min_lon, min_lat, max_lon, max_lat)
                    })
                    .collect(),
            )
        } else {
            boxes.clone()
        };
        let extra = (case.extra)(&category_id);
        let limit = case.limit;
        let raw = {
            let (views, extra) = (raw_boxes.clone(), extra.clone());
            move |conn: &mut DbConnection, i: usize| {
                raw_page(conn, views[i % views.len()], &extra, limit)
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
