//! The ONS names-and-codes file: `pcon24cd, pcon24nm, pcon24nm_cy, ctry_name, rgn_code, rgn_name`.
//! The raw ONS download (`PCON24CD, PCON24NM, PCON24NMW`) works too; the nation then comes
//! from the code.

use shield_domain::{Constituency, ConstituencyCode, Nation, Region};

use super::{CsvFile, ImportError, Unique};

pub fn parse(file: &CsvFile) -> Result<Vec<Constituency>, ImportError> {
    let code = file.require(&["pcon24cd", "pcon_code", "code"])?;
    let name = file.require(&["pcon24nm", "pcon_name", "name"])?;
    let name_cy = file.optional(&["pcon24nm_cy", "pcon24nmw", "name_cy"]);
    let nation = file.optional(&["ctry_name", "nation"]);
    let region_code = file.optional(&["rgn_code", "rgn24cd"]);
    let region_name = file.optional(&["rgn_name", "rgn24nm"]);
    let mut unique = Unique::new();
    let mut out = Vec::with_capacity(file.len());
    for row in file.rows() {
        let c = row.parse(&code, ConstituencyCode::parse)?;
        unique
            .check(c.clone(), row.line, &format!("constituency {c}"))
            .map_err(|e| row.error(code.name, e))?;
        let n = row
            .parse_opt(&nation, Nation::parse)?
            .unwrap_or_else(|| c.nation());
        let region = match (row.get(&region_code), row.get(&region_name)) {
            ("", "") => None,
            (rc, rn) => Some(Region::parse(rc, rn).map_err(|e| row.error(region_code.name, e))?),
        };
        let constituency = Constituency::new(c, row.get(&name), Some(row.get(&name_cy)), n, region)
            .map_err(|e| {
                let column = if e.message.contains("name") {
                    name.name
                } else {
                    nation.name
                };
                row.error(column, e)
            })?;
        out.push(constituency);
    }
    Ok(out)
}
