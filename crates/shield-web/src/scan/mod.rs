//! Scanning messages a candidate received (issue 8, in the app): the web layer's view of a
//! detector. The detector itself (`shield-detect`: rules, a MiniLM embedding model and trained
//! heads) is heavy and lives beside the web layer, not under it: the binary wraps it in a
//! [`Scanner`] and puts it in [`AppState`](crate::AppState), so the web crate and its tests do
//! not link candle.

pub(crate) mod parse;

use serde::Serialize;

pub use parse::{ExportError, Message, parse_export, parse_pasted};

/// What a message can be flagged for, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    ThreatViolence,
    ThreatSexual,
    Doxxing,
    Abuse,
}

impl Flag {
    pub const ALL: [Flag; 4] = [
        Flag::ThreatViolence,
        Flag::ThreatSexual,
        Flag::Doxxing,
        Flag::Abuse,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::ThreatViolence => "threat_violence",
            Self::ThreatSexual => "threat_sexual",
            Self::Doxxing => "doxxing",
            Self::Abuse => "abuse",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::ThreatViolence => "Threat of violence",
            Self::ThreatSexual => "Sexual threat",
            Self::Doxxing => "Personal details exposed",
            Self::Abuse => "Abuse",
        }
    }

    /// The report category a one-click report of this flag gets.
    pub fn category(self) -> shield_domain::report::Category {
        use shield_domain::report::Category;
        match self {
            Self::ThreatViolence => Category::ThreatOfViolence,
            Self::ThreatSexual => Category::SexualThreat,
            Self::Doxxing => Category::PersonalDetailsExposed,
            Self::Abuse => Category::OnlineAbuse,
        }
    }
}

/// One matched stretch of a message, in character offsets, with the rule's reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Highlight {
    pub flag: Flag,
    pub start: usize,
    pub end: usize,
    pub reason: String,
}

/// The detector's verdict on one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Flags over the operating thresholds, most severe first.
    pub flags: Vec<Flag>,
    /// Scores on the operating scale (0.5 = threshold), in [`Flag::ALL`] order.
    pub scores: [f32; 4],
    pub highlights: Vec<Highlight>,
    /// Plain-language notes (benign framings recognised, damping applied).
    pub notes: Vec<String>,
    /// Threats not flagged but scored close to the line: worth the candidate's own look
    /// (`shield_detect::REVIEW_THRESHOLD`). Empty when a threat is flagged.
    pub review: Vec<Flag>,
    /// Of [`Verdict::review`], the threats a rule matched but the model vetoed
    /// (`shield_detect::RULE_VETO`): not "close" by score, so they are labelled apart.
    pub ruled: Vec<Flag>,
}

impl Verdict {
    pub fn score(&self, flag: Flag) -> f32 {
        self.scores[flag as usize]
    }

    /// What the message is listed under: its most severe flag, else the threat it came close to.
    pub fn top(&self) -> Option<Flag> {
        self.flags.first().or(self.review.first()).copied()
    }

    /// Most severe flag first, then by score: how flagged messages are ordered (and, among
    /// messages put up for a look, by their closest threat).
    pub fn severity(&self) -> (usize, i64) {
        match self.top() {
            Some(f) => (f as usize, -(self.score(f) * 1000.0) as i64),
            None => (Flag::ALL.len(), 0),
        }
    }
}

/// A message scanner. Implementations are CPU-bound; callers run them on a blocking thread.
pub trait Scanner: Send + Sync + std::fmt::Debug {
    fn scan(&self, texts: &[&str]) -> Vec<Verdict>;

    /// "rules and model" or "rules only (…why…)", shown on the page so nobody over-trusts it.
    fn describe(&self) -> String;
}

/// Runs `scanner` over `texts` off the async threads.
pub async fn scan_blocking(
    scanner: std::sync::Arc<dyn Scanner>,
    texts: Vec<String>,
) -> Result<Vec<Verdict>, crate::AppError> {
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        scanner.scan(&refs)
    })
    .await
    .map_err(|e| crate::AppError::Internal(format!("scanner: {e}")))
}

/// Splits `text` into (plain, highlighted) runs for the template, by character offsets.
pub fn runs(text: &str, highlights: &[Highlight]) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut marked = vec![false; chars.len()];
    for h in highlights {
        for m in marked.iter_mut().take(h.end.min(chars.len())).skip(h.start) {
            *m = true;
        }
    }
    let mut out: Vec<(String, bool)> = Vec::new();
    for (c, m) in chars.into_iter().zip(marked) {
        match out.last_mut() {
            Some((s, last)) if *last == m => s.push(c),
            _ => out.push((c.to_string(), m)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_mark_the_highlighted_characters() {
        let h = [Highlight {
            flag: Flag::Doxxing,
            start: 4,
            end: 8,
            reason: "postcode".into(),
        }];
        assert_eq!(
            runs("at é1 2AB now", &h),
            vec![
                ("at é".to_owned(), false),
                ("1 2A".to_owned(), true),
                ("B now".to_owned(), false)
            ]
        );
    }
}
