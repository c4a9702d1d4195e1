//! A check of compound documents (OLE/CFB: `.xls`, password-protected `.xlsx`) before calamine
//! reads them.
//!
//! calamine follows a stream's sector chain until it has as many bytes as the directory says
//! the stream holds. A crafted file of a few kilobytes whose chain loops back on itself, or
//! whose directory declares a stream of gigabytes, makes it allocate without bound; a chain
//! that points past the allocation table makes it panic. This walks the same structures with
//! every chain bounded by the file's own size and refuses such a file as damaged before
//! calamine sees it.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::ReadError;

/// The compound-document signature.
pub const SIGNATURE: [u8; 8] = *b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
const FREE: u32 = 0xFFFF_FFFF;
const RESERVED: u32 = 0xFFFF_FFFA;
/// Streams shorter than this live in the mini stream.
const MINI_CUTOFF: u64 = 4096;

fn damaged(what: impl Into<String>) -> ReadError {
    ReadError::Corrupt(format!(
        "its compound-document structure is damaged: {}",
        what.into()
    ))
}

struct Document {
    file: File,
    len: u64,
    sector_size: u64,
}

impl Document {
    /// Number of whole sectors after the header.
    fn sectors(&self) -> u64 {
        (self.len / self.sector_size).saturating_sub(1)
    }

    fn sector(&mut self, id: u32) -> Result<Vec<u8>, ReadError> {
        if u64::from(id) >= self.sectors() {
            return Err(damaged(format!(
                "sector {id} lies past the end of the file"
            )));
        }
        let mut buffer = vec![0u8; self.sector_size as usize];
        self.file
            .seek(SeekFrom::Start((u64::from(id) + 1) * self.sector_size))?;
        self.file.read_exact(&mut buffer)?;
        Ok(buffer)
    }

