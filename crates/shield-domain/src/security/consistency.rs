//! The consistency view: how decisions fall by rating and by force, so a coordinator can see
//! whether similar risks get similar answers. Pure counting over (force, rating, decision).

use std::collections::BTreeMap;

use serde::Serialize;

use super::assessment::Rating;
use super::decision::Outcome;

/// Counts of each decision, with their share of the total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DecisionCounts {
    pub approve: u64,
    pub approve_in_part: u64,
    pub decline: u64,
}

impl DecisionCounts {
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Approve => self.approve += 1,
            Outcome::ApproveInPart => self.approve_in_part += 1,
            Outcome::Decline => self.decline += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.approve + self.approve_in_part + self.decline
    }

    /// Whole percent of the total (0 when there are none).
    pub fn percent(&self, o: Outcome) -> u64 {
        let n = match o {
            Outcome::Approve => self.approve,
            Outcome::ApproveInPart => self.approve_in_part,
            Outcome::Decline => self.decline,
        };
        match self.total() {
            0 => 0,
            t => (n * 100 + t / 2) / t,
        }
    }
}

/// One row of a table: a label and its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsistencyRow {
    pub key: String,
    pub counts: DecisionCounts,
}

/// Decisions by rating, by force, and by force within each rating.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Consistency {
    pub by_rating: Vec<ConsistencyRow>,
    pub by_force: Vec<ConsistencyRow>,
    /// (rating, force) → counts, for spotting one force answering a rating unlike the rest.
    pub by_rating_and_force: Vec<(String, ConsistencyRow)>,
    pub total: DecisionCounts,
}

impl Consistency {
    /// Counts decided requests: `(force code, rating, decision)` each.
    pub fn count<'a>(decided: impl IntoIterator<Item = (&'a str, Rating, Outcome)>) -> Self {
        let mut by_rating: BTreeMap<Rating, DecisionCounts> = BTreeMap::new();
        let mut by_force: BTreeMap<String, DecisionCounts> = BTreeMap::new();
        let mut both: BTreeMap<(Rating, String), DecisionCounts> = BTreeMap::new();
        let mut total = DecisionCounts::default();
        for (force, rating, outcome) in decided {
            by_rating.entry(rating).or_default().add(outcome);
            by_force.entry(force.to_owned()).or_default().add(outcome);
            both.entry((rating, force.to_owned()))
                .or_default()
                .add(outcome);
            total.add(outcome);
        }
        Self {
            by_rating: Rating::ALL
                .iter()
                .map(|r| ConsistencyRow {
                    key: r.key().to_owned(),
                    counts: by_rating.get(r).copied().unwrap_or_default(),
                })
                .collect(),
            by_force: by_force
                .into_iter()
                .map(|(key, counts)| ConsistencyRow { key, counts })
                .collect(),
            by_rating_and_force: both
                .into_iter()
                .map(|((r, f), counts)| (r.key().to_owned(), ConsistencyRow { key: f, counts }))
                .collect(),
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_percentages_round() {
        let rows = [
            ("E23000029", Rating::High, Outcome::Approve),
            ("E23000029", Rating::High, Outcome::Approve),
            ("E23000028", Rating::High, Outcome::Decline),
            ("E23000028", Rating::Low, Outcome::Decline),
        ];
        let c = Consistency::count(rows);
        assert_eq!(c.total.total(), 4);
        let high = c.by_rating.iter().find(|r| r.key == "high").unwrap();
        assert_eq!(high.counts.approve, 2);
        assert_eq!(high.counts.percent(Outcome::Approve), 67);
        assert_eq!(high.counts.percent(Outcome::Decline), 33);
        assert_eq!(c.by_rating.len(), 4, "every rating is listed");
        let sum: u64 = c.by_force.iter().map(|r| r.counts.total()).sum();
        assert_eq!(sum, 4);
        assert_eq!(c.by_rating_and_force.len(), 3);
        assert_eq!(DecisionCounts::default().percent(Outcome::Approve), 0);
    }
}
