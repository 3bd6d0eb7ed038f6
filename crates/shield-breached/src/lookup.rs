//! Answering a prefix: the offset table is read into memory when the file is opened (4 MB),
//! so a lookup is one positioned read of the bucket's records.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::format::{HEADER_LEN, MAGIC, PREFIXES, RECORD_LEN, RECORDS_AT, decode_record};
use crate::line::Prefix;

/// One hash under a prefix: the 35 upper-case hex digits after it, and how often it was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub suffix: [u8; 35],
    pub count: u32,
}

impl Entry {
    pub fn suffix_str(&self) -> &str {
        // Always ASCII hex digits: written by `decode_record`.
        std::str::from_utf8(&self.suffix).unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("no breached-password list has been imported ({} does not exist)", .0.display())]
    Missing(PathBuf),
    #[error("cannot read the breached-password list {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a breached-password range file, or is damaged: {why}", .path.display())]
    Corrupt { path: PathBuf, why: &'static str },
}

/// An open range file.
#[derive(Debug)]
pub struct RangeFile {
    file: File,
    /// `PREFIXES + 1` record indexes.
    table: Vec<u32>,
    records: u64,
    list_id: [u8; 16],
}

impl RangeFile {
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let io = |source: std::io::Error| {
            if source.kind() == std::io::ErrorKind::NotFound {
                OpenError::Missing(path.to_path_buf())
            } else {
                OpenError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
        };
        let corrupt = |why| OpenError::Corrupt {
            path: path.to_path_buf(),
            why,
        };
        let mut file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut head = vec![0u8; RECORDS_AT as usize];
        if len < RECORDS_AT {
            return Err(corrupt("shorter than its header"));
        }
        file.read_exact(&mut head).map_err(io)?;
        if &head[..8] != MAGIC {
            return Err(corrupt("wrong magic number or version"));
        }
        let records = u64::from_le_bytes(head[8..16].try_into().unwrap_or_default());
        let mut list_id = [0u8; 16];
        list_id.copy_from_slice(&head[16..32]);
        if Some(len)
            != records
                .checked_mul(RECORD_LEN as u64)
                .and_then(|r| r.checked_add(RECORDS_AT))
        {
            return Err(corrupt("its length does not match its record count"));
        }
        let table: Vec<u32> = head[HEADER_LEN..]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if table[0] != 0
            || u64::from(table[PREFIXES]) != records
            || table.windows(2).any(|w| w[0] > w[1])
        {
            return Err(corrupt("its offset table is out of order"));
        }
        Ok(Self {
            file,
            table,
            records,
            list_id,
        })
    }

    /// How many hashes the list holds.
    pub fn len(&self) -> u64 {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Random, new on each import: responses can be tagged with it.
    pub fn list_id(&self) -> [u8; 16] {
        self.list_id
    }

    /// The hashes under `prefix`, in order.
    pub fn range(&self, prefix: Prefix) -> std::io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        self.for_each(prefix, |suffix, count| out.push(Entry { suffix, count }))?;
        Ok(out)
    }

    /// The response body of the range API: `SUFFIX:COUNT\r\n` per hash, appended to `out`.
    pub fn write_range(&self, prefix: Prefix, out: &mut String) -> std::io::Result<usize> {
        let mut n = 0;
        let mut digits = [0u8; 10];
        self.for_each(prefix, |suffix, count| {
            out.push_str(std::str::from_utf8(&suffix).unwrap_or_default());
            out.push(':');
            // Decimal by hand: no allocation per line.
            let mut i = digits.len();
            let mut rest = count;
            loop {
                i -= 1;
                digits[i] = b'0' + (rest % 10) as u8;
                rest /= 10;
                if rest == 0 {
                    break;
                }
            }
            out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
            out.push_str("\r\n");
            n += 1;
        })?;
        Ok(n)
    }

    fn for_each(&self, prefix: Prefix, mut f: impl FnMut([u8; 35], u32)) -> std::io::Result<()> {
        let i = prefix.index();
        let (start, end) = (u64::from(self.table[i]), u64::from(self.table[i + 1]));
        if start == end {
            return Ok(());
        }
        let mut buffer = vec![0u8; ((end - start) as usize) * RECORD_LEN];
        read_at(
            &self.file,
            &mut buffer,
            RECORDS_AT + start * RECORD_LEN as u64,
        )?;
        for record in buffer.chunks_exact(RECORD_LEN) {
            let (suffix, count) = decode_record(record);
            f(suffix, count);
        }
        Ok(())
    }
}

#[cfg(unix)]
fn read_at(file: &File, buffer: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, at)
}

#[cfg(windows)]
fn read_at(file: &File, mut buffer: &mut [u8], mut at: u64) -> std::io::Result<()> {
    while !buffer.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buffer, at)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buffer = &mut buffer[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

/// What a server holds: the path of the range file and the file as last opened. Each
/// [`current`](Self::current) looks at the path's metadata and reopens the file if an import
/// has replaced it since, so `shield import breached-passwords` needs no restart.
#[derive(Debug)]
pub struct RangeStore {
    path: PathBuf,
    open: Mutex<Option<(FileId, Arc<RangeFile>)>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileId {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: u64,
}

impl RangeStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            open: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The list as it is on disk now.
    pub fn current(&self) -> Result<Arc<RangeFile>, OpenError> {
        let meta = std::fs::metadata(&self.path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                OpenError::Missing(self.path.clone())
            } else {
                OpenError::Io {
                    path: self.path.clone(),
                    source,
                }
            }
        })?;
        let id = FileId {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(&meta),
        };
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((known, file)) = open.as_ref()
            && *known == id
        {
            return Ok(file.clone());
        }
        let file = Arc::new(RangeFile::open(&self.path)?);
        *open = Some((id, file.clone()));
        Ok(file)
    }
}
