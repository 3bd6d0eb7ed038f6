//! Benign framings that change what a violent or personal-data phrase means.
//!
//! The same words ("I will kill you") are a threat in a DM, evidence in a
//! message reporting that threat, a quote in a news story, and banter in a
//! five-a-side chat. These detectors recognise the framing so the rules and
//! the model score can be adjusted, and each says so in plain words.
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A benign framing recognised in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    /// Someone describing or reporting a threat they received.
    ReportedThreat,
    /// A news report, court report or quotation of one.
    NewsReport,
    /// Sport, gaming or competition talk.
    SportOrGaming,
    /// Violent words used about elections, polls, debates or policies.
    ElectoralMetaphor,
    /// A candidate or office publishing its own contact details or venue.
    PublicContact,
    /// Remembering murdered MPs, not threatening anyone with their fate.
    Remembrance,
    /// Everyday hyperbole ("killed it at the hustings", "my feet are
    /// killing me", "I could murder a curry").
    Figurative,
    /// Only lawful recourse is promised: complaints, protest, petitions,
    /// votes, courts ("I'm going to report you to IPSA").
    LawfulRecourse,
    /// A longer stretch of the message is in quotation marks and there is
    /// commentary around it: someone is quoting words, not saying them.
    Quotation,
}

impl Context {
    /// Every context, in a fixed order (the heads' rule features use it).
    pub const ALL: [Context; 9] = [
        Context::ReportedThreat,
        Context::NewsReport,
        Context::SportOrGaming,
        Context::ElectoralMetaphor,
        Context::PublicContact,
        Context::Remembrance,
        Context::Figurative,
        Context::LawfulRecourse,
        Context::Quotation,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Context::ReportedThreat => {
                "the message reports a threat received rather than making one"
            }
            Context::NewsReport => "the message reads as a news or court report",
            Context::SportOrGaming => "the message is about sport or gaming",
            Context::ElectoralMetaphor => "violent words used about elections or policy",
            Context::PublicContact => "contact details published for a public office or event",
            Context::Remembrance => "the message remembers a murdered MP",
            Context::Figurative => "violent words used as everyday hyperbole",
            Context::LawfulRecourse => {
                "the message promises only lawful recourse (complaints, protest, votes, courts)"
            }
            Context::Quotation => "the words are quoted, with commentary around them",
        }
    }
}

struct Detector {
    context: Context,
    re: Regex,
}

fn re(s: &str) -> Regex {
    Regex::new(&format!("(?i){s}")).expect("context regex compiles")
}

