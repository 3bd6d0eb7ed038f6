//! Self-attention at inference time, read straight from the fused QKV
//! matrix.
//!
//! Why not candle's ops: at this project's batch sizes (a few short
//! messages of 10-60 tokens per forward pass) candle's path copied Q, K and
//! V into head-major layout, ran two small batched matmuls, allocated the
//! masked scores and their softmax, and copied the context back, about
//! eight passes over memory per layer that cost more than the arithmetic
//! (a tenth of the encoder's time in a profile). Here one pass per query
//! computes its scores, softmax and context from the QKV rows in place.
//! The loops are compiled for the CPU's vector instructions at run time
//! (`pulp`'s dispatch), since the crate is built for baseline x86-64.
//! Adapter training keeps candle's differentiable path ([`crate::adapt`]);
//! a test checks both agree.
use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, bail};
use rayon::prelude::*;

/// Scaled dot-product attention over a `(batch · len, 3 · hidden)` QKV
/// matrix (queries already scaled) with a `(batch, len)` 0/1 mask of real
/// tokens; returns the `(batch · len, hidden)` context, heads side by side.
pub(crate) struct Attention {
    pub heads: usize,
    pub head_dim: usize,
}

/// Masked keys get this added to their score, as in
/// [`crate::bert::attention_mask`]: their weight underflows to exactly 0.
const MASKED: f32 = -1e9;

impl CustomOp2 for Attention {
    fn name(&self) -> &'static str {
        "attention"
    }

    fn cpu_fwd(
        &self,
        qkv: &CpuStorage,
        qkv_layout: &Layout,
        mask: &CpuStorage,
        mask_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(qkv), CpuStorage::F32(mask)) = (qkv, mask) else {
            bail!("attention supports f32 only");
        };
        let (Some((q0, q1)), Some((m0, m1))) = (
            qkv_layout.contiguous_offsets(),
            mask_layout.contiguous_offsets(),
        ) else {
            bail!("attention needs contiguous inputs");
        };
        let (rows, width) = qkv_layout.shape().dims2()?;
        let (batch, len) = mask_layout.shape().dims2()?;
        let hidden = self.heads * self.head_dim;
        if width != 3 * hidden || rows != batch * len {
            bail!(
                "attention expects ({}, {}) for a ({batch}, {len}) mask, got ({rows}, {width})",
                batch * len,
                3 * hidden
            );
        }
        let (qkv, mask) = (&qkv[q0..q1], &mask[m0..m1]);
        let d = self.head_dim;
        // One task per sequence and head, so a single message still uses
        // every core; each head's context is copied into place after.
        let heads: Vec<Vec<f32>> = (0..batch * self.heads)
            .into_par_iter()
            .map(|u| {
                let (b, h) = (u / self.heads, u % self.heads);
                let mut ctx = vec![0f32; len * d];
                pulp::Arch::new().dispatch(Head {
                    attention: self,
                    h,
                    ctx: &mut ctx,
                    qkv: &qkv[b * len * width..][..len * width],
                    mask: &mask[b * len..][..len],
                });
                ctx
            })
            .collect();
        let mut out = vec![0f32; rows * hidden];
        for (u, ctx) in heads.iter().enumerate() {
            let (b, h) = (u / self.heads, u % self.heads);
            for (i, row) in ctx.chunks_exact(d).enumerate() {
                out[(b * len + i) * hidden + h * d..][..d].copy_from_slice(row);
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((rows, hidden))))
    }
}

/// One head of one sequence, as a `pulp` operation: `dispatch` runs it
/// inside a function compiled for the best instruction set this CPU has,
/// and the `inline(always)` chain below carries the loops into that
/// function.
struct Head<'a> {
    attention: &'a Attention,
    h: usize,
    ctx: &'a mut [f32],
    qkv: &'a [f32],
    mask: &'a [f32],
}

impl pulp::WithSimd for Head<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        self.attention.head(self.h, self.ctx, self.qkv, self.mask);
    }
}

