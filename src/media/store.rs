//! The media store: cleaned photos under `ab/<hash>.jpg` and
//! `ab/<hash>.thumb.jpg`, in a local directory (the default) or in any
//! S3-compatible object store, through one interface (`object_store`), so
//! that every instance of a city serves every photo. Names are the SHA-256
//! of the content: writing a photo twice is harmless, a name never changes
//! its content, and a photo already there is not sent again.
//!
//! `object_store` is asynchronous; the store runs its requests on a small
//! runtime of its own, so synchronous callers (the filing writer, workflow
//! moves) and the async handlers that serve photos share it.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

use super::CleanPhoto;

/// Which of a photo's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Full,
    Thumbnail,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the photo store is unavailable: {0}")]
    Unavailable(String),
    #[error("media.{field}: {message}")]
    Setting {
        field: &'static str,
        message: String,
    },
    #[error("'{0}' is not a photo's name")]
    NotAHash(String),
}

/// Where photos go.
#[derive(Debug, Clone)]
pub enum Location {
    /// A directory on this machine.
    Directory(PathBuf),
    /// An S3-compatible bucket; credentials come from the environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optionally
    /// `AWS_SESSION_TOKEN`).
    S3 {
        endpoint: String,
        bucket: String,
        region: String,
        path_style: bool,
    },
}

#[derive(Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    runtime: tokio::runtime::Handle,
    describe: String,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MediaStore({})", self.describe)
    }
}

