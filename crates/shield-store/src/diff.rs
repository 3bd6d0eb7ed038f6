//! Comparing a file's rows with what is stored, so imports write only what changed and can
//! say exactly what they did.

use std::collections::HashMap;
use std::hash::Hash;

/// The rows a file brings, sorted into new, changed and unchanged against the stored rows.
#[derive(Debug)]
pub(crate) struct Diff<'a, R> {
    pub new: Vec<&'a R>,
    pub changed: Vec<&'a R>,
    pub unchanged: u64,
}

pub(crate) fn diff<'a, K, R>(
    existing: &HashMap<K, R>,
    incoming: &'a [R],
    key: impl Fn(&R) -> K,
) -> Diff<'a, R>
where
    K: Eq + Hash,
    R: PartialEq,
{
    let mut out = Diff {
        new: Vec::new(),
        changed: Vec::new(),
        unchanged: 0,
    };
    for row in incoming {
        match existing.get(&key(row)) {
            None => out.new.push(row),
            Some(stored) if stored == row => out.unchanged += 1,
            Some(_) => out.changed.push(row),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_rows() {
        let existing: HashMap<u8, (u8, &str)> = [(1, (1, "a")), (2, (2, "b"))].into();
        let incoming = [(1, "a"), (2, "B"), (3, "c")];
        let d = diff(&existing, &incoming, |r| r.0);
        assert_eq!(d.unchanged, 1);
        assert_eq!(d.changed, vec![&(2, "B")]);
        assert_eq!(d.new, vec![&(3, "c")]);
    }
}
