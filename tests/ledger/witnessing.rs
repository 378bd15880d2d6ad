//! The ledger as the transparency-log ecosystem sees it: proofs made from
//! the stored tiles (the same as from every entry, in a few reads), the C2SP
//! checkpoint and tiles checked by an independent implementation from
//! crates.io (Cloudflare's `signed_note` and `tlog_tiles`), and a witness
//! that cosigns, and catches a history rewritten consistently with a
//! re-signed checkpoint.

use super::*;
use gorod::ledger::merkle::{self, Hash};
use gorod::ledger::{Author, Draft, Kind};

/// Appends `n` closed-report entries for one report, a thousand at a time.
fn append(
    conn: &mut DbConnection,
    report_id: &str,
    number: i64,
    n: usize,
    at: chrono::NaiveDateTime,
) {
    let drafts: Vec<Draft> = (0..n)
        .map(|i| Draft {
            report_id: report_id.to_string(),
            report_number: number,
            kind: Kind::Closed,
            author: Author::System,
            at: at + chrono::TimeDelta::milliseconds(i as i64),
            text: Some(format!("answer {i}")),
            photo_digests: Vec::new(),
            evidence: None,
        })
        .collect();
    for chunk in drafts.chunks(1000) {
        gorod::db::write_transaction(conn, |conn| gorod::db::ledger::append(conn, chunk, at))
            .unwrap();
    }
}

/// `append` off the test's runtime, so that its connections stay served.
async fn append_many(app: &common::TestApp, report_id: &str, number: i64, n: usize) {
    let pool = app.pool.clone();
    let (report_id, at) = (report_id.to_string(), app.clock.now());
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        append(&mut conn, &report_id, number, n, at);
    })
    .await
    .unwrap();
}

/// Every entry's Merkle leaf hash, from the entries themselves.
fn leaves(conn: &mut DbConnection) -> Vec<Hash> {
    let hashes: Vec<String> = ledger_entries::table
        .order(ledger_entries::seq)
        .select(ledger_entries::hash)
        .load(conn)
        .unwrap();
    hashes
        .iter()
        .map(|h| merkle::leaf_hash(&gorod::ledger::unhex(h).unwrap()))
        .collect()
}

#[tokio::test]
async fn proofs_at_a_hundred_thousand_entries_are_unchanged_and_read_a_few_tiles() {
    use rand::Rng;
    let app = common::spawn_app().await;
    let (id, number, _) = file(&app).await;
    append_many(&app, &id, number, 100_000).await;
    let mut conn = app.conn();
    let all = leaves(&mut conn);
    assert_eq!(all.len(), 100_000);
    let mut rng = rand::rng();
    let mut reads = Vec::new();
    for size in [100usize, 1_000, 10_000, 100_000] {
        let part = &all[..size];
        let mut most = 0;
        for _ in 0..12 {
            let index = rng.random_range(0..size);
            let before = gorod::db::ledger::tiles_read();
            let proof =
                gorod::db::ledger::inclusion_proofs(&mut conn, size as i64, &[index as i64 + 1])
                    .unwrap();
            most = most.max(gorod::db::ledger::tiles_read() - before);
            // Today's proof: RFC 6962 over every leaf.
            assert_eq!(
                proof[0],
                merkle::inclusion_proof(part, index).unwrap(),
                "entry {} at {size}",
                index + 1
            );
            let old = rng.random_range(1..=size);
            let before = gorod::db::ledger::tiles_read();
            let consistency =
                gorod::db::ledger::consistency_proof(&mut conn, old as i64, size as i64).unwrap();
            most = most.max(gorod::db::ledger::tiles_read() - before);
            assert_eq!(
                consistency,
                merkle::consistency_proof(part, old).unwrap(),
                "from {old} to {size}"
            );
        }
        assert_eq!(
            gorod::db::ledger::root_at(&mut conn, size as i64).unwrap(),
            merkle::root(part)
        );
        reads.push((size, most));
    }
    eprintln!("tiles read per proof, at most: {reads:?}");
    // At most two tiles per tile level: a logarithmic number of reads
    // (base 256), whatever the ledger's size.
    for (size, most) in reads {
        let levels = (size as f64).log(256.0).ceil() as u64;
        assert!(most <= 2 * levels, "{most} tiles read at {size}");
    }
    drop(conn);
    // The service's proofs are those.
    sign_checkpoint(&app).await;
    let (status, body) = app.get_json("/api/v1/ledger/inclusion?seq=54321").await;
    assert_eq!(status, 200, "{body}");
    let size = body["checkpoint"]["size"].as_i64().unwrap() as usize;
    let expected: Vec<String> = merkle::inclusion_proof(&all[..size], 54_320)
        .unwrap()
        .iter()
        .map(|h| gorod::ledger::hex(h))
        .collect();
    assert_eq!(body["proofs"][0]["audit_path"], json!(expected));
}

