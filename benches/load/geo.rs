//! The geodata and search measures: geocoding typed addresses and dropped
//! pins against a generated registry of half a million houses, beside the
//! bare in-memory index doing the same lookups; searching reports by words,
//! beside the bare read of the query's first term; and filing with the
//! search index kept current, beside filing words that index nothing.

use super::*;
use gorod::db::rows::AddressRow;
use gorod::geo::address::{fold, parse};
use gorod::geo::index::Index;
use gorod::geo::registry::Record;
use gorod::reports::Location;

/// Houses in the generated registry.
pub(crate) const REGISTRY: usize = 500_000;

const ROOTS: &[&str] = &[
    "Садов",
    "Лесн",
    "Полев",
    "Школьн",
    "Парков",
    "Речн",
    "Заводск",
    "Молодёжн",
    "Цветочн",
    "Солнечн",
    "Берёзов",
    "Липов",
    "Кленов",
    "Сиренев",
    "Рябинов",
    "Вишнёв",
    "Лугов",
    "Озёрн",
    "Горн",
    "Зелён",
    "Нов",
    "Стар",
    "Широк",
    "Светл",
    "Тих",
    "Каменн",
    "Песчан",
    "Мостов",
    "Торгов",
    "Рабоч",
];
const NAMES: &[&str] = &[
    "Пушкина",
    "Лермонтова",
    "Гагарина",
    "Ленина",
    "Мира",
    "Победы",
    "Толстого",
    "Чехова",
    "Гоголя",
    "Королёва",
    "Циолковского",
    "Менделеева",
    "Ломоносова",
    "Суворова",
    "Кутузова",
    "Некрасова",
    "Тургенева",
    "Достоевского",
    "Есенина",
    "Маяковского",
    "Шолохова",
    "Крылова",
    "Жукова",
    "Куйбышева",
    "Калинина",
    "Кирова",
    "Фрунзе",
    "Чапаева",
    "Щорса",
    "Островского",
];
const KINDS: &[(&str, &str)] = &[
    ("улица", "ая"),
    ("проспект", "ый"),
    ("переулок", "ый"),
    ("бульвар", "ый"),
    ("проезд", "ый"),
    ("шоссе", "ое"),
];

/// The n-th generated street: «2-я Садовая улица», «улица Гагарина»,
/// «Лесной проезд 4-й»…
fn street(n: usize) -> String {
    let (kind, ending) = KINDS[n % KINDS.len()];
    let ordinal = n / (KINDS.len() * (ROOTS.len() + NAMES.len()));
    let base = (n / KINDS.len()) % (ROOTS.len() + NAMES.len());
    let name = match ROOTS.get(base) {
        Some(root) => format!("{root}{ending} {kind}"),
        None => format!("{kind} {}", NAMES[base - ROOTS.len()]),
    };
    match ordinal {
        0 => name,
        n => format!("{n}-я {name}"),
    }
}

/// A registry of `REGISTRY` houses, 40 to a street along a line near
/// `centre`, a fifth of them with a корпус.
pub(crate) fn registry(centre: (f64, f64)) -> Vec<Record> {
    let mut rng = StdRng::seed_from_u64(24);
    let mut records = Vec::with_capacity(REGISTRY);
    let mut n = 0;
    while records.len() < REGISTRY {
        let name = street(n);
        n += 1;
        let (lat, lon) = (
            centre.0 + rng.random_range(-0.15..0.15),
            centre.1 + rng.random_range(-0.25..0.25),
        );
        let (dlat, dlon) = (rng.random_range(-0.0004..0.0004), 0.0004);
        for h in 1..=40u32 {
            let text = if h % 5 == 0 {
                format!("д {h} к 2")
            } else {
                format!("д {h}")
            };
            let Some(house) = parse(&text).house else {
                continue;
            };
            let at = f64::from(h);
            let Ok(location) = Location::parse(lat + dlat * at, lon + dlon * at) else {
                continue;
            };
            records.push(Record {
                street: name.clone(),
                street_en: None,
                house,
                location,
            });
        }
    }
    records.truncate(REGISTRY);
    records
}

