//! Tier 2: all-MiniLM-L6-v2 sentence embeddings with candle, on the CPU.
//!
//! Mean pooling over real (non-padding) tokens followed by L2
//! normalisation, exactly as sentence-transformers does, so the vectors
//! match what the model was trained to produce.
//!
//! Throughput comes from the batching strategy rather than from the model:
//! texts are tokenised once, sorted by token count and cut into batches of
//! similar length, so almost no compute is wasted on padding; identical
//! texts are embedded once; and each core takes whole batches in turn on a
//! one-thread pool of its own (see `lanes`), so nothing inside a batch
//! forks and joins. Most messages fit in [`MAX_TOKENS`] and
//! are read whole; the detector reads longer ones in short overlapping
//! windows ([`windows`]), and training reads the first [`MAX_TOKENS`].
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config;
use rayon::prelude::*;
use tokenizers::{Tokenizer, TruncationParams};

use crate::bert::FastBert;
use crate::error::DetectError;

/// Tokens kept per message (including `[CLS]` and `[SEP]`).
pub const MAX_TOKENS: usize = 128;
/// Tokens per window when a message is too long to read whole
/// ([`MAX_TOKENS`]). Shorter than the model allows on purpose: the heads
/// learned from messages of a few dozen tokens, and a threat at the end of
/// a 128-token window of casework is diluted below their threshold (a test
/// letter scored 0.09 in windows of 128 and over 0.5 in windows of 64 or 96).
pub const WINDOW_TOKENS: usize = 64;
/// Tokens consecutive windows share, so a sentence cut at one window's
/// edge is whole in the next (threats are rarely longer than 30 tokens).
pub const WINDOW_OVERLAP: usize = 32;
/// Windows a long message is read in, at most: 24 read about 800 tokens,
/// some 600 words, enough for the long letters fixated senders write, where
/// the threat may come last. Past that the rules still read everything and
/// the analysis says where the model stopped; the cap bounds what one
/// pasted message can cost (about twelve short messages' worth).
pub const MAX_WINDOWS: usize = 24;
/// Upper bound on `batch_size * padded_length` per forward pass. Measured
/// on 2 cores with the linear maps in rten-gemm (stop 22; the eval split
/// through `shield detect --jsonl`, medians of 2-7 runs): 128 tokens 10.3 s,
/// 256 10.8 s, 512 11.2 s, 2048 13.0 s, 4096 14.9 s, 64 11.6 s. Small batches keep a
/// layer's activations in the core's cache, and rten-gemm's per-call cost
/// is low. (With candle's matmul, 2048 had been best and 1024 and below
/// lost to per-call overhead.) A text longer than the budget runs alone.
const TOKEN_BUDGET: usize = 128;
/// Maximum texts in one forward pass.
const MAX_BATCH: usize = 64;

/// Something that turns texts into fixed-size, L2-normalised vectors.
/// Training and evaluation take this trait so tests can use a fake.
pub trait Embed: Sync {
    /// Length of a sentence embedding.
    fn dim(&self) -> usize;
    /// Sentence embeddings (what sentence-transformers computes).
    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, DetectError>;
    /// Length of the feature vectors the heads read.
    fn feature_dim(&self) -> usize {
        self.dim()
    }
    /// The feature vectors the heads read; by default the sentence
    /// embedding. [`Embedder`] returns several poolings (see
    /// [`POOLINGS`]), which generalised better to text written by others.
    fn features_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, DetectError> {
        self.embed_batch(texts)
    }
    /// The feature vectors of every window of every text (see
    /// [`MAX_WINDOWS`]); the first window is what [`Embed::features_batch`]
    /// returns. By default one window per text.
    fn window_features_batch(&self, texts: &[&str]) -> Result<Vec<Windows>, DetectError> {
        Ok(self
            .features_batch(texts)?
            .into_iter()
            .zip(texts)
            .map(|(f, t)| Windows {
                features: vec![f],
                ranges: vec![(0, t.len())],
                cut: false,
            })
            .collect())
    }
    /// Merges trained adapters into the encoder (see [`crate::adapt`]).
    /// Embedders without an encoder to adapt refuse.
    fn apply_adapters(&mut self, adapters: &crate::adapt::Adapters) -> Result<(), DetectError> {
        let _ = adapters;
        Err(DetectError::InvalidHeads(
            "the heads carry encoder adapters but this embedder cannot take them".into(),
        ))
    }
}

