//! The range file against a plain map of the same lines: every prefix a line fell under, and
//! some that none did, give exactly the map's entries, in order.

use std::collections::BTreeMap;
use std::io::Cursor;

use sha1::{Digest, Sha1};
use shield_breached::{ImportError, Prefix, RangeFile, RangeStore, import};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn sha1_hex(text: &str) -> String {
    hex(&Sha1::digest(text.as_bytes()))
}

/// A small deterministic generator (splitmix64), so failures reproduce.
#[derive(Debug)]
struct Rng(u64);
impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The naive answer: upper-case full hash → summed count.
fn naive(lines: &[(String, u64)]) -> BTreeMap<String, u64> {
    let mut map = BTreeMap::new();
    for (hash, count) in lines {
        *map.entry(hash.to_uppercase()).or_insert(0) += count;
    }
    map
}

fn text(lines: &[(String, u64)]) -> String {
    lines.iter().map(|(h, c)| format!("{h}:{c}\n")).collect()
}

#[test]
fn lookups_match_a_naive_map() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("breached.bin");
    let mut rng = Rng(7);
    let mut lines = Vec::new();
    for i in 0..20_000u64 {
        let mut bytes = [0u8; 20];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_le_bytes()[..chunk.len()]);
        }
        // Crowd a few prefixes, so some buckets hold many hashes.
        if i % 10 == 0 {
            bytes[0] = 0xAB;
            bytes[1] = 0xCD;
            bytes[2] &= 0x0F;
        }
        let h = hex(&bytes);
        // Mixed case in the input.
        let h = if i % 2 == 0 { h.to_lowercase() } else { h };
        lines.push((h, 1 + rng.next_u64() % 5_000_000));
    }
    lines.push((sha1_hex("password"), 3_861_493));
    let summary = import(Cursor::new(text(&lines)), "list.txt", &dest).unwrap();
    let map = naive(&lines);
    assert_eq!(summary.hashes, map.len() as u64);
    assert_eq!(summary.lines, lines.len() as u64);
    assert_eq!(
        summary.bytes,
        std::fs::metadata(&dest).unwrap().len(),
        "the summary's size is the file's"
    );

    let file = RangeFile::open(&dest).unwrap();
    assert_eq!(file.len(), map.len() as u64);
    let mut prefixes: Vec<String> = map.keys().map(|k| k[..5].to_owned()).collect();
    prefixes.extend(["00000", "FFFFF", "ABCD0", "12345"].map(String::from));
    prefixes.sort();
    prefixes.dedup();
    for p in &prefixes {
        let got: Vec<(String, u64)> = file
            .range(Prefix::parse(p).unwrap())
            .unwrap()
            .iter()
            .map(|e| (format!("{p}{}", e.suffix_str()), u64::from(e.count)))
            .collect();
        let want: Vec<(String, u64)> = map
            .range(format!("{p}")..)
            .take_while(|(k, _)| k.starts_with(p.as_str()))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        assert_eq!(got, want, "prefix {p}");
    }
    // The body as the API serves it.
    let pw = sha1_hex("password");
    let mut body = String::new();
    file.write_range(Prefix::parse(&pw[..5]).unwrap(), &mut body)
        .unwrap();
    assert!(
        body.contains(&format!("{}:3861493\r\n", &pw[5..])),
        "{body}"
    );
    assert!(
        body.lines()
            .all(|l| l.len() > 36 && l.as_bytes()[35] == b':')
    );
}

#[test]
fn an_empty_list_answers_every_prefix_with_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("breached.bin");
    let summary = import(Cursor::new("\n\n"), "empty.txt", &dest).unwrap();
    assert_eq!((summary.lines, summary.hashes), (0, 0));
    let file = RangeFile::open(&dest).unwrap();
    assert!(file.is_empty());
    for p in ["00000", "5BAA6", "FFFFF"] {
        assert!(file.range(Prefix::parse(p).unwrap()).unwrap().is_empty());
    }
}

#[test]
fn duplicates_are_merged_by_adding_their_counts() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("breached.bin");
    let pw = sha1_hex("letmein");
    let input = format!("{pw}:10\n{}:5\r\n{pw}:1\n", pw.to_lowercase());
    let summary = import(Cursor::new(input), "dups.txt", &dest).unwrap();
    assert_eq!(
        (summary.lines, summary.hashes, summary.duplicates),
        (3, 1, 2)
    );
    let file = RangeFile::open(&dest).unwrap();
    let entries = file.range(Prefix::parse(&pw[..5]).unwrap()).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].suffix_str(), &pw[5..]);
    assert_eq!(entries[0].count, 16);
}

#[test]
fn bad_lines_are_named_and_the_old_list_survives() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("breached.bin");
    let good = sha1_hex("qwerty");
    import(Cursor::new(format!("{good}:42\n")), "first.txt", &dest).unwrap();
    let before = std::fs::read(&dest).unwrap();

    let input = format!(
        "{}:1\nnot a hash\n{}:0\n{}:7\n{}Z:3\n",
        sha1_hex("123456"),
        sha1_hex("dragon"),
        sha1_hex("monkey"),
        &sha1_hex("shadow")[..39]
    );
    let err = import(Cursor::new(input), "second.txt", &dest).unwrap_err();
    let ImportError::BadLines {
        ref file,
        ref errors,
        total,
    } = err
    else {
        panic!("{err}")
    };
    assert_eq!(file, "second.txt");
    assert_eq!(total, 3);
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 5]);
    assert!(errors[0].message.contains("no colon"));
    assert!(errors[1].message.contains("at least 1"));
    assert!(errors[2].message.contains("not a hex digit"));
    let shown = err.to_string();
    assert!(
        shown.contains("second.txt: line 2: expected SHA1:count")
            && shown.contains("nothing was imported"),
        "{shown}"
    );

    // Nothing was written: the first list is still there, byte for byte, and no temporary
    // files are left beside it.
    assert_eq!(std::fs::read(&dest).unwrap(), before);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn the_store_reopens_a_replaced_list_and_refuses_a_damaged_one() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("breached.bin");
    let store = RangeStore::new(&dest);
    assert!(matches!(
        store.current(),
        Err(shield_breached::OpenError::Missing(_))
    ));
    let a = sha1_hex("sunshine");
    import(Cursor::new(format!("{a}:1\n")), "a.txt", &dest).unwrap();
    let first = store.current().unwrap();
    assert_eq!(first.len(), 1);
    let b = sha1_hex("princess");
    import(Cursor::new(format!("{a}:1\n{b}:2\n")), "b.txt", &dest).unwrap();
    let second = store.current().unwrap();
    assert_eq!(second.len(), 2);
    assert_ne!(first.list_id(), second.list_id());

    // Truncated: refused, not misread.
    let bytes = std::fs::read(&dest).unwrap();
    let damaged = dir.path().join("damaged.bin");
    std::fs::write(&damaged, &bytes[..bytes.len() - 1]).unwrap();
    assert!(matches!(
        RangeFile::open(&damaged),
        Err(shield_breached::OpenError::Corrupt { .. })
    ));
    std::fs::write(&damaged, b"SHA1:count text, not a range file").unwrap();
    assert!(RangeFile::open(&damaged).is_err());
}
