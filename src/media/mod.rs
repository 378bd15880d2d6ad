//! Photos: checked, cleaned and stored. A resident's photo is decoded under
//! explicit limits (a small file that declares a huge image is refused from
//! its header, before any pixel buffer is allocated), turned upright by its
//! orientation tag, and re-encoded as a fresh JPEG that carries no metadata at
//! all — no EXIF, no GPS, no XMP, no comments survive, because nothing of the
//! original file is copied but pixels. A thumbnail is made the same way. Files
//! are stored under the SHA-256 of the cleaned JPEG, so the same photo is
//! stored once and its URL never changes.

use std::io::Cursor;

use crate::locale::Text;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

pub const JPEG_QUALITY: u8 = 85;
pub const THUMBNAIL_SIZE: u32 = 320;

/// Limits on what a photo may be.
#[derive(Debug, Clone, Copy)]
pub struct PhotoLimits {
    pub max_bytes: usize,
    pub max_width: u32,
    pub max_height: u32,
    pub max_pixels: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("is {size} bytes; at most {max} are allowed")]
    TooLarge { size: usize, max: usize },
    #[error("is not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("says it is {declared} but is {actual}")]
    WrongType {
        declared: String,
        actual: &'static str,
    },
    #[error("is {width}×{height} pixels; at most {max_width}×{max_height} and {max_pixels} pixels in all are allowed")]
    TooManyPixels {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
        max_pixels: u64,
    },
    #[error("cannot be decoded: {0}")]
    Corrupt(String),
}

impl PhotoError {
    /// What is wrong with the photo, in each language.
    pub fn text(&self) -> Text {
        match self {
            PhotoError::TooLarge { size, max } => Text::new(
                format!("фото весит {size} байт, а можно не больше {max}"),
                format!("the photo is {size} bytes; at most {max} are allowed"),
            ),
            PhotoError::NotAnImage => Text::new(
                "это не изображение JPEG, PNG или WebP",
                "the photo is not a JPEG, PNG or WebP image",
            ),
            PhotoError::WrongType { declared, actual } => Text::new(
                format!("фото помечено как {declared}, а на деле это {actual}"),
                format!("the photo says it is {declared} but is {actual}"),
            ),
            PhotoError::TooManyPixels {
                width,
                height,
                max_width,
                max_height,
                max_pixels,
            } => Text::new(
                format!("фото {width}×{height} пикселей, а можно не больше {max_width}×{max_height} и {max_pixels} пикселей всего"),
                format!("the photo is {width}×{height} pixels; at most {max_width}×{max_height} and {max_pixels} pixels in all are allowed"),
            ),
            PhotoError::Corrupt(_) => Text::new(
                "фото не удаётся прочитать: файл повреждён",
                "the photo cannot be decoded: the file is damaged",
            ),
        }
    }
}

/// A cleaned photo, ready to store.
#[derive(Debug, Clone)]
pub struct CleanPhoto {
    /// Hex SHA-256 of `jpeg`: its name in the media store.
    pub hash: String,
    pub jpeg: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// What the original said about itself (read before it was stripped).
    pub facts: evidence::PhotoFacts,
    /// Its perceptual hash (`evidence::print`).
    pub print: Vec<u8>,
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
        ImageFormat::WebP => "image/webp",
        _ => "another format",
    }
}

/// Checks, decodes, orients and re-encodes a photo. `declared` is the content
/// type the client gave, if any; a photo must be what it says it is.
pub fn clean(
    bytes: &[u8],
    declared: Option<&str>,
    limits: PhotoLimits,
) -> Result<CleanPhoto, PhotoError> {
    if bytes.len() > limits.max_bytes {
        return Err(PhotoError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| PhotoError::NotAnImage)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(PhotoError::NotAnImage);
    }
    let declared = declared
        .map(|d| d.split(';').next().unwrap_or(d).trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty() && d != "application/octet-stream");
    if let Some(declared) = declared {
        let same = declared == format_name(format)
            || (declared == "image/jpg" && format == ImageFormat::Jpeg);
        if !same {
            return Err(PhotoError::WrongType {
                declared,
                actual: format_name(format),
            });
        }
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(limits.max_width);
    decode_limits.max_image_height = Some(limits.max_height);
    // Room for the decoded pixels (up to 4 bytes each) and the decoder's own.
    decode_limits.max_alloc = Some(limits.max_pixels.saturating_mul(4).saturating_add(64 << 20));
    reader.limits(decode_limits);
    let mut decoder = reader.into_decoder().map_err(|e| decode_error(e, limits))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(PhotoError::TooManyPixels {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
            max_pixels: limits.max_pixels,
        });
    }
    let orientation = decoder.orientation().map_err(|e| decode_error(e, limits))?;
    let facts = evidence::facts(bytes);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(e, limits))?;
    picture.apply_orientation(orientation);
    let jpeg = encode_jpeg(&picture)?;
    let small = picture.thumbnail(THUMBNAIL_SIZE, THUMBNAIL_SIZE);
    let thumbnail = encode_jpeg(&small)?;
    Ok(CleanPhoto {
        hash: hex(&Sha256::digest(&jpeg)),
        facts,
        print: evidence::print(&small),
        width: picture.width(),
        height: picture.height(),
        jpeg,
        thumbnail,
    })
}

/// Bytes of memory cleaning a photo of `width`×`height` may take at its
/// peak: the decoded pixels (up to 4 bytes each), their RGB copy for the
/// encoder (3), and room for a turn by the orientation tag.
pub const BYTES_PER_PIXEL_CLEANING: u64 = 8;

