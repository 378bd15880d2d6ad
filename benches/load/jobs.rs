//! The background jobs' measures: an SLA scanner pass, and mail through
//! the dispatcher to a real SMTP server.

use super::*;

/// The SLA scanner over a city whose every report is open: a pass when
/// nothing is due (against the bare query for due reports), then a pass
/// over 1 % of them falling due at once (reports handled per second,
/// against selecting the same reports).
pub(crate) fn scanner_rows(
    manager: &ConnectionManager,
    backend: &str,
    size: usize,
    seconds: f64,
    now: NaiveDateTime,
) -> Result<Vec<Row>, String> {
    use gorod::db::schema::reports;
    let mut conn = manager.connect().map_err(|e| e.to_string())?;
    // Every open report is watched (as filing leaves it); beyond a million
    // reports, the city as generated (rewriting ten million rows to open
    // them all took SQLite over half an hour).
    if size <= 1_000_000 {
        diesel::update(reports::table)
            .set(reports::status.eq("assigned"))
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
    }
    diesel::update(reports::table)
        .filter(reports::status.ne_all(ReportStatus::DONE.map(ReportStatus::as_str)))
        .set(reports::next_sla_at.eq(Some(now + TimeDelta::days(1))))
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    diesel::sql_query("ANALYZE")
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    let snapshot = Arc::new(catalog::load_snapshot(&mut conn).map_err(|e| e.to_string())?);
    let due_query = move |conn: &mut DbConnection| -> Result<Vec<String>, String> {
        reports::table
            .filter(reports::next_sla_at.le(now))
            .order(reports::next_sla_at)
            .select(reports::id)
            .load(conn)
            .map_err(|e| e.to_string())
    };
    let shared = snapshot.clone();
    let idle_app = sql_load(manager, 1, seconds, move |conn, _| {
        let summary = gorod::app::clocks::scan(conn, &shared, now).map_err(|e| e.to_string())?;
        match summary.looked_at {
            0 => Ok(()),
            n => Err(format!("{n} reports were due")),
        }
    })?;
    let idle_raw = sql_load(manager, 1, seconds, move |conn, _| {
        due_query(conn).map(|_| ())
    })?;

    let due =
        diesel::sql_query("UPDATE reports SET next_sla_at = created_at WHERE number % 100 = 0 AND next_sla_at IS NOT NULL")
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let selected = due_query(&mut conn)?.len();
    let raw_time = started.elapsed();
    let started = Instant::now();
    let pass = gorod::app::clocks::scan(&mut conn, &snapshot, now).map_err(|e| e.to_string())?;
    let app_time = started.elapsed();
    if pass.looked_at != due || selected != due {
        return Err(format!(
            "{due} reports were due; the scan looked at {}, the query found {selected}",
            pass.looked_at
        ));
    }
    eprintln!(
        "   scanner: {} reports due, {} marks recorded in {:.2} s",
        due,
        pass.marks,
        app_time.as_secs_f64()
    );
    let once = |count: usize, time: Duration| Measure {
        count,
        seconds: time.as_secs_f64(),
        latencies: vec![time],
    };
    Ok(vec![
        Row {
            backend: backend.into(),
            size,
            operation: "SLA scan pass, nothing due",
            clients: 1,
            app: idle_app,
            raw: idle_raw,
        },
        Row {
            backend: backend.into(),
            size,
            operation: "SLA scan, 1 % due (reports/s)",
            clients: 1,
            app: once(pass.looked_at, app_time),
            raw: once(selected, raw_time),
        },
    ])
}