/// Reads the ledger's C2SP tiles over HTTP, spelling their paths as the
/// tlog-tiles specification does (not with Gorod's code).
struct HttpTiles {
    base: String,
}

fn c2sp_path(level: u8, mut n: u64, width: u32) -> String {
    let mut parts = vec![format!("{:03}", n % 1000)];
    while n >= 1000 {
        n /= 1000;
        parts.push(format!("x{:03}", n % 1000));
    }
    parts.reverse();
    let partial = if width == 256 {
        String::new()
    } else {
        format!(".p/{width}")
    };
    format!("tile/{level}/{}{partial}", parts.join("/"))
}

impl tlog_tiles::TileReader for HttpTiles {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                let url = format!(
                    "{}/{}",
                    self.base,
                    c2sp_path(t.level(), t.level_index(), t.width())
                );
                ureq::get(&url)
                    .call()
                    .map_err(|e| tlog_tiles::Error::InvalidInput(format!("{url}: {e}")))?
                    .body_mut()
                    .read_to_vec()
                    .map_err(|e| tlog_tiles::Error::InvalidInput(e.to_string()))
            })
            .collect()
    }

    fn save_tiles(&self, _tiles: &[tlog_tiles::Tile], _data: &[Vec<u8>]) {}
}

#[tokio::test]
async fn the_c2sp_checkpoint_and_tiles_verify_with_an_independent_implementation() {
    let app = common::spawn_app().await;
    let (id, number, _) = file(&app).await;
    // Enough entries for full tiles at two levels and partial ones.
    append_many(&app, &id, number, 70_000).await;
    let signed = sign_checkpoint(&app).await;
    let size = signed["size"].as_u64().unwrap();
    let (_, key) = app.get_json("/api/v1/ledger/key").await;
    let note_key = key["note_key"].as_str().unwrap().to_string();
    let response = app.get("/api/v1/ledger/log/checkpoint").await;
    assert_eq!(response.status().as_u16(), 200);
    let checkpoint_note = response.text().await.unwrap();

    let base = format!("{}/api/v1/ledger/log", app.address);
    let root_hex = signed["root_hash"].as_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || {
        // The signed note and its checkpoint, read by signed_note and
        // tlog_tiles.
        let note = signed_note::Note::from_bytes(checkpoint_note.as_bytes()).unwrap();
        let verifier = signed_note::StandardVerifier::new(&note_key).unwrap();
        let verifiers = signed_note::VerifierList::new(vec![Box::new(verifier)]);
        let (verified, _) = note
            .verify(&verifiers)
            .expect("the log's signature verifies");
        assert_eq!(verified.len(), 1);
        let checkpoint = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
        assert_eq!(checkpoint.size(), size);
        assert_eq!(gorod::ledger::hex(&checkpoint.hash().0), root_hex);
        // A forged note does not verify.
        let forged = checkpoint_note.replace(&format!("\n{size}\n"), &format!("\n{}\n", size + 1));
        let forged = signed_note::Note::from_bytes(forged.as_bytes()).unwrap();
        assert!(forged.verify(&verifiers).is_err());

        // The tiles: tlog_tiles reads them, checks them against the signed
        // root, and proves entries from them.
        let tiles = HttpTiles { base: base.clone() };
        let reader = tlog_tiles::TileHashReader::new(size, *checkpoint.hash(), &tiles);
        assert_eq!(
            tlog_tiles::tree_hash(size, &reader).unwrap(),
            *checkpoint.hash()
        );
        let entries = ureq::get(&format!("{base}/tile/entries/x001/234"))
            .call()
            .map_or(Vec::new(), |mut r| r.body_mut().read_to_vec().unwrap());
        assert!(entries.is_empty() || entries.len() == 256 * 34);
        for n in [0u64, 1, 255, 256, 40_000, 65_535, 65_536, size - 1] {
            let proof = tlog_tiles::prove_record(size, n, &reader).unwrap();
            // The record is the entry's hash, as the entry bundle holds it.
            let bundle = ureq::get(&format!(
                "{base}/{}",
                c2sp_path(0, n / 256, 256).replacen("tile/0/", "tile/entries/", 1)
            ))
            .call()
            .or_else(|_| {
                let width = (size - n / 256 * 256).min(256) as u32;
                ureq::get(&format!(
                    "{base}/{}",
                    c2sp_path(0, n / 256, width).replacen("tile/0/", "tile/entries/", 1)
                ))
                .call()
            })
            .unwrap()
            .body_mut()
            .read_to_vec()
            .unwrap();
            let at = (n % 256) as usize * 34;
            assert_eq!(&bundle[at..at + 2], &[0, 32]);
            let record = tlog_tiles::record_hash(&bundle[at + 2..at + 34]);
            tlog_tiles::check_record(&proof, size, *checkpoint.hash(), n, record)
                .unwrap_or_else(|e| panic!("entry {}: {e}", n + 1));
        }
        // A consistency proof between two sizes, from the tiles.
        let older = 12_345;
        let older_hash = tlog_tiles::tree_hash(older, &reader).unwrap();
        let proof = tlog_tiles::prove_tree(size, older, &reader).unwrap();
        tlog_tiles::check_tree(&proof, size, *checkpoint.hash(), older, older_hash).unwrap();
    })
    .await
    .unwrap();

    // A full tile is immutable; a missing one is 404.
    let full = app.get("/api/v1/ledger/log/tile/0/000").await;
    assert_eq!(full.status().as_u16(), 200);
    assert!(full.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(full.bytes().await.unwrap().len(), 256 * 32);
    for missing in [
        "tile/0/x001/000",
        "tile/3/000",
        "tile/0/000.p/300",
        "tile/zz",
    ] {
        let response = app.get(&format!("/api/v1/ledger/log/{missing}")).await;
        assert_eq!(response.status().as_u16(), 404, "{missing}");
    }
}

