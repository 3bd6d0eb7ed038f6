use thiserror::Error;

/// Why one value was rejected. Importers add the file, line and column around it, so the
/// message here says only what is wrong with the value and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct FieldError {
    pub message: String,
}

impl FieldError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Trims a required text value and rejects it when empty or absurdly long.
pub(crate) fn required_text(
    value: &str,
    what: &str,
    max_chars: usize,
) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(format!("{what} is empty")));
    }
    if trimmed.chars().count() > max_chars {
        return Err(FieldError::new(format!(
            "{what} is longer than {max_chars} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(format!(
            "{what} contains control characters"
        )));
    }
    Ok(trimmed.to_owned())
}