/// The encoder layer whose states the heads mainly read, and the one
/// whose mean they also read (1-based; clamped to the model's depth).
///
/// The detector runs all-MiniLM-L6-v2 only this deep: layers 5 and 6 are
/// never computed for detection, which makes the model tier about 1.5 times
/// faster. On text by two independent writers, heads on layer-4 features
/// matched heads on features that included layer 6 within the run-to-run
/// spread (recall at a 5% false-alarm rate 0.82 against 0.83 on one writer,
/// 0.65–0.71 against 0.70–0.72 on the other); layer 6 is tuned for topic
/// similarity, and intent survives in the middle layers. The sentence
/// embedding ([`Embed::embed_batch`]) still runs all six layers.
pub const FEATURE_LAYERS: (usize, usize) = (4, 2);

/// How [`Embedder::features_batch`] pools the encoder's states, in order;
/// each contributes `hidden` numbers. A sentence embedding averages a short
/// threatening clause away in a long message; max pooling keeps the
/// strongest token, and the earlier layer keeps more of the wording.
pub const POOLINGS: [&str; 4] = [
    "mean of the feature layer, normalised",
    "max of the feature layer",
    "[CLS] state of the feature layer",
    "mean of the earlier layer, normalised",
];

/// The features of one text read in windows.
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    /// One feature vector per window, in reading order.
    pub features: Vec<Vec<f32>>,
    /// The byte range of the text each window read; `(0, len)` for a text
    /// read whole. The detector runs the rules on each window's own text
    /// so the heads see the context flags of the words they are reading.
    pub ranges: Vec<(usize, usize)>,
    /// Whether the text went on past the last window.
    pub cut: bool,
}

/// Cuts a tokenised text (`[CLS] … [SEP]`) for reading. A text of at most
/// `max` tokens is one window, exactly as before windows existed, so short
/// messages score as they always did. A longer one becomes windows of
/// [`WINDOW_TOKENS`] (or `max` if smaller), each with its own `[CLS]` and
/// `[SEP]`, sharing [`WINDOW_OVERLAP`] tokens with the one before; at most
/// `max_windows`. Returns the windows and whether tokens were left unread.
pub fn windows(ids: &[u32], max: usize, max_windows: usize) -> (Vec<Vec<u32>>, bool) {
    let window = WINDOW_TOKENS.min(max);
    if ids.len() <= max || window <= 2 + WINDOW_OVERLAP {
        let mut first = ids.to_vec();
        let cut = first.len() > max;
        if cut {
            let sep = ids[ids.len() - 1];
            first.truncate(max.saturating_sub(1));
            first.push(sep);
        }
        return (vec![first], cut);
    }
    let (cls, sep) = (ids[0], ids[ids.len() - 1]);
    let body = &ids[1..ids.len() - 1];
    let width = window - 2;
    let stride = window_stride(max);
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + width).min(body.len());
        let mut w = Vec::with_capacity(end - start + 2);
        w.push(cls);
        w.extend_from_slice(&body[start..end]);
        w.push(sep);
        out.push(w);
        if end == body.len() {
            return (out, false);
        }
        if out.len() >= max_windows.max(1) {
            return (out, true);
        }
        start += stride;
    }
}

/// Body tokens from one window's start to the next's, for a model that
/// takes `max` tokens; only meaningful when [`windows`] cuts more than one.
fn window_stride(max: usize) -> usize {
    WINDOW_TOKENS.min(max) - 2 - WINDOW_OVERLAP
}