static DETECTORS: LazyLock<Vec<Detector>> = LazyLock::new(|| {
    let d = |context, s: &str| Detector { context, re: re(s) };
    vec![
        d(
            Context::ReportedThreat,
            r"\b(?:someone|somebody|a\s+(?:man|woman|guy|bloke|person|lad|voter|constituent|stranger)|he|she|they|this\s+(?:person|man|guy|bloke|account|troll)|an?\s+(?:anonymous\s+|random\s+)?(?:caller|account|troll|user|email|letter|message|note|voicemail))\s+(?:\w+\s+){0,3}?(?:told|telling|said|saying|threatened|threatening|messaged|wrote|posted|sent|emailed|shouted|shouting|tweeted|texted|rang|screamed|yelled|commented|replied|dm['’`]?d|left)\s+(?:me|us|my|our|her|him|that|on|at|to|a|an)\b",
        ),
        d(
            Context::ReportedThreat,
            r"\b(?:reported|reporting|report)\s+(?:it|this|that|them|him|her|the\s+\w+|these\s+\w+)\s+to\s+(?:the\s+)?(?:police|met|twitter|x|facebook|instagram|tiktok|platform|parliamentary\s+security|security|officers?|authorities)|\b(?:i|we|she|he|they)\s*(?:['’`]?ve|\s+have|\s+has)\s+(?:\w+\s+)?reported\b|\bpolice\s+(?:are|were|have\s+been|has\s+been)\s+(?:investigating|informed|called|notified|involved)|\bcrime\s+(?:reference|ref|number)\b|\bthreatened\s+to\b|\b(?:was|were|been|being|got)\s+threatened\b|\b(?:received|receiving|got|get|getting|had|sent)\s+(?:\w+\s+){0,3}?(?:threats?|threatening|(?:a\s+|another\s+)?(?:letter|message|email|note|call|dm|voicemail|comment|reply|tweet)s?\s+(?:saying|telling|that|which\s+said))\b|\b(?:death|rape|violent|online)\s+threats\b|\bthreats?\s+(?:against|to|towards|made|i\s+(?:get|got|received))\b",
        ),
        d(
            Context::NewsReport,
            r"\b(?:(?:jury|court|judge|magistrates|sheriff)\s+(?:heard|was\s+told|said)|jailed|sentenced|convicted|pleaded\s+(?:guilty|not\s+guilty)|admitted\s+(?:sending|making|threatening)|court\s+(?:heard|was\s+told)|told\s+(?:the\s+)?(?:court|jury)|prosecutors?|prosecuting|defendant|was\s+found\s+guilty|police\s+said|a\s+spokes(?:man|woman|person)|according\s+to|headline|reports?\s+(?:that|say)|reported\s+that|bbc\s+(?:news|reports)|sky\s+news|press\s+association|news\s+(?:report|article|story)|crown\s+court|magistrates['’`]?\s+court|old\s+bailey|suspended\s+sentence|restraining\s+order|charged\s+with|arrested\s+(?:on|for|after)|malicious\s+communications)\b",
        ),
        d(
            Context::SportOrGaming,
            r"\b(?:(?:first|second)\s+half|half[-\s]?time|full[-\s]?time|kick[-\s]?off|the\s+(?:match|derby|final|ref|referee|pitch|league|opposition|away\s+end|cup)|on\s+the\s+pitch|penalt(?:y|ies)|scored?|goals?|premier\s+league|five[-\s]a[-\s]side|5[-\s]a[-\s]side|sunday\s+league|cricket|rugby|darts|snooker|pool|bowls|bingo|golf|poker|cards|bridge\s+club|boxing|ufc|sparring|headshot|respawn|spawn|lobby|ranked|noob|n00b|gg|fortnite|call\s+of\s+duty|warzone|fifa|minecraft|xbox|ps5|playstation|twitch|boss\s+fight|pvp|raid\s+boss|sniper|squad|fc|netball|hockey|football|footie|the\s+game|this\s+game|next\s+game|match\s+day|matchday|the\s+lads|tournament|quiz|chess|board\s+game|dnd|d&d|campaign\s+mode|multiplayer|servers?)\b",
        ),
        d(
            Context::ElectoralMetaphor,
            r"\b(?:(?:at|in)\s+the\s+(?:polls?|ballot\s+box|ballot|(?:next\s+|general\s+|local\s+|upcoming\s+)?elections?|by-?election|count|debate|hustings|voting\s+booth|polling\s+booth|opinion\s+polls|chamber|commons|division\s+lobby|vote)|at\s+the\s+ballot|electorally|politically|on\s+(?:polling|election)\s+day|in\s+(?:may|the\s+marginals)|at\s+the\s+(?:next|general)\s+election|(?:their|your|his|her)\s+(?:majority|seat|vote\s+share|campaign|candidacy|candidate|party)|wipe\s+(?:them|you)\s+out)\b",
        ),
        d(
            Context::PublicContact,
            r"\b(?:(?:my|our)\s+(?:\w+\s+)?(?:surgery|surgeries|office|hq|headquarters|email|number|phone\s+number|phone|line|helpline|mobile|inbox|address)|advice\s+surger(?:y|ies)|drop[-\s]in|all\s+welcome|everyone\s+(?:is\s+)?welcome|by\s+appointment|book\s+(?:an?\s+)?(?:appointment|slot|place)|(?:contact|email|e-mail|call|ring|phone|text|write\s+to|reach|visit|find)\s+(?:me|us|my\s+(?:office|team)|the\s+office|our\s+(?:office|team))|come\s+(?:along|and\s+see|down)|open\s+(?:from|between|on|every|monday|tuesday|wednesday|thursday|friday|saturday)|(?:surgery|meeting|event|hustings|coffee\s+morning|street\s+stall|public\s+meeting|count)\s+(?:is\s+|will\s+be\s+)?(?:at|held\s+at|in)|venue|community\s+(?:centre|center|hall)|village\s+hall|church\s+hall|registered\s+office|promoted\s+by|printed\s+by|published\s+by|on\s+behalf\s+of|constituency\s+office|campaign\s+office|polling\s+(?:station|place)|leaflet|consultation|(?:i|we)\s+live\s+(?:at|on|in)|i['’`]?m\s+at|my\s+(?:address|house|flat|home)\s+is|(?:my|our)\s+(?:mum|mother|dad|nan|gran|neighbour|son|daughter)\s+(?:lives|is\s+at)|for\s+yourself|if\s+you\s+want\s+to\s+(?:see|visit|come)|send\s+(?:me|it|a|the)\b|subsidence|flooding|pothole|bins?|streetlight)\b",
        ),
        d(
            Context::Remembrance,
            r"\b(?:jo\s+cox\s+foundation|great\s+get\s+together|more\s+in\s+common|in\s+(?:loving\s+)?memory|tributes?|remembering|remembrance|anniversary|rest\s+in\s+peace|rip|vigil|minute['’`]?s\s+silence|legacy|honour(?:ed|ing)?|was\s+murdered|murder\s+of|inquest|condolences|thoughts\s+(?:are\s+)?with|never\s+forget|miss\s+(?:her|him)|(?:must|should|will)\s+never\s+happen\s+again|never\s+again)\b",
        ),
        d(
            Context::LawfulRecourse,
            r"\b(?:report(?:ing)?\s+you\s+to|complain(?:t|ts|ing)?\s+(?:to|about)|formal\s+complaint|ombudsman|ipsa|standards\s+commissioner|petition|recall\s+petition|deselect(?:ed|ion)?|vote\s+(?:you|them|him|her)\s+out|voting\s+against|protest(?:ing|ers)?|placards?|banners?|picket|letters?\s+to\s+the\s+(?:editor|paper)|judicial\s+review|legal\s+action|solicitors?|in\s+court|freedom\s+of\s+information|foi\s+request|write\s+to\s+the\s+(?:council|paper|minister))\b",
        ),
        d(
            Context::Figurative,
            r"\b(?:kill(?:ed|ing|s)?\s+it|kill\s+for\s+an?|(?:will|gonna|going\s+to|['’]ll|is|are|be)\s+(?:the\s+death\s+of|kill(?:ing)?)\s+me|killing\s+me|the\s+death\s+of\s+me|i['’]?m\s+dead|i\s+am\s+dead|dying\s+(?:for|to|of)|to\s+die\s+for|dressed\s+to\s+kill|break\s+a\s+leg|knock\s+(?:['’]?em|them)\s+dead|murder\s+an?\s+(?:curry|pint|cup|brew|kebab|takeaway)|blow\s+out\s+the|blow\s+up\s+in|political(?:ly)?\s+(?:poison|suicide|dead|death)|dead\s+(?:wo)?man\s+walking\s+(?:politically|after)|killer\s+(?:heels|app|line|question)|smash\s+it|knock\s+(?:me|you)\s+down\s+with\s+a\s+feather|(?:i['’]?ll|i\s+will|gonna|going\s+to|i\s+could|i['’]?d)\s+(?:literally\s+)?die\s+(?:if|of|laughing|for)|(?:history|voters|the\s+public)\s+(?:won['’]?t|will\s+not)\s+(?:be\s+kind|forgive))\b",
        ),
    ]
});

