//! The city's rules for an answer's (or a refutation's) photos: was it taken
//! after the report was filed, near the problem, and is it new, or a near
//! copy of the report's own photo or of a photo an earlier answer used?
//! A photo that contradicts (taken before the filing, or far away) or is
//! reused is flagged; each category says whether a flagged answer is held
//! for a supervisor or published with its flag. Unknown is not a flag: many
//! cameras and apps strip the time and position. Pure.

use chrono::NaiveDateTime;

use crate::locale::Text;

/// Prints (144 bits) this many bits apart or fewer are the same picture:
/// copies measured up to 27 apart, other street scenes at least 53.
pub const NEAR_COPY_BITS: u32 = 38;
/// A print with fewer set (or unset) bits than this is of a featureless
/// picture (a flat wall, a blank image): its comparisons mean nothing, so it
/// is neither found as a copy nor taken for one.
pub const MIN_DETAIL_BITS: u32 = 16;

/// Whether a print says enough about its picture to compare it.
fn informative(print: &[u8]) -> bool {
    let ones: u32 = print.iter().map(|b| b.count_ones()).sum();
    let bits = (print.len() * 8) as u32;
    ones >= MIN_DETAIL_BITS && bits.saturating_sub(ones) >= MIN_DETAIL_BITS
}

/// Slack for camera clocks: a photo taken up to this long before the filing
/// still counts as after it.
pub const CLOCK_SLACK_MINUTES: i64 = 15;

/// When the photo was taken, against the filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Taken {
    After(NaiveDateTime),
    Before(NaiveDateTime),
    Unknown,
}

/// Where the photo was taken, against the report.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Place {
    /// Within the allowed distance; metres.
    Near(f64),
    /// Farther; metres.
    Far(f64),
    Unknown,
}

/// Where a photo this one copies came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Source {
    /// The report's own photo (the resident's "before").
    Report,
    /// A photo an earlier answer used, on the report with this number.
    Answer(i64),
}

/// Whether the photo is new.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Copy {
    New,
    /// A near copy of the photo with this digest.
    Of {
        digest: String,
        source: Source,
    },
}

impl Taken {
    /// `after`, `before` or `unknown`.
    pub fn code(self) -> &'static str {
        match self {
            Taken::After(_) => "after",
            Taken::Before(_) => "before",
            Taken::Unknown => "unknown",
        }
    }

    /// When it was taken, if known (UTC).
    pub fn at(self) -> Option<NaiveDateTime> {
        match self {
            Taken::After(at) | Taken::Before(at) => Some(at),
            Taken::Unknown => None,
        }
    }

    /// From `code()` and `at()`, as stored.
    pub fn from_parts(code: &str, at: Option<NaiveDateTime>) -> Taken {
        match (code, at) {
            ("after", Some(at)) => Taken::After(at),
            ("before", Some(at)) => Taken::Before(at),
            _ => Taken::Unknown,
        }
    }
}

impl Place {
    /// `near`, `far` or `unknown`.
    pub fn code(self) -> &'static str {
        match self {
            Place::Near(_) => "near",
            Place::Far(_) => "far",
            Place::Unknown => "unknown",
        }
    }

    /// Metres from the report, if known.
    pub fn metres(self) -> Option<f64> {
        match self {
            Place::Near(m) | Place::Far(m) => Some(m),
            Place::Unknown => None,
        }
    }

    /// From `code()` and `metres()`, as stored.
    pub fn from_parts(code: &str, metres: Option<f64>) -> Place {
        match (code, metres) {
            ("near", Some(m)) => Place::Near(m),
            ("far", Some(m)) => Place::Far(m),
            _ => Place::Unknown,
        }
    }
}

impl Copy {
    /// The digest of the photo copied, if any.
    pub fn of(&self) -> Option<&str> {
        match self {
            Copy::New => None,
            Copy::Of { digest, .. } => Some(digest),
        }
    }

    /// The report whose answer used the photo copied, if that is where it
    /// came from.
    pub fn report(&self) -> Option<i64> {
        match self {
            Copy::Of {
                source: Source::Answer(number),
                ..
            } => Some(*number),
            _ => None,
        }
    }

    /// From `of()` and `report()`, as stored.
    pub fn from_parts(of: Option<String>, report: Option<i64>) -> Copy {
        match of {
            None => Copy::New,
            Some(digest) => Copy::Of {
                digest,
                source: report.map_or(Source::Report, Source::Answer),
            },
        }
    }
}

/// What was checked of one photo.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhotoCheck {
    /// The stored photo's digest.
    pub digest: String,
    pub taken: Taken,
    pub place: Place,
    pub copy: Copy,
}

/// A photo known before: its print, digest and where it came from.
#[derive(Debug, Clone)]
pub struct Known {
    pub print: Vec<u8>,
    pub digest: String,
    pub source: Source,
}