/// The byte range of the text that each of [`windows`]' windows reads,
/// from the tokenizer's byte offsets (`offsets[i]` belongs to token `i`,
/// `[CLS]` at 0). A text read in one window is `(0, len)` whole, as the
/// rules have always read it.
fn window_ranges(
    ws: &[Vec<u32>],
    offsets: &[(usize, usize)],
    len: usize,
    max: usize,
) -> Vec<(usize, usize)> {
    if ws.len() <= 1 {
        return vec![(0, len)];
    }
    let stride = window_stride(max);
    ws.iter()
        .enumerate()
        .map(|(k, w)| {
            // Body tokens k*stride .. k*stride + w.len() - 2, shifted by one for [CLS].
            let first = 1 + k * stride;
            let last = first + w.len() - 3;
            let start = offsets.get(first).map_or(0, |o| o.0);
            let end = offsets.get(last).map_or(len, |o| o.1).max(start);
            (start, end)
        })
        .collect()
}

/// A loaded BERT sentence-embedding model.
pub struct Embedder {
    model: FastBert,
    tokenizer: Tokenizer,
    /// The same tokenizer without truncation, for reading in windows.
    full: Tokenizer,
    /// Tokens per window: [`MAX_TOKENS`] or the model's limit if lower.
    max_len: usize,
    device: Device,
    hidden: usize,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("hidden", &self.hidden)
            .finish_non_exhaustive()
    }
}

fn require(dir: &Path, name: &str) -> Result<std::path::PathBuf, DetectError> {
    let p = dir.join(name);
    if p.is_file() {
        Ok(p)
    } else {
        Err(DetectError::MissingModelFile(p))
    }
}

impl Embedder {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from
    /// `dir` (the layout `scripts/fetch-model` produces).
    pub fn load(dir: &Path) -> Result<Self, DetectError> {
        let config_path = require(dir, "config.json")?;
        let tokenizer_path = require(dir, "tokenizer.json")?;
        let weights_path = require(dir, "model.safetensors")?;

        let raw = std::fs::read_to_string(&config_path).map_err(|source| DetectError::Io {
            path: config_path.clone(),
            source,
        })?;
        let config: Config = serde_json::from_str(&raw).map_err(|source| DetectError::Json {
            what: config_path.display().to_string(),
            source,
        })?;

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| DetectError::Tokenizer(format!("{}: {e}", tokenizer_path.display())))?;
        // The shipped tokenizer pads every input to 128 tokens; we pad per
        // batch ourselves, so switch that off and only truncate.
        tokenizer.with_padding(None);
        let max_len = MAX_TOKENS.min(config.max_position_embeddings);
        let mut full = tokenizer.clone();
        full.with_truncation(None)
            .map_err(|e| DetectError::Tokenizer(e.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                ..TruncationParams::default()
            }))
            .map_err(|e| DetectError::Tokenizer(e.to_string()))?;

        let device = Device::Cpu;
        // Read into memory rather than mmap: mmap needs `unsafe`, which this
        // crate forbids, and 90 MB is cheap next to the model's activations.
        let bytes = std::fs::read(&weights_path).map_err(|source| DetectError::Io {
            path: weights_path.clone(),
            source,
        })?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)?;
        let model = FastBert::load(vb, &config)?;
        Ok(Embedder {
            model,
            tokenizer,
            full,
            max_len,
            device,
            hidden: config.hidden_size,
        })
    }

    /// Runs one padded batch of token-id sequences through the model and
    /// returns sentence embeddings, or the pooled features when `features`.
    fn forward(&self, seqs: &[&[u32]], features: bool) -> Result<Vec<Vec<f32>>, DetectError> {
        let (ids, mask_t) = pad(seqs, &self.device)?;
        if !features {
            let mean = masked_mean(&self.model.forward(&ids, &mask_t)?, &mask_t)?;
            return Ok(mean.to_dtype(DType::F32)?.to_vec2::<f32>()?);
        }
        let depth = self.model.depth();
        let (deep, early) = FEATURE_LAYERS;
        let states =
            self.model
                .forward_states(&ids, &mask_t, &[deep.min(depth), early.min(depth)])?;
        let flat = |t: &Tensor| t.flatten_all()?.to_vec1::<f32>();
        let real: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
        Ok(crate::pool::pool_rows(
            &flat(&states[0])?,
            &flat(&states[1])?,
            &real,
            ids.dims2()?.1,
            self.hidden,
        ))
    }

    /// The encoder, for training adapters on it.
    pub(crate) fn encoder(&self) -> &FastBert {
        &self.model
    }

    pub(crate) fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, DetectError> {
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| DetectError::Tokenizer(e.to_string()))?;
        Ok(enc.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }
}

