//! The resolution ledger in public: its entries (one report's, or all of
//! them as JSON lines), the signed checkpoints and the key that signs them,
//! inclusion and consistency proofs, and verification. Signing a checkpoint
//! on demand is for admins. Hashes, keys and signatures are lowercase hex;
//! times are UTC as the canonical encoding writes them.

use crate::locale::Text;
use actix_web::web::Bytes;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ErrorBody;
use super::filters::{non_empty, parse_count};
use super::{auth, db, ApiError, AppState};
use crate::app::ledger::{self as ledger_log, CheckpointError, Proving};
use crate::ledger::{hex, Checkpoint, Entry};

const TIME: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// One ledger entry, as hashed (see docs/ledger.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub seq: i64,
    pub report_id: String,
    pub report_number: i64,
    /// resolved, confirmed, refuted, auto_confirmed, reopened or closed
    pub kind: String,
    /// `staff:<id>`, `resident:<pseudonym>` or `system`
    pub actor: String,
    pub recorded_at: String,
    pub answer_digest: Option<String>,
    pub photo_digests: Vec<String>,
    pub prev_hash: String,
    pub hash: String,
    /// The photos' checks, when the move carried photos (the entry is then
    /// hashed as version 2; see docs/ledger.md)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

impl From<Entry> for EntryView {
    fn from(e: Entry) -> EntryView {
        EntryView {
            seq: e.seq,
            report_id: e.report_id,
            report_number: e.report_number,
            kind: e.kind,
            actor: e.actor,
            recorded_at: e.recorded_at.format(TIME).to_string(),
            answer_digest: e.answer_digest,
            photo_digests: e.photo_digests,
            prev_hash: e.prev_hash,
            hash: e.hash,
            evidence: e.evidence,
        }
    }
}

/// A signed checkpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointView {
    /// How many entries it covers
    pub size: i64,
    pub head_hash: String,
    /// RFC 6962 Merkle root over the entries' hashes
    pub root_hash: String,
    pub signed_at: String,
    /// The Ed25519 public key that signed it
    pub public_key: String,
    /// Ed25519 over the signed text (see docs/ledger.md)
    pub signature: String,
}

