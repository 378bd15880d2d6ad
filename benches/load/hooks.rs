//! The back office measure: filing while a webhook hears of every filing
//! (queued in the filing's own write, matched by the courier, signed and
//! delivered to a receiver on this machine), beside filing with nothing
//! listening.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use super::*;

/// A webhook receiver on this machine that takes every delivery (204).
fn receiver() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || take_all(stream));
        }
    });
    Ok(port)
}

/// Answers each request on a kept-alive connection until it closes.
fn take_all(stream: TcpStream) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => {
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err()
            || out
                .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                .is_err()
        {
            return;
        }
    }
}

/// Waits until the courier has delivered what it was given.
async fn drained(manager: &ConnectionManager) -> Result<(), String> {
    use gorod::db::schema::{deliveries, hook_pending};
    let started = Instant::now();
    loop {
        let mut conn = manager.connect().map_err(|e| e.to_string())?;
        let queued: i64 = hook_pending::table
            .count()
            .get_result(&mut conn)
            .map_err(|e| e.to_string())?;
        let pending: i64 = deliveries::table
            .filter(deliveries::status.eq("pending"))
            .count()
            .get_result(&mut conn)
            .map_err(|e| e.to_string())?;
        if queued + pending == 0 {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(300) {
            return Err(format!(
                "{queued} events and {pending} deliveries still wait"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Filing with a webhook subscribed to every filing, beside filing with
/// none: what hearing of filings costs them.
pub(crate) async fn hooked_filing_row(
    manager: &ConnectionManager,
    base: &str,
    backend: &str,
    size: usize,
    clients: usize,
    seconds: f64,
    points: Arc<Vec<(f64, f64)>>,
) -> Result<Row, String> {
    let categories = Arc::new(filing_categories(manager)?);
    let file = || {
        let (cats, pts, b) = (categories.clone(), points.clone(), base.to_string());
        http_load(clients, seconds, move |client, i| {
            let (code, answers) = cats[i % cats.len()].clone();
            let (lat, lon) = near(pts[(i * 7919) % pts.len()], i);
            let body = json!({
                "category": code, "lat": lat, "lon": lon, "answers": answers,
                "description": "Глубокая яма у перехода, машины объезжают по встречной полосе",
                "reporter": {"email": resident_email((i * 31) % 5000)}
            });
            let url = format!("{b}/api/v1/reports");
            async move { expect(client.post(url).json(&body).send().await, 201).await }
        })
    };
    let port = receiver()?;
    let client = reqwest::Client::new();
    let admin = |request: reqwest::RequestBuilder| request.bearer_auth("demo-token-admin");
    // Each side twice, in turns, each after the courier caught up.
    let mut without = file().await?;
    let created = admin(client.post(format!("{base}/api/v1/admin/webhooks")))
        .json(&json!({"url": format!("http://127.0.0.1:{port}/hook"), "events": ["filed"]}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let hook: serde_json::Value = created.json().await.map_err(|e| e.to_string())?;
    let id = hook["id"]
        .as_str()
        .ok_or(format!("no webhook: {hook}"))?
        .to_string();
    let mut with = file().await?;
    drained(manager).await?;
    with.add(file().await?);
    drained(manager).await?;
    admin(client.delete(format!("{base}/api/v1/admin/webhooks/{id}")))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    without.add(file().await?);
    Ok(Row {
        backend: backend.into(),
        size,
        operation: "filing, a webhook hears each (raw: none)",
        clients,
        app: with,
        raw: without,
    })
}
