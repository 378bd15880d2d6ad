//! The languages Gorod speaks: Russian, the city's language, and English.
//! A resident's language is their account's; an account created by filing
//! takes the language the report was filed in (`reporter.locale`, or the
//! request's `Accept-Language` when that is absent). Pure.

/// A language of messages and pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    Ru,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Ru, Locale::En];

    /// `en` is English; anything else is the city's language, Russian.
    /// For stored codes, which the schema limits to `ru` and `en`.
    pub fn parse(code: &str) -> Locale {
        Locale::exact(code).unwrap_or(Locale::Ru)
    }

    /// The language this code names, if Gorod speaks it (`ru`, `en`, any
    /// case, with or without a region such as `en-GB`).
    pub fn exact(code: &str) -> Option<Locale> {
        let primary = code.split(['-', '_']).next().unwrap_or_default().trim();
        Locale::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    pub fn code(self) -> &'static str {
        match self {
            Locale::Ru => "ru",
            Locale::En => "en",
        }
    }

    /// The language an `Accept-Language` header prefers among those Gorod
    /// speaks (highest weight first; the header's order breaks ties), if
    /// it names one at all.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(locale) = parts.next().and_then(Locale::exact) else {
                continue;
            };
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, locale));
            }
        }
        best.map(|(_, locale)| locale)
    }
}

/// Words for a person in each language Gorod speaks: an error message, a
/// refusal. The English is also what the log writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    ru: String,
    en: String,
}

impl Text {
    pub fn new(ru: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            ru: ru.into(),
            en: en.into(),
        }
    }

    /// The words in this language.
    pub fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::Ru => &self.ru,
            Locale::En => &self.en,
        }
    }

    pub fn en(&self) -> &str {
        &self.en
    }
}

/// The English, for the log and for errors only operators read.
impl From<Text> for String {
    fn from(text: Text) -> String {
        text.en
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

const MONTHS_RU: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Locale {
    /// A date as people write it: `6 марта 2026`, `6 March 2026`.
    pub fn date(self, date: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        let months = match self {
            Locale::Ru => &MONTHS_RU,
            Locale::En => &MONTHS_EN,
        };
        let month = months[date.month0() as usize % 12];
        format!("{} {month} {}", date.day(), date.year())
    }

    /// A local time as people write it: `6 марта 2026, 18:00`.
    pub fn date_time(self, local: chrono::NaiveDateTime) -> String {
        format!("{}, {}", self.date(local.date()), local.format("%H:%M"))
    }
}

/// The English name in English (`lang` "en") (when there is one), else the
/// Russian.
pub fn pick<'a>(lang: &str, ru: &'a str, en: &'a str) -> &'a str {
    if lang == "en" && !en.is_empty() {
        en
    } else {
        ru
    }
}

#[cfg(test)]
mod tests {
    use super::Locale;

    #[test]
    fn codes_with_regions_and_any_case() {
        assert_eq!(Locale::exact("en-GB"), Some(Locale::En));
        assert_eq!(Locale::exact("RU"), Some(Locale::Ru));
        assert_eq!(Locale::exact("de"), None);
        assert_eq!(Locale::parse("fr"), Locale::Ru);
    }

    #[test]
    fn dates_in_words() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 6).expect("a date");
        assert_eq!(Locale::Ru.date(day), "6 марта 2026");
        assert_eq!(Locale::En.date(day), "6 March 2026");
        let at = day.and_hms_opt(18, 5, 0).expect("a time");
        assert_eq!(Locale::Ru.date_time(at), "6 марта 2026, 18:05");
    }

    #[test]
    fn accept_language_takes_the_heaviest_spoken_language() {
        let prefer = Locale::from_accept_language;
        assert_eq!(prefer("de-DE, en;q=0.8, ru;q=0.5"), Some(Locale::En));
        assert_eq!(prefer("ru-RU,ru;q=0.9,en-US;q=0.8"), Some(Locale::Ru));
        assert_eq!(prefer("en;q=0.3, ru;q=0.7"), Some(Locale::Ru));
        assert_eq!(prefer("en;q=0, ru;q=0.1"), Some(Locale::Ru));
        assert_eq!(prefer("fr, de"), None);
        assert_eq!(prefer(""), None);
    }
}
