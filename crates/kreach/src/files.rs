//! Reading the user's files (properties, CA bundles) within a size cap.

use std::path::Path;
use std::sync::Arc;

use crate::error::Error;

/// Reads a file of at most `cap` bytes; a larger one is an error naming `field`, read no further.
pub(crate) fn read_capped(path: &Path, cap: u64, field: &str) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let read_err = |e: std::io::Error| Error::ReadFile { path: path.to_path_buf(), source: Arc::new(e) };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes).map_err(read_err)?;
    if bytes.len() as u64 > cap {
        return Err(Error::invalid(field, format!("{} is larger than {} KiB", path.display(), cap / 1024)));
    }
    Ok(bytes)
}
