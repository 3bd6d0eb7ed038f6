//! Tier 1: explainable pattern rules.
//!
//! Each family (threats, sexual threats, doxxing, abuse) proposes
//! [`RuleHit`]s with a confidence; [`context`] then recognises benign
//! framings (someone reporting a threat they received, news reports, sport
//! and gaming talk, electoral metaphor, a candidate's own public contact
//! details, remembrance of murdered MPs) which suppress or down-weight hits.
//! Rules favour precision on the benign framings because the model tier
//! catches paraphrases; but the phrasings here are the classic ones, so a
//! high-confidence rule hit sets a floor under the final score.
use std::sync::LazyLock;

use regex::Regex;

use crate::label::{Label, Span};

mod abuse;
pub mod context;
mod doxxing;
mod sexual;
mod threat;

pub use context::Context;

/// Confidence of a rule that matches a classic, unambiguous phrasing.
pub const HIGH: f32 = 0.95;
/// Confidence of a rule that usually, but not always, indicates harm.
pub const MEDIUM: f32 = 0.75;
/// Confidence for evidence that alone should not flag a message (e.g. a
/// postcode with no sign that it is someone's private address).
pub const LOW: f32 = 0.35;

/// One rule match, with character offsets.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleHit {
    pub label: Label,
    pub start: usize,
    pub end: usize,
    pub reason: String,
    pub confidence: f32,
}

impl RuleHit {
    pub fn to_span(&self) -> Span {
        Span {
            label: self.label,
            start: self.start,
            end: self.end,
            reason: self.reason.clone(),
        }
    }
}

/// What the rules found in one message.
#[derive(Debug, Clone, Default)]
pub struct RuleReport {
    /// Hits that survived the context checks.
    pub hits: Vec<RuleHit>,
    /// Benign contexts recognised in the message.
    pub contexts: Vec<Context>,
    /// Human-readable notes on hits that were suppressed and why.
    pub suppressed: Vec<String>,
    /// The text the report is about (the combiner checks its vocabulary).
    pub text: String,
}

impl RuleReport {
    /// Highest confidence among surviving hits for `label` (0 if none).
    pub fn confidence(&self, label: Label) -> f32 {
        self.hits
            .iter()
            .filter(|h| h.label == label)
            .map(|h| h.confidence)
            .fold(0.0, f32::max)
    }

    pub fn has_context(&self, c: Context) -> bool {
        self.contexts.contains(&c)
    }

    /// The rule tier's findings as numbers the heads read beside the
    /// embedding ([`RULE_FEATURES`] of them): each label's rule confidence,
    /// one 0/1 per benign context, and whether any threat vocabulary occurs.
    /// The heads learn how much a context should count against the model,
    /// which fixed damping factors got wrong on text written by others.
    pub fn features(&self) -> Vec<f32> {
        let mut f: Vec<f32> = Label::ALL.iter().map(|l| self.confidence(*l)).collect();
        f.extend(
            Context::ALL
                .iter()
                .map(|c| if self.has_context(*c) { 1.0 } else { 0.0 }),
        );
        f.push(if context::has_threat_vocabulary(&self.text) {
            1.0
        } else {
            0.0
        });
        f
    }
}

/// How many numbers [`RuleReport::features`] returns.
pub const RULE_FEATURES: usize = 4 + Context::ALL.len() + 1;

/// A candidate hit in byte offsets, before context checks.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub label: Label,
    pub start: usize,
    pub end: usize,
    pub reason: &'static str,
    pub confidence: f32,
    /// Which benign contexts cancel this hit.
    pub cancelled_by: &'static [Context],
}

/// A compiled pattern with the metadata needed to turn matches into hits.
pub(crate) struct Pattern {
    pub re: Regex,
    pub label: Label,
    pub reason: &'static str,
    pub confidence: f32,
    pub cancelled_by: &'static [Context],
}

impl Pattern {
    pub fn new(
        label: Label,
        confidence: f32,
        reason: &'static str,
        cancelled_by: &'static [Context],
        re: &str,
    ) -> Self {
        // Literal `{AP}` placeholders in plain (non-format!) patterns.
        let re = re.replace("{AP}", frag::AP);
        let re = Regex::new(&format!("(?i){re}"))
            .unwrap_or_else(|e| panic!("rule regex for {reason:?} does not compile: {e}"));
        Pattern {
            re,
            label,
            reason,
            confidence,
            cancelled_by,
        }
    }

    pub fn scan(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(text) {
            out.push(Candidate {
                label: self.label,
                start: m.start(),
                end: m.end(),
                reason: self.reason,
                confidence: self.confidence,
                cancelled_by: self.cancelled_by,
            });
        }
    }
}

