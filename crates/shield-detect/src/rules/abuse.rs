//! Abuse without threat: insults and slurs aimed at a person. Criticism of
//! a record or a policy ("your housing policy is a disgrace") is not
//! matched, because every pattern needs a personal target.
use super::context::Context::{self, *};
use super::frag::AP;
use super::{HIGH, MEDIUM, Pattern};
use crate::label::Label::Abuse as AB;

const REPORTED: &[Context] = &[ReportedThreat, NewsReport];

const STRONG_INSULT: &str = r"(?:cunt|c\*nt|c\*\*t|cnut|kunt|bitch|b\*tch|biatch|whore|wh\*re|slag|slut|skank|twat|tw\*t|prick|wanker|w\*nker|dickhead|dick|bellend|knobhead|knob|tosser|scum|scumbag|scumbags|retard|retarded|nonce|paedo|pedo|peado|vermin|parasite|subhuman|sub-human|filth|pig|cow|witch|hag|bastard|b\*stard|piece\s+of\s+(?:shit|sh\*t|crap|garbage|trash)|waste\s+of\s+(?:space|oxygen|skin|air)|maggot|cockroach|rat|snake|slimeball|lowlife|degenerate|fuckwit|fucktard|shithead|arsehole|asshole|douche|douchebag|gobshite|numpty|muppet|moron|idiot|imbecile|cretin|halfwit|clown)";

pub(crate) fn patterns() -> Vec<Pattern> {
    let p = Pattern::new;
    vec![
        p(
            AB,
            HIGH,
            "insult aimed at the reader",
            REPORTED,
            &format!(
                r"\b(?:you|u|ya|you{AP}re|youre|you\s+are|u\s+r|(?:ur|your|yer)\s+(?:an?|such\s+an?|the\s+biggest))\s+(?:an?\s+)?(?:(?:fucking|fuckin|fkn|effing|absolute|total|utter|complete|stupid|thick|ugly|fat|useless|lying|pathetic|vile|disgusting|worthless|dirty|filthy|brainless|spineless|old|little|traitorous|dumb|evil|two[-\s]faced|sad|silly|horrible|nasty)\s+){{0,3}}{STRONG_INSULT}s?\b"
            ),
        ),
        p(
            AB,
            HIGH,
            "encourages the reader to kill themselves",
            REPORTED,
            r"\b(?:kill|k1ll)\s+(?:your\s*self|urself|yourselves|yaself)\b|\bkys\b|\b(?:go\s+and\s+|go\s+)?(?:hang|top|neck)\s+(?:your\s*self|urself)\b|\b(?:drink|swallow)\s+bleach\b",
        ),
        p(
            AB,
            MEDIUM,
            "insult or profanity aimed at a person",
            REPORTED,
            r"\b(?:fuck|f\*ck|f\*\*k|fck|fk)\s+(?:off|you|u|ya|her|him|them)\b|\b(?:stupid|thick|fat|ugly|useless|lying|vile|disgusting|dirty|filthy|evil|fucking|absolute|total|utter)\s+(?:\w+\s+)?(?:cunt|bitch|whore|slag|slut|twat|prick|wanker|bastard|scum|scumbag|cow|pig|nonce|retard|idiot|moron)s?\b|\bshut\s+(?:your|ur|yer)\s+(?:fat\s+|ugly\s+|stupid\s+)?(?:mouth|gob|trap|face)\b|\bshut\s+(?:the\s+)?(?:fuck|f\*ck|hell)\s+up\b|\bgo\s+back\s+to\s+(?:where\s+you\s+(?:came|come)\s+from|your\s+own\s+country|africa|pakistan|india|poland)\b|\b(?:p[a@4]ki|paki|n[i1]gg[ae]r|n[i1]gg[ae]|coon|wog|chink|kike|yid|fag|faggot|f[a@]gg[o0]t|dyke|tranny|spastic|spaz|gyppo|pikey|towel\s*head|raghead|sand\s*n[i1]gg[ae]r)s?\b",
        ),
    ]
}