/// Every benign framing found in `text`, without duplicates.
pub fn detect(text: &str) -> Vec<Context> {
    let mut found = Vec::new();
    for d in DETECTORS.iter() {
        if !found.contains(&d.context) && d.re.is_match(text) {
            found.push(d.context);
        }
    }
    if is_quotation(text) {
        found.push(Context::Quotation);
    }
    found
}

fn is_quote_char(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '«' | '»' | '„')
}

/// Byte ranges of text inside double quotation marks.
pub(crate) fn quoted_ranges(text: &str) -> Vec<(usize, usize)> {
    let marks: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| is_quote_char(*c))
        .map(|(i, _)| i)
        .collect();
    marks.chunks_exact(2).map(|p| (p[0], p[1])).collect()
}

/// True when a quoted stretch of at least three words sits inside at
/// least three words of commentary. Scare quotes around one or two words
/// ("protection") do not count.
fn is_quotation(text: &str) -> bool {
    let ranges = quoted_ranges(text);
    let inside: usize = ranges
        .iter()
        .map(|&(a, b)| text[a..b].split_whitespace().count())
        .sum();
    if !ranges
        .iter()
        .any(|&(a, b)| text[a..b].split_whitespace().count() >= 3)
    {
        return false;
    }
    let total = text.split_whitespace().count();
    total.saturating_sub(inside) >= 3
}

