//! Adapting the encoder to the task: low-rank adapters (LoRA) on the top
//! feature layers, trained end to end through the same pooling the detector
//! uses and a small head.
//!
//! Why: heads on the frozen encoder plateaued. Hidden sizes, L2 settings,
//! seed ensembles and more training writers moved threat recall at a 5%
//! hard-negative rate on held-out writers only within 0.70–0.78, because
//! the frozen features place a veiled threat and a hard negative that
//! shares its words close together. Letting the last feature layers move
//! is what separates them.
//!
//! Only the adapters are kept: for each adapted layer and each of its four
//! linear maps a pair of rank-`r` matrices `B·A`, about 49,000 numbers a
//! layer at rank 8 against 1.8 million in the layer. [`crate::heads::Heads`]
//! carries them, and loading merges `W + s·B·A` into the encoder's weights
//! once, so an adapted detector runs exactly as fast as the plain one.
//! The layers below the adapted ones are frozen, so their states are
//! computed once and reused every epoch.
use candle_core::{D, Device, Tensor, Var};
use candle_nn::{LayerNorm, Linear, Optimizer};
use serde::{Deserialize, Serialize};

use crate::bert::{FastBert, attention_mask};
use crate::error::DetectError;
use crate::model::{Embedder, FEATURE_LAYERS, pad, plan_batches, pool_features};
use crate::rules;
use crate::train::{Example, HeadVars, SplitMix, adamw, balanced_targets, shuffle, teaches};

/// One low-rank update `scale · B·A` of a `(outputs, inputs)` weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lora {
    /// (rank, inputs)
    pub a: Vec<Vec<f32>>,
    /// (outputs, rank)
    pub b: Vec<Vec<f32>>,
}

impl Lora {
    /// The full-size update, `scale · B·A`.
    pub(crate) fn delta(&self, scale: f32) -> candle_core::Result<Tensor> {
        let v = LoraVars::from_lora(self)?;
        v.b.as_tensor().matmul(v.a.as_tensor())? * f64::from(scale)
    }
}

/// The adapters of one encoder layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerAdapter {
    /// Encoder layer, 1-based.
    pub layer: usize,
    /// The fused query/key/value map (query rows already carry the
    /// attention scale, see [`crate::bert`]).
    pub qkv: Lora,
    pub attn_out: Lora,
    pub inter: Lora,
    pub out: Lora,
}

/// Everything needed to turn the published encoder into the adapted one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adapters {
    pub rank: usize,
    /// `alpha / rank`, the factor on every `B·A`.
    pub scale: f32,
    pub layers: Vec<LayerAdapter>,
    /// Mean class-weighted loss of each training epoch (without the L2
    /// term), to see that training converged.
    #[serde(default)]
    pub epoch_losses: Vec<f32>,
    /// How they were trained.
    #[serde(default)]
    pub notes: String,
}