/// What the photo says about itself, and its print.
#[derive(Debug, Clone, Copy)]
pub struct Said<'a> {
    /// UTC.
    pub taken_at: Option<NaiveDateTime>,
    pub position: Option<(f64, f64)>,
    pub print: Option<&'a [u8]>,
}

/// The report the photo answers.
#[derive(Debug, Clone, Copy)]
pub struct Against {
    pub filed_at: NaiveDateTime,
    pub position: (f64, f64),
    pub max_distance_m: f64,
}

/// Checks one photo.
pub fn check(
    digest: &str,
    said: Said<'_>,
    against: Against,
    known: &[Known],
    distance: fn(&[u8], &[u8]) -> u32,
    metres: fn((f64, f64), (f64, f64)) -> f64,
) -> PhotoCheck {
    let taken = match said.taken_at {
        Some(at) if at + chrono::TimeDelta::minutes(CLOCK_SLACK_MINUTES) < against.filed_at => {
            Taken::Before(at)
        }
        Some(at) => Taken::After(at),
        None => Taken::Unknown,
    };
    let place = match said.position {
        Some(position) => {
            let m = metres(position, against.position);
            if m <= against.max_distance_m {
                Place::Near(m)
            } else {
                Place::Far(m)
            }
        }
        None => Place::Unknown,
    };
    let copy = said
        .print
        .filter(|print| informative(print))
        .and_then(|print| {
            known
                .iter()
                .filter(|k| informative(&k.print))
                .map(|k| (distance(print, &k.print), k))
                .filter(|(bits, _)| *bits <= NEAR_COPY_BITS)
                .min_by_key(|(bits, _)| *bits)
        })
        .map_or(Copy::New, |(_, k)| Copy::Of {
            digest: k.digest.clone(),
            source: k.source.clone(),
        });
    PhotoCheck {
        digest: digest.to_string(),
        taken,
        place,
        copy,
    }
}

impl PhotoCheck {
    /// Whether the photo contradicts the report or is reused.
    pub fn flagged(&self) -> bool {
        matches!(self.taken, Taken::Before(_))
            || matches!(self.place, Place::Far(_))
            || self.copy != Copy::New
    }

    /// The reasons it is flagged, as codes: `taken_before`, `far_away`,
    /// `copy_of_report_photo`, `copy_of_earlier_answer`.
    pub fn reasons(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if matches!(self.taken, Taken::Before(_)) {
            out.push("taken_before");
        }
        if matches!(self.place, Place::Far(_)) {
            out.push("far_away");
        }
        match self.copy {
            Copy::Of {
                source: Source::Report,
                ..
            } => out.push("copy_of_report_photo"),
            Copy::Of {
                source: Source::Answer(_),
                ..
            } => out.push("copy_of_earlier_answer"),
            Copy::New => {}
        }
        out
    }

    /// The check as the ledger records it:
    /// `<digest>:taken=<after|before|unknown>,place=<near|far|unknown>,copy=<new|digest>`.
    pub fn canonical(&self) -> String {
        format!(
            "{}:taken={},place={},copy={}",
            self.digest,
            self.taken.code(),
            self.place.code(),
            self.copy.of().unwrap_or("new")
        )
    }

    /// What was checked, in plain words, for the public page.
    pub fn words(&self, local: impl Fn(NaiveDateTime) -> String) -> Vec<Text> {
        let mut out = Vec::new();
        out.push(match self.taken {
            Taken::After(at) => Text::new(
                format!("снято после подачи сообщения ({})", local(at)),
                format!("taken after the report was filed ({})", local(at)),
            ),
            Taken::Before(at) => Text::new(
                format!("снято раньше, чем подано сообщение ({})", local(at)),
                format!("taken before the report was filed ({})", local(at)),
            ),
            Taken::Unknown => {
                Text::new("время съёмки неизвестно", "when it was taken is not known")
            }
        });
        out.push(match self.place {
            Place::Near(m) => Text::new(
                format!("снято в {} м от места проблемы", m.round()),
                format!("taken {} m from the problem", m.round()),
            ),
            Place::Far(m) => Text::new(
                format!("снято в {} от места проблемы", kilometres_ru(m)),
                format!("taken {} from the problem", kilometres_en(m)),
            ),
            Place::Unknown => {
                Text::new("место съёмки неизвестно", "where it was taken is not known")
            }
        });
        out.push(match &self.copy {
            Copy::New => Text::new(
                "новое фото: не копия прежних",
                "a new photo, not a copy of an earlier one",
            ),
            Copy::Of {
                source: Source::Report,
                ..
            } => Text::new(
                "копия фото, приложенного к самому сообщению",
                "a copy of the report's own photo",
            ),
            Copy::Of {
                source: Source::Answer(number),
                ..
            } => Text::new(
                format!("копия фото из ответа по сообщению № {number}"),
                format!("a copy of a photo from the answer to report {number}"),
            ),
        });
        out
    }
}

