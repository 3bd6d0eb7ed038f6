//! The named police contacts: the project's own format, documented in the README:
//! `force_code, role, name, email, phone` (role is `lead` or `deputy`; phone may be empty).

use std::collections::HashSet;

use shield_domain::contact::check_roster;
use shield_domain::{ContactRole, Email, FieldError, ForceCode, ForceContact, Phone};

use super::{CsvFile, ImportError, Unique};

pub fn parse(
    file: &CsvFile,
    forces: &HashSet<ForceCode>,
) -> Result<Vec<ForceContact>, ImportError> {
    let force = file.require(&["force_code", "pfa_code"])?;
    let role = file.require(&["role"])?;
    let name = file.require(&["name"])?;
    let email = file.require(&["email"])?;
    let phone = file.optional(&["phone"]);
    let mut unique = Unique::new();
    let mut out = Vec::with_capacity(file.len());
    for row in file.rows() {
        let f = row.parse(&force, ForceCode::parse)?;
        if !forces.contains(&f) {
            return Err(row.error(
                force.name,
                FieldError::new(format!("force {f} has not been imported")),
            ));
        }
        let e = row.parse(&email, Email::parse)?;
        unique
            .check(
                (f.clone(), e.clone()),
                row.line,
                &format!("contact {} for force {f}", e.as_str()),
            )
            .map_err(|err| row.error(email.name, err))?;
        out.push(ForceContact {
            force: f,
            role: row.parse(&role, ContactRole::parse)?,
            name: row.parse(&name, ForceContact::name)?,
            email: e,
            phone: row.parse_opt(&phone, Phone::parse)?,
        });
    }
    check_roster(&out).map_err(|(index, e)| file.error_at(file.line_of(index), role.name, e))?;
    Ok(out)
}
