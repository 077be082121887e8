//! Reading the user's files (properties, CA bundles) within a size cap.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::Error;
use crate::limits::{MAX_CA_BYTES, MAX_CA_FILES};

/// Reads a regular file of at most `cap` bytes; a larger one is an error naming `field`, read no
/// further. Anything else (a FIFO, a device such as `/dev/zero`, a socket, a directory) is refused
/// before a byte is read: a FIFO nobody writes to would block the run forever, a device never ends.
/// The file is opened non-blocking, so one swapped in after the check cannot block the open either.
pub fn read_input_file(path: &Path, cap: u64, field: &str) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let read_err = |e: std::io::Error| Error::ReadFile { path: path.to_path_buf(), source: Arc::new(e) };
    let not_regular = || Error::invalid(field, format!("{} is not a regular file", crate::error::quote_path(path)));
    if !std::fs::metadata(path).map_err(read_err)?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(read_err)?;
    if !file.metadata().map_err(read_err)?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes).map_err(read_err)?;
    if bytes.len() as u64 > cap {
        return Err(Error::invalid(
            field,
            format!("{} is larger than {} KiB", crate::error::quote_path(path), cap / 1024),
        ));
    }
    Ok(bytes)
}

/// The certificates of PEM text held in memory (at most [`MAX_CA_BYTES`]); none is an error
/// naming `field`.
pub(crate) fn certificates_from_pem(pem: &[u8], field: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    if pem.len() as u64 > MAX_CA_BYTES {
        return Err(Error::invalid(field, format!("larger than {} KiB", MAX_CA_BYTES / 1024)));
    }
    let parsed: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    let certs = parsed.map_err(|e| Error::invalid(field, format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid(field, "holds no PEM certificate"));
    }
    Ok(certs)
}

/// Reads the PEM certificates of a file, or of every file in a directory (as OpenSSL's
/// `ssl.ca.location` may name one, e.g. `/etc/ssl/certs`), within [`MAX_CA_BYTES`].
pub(crate) fn read_ca_file(path: &Path, field: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let read_err = |e: std::io::Error| Error::ReadFile { path: path.to_path_buf(), source: Arc::new(e) };
    let mut certs = Vec::new();
    if std::fs::metadata(path).map_err(read_err)?.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(read_err)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .take(MAX_CA_FILES + 1)
            .collect();
        if files.len() > MAX_CA_FILES {
            return Err(Error::invalid(
                field,
                format!("{} holds more than {MAX_CA_FILES} files", crate::error::quote_path(path)),
            ));
        }
        files.sort();
        let mut left = MAX_CA_BYTES;
        for file in files {
            let bytes = read_input_file(&file, left, field)?;
            left -= bytes.len() as u64;
            // Other files (hash links' targets are the PEM files themselves, READMEs) are skipped.
            certs.extend(CertificateDer::pem_slice_iter(&bytes).filter_map(Result::ok));
        }
    } else {
        let bytes = read_input_file(path, MAX_CA_BYTES, field)?;
        let parsed: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&bytes).collect();
        certs = parsed.map_err(|e| Error::invalid(field, format!("{}: {e}", crate::error::quote_path(path))))?;
    }
    if certs.is_empty() {
        return Err(Error::invalid(field, format!("{} holds no PEM certificate", crate::error::quote_path(path))));
    }
    Ok(certs)
}