/// Messages from the outbox to a local SMTP server (the test suite's
/// aiosmtpd server) through the dispatcher, beside the same messages sent
/// by a bare lettre client over as many connections, in the same run.
pub(crate) fn mail_row(
    url: &str,
    backend: &str,
    size: usize,
    now: NaiveDateTime,
) -> Result<Row, String> {
    use gorod::app::dispatch::{self as dispatcher, Pace, Sender};
    use gorod::db::schema::{report_events, reports};
    use gorod::notify::links::Signer;
    use gorod::notify::transport::Mailer;
    const MESSAGES: usize = 2000;
    let server = smtp::SmtpServer::start();
    let mut settings = gorod::config::Settings::load_with_env(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
        Default::default(),
    )
    .map_err(|e| e.to_string())?;
    settings.mail.transport = "smtp".into();
    settings.mail.smtp.port = server.port;
    let mailer = Mailer::from_settings(&settings.mail).map_err(|e| e.to_string())?;
    let sender = Sender {
        mailer: mailer.clone(),
        from: settings.mail.from.parse().map_err(|e| format!("{e}"))?,
        signer: Signer::new(b"bench"),
        public_url: "http://127.0.0.1:8080".into(),
        time_zone: chrono_tz::Europe::Moscow,
    };
    let pace = Pace::from_settings(&settings.mail);
    let pool = gorod::db::connect_and_migrate(url, 4, Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let rows: Vec<_> = {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        // Two recipients of each of the first events: the generated reports'.
        let events: Vec<(String, String, i64)> = report_events::table
            .inner_join(reports::table)
            .select((report_events::id, reports::id, reports::number))
            .order(reports::number)
            .limit(MESSAGES as i64 / 2)
            .load(&mut *conn)
            .map_err(|e| e.to_string())?;
        let rows: Vec<_> = events
            .iter()
            .flat_map(|(event, report, number)| {
                let payload = serde_json::json!({"report": number, "report_id": report,
                    "answer_due_at": now, "note": "Яма заделана"});
                let to = (0..2)
                    .map(|k| (format!("resident{number}.{k}@example.ru"), "ru".to_string()))
                    .collect();
                gorod::db::outbox::messages(event, "answered", to, &payload, now)
            })
            .collect();
        gorod::db::outbox::enqueue(&mut conn, &rows).map_err(|e| e.to_string())?;
        rows
    };
    // The same messages, built once, for the bare client.
    let built: Vec<lettre::Message> = rows
        .iter()
        .map(|row| sender.outgoing(row))
        .map(|o| {
            lettre::Message::builder()
                .from(sender.from.clone())
                .to(o.to.parse().expect("an address"))
                .subject(o.rendered.subject)
                .message_id(Some(o.message_id))
                .multipart(lettre::message::MultiPart::alternative_plain_html(
                    o.rendered.text,
                    o.rendered.html,
                ))
                .expect("a message")
        })
        .collect();

    let started = Instant::now();
    let mut sent = 0;
    loop {
        let taken = dispatcher::round(&pool, &sender, &pace).map_err(|e| e.to_string())?;
        if taken == 0 {
            break;
        }
        sent += taken;
    }
    let app = Measure {
        count: sent,
        seconds: started.elapsed().as_secs_f64(),
        latencies: Vec::new(),
    };

    let raw_client = lettre::SmtpTransport::builder_dangerous("127.0.0.1")
        .port(server.port)
        .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(pace.workers as u32))
        .build();
    let queue = std::sync::Mutex::new(built.into_iter());
    let latencies = std::sync::Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..pace.workers {
            scope.spawn(|| loop {
                let next = queue.lock().expect("the queue").next();
                let Some(message) = next else { break };
                let t = Instant::now();
                use lettre::Transport;
                raw_client.send(&message).expect("the server accepts");
                latencies.lock().expect("latencies").push(t.elapsed());
            });
        }
    });
    let mut latencies = latencies.into_inner().map_err(|e| e.to_string())?;
    latencies.sort();
    let raw = Measure {
        count: latencies.len(),
        seconds: started.elapsed().as_secs_f64(),
        latencies,
    };
    let received = server.count();
    if received != sent * 2 {
        return Err(format!(
            "the SMTP server received {received} of {}",
            sent * 2
        ));
    }
    Ok(Row {
        backend: backend.into(),
        size,
        operation: "mail, outbox to SMTP",
        clients: pace.workers,
        app,
        raw,
    })
}

/// The public statistics: the tallies worked out for the year's reports (as at
/// the first start on an existing database), a refresh with nothing
/// changed (what every scanner pass adds), then the page beside the bare
/// read of the snapshot it is served from.
pub(crate) async fn public_stats_row(
    manager: &ConnectionManager,
    address: &str,
    (backend, size): (&str, usize),
    clients: usize,
    seconds: f64,
    now: NaiveDateTime,
) -> Result<Row, String> {
    use gorod::db::schema::stats_snapshots;
    let mut conn = manager.connect().map_err(|e| e.to_string())?;
    // The first refresh works out the year's reports; an hour later, what the
    // last minutes before it changed; an hour after that, nothing.
    for (what, hours) in [
        ("the year's reports worked out", 0),
        ("a refresh, an hour on", 1),
        ("a refresh, nothing changed", 2),
    ] {
        let started = Instant::now();
        gorod::app::statistics::refresh(&mut conn, now + TimeDelta::hours(hours))
            .map_err(|e| e.to_string())?;
        eprintln!(
            "   public statistics, {what}: {:.2} s",
            started.elapsed().as_secs_f64()
        );
    }
    let base = address.to_string();
    let app = http_load(clients, seconds, move |client, _| {
        let url = format!("{base}/stats");
        async move { expect(client.get(url).send().await, 200).await }
    })
    .await?;
    let raw = sql_load(manager, clients, seconds, |conn, _| {
        stats_snapshots::table
            .find("public")
            .select(stats_snapshots::body)
            .first::<String>(conn)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    Ok(Row {
        backend: backend.into(),
        size,
        operation: "public statistics page (raw: its snapshot)",
        clients,
        app,
        raw,
    })
}
