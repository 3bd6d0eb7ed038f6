//! Helpers shared by the unit tests of the fast inference ops, each of
//! which is checked against the candle code it replaces.

/// The largest absolute difference between two equally long slices.
pub(crate) fn max_abs_diff(want: &[f32], got: &[f32]) -> f32 {
    assert_eq!(want.len(), got.len(), "lengths differ");
    want.iter()
        .zip(got)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max)
}
