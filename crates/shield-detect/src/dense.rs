//! The encoder's linear maps at inference time, through rten-gemm.
//!
//! Why not candle's own matmul: at MiniLM's shapes (a few hundred to a few
//! thousand token rows against 384×384 … 1536×384 weights) rten-gemm's
//! AVX-512 kernel, with the weights packed once at load time and the bias
//! added inside the kernel, takes about half the time of candle's
//! `x.matmul(w.t()) + b` on this project's 2-core host, with the same f32
//! arithmetic (results agree to ~1e-5; a test checks it). Training keeps
//! candle's `Linear`, which carries gradients.
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, bail};
use candle_nn::Linear;
use rten_gemm::{BiasVector, GemmExecutor, GemmInputA, GemmInputB, GemmOptions, PackedBMatrix};
use rten_tensor::NdTensorView;

thread_local! {
    /// The executor picks the best kernel for this CPU (AVX-512, AVX2+FMA or
    /// generic). It is not `Sync`, so each thread has its own; all pick the
    /// same kernel, and rten-gemm checks that packed weights match it.
    static EXEC: GemmExecutor<f32> = GemmExecutor::default();
}

/// A linear map `y = x·Wᵀ + b` with `W` prepacked for this CPU's kernel
/// (see `EXEC`).
pub(crate) struct Dense {
    packed: PackedBMatrix<f32>,
    bias: Vec<f32>,
    din: usize,
    dout: usize,
}

impl Dense {
    /// Packs a candle `Linear` (weight `(out, in)`, optional bias).
    pub fn new(lin: &Linear) -> Result<Self> {
        let (dout, din) = lin.weight().dims2()?;
        let w: Vec<f32> = lin.weight().flatten_all()?.to_vec1()?;
        let bias = match lin.bias() {
            Some(b) => b.to_vec1()?,
            None => vec![0.0; dout],
        };
        if bias.len() != dout {
            bail!("bias of {} for a map to {dout}", bias.len());
        }
        let w = NdTensorView::from_data([dout, din], w.as_slice());
        let packed = EXEC.with(|exec| exec.prepack_b(w.transposed()));
        Ok(Dense {
            packed,
            bias,
            din,
            dout,
        })
    }
}

impl CustomOp1 for Dense {
    fn name(&self) -> &'static str {
        "dense-rten"
    }

    /// `storage` is an (m, din) f32 matrix; returns (m, dout).
    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(data) = storage else {
            bail!("dense supports f32 only");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("dense needs a contiguous input");
        };
        let (m, k) = layout.shape().dims2()?;
        if k != self.din {
            bail!("dense expects {} inputs, got {k}", self.din);
        }
        let a = NdTensorView::from_data([m, k], &data[start..end]);
        let mut out = vec![0f32; m * self.dout];
        EXEC.with(|exec| {
            exec.gemm(
                &mut out,
                GemmInputA::Unpacked(a),
                GemmInputB::Packed(&self.packed),
                GemmOptions {
                    bias: Some(BiasVector::Row(&self.bias)),
                    ..Default::default()
                },
            )
        })
        .map_err(|e| candle_core::Error::Msg(format!("dense: {e}")))?;
        Ok((CpuStorage::F32(out), Shape::from((m, self.dout))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Module, Tensor};

    #[test]
    fn dense_matches_candle_linear() {
        let dev = Device::Cpu;
        for (m, din, dout) in [(1, 8, 16), (37, 384, 1152), (5, 1536, 384)] {
            let x = Tensor::randn(0f32, 1.0, (m, din), &dev).unwrap();
            let w = Tensor::randn(0f32, 0.05, (dout, din), &dev).unwrap();
            let b = Tensor::randn(0f32, 1.0, dout, &dev).unwrap();
            let lin = Linear::new(w, Some(b));
            let want: Vec<f32> = lin
                .forward(&x)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let dense = Dense::new(&lin).unwrap();
            let got = x.apply_op1_no_bwd(&dense).unwrap();
            assert_eq!(got.dims(), &[m, dout]);
            let got: Vec<f32> = got.flatten_all().unwrap().to_vec1().unwrap();
            let worst = crate::test_util::max_abs_diff(&want, &got);
            assert!(worst < 1e-4, "{m}×{din}→{dout}: differs by {worst}");
        }
    }

    #[test]
    fn dense_rejects_the_wrong_width() {
        let dev = Device::Cpu;
        let lin = Linear::new(
            Tensor::zeros((4, 3), candle_core::DType::F32, &dev).unwrap(),
            None,
        );
        let dense = Dense::new(&lin).unwrap();
        let x = Tensor::zeros((2, 5), candle_core::DType::F32, &dev).unwrap();
        let err = x.apply_op1_no_bwd(&dense).unwrap_err().to_string();
        assert!(err.contains("expects 3 inputs, got 5"), "{err}");
    }
}