impl Adapters {
    /// The average of several sets of adapters for the same layers: the
    /// update `Σ scaleᵢ·Bᵢ·Aᵢ / n`, held exactly as one low-rank pair of the
    /// summed rank (the `A`s stacked, the `B`s side by side carrying their
    /// scale and `1/n`), so it is merged like any other and costs nothing
    /// at detection.
    ///
    /// Why: a "weight soup" of runs that differ only in their seeds. Each
    /// run lands somewhere different in a flat region, and on writers none
    /// of them saw, single runs disagreed by more than the changes being
    /// compared (README, stop 18).
    pub fn average(sets: &[Adapters]) -> Result<Adapters, DetectError> {
        let Some(first) = sets.first() else {
            return Err(DetectError::Training("no adapters to average".into()));
        };
        let layers_of = |a: &Adapters| a.layers.iter().map(|l| l.layer).collect::<Vec<_>>();
        if let Some(odd) = sets.iter().find(|a| layers_of(a) != layers_of(first)) {
            return Err(DetectError::InvalidHeads(format!(
                "cannot average adapters on layers {:?} with adapters on layers {:?}",
                layers_of(first),
                layers_of(odd)
            )));
        }
        let n = sets.len() as f32;
        let join = |pick: fn(&LayerAdapter) -> &Lora, layer: usize| -> Lora {
            let mut a = Vec::new();
            let mut b: Vec<Vec<f32>> = Vec::new();
            for set in sets {
                let lora = pick(&set.layers[layer]);
                a.extend(lora.a.iter().cloned());
                let factor = set.scale / n;
                for (row, out) in lora.b.iter().enumerate() {
                    if b.len() <= row {
                        b.push(Vec::new());
                    }
                    b[row].extend(out.iter().map(|x| x * factor));
                }
            }
            Lora { a, b }
        };
        let layers = (0..first.layers.len())
            .map(|i| LayerAdapter {
                layer: first.layers[i].layer,
                qkv: join(|l| &l.qkv, i),
                attn_out: join(|l| &l.attn_out, i),
                inter: join(|l| &l.inter, i),
                out: join(|l| &l.out, i),
            })
            .collect();
        Ok(Adapters {
            rank: sets.iter().map(|a| a.rank).sum(),
            scale: 1.0,
            layers,
            epoch_losses: Vec::new(),
            notes: format!(
                "the average of {} sets of adapters: {}",
                sets.len(),
                sets.iter()
                    .map(|a| a.notes.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        })
    }
}

/// Knobs for [`adapt`].
#[derive(Debug, Clone)]
pub struct AdaptOptions {
    /// Passes over the training examples.
    pub epochs: usize,
    pub learning_rate: f32,
    pub rank: usize,
    /// Adapter strength: updates are scaled by `alpha / rank`.
    pub alpha: f32,
    /// How many layers, counting down from the feature layer, get adapters.
    /// The earlier pooled layer ([`FEATURE_LAYERS`]) must lie below them.
    pub layers: usize,
    /// Hidden units of the head trained alongside (then thrown away: the
    /// committed heads are retrained on the adapted features).
    pub hidden: usize,
    /// L2 penalty on the head's weights.
    pub l2: f32,
    /// Mixed into the fixed seeds of the initial values and the batch
    /// order; 0 reproduces the committed adapters' run. Different seeds give
    /// the members of an averaged set ([`Adapters::average`]).
    pub seed: u64,
}

impl Default for AdaptOptions {
    fn default() -> Self {
        AdaptOptions {
            epochs: 4,
            learning_rate: 1e-3,
            rank: 8,
            alpha: 16.0,
            layers: 2,
            hidden: 32,
            l2: 1.0,
            seed: 0,
        }
    }
}

struct LoraVars {
    a: Var,
    b: Var,
}

impl LoraVars {
    /// `A` small and random, `B` zero: training starts from the unadapted
    /// encoder.
    fn new(
        rng: &mut SplitMix,
        rank: usize,
        lin: &Linear,
        dev: &Device,
    ) -> candle_core::Result<Self> {
        let (outputs, inputs) = lin.weight().dims2()?;
        let bound = 1.0 / (inputs as f32).sqrt();
        let a: Vec<f32> = (0..rank * inputs).map(|_| rng.unit() * bound).collect();
        Ok(LoraVars {
            a: Var::from_tensor(&Tensor::from_vec(a, (rank, inputs), dev)?)?,
            b: Var::zeros((outputs, rank), candle_core::DType::F32, dev)?,
        })
    }

    /// Fixed (not trained) values from a stored adapter.
    fn from_lora(lora: &Lora) -> candle_core::Result<Self> {
        let dev = Device::Cpu;
        let rank = lora.a.len();
        let inputs = lora.a.first().map_or(0, Vec::len);
        Ok(LoraVars {
            a: Var::from_tensor(&Tensor::from_vec(lora.a.concat(), (rank, inputs), &dev)?)?,
            b: Var::from_tensor(&Tensor::from_vec(
                lora.b.concat(),
                (lora.b.len(), rank),
                &dev,
            )?)?,
        })
    }

    fn forward(&self, x: &Tensor, lin: &Linear, scale: f64) -> candle_core::Result<Tensor> {
        let mut y = x.matmul(&lin.weight().t()?)?;
        if let Some(bias) = lin.bias() {
            y = y.broadcast_add(bias)?;
        }
        let low = x
            .matmul(&self.a.as_tensor().t()?)?
            .matmul(&self.b.as_tensor().t()?)?;
        y + (low * scale)?
    }

    fn to_lora(&self) -> candle_core::Result<Lora> {
        Ok(Lora {
            a: self.a.as_tensor().to_vec2()?,
            b: self.b.as_tensor().to_vec2()?,
        })
    }

    fn vars(&self) -> [Var; 2] {
        [self.a.clone(), self.b.clone()]
    }
}

struct LayerVars {
    /// 0-based encoder layer.
    index: usize,
    qkv: LoraVars,
    attn_out: LoraVars,
    inter: LoraVars,
    out: LoraVars,
}

fn layer_norm(x: &Tensor, ln: &LayerNorm, eps: f64) -> candle_core::Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
    let y = centred
        .broadcast_div(&(var + eps)?.sqrt()?)?
        .broadcast_mul(ln.weight())?;
    match ln.bias() {
        Some(b) => y.broadcast_add(b),
        None => Ok(y),
    }
}

impl LayerVars {
    /// The layer's forward pass with its adapters, from differentiable
    /// operations only (the inference path fuses and approximates some of
    /// them; a test checks both agree when the adapters are zero).
    fn forward(
        &self,
        enc: &FastBert,
        x: &Tensor,
        mask_add: &Tensor,
        (b, len): (usize, usize),
        scale: f64,
    ) -> candle_core::Result<Tensor> {
        let (heads, head_dim, hidden, eps) = enc.shape();
        let l = enc.layer(self.index);
        let qkv = self.qkv.forward(x, &l.qkv, scale)?;
        let split = |i: usize| -> candle_core::Result<Tensor> {
            qkv.narrow(1, i * hidden, hidden)?
                .reshape((b, len, heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let (q, k, v) = (split(0)?, split(1)?, split(2)?);
        let scores = q.matmul(&k.t()?)?.broadcast_add(mask_add)?;
        let top = scores.max_keepdim(D::Minus1)?.detach();
        let e = scores.broadcast_sub(&top)?.exp()?;
        let probs = e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?;
        let ctx = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b * len, hidden))?;
        let attn = layer_norm(
            &(self.attn_out.forward(&ctx, &l.attn_out, scale)? + x)?,
            &l.attn_ln,
            eps,
        )?;
        let inter = self.inter.forward(&attn, &l.inter, scale)?.gelu_erf()?;
        layer_norm(
            &(self.out.forward(&inter, &l.out, scale)? + &attn)?,
            &l.out_ln,
            eps,
        )
    }
}

/// One length-sorted batch with the frozen layers already run.
struct Batch {
    /// Which texts, in order.
    group: Vec<usize>,
    /// State after the last frozen layer, (b·len, hidden).
    x: Tensor,
    /// State of the earlier pooled layer, (b, len, hidden).
    early: Tensor,
    mask: Tensor,
    mask_add: Tensor,
    rule: Tensor,
    shape: (usize, usize),
}

/// Tokenises `texts`, batches them by length and runs the frozen layers
/// (up to `first`, and the earlier pooled layer `early`) once.
fn prepare(
    embedder: &Embedder,
    texts: &[&str],
    first: usize,
    early: usize,
) -> Result<Vec<Batch>, AdaptError> {
    let enc = embedder.encoder();
    let dev = Device::Cpu;
    let hidden = enc.shape().2;
    let ids = embedder.tokenize(texts)?;
    let lens: Vec<usize> = ids.iter().map(Vec::len).collect();
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| lens[i]);
    let mut batches = Vec::new();
    for group in plan_batches(&order, &lens) {
        let seqs: Vec<&[u32]> = group.iter().map(|&i| ids[i].as_slice()).collect();
        let (tok, mask) = pad(&seqs, &dev)?;
        let (b, len) = tok.dims2()?;
        let states = enc.forward_states(&tok, &mask, &[first, early])?;
        let rule: Vec<f32> = group
            .iter()
            .flat_map(|&i| rules::check(texts[i]).features())
            .collect();
        batches.push(Batch {
            x: states[0].reshape((b * len, hidden))?,
            early: states[1].clone(),
            mask_add: attention_mask(&mask)?,
            mask,
            rule: Tensor::from_vec(rule, (b, rules::RULE_FEATURES), &dev)?,
            shape: (b, len),
            group,
        });
    }
    Ok(batches)
}

/// The last frozen layer (1-based) when adapting `layers` layers, and the
/// feature layers (deep, early) clamped to the encoder's depth.
fn frozen_prefix(enc: &FastBert, layers: usize) -> Result<(usize, usize, usize), DetectError> {
    let (deep, early) = FEATURE_LAYERS;
    let deep = deep.min(enc.depth());
    let early = early.min(enc.depth());
    let first = deep.saturating_sub(layers.max(1));
    if early > first || first == 0 {
        return Err(DetectError::Training(format!(
            "cannot adapt {layers} layers below layer {deep}: the earlier pooled layer {early} must stay frozen"
        )));
    }
    Ok((first, deep, early))
}

/// The pooled features of `texts` computed the way training computes them
/// (through the adapters, with differentiable operations), without the
/// rule features. For checking that training and the merged encoder agree.
pub fn training_features(
    embedder: &Embedder,
    adapters: &Adapters,
    texts: &[&str],
) -> Result<Vec<Vec<f32>>, DetectError> {
    let go = || -> Result<Vec<Vec<f32>>, AdaptError> {
        let enc = embedder.encoder();
        let (first, deep, early) = frozen_prefix(enc, adapters.layers.len())?;
        // The training path runs the adapted layers in order straight after
        // the frozen ones; anything else is not what training produced.
        let expected: Vec<usize> = (first + 1..=deep).collect();
        let got: Vec<usize> = adapters.layers.iter().map(|a| a.layer).collect();
        if got != expected {
            return Err(DetectError::InvalidHeads(format!(
                "adapters for encoder layers {got:?}, but training adapts {expected:?}"
            ))
            .into());
        }
        let layers = adapters
            .layers
            .iter()
            .map(|a| {
                Ok(LayerVars {
                    index: a.layer - 1,
                    qkv: LoraVars::from_lora(&a.qkv)?,
                    attn_out: LoraVars::from_lora(&a.attn_out)?,
                    inter: LoraVars::from_lora(&a.inter)?,
                    out: LoraVars::from_lora(&a.out)?,
                })
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        let mut out = vec![Vec::new(); texts.len()];
        for batch in prepare(embedder, texts, first, early)? {
            let f = features(enc, &layers, &batch, f64::from(adapters.scale))?;
            let pooled = f.narrow(1, 0, f.dim(1)? - rules::RULE_FEATURES)?;
            for (row, &i) in pooled.to_vec2::<f32>()?.into_iter().zip(&batch.group) {
                out[i] = row;
            }
        }
        Ok(out)
    };
    go().map_err(AdaptError::into_detect)
}

/// The pooled features of a batch through the adapted layers, with the
/// rule features appended: (b, 4·hidden + rule features).
fn features(
    enc: &FastBert,
    layers: &[LayerVars],
    batch: &Batch,
    scale: f64,
) -> candle_core::Result<Tensor> {
    let (b, len) = batch.shape;
    let mut x = batch.x.clone();
    for l in layers {
        x = l.forward(enc, &x, &batch.mask_add, batch.shape, scale)?;
    }
    let (_, _, hidden, _) = enc.shape();
    let deep = x.reshape((b, len, hidden))?;
    Tensor::cat(
        &[
            pool_features(&deep, &batch.early, &batch.mask)?,
            batch.rule.clone(),
        ],
        1,
    )
}

/// Trains adapters for `embedder` on `examples` (see the module docs).
/// Deterministic: initial values and batch order come from fixed seeds.
pub fn adapt(
    embedder: &Embedder,
    examples: &[Example],
    opts: &AdaptOptions,
) -> Result<Adapters, DetectError> {
    run(embedder, examples, opts).map_err(AdaptError::into_detect)
}

enum AdaptError {
    Detect(DetectError),
    Candle(candle_core::Error),
}

impl AdaptError {
    fn into_detect(self) -> DetectError {
        match self {
            AdaptError::Detect(e) => e,
            AdaptError::Candle(e) => DetectError::Training(format!("adapting the encoder: {e}")),
        }
    }
}

impl From<candle_core::Error> for AdaptError {
    fn from(e: candle_core::Error) -> Self {
        AdaptError::Candle(e)
    }
}

impl From<DetectError> for AdaptError {
    fn from(e: DetectError) -> Self {
        AdaptError::Detect(e)
    }
}

fn run(
    embedder: &Embedder,
    examples: &[Example],
    opts: &AdaptOptions,
) -> Result<Adapters, AdaptError> {
    let enc = embedder.encoder();
    let dev = Device::Cpu;
    let (first, deep, early) = frozen_prefix(enc, opts.layers)?;
    if examples.is_empty() {
        return Err(DetectError::Training("no training examples".into()).into());
    }

    // Frozen prefix, once.
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let batches = prepare(embedder, &texts, first, early)?;
    let labels: Vec<[bool; 4]> = examples
        .iter()
        .map(|e| crate::Label::ALL.map(|l| e.has(l)))
        .collect();
    let taught: Vec<[bool; 4]> = examples.iter().map(teaches).collect();
    let (targets, weights) = balanced_targets(&labels, &taught);
    let pick = |v: &[f32], group: &[usize]| -> candle_core::Result<Tensor> {
        let rows: Vec<f32> = group
            .iter()
            .flat_map(|&i| v[i * 4..i * 4 + 4].to_vec())
            .collect();
        Tensor::from_vec(rows, (group.len(), 4), &dev)
    };
    let goals: Vec<(Tensor, Tensor)> = batches
        .iter()
        .map(|b| Ok((pick(&targets, &b.group)?, pick(&weights, &b.group)?)))
        .collect::<candle_core::Result<_>>()?;

    let mut rng = SplitMix(0x0000_ada9_7ed5 ^ opts.seed);
    let rank = opts.rank.max(1);
    let mut layers = Vec::new();
    for index in first..deep {
        let l = enc.layer(index);
        layers.push(LayerVars {
            index,
            qkv: LoraVars::new(&mut rng, rank, &l.qkv, &dev)?,
            attn_out: LoraVars::new(&mut rng, rank, &l.attn_out, &dev)?,
            inter: LoraVars::new(&mut rng, rank, &l.inter, &dev)?,
            out: LoraVars::new(&mut rng, rank, &l.out, &dev)?,
        });
    }
    let scale = f64::from(opts.alpha) / rank as f64;

    // Standardise the head's inputs by the unadapted features (B starts at
    // zero, so this pass is the plain encoder).
    let initial: Vec<Tensor> = batches
        .iter()
        // Detached: otherwise every batch's graph of activations is kept.
        .map(|b| features(enc, &layers, b, scale).map(|t| t.detach()))
        .collect::<candle_core::Result<_>>()?;
    let all = Tensor::cat(&initial, 0)?;
    drop(initial);
    let mean = all.mean_keepdim(0)?;
    let std = all
        .broadcast_sub(&mean)?
        .sqr()?
        .mean_keepdim(0)?
        .sqrt()?
        .clamp(1e-6, f32::MAX)?;
    let d = all.dim(1)?;
    drop(all);

    let h = opts.hidden.max(1);
    let head = HeadVars::new(&mut rng, d, h, &dev)?;
    let mut vars = head.vars();
    for l in &layers {
        for lv in [&l.qkv, &l.attn_out, &l.inter, &l.out] {
            vars.extend(lv.vars());
        }
    }
    let mut opt = adamw(vars, opts.learning_rate)?;
    let mut rng = SplitMix(0x5b0f_f1e5 ^ opts.seed.rotate_left(17));
    let mut order: Vec<usize> = (0..batches.len()).collect();
    let mut losses = Vec::new();
    for _ in 0..opts.epochs {
        let mut epoch_loss = 0f32;
        shuffle(&mut order, &mut rng);
        for &bi in &order {
            let x = features(enc, &layers, &batches[bi], scale)?
                .broadcast_sub(&mean)?
                .broadcast_div(&std)?;
            let (y, w) = &goals[bi];
            let (data, total) = head.loss(&x, y, w, opts.l2)?;
            epoch_loss += data.to_scalar::<f32>()? / batches.len() as f32;
            opt.backward_step(&total)?;
        }
        losses.push(epoch_loss);
    }

    let mut out = Vec::new();
    for l in &layers {
        out.push(LayerAdapter {
            layer: l.index + 1,
            qkv: l.qkv.to_lora()?,
            attn_out: l.attn_out.to_lora()?,
            inter: l.inter.to_lora()?,
            out: l.out.to_lora()?,
        });
    }
    Ok(Adapters {
        rank,
        scale: scale as f32,
        layers: out,
        epoch_losses: losses,
        notes: format!(
            "rank {rank}, alpha {}, layers {}..={deep}, AdamW lr {} for {} epochs on {} examples, head of {} hidden units (l2 {}) trained alongside, seed {}",
            opts.alpha,
            first + 1,
            opts.learning_rate,
            opts.epochs,
            examples.len(),
            h,
            opts.l2,
            opts.seed
        ),
    })
}
