//! A lean BERT encoder for inference, numerically equivalent to
//! `candle_transformers::models::bert::BertModel` (a test checks this).
//!
//! Why not use `BertModel` directly: profiling at MiniLM shapes showed
//! candle's exact-erf GELU costing about as much as the feed-forward matmul
//! it follows. Here GELU uses a rational erf approximation (max error
//! ~1e-7, the Eigen/XLA one) applied in place and vectorised; Q, K and V
//! are fused into one matmul; the attention scale is folded into the
//! query weights at load time; the four linear maps of each layer run
//! through rten-gemm with weights packed once ([`crate::dense`]), which
//! halves their cost against candle's matmul; and attention and the
//! residual add with its layer norm are single passes over the rows
//! ([`crate::attention`], [`crate::norm`]) instead of chains of small
//! allocating candle ops.
use candle_core::{CpuStorage, DType, InplaceOp1, Layout, Module, Result, Tensor, bail};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use candle_transformers::models::bert::Config;
use rayon::prelude::*;

use crate::attention::Attention;
use crate::dense::Dense;
use crate::norm::AddNorm;

/// One encoder layer. Q, K and V are one fused linear map whose query rows
/// already carry the attention scale, so an adapter trained on `qkv` (see
/// [`crate::adapt`]) is merged into exactly these weights.
pub(crate) struct Layer {
    pub qkv: Linear,
    pub attn_out: Linear,
    pub attn_ln: LayerNorm,
    pub inter: Linear,
    pub out: Linear,
    pub out_ln: LayerNorm,
    /// The same four maps packed for inference ([`crate::dense`]); rebuilt
    /// whenever the weights above change.
    fast: Fast,
}

struct Fast {
    qkv: Dense,
    attn_out: Dense,
    attn_ln: AddNorm,
    inter: Dense,
    out: Dense,
    out_ln: AddNorm,
}

impl Fast {
    /// `maps`: qkv, attn_out, inter, out; `norms`: attn_ln, out_ln.
    fn pack(maps: [&Linear; 4], norms: [&LayerNorm; 2], eps: f64) -> Result<Self> {
        let ([qkv, attn_out, inter, out], [attn_ln, out_ln]) = (maps, norms);
        Ok(Fast {
            qkv: Dense::new(qkv)?,
            attn_out: Dense::new(attn_out)?,
            attn_ln: AddNorm::new(attn_ln, eps)?,
            inter: Dense::new(inter)?,
            out: Dense::new(out)?,
            out_ln: AddNorm::new(out_ln, eps)?,
        })
    }
}

/// Encoder weights and shape.
pub(crate) struct FastBert {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    emb_ln: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_dim: usize,
    hidden: usize,
    eps: f64,
}

fn linear(vb: &VarBuilder, din: usize, dout: usize) -> Result<(Tensor, Tensor)> {
    Ok((vb.get((dout, din), "weight")?, vb.get(dout, "bias")?))
}

fn layer_norm(vb: VarBuilder, h: usize, eps: f64) -> Result<LayerNorm> {
    Ok(LayerNorm::new(
        vb.get(h, "weight")?,
        vb.get(h, "bias")?,
        eps,
    ))
}

