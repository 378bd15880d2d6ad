//! Verification: the whole chain and its checkpoints checked, and every
//! kind of tampering in the database found at its entry.

use super::*;

/// Runs the `gorod` command on the test's database.
fn gorod(app: &common::TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gorod"))
        .args(["--config-dir", common::config_dir().to_str().unwrap()])
        .args(args)
        .env("GOROD__DATABASE__URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("gorod runs")
}

fn drop_triggers(conn: &mut DbConnection) {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConnection::Sqlite(c) => c
            .batch_execute(
                "DROP TRIGGER ledger_entries_no_update; DROP TRIGGER ledger_entries_no_delete;",
            )
            .unwrap(),
        DbConnection::Postgres(c) => c
            .batch_execute("DROP TRIGGER ledger_entries_append_only ON ledger_entries;")
            .unwrap(),
    }
}

/// Drops every guard of the ledger's tables: entries and checkpoints can
/// then be deleted, as someone with full database access could.
pub(crate) fn drop_all_guards(conn: &mut DbConnection) {
    use diesel::connection::SimpleConnection;
    drop_triggers(conn);
    match conn {
        DbConnection::Sqlite(c) => c
            .batch_execute(
                "DROP TRIGGER ledger_checkpoints_no_update; \
                 DROP TRIGGER ledger_checkpoints_no_delete;",
            )
            .unwrap(),
        DbConnection::Postgres(c) => c
            .batch_execute(
                "DROP TRIGGER ledger_checkpoints_append_only ON ledger_checkpoints; \
                 DROP TRIGGER ledger_checkpoints_no_truncate ON ledger_checkpoints;",
            )
            .unwrap(),
    }
}

#[tokio::test]
async fn verify_passes_on_the_demo_city_and_names_an_entry_altered_in_the_database() {
    let app = common::spawn_app_with(|s| s.seed.demo_reports = 80).await;
    let entries = app.count_rows("ledger_entries");
    assert!(
        entries > 10,
        "the demo city's history is in the ledger: {entries}"
    );
    sign_checkpoint(&app).await;
    let (status, verified) = app.get_json("/api/v1/ledger/verify").await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["intact"], true);
    assert_eq!(verified["entries"], entries);
    let output = gorod(&app, &["ledger", "verify"]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains(&format!("{entries} entries")));

    // The triggers refuse any change.
    let mut conn = app.conn();
    let altered = diesel::update(ledger_entries::table.find(7i64))
        .set(ledger_entries::actor.eq("system"))
        .execute(&mut *conn);
    assert!(altered.is_err(), "an UPDATE went through");
    assert!(diesel::delete(ledger_entries::table.find(7i64))
        .execute(&mut *conn)
        .is_err());

    // Someone with the database's keys drops them and rewrites entry 7.
    drop_triggers(&mut conn);
    diesel::update(ledger_entries::table.find(7i64))
        .set(ledger_entries::actor.eq("staff:someone-else"))
        .execute(&mut *conn)
        .unwrap();
    drop(conn);
    let output = gorod(&app, &["ledger", "verify"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("ledger entry 7:"), "{said}");
    let (status, broken) = app.get_json("/api/v1/ledger/verify").await;
    assert_eq!(status, 409);
    assert_eq!(broken["first_bad_seq"], 7, "{broken}");
    // And a broken ledger is not signed.
    let (status, _) = app
        .post_as("demo-token-admin", "/api/v1/admin/ledger/checkpoints", "")
        .await;
    assert_eq!(status, 409);
}

