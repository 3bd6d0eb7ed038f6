//! Reading an external labelled corpus (Davidson et al., 2017) to widen the
//! abuse head's view of abusive language. Read at training time only; none
//! of its text is copied into this crate.
use std::path::Path;

use crate::error::DetectError;

/// Extra abuse-only examples (text, is_abusive), e.g. from a public corpus.
pub type AbuseExtra = Vec<(String, bool)>;

/// Reads the Davidson et al. CSV (columns `index, count, hate_speech,
/// offensive_language, neither, class, tweet`; class 0 hate, 1 offensive,
/// 2 neither), keeping at most `limit` rows spread evenly over the file.
pub fn read_davidson_csv(path: &Path, limit: usize) -> Result<AbuseExtra, DetectError> {
    let raw = std::fs::read_to_string(path).map_err(|source| DetectError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rows = Vec::new();
    for rec in split_csv_records(&raw).into_iter().skip(1) {
        if rec.len() < 7 {
            continue;
        }
        let class: u8 = match rec[5].trim().parse() {
            Ok(c) => c,
            Err(_) => continue,
        };
        let tweet = clean_tweet(&rec[6]);
        if tweet.len() > 3 {
            rows.push((tweet, class != 2));
        }
    }
    if rows.len() > limit && limit > 0 {
        let step = rows.len() as f64 / limit as f64;
        rows = (0..limit)
            .map(|i| rows[(i as f64 * step) as usize].clone())
            .collect();
    }
    Ok(rows)
}

/// Strips retweet markers, mentions, URLs and HTML entities.
fn clean_tweet(t: &str) -> String {
    let t = t
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#8220;", "\"");
    t.split_whitespace()
        .filter(|w| {
            !w.starts_with('@') && !w.starts_with("http") && *w != "RT" && !w.starts_with("&#")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Minimal RFC 4180 CSV splitting (quoted fields, doubled quotes, newlines
/// inside quotes); enough for the corpus without another dependency.
fn split_csv_records(raw: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut field = String::new();
    let mut rec = Vec::new();
    let mut quoted = false;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => rec.push(std::mem::take(&mut field)),
            ('\n', false) => {
                rec.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut rec));
            }
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !rec.is_empty() {
        rec.push(field);
        records.push(rec);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_handles_quotes_and_newlines() {
        let recs = split_csv_records("a,b\n1,\"x, \"\"y\"\"\nz\"\n");
        assert_eq!(recs, vec![vec!["a", "b"], vec!["1", "x, \"y\"\nz"]]);
    }
}