/// Token ids padded to the longest sequence, (batch, len) u32, and the
/// mask of real tokens, (batch, len) f32 of 1/0.
pub(crate) fn pad(seqs: &[&[u32]], device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
    let b = seqs.len();
    let len = seqs.iter().map(|s| s.len()).max().unwrap_or(1).max(1);
    let mut ids = vec![0u32; b * len];
    let mut mask = vec![0f32; b * len];
    for (i, s) in seqs.iter().enumerate() {
        ids[i * len..i * len + s.len()].copy_from_slice(s);
        mask[i * len..i * len + s.len()].fill(1.0);
    }
    Ok((
        Tensor::from_vec(ids, (b, len), device)?,
        Tensor::from_vec(mask, (b, len), device)?,
    ))
}

/// Mean over real tokens, then L2-normalised (what sentence-transformers
/// computes). `hidden`: (batch, len, h); `mask`: (batch, len) of 1/0.
fn masked_mean(hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let m = mask.unsqueeze(2)?; // (b, len, 1)
    let counts = m.sum(1)?.clamp(1e-9, f32::MAX)?; // (b, 1)
    let mean = hidden.broadcast_mul(&m)?.sum(1)?.broadcast_div(&counts)?;
    let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f32::MAX)?;
    mean.broadcast_div(&norm)
}

/// The [`POOLINGS`] of the feature layer's states (`deep`) and the earlier
/// layer's (`early`), (batch, hidden · 4), built from differentiable
/// operations for adapter training ([`crate::adapt`]). Inference computes
/// the same numbers directly from the rows ([`crate::pool::pool_rows`]; a
/// test checks they agree).
pub(crate) fn pool_features(
    deep: &Tensor,
    early: &Tensor,
    mask: &Tensor,
) -> candle_core::Result<Tensor> {
    // Padding gets a large negative so it never wins the max.
    let pad = ((mask.unsqueeze(2)? - 1.0)? * 1e9)?;
    let max = deep.broadcast_add(&pad)?.max(1)?;
    let cls = deep.narrow(1, 0, 1)?.squeeze(1)?;
    Tensor::cat(
        &[
            masked_mean(deep, mask)?,
            max,
            cls,
            masked_mean(early, mask)?,
        ],
        1,
    )
}

/// Embeddings tagged with the index of the text they belong to.
type Indexed = Vec<(usize, Vec<f32>)>;

/// Groups indices (already sorted by length) into batches whose padded size
/// stays within the token budget.
pub(crate) fn plan_batches(order: &[usize], lens: &[usize]) -> Vec<Vec<usize>> {
    let mut batches = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    for &i in order {
        let longest = cur.iter().map(|&j| lens[j]).max().unwrap_or(0).max(lens[i]);
        if !cur.is_empty()
            && (cur.len() + 1 > MAX_BATCH || (cur.len() + 1) * longest > TOKEN_BUDGET)
        {
            batches.push(std::mem::take(&mut cur));
        }
        cur.push(i);
    }
    if !cur.is_empty() {
        batches.push(cur);
    }
    batches
}

