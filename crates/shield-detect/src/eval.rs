//! Evaluation: per-label precision, recall and F1 at the operating
//! threshold, the safety figures the project tracks (threat recall and
//! hard-negative false alarms), and a precision-recall curve drawn as a
//! self-contained SVG so reports need no plotting stack.
use serde::Serialize;

use crate::detector::{Analysis, Detector, OPERATING_THRESHOLD, REVIEW_THRESHOLD};
use crate::label::Label;
use crate::train::Example;

/// One point of a precision-recall curve.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PrPoint {
    pub threshold: f32,
    pub precision: f32,
    pub recall: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabelMetrics {
    pub label: Label,
    pub support: usize,
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    pub curve: Vec<PrPoint>,
}

/// A misclassified example, for error analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub text: String,
    pub kind: String,
    pub expected: Vec<Label>,
    pub got: Vec<Label>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub examples: usize,
    pub per_label: Vec<LabelMetrics>,
    /// Share of examples with either threat label that got either threat label.
    pub threat_recall: f32,
    pub hard_negatives: usize,
    /// Share of hard negatives flagged with a threat label.
    pub hard_negative_threat_rate: f32,
    /// Share of hard negatives flagged as doxxing.
    pub hard_negative_doxxing_rate: f32,
    /// Share of hard negatives flagged with any label.
    pub hard_negative_any_rate: f32,
    /// Threat recall counting the messages put up for a second look
    /// ([`Analysis::review`]) as found.
    pub threat_recall_with_review: f32,
    /// Share of hard negatives flagged as a threat or put up for a look.
    pub hard_negative_threat_or_review_rate: f32,
    pub misses: Vec<Miss>,
}

fn ratio(a: usize, b: usize) -> f32 {
    if b == 0 { 0.0 } else { a as f32 / b as f32 }
}

/// Runs the detector over `examples` (batched) and scores the results.
pub fn evaluate(detector: &Detector, examples: &[Example]) -> Report {
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let analyses = detector.analyse_batch(&texts);
    score(examples, &analyses)
}

/// Scores precomputed analyses against gold labels.
pub fn score(examples: &[Example], analyses: &[Analysis]) -> Report {
    let mut per_label = Vec::new();
    for label in Label::ALL {
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        let mut scored: Vec<(f32, bool)> = Vec::new();
        for (e, a) in examples.iter().zip(analyses) {
            let gold = e.has(label);
            let pred = a.labels.contains(&label);
            match (pred, gold) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                _ => {}
            }
            scored.push((a.scores.get(label), gold));
        }
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        per_label.push(LabelMetrics {
            label,
            support: tp + fn_,
            tp,
            fp,
            fn_,
            precision,
            recall,
            f1,
            curve: pr_curve(&scored),
        });
    }

    let threat = |ls: &[Label]| ls.iter().any(|l| l.is_threat());
    let threats: Vec<usize> = (0..examples.len())
        .filter(|&i| threat(&examples[i].labels))
        .collect();
    let caught = threats
        .iter()
        .filter(|&&i| threat(&analyses[i].labels))
        .count();
    let seen = |a: &Analysis| threat(&a.labels) || !a.review.is_empty();
    let caught_or_review = threats.iter().filter(|&&i| seen(&analyses[i])).count();
    let hard: Vec<usize> = (0..examples.len())
        .filter(|&i| examples[i].is_hard_negative())
        .collect();
    let hn_threat = hard
        .iter()
        .filter(|&&i| threat(&analyses[i].labels))
        .count();
    let hn_dox = hard
        .iter()
        .filter(|&&i| analyses[i].labels.contains(&Label::Doxxing))
        .count();
    let hn_review = hard.iter().filter(|&&i| seen(&analyses[i])).count();
    let hn_any = hard
        .iter()
        .filter(|&&i| !analyses[i].labels.is_empty())
        .count();

    let misses = examples
        .iter()
        .zip(analyses)
        .filter(|(e, a)| {
            let mut g = e.labels.clone();
            g.sort();
            let mut p = a.labels.clone();
            p.sort();
            g != p
        })
        .map(|(e, a)| Miss {
            text: e.text.clone(),
            kind: e.kind.clone(),
            expected: e.labels.clone(),
            got: a.labels.clone(),
        })
        .collect();

    Report {
        examples: examples.len(),
        per_label,
        threat_recall: ratio(caught, threats.len()),
        hard_negatives: hard.len(),
        hard_negative_threat_rate: ratio(hn_threat, hard.len()),
        hard_negative_doxxing_rate: ratio(hn_dox, hard.len()),
        hard_negative_any_rate: ratio(hn_any, hard.len()),
        threat_recall_with_review: ratio(caught_or_review, threats.len()),
        hard_negative_threat_or_review_rate: ratio(hn_review, hard.len()),
        misses,
    }
}

