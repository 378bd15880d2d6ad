//! Addresses as people write them and as a registry holds them, read into
//! the same shape: the street's words (lower case, ё as е, the kind of
//! street — улица, проспект, переулок… — set apart, since people leave it
//! out or abbreviate it) and the house (number, letter, fraction, корпус,
//! строение). "ул. Тверская, д. 12к2", "Тверская улица 12 корп. 2" and
//! "12 bldg 2 Tverskaya St" all read as the street «тверская» (or
//! «tverskaya») and the house `12к2`.
//!
//! Matching a typed query against a street's words: every typed word must
//! be one of the street's, the last one may be the start of one (the
//! person is still typing), and a word of five letters or more may be one
//! slip away (a letter missing, extra, wrong, or two swapped). The cost
//! counts the slips, so exact matches rank first.

/// A house number: `12`, `12а`, `12/1`, `12к2`, `12с3`, `12ак2с1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct House {
    pub number: u32,
    pub letter: Option<char>,
    /// The part after a slash, as in 12/1 (a corner house).
    pub fraction: Option<u32>,
    /// Корпус (building), as written: `2`, `2а`.
    pub building: Option<String>,
    /// Строение (structure).
    pub structure: Option<String>,
}

impl House {
    /// The form registries use: `12ак2с1`, `12/1`.
    pub fn canonical(&self) -> String {
        let mut out = self.number.to_string();
        if let Some(letter) = self.letter {
            out.push(letter);
        }
        if let Some(fraction) = self.fraction {
            out.push_str(&format!("/{fraction}"));
        }
        if let Some(building) = &self.building {
            out.push('к');
            out.push_str(building);
        }
        if let Some(structure) = &self.structure {
            out.push('с');
            out.push_str(structure);
        }
        out
    }
}

/// An address read into words and a house.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    /// The street's own words, in the order written.
    pub words: Vec<String>,
    /// The kind of street, when one was written (in Russian: `улица`).
    pub kind: Option<&'static str>,
    pub house: Option<House>,
}

/// The kinds of street and how they are written, in Russian and in
/// transliterated or English forms.
const KINDS: &[(&str, &[&str])] = &[
    (
        "улица",
        &["ул", "улица", "ul", "ulitsa", "st", "street", "str"],
    ),
    (
        "проспект",
        &[
            "пр-т",
            "просп",
            "проспект",
            "prospekt",
            "prospect",
            "pr",
            "ave",
            "avenue",
        ],
    ),
    (
        "переулок",
        &["пер", "переулок", "pereulok", "per", "lane", "ln"],
    ),
    (
        "площадь",
        &["пл", "площадь", "ploshchad", "pl", "square", "sq"],
    ),
    (
        "бульвар",
        &["б-р", "бул", "бульвар", "bulvar", "boulevard", "blvd"],
    ),
    (
        "набережная",
        &[
            "наб",
            "набережная",
            "naberezhnaya",
            "nab",
            "embankment",
            "emb",
        ],
    ),
    ("шоссе", &["ш", "шоссе", "shosse", "highway", "hwy"]),
    ("проезд", &["пр-д", "проезд", "proezd", "passage"]),
    ("тупик", &["туп", "тупик", "tupik"]),
];

/// Words that say what the number after them is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    House,
    Building,
    Structure,
}

fn marker(word: &str) -> Option<Marker> {
    match word {
        "д" | "дом" | "h" | "house" | "no" => Some(Marker::House),
        "к" | "корп" | "корпус" | "k" | "korp" | "korpus" | "building" | "bldg" | "bld" => {
            Some(Marker::Building)
        }
        "с" | "стр" | "строение" | "s" | "stroenie" | "structure" => {
            Some(Marker::Structure)
        }
        _ => None,
    }
}

fn kind(word: &str) -> Option<&'static str> {
    KINDS
        .iter()
        .find(|(_, forms)| forms.contains(&word))
        .map(|(kind, _)| *kind)
}

/// A word in its compared form: lower case, ё as е.
pub fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

