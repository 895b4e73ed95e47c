//! [`ModelStore`]: model files in an object store — a local directory by default, any
//! S3-compatible bucket by URL.
//!
//! Layout: `{tenant_id}/{YYYYMMDD_HHMMSS}/model.safetensors` + `config.json`, under the store's
//! root (the directory, or the bucket prefix). The storage path kept in the database is the
//! relative `{tenant_id}/{version}`, a [`StoragePath`] (parsed back through [`StoragePath::parse`]
//! when read from the database), so no key can ever leave its tenant's prefix.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, PutPayload, RetryConfig};
use topic_engine::TopicModel;

use super::{Result, StoreError, TenantId, Version};

/// Default limit on one model file read back from the store (1 GiB).
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 1 << 30;

pub use topic_engine::io::{CONFIG_FILE, TENSORS_FILE};

/// The storage path of one model version: `{tenant_id}/{version}`, both parts validated, so no
/// key made from it can leave its tenant's prefix. Stored (and serialised) as that string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoragePath {
    /// Owner of the version.
    pub tenant: TenantId,
    /// The version.
    pub version: Version,
}

impl StoragePath {
    /// Parse `{tenant_id}/{version}` (exactly two segments, each checked by its own rule).
    pub fn parse(path: &str) -> Result<Self> {
        let mut parts = path.split('/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(t), Some(v), None) => {
                Ok(StoragePath { tenant: TenantId::parse(t)?, version: Version::parse(v)? })
            }
            _ => Err(StoreError::Config(format!(
                "invalid storage path {:?}: expected `{{tenant_id}}/{{YYYYMMDD_HHMMSS}}`",
                path.chars().take(200).collect::<String>()
            ))),
        }
    }

    fn dir(&self) -> ObjectPath {
        ObjectPath::from_iter([self.tenant.as_str().to_owned(), self.version.to_string()])
    }

    fn file(&self, name: &str) -> ObjectPath {
        self.dir().child(name)
    }
}

impl serde::Serialize for StoragePath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for StoragePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tenant, self.version)
    }
}

/// Model files in an object store. Cheap to clone.
#[derive(Clone)]
pub struct ModelStore {
    inner: Arc<dyn ObjectStore>,
    /// Where the store lives, for messages (never holds credentials).
    location: String,
    max_object_bytes: u64,
}

impl fmt::Debug for ModelStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelStore")
            .field("location", &self.location)
            .field("max_object_bytes", &self.max_object_bytes)
            .finish()
    }
}

/// Client options for remote stores: fail fast when the store is down instead of retrying for
/// minutes (the caller reports `UNAVAILABLE` and the next run retries).
fn client_options() -> ClientOptions {
    ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(120))
}

fn retry_config() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 3,
        retry_timeout: Duration::from_secs(15),
    }
}

fn map_err(e: object_store::Error) -> StoreError {
    match e {
        object_store::Error::NotFound { path, .. } => {
            StoreError::NotFound(format!("object {path}"))
        }
        object_store::Error::InvalidPath { source } => StoreError::Config(source.to_string()),
        object_store::Error::AlreadyExists { path, .. } => {
            StoreError::Conflict(format!("object {path} already exists"))
        }
        e => StoreError::Unavailable(e.to_string()),
    }
}

impl ModelStore {
    /// Open a store by URL:
    /// - a directory path (`./data/models`, created when missing) or `file:///abs/dir`;
    /// - `s3://bucket` or `s3://bucket/prefix`, configured from the usual AWS environment
    ///   variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    ///   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_ALLOW_HTTP`, ...);
    /// - `memory://` (in-process, lost at exit; tests only).
    pub fn from_url(url: &str) -> Result<Self> {
        Self::from_url_with_options(url, std::iter::empty::<(String, String)>())
    }

