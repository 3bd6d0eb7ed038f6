//! Sexual threats: first-person rape or assault threats, wishes that a
//! person be raped, and calls on others to do it. Discussion of rape as a
//! policy or news topic ("rape conviction rates") is not matched because
//! every pattern needs a personal target or a wish/modal framing.
use super::context::Context::{self, *};
use super::frag::AP;
use super::{HIGH, MEDIUM, Pattern};
use crate::label::Label::ThreatSexual as TS;

const REPORTED: &[Context] = &[ReportedThreat, NewsReport];

const RAPE: &str = r"(?:rape|r[a@4]pe|r\*pe|r\*\*e|raep|rap3|gang\s*rape|gangrape|sexually\s+assault|molest|grope|violate|gang\s*bang|defile|force\s+myself\s+on|have\s+my\s+way\s+with|take\s+turns\s+(?:on|with)|bend\s+(?:you|u|her)\s+over|tie\s+(?:you|u|her)\s+up\s+and)";
const RAPED: &str = r"(?:raped|r[a@4]ped|r\*ped|gang\s*raped|gangraped|sexually\s+assaulted|molested|groped|violated|gang\s*banged|defiled|r\*\*ed)";

pub(crate) fn patterns() -> Vec<Pattern> {
    let p = Pattern::new;
    vec![
        p(
            TS,
            HIGH,
            "first-person threat of rape or sexual assault",
            REPORTED,
            &format!(
                r"\b(?:(?:i|we)\s*(?:{AP}ll|{AP}d|\s+will|\s+would|\s+shall|{AP}m\s+(?:going\s+to|gonna|gunna|coming\s+to)|\s+am\s+(?:going\s+to|gonna)|{AP}re\s+(?:going\s+to|gonna)|\s+are\s+(?:going\s+to|gonna)|\s+(?:gonna|wanna|want\s+to|could))|\b(?:im|ill|imma|ima)\s+(?:going\s+to\s+|gonna\s+)?)\s*(?:\w+\s+){{0,4}}?{RAPE}\b"
            ),
        ),
        p(
            TS,
            HIGH,
            "wishes or urges that a person be raped",
            REPORTED,
            &format!(
                r"\b(?:hope|hoping|wish|pray)\s+(?:that\s+)?(?:you|u|she|he|her|ur\s+\w+|your\s+\w+|they)\s+(?:\w+\s+){{0,2}}?(?:gets?|get|is|are|will\s+be|gets\s+herself)\s+(?:\w+\s+)?{RAPED}\b|\b(?:should|shud|needs?\s+to|ought\s+to|deserves?\s+to|deserved\s+to|wants?\s+to|asking\s+to)\s+(?:be|get)\s+(?:\w+\s+)?{RAPED}\b"
            ),
        ),
        p(
            TS,
            HIGH,
            "calls on others to rape or assault a person",
            REPORTED,
            &format!(
                r"\b(?:someone|somebody|some1|sum1|anyone|the\s+lads|a\s+real\s+man|the\s+boys)\s+(?:should|shud|needs?\s+to|ought\s+to|will|{AP}ll|is\s+(?:going\s+to|gonna)|gonna|wants?\s+to|must)\s+(?:\w+\s+){{0,2}}?{RAPE}\s+(?:you|u|her|ya|the|that|this|him)\b"
            ),
        ),
        p(
            TS,
            HIGH,
            "rape threat aimed at the reader",
            REPORTED,
            r"\b(?:rape|raping|r[a@4]pe|r\*pe)\s+(?:you|u|ya|her)\s+(?:till|until|til|and|so|every|good|properly|in\s+front)\b|\bcorrective\s+rape\b|\bshould\s+be\s+(?:gang\s*)?raped\b",
        ),
        p(
            TS,
            MEDIUM,
            "threat of sexual force",
            REPORTED,
            r"\b(?:take\s+turns\s+(?:on|with)\s+(?:you|u|her)|(?:hold|pin)\s+(?:you|u|her)\s+down|on\s+(?:your|ur|her)\s+(?:knees|back)\s+(?:for\s+me|where\s+(?:you|she)\s+belongs?|and\s+not)|make\s+(?:you|u|her)\s+(?:take\s+it|my\s+(?:little\s+)?(?:bitch|whore|slut))|begging\s+me\s+to\s+stop|nobody\s+will\s+hear\s+you\s+scream|have\s+our\s+fun\s+with\s+(?:you|her)|use\s+you\s+however)\b",
        ),
        p(
            TS,
            MEDIUM,
            "sexualised threat of force",
            REPORTED,
            &format!(
                r"\b(?:what\s+(?:you|u|she)\s+(?:need|needs)\s+is|(?:you|u|she)\s+(?:need|needs))\s+(?:a\s+)?(?:good\s+|hard\s+|proper\s+)?(?:seeing\s+to|raping|dicking|hate\s+fuck|hatefuck)\b|\b(?:i|we)\s*(?:{AP}ll|\s+will|{AP}m\s+gonna|\s+am\s+going\s+to)\s+(?:\w+\s+){{0,3}}?(?:make\s+(?:you|u|her)\s+(?:suck|beg|scream|choke\s+on|swallow)|fuck\s+(?:you|u|her)\s+(?:till|until|so\s+hard|senseless)|stick\s+it\s+in|show\s+(?:you|her)\s+what\s+(?:a\s+real\s+man|women\s+are\s+for))\b|\b(?:you|u){AP}?(?:ll|\s+will)\s+be\s+(?:begging|screaming)\s+(?:for\s+(?:it|more|mercy)|when)\b"
            ),
        ),
    ]
}
