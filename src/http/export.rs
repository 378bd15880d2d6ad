//! Answers as spreadsheets: the `format` query parameter (`json`, the
//! default, or `csv`; anything else is refused) and CSV bodies whose cells
//! never start a formula.

use crate::locale::Text;
use actix_web::http::header;
use actix_web::HttpResponse;

use super::filters::non_empty;
use super::ApiError;

/// Whether `format` asks for CSV; a format the endpoint does not offer is
/// a 400 naming the field.
pub fn wants_csv(format: Option<String>) -> Result<bool, ApiError> {
    match non_empty(format).as_deref() {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::invalid(
            "format",
            Text::new(
                format!("«{other}» — не json и не csv"),
                format!("'{other}' is not json or csv"),
            ),
        )),
    }
}

/// A cell as a spreadsheet shows it, never as a formula: text that starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`
/// (OWASP's advice on CSV injection). Report fields are the public's words.
pub fn inert(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

/// A CSV attachment named `filename`: the header, then the rows.
pub fn csv_response(
    filename: &str,
    header_row: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<HttpResponse, ApiError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| ApiError::Internal(Box::new(e));
    out.write_record(header_row).map_err(internal)?;
    for row in rows {
        out.write_record(row).map_err(internal)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Internal(Box::new(e.into_error())))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_never_start_a_formula() {
        assert_eq!(
            super::inert("=HYPERLINK(\"x\")".into()),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(super::inert("-1+1".into()), "'-1+1");
        assert_eq!(super::inert("Тверской".into()), "Тверской");
    }

    #[test]
    fn only_json_and_csv_are_offered() {
        assert!(!super::wants_csv(None).unwrap_or(true));
        assert!(super::wants_csv(Some("csv".into())).unwrap_or(false));
        assert!(super::wants_csv(Some("xml".into())).is_err());
    }
}
