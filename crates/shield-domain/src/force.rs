//! Police force areas and the constituency → force link.

use std::fmt;

use serde::Serialize;

use crate::constituency::{ConstituencyCode, Nation, gss_code};
use crate::error::{FieldError, required_text};

/// An ONS police force area code: E23… (England), W15… (Wales), S23… (Scotland), or ONS's
/// pseudo code N99999999 for Northern Ireland, which has no real PFA code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ForceCode(String);

impl ForceCode {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let code = gss_code(
            value,
            "police force area code",
            &["E23", "W15", "S23", "N99"],
        )?;
        if code.starts_with("N99") && code != "N99999999" {
            return Err(FieldError::new(format!(
                "invalid police force area code {code:?}: Northern Ireland's only code is N99999999"
            )));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ForceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A territorial police force and the area it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoliceForce {
    pub code: ForceCode,
    pub area_name: String,
    pub force_name: String,
    /// The data.police.uk force id, where the force has one (not Scotland or Northern Ireland).
    pub police_uk_id: Option<String>,
    pub nation: Nation,
}

impl PoliceForce {
    pub fn new(
        code: ForceCode,
        area_name: &str,
        force_name: &str,
        police_uk_id: Option<&str>,
        nation: Nation,
    ) -> Result<Self, FieldError> {
        let letter = match nation {
            Nation::England => 'E',
            Nation::Wales => 'W',
            Nation::Scotland => 'S',
            Nation::NorthernIreland => 'N',
        };
        if !code.as_str().starts_with(letter) {
            return Err(FieldError::new(format!(
                "nation {nation} does not match police force area code {code}"
            )));
        }
        let police_uk_id = match police_uk_id.map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) if id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') => {
                Some(id.to_owned())
            }
            Some(id) => {
                return Err(FieldError::new(format!(
                    "invalid police.uk force id {id:?}: expected lowercase letters and hyphens"
                )));
            }
            None => None,
        };
        Ok(Self {
            area_name: required_text(area_name, "force area name", 100)?,
            force_name: required_text(force_name, "force name", 100)?,
            code,
            police_uk_id,
            nation,
        })
    }
}

/// A share of a constituency's population, between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct PopShare(f64);

impl PopShare {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let share: f64 = value.trim().parse().map_err(|_| {
            FieldError::new(format!(
                "invalid population share {value:?}: expected a number from 0 to 1"
            ))
        })?;
        Self::new(share)
    }

    pub fn new(share: f64) -> Result<Self, FieldError> {
        if !(0.0..=1.0).contains(&share) || share.is_nan() {
            return Err(FieldError::new(format!(
                "population share {share} is outside 0 to 1"
            )));
        }
        Ok(Self(share))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// One (constituency, force) pair with the share of the constituency's people in that force
/// area. The primary force (largest share) owns a constituency's cases; the others are informed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConstituencyForce {
    pub constituency: ConstituencyCode,
    pub force: ForceCode,
    pub pop_share: PopShare,
    pub is_primary: bool,
}

/// Parses the `True`/`False`, `t`/`f` and `1`/`0` spellings found in the reference files.
pub fn parse_bool(value: &str) -> Result<bool, FieldError> {
    match value.trim() {
        "t" | "T" | "true" | "True" | "TRUE" | "1" | "yes" => Ok(true),
        "f" | "F" | "false" | "False" | "FALSE" | "0" | "no" => Ok(false),
        other => Err(FieldError::new(format!(
            "invalid boolean {other:?}: expected t or f"
        ))),
    }
}

