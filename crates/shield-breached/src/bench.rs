//! The moving parts of `shield bench breached-passwords`, here so they are compiled with the
//! crate's optimisation level: generating a list of random hashes as an import file, and timed
//! lookups of random prefixes.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{Prefix, RangeFile};

/// splitmix64: fast, and good enough to stand in for SHA-1 output.
#[derive(Debug)]
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Writes `count` lines of `SHA1HEX:count` with random hashes and counts.
pub fn generate(path: &Path, count: u64, seed: u64) -> std::io::Result<u64> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut rng = Rng(seed);
    let mut line = Vec::with_capacity(64);
    let mut bytes = 0u64;
    for _ in 0..count {
        line.clear();
        let words = [rng.next_u64(), rng.next_u64(), rng.next_u64()];
        for i in 0..20 {
            let b = (words[i / 8] >> ((i % 8) * 8)) as u8;
            line.push(HEX[usize::from(b >> 4)]);
            line.push(HEX[usize::from(b & 0x0f)]);
        }
        line.push(b':');
        line.extend_from_slice((1 + rng.next_u64() % 10_000).to_string().as_bytes());
        line.push(b'\n');
        out.write_all(&line)?;
        bytes += line.len() as u64;
    }
    out.flush()?;
    Ok(bytes)
}

/// `per_thread` lookups of random prefixes on each of `threads` threads; the wall time.
pub fn lookups(
    file: &Arc<RangeFile>,
    threads: usize,
    per_thread: u64,
    seed: u64,
) -> std::io::Result<Duration> {
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let file = file.clone();
            std::thread::spawn(move || -> std::io::Result<usize> {
                let mut rng = Rng(seed * 1000 + t as u64 + 1);
                let mut body = String::with_capacity(4096);
                let mut lines = 0;
                for _ in 0..per_thread {
                    let prefix =
                        Prefix::from_index((rng.next_u64() % (1 << 20)) as u32).unwrap_or_default();
                    body.clear();
                    lines += file.write_range(prefix, &mut body)?;
                }
                Ok(lines)
            })
        })
        .collect();
    for handle in handles {
        handle
            .join()
            .map_err(|_| std::io::Error::other("a lookup thread panicked"))??;
    }
    Ok(started.elapsed())
}