    /// [`ModelStore::from_url`] with extra S3 options that override the environment, as
    /// `(key, value)` pairs named like the environment variables without `AWS_`, lower case
    /// (`endpoint`, `region`, `access_key_id`, `secret_access_key`, `allow_http`, ...).
    pub fn from_url_with_options<K, V>(
        url: &str,
        options: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::Config("the model store URL is empty".into()));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError::Config(format!(
                    "store URL {url:?} has no bucket (expected s3://bucket/prefix)"
                )));
            }
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_client_options(client_options())
                .with_retry(retry_config());
            for (k, v) in options {
                let key = k.as_ref().to_ascii_lowercase();
                let key = if key.starts_with("aws_") { key } else { format!("aws_{key}") };
                let key = key.parse().map_err(|_| {
                    StoreError::Config(format!("unknown S3 option `{}`", k.as_ref()))
                })?;
                builder = builder.with_config(key, v);
            }
            let s3 = builder
                .build()
                .map_err(|e| StoreError::Config(format!("S3 store {url:?}: {e}")))?;
            let prefix = prefix.trim_matches('/');
            let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
                Arc::new(s3)
            } else {
                let p = ObjectPath::parse(prefix).map_err(|e| {
                    StoreError::Config(format!("invalid prefix in store URL {url:?}: {e}"))
                })?;
                Arc::new(PrefixStore::new(s3, p))
            };
            return Ok(Self::new(inner, format!("s3://{bucket}/{prefix}")));
        }
        if url == "memory://" {
            return Ok(Self::new(Arc::new(InMemory::new()), url.to_owned()));
        }
        let dir = match url.strip_prefix("file://") {
            Some(p) => p,
            None if url.contains("://") => {
                return Err(StoreError::Config(format!(
                    "unsupported store URL {url:?} (use a directory path, file:///dir or s3://bucket/prefix)"
                )))
            }
            None => url,
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Config(format!("cannot create model store directory {dir:?}: {e}"))
        })?;
        let local = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| StoreError::Config(format!("model store directory {dir:?}: {e}")))?
            .with_automatic_cleanup(true);
        Ok(Self::new(Arc::new(local), dir.to_owned()))
    }

    fn new(inner: Arc<dyn ObjectStore>, location: String) -> Self {
        ModelStore { inner, location, max_object_bytes: DEFAULT_MAX_OBJECT_BYTES }
    }

    /// Limit the size of one file read back by [`ModelStore::get`].
    pub fn with_max_object_bytes(mut self, limit: u64) -> Self {
        self.max_object_bytes = limit;
        self
    }

    /// Where the store lives (a directory or `s3://bucket/prefix`), for logs and messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Write `model` as `tenant`'s `version` (tensors first, config last) and return its storage
    /// path `{tenant}/{version}`. The version is not visible to anyone until its database row
    /// is committed.
    pub async fn put(
        &self,
        tenant: &TenantId,
        version: &Version,
        model: &TopicModel,
    ) -> Result<StoragePath> {
        let path = StoragePath { tenant: tenant.clone(), version: *version };
        let files = topic_engine::io::to_files(model).map_err(|e| {
            StoreError::Corrupt(format!("cannot encode the model of tenant {tenant}: {e}"))
        })?;
        self.put_file(&path.file(TENSORS_FILE), files.tensors).await?;
        failpoint!("store::put::after_tensors");
        self.put_file(&path.file(CONFIG_FILE), files.config_json).await?;
        failpoint!("store::put::after_config");
        tracing::debug!(tenant = %tenant, version = %version, store = %self.location, "model files written");
        Ok(path)
    }

    async fn put_file(&self, key: &ObjectPath, data: Vec<u8>) -> Result<()> {
        self.inner.put(key, PutPayload::from(data)).await.map_err(map_err)?;
        Ok(())
    }

    async fn get_file(&self, key: &ObjectPath) -> Result<Bytes> {
        let r = self.inner.get(key).await.map_err(map_err)?;
        let size = r.meta.size;
        if size > self.max_object_bytes {
            return Err(StoreError::TooLarge {
                path: key.to_string(),
                size,
                limit: self.max_object_bytes,
            });
        }
        r.bytes().await.map_err(map_err)
    }

    /// Read the model at a storage path returned by [`ModelStore::put`].
    pub async fn get(&self, path: &StoragePath) -> Result<TopicModel> {
        let config = self.get_file(&path.file(CONFIG_FILE)).await?;
        let tensors = self.get_file(&path.file(TENSORS_FILE)).await?;
        topic_engine::io::from_files(&config, &tensors)
            .map_err(|e| StoreError::Corrupt(format!("model {path}: {e}")))
    }

    /// Delete one version's files (no error when they are already gone).
    pub async fn delete_version(&self, path: &StoragePath) -> Result<()> {
        self.delete_prefix(&path.dir()).await
    }

    /// Delete every file of `tenant`.
    pub async fn delete_tenant(&self, tenant: &TenantId) -> Result<()> {
        self.delete_prefix(&ObjectPath::from_iter([tenant.as_str()])).await
    }

    async fn delete_prefix(&self, prefix: &ObjectPath) -> Result<()> {
        let keys: Vec<ObjectPath> = self
            .inner
            .list(Some(prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(map_err)?;
        for key in keys {
            match self.inner.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(map_err(e)),
            }
        }
        Ok(())
    }

    /// Tenants that have files in the store (top-level folders that are valid tenant ids).
    pub async fn list_tenants(&self) -> Result<Vec<TenantId>> {
        let listing = self.inner.list_with_delimiter(None).await.map_err(map_err)?;
        let mut tenants: Vec<TenantId> = listing
            .common_prefixes
            .iter()
            .filter_map(|p| {
                let name = p.parts().last()?;
                TenantId::parse(name.as_ref()).ok()
            })
            .collect();
        tenants.sort();
        tenants.dedup();
        Ok(tenants)
    }

    /// Storage paths of `tenant`'s versions present in the store (complete or not), oldest first.
    pub async fn list_version_paths(&self, tenant: &TenantId) -> Result<Vec<StoragePath>> {
        let prefix = ObjectPath::from_iter([tenant.as_str()]);
        let keys: Vec<ObjectPath> = self
            .inner
            .list(Some(&prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(map_err)?;
        let mut versions: Vec<Version> = keys
            .iter()
            .filter_map(|k| {
                let parts: Vec<_> = k.parts().collect();
                match parts.as_slice() {
                    [t, v, _file] if t.as_ref() == tenant.as_str() => {
                        Version::parse(v.as_ref()).ok()
                    }
                    _ => {
                        tracing::warn!(key = %k, "ignoring unexpected object in the model store");
                        None
                    }
                }
            })
            .collect();
        versions.sort();
        versions.dedup();
        Ok(versions
            .into_iter()
            .map(|v| StoragePath { tenant: tenant.clone(), version: v })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_util::{model, tid, ver};
    use topicd_testing::MotoServer;

    /// The same behaviour on every backend.
    async fn exercise(store: &ModelStore) {
        let acme = tid("acme");
        let globex = tid("globex");
        let m = model();
        let v1 = ver("20250301_000000");
        let v2 = ver("20250302_000000");
        assert!(store.list_version_paths(&acme).await.unwrap().is_empty());
        let p1 = store.put(&acme, &v1, &m).await.unwrap();
        assert_eq!(p1.to_string(), "acme/20250301_000000");
        let p2 = store.put(&acme, &v2, &m).await.unwrap();
        let g1 = store.put(&globex, &v1, &m).await.unwrap();
        assert_eq!(store.get(&p1).await.unwrap(), m);
        assert_eq!(store.list_version_paths(&acme).await.unwrap(), vec![p1.clone(), p2.clone()]);

        // Paths that try to leave the tenant prefix, or are not versions, never reach the store.
        for bad in [
            "../acme/20250301_000000",
            "acme/../globex",
            "acme",
            "acme/20250301_000000/x",
            "/acme/20250301_000000",
            "acme/x",
            "",
        ] {
            let e = StoragePath::parse(bad).unwrap_err();
            assert!(matches!(e, StoreError::InvalidId(_) | StoreError::Config(_)), "{bad}: {e}");
        }
        let missing =
            store.get(&StoragePath::parse("acme/20990101_000000").unwrap()).await.unwrap_err();
        assert!(matches!(missing, StoreError::NotFound(_)), "{missing}");

        // Size limit on reads.
        let small = store.clone().with_max_object_bytes(16);
        assert!(matches!(small.get(&p1).await, Err(StoreError::TooLarge { limit: 16, .. })));

        // Corrupt files are reported as such.
        store
            .inner
            .put(&p2.file(CONFIG_FILE), PutPayload::from_static(b"{not json"))
            .await
            .unwrap();
        assert!(matches!(store.get(&p2).await, Err(StoreError::Corrupt(_))));

        store.delete_version(&p2).await.unwrap();
        store.delete_version(&p2).await.unwrap(); // idempotent
        assert_eq!(store.list_version_paths(&acme).await.unwrap(), vec![p1.clone()]);
        store.delete_tenant(&acme).await.unwrap();
        assert!(store.list_version_paths(&acme).await.unwrap().is_empty());
        assert!(matches!(store.get(&p1).await, Err(StoreError::NotFound(_))));
        // The other tenant is untouched.
        assert_eq!(store.get(&g1).await.unwrap(), m);
    }

    #[tokio::test]
    async fn local_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("models");
        let store = ModelStore::from_url(root.to_str().unwrap()).unwrap();
        exercise(&store).await;
        // The layout on disk.
        let v = ver("20250305_101112");
        store.put(&tid("t1"), &v, &model()).await.unwrap();
        assert!(root.join("t1/20250305_101112").join(CONFIG_FILE).is_file());
        let tensors = std::fs::read(root.join("t1/20250305_101112").join(TENSORS_FILE)).unwrap();
        assert!(tensors.len() > 8 * 6 * 4, "topic embeddings are in the safetensors file");
        let config = std::fs::read(root.join("t1/20250305_101112").join(CONFIG_FILE)).unwrap();
        assert_eq!(topic_engine::io::from_files(&config, &tensors).unwrap(), model());
        // A file:// URL opens the same directory.
        let again = ModelStore::from_url(&format!("file://{}", root.display())).unwrap();
        let path = StoragePath::parse("t1/20250305_101112").unwrap();
        assert_eq!(again.get(&path).await.unwrap(), model());
    }

    #[tokio::test]
    async fn memory() {
        exercise(&ModelStore::from_url("memory://").unwrap()).await;
    }

    #[tokio::test]
    async fn s3_on_moto() {
        let moto = MotoServer::start().unwrap();
        let store =
            ModelStore::from_url_with_options(&moto.store_url("prod/models"), moto.s3_options())
                .unwrap();
        assert_eq!(store.location(), "s3://topicd-test/prod/models");
        exercise(&store).await;

        // An outage is `Unavailable`; after the store comes back, writes work again.
        let v = ver("20250310_000000");
        moto.stop().unwrap();
        let e = store.put(&tid("acme"), &v, &model()).await.unwrap_err();
        assert!(e.is_unavailable(), "{e}");
        moto.start_again().unwrap();
        let p = store.put(&tid("acme"), &v, &model()).await.unwrap();
        assert_eq!(store.get(&p).await.unwrap(), model());
    }

    #[test]
    fn bad_urls() {
        for url in ["", "s3://", "gs://bucket/x", "ftp://x"] {
            assert!(matches!(ModelStore::from_url(url), Err(StoreError::Config(_))), "{url}");
        }
        assert!(matches!(
            ModelStore::from_url_with_options("s3://b", [("no_such_option", "1")]),
            Err(StoreError::Config(m)) if m.contains("no_such_option")
        ));
    }
}
