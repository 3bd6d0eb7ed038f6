//! Threats of violence: first-person future or modal framing with a violent
//! verb and a personal target, calls on others to act, wishes of harm,
//! "you're next", murdered-MP references, arson, acid and weapons, threats
//! to family, and veiled or conditional threats.
use std::sync::LazyLock;

use regex::Regex;

use super::context::Context::{self, *};
use super::frag::{AP, TARGET, VIOLENT_VERB};
use super::{Candidate, HIGH, LOW, MEDIUM, Pattern};
use crate::label::Label::ThreatViolence as TV;

/// Reported speech and news cancel every threat rule.
const REPORTED: &[Context] = &[ReportedThreat, NewsReport];
/// Verbs that are also used as metaphors are cancelled by sport and
/// electoral framings too ("we'll kill them in the second half").
const METAPHOR_PRONE: &[Context] = &[ReportedThreat, NewsReport, SportOrGaming, ElectoralMetaphor];
const MURDERED_MP_CANCEL: &[Context] = &[ReportedThreat, NewsReport, Remembrance];

/// Verbs that people also use about elections, debates and matches.
const METAPHOR_VERBS: &[&str] = &[
    "kill",
    "k1ll",
    "k!ll",
    "kil",
    "murder",
    "destroy",
    "slaughter",
    "bury",
    "smash",
    "batter",
    "butcher",
    "end",
    "finish",
    "shoot",
    "sh00t",
    "hang",
    "take out",
    "execute",
    "crush",
    "hammer",
    "deck",
];

/// First-person subject plus future, intention or modal framing.
fn first_person() -> String {
    format!(
        r"\b(?:(?:i|we)\s*(?:{AP}ll|{AP}d|\s+will|\s+shall|\s+would|\s+wud|{AP}m\s+(?:going\s+to|gonna|gunna|gona|goin\s+to|about\s+to|coming\s+to)|\s+am\s+(?:going\s+to|gonna|gunna|about\s+to|coming\s+to)|\s+are\s+(?:going\s+to|gonna|coming\s+to)|{AP}re\s+(?:going\s+to|gonna|gunna|coming\s+to)|\s+(?:gonna|gunna|gona|wanna|want\s+to|intend\s+to|plan\s+to|could|should|swear\s+(?:i|we)\s*{AP}ll|promise\s+(?:i|we)\s*{AP}ll))|\b(?:im|ill|imma|ima)\s+(?:going\s+to\s+|gonna\s+|gunna\s+)?)"
    )
}

/// Someone else urged or predicted to act.
fn third_party() -> String {
    format!(
        r"\b(?:someone|somebody|some1|sum1|some\s+one|anyone|any1|anybody|people|a\s+patriot|one\s+of\s+us|the\s+lads|a\s+real\s+man|real\s+patriots|we\s+all|some\s+nutter|the\s+public)\s*(?:should|shud|shld|needs?\s+to|ought\s+to|oughta|must|has\s+to|have\s+to|is\s+(?:going\s+to|gonna)|{AP}s\s+(?:going\s+to|gonna)|will|{AP}ll|gonna|wants?\s+to|would|{AP}d|can)\b"
    )
}