/// One way an attacker with database access might change the ledger, and
/// the sequence number verification must name.
fn tamper(conn: &mut DbConnection, rng: &mut impl rand::Rng, size: i64) -> (String, i64) {
    use gorod::db::rows::LedgerEntryRow;
    let load = |conn: &mut DbConnection, seq: i64| -> LedgerEntryRow {
        ledger_entries::table
            .find(seq)
            .select(LedgerEntryRow::as_select())
            .first(conn)
            .unwrap()
    };
    let put = |conn: &mut DbConnection, row: &LedgerEntryRow| {
        diesel::delete(ledger_entries::table.find(row.seq))
            .execute(conn)
            .unwrap();
        diesel::insert_into(ledger_entries::table)
            .values(row)
            .execute(conn)
            .unwrap();
    };
    let k = rng.random_range(1..=size);
    match rng.random_range(0..7) {
        0 => {
            let mut row = load(conn, k);
            let field = match rng.random_range(0..7) {
                0 => {
                    row.kind = if row.kind == "closed" {
                        "confirmed"
                    } else {
                        "closed"
                    }
                    .into();
                    "kind"
                }
                1 => {
                    row.actor = "system-forged".into();
                    "actor"
                }
                2 => {
                    row.recorded_at += chrono::TimeDelta::seconds(1);
                    "recorded_at"
                }
                3 => {
                    row.answer_digest = Some("ab".repeat(32));
                    "answer_digest"
                }
                4 => {
                    row.report_number += 1;
                    "report_number"
                }
                5 => {
                    row.photo_digests = "cd".repeat(32);
                    "photo_digests"
                }
                _ => {
                    row.hash = "ef".repeat(32);
                    "hash"
                }
            };
            put(conn, &row);
            (format!("edit {field} of {k}"), k)
        }
        1 => {
            // Edited and rehashed: the next entry no longer links (or, for
            // the last, the checkpoint no longer matches).
            let mut entry = gorod::ledger::Entry::from(load(conn, k));
            entry.actor = "staff:forged".into();
            entry.hash = entry.computed_hash();
            put(conn, &LedgerEntryRow::from(&entry));
            (format!("edit and rehash {k}"), (k + 1).min(size))
        }
        2 => {
            diesel::delete(ledger_entries::table.find(k))
                .execute(conn)
                .unwrap();
            (format!("delete {k}"), k)
        }
        3 if k < size => {
            let j = rng.random_range(k + 1..=size);
            let (mut a, mut b) = (load(conn, k), load(conn, j));
            std::mem::swap(&mut a.seq, &mut b.seq);
            diesel::delete(ledger_entries::table.filter(ledger_entries::seq.eq_any([k, j])))
                .execute(conn)
                .unwrap();
            for row in [&a, &b] {
                diesel::insert_into(ledger_entries::table)
                    .values(row)
                    .execute(conn)
                    .unwrap();
            }
            (format!("swap {k} and {j}"), k)
        }
        6 => {
            // The Merkle tiles proofs are made from, changed: proofs would
            // no longer verify against the checkpoints.
            use gorod::db::schema::ledger_tiles;
            let mut hashes: Vec<u8> = ledger_tiles::table
                .find((0, 0i64))
                .select(ledger_tiles::hashes)
                .first(conn)
                .unwrap();
            let at = (k as usize - 1).min(hashes.len() / 32 - 1) * 32;
            hashes[at] ^= 1;
            diesel::update(ledger_tiles::table.find((0, 0i64)))
                .set(ledger_tiles::hashes.eq(hashes))
                .execute(conn)
                .unwrap();
            (format!("alter the tile hash of {k}"), size)
        }
        4 => {
            diesel::delete(ledger_entries::table.filter(ledger_entries::seq.ge(k)))
                .execute(conn)
                .unwrap();
            (format!("truncate from {k}"), k)
        }
        _ => {
            // A forged entry slipped in at k, linked to k - 1, the rest
            // renumbered.
            let rows: Vec<LedgerEntryRow> = ledger_entries::table
                .filter(ledger_entries::seq.ge(k))
                .order(ledger_entries::seq.desc())
                .select(LedgerEntryRow::as_select())
                .load(conn)
                .unwrap();
            for mut row in rows {
                diesel::delete(ledger_entries::table.find(row.seq))
                    .execute(conn)
                    .unwrap();
                row.seq += 1;
                diesel::insert_into(ledger_entries::table)
                    .values(&row)
                    .execute(conn)
                    .unwrap();
            }
            let prev = (k > 1).then(|| gorod::ledger::Entry::from(load(conn, k - 1)));
            let mut forged = gorod::ledger::Entry::from(load(conn, k + 1));
            forged.kind = "closed".into();
            forged.actor = "staff:forger".into();
            let forged = gorod::ledger::Entry::next(prev.as_ref(), forged);
            diesel::insert_into(ledger_entries::table)
                .values(LedgerEntryRow::from(&forged))
                .execute(conn)
                .unwrap();
            // The checkpoint of the whole ledger notices a forged last entry
            // before the renumbered one after it.
            (format!("insert at {k}"), if k == size { k } else { k + 1 })
        }
    }
}

#[tokio::test]
async fn every_kind_of_tampering_in_the_database_is_found_at_its_entry() {
    use rand::SeedableRng;
    let app = common::spawn_app_with(|s| s.seed.demo_reports = 60).await;
    sign_checkpoint(&app).await;
    let size = app.count_rows("ledger_entries");
    assert!(size > 5, "{size}");
    let mut conn = app.conn();
    let trusted = [app.services.ledger_keys.signing.public_hex()];
    assert!(gorod::db::ledger::verify(&mut conn, &trusted)
        .unwrap()
        .is_ok());
    let seed: u64 = rand::random();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for case in 0..60 {
        // Each case in a transaction rolled back, leaving the ledger whole.
        let mut outcome = None;
        let _ = conn.transaction::<(), diesel::result::Error, _>(|conn| {
            drop_triggers(conn);
            let (what, expected) = tamper(conn, &mut rng, size);
            let found = gorod::db::ledger::verify(conn, &trusted).unwrap();
            outcome = Some((what, expected, found));
            Err(diesel::result::Error::RollbackTransaction)
        });
        let (what, expected, found) = outcome.unwrap();
        let broken = found.expect_err(&format!("case {case} (seed {seed}): {what} went unnoticed"));
        assert_eq!(
            broken.seq, expected,
            "case {case} (seed {seed}): {what}: {broken}"
        );
    }
    assert!(gorod::db::ledger::verify(&mut conn, &trusted)
        .unwrap()
        .is_ok());
}