/// Loads the registry into the database (the application's index is
/// built from there).
pub(crate) fn load_registry(
    conn: &mut DbConnection,
    records: &[Record],
    now: NaiveDateTime,
) -> Result<(), String> {
    for chunk in records.chunks(CHUNK) {
        let rows: Vec<AddressRow> = chunk
            .iter()
            .map(|r| AddressRow {
                key: format!("{}|{}", fold(&r.street), r.house.canonical()),
                street: r.street.clone(),
                street_en: None,
                house: r.house.canonical(),
                lat: r.location.lat(),
                lon: r.location.lon(),
                imported_at: now,
            })
            .collect();
        seed::insert_addresses(conn, &rows).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// What people type for the i-th lookup: the address as written, with
/// abbreviations, the house first, or a slip of one letter.
pub(crate) fn typed(records: &[Record], i: usize) -> String {
    let r = &records[(i * 7919) % records.len()];
    let house = r.house.canonical().replace('к', " корп. ");
    match i % 4 {
        0 => format!("{}, д. {house}", r.street.replace("улица", "ул.")),
        1 => format!("{house} {}", r.street),
        2 => {
            // Two letters of the longest word swapped.
            let mut words: Vec<String> = r.street.split(' ').map(str::to_string).collect();
            if let Some(w) = words.iter_mut().max_by_key(|w| w.chars().count()) {
                let mut chars: Vec<char> = w.chars().collect();
                if chars.len() > 4 {
                    chars.swap(2, 3);
                }
                *w = chars.into_iter().collect();
            }
            format!("{} {house}", words.join(" "))
        }
        _ => format!("{} {}", r.street, r.house.canonical()),
    }
}

/// A point about 5 m from the i-th house.
pub(crate) fn pin(records: &[Record], i: usize) -> (f64, f64) {
    let r = &records[(i * 104_729) % records.len()];
    (r.location.lat() + 0.000045, r.location.lon())
}

/// Runs `one` on `clients` threads for `seconds`, timing each call (the
/// bare side of an in-memory measure).
pub(crate) fn cpu_load<F>(clients: usize, seconds: f64, one: F) -> Measure
where
    F: Fn(usize) + Send + Sync + 'static,
{
    let one = Arc::new(one);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|worker| {
            let (one, stop) = (one.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut i = worker;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    one(i);
                    latencies.push(t.elapsed());
                    i += clients;
                }
                latencies
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap_or_default())
        .collect();
    latencies.sort();
    Measure {
        count: latencies.len(),
        seconds: started.elapsed().as_secs_f64(),
        latencies,
    }
}

/// Geocoding and reverse geocoding through the application, beside the
/// bare index.
pub(crate) async fn geocode_rows(
    conn: &mut DbConnection,
    base: &str,
    backend: &str,
    size: usize,
    clients: usize,
    seconds: f64,
    now: NaiveDateTime,
) -> Result<Vec<Row>, String> {
    let started = Instant::now();
    let records = Arc::new(registry((55.75, 37.62)));
    load_registry(conn, &records, now)?;
    let index = Arc::new(Index::new(records.to_vec()));
    eprintln!(
        "   registry of {} houses loaded in {:.1} s",
        records.len(),
        started.elapsed().as_secs_f64()
    );
    // The application rebuilds its index on the first lookup after the
    // version moved; that first lookup is not measured.
    let first = format!("{base}/api/v1/geocode?q=1");
    reqwest::get(first).await.map_err(|e| e.to_string())?;
    let mut rows = Vec::new();

    let (r, b) = (records.clone(), base.to_string());
    let app = http_load(clients, seconds, move |client, i| {
        let query = serde_urlencoded::to_string([("q", typed(&r, i)), ("limit", "8".into())])
            .unwrap_or_default();
        let url = format!("{b}/api/v1/geocode?{query}");
        async move { expect(client.get(url).send().await, 200).await }
    })
    .await?;
    let (r, ix) = (records.clone(), index.clone());
    let raw = cpu_load(clients, seconds, move |i| {
        std::hint::black_box(ix.search(&typed(&r, i), 8));
    });
    rows.push(Row {
        backend: backend.into(),
        size,
        operation: "geocode 500k (raw: bare index)",
        clients,
        app,
        raw,
    });

    let (r, b) = (records.clone(), base.to_string());
    let app = http_load(clients, seconds, move |client, i| {
        let (lat, lon) = pin(&r, i);
        let url = format!("{b}/api/v1/geocode/reverse?lat={lat}&lon={lon}");
        async move { expect(client.get(url).send().await, 200).await }
    })
    .await?;
    let (r, ix) = (records.clone(), index.clone());
    let raw = cpu_load(clients, seconds, move |i| {
        let (lat, lon) = pin(&r, i);
        std::hint::black_box(ix.nearest(lat, lon, 60.0));
    });
    rows.push(Row {
        backend: backend.into(),
        size,
        operation: "reverse geocode 500k (raw: index)",
        clients,
        app,
        raw,
    });
    Ok(rows)
}

/// What people search for: a common word, two words, a rarer word, a word
/// and a place.
const QUERIES: &[&str] = &[
    "яма",
    "ямы на дороге",
    "фонарь",
    "не горит фонарь",
    "мусор во дворе",
    "протечка крыши",
    "граффити",
    "сугробы",
    "лифт",
    "скамейка сломана",
    "люк",
    "дерево",
    "остановка",
    "светофор",
    "подъезд грязно",
    "Гагарина",
];

#[derive(QueryableByName)]
struct ReportId {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[allow(dead_code)]
    report_id: String,
}

/// The bare read under a search: the newest 50 reports with the query's
/// first term.
fn raw_search(conn: &mut DbConnection, term: &str) -> Result<(), String> {
    use diesel::sql_types::Text;
    let sql = |p: &str| {
        format!(
            "SELECT report_id FROM search_terms WHERE term = {p} ORDER BY report_id DESC LIMIT 50"
        )
    };
    let done = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql("?"))
            .bind::<Text, _>(term)
            .load::<ReportId>(c),
        DbConnection::Postgres(c) => diesel::sql_query(sql("$1"))
            .bind::<Text, _>(term)
            .load::<ReportId>(c),
    };
    done.map(|_| ()).map_err(|e| e.to_string())
}

