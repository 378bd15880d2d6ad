//! What a photo says about itself, read before its metadata is stripped:
//! when it was taken and where (EXIF `DateTimeOriginal`, its time offset,
//! and the GPS position), and a perceptual hash of what it shows, which
//! survives re-encoding, resizing and small crops, to find near copies.
//! Pure: bytes and pixels in, facts out.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use exif::{In, Tag, Value};
use image::DynamicImage;

/// What a photo's metadata says.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhotoFacts {
    /// When it was taken: UTC when the camera gave its offset, else the
    /// camera's local time (`local` set).
    pub taken_at: Option<NaiveDateTime>,
    /// Whether `taken_at` is the camera's local time, not UTC.
    #[serde(default)]
    pub local: bool,
    /// Where: latitude and longitude in degrees.
    pub position: Option<(f64, f64)>,
}

/// Reads the capture time and position; nothing when the photo has no
/// EXIF data (a PNG, a screenshot, a photo already stripped).
pub fn facts(bytes: &[u8]) -> PhotoFacts {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) else {
        return PhotoFacts::default();
    };
    let text = |tag: Tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(lines)) => lines.first().cloned(),
        _ => None,
    };
    let taken = text(Tag::DateTimeOriginal)
        .or_else(|| text(Tag::DateTime))
        .and_then(|t| exif::DateTime::from_ascii(&t).ok());
    let offset = text(Tag::OffsetTimeOriginal).and_then(|t| {
        let mut parsed = exif::DateTime::from_ascii(b"2000:01:01 00:00:00").ok()?;
        parsed.parse_offset(&t).ok()?;
        parsed.offset
    });
    let (taken_at, local) = match taken.and_then(|t| {
        NaiveDate::from_ymd_opt(t.year.into(), t.month.into(), t.day.into())?.and_hms_opt(
            t.hour.into(),
            t.minute.into(),
            t.second.into(),
        )
    }) {
        Some(at) => match offset.and_then(|o| FixedOffset::east_opt(i32::from(o) * 60)) {
            Some(zone) => (
                zone.from_local_datetime(&at)
                    .single()
                    .map(|t| t.naive_utc()),
                false,
            ),
            None => (Some(at), true),
        },
        None => (None, false),
    };
    let coordinate = |value: Tag, reference: Tag, negative: u8| {
        let degrees = match exif.get_field(value, In::PRIMARY).map(|f| &f.value) {
            Some(Value::Rational(parts)) if parts.len() == 3 => {
                parts[0].to_f64() + parts[1].to_f64() / 60.0 + parts[2].to_f64() / 3600.0
            }
            _ => return None,
        };
        let sign = match text(reference).and_then(|r| r.first().copied()) {
            Some(r) if r == negative => -1.0,
            _ => 1.0,
        };
        Some(sign * degrees).filter(|d| d.is_finite())
    };
    let position = coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')
        .zip(coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W'))
        .filter(|(lat, lon)| lat.abs() <= 90.0 && lon.abs() <= 180.0);
    PhotoFacts {
        taken_at,
        local,
        position,
    }
}

/// A perceptual hash's size in bytes.
pub const PRINT_BYTES: usize = 18;

/// The perceptual hash of a picture: the signs of its brightness gradients,
/// across and down, on a 16×16 reduction (144 bits). A re-encoded, resized
/// or slightly cropped copy is a few dozen bits away, another picture of a
/// street more than half as far again (measured in the tests below).
/// Gradients told copies from other pictures better than the DCT's low
/// frequencies (pHash), which confused two street scenes.
pub fn print(picture: &DynamicImage) -> Vec<u8> {
    image_hasher::HasherConfig::new()
        .hash_size(16, 16)
        .hash_alg(image_hasher::HashAlg::DoubleGradient)
        .to_hasher()
        .hash_image(picture)
        .as_bytes()
        .to_vec()
}

