//! A value built from the database and kept until the database says it
//! changed. Each use asks for the current version (one indexed read) and
//! rebuilds when it moved, so a change made through any instance reaches all
//! of them at once, while nothing another instance must see lives only here.

use std::sync::{Arc, RwLock};

pub struct Versioned<T> {
    current: RwLock<Option<(i64, Arc<T>)>>,
}

impl<T> Default for Versioned<T> {
    fn default() -> Self {
        Versioned {
            current: RwLock::new(None),
        }
    }
}

impl<T> Versioned<T> {
    /// The value for `version`, built by `load` when the kept one is older.
    pub fn get<E>(&self, version: i64, load: impl FnOnce() -> Result<T, E>) -> Result<Arc<T>, E> {
        if let Ok(current) = self.current.read() {
            if let Some((v, value)) = current.as_ref() {
                if *v == version {
                    return Ok(value.clone());
                }
            }
        }
        let value = Arc::new(load()?);
        if let Ok(mut current) = self.current.write() {
            *current = Some((version, value.clone()));
        }
        Ok(value)
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
                .get(version, || {
                    builds += 1;
                    Ok::<_, ()>(version * 10)
                })
                .unwrap();
            assert_eq!(*value, version * 10);
        }
        assert_eq!(builds, 3);
    }
}
