//! Photos: checked, cleaned and stored. A resident's photo is decoded under
//! explicit limits (a small file that declares a huge image is refused from
//! its header, before any pixel buffer is allocated), turned upright by its
//! orientation tag, and re-encoded as a fresh JPEG that carries no metadata at
//! all — no EXIF, no GPS, no XMP, no comments survive, because nothing of the
//! original file is copied but pixels. A thumbnail is made the same way. Files
//! are stored under the SHA-256 of the cleaned JPEG, so the same photo is
//! stored once and its URL never changes.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

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

/// A cleaned photo, ready to store.
#[derive(Debug, Clone)]
pub struct CleanPhoto {
    /// Hex SHA-256 of `jpeg`: its name in the media store.
    pub hash: String,
    pub jpeg: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub width: u32,
    pub height: u32,
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
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(e, limits))?;
    picture.apply_orientation(orientation);
    let jpeg = encode_jpeg(&picture)?;
    let thumbnail = encode_jpeg(&picture.thumbnail(THUMBNAIL_SIZE, THUMBNAIL_SIZE))?;
    Ok(CleanPhoto {
        hash: hex(&Sha256::digest(&jpeg)),
        width: picture.width(),
        height: picture.height(),
        jpeg,
        thumbnail,
    })
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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The media store: `DIR/ab/<hash>.jpg` and `DIR/ab/<hash>.thumb.jpg`.
#[derive(Debug, Clone)]
pub struct MediaStore {
    dir: PathBuf,
}

/// Which of a photo's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Full,
    Thumbnail,
}

impl MediaStore {
    pub fn new(dir: impl Into<PathBuf>) -> MediaStore {
        MediaStore { dir: dir.into() }
    }

    /// Where a photo's file lives, or None for a name that is not a hash.
    pub fn path(&self, hash: &str, variant: Variant) -> Option<PathBuf> {
        let is_hash = hash.len() == 64
            && hash
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        if !is_hash {
            return None;
        }
        let name = match variant {
            Variant::Full => format!("{hash}.jpg"),
            Variant::Thumbnail => format!("{hash}.thumb.jpg"),
        };
        Some(self.dir.join(&hash[..2]).join(name))
    }

    /// Writes both files; each appears whole or not at all (written to a
    /// temporary file, then renamed). Storing the same photo twice is harmless.
    pub fn store(&self, photo: &CleanPhoto) -> std::io::Result<()> {
        for (variant, bytes) in [
            (Variant::Full, &photo.jpeg),
            (Variant::Thumbnail, &photo.thumbnail),
        ] {
            let path = self
                .path(&photo.hash, variant)
                .ok_or_else(|| std::io::Error::other("a photo hash is not hex"))?;
            if path.exists() {
                continue;
            }
            let dir = path.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)?;
            let mut temporary = tempfile_in(dir)?;
            temporary.1.write_all(bytes)?;
            temporary.1.sync_all()?;
            std::fs::rename(&temporary.0, &path)?;
        }
        Ok(())
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let path = dir.join(format!(".upload-{}", uuid::Uuid::new_v4().simple()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}

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
    fn the_store_is_addressed_by_hash_and_refuses_other_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::new(dir.path());
        let photo = clean(&png(20, 20), None, LIMITS).unwrap();
        store.store(&photo).unwrap();
        store.store(&photo).unwrap();
        let path = store.path(&photo.hash, Variant::Full).unwrap();
        assert_eq!(std::fs::read(path).unwrap(), photo.jpeg);
        assert!(store.path("../../etc/passwd", Variant::Full).is_none());
        assert!(store.path(&"A".repeat(64), Variant::Full).is_none());
    }
}