/// Checks a whole lookup: every constituency has exactly one primary force, which has the
/// largest share, and the shares add up to no more than 1. (They may add up to less: the
/// published overlaps miss a few small pieces, such as Newcastle in Hexham, 0.89 in all.)
/// Returns the index of the first offending
/// link and why, so an importer can name its line.
pub fn check_links(links: &[ConstituencyForce]) -> Result<(), (usize, FieldError)> {
    use std::collections::BTreeMap;
    let mut by_constituency: BTreeMap<&ConstituencyCode, Vec<usize>> = BTreeMap::new();
    for (i, link) in links.iter().enumerate() {
        by_constituency
            .entry(&link.constituency)
            .or_default()
            .push(i);
    }
    for (code, indexes) in by_constituency {
        let primaries: Vec<usize> = indexes
            .iter()
            .copied()
            .filter(|&i| links[i].is_primary)
            .collect();
        let last = *indexes.last().unwrap_or(&0);
        if primaries.len() != 1 {
            return Err((
                last,
                FieldError::new(format!(
                    "constituency {code} has {} primary forces; exactly one is needed",
                    primaries.len()
                )),
            ));
        }
        let primary = &links[primaries[0]];
        if let Some(&bigger) = indexes
            .iter()
            .find(|&&i| links[i].pop_share.get() > primary.pop_share.get())
        {
            return Err((
                bigger,
                FieldError::new(format!(
                    "constituency {code}: force {} has a larger share than the primary force {}",
                    links[bigger].force, primary.force
                )),
            ));
        }
        let total: f64 = indexes.iter().map(|&i| links[i].pop_share.get()).sum();
        if total > 1.0 + 1e-6 {
            return Err((
                last,
                FieldError::new(format!(
                    "constituency {code}: population shares add up to {total:.4}, more than 1"
                )),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(c: &str, f: &str, share: f64, primary: bool) -> ConstituencyForce {
        ConstituencyForce {
            constituency: ConstituencyCode::parse(c).unwrap(),
            force: ForceCode::parse(f).unwrap(),
            pop_share: PopShare::new(share).unwrap(),
            is_primary: primary,
        }
    }

    #[test]
    fn force_codes() {
        assert!(ForceCode::parse("E23000001").is_ok());
        assert!(ForceCode::parse("N99999999").is_ok());
        assert!(ForceCode::parse("N99999998").is_err());
        assert!(ForceCode::parse("E14001063").is_err());
    }

    #[test]
    fn shares() {
        assert!(PopShare::parse("0.5").is_ok());
        assert!(PopShare::parse("1.2").is_err());
        assert!(PopShare::parse("NaN").is_err());
        assert!(PopShare::parse("half").is_err());
    }

    #[test]
    fn lookup_checks() {
        let good = [
            link("E14001063", "E23000030", 0.6, true),
            link("E14001063", "E23000001", 0.4, false),
        ];
        assert!(check_links(&good).is_ok());
        let two_primaries = [
            link("E14001063", "E23000030", 0.6, true),
            link("E14001063", "E23000001", 0.4, true),
        ];
        assert_eq!(check_links(&two_primaries).unwrap_err().0, 1);
        let wrong_primary = [
            link("E14001063", "E23000030", 0.4, true),
            link("E14001063", "E23000001", 0.6, false),
        ];
        assert_eq!(check_links(&wrong_primary).unwrap_err().0, 1);
        let over = [
            link("E14001063", "E23000030", 0.7, true),
            link("E14001063", "E23000001", 0.4, false),
        ];
        assert!(check_links(&over).is_err());
        // Hexham's published shares add up to 0.89; that is allowed.
        let short = [link("E14001285", "E23000007", 0.8903, true)];
        assert!(check_links(&short).is_ok());
    }

    #[test]
    fn nation_must_match_force_code() {
        let code = ForceCode::parse("W15000001").unwrap();
        assert!(
            PoliceForce::new(
                code.clone(),
                "Dyfed-Powys",
                "Dyfed-Powys Police",
                None,
                Nation::England
            )
            .is_err()
        );
        assert!(
            PoliceForce::new(
                code,
                "Dyfed-Powys",
                "Dyfed-Powys Police",
                Some("dyfed-powys"),
                Nation::Wales
            )
            .is_ok()
        );
    }
}
