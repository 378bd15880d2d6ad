//! A value built from the database and kept until the database says it
//! changed. The database holds a version number that every change bumps; a
//! use within `max_age` of the last look takes the kept value as it is, a
//! later one reads the version (one indexed read) and rebuilds when it moved.
//! So a change made through any instance reaches every instance within
//! `max_age`, the instance that made it at once (it calls `invalidate`), and
//! nothing another instance must see lives only here.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub struct Versioned<T> {
    current: RwLock<Option<Kept<T>>>,
}

struct Kept<T> {
    version: i64,
    value: Arc<T>,
    checked: Instant,
}

impl<T> Default for Versioned<T> {
    fn default() -> Self {
        Versioned {
            current: RwLock::new(None),
        }
    }
}

impl<T> Versioned<T> {
    /// The kept value, or the value for the database's current version;
    /// `version` and `load` read through `source` (a connection).
    pub fn get<S: ?Sized, E>(
        &self,
        max_age: Duration,
        source: &mut S,
        version: impl FnOnce(&mut S) -> Result<i64, E>,
        load: impl FnOnce(&mut S) -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        if let Ok(current) = self.current.read() {
            if let Some(kept) = current.as_ref().filter(|k| k.checked.elapsed() < max_age) {
                return Ok(kept.value.clone());
            }
        }
        let version = version(source)?;
        if let Ok(mut current) = self.current.write() {
            if let Some(kept) = current.as_mut().filter(|k| k.version == version) {
                kept.checked = Instant::now();
                return Ok(kept.value.clone());
            }
        }
        let value = Arc::new(load(source)?);
        if let Ok(mut current) = self.current.write() {
            *current = Some(Kept {
                version,
                value: value.clone(),
                checked: Instant::now(),
            });
        }
        Ok(value)
    }

    /// Forgets the kept value: the next use rebuilds it.
    pub fn invalidate(&self) {
        if let Ok(mut current) = self.current.write() {
            *current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_rebuilds_only_when_the_version_moves() {
        let cache = Versioned::default();
        let mut builds = 0;
        for version in [1, 1, 1, 2, 2, 1] {
            let value = cache
                .get(
                    Duration::ZERO,
                    &mut (),
                    |_| Ok::<_, ()>(version),
                    |_| {
                        builds += 1;
                        Ok(version * 10)
                    },
                )
                .unwrap();
            assert_eq!(*value, version * 10);
        }
        assert_eq!(builds, 3);
    }

    #[test]
    fn within_max_age_it_does_not_even_ask() {
        let cache = Versioned::default();
        cache
            .get(
                Duration::from_secs(60),
                &mut (),
                |_| Ok::<_, ()>(1),
                |_| Ok(10),
            )
            .unwrap();
        let asked = std::cell::Cell::new(false);
        let value = cache
            .get(
                Duration::from_secs(60),
                &mut (),
                |_| {
                    asked.set(true);
                    Ok::<_, ()>(2)
                },
                |_| Ok(20),
            )
            .unwrap();
        assert_eq!((*value, asked.get()), (10, false));
        cache.invalidate();
        let value = cache
            .get(
                Duration::from_secs(60),
                &mut (),
                |_| Ok::<_, ()>(2),
                |_| Ok(20),
            )
            .unwrap();
        assert_eq!(*value, 20);
    }
}