impl Attention {
    /// Head `h` of one sequence: `qkv` is the sequence's `(len, 3 · hidden)`
    /// rows, `ctx` receives the head's `(len, head_dim)` context. The inner
    /// loops run along keys or along the head's dimensions, never reducing
    /// across a vector, so they compile to straight vector multiply-adds.
    #[inline(always)]
    fn head(&self, h: usize, ctx: &mut [f32], qkv: &[f32], mask: &[f32]) {
        let (d, len) = (self.head_dim, mask.len());
        let hidden = self.heads * d;
        let width = 3 * hidden;
        // Rows of keys padded to whole blocks of BLOCK, so every block is
        // full (the padding keys are zero and their scores are dropped).
        let stride = len.next_multiple_of(BLOCK);
        let bias: Vec<f32> = mask.iter().map(|m| (1.0 - m) * MASKED).collect();
        // The head's keys transposed, (d, stride).
        let mut keys = vec![0f32; d * stride];
        let mut p = vec![0f32; stride];
        let (qo, ko, vo) = (h * d, hidden + h * d, 2 * hidden + h * d);
        for j in 0..len {
            for (t, &k) in qkv[j * width + ko..][..d].iter().enumerate() {
                keys[t * stride + j] = k;
            }
        }
        for i in 0..len {
            // Scores a block of keys at a time, the block's sums held
            // in registers across the head's dimensions.
            let q = &qkv[i * width + qo..][..d];
            for (jb, block) in p.chunks_exact_mut(BLOCK).enumerate() {
                let mut acc = [0f32; BLOCK];
                for (&qt, row) in q.iter().zip(keys.chunks_exact(stride)) {
                    for (a, &k) in acc.iter_mut().zip(&row[jb * BLOCK..][..BLOCK]) {
                        *a += qt * k;
                    }
                }
                block.copy_from_slice(&acc);
            }
            let p = &mut p[..len];
            // Softmax as candle computes it: subtract the max,
            // exponentiate, divide by the sum.
            for (s, &b) in p.iter_mut().zip(&bias) {
                *s += b;
            }
            let max = fold8(p, f32::NEG_INFINITY, f32::max);
            for s in p.iter_mut() {
                *s = exp(*s - max);
            }
            let sum = fold8(p, 0.0, |a, b| a + b);
            for s in p.iter_mut() {
                *s /= sum;
            }
            // The context a block of the head's dimensions at a time,
            // summed in registers across the keys.
            let ctx = &mut ctx[i * d..][..d];
            let mut blocks = ctx.chunks_exact_mut(BLOCK);
            for (cb, block) in blocks.by_ref().enumerate() {
                let mut acc = [0f32; BLOCK];
                for (j, &w) in p.iter().enumerate() {
                    let v = &qkv[j * width + vo + cb * BLOCK..][..BLOCK];
                    for (a, &v) in acc.iter_mut().zip(v) {
                        *a += w * v;
                    }
                }
                block.copy_from_slice(&acc);
            }
            let done = d - d % BLOCK;
            for (t, c) in blocks.into_remainder().iter_mut().enumerate() {
                *c = p
                    .iter()
                    .enumerate()
                    .map(|(j, &w)| w * qkv[j * width + vo + done + t])
                    .sum();
            }
        }
    }
}

/// Keys scored, or context values summed, together: sixteen f32s are two
/// AVX2 registers (one AVX-512), enough independent sums to hide the
/// latency of each add.
const BLOCK: usize = 16;

/// Folds `xs` with `f` in eight interleaved running values, combined at
/// the end, so the fold vectorises (one running value would force the
/// steps into sequence).
#[inline(always)]
fn fold8(xs: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; 8];
    let chunks = xs.chunks_exact(8);
    let tail = chunks.remainder().iter().fold(init, |a, &x| f(a, x));
    for c in chunks {
        for l in 0..8 {
            acc[l] = f(acc[l], c[l]);
        }
    }
    acc.into_iter().fold(tail, f)
}