/// The text's tokens: runs of letters, digits and inner hyphens; a run
/// without a hyphen splits where letters and digits meet (`12к2` → 12, к,
/// 2) and one with a hyphen stays whole (`1-я`, `пр-т`). A slash is a
/// token of its own.
fn tokens(text: &str) -> Vec<String> {
    let folded = fold(text);
    let mut runs: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in folded.chars() {
        if c.is_alphanumeric() || (c == '-' && !run.is_empty()) {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
        if c == '/' {
            runs.push("/".into());
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    let mut out = Vec::new();
    for run in runs {
        let run = run.trim_end_matches('-').to_string();
        if run.is_empty() {
            continue;
        }
        if run.contains('-') {
            out.push(run);
            continue;
        }
        let mut part = String::new();
        let mut digits = None;
        for c in run.chars() {
            let is_digit = c.is_ascii_digit();
            if digits.is_some_and(|d| d != is_digit) {
                out.push(std::mem::take(&mut part));
            }
            digits = Some(is_digit);
            part.push(c);
        }
        if !part.is_empty() {
            out.push(part);
        }
    }
    out
}

fn is_number(token: &str) -> bool {
    !token.is_empty() && token.chars().all(|c| c.is_ascii_digit())
}

/// Reads an address as written.
pub fn parse(text: &str) -> Parsed {
    let tokens = tokens(text);
    let mut parsed = Parsed::default();
    let mut house: Option<House> = None;
    let mut expecting: Option<Marker> = None;
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].as_str();
        let next = tokens.get(i + 1).map(String::as_str);
        if let Some(m) = marker(token) {
            // A marker counts when a number (or for a house, its number)
            // follows; otherwise it is a word ("с" alone, "к" alone).
            if next.is_some_and(is_number) {
                expecting = Some(m);
                i += 1;
                continue;
            }
        }
        if is_number(token) {
            let value = token.to_string();
            match expecting.take() {
                Some(Marker::Building) if house.is_some() => {
                    let (part, used) = with_letter(&value, next);
                    if let Some(h) = house.as_mut() {
                        h.building = Some(part);
                    }
                    i += 1 + used;
                    continue;
                }
                Some(Marker::Structure) if house.is_some() => {
                    let (part, used) = with_letter(&value, next);
                    if let Some(h) = house.as_mut() {
                        h.structure = Some(part);
                    }
                    i += 1 + used;
                    continue;
                }
                _ if house.is_none() && next != Some("года") => {
                    let mut h = House {
                        number: token.parse().unwrap_or(0),
                        ..House::default()
                    };
                    let mut used = 1;
                    if let Some(letter) = next.filter(|n| is_house_letter(n)) {
                        h.letter = letter.chars().next();
                        used += 1;
                    }
                    if tokens.get(i + used).map(String::as_str) == Some("/") {
                        if let Some(f) = tokens.get(i + used + 1).filter(|t| is_number(t)) {
                            h.fraction = f.parse().ok();
                            used += 2;
                        }
                    }
                    house = Some(h);
                    i += used;
                    continue;
                }
                _ => {}
            }
        }
        if token != "/" {
            match kind(token) {
                Some(k) if parsed.kind.is_none() => parsed.kind = Some(k),
                _ => parsed.words.push(token.to_string()),
            }
        }
        i += 1;
    }
    parsed.house = house;
    parsed
}

/// A single letter that is part of a house number (12а, 12 б), not a
/// marker followed by a number.
fn is_house_letter(token: &str) -> bool {
    let mut chars = token.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic())
        && marker(token).is_none()
}

/// A building or structure part with the letter written after it (2а).
fn with_letter(number: &str, next: Option<&str>) -> (String, usize) {
    match next.filter(|n| is_house_letter(n)) {
        Some(letter) => (format!("{number}{letter}"), 1),
        None => (number.to_string(), 0),
    }
}

/// How many single-letter edits (insert, delete, replace, swap two
/// neighbours) turn `a` into `b`, up to `limit + 1`.
pub fn distance(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let width = b.len() + 1;
    let mut rows = vec![vec![0usize; width]; a.len() + 1];
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i][0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()].min(limit + 1)
}