impl FastBert {
    pub fn load(vb: VarBuilder, cfg: &Config) -> Result<Self> {
        // Some checkpoints prefix every name with "bert.".
        let vb = if vb.contains_tensor("embeddings.word_embeddings.weight") {
            vb
        } else {
            vb.pp("bert")
        };
        let h = cfg.hidden_size;
        let heads = cfg.num_attention_heads;
        if !h.is_multiple_of(heads) {
            bail!("hidden size {h} is not divisible by {heads} heads");
        }
        let head_dim = h / heads;
        let e = vb.pp("embeddings");
        let emb = |name: &str, n: usize| -> Result<Embedding> {
            Ok(Embedding::new(e.get((n, h), &format!("{name}.weight"))?, h))
        };
        let word = emb("word_embeddings", cfg.vocab_size)?;
        let position = emb("position_embeddings", cfg.max_position_embeddings)?;
        let token_type = emb("token_type_embeddings", cfg.type_vocab_size)?;
        let emb_ln = layer_norm(e.pp("LayerNorm"), h, cfg.layer_norm_eps)?;

        let scale = 1.0 / (head_dim as f64).sqrt();
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let a = l.pp("attention");
            let (qw, qb) = linear(&a.pp("self").pp("query"), h, h)?;
            let (kw, kb) = linear(&a.pp("self").pp("key"), h, h)?;
            let (vw, vbias) = linear(&a.pp("self").pp("value"), h, h)?;
            let qkv_w = Tensor::cat(&[(qw * scale)?, kw, vw], 0)?;
            let qkv_b = Tensor::cat(&[(qb * scale)?, kb, vbias], 0)?;
            let (ow, ob) = linear(&a.pp("output").pp("dense"), h, h)?;
            let (iw, ib) = linear(&l.pp("intermediate").pp("dense"), h, cfg.intermediate_size)?;
            let (fw, fb) = linear(&l.pp("output").pp("dense"), cfg.intermediate_size, h)?;
            let qkv = Linear::new(qkv_w, Some(qkv_b));
            let attn_out = Linear::new(ow, Some(ob));
            let inter = Linear::new(iw, Some(ib));
            let out = Linear::new(fw, Some(fb));
            let attn_ln = layer_norm(a.pp("output").pp("LayerNorm"), h, cfg.layer_norm_eps)?;
            let out_ln = layer_norm(l.pp("output").pp("LayerNorm"), h, cfg.layer_norm_eps)?;
            layers.push(Layer {
                fast: Fast::pack(
                    [&qkv, &attn_out, &inter, &out],
                    [&attn_ln, &out_ln],
                    cfg.layer_norm_eps,
                )?,
                qkv,
                attn_out,
                attn_ln,
                inter,
                out,
                out_ln,
            });
        }
        Ok(FastBert {
            word,
            position,
            token_type,
            emb_ln,
            layers,
            heads,
            head_dim,
            hidden: h,
            eps: cfg.layer_norm_eps,
        })
    }

    /// Layer `i` (0-based), for training adapters on it.
    pub(crate) fn layer(&self, i: usize) -> &Layer {
        &self.layers[i]
    }

    /// (attention heads, size of one head, hidden size, layer-norm epsilon).
    pub(crate) fn shape(&self) -> (usize, usize, usize, f64) {
        (self.heads, self.head_dim, self.hidden, self.eps)
    }

    /// Adds each adapter's low-rank update into its layer's weights, so an
    /// adapted encoder runs exactly as fast as the original. Every update is
    /// computed before any is applied, so a mismatched adapter leaves the
    /// encoder as it was.
    pub(crate) fn merge(&mut self, adapters: &crate::adapt::Adapters) -> Result<()> {
        let mut merged = Vec::new();
        for a in &adapters.layers {
            let Some(i) = a.layer.checked_sub(1).filter(|&i| i < self.layers.len()) else {
                bail!(
                    "adapter for encoder layer {} but the model has {} layers",
                    a.layer,
                    self.layers.len()
                );
            };
            let layer = &self.layers[i];
            let add = |lin: &Linear, lora: &crate::adapt::Lora| -> Result<Linear> {
                let delta = lora.delta(adapters.scale)?;
                Ok(Linear::new((lin.weight() + delta)?, lin.bias().cloned()))
            };
            let (qkv, attn_out, inter, out) = (
                add(&layer.qkv, &a.qkv)?,
                add(&layer.attn_out, &a.attn_out)?,
                add(&layer.inter, &a.inter)?,
                add(&layer.out, &a.out)?,
            );
            let fast = Fast::pack(
                [&qkv, &attn_out, &inter, &out],
                [&layer.attn_ln, &layer.out_ln],
                self.eps,
            )?;
            merged.push((i, qkv, attn_out, inter, out, fast));
        }
        for (i, qkv, attn_out, inter, out, fast) in merged {
            let layer = &mut self.layers[i];
            (layer.qkv, layer.attn_out, layer.inter, layer.out) = (qkv, attn_out, inter, out);
            layer.fast = fast;
        }
        Ok(())
    }

    /// `ids`: (batch, len) u32; `mask`: (batch, len) f32 of 1/0.
    /// Returns the last hidden state, (batch, len, hidden).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        Ok(self
            .forward_states(ids, mask, &[self.layers.len()])?
            .pop()
            .expect("the last layer's state"))
    }

    /// Number of encoder layers.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// Runs the encoder only as deep as the deepest layer in `keep`
    /// (1-based, at most [`FastBert::depth`]) and returns the hidden state
    /// after each layer in `keep`, in that order, (batch, len, hidden) each.
    /// Layers past the deepest one asked for are never computed.
    pub fn forward_states(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        keep: &[usize],
    ) -> Result<Vec<Tensor>> {
        let depth = keep
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .min(self.layers.len());
        let (b, len) = ids.dims2()?;
        let dev = ids.device();
        let positions = Tensor::arange(0u32, len as u32, dev)?;
        let x = self
            .word
            .forward(ids)?
            .broadcast_add(&self.position.forward(&positions)?)?
            .broadcast_add(
                &self
                    .token_type
                    .forward(&Tensor::zeros(1, DType::U32, dev)?)?,
            )?;
        let mut x = self.emb_ln.forward(&x)?.reshape((b * len, self.hidden))?;
        let mask = mask.to_dtype(DType::F32)?.contiguous()?;
        let attention = Attention {
            heads: self.heads,
            head_dim: self.head_dim,
        };

        let mut states: Vec<(usize, Tensor)> = Vec::new();
        for (i, layer) in self.layers[..depth].iter().enumerate() {
            let qkv = x.apply_op1_no_bwd(&layer.fast.qkv)?; // (b*len, 3h)
            let ctx = qkv.apply_op2_no_bwd(&mask, &attention)?; // (b*len, h)
            let attn = ctx.apply_op1_no_bwd(&layer.fast.attn_out)?;
            attn.inplace_op2(&x, &layer.fast.attn_ln)?;
            let inter = attn.apply_op1_no_bwd(&layer.fast.inter)?;
            inter.inplace_op1(&FastGelu)?;
            x = inter.apply_op1_no_bwd(&layer.fast.out)?;
            x.inplace_op2(&attn, &layer.fast.out_ln)?;
            if keep.contains(&(i + 1)) {
                states.push((i + 1, x.reshape((b, len, self.hidden))?));
            }
        }
        keep.iter()
            .map(|k| {
                states
                    .iter()
                    .find(|(i, _)| i == k)
                    .map(|(_, t)| t.clone())
                    .ok_or_else(|| candle_core::Error::Msg(format!("no encoder layer {k}")))
            })
            .collect()
    }
}

