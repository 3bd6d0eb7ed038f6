#!/usr/bin/env python3
"""Build data/train.jsonl and data/eval.jsonl from the hand-written files in
data/raw/ plus a small templated supplement (training split only).

data/raw/<kind>.txt: first line `# labels: a,b` gives the default labels for
the file (empty for negatives); a line may override them with a leading
`[label,label] `. The file stem is the example's `kind`; negatives whose kind
starts with `hard_` are the hard negatives the evaluation reports on.

The split is by a hash of the text (about 20% to eval), so it is stable when
lines are added, and the eval split holds hand-written lines only.
"""
import hashlib
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"


def read_file(path, kind):
    """One message a line after the `# labels: a,b` header; a line may
    override the labels with a leading `[label,label] `."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0]
    assert header.startswith("# labels:"), path
    default = [l.strip() for l in header[len("# labels:"):].split(",") if l.strip()]
    out = []
    for line in lines[1:]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        labels = default
        m = re.match(r"^\[([a-z_,]+)\]\s+(.*)$", line)
        if m:
            labels = [l for l in m.group(1).split(",") if l]
            line = m.group(2)
        out.append({"text": line, "labels": labels, "kind": kind})
    return out


def read_raw():
    out = []
    for path in sorted(RAW.glob("*.txt")):
        out += read_file(path, path.stem)
    return out


def templated(rng):
    """A modest supplement so rare phrasings get a few more variants."""
    rows = []
    subj = ["I'm going to", "I will", "I'll", "im gonna", "We're going to", "I swear I'll", "I'm gonna"]
    verbs = ["kill", "stab", "shoot", "hurt", "strangle", "batter", "knife", "burn"]
    targets = ["you", "you traitor", "you and your family", "you, you lying cow", "u", "you at your next surgery"]
    for _ in range(60):
        t = f"{rng.choice(subj)} {rng.choice(verbs)} {rng.choice(targets)}"
        if rng.random() < 0.3:
            t = t.upper()
        labels = ["threat_violence", "abuse"] if "cow" in t.lower() or "traitor" in t.lower() else ["threat_violence"]
        rows.append({"text": t, "labels": labels, "kind": "death_threat_tpl"})
    streets = ["Mill Lane", "Church Road", "Station Road", "Park Avenue", "Victoria Street", "Orchard Close", "Elm Grove"]
    towns = [("Bolton", "BL1 4QT"), ("Ipswich", "IP4 2BE"), ("Truro", "TR1 3HJ"), ("Lincoln", "LN2 5DF"), ("Stoke", "ST4 7QB")]
    for _ in range(40):
        n = rng.randint(1, 120)
        st = rng.choice(streets)
        town, pc = rng.choice(towns)
        who = rng.choice(["She", "He", "The MP", "Our councillor", "That traitor"])
        lead = rng.choice([f"{who} lives at {n} {st}, {town} {pc}.",
                           f"Here's where {who.lower()} lives: {n} {st}, {pc}.",
                           f"{who}'s home address is {n} {st}, {town}."])
        tail = rng.choice(["Pay a visit.", "Spread it.", "You know what to do.", "", "Go and say hello 😉"])
        rows.append({"text": f"{lead} {tail}".strip(), "labels": ["doxxing"], "kind": "doxxing_tpl"})
        venue = rng.choice(["Library", "Community Centre", "Church Hall", "Methodist Hall", "Civic Centre"])
        day = rng.choice(["Friday", "Saturday", "Monday evening", "next Tuesday"])
        pub = rng.choice([f"My surgery this {day} is at the {venue}, {n} {st}, {town} {pc}. All welcome.",
                          f"Advice surgery: {venue}, {n} {st}, {pc}, {day} 10–12. No appointment needed.",
                          f"Promoted by A. Singh on behalf of the candidate, both at {n} {st}, {town} {pc}."])
        rows.append({"text": pub, "labels": [], "kind": "hard_public_contact_tpl"})
    sport = ["We're going to kill them in the {h}", "We'll murder them {w}", "Gonna destroy you at {g} tonight",
             "headshot him in {g}", "We'll batter them {w}", "I'll kill you at {g} later 😂"]
    for _ in range(40):
        t = rng.choice(sport).format(h=rng.choice(["second half", "first half", "derby"]),
                                      w=rng.choice(["on Saturday", "in the cup", "at five-a-side"]),
                                      g=rng.choice(["FIFA", "Warzone", "Fortnite", "darts", "pool", "the pub quiz"]))
        rows.append({"text": t, "labels": [], "kind": "hard_sport_tpl"})
    metaphor = ["We will {v} them at the {p}", "They'll be {vp} at the {p}", "Let's {v} the Tories at the {p}"]
    for _ in range(40):
        t = rng.choice(metaphor).format(v=rng.choice(["crush", "slaughter", "destroy", "bury", "hammer", "wipe out"]),
                                        vp=rng.choice(["slaughtered", "crushed", "annihilated", "murdered", "wiped out"]),
                                        p=rng.choice(["ballot box", "polls", "next election", "count", "by-election"]))
        rows.append({"text": t, "labels": [], "kind": "hard_metaphor_tpl"})
    return rows


def main():
    rows = read_raw()
    seen = set()
    train, evl = [], []
    for r in rows:
        key = r["text"].lower()
        if key in seen:
            continue
        seen.add(key)
        h = int(hashlib.sha256(r["text"].encode()).hexdigest(), 16)
        (evl if h % 5 == 0 else train).append(r)
    rng = random.Random(20240704)
    for r in templated(rng):
        if r["text"].lower() not in seen:
            seen.add(r["text"].lower())
            train.append(r)
    rng.shuffle(train)
    for name, data in (("train", train), ("eval", evl)):
        with open(ROOT / "data" / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for r in data:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    def summary(data):
        pos = sum(1 for r in data if r["labels"])
        hard = sum(1 for r in data if not r["labels"] and r["kind"].startswith("hard_"))
        return f"{len(data)} lines, {pos} positive, {hard} hard negatives"
    print("train:", summary(train))
    print("eval: ", summary(evl))

    # holdout/ was written by us later, in a different voice; holdout2/ to
    # holdout5/ by independent writers who never saw the training data (w5,
    # w9, w20 and w26, each picked before its text was read). long/ (w42,
    # stop 16) is long letters only, 150-650 words: benign ones with
    # dangerous-looking words inside, and threats buried after at least 100
    # words, to measure reading in windows. long2/ (w43, the threat
    # anywhere) and long3/ (w44) likewise, measured once at the end of stop
    # 16, while long/ was used to choose how to read long letters. None of
    # them is trained on.
    for folder in ("holdout", "holdout2", "holdout3", "holdout4", "holdout5", "long", "long2", "long3"):
        hold = read_holdout(ROOT / "data" / folder, folder)
        with open(ROOT / "data" / f"{folder}.jsonl", "w", encoding="utf-8") as f:
            for r in hold:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"{folder}:", summary(hold))

    # panel/wN/: eight more independent writers (w34-w41) written in stop 15
    # to measure the committed detector on many unseen writers at once; not
    # trained on in the stop they were written. panel2/wN/: three more
    # (w48-w50), written in stop 21 after its heads were chosen. panel3/wN/:
    # two more (w57, w58), written in stop 24 to the brief and never
    # trained on. Kinds end in `_wN`.
    for name in ("panel", "panel2", "panel3"):
        panel = []
        for folder in sorted((ROOT / "data" / name).iterdir(), key=lambda p: int(p.name[1:])):
            for path in sorted(folder.glob("*.txt")):
                panel += read_file(path, f"{path.stem}_{folder.name}")
        with open(ROOT / "data" / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for r in panel:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"{name}:", summary(panel))


def read_holdout(folder, suffix):
    """Like read_raw, but kinds are `<stem>_<suffix>` (`hard_<suffix>` for
    the negatives)."""
    hold = []
    for path in sorted(folder.glob("*.txt")):
        kind = f"hard_{suffix}" if path.stem == "hard_negatives" else f"{path.stem}_{suffix}"
        hold += read_file(path, kind)
    return hold


if __name__ == "__main__":
    main()
