//! Driving the load: clients against the application and threads against
//! the bare database, each timing every call; and reaching the servers.

use super::*;

/// The URL of `database_url`'s database on the server `server_url` names.
pub(crate) fn same_database_on(database_url: &str, server_url: &str) -> Result<String, String> {
    let name = database_url
        .split_once('?')
        .map_or(database_url, |(path, _)| path)
        .rsplit_once('/')
        .ok_or("a PostgreSQL URL ends in /database")?
        .1;
    on_server(name, server_url)
}

/// The database `name` on the server `server_url` names, with its options
/// (e.g. sslmode).
pub(crate) fn on_server(name: &str, server_url: &str) -> Result<String, String> {
    let (path, query) = server_url
        .split_once('?')
        .map_or((server_url, String::new()), |(p, q)| (p, format!("?{q}")));
    let (base, _) = path
        .rsplit_once('/')
        .ok_or("a PostgreSQL URL ends in /database")?;
    Ok(format!("{base}/{name}{query}"))
}

/// Waits until the instance at `base` reads from its replica (which has
/// replayed everything generated).
pub(crate) async fn replica_serving(base: &str) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let ready: serde_json::Value = reqwest::get(format!("{base}/readyz"))
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        if ready["replica"]["state"] == "ok" {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!("the replica never caught up: {ready}"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Reads the whole answer; anything but `status` is an error with its body.
pub(crate) async fn expect(
    sent: reqwest::Result<reqwest::Response>,
    status: u16,
) -> Result<(), String> {
    let response = sent.map_err(|e| e.to_string())?;
    let got = response.status().as_u16();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if got != status {
        return Err(format!("answered {got} instead of {status}: {body}"));
    }
    Ok(())
}

/// A point up to about 300 m from `point`, different for each `i`, so that
/// filings spread like real ones instead of piling onto the sample points.
pub(crate) fn near((lat, lon): (f64, f64), i: usize) -> (f64, f64) {
    let mut rng = StdRng::seed_from_u64(i as u64);
    (
        lat + rng.random_range(-0.003..0.003),
        lon + rng.random_range(-0.005..0.005),
    )
}

/// Each category's code and answers to its required questions.
pub(crate) fn filing_categories(
    manager: &ConnectionManager,
) -> Result<Vec<(String, serde_json::Value)>, String> {
    let mut conn = manager.connect().map_err(|e| e.to_string())?;
    let mut rng = StdRng::seed_from_u64(7);
    catalog::list_categories(&mut conn)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|l| {
            let questions: Vec<Question> =
                serde_json::from_str(&l.category.attributes).map_err(|e| e.to_string())?;
            let answers = gorod::demo::sample_answers(&mut rng, &questions);
            Ok((
                l.category.code,
                serde_json::to_value(answers).map_err(|e| e.to_string())?,
            ))
        })
        .collect()
}

/// Runs `one` from `clients` tasks for `seconds`, timing each call.
pub(crate) async fn http_load<F, Fut>(
    clients: usize,
    seconds: f64,
    one: F,
) -> Result<Measure, String>
where
    F: Fn(reqwest::Client, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .map_err(|e| e.to_string())?;
    let one = Arc::new(one);
    // A short warm-up, not measured.
    for i in 0..clients {
        one(client.clone(), i).await?;
    }
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..clients {
        let (client, one) = (client.clone(), one.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = worker;
            while Instant::now() < deadline {
                let t = Instant::now();
                one(client.clone(), i).await?;
                latencies.push(t.elapsed());
                i += clients;
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    Ok(Measure {
        count: latencies.len(),
        seconds: elapsed,
        latencies,
    })
}

/// Runs `one` on `clients` threads, each with its own connection, for `seconds`.
pub(crate) fn sql_load<F>(
    manager: &ConnectionManager,
    clients: usize,
    seconds: f64,
    one: F,
) -> Result<Measure, String>
where
    F: Fn(&mut DbConnection, usize) -> Result<(), String> + Send + Sync + 'static,
{
    let one = Arc::new(one);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let started = Instant::now();
    for worker in 0..clients {
        let mut conn = manager.connect().map_err(|e| e.to_string())?;
        // Bare SQLite writers queue in SQLite's busy handler (the
        // application queues its own in the process): at ten million
        // reports sixteen of them wait longer than the usual 5 s.
        if let DbConnection::Sqlite(c) = &mut conn {
            diesel::sql_query("PRAGMA busy_timeout = 120000")
                .execute(c)
                .map_err(|e| e.to_string())?;
        }
        one(&mut conn, worker + 500_000_000)?; // warm-up
        let (one, stop) = (one.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            let mut latencies = Vec::new();
            let mut i = worker;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                one(&mut conn, i)?;
                latencies.push(t.elapsed());
                i += clients;
            }
            Ok::<_, String>(latencies)
        }));
    }
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for thread in threads {
        latencies.extend(
            thread
                .join()
                .map_err(|_| "a thread panicked".to_string())??,
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    Ok(Measure {
        count: latencies.len(),
        seconds: elapsed,
        latencies,
    })
}
