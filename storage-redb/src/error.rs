//! The engine's errors as the library's: a redb error, a file that cannot be opened or a
//! stored value that does not parse becomes [`Error::Backend`], the cause kept as its source.

use std::path::Path;

use punchlist::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::OpenError;

impl From<OpenError> for Error {
    fn from(e: OpenError) -> Self {
        Error::backend(e)
    }
}

/// Maps a redb error into the library's storage error, keeping it as the source.
pub(crate) fn be(e: impl Into<redb::Error>) -> Error {
    Error::backend(e.into())
}

/// Maps an error of opening a redb database.
pub(crate) fn open_error(e: redb::DatabaseError, path: &Path) -> OpenError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => OpenError::AlreadyOpen,
        redb::DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() != std::io::ErrorKind::InvalidData =>
        {
            OpenError::Io(io)
        }
        other => OpenError::NotADatabase {
            path: path.to_path_buf(),
            source: other,
        },
    }
}

/// A value as it is stored: JSON.
pub(crate) fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(Error::backend)
}

/// A stored value, parsed back.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(Error::backend)
}