/// Runs `gorod witness …` and returns its exit code and what it said.
fn witness(args: &[&str]) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gorod"))
        .arg("witness")
        .args(args)
        .output()
        .expect("gorod witness runs");
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn assert_cosigned(code: Option<i32>, said: &str, checkpoint: &Value) {
    assert_eq!(code, Some(0), "{said}");
    let expected = format!("cosigned the checkpoint of {} entries", checkpoint["size"]);
    assert!(said.contains(&expected), "{said}");
}

#[tokio::test]
async fn a_witness_cosigns_each_checkpoint_and_catches_a_rewritten_history() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("witness.key");
    let state = dir.path().join("witness.state");
    let key_file = key_file.to_str().unwrap();
    let state = state.to_str().unwrap();
    let name = "news.example/witness";
    let (code, vkey) = witness(&["init", "--name", name, "--key-file", key_file]);
    assert_eq!(code, Some(0), "{vkey}");
    let vkey = vkey.trim().to_string();
    let app = common::spawn_app_with(|s| {
        s.seed.demo_reports = 30;
        s.ledger.witnesses = vec![vkey.clone()];
    })
    .await;
    let (_, key) = app.get_json("/api/v1/ledger/key").await;
    let log_key = key["note_key"].as_str().unwrap().to_string();
    assert_eq!(key["witnesses"], json!([vkey]));
    let watch = |extra: &[&str]| {
        let mut args = vec![
            "watch",
            "--once",
            "--log",
            &app.address,
            "--name",
            name,
            "--key-file",
            key_file,
            "--state",
            state,
        ];
        args.extend_from_slice(extra);
        witness(&args)
    };

    // Nothing signed yet: the round fails, and says why.
    let (code, said) = watch(&["--log-key", &log_key]);
    assert_eq!(code, Some(1), "{said}");

    let first = sign_checkpoint(&app).await;
    let (code, said) = watch(&["--log-key", &log_key]);
    assert_cosigned(code, &said, &first);
    // The log publishes the checkpoint with the witness's cosignature, and
    // an independent verifier ignores the line it does not know.
    let published = app
        .get("/api/v1/ledger/log/checkpoint")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(published.matches('\u{2014}').count(), 2, "{published}");
    assert!(
        published.contains(&format!("\u{2014} {name} ")),
        "{published}"
    );
    let note = signed_note::Note::from_bytes(published.as_bytes()).unwrap();
    let verifiers = signed_note::VerifierList::new(vec![Box::new(
        signed_note::StandardVerifier::new(&log_key).unwrap(),
    )]);
    note.verify(&verifiers).unwrap();

    // The ledger grows: the witness checks the new tree extends the one it
    // saw, and cosigns.
    for _ in 0..3 {
        answered(&app).await;
    }
    let second = sign_checkpoint(&app).await;
    assert!(second["size"].as_i64() > first["size"].as_i64());
    let (code, said) = watch(&[]);
    assert_cosigned(code, &said, &second);

    // Someone with the database and the key rewrites history: entries from
    // the tenth on are replaced, the chain and tiles recomputed, the later
    // checkpoints deleted, and a new checkpoint signed with `gorod ledger
    // checkpoint`. Every check inside the service passes.
    let size = second["size"].as_i64().unwrap();
    {
        let mut conn = app.conn();
        tampering::drop_all_guards(&mut conn);
        use gorod::db::schema::{ledger_checkpoints, ledger_cosignatures, ledger_tiles};
        diesel::delete(ledger_cosignatures::table)
            .execute(&mut *conn)
            .unwrap();
        diesel::delete(ledger_checkpoints::table)
            .execute(&mut *conn)
            .unwrap();
        diesel::delete(ledger_tiles::table)
            .execute(&mut *conn)
            .unwrap();
        diesel::delete(ledger_entries::table.filter(ledger_entries::seq.ge(10)))
            .execute(&mut *conn)
            .unwrap();
        let (id, number): (String, i64) = ledger_entries::table
            .find(1i64)
            .select((ledger_entries::report_id, ledger_entries::report_number))
            .first(&mut *conn)
            .unwrap();
        drop(conn);
        append_many(&app, &id, number, size as usize).await;
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gorod"))
        .args(["--config-dir", common::config_dir().to_str().unwrap()])
        .args(["ledger", "checkpoint"])
        .env("GOROD__DATABASE__URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let (status, verified) = app.get_json("/api/v1/ledger/verify").await;
    assert_eq!(status, 200, "the service finds nothing wrong: {verified}");

    // The witness does.
    let (code, said) = watch(&[]);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains("REWRITTEN"), "{said}");
    assert!(
        said.contains(&format!("does not extend the tree of {size}")),
        "{said}"
    );
    // It cosigned nothing, and keeps refusing.
    assert_eq!(app.count_rows("ledger_cosignatures"), 0);
    let (code, _) = watch(&[]);
    assert_eq!(code, Some(3));
}

