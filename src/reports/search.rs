//! The words of reports as search reads them. A report's text (its
//! description, the city's public answers, its address) is cut into words,
//! folded (lower case, ё as е), stop words dropped, and each word brought
//! to its stem by the Snowball stemmer of its alphabet (Russian for
//! Cyrillic, English for Latin), so that «ямы», «яму» and «яма» are one
//! term and "potholes" is "pothole". Numbers are kept as written (house
//! numbers, «12к2»). A term carries the sum of the weights of the fields it
//! is in: a match in the description counts most, then the answers, then
//! the address. A query is read the same way; a report matches when it has
//! every term of the query, and ranks by the sum of their weights.

use std::collections::BTreeMap;

use rust_stemmers::{Algorithm, Stemmer};

/// Where a word was found, and what a match there weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Description,
    Answer,
    Address,
}

impl Field {
    fn weight(self) -> i32 {
        match self {
            Field::Description => 4,
            Field::Answer => 2,
            Field::Address => 1,
        }
    }
}

/// The most terms a query is read for (the rest is ignored).
pub const MAX_QUERY_TERMS: usize = 8;
/// The longest term kept; longer words are cut.
const MAX_TERM_CHARS: usize = 40;

const STOP_RU: &[&str] = &[
    "а",
    "без",
    "бы",
    "был",
    "была",
    "были",
    "было",
    "в",
    "вам",
    "во",
    "вот",
    "все",
    "всё",
    "вы",
    "да",
    "для",
    "до",
    "его",
    "ее",
    "её",
    "если",
    "есть",
    "еще",
    "ещё",
    "же",
    "за",
    "и",
    "из",
    "или",
    "им",
    "их",
    "к",
    "как",
    "ко",
    "когда",
    "кто",
    "ли",
    "мне",
    "мы",
    "на",
    "над",
    "не",
    "нет",
    "ни",
    "но",
    "о",
    "об",
    "он",
    "она",
    "они",
    "оно",
    "от",
    "по",
    "под",
    "при",
    "с",
    "со",
    "так",
    "там",
    "то",
    "тоже",
    "только",
    "у",
    "уже",
    "что",
    "чтобы",
    "это",
    "этот",
    "я",
];
const STOP_EN: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is",
    "it", "its", "of", "on", "or", "that", "the", "there", "this", "to", "was", "were", "with",
];

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

/// The words of a text, folded, stop words dropped: (word, its alphabet).
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('ё', "е"))
        .filter(|w| {
            let short = w.chars().count() < 2 && !w.chars().all(|c| c.is_ascii_digit());
            !short && !STOP_RU.contains(&w.as_str()) && !STOP_EN.contains(&w.as_str())
        })
}

/// Reads words into terms with the stemmers, built once per text.
struct Stemmers {
    ru: Stemmer,
    en: Stemmer,
}

impl Stemmers {
    fn new() -> Stemmers {
        Stemmers {
            ru: Stemmer::create(Algorithm::Russian),
            en: Stemmer::create(Algorithm::English),
        }
    }

    fn term(&self, word: &str) -> String {
        let stem = if word.chars().any(|c| c.is_ascii_digit()) {
            word.to_string()
        } else if word.chars().any(is_cyrillic) {
            self.ru.stem(word).into_owned()
        } else {
            self.en.stem(word).into_owned()
        };
        stem.chars().take(MAX_TERM_CHARS).collect()
    }
}

/// A report's terms with their weights, in term order.
pub fn terms(fields: &[(Field, &str)]) -> Vec<(String, i32)> {
    let stemmers = Stemmers::new();
    let mut found: BTreeMap<String, u8> = BTreeMap::new();
    for (field, text) in fields {
        let bit = match field {
            Field::Description => 1,
            Field::Answer => 2,
            Field::Address => 4,
        };
        for word in words(text) {
            *found.entry(stemmers.term(&word)).or_default() |= bit;
        }
    }
    found
        .into_iter()
        .map(|(term, bits)| {
            let weight = [Field::Description, Field::Answer, Field::Address]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, f)| f.weight())
                .sum();
            (term, weight)
        })
        .collect()
}

/// What a person typed into the search box.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// The terms a report must all have (distinct, at most
    /// [`MAX_QUERY_TERMS`]).
    pub terms: Vec<String>,
    /// A report number, when the query is one (`123`, `№123`, `#123`).
    pub number: Option<i64>,
    /// Email addresses in the query (staff search reporters' contacts).
    pub emails: Vec<String>,
}

impl Query {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.number.is_none() && self.emails.is_empty()
    }
}

/// Reads a query: a number alone is a report number; words with `@` are
/// email addresses; the rest are terms.
pub fn query(text: &str) -> Query {
    let trimmed = text.trim().trim_start_matches(['№', '#']).trim();
    if let Ok(number) = trimmed.parse::<i64>() {
        if number > 0 {
            return Query {
                number: Some(number),
                ..Query::default()
            };
        }
    }
    let mut emails = Vec::new();
    let mut rest = String::new();
    for part in text.split_whitespace() {
        if part.contains('@') {
            emails.push(part.trim_matches([',', ';', '<', '>']).to_lowercase());
        } else {
            rest.push(' ');
            rest.push_str(part);
        }
    }
    let stemmers = Stemmers::new();
    let mut terms: Vec<String> = Vec::new();
    for word in words(&rest) {
        let term = stemmers.term(&word);
        if !terms.contains(&term) && terms.len() < MAX_QUERY_TERMS {
            terms.push(term);
        }
    }
    Query {
        terms,
        number: None,
        emails,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(fields: &[(Field, &str)], typed: &str) -> bool {
        let terms: Vec<String> = terms(fields).into_iter().map(|(t, _)| t).collect();
        let q = query(typed);
        !q.terms.is_empty() && q.terms.iter().all(|t| terms.contains(t))
    }

    #[test]
    fn another_form_of_a_word_finds_it() {
        let report = [(
            Field::Description,
            "Глубокая яма на дороге у подъезда, ёлка упала",
        )];
        assert!(has(&report, "ямы"));
        assert!(has(&report, "яму на дорогах"));
        assert!(has(&report, "елки"));
        assert!(!has(&report, "люк"));
        let english = [(Field::Description, "Two deep potholes near the school")];
        assert!(has(&english, "pothole"));
        assert!(has(&english, "Schools"));
    }

    #[test]
    fn weights_add_up_by_field() {
        let t = terms(&[
            (Field::Description, "Яма"),
            (Field::Answer, "Яму заделали"),
            (Field::Address, "Тверская улица, 12к2"),
        ]);
        let weight = |term: &str| t.iter().find(|(x, _)| x == term).map(|(_, w)| *w);
        assert_eq!(weight("ям"), Some(6));
        assert_eq!(weight("12к2"), Some(1));
        assert_eq!(weight("на"), None);
    }

    #[test]
    fn numbers_and_emails_are_read_apart() {
        assert_eq!(query(" №42 ").number, Some(42));
        assert_eq!(query("#7").number, Some(7));
        let q = query("Resident@Example.org яма");
        assert_eq!(q.emails, vec!["resident@example.org"]);
        assert_eq!(q.terms, vec!["ям"]);
        assert!(query("и на в").is_empty());
    }
}