pub(crate) fn patterns() -> Vec<Pattern> {
    let p = Pattern::new;
    vec![
        p(
            TV,
            HIGH,
            "threat to put a person in the grave",
            REPORTED,
            r"\b(?:put|see|have|want)\s+(?:you|u|her|him)\s+(?:six\s+feet\s+under|in\s+(?:the|a|an\s+early)\s+grave|in\s+a\s+(?:box|coffin|body\s+bag))\b|\b(?:guillotine|gallows|noose|rope|firing\s+squad)\b[^.!?]{0,30}\bfor\s+(?:you|u|her|him)\b",
        ),
        p(
            TV,
            HIGH,
            "predicts a home or office going up in flames",
            REPORTED,
            r"\b(?:your|ur)\s+(?:\w+\s+)?(?:house|home|office|car|surgery|place|flat)\s+(?:goes|going|will\s+go|went|gonna\s+go|could\s+go|might\s+go)\s+up\s+in\s+(?:smoke|flames)\b",
        ),
        p(
            TV,
            HIGH,
            "someone urged to shoot or stab a person",
            REPORTED,
            &format!(
                r"{}\s+(?:\w+\s+){{0,3}}?(?:put|stick|plant|shove)\s+(?:a\s+|one\s+|some\s+)?(?:bullet|bullets|knife|blade|round|brick|bomb|axe|hammer)\s+(?:in|into|through|thru)\s+(?:you|ur|your|her|his|him|them|their|that|this|the)\b",
                third_party()
            ),
        ),
        p(
            TV,
            HIGH,
            "threat to put a bullet or blade in someone",
            REPORTED,
            r"\b(?:put|stick|plant|shove|take)\s+(?:a\s+|one\s+|some\s+)?(?:bullet|bullets|knife|blade|round|axe|hammer)\s+(?:in|into|through|thru|to)\s+(?:you|ur|your|her|his|him|them|their|that\s+\w+)\b",
        ),
        p(
            TV,
            HIGH,
            "wishes or calls for a person to be killed or hurt",
            REPORTED,
            r"\b(?:hope|hoping|wish|pray|praying)\s+(?:that\s+)?(?:you|u|she|he|they|ur\s+\w+|your\s+\w+|her|him|someone|somebody|some1)\s+(?:\w+\s+){0,2}?(?:die|dies|gets?\s+(?:\w+\s+)?(?:killed|shot|stabbed|murdered|hurt|run\s+over|acid\w*|attacked|beaten|lynched|hanged|hung|burned|burnt|blown\s+up|bombed|knifed|glassed|battered|done\s+in)|(?:is|are)\s+(?:\w+\s+)?(?:killed|shot|stabbed|murdered|attacked|next)|(?:stabs|shoots|kills|murders|attacks|hurts|runs\s+over|strangles|batters|knifes)\s+(?:you|u|her|him|them)|(?:slits|cuts|slashes)\s+(?:your|ur|her|his|their)\s+throats?|blows\s+(?:your|ur|her|his|their)\s+(?:\w+\s+)?(?:head|brains)\s+(?:off|out)|burns?\s+(?:alive|to\s+death|in\s+(?:your|ur|her|his|their)))\b",
        ),
        p(
            TV,
            HIGH,
            "says a person deserves or ought to be killed",
            REPORTED,
            r"\b(?:deserves?|deserved|needs?|ought|want|wants)\s+to\s+(?:be\s+|get\s+)?(?:\w+\s+)?(?:die|killed|shot|hanged|hung|strung\s+up|lynched|executed|stabbed|murdered|put\s+down|burn(?:ed|t)?(?:\s+alive)?|beheaded|shot\s+dead|bullet)\b",
        ),
        p(
            TV,
            HIGH,
            "says a person should be executed or lynched",
            METAPHOR_PRONE,
            r"\b(?:you|u|she|he|they|her|him|traitors?|mps|politicians|the\s+lot\s+of\s+(?:you|them)|people\s+like\s+(?:you|her|him)|all\s+of\s+(?:you|them)|this\s+\w+|that\s+\w+)\s+(?:should|shud|must|will|need\s+to|needs\s+to|ought\s+to|wants?\s+to)\s+(?:all\s+)?(?:be\s+|get\s+)(?:\w+\s+)?(?:shot|hanged|hung|strung\s+up|lynched|executed|stabbed|beheaded|burned\s+alive|burnt\s+alive|put\s+down|put\s+against\s+a\s+wall|shot\s+dead|killed|murdered|hung\s+drawn\s+and\s+quartered)\b",
        ),
        p(
            TV,
            HIGH,
            "calls for traitors to hang",
            REPORTED,
            r"\b(?:hang|lynch|shoot|string\s+up|execute)\s+(?:all\s+)?(?:the\s+)?(?:traitors?|traitorous\s+\w+|remoaners|quislings)\b|\btraitors?\s+(?:will|should|must|deserve\s+to)\s+(?:hang|swing|be\s+hanged|be\s+shot|die)\b",
        ),
        p(
            TV,
            HIGH,
            "\"you're next\"",
            MURDERED_MP_CANCEL,
            &format!(
                r"\b(?:you|u)\s*(?:{AP}re|r|are|re)\s+next\b|\b(?:you|u)\s*(?:{AP}ll|\s+will|\s+could|\s+might|\s+may|\s+are\s+going\s+to|{AP}re\s+gonna)\s+be\s+next\b|\bone\s+of\s+you\s+(?:will|is\s+going\s+to|is\s+gonna)\s+be\s+next\b|\b(?:your|ur|yr)\s+next\s*(?:[.!…]|$)"
            ),
        ),
        p(
            TV,
            HIGH,
            "murdered-MP reference aimed at the reader",
            MURDERED_MP_CANCEL,
            r"\b(?:(?:end|ending|wind|finish)\s+up\s+like|go(?:ing)?\s+the\s+same\s+way\s+as|same\s+(?:way|fate|end)\s+as|same\s+thing\s+(?:that\s+)?happened\s+to|(?:remember|member|think\s+about|look\s+at)\s+what\s+happened\s+to|what\s+happened\s+to|(?:do|pull|get)\s+an?|another|next|a\s+second|the\s+new|like)\s+(?:jo\s*cox|david\s+amess|sir\s+david\s+amess|amess|airey\s+neave|ian\s+gow|spencer\s+perceval)\b|\b(?:jo\s*cox|amess)(?:{AP}d|\s+(?:you|her|him|them|this|that))\b",
        ),
        p(
            TV,
            HIGH,
            "veiled threat: a shame if something happened",
            REPORTED,
            r"\b(?:would|wud|it{AP}d|it\s+would)\s+be\s+(?:a\s+)?(?:real\s+|terrible\s+|awful\s+)?(?:shame|pity)\s+if\s+(?:something|anything|someone|somebody|some\s+thing)\b|\b(?:shame|pity)\s+if\s+(?:something|anything)\s+(?:was\s+to\s+|were\s+to\s+|)?happen(?:ed|s)?\s+to\b|\b(?:shame|pity)\s+if\s+(?:your|ur|her|his)\s+(?:\w+\s+){0,2}?(?:caught\s+fire|went\s+up\s+in|burned|burnt|got\s+(?:torched|smashed\s+up|burned|burnt|hurt)|had\s+an\s+accident|brakes\s+failed|failed)\b",
        ),
        p(
            TV,
            HIGH,
            "veiled threat: something will happen to you",
            REPORTED,
            r"\bsomething\s+(?:bad\s+|nasty\s+|terrible\s+)?(?:might|could|will|may|is\s+going\s+to|is\s+gonna|{AP}s\s+gonna)\s+happen\s+to\s+(?:you|u|her|him|your|ur|them|their)\b|\b(?:accidents|bad\s+things|things)\s+(?:can\s+|do\s+)?happen\s+to\s+(?:people|candidates|mps|politicians|you|women|traitors)\s+(?:like|who)\b",
        ),
        p(
            TV,
            HIGH,
            "veiled threat phrase",
            REPORTED,
            &format!(
                r"\bwatch\s+(?:your|ur|yer)\s+back\b|\b(?:sleep|walk)\s+with\s+one\s+eye\s+open\b|\b(?:your|ur|yer|her|his)\s+days\s+are\s+numbered\b|\bcount(?:ing)?\s+(?:your|ur)\s+days\b|\bdead\s+(?:wo)?man\s+walking\b|\b(?:you|u)\s+won{AP}?t\s+see\s+(?:it|us|me|what{AP}s|what\s+is)\s+coming\b|\b(?:you|u){AP}?(?:ve|\s+have)\s+been\s+warned\b|\b(?:final|last)\s+warning\b|\b(?:won{AP}?t|will\s+not|never|wont)\s+(?:make\s+it|live|survive|last)\s+(?:to|till|until|til|past|through)\s+(?:polling\s+day|the\s+election|election\s+day|christmas|the\s+count|the\s+end\s+of|next|the\s+summer)\b|\benjoy\s+(?:your|ur)\s+last\s+(?:days?|weeks?|christmas|campaign|breath)\b|\b(?:i|we){AP}?(?:ll|\s+will)\s+be\s+waiting\s+(?:for\s+(?:you|u|her|him)|outside)\b|\b(?:bullet|noose|rope|knife|blade|coffin|grave)\s+(?:with|has|got)\s+(?:your|ur|her|his)\s+name\b|\b(?:noose|rope|gallows|lamp\s*posts?|firing\s+squad|guillotine)\s+(?:is\s+)?(?:ready|waiting|for)\s+(?:for\s+)?(?:you|u|her|him|them|traitors?)\b|\b(?:you|u)\s+(?:should|better|had\s+better|wanna)\s+(?:be\s+careful|watch\s+out|look\s+over\s+your\s+shoulder|stay\s+indoors|lock\s+your\s+doors)\b|\blook\s+over\s+(?:your|ur)\s+shoulder\b|\bi{AP}?m\s+(?:outside|watching\s+you)\b"
            ),
        ),
        p(
            TV,
            MEDIUM,
            "\"coming for you\"",
            METAPHOR_PRONE,
            &format!(
                r"\b(?:i|we){AP}?(?:m|re|\s+am|\s+are|\s+will\s+be|{AP}ll\s+be)\s+coming\s+(?:for|after|round\s+for)\s+(?:you|u|ya|her|him|your\s+family|ur\s+family)\b|\bcoming\s+for\s+(?:you|u|ya)\s+(?:next|soon|tonight|and\s+your)\b"
            ),
        ),
        p(
            TV,
            HIGH,
            "second person told they will die or be hurt",
            METAPHOR_PRONE,
            &format!(
                r"\b(?:you|u|ya)\s*(?:{AP}ll|\s+will|{AP}re\s+(?:going\s+to|gonna|gunna)|\s+are\s+(?:going\s+to|gonna)|\s+r\s+gonna|\s+gonna)\s+(?:\w+\s+){{0,2}}?(?:die|be\s+(?:killed|shot|stabbed|murdered|hanged|hung|lynched|found\s+dead|burned|burnt|hurt|sorry|in\s+a\s+(?:box|coffin|body\s+bag|ditch|wheelchair)|six\s+feet\s+under)|end\s+up\s+(?:dead|in\s+a\s+(?:box|coffin|body\s+bag|ditch|wheelchair|hospital)|six\s+feet\s+under)|get\s+(?:killed|shot|stabbed|murdered|hurt|what{AP}s\s+coming|yours)|bleed|suffer|pay\s+for\s+(?:this|that|it)|regret\s+(?:it|this|that)|not\s+(?:live|survive)|disappear|never\s+be\s+safe|swing)\b"
            ),
        ),
        p(
            TV,
            HIGH,
            "\"you're dead\"",
            METAPHOR_PRONE,
            &format!(
                r"\b(?:you|u)\s*(?:{AP}re|r|are|re)\s+(?:so\s+|fucking\s+|fkn\s+|fuckin\s+)?(?:dead(?:\s+meat)?|a\s+dead\s+(?:wo)?man|a\s+marked\s+(?:wo)?man|going\s+to\s+die|gonna\s+die)\s*(?:[.!,…]|$|\w+\s+(?:traitor|bitch|mate|pal|love))"
            ),
        ),
        p(
            TV,
            HIGH,
            "threat to burn a home, office or car",
            REPORTED,
            r"\b(?:burn|torch|firebomb|fire\s+bomb|petrol\s+bomb|set\s+fire\s+to|set\s+light\s+to|torching|burning)\s+(?:down\s+)?(?:your|ur|yer)\s+(?:\w+\s+)?(?:house|home|office|car|place|flat|surgery|gaff|kids|family|street)\b|\b(?:your|ur)\s+(?:\w+\s+)?(?:house|home|office|car|gaff)\s+(?:would|will|could|might)\s+(?:\w+\s+)?(?:burn|go\s+up|catch\s+fire)\b|\bpetrol\s+(?:through|in|into|thru|down)\s+(?:your|ur|the|her|his|their)\s+letter\s*box\b|\b(?:molotov|pipe\s+bomb|nail\s+bomb|car\s+bomb|letter\s+bomb)\s+(?:through|under|in|at|for)\s+(?:your|ur|her|his|their|you)\b",
        ),
        p(
            TV,
            HIGH,
            "threat of an acid attack",
            REPORTED,
            r"\bacid\s+(?:in|into|on|over|at|across)\s+(?:your|ur|her|his|their|yer)\s+(?:\w+\s+)?(?:face|eyes|skin)\b|\b(?:throw|chuck|splash|pour)\s+(?:\w+\s+)?acid\s+(?:in|on|at|over)\b|\b(?:you|u|she|her|he)\s+(?:\w+\s+){0,3}?(?:acid\s+attack(?:ed)?|acided)\b",
        ),
        p(
            TV,
            HIGH,
            "threat against family or children",
            REPORTED,
            &format!(
                r"\b(?:your|ur|yer)\s+(?:\w+\s+)?(?:kids?|children|child|wife|husband|family|daughters?|sons?|mum|mother|missus|partner|grandkids|baby|little\s+girl|little\s+boy)\s+(?:\w+\s+){{0,3}}?(?:will|would|won{AP}?t|wont|are\s+going\s+to|gonna|could|might|{AP}ll|better|aren{AP}?t|are\s+not|is\s+not|isn{AP}?t)\s+(?:\w+\s+){{0,2}}?(?:hurt|harmed|suffer|pay|die|next|safe|killed|taken|disappear|get\s+it|be\s+touched|find\s+out|get\s+home|grow\s+up|see\s+(?:christmas|another))\b|\b(?:shame|pity)\s+if\s+(?:\w+\s+){{0,3}}?(?:your|ur)\s+(?:kids?|children|family|wife|husband|daughter|son)\b"
            ),
        ),
        p(
            TV,
            HIGH,
            "offers a reward or praise for killing a person",
            REPORTED,
            r"\b(?:anyone|anybody|whoever|the\s+first\s+(?:one|person))\s+(?:who\s+|that\s+|to\s+)?(?:kills|shoots|stabs|murders|takes\s+out|knifes|hangs|breaks|kill|shoot|stab|murder)\s+(?:her|him|them|this|that|the|his|our)\b|\b£\d+\s+to\s+(?:anyone|whoever|the\s+first)\b",
        ),
        p(
            TV,
            HIGH,
            "says a person needs to be removed by force",
            REPORTED,
            r"\b(?:needs?|ought|has)\s+to\s+be\s+(?:taken\s+out|dealt\s+with\s+permanently|put\s+down|got\s+rid\s+of\s+permanently|silenced\s+permanently)\b|\b(?:firing\s+squad|gallows|noose|rope|hanging|a\s+bullet)\s+(?:is|would\s+be)\s+too\s+good\s+for\s+(?:you|her|him|them)\b",
        ),
        p(
            TV,
            MEDIUM,
            "threat to teach a person a lesson",
            METAPHOR_PRONE,
            r"\bteach\s+(?:you|u|her|him|them)\s+a\s+lesson\s+(?:you|u|she|he|they)\s*(?:won['’`]?t|will\s+never|wont|ll\s+never)\s+forget\b",
        ),
        p(
            TV,
            HIGH,
            "threat to beat someone up",
            REPORTED,
            r"\b(?:{AP}d|would|will|{AP}ll|gonna|going\s+to|wanna|happily|gladly)\s+(?:\w+\s+)?(?:do\s+(?:you|u|her|him|them)\s+in\b|knock\s+(?:your|ur|her|his)\s+(?:block|head|teeth)\s+(?:off|in|out)|rearrange\s+(?:your|ur|her|his)\s+face|put\s+(?:you|u|her|him)\s+(?:in|through)\s+(?:hospital|a\s+window|the\s+ground|a\s+wall))",
        ),
        p(
            TV,
            HIGH,
            "\"first against the wall\"",
            REPORTED,
            r"\bfirst\s+(?:up\s+)?against\s+the\s+wall\b",
        ),
        p(
            TV,
            MEDIUM,
            "ultimatum backed by a threat",
            REPORTED,
            r"\b(?:resign|step\s+down|drop\s+out|quit|withdraw|pull\s+out|back\s+down|stand\s+down)\b[^.!?]{0,40}?\bor\s+(?:else\b|(?:we|i|you|your\s+\w+)\s*(?:{AP}ll|\s+will)?\s*(?:\w+\s+){0,2}?(?:make\s+you|regret|pay|suffer|hurt|get\s+hurt|die|be\s+(?:hurt|sorry|next)))",
        ),
        p(
            TV,
            0.6,
            "bare \"or else\"",
            REPORTED,
            r"\bor\s+else\s*[.!…]*\s*$",
        ),
        p(
            TV,
            MEDIUM,
            "says the person is on a list",
            REPORTED,
            r"\b(?:you{AP}re|you\s+are|ur|your|u\s+r)\s+on\s+(?:the|our|my|a|their)\s+(?:kill\s+|hit\s+|death\s+)?list\s*(?:[.!]|$|now|too)",
        ),
        p(
            TV,
            MEDIUM,
            "\"we'll come for you\"",
            METAPHOR_PRONE,
            r"\b(?:i|we|they){AP}?(?:ll|\s+will)\s+(?:\w+\s+)?come\s+(?:for|after)\s+(?:you|u|her|him)\b",
        ),
        p(
            TV,
            MEDIUM,
            "says they will be waiting for the person",
            REPORTED,
            r"\b(?:i|we){AP}?(?:ll|\s+will|m|re|\s+am|\s+are)\s+(?:be\s+)?wait(?:ing)?\s+for\s+(?:you|u|her|him)\s+(?:behind|after|in\s+the\s+(?:car\s+park|alley|dark)|when|outside\s+your|at\s+your|alone)\b|\bcome\s+alone\b",
        ),
        p(
            TV,
            HIGH,
            "compares the person's fate to an attacked politician",
            MURDERED_MP_CANCEL,
            r"\b(?:same\s+way\s+as|end\s+up\s+like|same\s+fate\s+as|same\s+as)\s+(?:that|the|the\s+last)\s+(?:mp|councillor|politician|one)\s+(?:in|from|who)\b",
        ),
        p(
            TV,
            HIGH,
            "threat to string up, put down or carve up a person",
            METAPHOR_PRONE,
            &format!(
                r"{}\s*(?:\w+\s+){{0,2}}?(?:string|hang)\s+(?:you|u|ya|her|him|them)\s+up\b|\bput\s+(?:you|u|ya|her|him)\s+down\s+like\s+(?:a|the)\s+(?:dog|animal|rat|pig)\b|\b(?:carve|slice|cut|chop)\s+(?:you|u|ya|her|him)\s+up\b|\bsend\s+(?:you|u|her|him)\s+(?:\w+\s+)?(?:back\s+)?in\s+(?:pieces|a\s+box|a\s+body\s*bag|bits)\b",
                first_person()
            ),
        ),
        p(
            TV,
            HIGH,
            "says the person is about to be attacked",
            METAPHOR_PRONE,
            &format!(
                r"\b(?:you|u|ya)\s*(?:{AP}re|r|are|re)\s+(?:getting|gettin|gonna\s+get|going\s+to\s+get|about\s+to\s+get|due\s+to\s+get)\s+(?:\w+\s+)?(?:jumped|stabbed|shanked|knifed|glassed|bottled|kerb[\s-]?stomped|curb[\s-]?stomped|stomped|battered|leathered|shot|merked|murdered|killed|lynched|hanged|strung\s+up|torched|acid(?:ed)?|done\s+in|kneecapped|hospitalised|hospitalized|run\s+over)\b"
            ),
        ),
        p(
            TV,
            HIGH,
            "says the person will leave hurt or not at all",
            REPORTED,
            &format!(
                r"\b(?:leave|leaving|go\s+home|going\s+home|be\s+carried\s+out|come\s+out|walk\s+out)\s+(?:\w+\s+){{0,2}}?(?:in|on)\s+(?:an?\s+)?(?:ambulance|stretcher|body\s*bag|coffin|wheelchair)\b|\b(?:won{AP}?t|wont|will\s+not|not|never|ain{AP}?t)\s+(?:be\s+)?(?:walking|walk|leaving|leave|getting|get|going|go|making\s+it)\s+(?:out|home|away)\s+(?:of\s+(?:there|here|it)\s+)?(?:alive|in\s+one\s+piece|upright|standing|on\s+(?:your|ur|her|his)\s+(?:own\s+)?(?:two\s+)?(?:feet|legs))\b|\bneed\s+(?:your\s+)?dental\s+records\b"
            ),
        ),
        p(
            TV,
            MEDIUM,
            "says a person needs killing or a beating",
            METAPHOR_PRONE,
            // The subject is any target the other families know (an
            // `@handle` has no word boundary before it), plus the
            // third-person pronouns and two spellings TARGET leaves out.
            &format!(
                r"(?:@\w+|\b{TARGET}|\b(?:she|he|they|(?:that|this)\s+(?:c\w*t|mf)))\s+(?:\w+\s+)?(?:needs?|deserves?|wants?|is\s+asking\s+for|are\s+asking\s+for)\s+(?:killing|shooting|stabbing|hanging|stringing\s+up|putting\s+down|a\s+bullet|a\s+(?:proper\s+|good\s+|real\s+)?(?:beating|kicking|hiding|shoeing|slap|knifing|stabbing))\b"
            ),
        ),
        p(
            TV,
            MEDIUM,
            "urges others to kill or attack a named person",
            METAPHOR_PRONE,
            r"(?:^|[.!?\n]\s*|\b(?:lads|guys|chat|everyone|someone|boys)[,:]?\s+)(?i:kill|shoot|stab|hang|lynch|behead|burn|smash|knife|shank|glass|torch|jump)\s+(?:(?i:her|him)\b|(?i:this|that)\s+\w+\b|(?-i:[A-Z][a-z]+\s+[A-Z][a-z]+)\b)",
        ),
        p(
            TV,
            MEDIUM,
            "turning up armed where the person will be",
            &[ReportedThreat, NewsReport, SportOrGaming],
            r"\b(?:wait|waiting|waitin|be\s+(?:outside|at|there|waiting|in\s+the)|see\s+(?:you|u|ya|her|him)|turn\s+up|turning\s+up|show\s+up|coming|comin|pull\s+up|visit|bring|bringing|bringin)\b[^.!?\n]{0,40}?\b(?:with\s+)?(?:a|my|the|some|our|me)?\s*(?:baseball\s+)?(?:bats?|hammers?|knife|knives|blades?|machete|crossbow|shotgun|gun|axe|petrol|acid|shank)\b[^.!?\n]{0,40}\b(?:you|u|her|him|hustings|surgery|count|office|house|home|canvass\w*|meeting|street|door)\b",
        ),
        p(
            TV,
            HIGH,
            "describes violence to the person's body",
            METAPHOR_PRONE,
            r"\b(?:slit|slits|slitting|cut|cuts|cutting|slash|slashing)\s+(?:your|ur|yer|her|his|their)\s+(?:\w+\s+)?throats?\b|\b(?:snap|snapping|wring|wringing)\s+(?:your|ur|yer|her|his)\s+(?:\w+\s+)?neck\b|\b(?:stamp|stamping|kick|kicking|cave|caving|smash|smashing|bash|bashing|boot|booting|kick)\s+(?:your|ur|yer|her|his)\s+(?:\w+\s+)?(?:face|head|skull|teeth)\s+in\b|\b(?:blow|blowing|shoot|shooting)\s+(?:your|ur|yer|her|his)\s+(?:\w+\s+)?(?:brains|head)\s+(?:out|off)\b",
        ),
        p(
            TV,
            HIGH,
            "wishes a crash or fire on the person's vehicle",
            REPORTED,
            r"\b(?:hope|hoping|wish|pray|praying)\s+(?:that\s+)?(?:your|ur|her|his|their)\s+(?:\w+\s+){0,2}?(?:plane|bus|car|van|train|helicopter|brakes)\s+(?:goes\s+down|go\s+down|crashes|crash|fail|fails|goes\s+off|blows\s+up|explodes|burns|catches\s+fire|goes\s+up\s+in\s+flames)\b",
        ),
        p(
            TV,
            HIGH,
            "urges pushing a person under a train",
            REPORTED,
            r"\bpush(?:es|ed|ing)?\s+(?:you|u|her|him|them)\s+(?:under|in\s+front\s+of)\s+(?:a|the)\s+(?:\S+\s+)?(?:train|tube|lorry)\b",
        ),
        p(
            TV,
            HIGH,
            "predicts the person's home or car on fire",
            REPORTED,
            r"\b(?:your|ur)\s+(?:\w+\s+)?(?:house|home|office|car|van|flat|gaff)\s+(?:would|will|is\s+going\s+to|{AP}ll|is|could)\s+(?:look\s+(?:nice|good|better|lovely|great|pretty)\s+on\s+fire|be\s+(?:on\s+fire|ash|ashes|a\s+pile\s+of\s+ash)|ash)\b",
        ),
        p(
            TV,
            MEDIUM,
            "says someone deserves a bullet",
            REPORTED,
            r"\bdeserves?\s+(?:a|one)\s+bullet\b",
        ),
        p(
            TV,
            MEDIUM,
            "threat to find or hunt someone down",
            METAPHOR_PRONE,
            &format!(
                r"{}\s*(?:\w+\s+){{0,2}}?(?:find|hunt|track|get)\s+(?:you|u|ya|her|him)\s+(?:down|and\b|wherever|one\s+day|eventually|soon|when\s+you\s+least)",
                first_person()
            ),
        ),
    ]
}

