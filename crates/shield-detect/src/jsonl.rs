//! Line-oriented interface for batch jobs and other languages:
//! `{"id": ..., "text": ...}` in, one verdict per line out.
//!
//! Input is read in chunks and each chunk is analysed as one batch, so the
//! model runs at batched speed while memory stays bounded. On a malformed
//! line, everything before it has been written and the error names the
//! line number, so a caller can fix the file and resume.
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::detector::Detector;
use crate::error::DetectError;
use crate::label::{Label, Scores};

/// Lines analysed per batch.
const CHUNK: usize = 256;

#[derive(Deserialize)]
struct Input {
    id: Value,
    text: String,
}

#[derive(Serialize)]
struct OutSpan {
    label: Label,
    start: usize,
    end: usize,
}

#[derive(Serialize)]
struct Output<'a> {
    id: &'a Value,
    labels: &'a [Label],
    scores: Scores,
    spans: Vec<OutSpan>,
}

/// Reads JSON lines from `reader`, writes one result line per input line to
/// `writer`. Blank lines are skipped. Returns the number of lines written.
pub fn run(
    reader: impl BufRead,
    mut writer: impl Write,
    detector: &Detector,
) -> Result<usize, DetectError> {
    let io_err = |source| DetectError::Io {
        path: "<jsonl stream>".into(),
        source,
    };
    let mut pending: Vec<Input> = Vec::new();
    let mut written = 0;
    let flush = |pending: &mut Vec<Input>, writer: &mut dyn Write| -> Result<usize, DetectError> {
        let texts: Vec<&str> = pending.iter().map(|i| i.text.as_str()).collect();
        let analyses = detector.analyse_batch(&texts);
        for (inp, a) in pending.iter().zip(&analyses) {
            let out = Output {
                id: &inp.id,
                labels: &a.labels,
                scores: a.scores,
                spans: a
                    .spans
                    .iter()
                    .map(|s| OutSpan {
                        label: s.label,
                        start: s.start,
                        end: s.end,
                    })
                    .collect(),
            };
            let line = serde_json::to_string(&out).map_err(|source| DetectError::Json {
                what: "output".into(),
                source,
            })?;
            writeln!(writer, "{line}").map_err(io_err)?;
        }
        let n = pending.len();
        pending.clear();
        Ok(n)
    };

    for (i, line) in reader.lines().enumerate() {
        let line_no = i + 1;
        let line = line.map_err(|e| DetectError::Line {
            line: line_no,
            message: format!("cannot read line: {e}"),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Input>(&line) {
            Ok(inp) => pending.push(inp),
            Err(e) => {
                flush(&mut pending, &mut writer)?;
                writer.flush().map_err(io_err)?;
                return Err(DetectError::Line {
                    line: line_no,
                    message: format!("expected {{\"id\": ..., \"text\": \"...\"}}: {e}"),
                });
            }
        }
        if pending.len() >= CHUNK {
            written += flush(&mut pending, &mut writer)?;
        }
    }
    written += flush(&mut pending, &mut writer)?;
    writer.flush().map_err(io_err)?;
    Ok(written)
}