fn kilometres_en(m: f64) -> String {
    if m < 1000.0 {
        format!("{} m", m.round())
    } else {
        format!("{:.1} km", m / 1000.0)
    }
}

fn kilometres_ru(m: f64) -> String {
    if m < 1000.0 {
        format!("{} м", m.round())
    } else {
        format!("{:.1} км", m / 1000.0).replace('.', ",")
    }
}

/// The ledger's record of an answer's photo checks: each photo's
/// `canonical()`, joined by `;`.
pub fn canonical(checks: &[PhotoCheck]) -> Option<String> {
    (!checks.is_empty()).then(|| {
        checks
            .iter()
            .map(PhotoCheck::canonical)
            .collect::<Vec<_>>()
            .join(";")
    })
}

/// What a category does with an answer whose photos are flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Published with its flag for everyone to see.
    Flag,
    /// Held until a supervisor approves it.
    Hold,
}

impl Policy {
    pub fn parse(text: &str) -> Option<Policy> {
        match text {
            "flag" => Some(Policy::Flag),
            "hold" => Some(Policy::Hold),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Flag => "flag",
            Policy::Hold => "hold",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    fn bits(a: &[u8], b: &[u8]) -> u32 {
        a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
    }

    #[test]
    fn featureless_pictures_are_not_compared() {
        let blank = vec![0u8; 18];
        let known = [Known {
            print: blank.clone(),
            digest: "blank".into(),
            source: Source::Report,
        }];
        let nothing = Said {
            taken_at: None,
            position: None,
            print: Some(&blank),
        };
        let checked = check("b", nothing, against(), &known, bits, flat);
        assert_eq!(checked.copy, Copy::New);
    }

    /// A print of 144 bits from a pattern byte, with `flip` bits changed.
    fn print(pattern: u8, flip: usize) -> Vec<u8> {
        let mut out = vec![pattern; 18];
        for bit in 0..flip {
            out[bit / 8] ^= 1 << (bit % 8);
        }
        out
    }

    /// A crude planar distance, enough for the rules.
    fn flat(a: (f64, f64), b: (f64, f64)) -> f64 {
        ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt() * 111_000.0
    }

    fn against() -> Against {
        Against {
            filed_at: at(10),
            position: (55.75, 37.61),
            max_distance_m: 300.0,
        }
    }

    #[test]
    fn each_contradiction_is_flagged_with_its_reason() {
        let known = [
            Known {
                print: print(0xf0, 0),
                digest: "before".into(),
                source: Source::Report,
            },
            Known {
                print: print(0x33, 0),
                digest: "elsewhere".into(),
                source: Source::Answer(7),
            },
        ];
        let said = |taken_at, position, print| Said {
            taken_at,
            position,
            print,
        };
        let (fresh_print, near_report, near_answer) =
            (print(0x5a, 0), print(0xf0, 30), print(0x33, 5));
        let fresh = check(
            "fresh",
            said(Some(at(12)), Some((55.7501, 37.6101)), Some(&fresh_print)),
            against(),
            &known,
            bits,
            flat,
        );
        assert!(!fresh.flagged(), "{fresh:?}");
        let unknown = check("u", said(None, None, None), against(), &known, bits, flat);
        assert!(!unknown.flagged());
        assert_eq!(
            unknown.canonical(),
            "u:taken=unknown,place=unknown,copy=new"
        );
        let old = check(
            "o",
            said(Some(at(8)), None, None),
            against(),
            &known,
            bits,
            flat,
        );
        assert_eq!(old.reasons(), ["taken_before"]);
        // Within the camera clock's slack: after.
        let slack = check(
            "s",
            said(Some(at(10) - chrono::TimeDelta::minutes(10)), None, None),
            against(),
            &known,
            bits,
            flat,
        );
        assert!(!slack.flagged());
        let far = check(
            "f",
            said(None, Some((55.80, 37.61)), None),
            against(),
            &known,
            bits,
            flat,
        );
        assert_eq!(far.reasons(), ["far_away"]);
        let copy = check(
            "c",
            said(None, None, Some(&near_report)),
            against(),
            &known,
            bits,
            flat,
        );
        assert_eq!(copy.reasons(), ["copy_of_report_photo"]);
        assert_eq!(
            copy.canonical(),
            "c:taken=unknown,place=unknown,copy=before"
        );
        let reused = check(
            "r",
            said(None, None, Some(&near_answer)),
            against(),
            &known,
            bits,
            flat,
        );
        assert_eq!(reused.reasons(), ["copy_of_earlier_answer"]);
        assert!(reused.words(|t| t.to_string())[2].en().contains("report 7"));
    }
}