impl From<Checkpoint> for CheckpointView {
    fn from(c: Checkpoint) -> CheckpointView {
        CheckpointView {
            size: c.size,
            head_hash: c.head_hash,
            root_hash: c.root_hash,
            signed_at: c.signed_at.format(TIME).to_string(),
            public_key: c.public_key,
            signature: c.signature,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// Always `Ed25519`
    algorithm: &'static str,
    /// The key that signs new checkpoints
    public_key: String,
    /// Every key whose checkpoints count (the current one first)
    trusted_public_keys: Vec<String>,
    /// The log's name in its C2SP checkpoints
    origin: String,
    /// The signing key as a C2SP signed-note verifier key
    note_key: String,
    /// The witnesses whose cosignatures are published (C2SP verifier keys)
    witnesses: Vec<String>,
    /// Every change of the signing key, oldest first
    rotations: Vec<RotationView>,
}

/// A change of the signing key, signed by both keys (see docs/ledger.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct RotationView {
    old_key: String,
    new_key: String,
    /// The last checkpoint the old key signed
    handover_size: i64,
    rotated_at: String,
    old_signature: String,
    new_signature: String,
}

/// The public key that signs the ledger's checkpoints, its C2SP forms and
/// its history.
#[utoipa::path(tag = "ledger", responses((status = 200, description = "The key", body = KeyView)))]
#[get("/ledger/key")]
pub async fn key(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rotations = db(&state, |conn| Ok(ledger_log::rotations(conn)?)).await?;
    Ok(HttpResponse::Ok().json(KeyView {
        algorithm: "Ed25519",
        public_key: state.ledger_keys.signing.public_hex(),
        trusted_public_keys: state.ledger_keys.trusted.clone(),
        origin: state.ledger_origin.clone(),
        note_key: ledger_log::log_key(&state.services),
        witnesses: state.ledger_witnesses.iter().map(|w| w.to_text()).collect(),
        rotations: rotations
            .into_iter()
            .map(|r| RotationView {
                old_key: r.old_key,
                new_key: r.new_key,
                handover_size: r.handover_size,
                rotated_at: r.rotated_at.format(TIME).to_string(),
                old_signature: r.old_signature,
                new_signature: r.new_signature,
            })
            .collect(),
    }))
}

/// The latest checkpoint as a C2SP `tlog-checkpoint` signed note, with the
/// witnesses' cosignatures: what transparency-log tools and witnesses read.
#[utoipa::path(
    tag = "ledger",
    responses(
        (status = 200, description = "The signed note", content_type = "text/plain", body = String),
        (status = 404, description = "None signed yet", body = ErrorBody),
        (status = 409, description = "The latest checkpoint is not the ledger key's", body = ErrorBody),
    )
)]
#[get("/ledger/log/checkpoint")]
pub async fn log_checkpoint(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let app = state.services.clone();
    let note = db(&state, move |conn| {
        Ok(ledger_log::log_checkpoint(&app, conn)?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(note))
}

/// A C2SP `tlog-tiles` tile of the ledger's Merkle tree
/// (`tile/<L>/<N>[.p/<W>]`) or entry bundle (`tile/entries/<N>[.p/<W>]`,
/// each entry's 32-byte hash). A full tile never changes.
#[utoipa::path(
    tag = "ledger",
    params(("path" = String, Path, description = "The tile's path below tile/, as C2SP tlog-tiles spells it")),
    responses(
        (status = 200, description = "The tile", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No such tile (yet)", body = ErrorBody),
    )
)]
#[get("/ledger/log/tile/{path:.*}")]
pub async fn log_tile(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let missing = || {
        ApiError::NotFound(Text::new(
            "такого фрагмента журнала нет",
            "there is no such tile",
        ))
    };
    let asked = crate::ledger::tiles::parse_path(&path).ok_or_else(missing)?;
    let bytes = db(&state, move |conn| Ok(ledger_log::tile(conn, asked)?))
        .await?
        .ok_or_else(missing)?;
    let full = match asked {
        crate::ledger::tiles::Asked::Hashes { width, .. }
        | crate::ledger::tiles::Asked::Entries { width, .. } => {
            width == crate::ledger::tiles::WIDTH
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            "Cache-Control",
            if full {
                "public, max-age=31536000, immutable"
            } else {
                "public, max-age=60"
            },
        ))
        .body(bytes))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CosignedView {
    /// Cosignatures of known witnesses kept from the note
    kept: usize,
}

/// A witness posts its cosignature of a checkpoint: the checkpoint's signed
/// note with the witness's `cosignature/v1` line among its lines. Only the
/// configured witnesses' lines over a checkpoint this ledger signed count.
#[utoipa::path(
    tag = "ledger",
    request_body(content = String, content_type = "text/plain", description = "The cosigned note"),
    responses(
        (status = 200, description = "Kept", body = CosignedView),
        (status = 400, description = "Not a checkpoint of this ledger", body = ErrorBody),
        (status = 403, description = "No known witness's valid cosignature", body = ErrorBody),
        (status = 409, description = "The ledger signed no such checkpoint", body = ErrorBody),
    )
)]
#[post("/ledger/log/cosignature")]
pub async fn log_cosignature(
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let text = String::from_utf8(body.to_vec()).map_err(|_| {
        ApiError::invalid(
            "signed_note",
            Text::new("не текст UTF-8", "is not UTF-8 text"),
        )
    })?;
    let app = state.services.clone();
    let now = state.clock.now();
    let kept = db(&state, move |conn| {
        Ok(ledger_log::add_cosignature(&app, conn, &text, now)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CosignedView { kept }))
}

/// Every signed checkpoint, oldest first.
#[utoipa::path(tag = "ledger", responses((status = 200, description = "The checkpoints", body = [CheckpointView])))]
#[get("/ledger/checkpoints")]
pub async fn checkpoints(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let all = db(&state, |conn| Ok(ledger_log::checkpoints(conn)?)).await?;
    Ok(HttpResponse::Ok().json(
        all.into_iter()
            .map(CheckpointView::from)
            .collect::<Vec<_>>(),
    ))
}

async fn latest(state: &AppState, size: Option<i64>) -> Result<Checkpoint, ApiError> {
    db(state, move |conn| Ok(ledger_log::checkpoint(conn, size)?))
        .await?
        .ok_or_else(|| match size {
            Some(size) => ApiError::NotFound(Text::new(
                format!("нет контрольной точки на {size} записей"),
                format!("there is no checkpoint of {size} entries"),
            )),
            None => ApiError::NotFound(Text::new(
                "ещё не подписано ни одной контрольной точки",
                "no checkpoint has been signed yet",
            )),
        })
}

/// The latest signed checkpoint.
#[utoipa::path(
    tag = "ledger",
    responses(
        (status = 200, description = "The checkpoint", body = CheckpointView),
        (status = 404, description = "None yet", body = ErrorBody),
    )
)]
#[get("/ledger/checkpoints/latest")]
pub async fn latest_checkpoint(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CheckpointView::from(latest(&state, None).await?)))
}