/// A runtime for the store's requests, on a thread of its own that lives as
/// long as the process.
fn store_runtime() -> Result<tokio::runtime::Handle, StoreError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("gorod-media")
        .build()
        .map_err(|e| StoreError::Unavailable(format!("cannot start its runtime: {e}")))?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name("gorod-media".into())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .map_err(|e| StoreError::Unavailable(format!("cannot start its thread: {e}")))?;
    Ok(handle)
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl MediaStore {
    pub fn open(location: &Location) -> Result<MediaStore, StoreError> {
        let runtime = store_runtime()?;
        let (store, describe): (Arc<dyn ObjectStore>, String) =
            match location {
                Location::Directory(dir) => {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::Setting {
                        field: "dir",
                        message: format!("cannot create {}: {e}", dir.display()),
                    })?;
                    let local = object_store::local::LocalFileSystem::new_with_prefix(dir)
                        .map_err(|e| StoreError::Setting {
                            field: "dir",
                            message: e.to_string(),
                        })?;
                    (Arc::new(local), format!("directory {}", dir.display()))
                }
                Location::S3 {
                    endpoint,
                    bucket,
                    region,
                    path_style,
                } => {
                    if bucket.trim().is_empty() {
                        return Err(StoreError::Setting {
                            field: "s3.bucket",
                            message: "is required with media.store = \"s3\"".into(),
                        });
                    }
                    let mut builder = object_store::aws::AmazonS3Builder::from_env()
                        .with_bucket_name(bucket)
                        .with_region(region)
                        .with_virtual_hosted_style_request(!path_style);
                    if !endpoint.trim().is_empty() {
                        builder = builder
                            .with_endpoint(endpoint)
                            .with_allow_http(endpoint.starts_with("http://"));
                    }
                    let s3 = builder.build().map_err(|e| StoreError::Setting {
                        field: "s3",
                        message: e.to_string(),
                    })?;
                    (Arc::new(s3), format!("bucket {bucket} at {endpoint}"))
                }
            };
        Ok(MediaStore {
            store,
            runtime,
            describe,
        })
    }

    /// A store in a local directory.
    pub fn directory(dir: impl Into<PathBuf>) -> Result<MediaStore, StoreError> {
        MediaStore::open(&Location::Directory(dir.into()))
    }

    /// The object a photo's file is, or `None` for a name that is not a
    /// hash.
    pub fn object(hash: &str, variant: Variant) -> Option<ObjectPath> {
        let is_hash = hash.len() == 64
            && hash
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        if !is_hash {
            return None;
        }
        let name = match variant {
            Variant::Full => format!("{}/{hash}.jpg", &hash[..2]),
            Variant::Thumbnail => format!("{}/{hash}.thumb.jpg", &hash[..2]),
        };
        Some(ObjectPath::from(name))
    }

    /// Runs `work` on the store's runtime and waits for it (callers on
    /// blocking threads).
    fn wait<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            let _ = sender.send(work.await);
        });
        receiver
            .recv()
            .map_err(|_| StoreError::Unavailable("its runtime stopped".into()))?
    }

    /// Writes both files of a photo unless they are there already. Each
    /// appears whole or not at all. Blocking: for the filing writer and
    /// the blocking pool, never an async worker.
    pub fn store(&self, photo: &CleanPhoto) -> Result<(), StoreError> {
        let files = [
            (Variant::Full, photo.jpeg.clone()),
            (Variant::Thumbnail, photo.thumbnail.clone()),
        ]
        .into_iter()
        .map(|(variant, bytes)| {
            MediaStore::object(&photo.hash, variant)
                .map(|path| (path, bytes))
                .ok_or_else(|| StoreError::NotAHash(photo.hash.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
        let store = self.store.clone();
        self.wait(async move {
            for (path, bytes) in files {
                put_if_missing(&store, &path, bytes).await?;
            }
            Ok(())
        })
    }

    /// A photo's file, or `None` when there is no such photo. Blocking:
    /// for the blocking pool, never an async worker.
    pub fn read_blocking(
        &self,
        hash: &str,
        variant: Variant,
    ) -> Result<Option<bytes::Bytes>, StoreError> {
        let Some(path) = MediaStore::object(hash, variant) else {
            return Ok(None);
        };
        let store = self.store.clone();
        self.wait(async move { read(&store, &path).await })
    }

    /// A photo's file, or `None` when there is no such photo.
    pub async fn read(
        &self,
        hash: &str,
        variant: Variant,
    ) -> Result<Option<bytes::Bytes>, StoreError> {
        let Some(path) = MediaStore::object(hash, variant) else {
            return Ok(None);
        };
        let store = self.store.clone();
        self.runtime
            .spawn(async move { read(&store, &path).await })
            .await
            .map_err(unavailable)?
    }

    /// Copies every photo file of `self` into `target` that it lacks there
    /// (both are content-addressed, so nothing is overwritten with other
    /// content). How many files were copied and how many were there.
    pub fn copy_to(&self, target: &MediaStore) -> Result<(usize, usize), StoreError> {
        use futures_util::StreamExt;
        let (source, destination) = (self.store.clone(), target.store.clone());
        self.wait(async move {
            let mut listing = source.list(None);
            let (mut copied, mut present) = (0, 0);
            while let Some(meta) = listing.next().await {
                let meta = meta.map_err(unavailable)?;
                let name = meta.location.filename().unwrap_or_default();
                let hash = name.split('.').next().unwrap_or_default();
                if MediaStore::object(hash, Variant::Full).is_none() {
                    continue; // not a photo (a stray temporary file)
                }
                let Some(bytes) = read(&source, &meta.location).await? else {
                    continue;
                };
                if put_if_missing(&destination, &meta.location, bytes.to_vec()).await? {
                    copied += 1;
                } else {
                    present += 1;
                }
            }
            Ok((copied, present))
        })
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }
}

/// Puts `bytes` at `path` unless an object is there; whether it did.
async fn put_if_missing(
    store: &Arc<dyn ObjectStore>,
    path: &ObjectPath,
    bytes: Vec<u8>,
) -> Result<bool, StoreError> {
    match store.head(path).await {
        Ok(_) => return Ok(false),
        Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(unavailable(e)),
    }
    store
        .put(path, PutPayload::from(bytes))
        .await
        .map_err(unavailable)?;
    Ok(true)
}

async fn read(
    store: &Arc<dyn ObjectStore>,
    path: &ObjectPath,
) -> Result<Option<bytes::Bytes>, StoreError> {
    match store.get(path).await {
        Ok(found) => found.bytes().await.map(Some).map_err(unavailable),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(unavailable(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_named_by_hash_and_other_names_are_refused() {
        let hash = "ab".repeat(32);
        assert_eq!(
            MediaStore::object(&hash, Variant::Thumbnail)
                .unwrap()
                .as_ref(),
            format!("ab/{hash}.thumb.jpg")
        );
        assert!(MediaStore::object("../../etc/passwd", Variant::Full).is_none());
        assert!(MediaStore::object(&"A".repeat(64), Variant::Full).is_none());
    }
}