/// How many of two prints' bits differ (prints of other sizes are as far
/// as can be).
pub fn distance(a: &[u8], b: &[u8]) -> u32 {
    if a.len() != b.len() {
        return u32::MAX;
    }
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb, RgbImage};
    use rand::{Rng, SeedableRng};

    /// A street-like picture: a sky, a road and random blobs, different
    /// for each seed.
    pub(crate) fn scene(seed: u64, width: u32, height: u32) -> RgbImage {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let sky = [rng.random_range(100..200u8), 150, 230];
        let road = [90, 90, rng.random_range(80..110u8)];
        let horizon = rng.random_range(height / 4..height / 2);
        let mut picture: RgbImage = ImageBuffer::from_fn(width, height, |_, y| {
            Rgb(if y < horizon { sky } else { road })
        });
        for _ in 0..14 {
            let (cx, cy) = (rng.random_range(0..width), rng.random_range(0..height));
            let r = rng.random_range(width / 20..width / 5);
            let colour = Rgb([rng.random(), rng.random(), rng.random()]);
            for y in cy.saturating_sub(r)..(cy + r).min(height) {
                for x in cx.saturating_sub(r)..(cx + r).min(width) {
                    let (dx, dy) = (x as i64 - cx as i64, y as i64 - cy as i64);
                    if dx * dx + dy * dy <= (r * r) as i64 {
                        picture.put_pixel(x, y, colour);
                    }
                }
            }
        }
        picture
    }

    /// A copy as a crew might send it: cropped by `crop` of each side,
    /// scaled down and saved again as a low-quality JPEG.
    pub(crate) fn copied(picture: &RgbImage, crop: f64) -> DynamicImage {
        let (w, h) = picture.dimensions();
        let (dx, dy) = ((w as f64 * crop) as u32, (h as f64 * crop) as u32);
        let cropped = image::imageops::crop_imm(picture, dx, dy, w - 2 * dx, h - 2 * dy).to_image();
        let smaller = DynamicImage::ImageRgb8(cropped).resize(
            w * 3 / 4,
            h * 3 / 4,
            image::imageops::FilterType::Triangle,
        );
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 55)
            .encode_image(&smaller)
            .unwrap();
        image::load_from_memory(&jpeg).unwrap()
    }

    #[test]
    fn copies_are_near_and_other_pictures_far() {
        let mut near = 0;
        let mut far = u32::MAX;
        for seed in 0..16u64 {
            let original = scene(seed, 400, 300);
            let print_of = print(&DynamicImage::ImageRgb8(original.clone()));
            assert_eq!(print_of.len(), PRINT_BYTES);
            near = near.max(distance(&print_of, &print(&copied(&original, 0.05))));
            for other in seed + 1..seed + 4 {
                let another = print(&DynamicImage::ImageRgb8(scene(other, 400, 300)));
                far = far.min(distance(&print_of, &another));
            }
        }
        eprintln!("copies at most {near} bits apart, other pictures at least {far}");
        assert!(near <= crate::reports::evidence::NEAR_COPY_BITS, "{near}");
        assert!(far > crate::reports::evidence::NEAR_COPY_BITS + 10, "{far}");
    }

    #[test]
    fn a_photo_without_exif_says_nothing() {
        assert_eq!(facts(b"not a photo"), PhotoFacts::default());
    }

    #[test]
    fn a_phones_capture_time_and_position_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("phone.jpg");
        DynamicImage::ImageRgb8(scene(7, 64, 48))
            .save(&path)
            .unwrap();
        let stamp = |args: &[&str]| {
            let status = std::process::Command::new("exiftool")
                .args(["-q", "-overwrite_original"])
                .args(args)
                .arg(&path)
                .status()
                .expect("exiftool runs (scripts/test installs it)");
            assert!(status.success());
            facts(&std::fs::read(&path).unwrap())
        };
        let local = stamp(&[
            "-DateTimeOriginal=2026:03:02 14:30:00",
            "-GPSLatitude=55.77",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=37.605",
            "-GPSLongitudeRef=W",
        ]);
        assert_eq!(
            local.taken_at.map(|t| t.to_string()),
            Some("2026-03-02 14:30:00".into())
        );
        assert!(local.local);
        let (lat, lon) = local.position.unwrap();
        assert!(
            (lat - 55.77).abs() < 1e-6 && (lon + 37.605).abs() < 1e-6,
            "{lat} {lon}"
        );
        let zoned = stamp(&["-OffsetTimeOriginal=+03:00"]);
        assert_eq!(
            zoned.taken_at.map(|t| t.to_string()),
            Some("2026-03-02 11:30:00".into())
        );
        assert!(!zoned.local);
    }
}