static FIRST_PERSON_VIOLENCE: LazyLock<Regex> = LazyLock::new(|| {
    let body_parts = r"(?:your|ur|yer|her|his)\s+(?:\w+\s+)?(?:legs?|neck|face|jaw|skull|head|arms?|knees?|kneecaps|nose|teeth|fingers|throat|brains?|ribs|spine|back)";
    Regex::new(&format!(
        r"(?i){fp}\s*(?:(?:\w+|\w+{AP}\w+|f\*+\w*)\s+){{0,5}}?(?P<verb>{VIOLENT_VERB})(?:ing|[bt]ing)?\s+(?:(?:the\s+)?(?:fucking|fuckin|fkn|effing|bloody|f\*+ing|living\s+daylights\s+out\s+of)\s+)?(?P<target>{TARGET}|{body_parts})",
        fp = first_person()
    ))
    .expect("first-person violence regex compiles")
});

static THIRD_PARTY_VIOLENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i){tp}\s+(?:(?:\w+|\w+{AP}\w+)\s+){{0,3}}?(?P<verb>{VIOLENT_VERB}|run\s+(?:her|him|you|them)\s+over)\s*(?:(?:the\s+)?(?:fucking|fuckin|bloody)\s+)?(?P<target>{TARGET})?",
        tp = third_party()
    ))
    .expect("third-party violence regex compiles")
});