/// Signs a checkpoint of the ledger now (admins); the scanner also signs
/// one every `ledger.checkpoint_interval_secs` when the ledger grew.
#[utoipa::path(
    tag = "admin",
    security(("token" = [])),
    responses(
        (status = 200, description = "The checkpoint of the whole ledger", body = CheckpointView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The ledger does not verify, so it is not signed", body = ErrorBody),
    )
)]
#[post("/admin/ledger/checkpoints")]
pub async fn sign(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, crate::policy::Permission::Operate).await?;
    let now = state.clock.now();
    let app = state.clone();
    let signed = db(&state, move |conn| {
        use crate::app::jobs::{checkpoint, When};
        match checkpoint(&app, conn, now, When::Now) {
            Ok(Some(c)) => Ok(c),
            Ok(None) => Err(ApiError::Conflict(Text::new(
                "контрольная точка не подписана",
                "no checkpoint was signed",
            ))),
            Err(CheckpointError::Db(e)) => Err(e.into()),
            Err(broken) => Err(ApiError::Conflict(Text::new(
                format!("журнал решений не сходится: {broken}"),
                format!("the ledger does not add up: {broken}"),
            ))),
        }
    })
    .await?;
    let view = CheckpointView::from(signed);
    let after = serde_json::to_value(&view).ok();
    super::audit::record(
        &state,
        &request,
        &caller,
        "ledger.sign",
        ("ledger", None),
        None,
        after,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InclusionQuery {
    /// A report's number: proofs for each of its entries
    #[param(value_type = Option<i64>, minimum = 1)]
    report: Option<String>,
    /// Or one entry's sequence number
    #[param(value_type = Option<i64>, minimum = 1)]
    seq: Option<String>,
    /// The checkpoint (by its size) to prove against; the latest by default
    #[param(value_type = Option<i64>, minimum = 1)]
    size: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProofView {
    entry: EntryView,
    /// The entry's leaf index (its sequence number less one)
    leaf_index: i64,
    /// The RFC 6962 audit path, leaf to root
    audit_path: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionView {
    checkpoint: CheckpointView,
    proofs: Vec<ProofView>,
}

fn optional_number(field: &str, value: Option<String>) -> Result<Option<i64>, ApiError> {
    non_empty(value)
        .map(|text| parse_count(field, Some(text), 0, i64::MAX))
        .transpose()
}

/// Proofs that entries are in a signed checkpoint's Merkle tree: all of a
/// report's entries (`report`), or one (`seq`).
#[utoipa::path(
    tag = "ledger",
    params(InclusionQuery),
    responses(
        (status = 200, description = "The checkpoint and the proofs", body = InclusionView),
        (status = 400, description = "A parameter is wrong", body = ErrorBody),
        (status = 404, description = "No such checkpoint, or nothing of the report in it yet", body = ErrorBody),
    )
)]
#[get("/ledger/inclusion")]
pub async fn inclusion(
    state: web::Data<AppState>,
    query: web::Query<InclusionQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let report = optional_number("report", query.report)?;
    let seq = optional_number("seq", query.seq)?;
    let size = optional_number("size", query.size)?;
    if report.is_some() == seq.is_some() {
        return Err(ApiError::invalid(
            "report",
            Text::new(
                "укажите либо report (номер сообщения), либо seq (номер записи)",
                "give either report (a report's number) or seq (an entry's number)",
            ),
        ));
    }
    let checkpoint = latest(&state, size).await?;
    let covered = checkpoint.size;
    let which = match (report, seq) {
        (Some(number), _) => Proving::Report(number),
        (_, seq) => Proving::Seq(seq.unwrap_or_default()),
    };
    let (entries, proofs) = db(&state, move |conn| {
        Ok(ledger_log::proofs(conn, which, covered)?)
    })
    .await?;
    if entries.is_empty() {
        return Err(ApiError::NotFound(Text::new(
            format!("в контрольной точке на {covered} записей такой записи нет (более новая запись доказуема после подписи следующей точки)"),
            format!("no such entry in the checkpoint of {covered} entries (a newer entry is proved once the next checkpoint is signed)"),
        )));
    }
    Ok(HttpResponse::Ok().json(InclusionView {
        checkpoint: checkpoint.into(),
        proofs: entries
            .into_iter()
            .zip(proofs)
            .map(|(entry, path)| ProofView {
                leaf_index: entry.seq - 1,
                entry: entry.into(),
                audit_path: path.iter().map(|h| hex(h)).collect(),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    /// The older checkpoint's size
    #[param(value_type = Option<i64>, minimum = 1)]
    from: Option<String>,
    /// The newer checkpoint's size; the latest by default
    #[param(value_type = Option<i64>, minimum = 1)]
    to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyView {
    from: CheckpointView,
    to: CheckpointView,
    /// The RFC 6962 consistency proof
    proof: Vec<String>,
}

/// Proof that an older signed checkpoint's tree is a prefix of a newer one's:
/// nothing it covered was changed since.
#[utoipa::path(
    tag = "ledger",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "Both checkpoints and the proof", body = ConsistencyView),
        (status = 400, description = "A parameter is wrong", body = ErrorBody),
        (status = 404, description = "No such checkpoint", body = ErrorBody),
    )
)]
#[get("/ledger/consistency")]
pub async fn consistency(
    state: web::Data<AppState>,
    query: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let from = optional_number("from", query.from)?.ok_or_else(|| {
        ApiError::invalid_as(
            "from",
            "required",
            Text::new(
                "обязательное поле: размер более старой контрольной точки",
                "is required: the older checkpoint's size",
            ),
        )
    })?;
    let to = latest(&state, optional_number("to", query.to)?).await?;
    if from > to.size {
        return Err(ApiError::invalid(
            "from",
            Text::new(
                format!("не может быть больше to ({})", to.size),
                format!("must not be larger than to ({})", to.size),
            ),
        ));
    }
    let old = latest(&state, Some(from)).await?;
    let new_size = to.size;
    let proof = db(&state, move |conn| {
        Ok(ledger_log::consistency_proof(conn, from, new_size)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ConsistencyView {
        from: old.into(),
        to: to.into(),
        proof: proof.iter().map(|h| hex(h)).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyView {
    intact: bool,
    /// Entries walked (all of them when intact)
    entries: Option<i64>,
    checkpoints: Option<usize>,
    head_hash: Option<String>,
    root_hash: Option<String>,
    /// The first bad entry's sequence number, when broken
    first_bad_seq: Option<i64>,
    problem: Option<String>,
}

/// Walks the whole chain and every checkpoint, as `gorod ledger verify`
/// does: 200 when intact, 409 naming the first bad entry when not.
#[utoipa::path(
    tag = "ledger",
    responses(
        (status = 200, description = "Intact", body = VerifyView),
        (status = 409, description = "Broken: the first bad entry and what is wrong", body = VerifyView),
    )
)]
#[get("/ledger/verify")]
pub async fn verify(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let app = state.services.clone();
    let outcome = db(&state, move |conn| Ok(ledger_log::verify(&app, conn)?)).await?;
    Ok(match outcome {
        Ok(intact) => HttpResponse::Ok().json(VerifyView {
            intact: true,
            entries: Some(intact.entries),
            checkpoints: Some(intact.checkpoints),
            head_hash: Some(intact.head_hash),
            root_hash: Some(intact.root_hash),
            first_bad_seq: None,
            problem: None,
        }),
        Err(broken) => HttpResponse::Conflict().json(VerifyView {
            intact: false,
            entries: None,
            checkpoints: None,
            head_hash: None,
            root_hash: None,
            first_bad_seq: Some(broken.seq),
            problem: Some(broken.problem),
        }),
    })
}

/// Every entry, oldest first, as JSON lines (one `EntryView` per line),
/// streamed page by page.
#[utoipa::path(
    tag = "ledger",
    responses((status = 200, description = "One entry per line", content_type = "application/x-ndjson", body = EntryView))
)]
#[get("/ledger/export")]
pub async fn export(state: web::Data<AppState>) -> HttpResponse {
    let pages = futures_util::stream::unfold(Some(0i64), move |after| {
        let state = state.clone();
        async move {
            let after = after?;
            let page = db(&state, move |conn| {
                Ok(ledger_log::entries_after(conn, after)?)
            })
            .await;
            match page {
                Err(e) => Some((Err(e), None)),
                Ok(entries) if entries.is_empty() => None,
                Ok(entries) => {
                    let full = entries.len() as i64 == ledger_log::PAGE;
                    let last = entries.last().map_or(after, |e| e.seq);
                    let mut lines = String::new();
                    for entry in entries {
                        match serde_json::to_string(&EntryView::from(entry)) {
                            Ok(line) => lines.push_str(&line),
                            Err(e) => return Some((Err(ApiError::Internal(Box::new(e))), None)),
                        }
                        lines.push('\n');
                    }
                    Some((Ok(Bytes::from(lines)), full.then_some(last)))
                }
            }
        }
    });
    HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(pages)
}
