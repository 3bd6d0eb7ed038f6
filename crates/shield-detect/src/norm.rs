//! The residual add and layer norm that close each half of an encoder
//! layer, fused into one in-place pass at inference time.
//!
//! Why: candle computes `LayerNorm(y + x)` as an add that allocates a new
//! matrix and then a norm that allocates another, spreading rows of 384
//! numbers over rayon one task per row. With each batch already on its
//! own core ([`crate::model`]) that was two extra passes over memory and
//! a rayon task per row. Here each row is summed and normalised where it
//! lies, in loops compiled for the CPU's vector instructions (`pulp`).
//! The arithmetic is candle's (mean and mean square in one pass); the sums
//! run in eight lanes, so results differ from candle's in the last bits
//! (a test checks they agree).
use candle_core::{CpuStorage, InplaceOp2, Layout, Result, bail};
use candle_nn::LayerNorm;
use rayon::prelude::*;

/// `y ← LayerNorm(y + x)` row by row, for `y` and `x` of shape `(m, n)`.
pub(crate) struct AddNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl AddNorm {
    /// The norm's own weights, with the model's epsilon (candle's
    /// `LayerNorm` keeps its epsilon private).
    pub fn new(ln: &LayerNorm, eps: f64) -> Result<Self> {
        let weight: Vec<f32> = ln.weight().to_vec1()?;
        let bias = match ln.bias() {
            Some(b) => b.to_vec1()?,
            None => vec![0.0; weight.len()],
        };
        if bias.len() != weight.len() {
            bail!(
                "layer norm of {} with a bias of {}",
                weight.len(),
                bias.len()
            );
        }
        Ok(AddNorm {
            weight,
            bias,
            eps: eps as f32,
        })
    }
}

impl InplaceOp2 for AddNorm {
    fn name(&self) -> &'static str {
        "add-norm"
    }

    fn cpu_fwd(&self, y: &mut CpuStorage, yl: &Layout, x: &CpuStorage, xl: &Layout) -> Result<()> {
        let (CpuStorage::F32(y), CpuStorage::F32(x)) = (y, x) else {
            bail!("add-norm supports f32 only");
        };
        let (Some((y0, y1)), Some((x0, x1))) = (yl.contiguous_offsets(), xl.contiguous_offsets())
        else {
            bail!("add-norm needs contiguous inputs");
        };
        let n = self.weight.len();
        if yl.shape() != xl.shape() || yl.shape().dims().last() != Some(&n) {
            bail!(
                "add-norm of width {n} got {:?} and {:?}",
                yl.shape().dims(),
                xl.shape().dims()
            );
        }
        // Rows shared out one block per thread of the pool we run in (one
        // block on a batch's own core, see [`crate::model`]).
        let rows = (y1 - y0) / n.max(1);
        let block = rows.div_ceil(rayon::current_num_threads()).max(1) * n;
        if block > 0 {
            y[y0..y1]
                .par_chunks_mut(block)
                .zip(x[x0..x1].par_chunks(block))
                .for_each(|(y, x)| pulp::Arch::new().dispatch(Rows { norm: self, y, x }));
        }
        Ok(())
    }
}

/// A block of rows as one `pulp` operation (see [`crate::attention`]).
struct Rows<'a> {
    norm: &'a AddNorm,
    y: &'a mut [f32],
    x: &'a [f32],
}

impl pulp::WithSimd for Rows<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Rows { norm, y, x } = self;
        let n = norm.weight.len();
        for (y, x) in y.chunks_exact_mut(n).zip(x.chunks_exact(n)) {
            let mut sum = [0f32; 8];
            let mut sum2 = [0f32; 8];
            for (yc, xc) in y.chunks_exact_mut(8).zip(x.chunks_exact(8)) {
                for l in 0..8 {
                    let v = yc[l] + xc[l];
                    yc[l] = v;
                    sum[l] += v;
                    sum2[l] += v * v;
                }
            }
            let done = n - n % 8;
            let (mut s, mut s2) = (0f32, 0f32);
            for (yv, xv) in y[done..].iter_mut().zip(&x[done..]) {
                *yv += xv;
                s += *yv;
                s2 += *yv * *yv;
            }
            let s = sum.iter().sum::<f32>() + s;
            let s2 = sum2.iter().sum::<f32>() + s2;
            let mean = s / n as f32;
            let var = s2 / n as f32 - mean * mean;
            let inv_std = (var + norm.eps).sqrt().recip();
            for ((v, w), b) in y.iter_mut().zip(&norm.weight).zip(&norm.bias) {
                *v = (*v - mean) * inv_std * w + b;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Module, Tensor};

    #[test]
    fn add_norm_matches_candle() {
        let dev = Device::Cpu;
        // A width with a tail past the eight lanes, and the model's.
        for (m, n) in [(3, 13), (37, 384)] {
            let ln = LayerNorm::new(
                Tensor::randn(1f32, 0.1, n, &dev).unwrap(),
                Tensor::randn(0f32, 0.1, n, &dev).unwrap(),
                1e-12,
            );
            let y = Tensor::randn(0f32, 2.0, (m, n), &dev).unwrap();
            let x = Tensor::randn(0.5f32, 1.0, (m, n), &dev).unwrap();
            let want: Vec<f32> = ln
                .forward(&(&y + &x).unwrap())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let got = y.copy().unwrap();
            got.inplace_op2(&x, &AddNorm::new(&ln, 1e-12).unwrap())
                .unwrap();
            let got: Vec<f32> = got.flatten_all().unwrap().to_vec1().unwrap();
            let worst = crate::test_util::max_abs_diff(&want, &got);
            assert!(worst < 1e-5, "({m}, {n}): differs by {worst}");
        }
    }

    #[test]
    fn add_norm_rejects_the_wrong_width() {
        let dev = Device::Cpu;
        let ln = LayerNorm::new(
            Tensor::ones(4, candle_core::DType::F32, &dev).unwrap(),
            Tensor::zeros(4, candle_core::DType::F32, &dev).unwrap(),
            1e-5,
        );
        let y = Tensor::zeros((2, 5), candle_core::DType::F32, &dev).unwrap();
        let err = y
            .inplace_op2(&y.copy().unwrap(), &AddNorm::new(&ln, 1e-5).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("add-norm of width 4"), "{err}");
    }
}
