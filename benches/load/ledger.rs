//! The ledger at the city's size: as many entries as the city has reports,
//! appended through the ledger's own append (hash chain and tiles), then
//! inclusion proofs of random entries through the public API beside the
//! bare read of the entry they prove.

use super::*;
use gorod::ledger::{Author, Draft, Kind};

/// Entries per append transaction.
const BATCH: usize = 5_000;

pub(crate) async fn ledger_row(
    manager: &ConnectionManager,
    address: &str,
    (backend, size): (&str, usize),
    clients: usize,
    seconds: f64,
    now: NaiveDateTime,
) -> Result<Row, String> {
    let mut conn = manager.connect().map_err(|e| e.to_string())?;
    let reports: Vec<IdNumber> =
        diesel::sql_query("SELECT id, number FROM reports ORDER BY number LIMIT 1000")
            .load(&mut conn)
            .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut progress = Progress::new("ledger entries", size);
    let mut appended = 0;
    while appended < size {
        let drafts: Vec<Draft> = (appended..size.min(appended + BATCH))
            .map(|i| {
                let report = &reports[i % reports.len()];
                Draft {
                    report_id: report.id.clone(),
                    report_number: report.number,
                    kind: if i % 3 == 2 {
                        Kind::Confirmed
                    } else {
                        Kind::Closed
                    },
                    author: Author::System,
                    at: now,
                    text: Some(format!("Выполнено, обращение {}", report.number)),
                    photo_digests: Vec::new(),
                    evidence: None,
                }
            })
            .collect();
        gorod::db::write_transaction(&mut conn, |conn| {
            gorod::db::ledger::append(conn, &drafts, now)
        })
        .map_err(|e| e.to_string())?;
        appended += drafts.len();
        progress.at(appended);
    }
    progress.done();
    eprintln!(
        "   ledger: {size} entries appended in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    settle(&mut conn)?;
    let client = reqwest::Client::new();
    let signed = client
        .post(format!("{address}/api/v1/admin/ledger/checkpoints"))
        .bearer_auth("demo-token-admin")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !signed.status().is_success() {
        return Err(format!("signing a checkpoint: {}", signed.status()));
    }
    let seq = move |i: usize| 1 + (i.wrapping_mul(2_654_435_761) % size) as i64;
    let raw_read = move |conn: &mut DbConnection, i: usize| -> Result<(), String> {
        use gorod::db::schema::ledger_entries;
        ledger_entries::table
            .filter(ledger_entries::seq.eq(seq(i)))
            .select(ledger_entries::hash)
            .first::<String>(conn)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let base = address.to_string();
    let app = http_load(clients, seconds, move |client, i| {
        let url = format!("{base}/api/v1/ledger/inclusion?seq={}", seq(i));
        async move { expect(client.get(url).send().await, 200).await }
    })
    .await?;
    let raw = sql_load(manager, clients, seconds, raw_read)?;
    Ok(Row {
        backend: backend.into(),
        size,
        operation: "ledger inclusion proof (raw: the entry)",
        clients,
        app,
        raw,
    })
}

/// The process's resident memory now and at its peak, in MiB, from
/// `/proc/self/status` (the server runs in this process, beside the load
/// generator).
pub(crate) fn memory_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