/// Whether the typed words name a street with these words, and at what
/// cost (0: exactly; each slip adds 1). The last typed word may be the
/// start of a street word; words of five letters or more may be one slip
/// away.
pub fn street_cost(typed: &[String], street: &[String]) -> Option<u32> {
    let mut cost = 0;
    for (i, word) in typed.iter().enumerate() {
        let last = i + 1 == typed.len();
        let best = street
            .iter()
            .filter_map(|s| {
                if s == word {
                    return Some(0);
                }
                if last && word.chars().count() >= 2 && s.starts_with(word.as_str()) {
                    return Some(0);
                }
                if word.chars().count() >= 5 && distance(word, s, 1) <= 1 {
                    return Some(1);
                }
                None
            })
            .min()?;
        cost += best;
    }
    Some(cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn house(text: &str) -> String {
        parse(text).house.map(|h| h.canonical()).unwrap_or_default()
    }

    #[test]
    fn the_ways_people_write_a_house_read_the_same() {
        for written in [
            "ул. Тверская, д. 12к2",
            "Тверская улица 12 корп. 2",
            "тверская ул 12 к 2",
            "Тверская улица, дом 12, корпус 2",
            "12к2 Тверская ул.",
            "Tverskaya St 12 bldg 2",
            "12 k2 Tverskaya street",
        ] {
            let parsed = parse(written);
            assert_eq!(house(written), "12к2", "{written}");
            assert_eq!(parsed.words.len(), 1, "{written}: {parsed:?}");
            assert_eq!(parsed.kind, Some("улица"), "{written}: {parsed:?}");
        }
        assert_eq!(house("ул. Солянка, 1/2 стр. 1"), "1/2с1");
        assert_eq!(house("Арбат 24а"), "24а");
        assert_eq!(house("Арбат д 24 а"), "24а");
        assert_eq!(house("Арбат 24, стр 3"), "24с3");
        assert_eq!(house("Садовая-Кудринская, 12к2а"), "12к2а");
    }

    #[test]
    fn streets_keep_their_numbers_and_hyphens() {
        let parsed = parse("1-я Тверская-Ямская ул., д. 5");
        assert_eq!(parsed.words, ["1-я", "тверская-ямская"]);
        assert_eq!(parsed.house.unwrap().canonical(), "5");
        let parsed = parse("улица 1905 года, 10");
        assert_eq!(parsed.words, ["1905", "года"]);
        assert_eq!(parsed.house.unwrap().canonical(), "10");
        let parsed = parse("пр-т Мира 101");
        assert_eq!(
            (parsed.kind, parsed.words.as_slice()),
            (Some("проспект"), &["мира".to_string()][..])
        );
    }

    #[test]
    fn yo_and_e_are_one_letter() {
        assert_eq!(parse("ул. Зелёная").words, parse("Зеленая ул").words);
    }

    #[test]
    fn a_typed_street_matches_exactly_by_prefix_or_one_slip_away() {
        let street = parse("Тверская улица").words;
        let typed = |t: &str| parse(t).words;
        assert_eq!(street_cost(&typed("тверская"), &street), Some(0));
        assert_eq!(
            street_cost(&typed("тверс"), &street),
            Some(0),
            "still typing"
        );
        assert_eq!(
            street_cost(&typed("Тверкая"), &street),
            Some(1),
            "a letter missing"
        );
        assert_eq!(
            street_cost(&typed("Тверсакя"), &street),
            Some(1),
            "two swapped"
        );
        assert_eq!(
            street_cost(&typed("Тварская"), &street),
            Some(1),
            "a wrong letter"
        );
        assert_eq!(street_cost(&typed("Тварсая"), &street), None, "two slips");
        assert_eq!(street_cost(&typed("Арбат"), &street), None);
        let two = parse("Большая Садовая").words;
        assert_eq!(
            street_cost(&typed("садовая большая"), &two),
            Some(0),
            "any order"
        );
    }

    #[test]
    fn distance_counts_single_letter_edits() {
        assert_eq!(distance("тверская", "тверская", 1), 0);
        assert_eq!(distance("тверская", "тверкая", 1), 1);
        assert_eq!(distance("ab", "ba", 1), 1);
        assert_eq!(distance("abc", "xyz", 1), 2, "capped at limit + 1");
    }
}