    /// The sectors of the chain from `start` in `table`, each once, at most `limit`.
    fn chain(
        &self,
        start: u32,
        table: &[u32],
        limit: u64,
        what: &str,
    ) -> Result<Vec<u32>, ReadError> {
        let mut ids = Vec::new();
        let mut seen = HashSet::new();
        let mut id = start;
        while id != END_OF_CHAIN {
            if id >= RESERVED || id as usize >= table.len() {
                return Err(damaged(format!(
                    "the {what} chain points to sector {id}, outside the file's table"
                )));
            }
            if !seen.insert(id) {
                return Err(damaged(format!(
                    "the {what} chain loops back to sector {id}"
                )));
            }
            if ids.len() as u64 >= limit {
                return Err(damaged(format!("the {what} chain is longer than the file")));
            }
            ids.push(id);
            id = table[id as usize];
        }
        Ok(ids)
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn u32s(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// Whether the file at `path` starts like a compound document.
pub fn is_compound(path: &Path) -> bool {
    let mut head = [0u8; 8];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == SIGNATURE
}

/// Checks the allocation tables, the directory and every stream's chain and length of the
/// compound document at `path` against the file's size.
pub fn check(path: &Path) -> Result<(), ReadError> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut header = [0u8; 512];
    if file.read_exact(&mut header).is_err() || header[..8] != SIGNATURE {
        return Err(damaged("the header is cut short"));
    }
    let sector_size: u64 = match u16_at(&header, 30) {
        9 => 512,
        12 => 4096,
        other => return Err(damaged(format!("sector shift {other}"))),
    };
    let mut doc = Document {
        file,
        len,
        sector_size,
    };
    let sectors = doc.sectors();
    let fat_sectors = u64::from(u32_at(&header, 44));
    let dir_start = u32_at(&header, 48);
    let mini_fat_start = u32_at(&header, 60);
    let mini_fat_sectors = u64::from(u32_at(&header, 64));
    let mut difat_next = u32_at(&header, 68);
    let difat_sectors = u64::from(u32_at(&header, 72));
    if fat_sectors > sectors || mini_fat_sectors > sectors || difat_sectors > sectors {
        return Err(damaged(format!(
            "it declares {fat_sectors} table sectors in a file of {sectors}"
        )));
    }
    // the allocation table's own sectors: 109 in the header, the rest in a DIFAT chain
    let mut fat_ids: Vec<u32> = u32s(&header[76..512]).filter(|id| *id < RESERVED).collect();
    let mut seen = HashSet::new();
    while difat_next < RESERVED {
        if !seen.insert(difat_next) || seen.len() as u64 > sectors {
            return Err(damaged("the DIFAT chain loops"));
        }
        let sector = doc.sector(difat_next)?;
        let entries: Vec<u32> = u32s(&sector).collect();
        let (next, ids) = entries.split_last().expect("a sector holds entries");
        fat_ids.extend(ids.iter().copied().filter(|id| *id < RESERVED));
        difat_next = *next;
    }
    if fat_ids.len() as u64 > sectors {
        return Err(damaged("more table sectors than the file holds"));
    }
    let mut fat: Vec<u32> = Vec::with_capacity(fat_ids.len() * (sector_size as usize / 4));
    for id in fat_ids {
        fat.extend(u32s(&doc.sector(id)?));
    }
    // the directory, every entry 128 bytes
    let mut directory = Vec::new();
    for id in doc.chain(dir_start, &fat, sectors, "directory")? {
        directory.extend(doc.sector(id)?);
    }
    let entries: Vec<&[u8]> = directory.chunks_exact(128).collect();
    let Some(root) = entries.first() else {
        return Err(damaged("it has no directory"));
    };
    let stream_len = |entry: &[u8]| {
        if sector_size == 512 {
            u64::from(u32_at(entry, 120))
        } else {
            u64::from(u32_at(entry, 120)) | (u64::from(u32_at(entry, 124)) << 32)
        }
    };
    let mini_stream_len = stream_len(root);
    if mini_stream_len > len {
        return Err(damaged(format!(
            "the mini stream declares {mini_stream_len} bytes in a file of {len}"
        )));
    }
    let mini_stream_sectors = if mini_fat_sectors > 0 {
        doc.chain(u32_at(root, 116), &fat, sectors, "mini stream")?
            .len() as u64
    } else {
        0
    };
    let mut mini_fat = Vec::new();
    if mini_fat_sectors > 0 {
        for id in doc.chain(mini_fat_start, &fat, sectors, "mini table")? {
            mini_fat.extend(u32s(&doc.sector(id)?));
        }
    }
    let mini_sectors = mini_stream_sectors * sector_size / 64;
    for entry in entries.iter().skip(1) {
        // 2: a stream (1 is a storage, 0 an unused slot)
        if entry[66] != 2 {
            continue;
        }
        let declared = stream_len(entry);
        if declared > len {
            return Err(damaged(format!(
                "a stream declares {declared} bytes in a file of {len}"
            )));
        }
        let start = u32_at(entry, 116);
        if declared == 0 || start == END_OF_CHAIN || start == FREE {
            continue;
        }
        if declared < MINI_CUTOFF {
            doc.chain(start, &mini_fat, mini_sectors, "mini stream")?;
        } else {
            doc.chain(start, &fat, sectors, "stream")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crafted_documents_the_fuzzer_found_are_refused() {
        for name in ["calamine_cyclic_chain.xls", "calamine_panic.xlsx"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name);
            assert!(is_compound(&path), "{name}");
            let error = check(&path).unwrap_err().to_string();
            assert!(
                error.contains("compound-document structure is damaged"),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn real_compound_documents_pass() {
        // a password-protected .xlsx holds the encrypted package in a compound document; the
        // .xls was written by xlwt, as many department systems export
        for name in ["password_protected.xlsx", "xlwt_export.xls"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name);
            assert!(is_compound(&path), "{name}");
            check(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