/// erf via the rational approximation used by Eigen and XLA; inputs are
/// clamped to [-4, 4], beyond which erf is ±1 in single precision.
#[inline(always)]
pub(crate) fn fast_erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10_f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 - 2.101_024e-6;
    p = p * x2 - 5.692_506_4e-5;
    p = p * x2 - 7.349_906_3e-4;
    p = p * x2 - 2.954_6e-3;
    p = p * x2 - 1.609_603_3e-2;
    let mut q = -1.456_607_2e-5_f32;
    q = q * x2 - 2.133_740_6e-4;
    q = q * x2 - 1.682_827e-3;
    q = q * x2 - 7.373_329e-3;
    q = q * x2 - 1.426_474e-2;
    x * p / q
}

/// Exact-form GELU, 0.5·x·(1 + erf(x/√2)), computed in place.
struct FastGelu;

impl InplaceOp1 for FastGelu {
    fn name(&self) -> &'static str {
        "fast-gelu"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("fast-gelu needs a contiguous tensor");
        };
        let CpuStorage::F32(data) = storage else {
            bail!("fast-gelu supports f32 only");
        };
        // One task per thread of the pool we run in: a batch already on
        // its own core ([`crate::model`]) is not split further, and a lone
        // message's activations are shared across the cores.
        let data = &mut data[start..end];
        let chunk = data
            .len()
            .div_ceil(rayon::current_num_threads())
            .max(GELU_MIN_CHUNK);
        data.par_chunks_mut(chunk)
            .for_each(|chunk| pulp::Arch::new().dispatch(Gelu(chunk)));
        Ok(())
    }
}

/// Below this many elements a second task costs more than it saves.
const GELU_MIN_CHUNK: usize = 1 << 14;

/// GELU over a slice as a `pulp` operation, so the loop is compiled for
/// the CPU's vector instructions (the crate targets baseline x86-64).
struct Gelu<'a>(&'a mut [f32]);

impl pulp::WithSimd for Gelu<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        for v in self.0.iter_mut() {
            let x = *v;
            *v = 0.5 * x * (1.0 + fast_erf(x * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

/// The additive attention mask for a (batch, len) 0/1 token mask: 0 for real
/// tokens and a large negative for padding, shaped (batch, 1, 1, len) to
/// broadcast over heads and queries. Shared by inference and adapter training
/// so both mask padding identically.
pub(crate) fn attention_mask(mask: &Tensor) -> Result<Tensor> {
    let (b, len) = mask.dims2()?;
    (mask.ones_like()? - mask)?
        .affine(-1e9, 0.0)?
        .reshape((b, 1, 1, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_erf_matches_reference_values() {
        // erf values from standard tables.
        for (x, want) in [
            (0.0f32, 0.0f32),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (2.0, 0.995_322_3),
            (-1.0, -0.842_700_8),
            (5.0, 1.0),
        ] {
            assert!(
                (fast_erf(x) - want).abs() < 1e-6,
                "erf({x}) = {} want {want}",
                fast_erf(x)
            );
        }
    }
}