/// Shared regex fragments. Apostrophes may be straight, curly or missing.
pub(crate) mod frag {
    /// Optional apostrophe.
    pub const AP: &str = r"['’`]?";
    /// Objects that make a violent verb a threat against a person.
    pub const TARGET: &str = r"(?:@\w+|you|u|ya|yer|ye|yous|youse|yourself|your\s+(?:family|kids|children|wife|husband|partner|daughter|son|mum|staff|team)|ur\s+(?:family|kids|wife|husband)|her|him|them|every\s+(?:last\s+)?one\s+of\s+(?:you|them)|all\s+of\s+(?:you|them)|the\s+(?:lot\s+of\s+(?:you|them)|mp|candidate|councillor|traitor|bitch|cunt|bastard|slag|whore|scum)|(?:that|this)\s+(?:bitch|traitor|cunt|bastard|slag|whore|scumbag|scum|woman|man|mp|candidate|prick|twat|nonce|rat|snake|clown|tory|muppet|witch|cow))\b";
    /// Violent verbs in base form.
    pub const VIOLENT_VERB: &str = r"(?:kill|k[i1!]ll|kil|murder|stab|shoot|sh[o0]{2}t|burn|hurt|harm|slit|strangle|hang|lynch|behead|decapitate|batter|smash|torch|bomb|blow\s+up|gut|butcher|slaughter|execute|knife|shank|kneecap|throttle|choke|bury|glass|maim|cripple|end|finish|punch|kick\s+the\s+(?:shit|crap|life|hell)\s+out\s+of|acid|petrol\s+bomb|cut|do\s+in|beat\s+up|beat\s+the\s+(?:shit|crap|life|hell)\s+out\s+of|smash\s+up|rip\s+apart|rip|destroy|drown|hunt\s+down|track\s+down|bash|deck|stamp\s+on|set\s+fire\s+to|put\s+down|take\s+out|snap|break)";
}

/// The compiled rule set; built once, shared by every detector.
pub(crate) struct RuleSet {
    patterns: Vec<Pattern>,
}

static RULES: LazyLock<RuleSet> = LazyLock::new(|| {
    let mut patterns = Vec::new();
    patterns.extend(threat::patterns());
    patterns.extend(sexual::patterns());
    patterns.extend(doxxing::patterns());
    patterns.extend(abuse::patterns());
    RuleSet { patterns }
});

/// Runs every rule over `text` and applies the context checks.
pub fn check(text: &str) -> RuleReport {
    let rules = &*RULES;
    let mut cands = Vec::new();
    for p in &rules.patterns {
        p.scan(text, &mut cands);
    }
    threat::extra_candidates(text, &mut cands);
    doxxing::extra_candidates(text, &mut cands);

    let contexts = context::detect(text);
    let mut report = RuleReport {
        contexts: contexts.clone(),
        text: text.to_string(),
        ..RuleReport::default()
    };
    doxxing::adjust_for_context(text, &contexts, &mut cands);

    let map = CharMap::new(text);
    let quoted = if contexts.contains(&Context::Quotation) {
        context::quoted_ranges(text)
    } else {
        Vec::new()
    };
    for c in cands {
        let in_quotes = quoted.iter().any(|&(a, b)| a < c.start && c.end <= b + 1);
        if in_quotes && c.label != Label::Doxxing {
            report.suppressed.push(format!(
                "{} rule \"{}\" on {:?} suppressed: {}",
                c.label,
                c.reason,
                &text[c.start..c.end],
                Context::Quotation.describe()
            ));
            continue;
        }
        if let Some(ctx) = c.cancelled_by.iter().find(|ctx| contexts.contains(ctx)) {
            report.suppressed.push(format!(
                "{} rule \"{}\" on {:?} suppressed: {}",
                c.label,
                c.reason,
                &text[c.start..c.end],
                ctx.describe()
            ));
            continue;
        }
        report.hits.push(RuleHit {
            label: c.label,
            start: map.char_index(c.start),
            end: map.char_index(c.end),
            reason: c.reason.to_string(),
            confidence: c.confidence,
        });
    }
    dedupe(&mut report.hits);
    report
}

/// Drops hits of the same label contained in a stronger or equal hit, so
/// overlapping patterns do not produce a pile of near-identical spans.
fn dedupe(hits: &mut Vec<RuleHit>) {
    hits.sort_by(|a, b| {
        (a.label, a.start, std::cmp::Reverse(a.end)).cmp(&(
            b.label,
            b.start,
            std::cmp::Reverse(b.end),
        ))
    });
    let mut keep: Vec<RuleHit> = Vec::with_capacity(hits.len());
    for h in hits.drain(..) {
        let covered = keep.iter().any(|k| {
            k.label == h.label
                && k.start <= h.start
                && h.end <= k.end
                && k.confidence >= h.confidence
        });
        if !covered {
            keep.push(h);
        }
    }
    keep.sort_by_key(|h| (h.start, h.end, h.label));
    *hits = keep;
}

/// Byte-offset to char-offset conversion for one text.
pub(crate) struct CharMap {
    /// Byte offset of each char boundary, plus the end.
    starts: Vec<usize>,
}

impl CharMap {
    pub fn new(text: &str) -> Self {
        let mut starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        starts.push(text.len());
        CharMap { starts }
    }

    /// Char index of a byte offset that lies on a char boundary.
    pub fn char_index(&self, byte: usize) -> usize {
        match self.starts.binary_search(&byte) {
            Ok(i) | Err(i) => i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_map_counts_chars_not_bytes() {
        let t = "é😀a";
        let m = CharMap::new(t);
        assert_eq!(m.char_index(0), 0);
        assert_eq!(m.char_index(2), 1);
        assert_eq!(m.char_index(6), 2);
        assert_eq!(m.char_index(7), 3);
    }
}
