//! Django's `slugify`, which Democracy Club uses to build ballot paper ids such as
//! `parl.ayr-carrick-and-cumnock.2024-07-04` from a post label.

use unicode_normalization::UnicodeNormalization;

/// NFKD-normalise, drop what is not ASCII, lowercase, keep word characters, spaces and
/// hyphens, then collapse runs of spaces and hyphens into one hyphen and trim hyphens.
pub fn slugify(value: &str) -> String {
    let ascii: String = value.nfkd().filter(char::is_ascii).collect();
    let kept: String = ascii
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || c.is_whitespace())
        .collect();
    let mut out = String::with_capacity(kept.len());
    let mut pending_dash = false;
    for c in kept.chars() {
        if c == '-' || c.is_whitespace() {
            pending_dash = true;
        } else {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn matches_democracy_club_ids() {
        assert_eq!(
            slugify("Ayr, Carrick and Cumnock"),
            "ayr-carrick-and-cumnock"
        );
        assert_eq!(
            slugify("Montgomeryshire and Glyndŵr"),
            "montgomeryshire-and-glyndwr"
        );
        assert_eq!(slugify("Weston-super-Mare"), "weston-super-mare");
        assert_eq!(slugify("  Ynys Môn "), "ynys-mon");
        assert_eq!(slugify("St Helens North"), "st-helens-north");
        assert_eq!(
            slugify("Brecon, Radnor and Cwm Tawe"),
            "brecon-radnor-and-cwm-tawe"
        );
    }
}
