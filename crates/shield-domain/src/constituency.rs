//! Westminster constituencies, keyed by their ONS (GSS) code.

use std::fmt;

use serde::Serialize;

use crate::error::{FieldError, required_text};

/// The four nations; each ONS code starts with the nation's letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nation {
    England,
    Wales,
    Scotland,
    NorthernIreland,
}

impl Nation {
    pub const ALL: [Nation; 4] = [
        Nation::England,
        Nation::Wales,
        Nation::Scotland,
        Nation::NorthernIreland,
    ];

    /// Accepts the ONS country name (`Northern Ireland`) or the stored key (`northern_ireland`).
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value
            .trim()
            .to_ascii_lowercase()
            .replace(['_', '-'], " ")
            .as_str()
        {
            "england" => Ok(Self::England),
            "wales" => Ok(Self::Wales),
            "scotland" => Ok(Self::Scotland),
            "northern ireland" => Ok(Self::NorthernIreland),
            _ => Err(FieldError::new(format!(
                "unknown nation {value:?}: expected England, Wales, Scotland or Northern Ireland"
            ))),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::England => "england",
            Self::Wales => "wales",
            Self::Scotland => "scotland",
            Self::NorthernIreland => "northern_ireland",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::England => "England",
            Self::Wales => "Wales",
            Self::Scotland => "Scotland",
            Self::NorthernIreland => "Northern Ireland",
        }
    }

    fn from_code_letter(letter: u8) -> Option<Self> {
        match letter {
            b'E' => Some(Self::England),
            b'W' => Some(Self::Wales),
            b'S' => Some(Self::Scotland),
            b'N' => Some(Self::NorthernIreland),
            _ => None,
        }
    }
}

impl fmt::Display for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Checks the shape of a nine-character GSS code: a nation letter and eight digits, with one of
/// the given three-character entity prefixes.
pub(crate) fn gss_code(value: &str, what: &str, prefixes: &[&str]) -> Result<String, FieldError> {
    let value = value.trim();
    let shaped = value.len() == 9
        && value.as_bytes()[0].is_ascii_uppercase()
        && value.as_bytes()[1..].iter().all(u8::is_ascii_digit);
    if !shaped || !prefixes.iter().any(|p| value.starts_with(p)) {
        return Err(FieldError::new(format!(
            "invalid {what} {value:?}: expected an ONS code starting {}",
            prefixes.join(", ")
        )));
    }
    Ok(value.to_owned())
}

/// An ONS Westminster constituency code (PCON): E14…, W07…, S14… or N05….
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ConstituencyCode(String);

impl ConstituencyCode {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        gss_code(value, "constituency code", &["E14", "W07", "S14", "N05"]).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn nation(&self) -> Nation {
        // `parse` only admits codes starting E, W, S or N.
        Nation::from_code_letter(self.0.as_bytes()[0]).unwrap_or(Nation::England)
    }
}

impl fmt::Display for ConstituencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An English region (ONS E12 code and name); constituencies elsewhere have none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    pub code: String,
    pub name: String,
}

impl Region {
    pub fn parse(code: &str, name: &str) -> Result<Self, FieldError> {
        Ok(Self {
            code: gss_code(code, "region code", &["E12"])?,
            name: required_text(name, "region name", 100)?,
        })
    }
}

/// A constituency as the ONS names-and-codes file describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Constituency {
    pub code: ConstituencyCode,
    pub name: String,
    pub name_cy: Option<String>,
    pub nation: Nation,
    pub region: Option<Region>,
}

impl Constituency {
    /// Builds a constituency, checking that the stated nation agrees with the code and that
    /// only English seats carry a region.
    pub fn new(
        code: ConstituencyCode,
        name: &str,
        name_cy: Option<&str>,
        nation: Nation,
        region: Option<Region>,
    ) -> Result<Self, FieldError> {
        if code.nation() != nation {
            return Err(FieldError::new(format!(
                "nation {nation} does not match constituency code {code}"
            )));
        }
        if region.is_some() && nation != Nation::England {
            return Err(FieldError::new(format!(
                "only English constituencies have a region, but {code} is in {nation}"
            )));
        }
        let name_cy = match name_cy.map(str::trim).filter(|s| !s.is_empty()) {
            Some(cy) => Some(required_text(cy, "Welsh name", 200)?),
            None => None,
        };
        Ok(Self {
            name: required_text(name, "constituency name", 200)?,
            code,
            name_cy,
            nation,
            region,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        let code = ConstituencyCode::parse("E14001063").unwrap();
        assert_eq!(code.nation(), Nation::England);
        assert_eq!(
            ConstituencyCode::parse(" N05000001 ").unwrap().nation(),
            Nation::NorthernIreland
        );
        for bad in [
            "",
            "E1400106",
            "E140010633",
            "e14001063",
            "E23000001",
            "X14001063",
            "E14O01063",
        ] {
            assert!(ConstituencyCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nation_must_agree_with_code() {
        let code = ConstituencyCode::parse("W07000081").unwrap();
        assert!(
            Constituency::new(
                code.clone(),
                "Aberafan Maesteg",
                None,
                Nation::England,
                None
            )
            .is_err()
        );
        let ok = Constituency::new(
            code,
            "Aberafan Maesteg",
            Some("Aberafan Maesteg"),
            Nation::Wales,
            None,
        )
        .unwrap();
        assert_eq!(ok.name_cy.as_deref(), Some("Aberafan Maesteg"));
    }

    #[test]
    fn region_only_in_england() {
        let region = Region::parse("E12000008", "South East").unwrap();
        let code = ConstituencyCode::parse("S14000060").unwrap();
        assert!(
            Constituency::new(code, "Aberdeen North", None, Nation::Scotland, Some(region))
                .is_err()
        );
    }

    #[test]
    fn nations_parse() {
        assert_eq!(
            Nation::parse("Northern Ireland").unwrap(),
            Nation::NorthernIreland
        );
        assert_eq!(
            Nation::parse("northern_ireland").unwrap(),
            Nation::NorthernIreland
        );
        assert!(Nation::parse("Cornwall").is_err());
    }
}