/// Report search through the application, beside the bare read of its
/// first term.
pub(crate) async fn search_rows(
    manager: &ConnectionManager,
    base: &str,
    backend: &str,
    size: usize,
    clients: usize,
    seconds: f64,
) -> Result<Vec<Row>, String> {
    let b = base.to_string();
    let app = http_load(clients, seconds, move |client, i| {
        let query =
            serde_urlencoded::to_string([("q", QUERIES[i % QUERIES.len()])]).unwrap_or_default();
        let url = format!("{b}/api/v1/reports/search?{query}");
        async move { expect(client.get(url).send().await, 200).await }
    })
    .await?;
    let terms: Arc<Vec<String>> = Arc::new(
        QUERIES
            .iter()
            .filter_map(|q| gorod::reports::search::query(q).terms.into_iter().next())
            .collect(),
    );
    let raw = sql_load(manager, clients, seconds, move |conn, i| {
        raw_search(conn, &terms[i % terms.len()])
    })?;
    Ok(vec![Row {
        backend: backend.into(),
        size,
        operation: "search (raw: first term's page)",
        clients,
        app,
        raw,
    }])
}

/// Filing whose words are indexed, beside the same filing whose words are
/// all stop words (nothing to index): what keeping the index costs.
pub(crate) async fn indexed_filing_row(
    manager: &ConnectionManager,
    base: &str,
    backend: &str,
    size: usize,
    clients: usize,
    seconds: f64,
    points: Arc<Vec<(f64, f64)>>,
) -> Result<Row, String> {
    let categories = Arc::new(filing_categories(manager)?);
    let file = |words: &'static str| {
        let (cats, pts, b) = (categories.clone(), points.clone(), base.to_string());
        http_load(clients, seconds, move |client, i| {
            let (code, answers) = cats[i % cats.len()].clone();
            let (lat, lon) = near(pts[(i * 7919) % pts.len()], i);
            let body = json!({
                "category": code, "lat": lat, "lon": lon, "answers": answers,
                "description": words,
                "reporter": {"email": resident_email((i * 31) % 5000)}
            });
            let url = format!("{b}/api/v1/reports");
            async move { expect(client.post(url).json(&body).send().await, 201).await }
        })
    };
    // Each side twice, in turns, so that neither pays alone for the city
    // growing under it or for the other's indexing still under way.
    let stop_words =
        "и в на с по у к о и в на с по у к о и в на с по у к о и в на с по у к о и в на";
    let words = "Глубокая яма у перехода, машины объезжают по встречной полосе, опасно";
    let mut without = file(stop_words).await?;
    let mut with = file(words).await?;
    with.add(file(words).await?);
    without.add(file(stop_words).await?);
    Ok(Row {
        backend: backend.into(),
        size,
        operation: "filing, words indexed (raw: none)",
        clients,
        app: with,
        raw: without,
    })
}
