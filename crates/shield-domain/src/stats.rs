use serde::Serialize;

/// What `shield stats --json` prints; the field order is the documented key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Stats {
    pub constituencies: u64,
    pub forces: u64,
    pub constituency_forces: u64,
    pub cross_force_constituencies: u64,
    pub candidates: u64,
    pub candidates_without_force: u64,
}
