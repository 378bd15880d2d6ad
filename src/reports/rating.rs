//! A resident's rating of the city's answer: 1 to 5 stars, with a comment
//! if they like, given when they confirm or refute it. Pure.

use super::ValidationError;
use crate::locale::Text;

/// Longest comment on a rating.
pub const MAX_COMMENT_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    stars: u8,
    comment: Option<String>,
}

impl Rating {
    /// From a form: no rating is `None`; a comment needs a rating.
    pub fn parse(
        stars: Option<i64>,
        comment: Option<&str>,
    ) -> Result<Option<Rating>, ValidationError> {
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        let Some(stars) = stars else {
            return match comment {
                None => Ok(None),
                Some(_) => Err(ValidationError::coded(
                    "rating",
                    "required",
                    Text::new(
                        "поставьте оценку от 1 до 5, чтобы оставить комментарий к ней",
                        "give a rating from 1 to 5 to leave a comment on it",
                    ),
                )),
            };
        };
        let stars = u8::try_from(stars)
            .ok()
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(|| {
                ValidationError::coded(
                    "rating",
                    "out_of_range",
                    Text::new("оценка — от 1 до 5", "a rating is from 1 to 5"),
                )
            })?;
        if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
            return Err(ValidationError::too_long("comment", MAX_COMMENT_CHARS));
        }
        Ok(Some(Rating {
            stars,
            comment: comment.map(str::to_string),
        }))
    }

    pub fn stars(&self) -> u8 {
        self.stars
    }

    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
}

/// The average of some ratings to one decimal, `None` for none.
pub fn average(ratings: &[u8]) -> Option<f64> {
    average_of(
        ratings.iter().map(|r| u64::from(*r)).sum(),
        ratings.len() as u64,
    )
}

/// The average of `count` ratings summing to `sum`, to one decimal.
pub fn average_of(sum: u64, count: u64) -> Option<f64> {
    (count > 0).then(|| (sum as f64 * 10.0 / count as f64).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_five_with_an_optional_comment() {
        assert_eq!(Rating::parse(None, None), Ok(None));
        let r = Rating::parse(Some(4), Some(" быстро ")).unwrap().unwrap();
        assert_eq!((r.stars(), r.comment()), (4, Some("быстро")));
        for bad in [0, 6, -1] {
            assert_eq!(Rating::parse(Some(bad), None).unwrap_err().field, "rating");
        }
        assert_eq!(
            Rating::parse(None, Some("плохо")).unwrap_err().code,
            "required"
        );
        assert_eq!(
            Rating::parse(Some(3), Some(&"я".repeat(1001)))
                .unwrap_err()
                .field,
            "comment"
        );
    }

    #[test]
    fn the_average_has_one_decimal() {
        assert_eq!(average(&[]), None);
        assert_eq!(average(&[5, 4, 4]), Some(4.3));
    }
}