/// What cleaning this photo will cost in memory, from its header alone
/// (nothing is decoded); `None` when the header cannot be read or declares
/// more than `limits` allow (`clean` refuses the photo then, at no cost).
pub fn cleaning_cost(bytes: &[u8], limits: PhotoLimits) -> Option<u64> {
    let format = image::guess_format(bytes).ok()?;
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .ok()?;
    if width > limits.max_width
        || height > limits.max_height
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return None;
    }
    Some(
        (u64::from(width) * u64::from(height))
            .saturating_mul(BYTES_PER_PIXEL_CLEANING)
            .saturating_add(bytes.len() as u64),
    )
}

/// Memory for cleaning photos, shared by every request of an instance: a
/// photo is cleaned only when its cost fits beside the others being
/// cleaned and fewer than `at_once` are; otherwise it is refused at once
/// (the caller answers 503 with Retry-After) rather than letting the
/// server grow. Small files can declare huge images, so the cost is read
/// from the header, before anything is decoded.
#[derive(Debug, Clone)]
pub struct DecodeBudget {
    state: std::sync::Arc<std::sync::Mutex<(u64, usize)>>,
    bytes: u64,
    at_once: usize,
}

/// Memory reserved for one photo; given back when dropped.
#[derive(Debug)]
pub struct Reserved {
    budget: DecodeBudget,
    cost: u64,
}

impl DecodeBudget {
    pub fn new(bytes: u64, at_once: usize) -> DecodeBudget {
        DecodeBudget {
            state: Default::default(),
            bytes,
            at_once: at_once.max(1),
        }
    }

    /// The total, in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reserves `cost` bytes, or `None` when they do not fit now.
    pub fn reserve(&self, cost: u64) -> Option<Reserved> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (used, running) = *state;
        if running >= self.at_once || used.saturating_add(cost) > self.bytes {
            return None;
        }
        *state = (used + cost, running + 1);
        Some(Reserved {
            budget: self.clone(),
            cost,
        })
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        let mut state = self.budget.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 = state.0.saturating_sub(self.cost);
        state.1 = state.1.saturating_sub(1);
    }
}

fn decode_error(e: image::ImageError, limits: PhotoLimits) -> PhotoError {
    match e {
        image::ImageError::Limits(_) => PhotoError::TooManyPixels {
            width: 0,
            height: 0,
            max_width: limits.max_width,
            max_height: limits.max_height,
            max_pixels: limits.max_pixels,
        },
        other => PhotoError::Corrupt(other.to_string()),
    }
}

fn encode_jpeg(picture: &DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&DynamicImage::ImageRgb8(picture.to_rgb8()))
        .map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

pub mod evidence;
pub mod store;
pub use store::{MediaStore, StoreError, Variant};

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PhotoLimits = PhotoLimits {
        max_bytes: 5 << 20,
        max_width: 8000,
        max_height: 8000,
        max_pixels: 40_000_000,
    };

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = DynamicImage::new_rgb8(width, height);
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_png_becomes_a_jpeg_with_a_thumbnail() {
        let clean = clean(&png(640, 480), Some("image/png"), LIMITS).unwrap();
        assert_eq!((clean.width, clean.height), (640, 480));
        assert_eq!(image::guess_format(&clean.jpeg).unwrap(), ImageFormat::Jpeg);
        let thumb = image::load_from_memory(&clean.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 240));
        assert_eq!(clean.hash.len(), 64);
    }

    #[test]
    fn lies_and_non_images_are_refused() {
        assert_eq!(
            clean(&png(10, 10), Some("image/jpeg"), LIMITS).unwrap_err(),
            PhotoError::WrongType {
                declared: "image/jpeg".into(),
                actual: "image/png"
            }
        );
        assert_eq!(
            clean(b"%PDF-1.7 not a photo", None, LIMITS).unwrap_err(),
            PhotoError::NotAnImage
        );
        assert!(matches!(
            clean(
                &png(10, 10),
                None,
                PhotoLimits {
                    max_bytes: 10,
                    ..LIMITS
                }
            ),
            Err(PhotoError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_small_file_declaring_a_huge_image_is_refused_from_its_header() {
        // A valid PNG header claiming 60000 × 60000 pixels, with almost no data.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&60000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&60000u32.to_be_bytes());
        // Fix the IHDR checksum so the decoder reads the header as valid.
        let crc = crc32fast::hash(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(bomb.len() < 100);
        assert!(matches!(
            clean(&bomb, Some("image/png"), LIMITS),
            Err(PhotoError::TooManyPixels { .. })
        ));
    }

    #[test]
    fn the_decode_budget_refuses_what_does_not_fit_and_frees_what_was_done() {
        let budget = DecodeBudget::new(1000, 2);
        let a = budget.reserve(600).unwrap();
        assert!(budget.reserve(500).is_none(), "past the bytes");
        let b = budget.reserve(400).unwrap();
        assert!(budget.reserve(1).is_none(), "past the number at once");
        drop(a);
        drop(b);
        assert!(budget.reserve(1000).is_some());
        let cost = cleaning_cost(&png(100, 50), LIMITS).unwrap();
        assert!(cost >= 100 * 50 * BYTES_PER_PIXEL_CLEANING, "{cost}");
        assert_eq!(cleaning_cost(b"not an image", LIMITS), None);
        let small = PhotoLimits {
            max_pixels: 100,
            ..LIMITS
        };
        assert_eq!(
            cleaning_cost(&png(100, 50), small),
            None,
            "clean refuses it"
        );
    }
}