/// Words after a match that turn a violent phrase into something harmless
/// ("I'll shoot you a message", "hang them out to dry").
static HARMLESS_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:an?\s+(?:message|email|e-mail|text|dm|line|note|link|invite|reply|quick)|a\s+quick|me\s+a|out\s+to\s+dry|with\s+kindness|in\s+the\s+(?:polls|debate|vote|election|ballot)|at\s+the\s+(?:polls|ballot|election|hustings|count)|on\s+(?:the\s+)?(?:doorstep|pitch)|(?:over|about|with)\s+(?:this|that|it))")
        .expect("tail regex compiles")
});

fn is_metaphor_verb(verb: &str) -> bool {
    let v = verb.to_lowercase();
    METAPHOR_VERBS.iter().any(|m| v == *m)
}

/// Regexes that need a look at the captured verb or the following text.
pub(crate) fn extra_candidates(text: &str, out: &mut Vec<Candidate>) {
    for caps in FIRST_PERSON_VIOLENCE.captures_iter(text) {
        let m = caps.get(0).expect("whole match");
        if HARMLESS_TAIL.is_match(&text[m.end()..]) {
            continue;
        }
        let verb = caps.name("verb").map_or("", |v| v.as_str());
        let target = caps
            .name("target")
            .map_or(String::new(), |t| t.as_str().to_lowercase());
        let group_target =
            target == "them" || target.starts_with("all of") || target.starts_with("every");
        let metaphor = is_metaphor_verb(verb);
        out.push(Candidate {
            label: TV,
            start: m.start(),
            end: m.end(),
            reason: "first-person threat of violence against a person",
            confidence: if group_target && metaphor {
                MEDIUM
            } else {
                HIGH
            },
            cancelled_by: if metaphor || group_target {
                METAPHOR_PRONE
            } else {
                REPORTED
            },
        });
    }
    for caps in THIRD_PARTY_VIOLENCE.captures_iter(text) {
        let m = caps.get(0).expect("whole match");
        if HARMLESS_TAIL.is_match(&text[m.end()..]) {
            continue;
        }
        let verb = caps.name("verb").map_or("", |v| v.as_str());
        let has_target = caps.name("target").is_some();
        let metaphor = is_metaphor_verb(verb);
        out.push(Candidate {
            label: TV,
            start: m.start(),
            end: m.end(),
            reason: "calls on someone else to commit violence",
            confidence: if has_target { HIGH } else { LOW + 0.2 },
            cancelled_by: if metaphor { METAPHOR_PRONE } else { REPORTED },
        });
    }
}
