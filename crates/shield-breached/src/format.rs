//! The range file's layout (see the crate README): a fixed header, an offset table with one
//! entry per five-hex-digit prefix, then fixed-size records sorted by hash.
//!
//! Fixed-size records rather than compressed buckets: a lookup is one positioned read of
//! exactly the bucket's bytes and a loop over 21-byte slices, and the file can be checked for
//! truncation from its length alone. At 21 bytes a hash (plus 4 MB of table) it is about half
//! the size of the text it came from.

/// The file starts with this; the trailing digit is the format version.
pub(crate) const MAGIC: &[u8; 8] = b"SHPWNED1";

/// Five hex digits: 2^20 buckets.
pub const PREFIXES: usize = 1 << 20;

/// Bytes per stored hash: 140 bits of suffix and a 28-bit count.
pub const RECORD_LEN: usize = 21;

/// Counts are stored in 28 bits; larger ones are stored as this (the largest count in the
/// public Pwned Passwords list is in the tens of millions).
pub const MAX_COUNT: u32 = (1 << 28) - 1;

/// Record indexes in the table are `u32`: about 4.3 billion hashes, four times the public list.
pub const MAX_RECORDS: u64 = u32::MAX as u64;

pub(crate) const HEADER_LEN: usize = 32;
pub(crate) const TABLE_LEN: usize = 4 * (PREFIXES + 1);
/// Where the records start.
pub(crate) const RECORDS_AT: u64 = (HEADER_LEN + TABLE_LEN) as u64;

/// The prefix a full hash falls under: its first 20 bits.
pub(crate) fn prefix_of(hash: &[u8; 20]) -> usize {
    (usize::from(hash[0]) << 12) | (usize::from(hash[1]) << 4) | (usize::from(hash[2]) >> 4)
}

/// Packs the part of `hash` after its prefix, and `count` (clamped to [`MAX_COUNT`]).
pub(crate) fn encode_record(hash: &[u8; 20], count: u64) -> [u8; RECORD_LEN] {
    let count = count.min(u64::from(MAX_COUNT)) as u32;
    let mut out = [0u8; RECORD_LEN];
    out[0] = ((hash[2] & 0x0f) << 4) | ((count >> 24) as u8 & 0x0f);
    out[1..18].copy_from_slice(&hash[3..20]);
    out[18] = (count >> 16) as u8;
    out[19] = (count >> 8) as u8;
    out[20] = count as u8;
    out
}

/// The 35 upper-case hex digits after the prefix, and the count.
pub(crate) fn decode_record(record: &[u8]) -> ([u8; 35], u32) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut suffix = [0u8; 35];
    suffix[0] = HEX[usize::from(record[0] >> 4)];
    for (i, byte) in record[1..18].iter().enumerate() {
        suffix[1 + 2 * i] = HEX[usize::from(byte >> 4)];
        suffix[2 + 2 * i] = HEX[usize::from(byte & 0x0f)];
    }
    let count = (u32::from(record[0] & 0x0f) << 24)
        | (u32::from(record[18]) << 16)
        | (u32::from(record[19]) << 8)
        | u32::from(record[20]);
    (suffix, count)
}

/// The fixed header: magic, record count, list id.
pub(crate) fn encode_header(records: u64, list_id: &[u8; 16]) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[..8].copy_from_slice(MAGIC);
    out[8..16].copy_from_slice(&records.to_le_bytes());
    out[16..32].copy_from_slice(list_id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_its_suffix_and_count() {
        let mut hash = [0u8; 20];
        for (i, b) in hash.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        let hex: String = hash.iter().map(|b| format!("{b:02X}")).collect();
        for count in [1, 2, 255, 65_536, 24_230_577, u64::from(MAX_COUNT)] {
            let (suffix, back) = decode_record(&encode_record(&hash, count));
            assert_eq!(std::str::from_utf8(&suffix).unwrap(), &hex[5..]);
            assert_eq!(u64::from(back), count);
        }
        let (_, clamped) = decode_record(&encode_record(&hash, u64::MAX));
        assert_eq!(clamped, MAX_COUNT);
        assert_eq!(
            prefix_of(&hash),
            usize::from_str_radix(&hex[..5], 16).unwrap()
        );
    }
}