/// e^x for x ≤ 0 (scores after the max is subtracted), within 2e-7
/// relative of `f32::exp`; exactly 0 below -87, where the true value is
/// under f32's normal range (masked keys sit near -1e9). Written with
/// plain arithmetic so a loop of it vectorises, which libm's `expf` call
/// does not: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor
/// polynomial, 2^n built in the exponent bits.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let xc = x.max(-87.0);
    let n = (xc * std::f32::consts::LOG2_E).round();
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut e = 1.0 / 5040.0;
    e = e * r + 1.0 / 720.0;
    e = e * r + 1.0 / 120.0;
    e = e * r + 1.0 / 24.0;
    e = e * r + 1.0 / 6.0;
    e = e * r + 0.5;
    e = e * r + 1.0;
    e = e * r + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    let v = e * scale;
    if x < -87.0 { 0.0 } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    /// candle's attention, as the encoder computed it before this op (and
    /// as adapter training still does).
    fn reference(qkv: &Tensor, mask: &Tensor, heads: usize, d: usize) -> Tensor {
        let (b, len) = mask.dims2().unwrap();
        let h = heads * d;
        let split = |i: usize| {
            qkv.narrow(1, i * h, h)
                .unwrap()
                .reshape((b, len, heads, d))
                .unwrap()
                .transpose(1, 2)
                .unwrap()
                .contiguous()
                .unwrap()
        };
        let (q, k, v) = (split(0), split(1), split(2));
        let scores = q
            .matmul(&k.t().unwrap())
            .unwrap()
            .broadcast_add(&crate::bert::attention_mask(mask).unwrap())
            .unwrap();
        candle_nn::ops::softmax_last_dim(&scores)
            .unwrap()
            .matmul(&v)
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .contiguous()
            .unwrap()
            .reshape((b * len, h))
            .unwrap()
    }

    #[test]
    fn attention_matches_candle() {
        let dev = Device::Cpu;
        // Head sizes with and without a tail past the eight-wide sums.
        for (b, len, heads, d, real) in [(3, 7, 12, 32, [7, 4, 2]), (2, 5, 3, 5, [5, 1, 0])] {
            let qkv = Tensor::randn(0f32, 1.0, (b * len, 3 * heads * d), &dev).unwrap();
            let mask: Vec<f32> = (0..b)
                .flat_map(|i| (0..len).map(move |t| if t < real[i] { 1.0 } else { 0.0 }))
                .collect();
            let mask = Tensor::from_vec(mask, (b, len), &dev).unwrap();
            let want: Vec<f32> = reference(&qkv, &mask, heads, d)
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let got = qkv
                .apply_op2_no_bwd(&mask, &Attention { heads, head_dim: d })
                .unwrap();
            assert_eq!(got.dims(), &[b * len, heads * d]);
            let got: Vec<f32> = got.flatten_all().unwrap().to_vec1().unwrap();
            let worst = crate::test_util::max_abs_diff(&want, &got);
            assert!(
                worst < 1e-5,
                "({b}, {len}, {heads}×{d}): differs by {worst}"
            );
        }
    }

    #[test]
    fn exp_matches_std() {
        let mut worst = 0f32;
        for i in 0..=100_000 {
            let x = -90.0 * i as f32 / 100_000.0;
            let (got, want) = (exp(x), x.exp());
            if x < -87.0 {
                assert_eq!(got, 0.0);
            } else {
                worst = worst.max((got - want).abs() / want);
            }
        }
        assert!(worst < 2e-7, "relative error {worst}");
        assert_eq!(exp(-1e9), 0.0);
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn attention_rejects_mismatched_shapes() {
        let dev = Device::Cpu;
        let qkv = Tensor::zeros((6, 3 * 8), candle_core::DType::F32, &dev).unwrap();
        let mask = Tensor::ones((2, 4), candle_core::DType::F32, &dev).unwrap();
        let err = qkv
            .apply_op2_no_bwd(
                &mask,
                &Attention {
                    heads: 2,
                    head_dim: 4,
                },
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("expects (8, 24)"), "{err}");
    }
}