#[tokio::test]
async fn cosignatures_of_unknown_witnesses_or_unsigned_checkpoints_are_refused() {
    let app = common::spawn_app_with(|s| s.seed.demo_reports = 10).await;
    sign_checkpoint(&app).await;
    let published = app
        .get("/api/v1/ledger/log/checkpoint")
        .await
        .text()
        .await
        .unwrap();
    let post = |body: String| {
        let app = &app;
        async move {
            let response = app
                .client
                .post(format!("{}/api/v1/ledger/log/cosignature", app.address))
                .header("Content-Type", "text/plain")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    // Not a note: named.
    let (status, body) = post("hello".into()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "signed_note", "{body}");
    // A stranger's cosignature.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let parsed = gorod::ledger::note::Note::parse(&published).unwrap();
    let mut cosigned = parsed.clone();
    cosigned.lines.push(gorod::ledger::note::cosign(
        &parsed.text,
        "stranger.example",
        &stranger,
        1,
    ));
    let (status, body) = post(cosigned.to_text()).await;
    assert_eq!(status, 403, "{body}");
    // A checkpoint the log never signed.
    let forged_text = parsed.text.replacen('\n', "\n9", 1);
    let forged = gorod::ledger::note::Note {
        text: forged_text.clone(),
        lines: vec![gorod::ledger::note::cosign(
            &forged_text,
            "stranger.example",
            &stranger,
            1,
        )],
    };
    let (status, body) = post(forged.to_text()).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(app.count_rows("ledger_cosignatures"), 0);
}
