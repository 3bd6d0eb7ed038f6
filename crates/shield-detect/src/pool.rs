//! The detector's pooled features computed straight from the encoder's
//! output rows, at inference time.
//!
//! [`crate::model::pool_features`] builds the same four poolings from
//! differentiable candle ops, which adapter training needs; at inference
//! those ops (a broadcast, a sum, a max, a narrow, norms and a concatenation,
//! each allocating) cost about a twentieth of the encoder's time. Here
//! each sequence's features are one pass over its rows. A test checks both
//! agree.
use crate::model::POOLINGS;

/// `deep` and `early`: `(batch, len, hidden)` states, row-major; `real`:
/// each sequence's count of real tokens, which come first (padding is at
/// the end, as [`crate::model::pad`] lays it out). Returns each sequence's
/// `hidden · 4` features in [`POOLINGS`] order.
pub(crate) fn pool_rows(
    deep: &[f32],
    early: &[f32],
    real: &[usize],
    len: usize,
    hidden: usize,
) -> Vec<Vec<f32>> {
    let per_seq = len * hidden;
    real.iter()
        .enumerate()
        .map(|(b, &n)| {
            let deep = &deep[b * per_seq..][..per_seq];
            let early = &early[b * per_seq..][..per_seq];
            let mut out = Vec::with_capacity(hidden * POOLINGS.len());
            out.extend(normalised_mean(deep, n, hidden));
            // Padding counts as -1e9, as in `pool_features`, so it never
            // wins unless nothing is real.
            let mut max = vec![f32::NEG_INFINITY; hidden];
            for (t, row) in deep.chunks_exact(hidden).enumerate() {
                let pad = if t < n { 0.0 } else { -1e9 };
                for (m, &v) in max.iter_mut().zip(row) {
                    *m = m.max(v + pad);
                }
            }
            out.extend(max);
            out.extend_from_slice(&deep[..hidden]);
            out.extend(normalised_mean(early, n, hidden));
            out
        })
        .collect()
}

/// Mean of the first `n` rows, L2-normalised, with `masked_mean`'s guards
/// against empty sequences and zero vectors.
fn normalised_mean(rows: &[f32], n: usize, hidden: usize) -> Vec<f32> {
    let mut sum = vec![0f32; hidden];
    for row in rows.chunks_exact(hidden).take(n) {
        for (s, &v) in sum.iter_mut().zip(row) {
            *s += v;
        }
    }
    let count = (n as f32).max(1e-9);
    for s in sum.iter_mut() {
        *s /= count;
    }
    let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
    for s in sum.iter_mut() {
        *s /= norm;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn pool_rows_matches_pool_features() {
        let dev = Device::Cpu;
        let (b, len, h) = (3, 6, 10);
        let real = [6, 2, 1];
        let deep = Tensor::randn(0f32, 1.0, (b, len, h), &dev).unwrap();
        let early = Tensor::randn(0f32, 1.0, (b, len, h), &dev).unwrap();
        let mask: Vec<f32> = real
            .iter()
            .flat_map(|&n| (0..len).map(move |t| if t < n { 1.0 } else { 0.0 }))
            .collect();
        let mask = Tensor::from_vec(mask, (b, len), &dev).unwrap();
        let want = crate::model::pool_features(&deep, &early, &mask)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let got = pool_rows(&flat(&deep), &flat(&early), &real, len, h);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.len(), 4 * h);
            for (x, y) in g.iter().zip(w) {
                assert!((x - y).abs() < 1e-6, "{x} vs {y}");
            }
        }
    }
}