/// Words that nearly every threat, open or veiled, contains at least one
/// of. Used the other way round: when the model calls a message a threat but
/// none of these words appear ("You lied to us. You should resign."), the
/// model is reacting to tone, not to a threat, and its score is damped.
static THREAT_VOCABULARY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:kill\w*|k[i1]ll|murder\w*|die|dies|dying|dead|death|blood\w*|bleed|knife|knives|stab\w*|gun\w*|shoot|shot|bullet\w*|bomb\w*|burn\w*|fire\w*|petrol|acid|hang\w*|hung|rope|noose|gallows|hurt\w*|harm\w*|pain\w*|suffer\w*|beat\w*|batter\w*|smash\w*|punch\w*|kick\w*|slap\w*|break|broken|bones?|hospital|grave|coffin|box|body|strangle\w*|chok\w*|throat|neck|face|head|attack\w*|violen\w*|weapon\w*|axe|hammer|bat|crowbar|machete|brick|rape\w*|r[a@4]pe\w*|watch\w*|careful|safe|safety|shame|pity|happen\w*|accident\w*|next|coming|come|wait\w*|alone|dark|night|know|knew|routine|follow\w*|regret|pay|warn\w*|last|end|finish\w*|sorry|afraid|scared|fear|protect\w*|police|security|bodyguard|family|kids?|children|wife|husband|daughter|son|mum|home|house|door|letterbox|car|list|soon|days|lesson|sort|deal\w*|permanent\w*|wall|traitors?|cox|amess|surgery|alive|live|lives|survive|forever|patient|snap|enough|disappear\w*|find|hunt|track|get\s+you|get\s+her|get\s+him|see\s+you|outside|behind|street|address|ditch|canal|river|grab|drag|force|knees|scream\w*|beg\w*|sweet|pretty|girl|boy|visit|round|tick|tock|remember|same\s+way|way\s+of|like\s+the\s+last|marked|target|swing|wheelchair|ambulance|enjoy|tonight|tomorrow|weapon|fists?|teeth|jaw|legs?|arms?|smoke|flames?|feet\s+under|guillotine|sharpen\w*|post|ram|ours|chance|nobody|ground|stall|staff|touch\w*|turns)\b",
    )
});

/// Whether `text` contains any word from the threat vocabulary above.
pub fn has_threat_vocabulary(text: &str) -> bool {
    THREAT_VOCABULARY.is_match(text)
}
