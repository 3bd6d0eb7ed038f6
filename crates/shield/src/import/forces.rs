//! Police force areas: `pfa_code, pfa_name, force_name, police_uk_force_id, ctry_name`.

use shield_domain::{ForceCode, Nation, PoliceForce};

use super::{CsvFile, ImportError, Unique};

pub fn parse(file: &CsvFile) -> Result<Vec<PoliceForce>, ImportError> {
    let code = file.require(&["pfa_code", "pfa24cd"])?;
    let area = file.require(&["pfa_name", "pfa24nm"])?;
    let force_name = file.require(&["force_name"])?;
    let police_uk = file.optional(&["police_uk_force_id"]);
    let nation = file.optional(&["ctry_name", "nation"]);
    let mut unique = Unique::new();
    let mut out = Vec::with_capacity(file.len());
    for row in file.rows() {
        let c = row.parse(&code, ForceCode::parse)?;
        unique
            .check(c.clone(), row.line, &format!("force {c}"))
            .map_err(|e| row.error(code.name, e))?;
        let n = match row.parse_opt(&nation, Nation::parse)? {
            Some(n) => n,
            None => nation_of(&c),
        };
        let force = PoliceForce::new(
            c,
            row.get(&area),
            row.get(&force_name),
            Some(row.get(&police_uk)),
            n,
        )
        .map_err(|e| {
            let column = if e.message.contains("force name") {
                force_name.name
            } else if e.message.contains("area name") {
                area.name
            } else if e.message.contains("police.uk") {
                police_uk.name
            } else {
                nation.name
            };
            row.error(column, e)
        })?;
        out.push(force);
    }
    Ok(out)
}

fn nation_of(code: &ForceCode) -> Nation {
    match code.as_str().as_bytes()[0] {
        b'W' => Nation::Wales,
        b'S' => Nation::Scotland,
        b'N' => Nation::NorthernIreland,
        _ => Nation::England,
    }
}
