//! The constituency → police force lookup: `pcon24cd, pfa_code, pop_share, is_primary`.

use std::collections::HashSet;

use shield_domain::force::{check_links, parse_bool};
use shield_domain::{ConstituencyCode, ConstituencyForce, FieldError, ForceCode, PopShare};

use super::{CsvFile, ImportError, Unique};

/// What is already in the store, so a link to an unknown code is caught with its line.
#[derive(Debug)]
pub struct Known {
    pub constituencies: HashSet<ConstituencyCode>,
    pub forces: HashSet<ForceCode>,
}

pub fn parse(file: &CsvFile, known: &Known) -> Result<Vec<ConstituencyForce>, ImportError> {
    let constituency = file.require(&["pcon24cd", "pcon_code"])?;
    let force = file.require(&["pfa_code", "pfa24cd"])?;
    let share = file.require(&["pop_share"])?;
    let primary = file.require(&["is_primary"])?;
    let mut unique = Unique::new();
    let mut out = Vec::with_capacity(file.len());
    for row in file.rows() {
        let c = row.parse(&constituency, ConstituencyCode::parse)?;
        if !known.constituencies.contains(&c) {
            return Err(row.error(
                constituency.name,
                FieldError::new(format!("constituency {c} has not been imported")),
            ));
        }
        let f = row.parse(&force, ForceCode::parse)?;
        if !known.forces.contains(&f) {
            return Err(row.error(
                force.name,
                FieldError::new(format!("force {f} has not been imported")),
            ));
        }
        unique
            .check(
                (c.clone(), f.clone()),
                row.line,
                &format!("the pair {c}, {f}"),
            )
            .map_err(|e| row.error(force.name, e))?;
        out.push(ConstituencyForce {
            constituency: c,
            force: f,
            pop_share: row.parse(&share, PopShare::parse)?,
            is_primary: row.parse(&primary, parse_bool)?,
        });
    }
    check_links(&out).map_err(|(index, e)| file.error_at(file.line_of(index), primary.name, e))?;
    Ok(out)
}