/// Precision and recall at each distinct score, highest first.
fn pr_curve(scored: &[(f32, bool)]) -> Vec<PrPoint> {
    let mut s = scored.to_vec();
    s.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = s.iter().filter(|(_, g)| *g).count();
    let mut out = Vec::new();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < s.len() {
        let t = s[i].0;
        while i < s.len() && s[i].0 == t {
            if s[i].1 {
                tp += 1
            } else {
                fp += 1
            }
            i += 1;
        }
        out.push(PrPoint {
            threshold: t,
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, positives),
        });
    }
    out
}

impl Report {
    /// A plain-text table for terminals and the README.
    pub fn to_text(&self) -> String {
        let mut s = format!("examples: {}\n", self.examples);
        s += "label              support  precision  recall  f1\n";
        for m in &self.per_label {
            s += &format!(
                "{:<18} {:>7}  {:>9.3}  {:>6.3}  {:.3}\n",
                m.label.as_str(),
                m.support,
                m.precision,
                m.recall,
                m.f1
            );
        }
        s += &format!(
            "threat recall (either threat label): {:.3}\n",
            self.threat_recall
        );
        s += &format!(
            "hard negatives: {}; flagged as threat {:.1}%, as doxxing {:.1}%, any label {:.1}%\n",
            self.hard_negatives,
            100.0 * self.hard_negative_threat_rate,
            100.0 * self.hard_negative_doxxing_rate,
            100.0 * self.hard_negative_any_rate
        );
        s += &format!(
            "with the second look (threat scores from {REVIEW_THRESHOLD} on messages read whole): threat recall {:.3}, hard negatives flagged or put up {:.1}%\n",
            self.threat_recall_with_review,
            100.0 * self.hard_negative_threat_or_review_rate
        );
        s
    }
}

const COLOURS: [&str; 4] = ["#c0392b", "#8e44ad", "#2471a3", "#d68910"];

/// Draws every label's precision-recall curve on one chart, marking the
/// operating point (score 0.5). Hand-written SVG: no plotting dependency.
pub fn render_pr_svg(report: &Report) -> String {
    let (w, h, m) = (640.0f32, 480.0f32, 60.0f32);
    let pw = w - 2.0 * m;
    let ph = h - 2.0 * m;
    let x = |r: f32| m + r * pw;
    let y = |p: f32| h - m - p * ph;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">Precision-recall by label ({} examples)</text>\n",
        w / 2.0,
        report.examples
    );
    for i in 0..=10 {
        let v = i as f32 / 10.0;
        s += &format!(
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e5e5e5\"/>\n<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e5e5e5\"/>\n",
            x(v),
            y(0.0),
            x(v),
            y(1.0),
            x(0.0),
            y(v),
            x(1.0),
            y(v)
        );
        s += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{v:.1}</text>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v:.1}</text>\n",
            x(v),
            h - m + 18.0,
            m - 6.0,
            y(v) + 4.0
        );
    }
    s += &format!(
        "<rect x=\"{m}\" y=\"{m}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#333\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">recall</text>\n<text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">precision</text>\n",
        w / 2.0,
        h - 16.0,
        h / 2.0,
        h / 2.0
    );
    for (k, lm) in report.per_label.iter().enumerate() {
        let c = COLOURS[k % COLOURS.len()];
        if !lm.curve.is_empty() {
            let mut pts = format!("{:.1},{:.1}", x(0.0), y(lm.curve[0].precision));
            for p in &lm.curve {
                pts += &format!(" {:.1},{:.1}", x(p.recall), y(p.precision));
            }
            s += &format!(
                "<polyline points=\"{pts}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>\n"
            );
            if let Some(op) = lm
                .curve
                .iter()
                .rev()
                .find(|p| p.threshold >= OPERATING_THRESHOLD)
            {
                s += &format!(
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{c}\"><title>{} operating point: P {:.2} R {:.2}</title></circle>\n",
                    x(op.recall),
                    y(op.precision),
                    lm.label,
                    op.precision,
                    op.recall
                );
            }
        }
        let ly = m + 16.0 + 18.0 * k as f32;
        s += &format!(
            "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{c}\" stroke-width=\"3\"/>\n<text x=\"{:.1}\" y=\"{:.1}\">{} (P {:.2} R {:.2} F1 {:.2})</text>\n",
            x(0.03),
            x(0.09),
            x(0.10),
            ly + 4.0,
            lm.label,
            lm.precision,
            lm.recall,
            lm.f1
        );
    }
    s += "</svg>\n";
    s
}
