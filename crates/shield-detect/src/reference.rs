//! The plain candle-transformers `BertModel` path, kept as a baseline for
//! benchmarks: same weights and pooling as [`crate::model::Embedder`], none
//! of its speed work (fast GELU, fused QKV, length bucketing).
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::Tokenizer;

use crate::error::DetectError;

/// Embeds `texts` in input order, `batch` at a time, padding each batch as
/// the shipped tokenizer does (fixed 128 tokens) unless `pad_to_longest`.
pub fn embed_baseline(
    dir: &Path,
    texts: &[&str],
    batch: usize,
    pad_to_longest: bool,
) -> Result<Vec<Vec<f32>>, DetectError> {
    let cfg: Config = serde_json::from_str(
        &std::fs::read_to_string(dir.join("config.json")).map_err(|source| DetectError::Io {
            path: dir.join("config.json"),
            source,
        })?,
    )
    .map_err(|source| DetectError::Json {
        what: "config.json".into(),
        source,
    })?;
    let mut tok = Tokenizer::from_file(dir.join("tokenizer.json"))
        .map_err(|e| DetectError::Tokenizer(e.to_string()))?;
    if pad_to_longest {
        tok.with_padding(Some(tokenizers::PaddingParams::default()));
    }
    let bytes = std::fs::read(dir.join("model.safetensors")).map_err(|source| DetectError::Io {
        path: dir.join("model.safetensors"),
        source,
    })?;
    let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu)?;
    let model = BertModel::load(vb, &cfg)?;
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(batch.max(1)) {
        let enc = tok
            .encode_batch(chunk.to_vec(), true)
            .map_err(|e| DetectError::Tokenizer(e.to_string()))?;
        let len = enc[0].get_ids().len();
        let ids: Vec<u32> = enc.iter().flat_map(|e| e.get_ids().to_vec()).collect();
        let mask: Vec<f32> = enc
            .iter()
            .flat_map(|e| {
                e.get_attention_mask()
                    .iter()
                    .map(|&m| m as f32)
                    .collect::<Vec<_>>()
            })
            .collect();
        let ids = Tensor::from_vec(ids, (chunk.len(), len), &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, (chunk.len(), len), &Device::Cpu)?;
        let hidden = model.forward(&ids, &ids.zeros_like()?, Some(&mask))?;
        let m = mask.unsqueeze(2)?;
        let mean = hidden
            .broadcast_mul(&m)?
            .sum(1)?
            .broadcast_div(&m.sum(1)?)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        out.extend(mean.broadcast_div(&norm)?.to_vec2::<f32>()?);
    }
    Ok(out)
}