impl Embed for Embedder {
    fn dim(&self) -> usize {
        self.hidden
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, DetectError> {
        self.run(texts, false)
    }

    fn feature_dim(&self) -> usize {
        self.hidden * POOLINGS.len()
    }

    fn features_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, DetectError> {
        self.run(texts, true)
    }

    fn window_features_batch(&self, texts: &[&str]) -> Result<Vec<Windows>, DetectError> {
        self.run_windows(texts)
    }

    fn apply_adapters(&mut self, adapters: &crate::adapt::Adapters) -> Result<(), DetectError> {
        Ok(self.model.merge(adapters)?)
    }
}

impl Embedder {
    /// Tokenises once, batches by length and runs the batches on rayon.
    fn run(&self, texts: &[&str], features: bool) -> Result<Vec<Vec<f32>>, DetectError> {
        let (unique, which) = distinct(texts);
        let ids = self.tokenize(&unique)?;
        let by_unique = self.forward_all(&ids, features)?;
        Ok(which.into_iter().map(|i| by_unique[i].clone()).collect())
    }

    /// Features of every window of every text (see [`MAX_WINDOWS`]), all
    /// windows batched together by length.
    fn run_windows(&self, texts: &[&str]) -> Result<Vec<Windows>, DetectError> {
        let (unique, which) = distinct(texts);
        let enc = self
            .full
            .encode_batch(unique.clone(), true)
            .map_err(|e| DetectError::Tokenizer(e.to_string()))?;
        let mut seqs = Vec::new();
        let mut owner = Vec::new();
        let mut cut = Vec::with_capacity(unique.len());
        let mut ranges = Vec::with_capacity(unique.len());
        for (i, e) in enc.iter().enumerate() {
            let (ws, c) = windows(e.get_ids(), self.max_len, MAX_WINDOWS);
            ranges.push(window_ranges(
                &ws,
                e.get_offsets(),
                unique[i].len(),
                self.max_len,
            ));
            owner.extend(std::iter::repeat_n(i, ws.len()));
            seqs.extend(ws);
            cut.push(c);
        }
        let feats = self.forward_all(&seqs, true)?;
        let mut by_unique: Vec<Windows> = cut
            .into_iter()
            .zip(ranges)
            .map(|(cut, ranges)| Windows {
                features: Vec::new(),
                ranges,
                cut,
            })
            .collect();
        for (o, f) in owner.into_iter().zip(feats) {
            by_unique[o].features.push(f);
        }
        Ok(which.into_iter().map(|i| by_unique[i].clone()).collect())
    }

    /// Runs token sequences through the model, sorted by length and cut
    /// into batches within the token budget; results in input order.
    fn forward_all(&self, ids: &[Vec<u32>], features: bool) -> Result<Vec<Vec<f32>>, DetectError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let lens: Vec<usize> = ids.iter().map(Vec::len).collect();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| lens[i]);
        let batches = plan_batches(&order, &lens);

        let run = |batch: &Vec<usize>| -> Result<Indexed, DetectError> {
            let seqs: Vec<&[u32]> = batch.iter().map(|&i| ids[i].as_slice()).collect();
            let vecs = self.forward(&seqs, features)?;
            Ok(batch.iter().copied().zip(vecs).collect())
        };
        let results: Vec<Result<Indexed, DetectError>> = match lanes() {
            // Many batches: each core takes whole batches in turn, inside a
            // one-thread pool, so every op within a batch (rten-gemm's GEMMs,
            // GELU, softmax) runs sequentially on warm caches with no rayon
            // fork-join per op. Batches are sorted by length and taken in
            // order from a shared counter, so the cores finish together.
            Some(lanes) if batches.len() > 1 => {
                let next = AtomicUsize::new(0);
                let work = || {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(batch) = batches.get(i) else {
                            break mine;
                        };
                        mine.push(run(batch));
                    }
                };
                lanes
                    .par_iter()
                    .map(|lane| lane.install(work))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .flatten()
                    .collect()
            }
            // One batch (a single message, say): its ops parallelise
            // internally, for latency. It runs on the global pool even so
            // (`par_iter`), because each parallel op started from outside
            // the pool pays a cross-thread hand-off, and a forward pass has
            // dozens of them.
            _ => batches.par_iter().map(run).collect(),
        };

        let mut out: Vec<Vec<f32>> = vec![Vec::new(); ids.len()];
        for r in results {
            for (i, v) in r? {
                out[i] = v;
            }
        }
        Ok(out)
    }
}

