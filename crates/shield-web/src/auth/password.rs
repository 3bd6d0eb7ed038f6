//! Passwords: Argon2id (m=19 MiB, t=2, p=1, ASVS V11.4.2), rules from ASVS V6.2, and a dummy
//! verification for unknown accounts so a wrong email takes as long as a wrong password.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::OsRng;

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

fn argon2() -> Argon2<'static> {
    // 19,456 KiB and 2 passes: OWASP's minimum for Argon2id.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the same effort as a real check, for an account that does not exist or has no
/// password, and always fails.
pub fn verify_dummy(password: &str) {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash("not the password of anyone at all").unwrap_or_default());
    let _ = verify(password, &DUMMY);
}

/// Passwords everyone tries first, and words a candidate's password must not be built from.
/// A small list the project ships; breached-password ranges come later (issue 6).
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password123",
    "passw0rd",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "iloveyou",
    "letmein",
    "welcome",
    "welcome1",
    "admin",
    "football",
    "monkey",
    "dragon",
    "sunshine",
    "princess",
    "baseball",
    "trustno1",
    "starwars",
    "liverpool",
    "arsenal",
    "chelsea",
    "manchester",
    "qwerty123",
    "abc123456",
    "11111111",
    "00000000",
    "12345678",
    "1q2w3e4r",
    "zaq12wsx",
    "changeme",
    "secret",
    "candidate",
    "election",
    "parliament",
    "conservative",
    "labour",
    "libdem",
    "reform",
    "greenparty",
    "westminster",
    "vote",
    "voteforme",
];

/// Why a new password is not acceptable, in words for the person choosing it.
pub fn check_new(password: &str, personal: &[&str]) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err("Password must be 10 characters or more");
    }
    if chars > MAX_LEN {
        return Err("Password must be 128 characters or fewer");
    }
    let lower = password.to_lowercase();
    let stripped: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    if COMMON
        .iter()
        .any(|c| stripped == *c || (stripped.contains(c) && stripped.len() < c.len() + 4))
    {
        return Err("Password is too common. Choose one that people are unlikely to guess");
    }
    let distinct: std::collections::BTreeSet<char> = lower.chars().collect();
    if distinct.len() < 4 {
        return Err("Password is too easy to guess. Use a mix of words or characters");
    }
    for part in personal {
        let part = part.trim().to_lowercase();
        if part.len() >= 4 && lower.contains(&part) {
            return Err("Password must not contain your name or email address");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterY", &phc));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn rules() {
        assert!(check_new("short", &[]).is_err());
        assert!(check_new("Password123", &[]).is_err());
        assert!(check_new("aaaaaaaaaaaa", &[]).is_err());
        assert!(check_new("priya-lawson-2029", &["Priya Lawson", "priya"]).is_err());
        assert!(check_new("marmalade orbit kettle", &["Priya Lawson"]).is_ok());
    }
}