/// One single-thread rayon pool per core of the global pool, for running
/// whole batches side by side ([`Embedder::forward_all`]). `None` on one
/// core, or if the pools cannot be built; batches then run one after
/// another with their ops parallel inside.
fn lanes() -> Option<&'static [rayon::ThreadPool]> {
    static LANES: OnceLock<Vec<rayon::ThreadPool>> = OnceLock::new();
    let lanes = LANES.get_or_init(|| {
        let n = rayon::current_num_threads();
        if n < 2 {
            return Vec::new();
        }
        (0..n)
            .map(|i| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(move |_| format!("detect-lane-{i}"))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_default()
    });
    (!lanes.is_empty()).then_some(lanes.as_slice())
}

/// The distinct texts, in first-seen order, and for each input the index
/// of its distinct text: each text is embedded once.
fn distinct<'a>(texts: &[&'a str]) -> (Vec<&'a str>, Vec<usize>) {
    let mut unique: Vec<&str> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    let which = texts
        .iter()
        .map(|t| {
            *slot.entry(t).or_insert_with(|| {
                unique.push(t);
                unique.len() - 1
            })
        })
        .collect();
    (unique, which)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_budget_and_keep_every_index() {
        let lens = vec![5, 100, 7, 30, 128, 6];
        let mut order: Vec<usize> = (0..lens.len()).collect();
        order.sort_by_key(|&i| lens[i]);
        let batches = plan_batches(&order, &lens);
        let mut all: Vec<usize> = batches.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (0..lens.len()).collect::<Vec<_>>());
        for b in &batches {
            let longest = b.iter().map(|&i| lens[i]).max().unwrap();
            assert!(b.len() == 1 || b.len() * longest <= TOKEN_BUDGET);
        }
    }

    #[test]
    fn windows_cover_a_long_text_with_overlap_and_stop_at_the_cap() {
        // [CLS]=1, body 10..310, [SEP]=2.
        let body: Vec<u32> = (10..310).collect();
        let ids: Vec<u32> = std::iter::once(1).chain(body.clone()).chain([2]).collect();

        // Up to the model's length a text is read whole, as it always was.
        let (short, cut) = windows(&ids[..128], 128, 8);
        assert_eq!((short, cut), (vec![ids[..128].to_vec()], false));

        let (ws, cut) = windows(&ids, 128, 100);
        assert!(!cut);
        for w in &ws {
            assert!(w.len() <= WINDOW_TOKENS);
            assert_eq!((w[0], w[w.len() - 1]), (1, 2));
        }
        assert_eq!(ws[0][..WINDOW_TOKENS - 1], ids[..WINDOW_TOKENS - 1]);
        // Every body token is read, and neighbours share WINDOW_OVERLAP tokens.
        let mut seen: Vec<u32> = ws.iter().flat_map(|w| w[1..w.len() - 1].to_vec()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, body);
        for pair in ws.windows(2) {
            let tail = &pair[0][pair[0].len() - 1 - WINDOW_OVERLAP..pair[0].len() - 1];
            assert_eq!(tail, &pair[1][1..=WINDOW_OVERLAP]);
        }

        let (capped, cut) = windows(&ids, 128, 2);
        assert_eq!(capped.len(), 2);
        assert!(cut);
        assert_eq!(capped[..], ws[..2]);
    }
}
