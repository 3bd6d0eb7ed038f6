//! Reading the messages a candidate brings: pasted text (messages separated by blank lines), or
//! an export: CSV or JSON of messages (`text`, and optionally `author`, `handle`, `time`,
//! `link`), one `.eml` email, or an `.mbox` mailbox. Errors say which file, line and field.

use serde::{Deserialize, Serialize};

/// Most messages taken from one paste or file.
pub const MAX_MESSAGES: usize = 2_000;
/// Longest message kept, in characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// One message to scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub handle: String,
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    pub link: String,
    pub text: String,
}

/// Why an export could not be read, naming where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {place}{message}")]
pub struct ExportError {
    pub file: String,
    /// "line 3, field `text`: " or "".
    pub place: String,
    pub message: String,
}

fn error(file: &str, place: impl Into<String>, message: impl Into<String>) -> ExportError {
    ExportError {
        file: file.to_owned(),
        place: place.into(),
        message: message.into(),
    }
}

fn clip(s: &str) -> String {
    s.trim().chars().take(MAX_MESSAGE_CHARS).collect()
}

fn tidy(mut m: Message) -> Message {
    m.author = m.author.trim().chars().take(200).collect();
    m.handle = m.handle.trim().chars().take(200).collect();
    m.time = m.time.trim().chars().take(100).collect();
    m.link = m.link.trim().chars().take(2_000).collect();
    m.text = clip(&m.text);
    m
}

/// Pasted messages: each block of text separated by a blank line is one message.
pub fn parse_pasted(text: &str) -> Vec<Message> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .take(MAX_MESSAGES)
        .map(|b| Message {
            text: clip(b),
            ..Message::default()
        })
        .collect()
}

/// An uploaded export, by its name's extension and content.
pub fn parse_export(file: &str, bytes: &[u8]) -> Result<Vec<Message>, ExportError> {
    let lower = file.to_ascii_lowercase();
    let text = || {
        std::str::from_utf8(bytes)
            .map(|t| t.trim_start_matches('\u{feff}'))
            .map_err(|e| {
                error(
                    file,
                    "",
                    format!("is not UTF-8 text (byte {})", e.valid_up_to()),
                )
            })
    };
    let messages = if lower.ends_with(".csv") {
        csv_messages(file, text()?)?
    } else if lower.ends_with(".json") {
        json_messages(file, text()?)?
    } else if lower.ends_with(".eml") {
        vec![eml_message(file, bytes)?]
    } else if lower.ends_with(".mbox") {
        mbox_messages(file, bytes)?
    } else {
        return Err(error(
            file,
            "",
            "choose a .csv, .json, .eml or .mbox file, or paste the messages instead",
        ));
    };
    let messages: Vec<Message> = messages
        .into_iter()
        .map(tidy)
        .filter(|m| !m.text.is_empty())
        .collect();
    if messages.is_empty() {
        return Err(error(file, "", "holds no messages"));
    }
    if messages.len() > MAX_MESSAGES {
        return Err(error(
            file,
            "",
            format!(
                "holds {} messages; the most at once is {MAX_MESSAGES}",
                messages.len()
            ),
        ));
    }
    Ok(messages)
}

fn csv_messages(file: &str, text: &str) -> Result<Vec<Message>, ExportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| error(file, "line 1: ", e.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let Some(text_col) = column("text") else {
        return Err(error(
            file,
            "line 1: ",
            "no `text` column (expected columns: text, and optionally author, handle, time, link)",
        ));
    };
    let (author, handle, time, link) = (
        column("author"),
        column("handle"),
        column("time"),
        column("link"),
    );
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| error(file, format!("line {line}: "), e.to_string()))?;
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").to_owned();
        let text = get(Some(text_col));
        if text.trim().is_empty() {
            return Err(error(
                file,
                format!("line {line}, field `text`: "),
                "is empty",
            ));
        }
        out.push(Message {
            author: get(author),
            handle: get(handle),
            time: get(time),
            link: get(link),
            text,
        });
    }
    Ok(out)
}

fn json_messages(file: &str, text: &str) -> Result<Vec<Message>, ExportError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Export {
        List(Vec<serde_json::Value>),
        Wrapped { messages: Vec<serde_json::Value> },
    }
    let export: Export = serde_json::from_str(text).map_err(|e| {
        error(
            file,
            format!("line {}, column {}: ", e.line(), e.column()),
            format!("not valid JSON: {e}"),
        )
    })?;
    let values = match export {
        Export::List(v) | Export::Wrapped { messages: v } => v,
    };
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value::<Message>(v).map_err(|e| {
                error(
                    file,
                    format!("message {}: ", i + 1),
                    format!("{e} (each message needs a `text` string)"),
                )
            })
        })
        .collect()
}

fn eml_message(file: &str, bytes: &[u8]) -> Result<Message, ExportError> {
    use mailparse::MailHeaderMap;
    let mail = mailparse::parse_mail(bytes)
        .map_err(|e| error(file, "", format!("is not an email: {e}")))?;
    let from = mail.headers.get_first_value("From").unwrap_or_default();
    let date = mail.headers.get_first_value("Date").unwrap_or_default();
    let subject = mail.headers.get_first_value("Subject").unwrap_or_default();
    let body = plain_body(&mail).unwrap_or_default();
    let text = if subject.is_empty() {
        body
    } else {
        format!("{subject}\n\n{body}")
    };
    if text.trim().is_empty() {
        return Err(error(file, "", "the email has no text"));
    }
    let (author, handle) = match (from.find('<'), from.find('>')) {
        (Some(a), Some(b)) if a < b => (
            from[..a].trim().trim_matches('"').to_owned(),
            from[a + 1..b].to_owned(),
        ),
        _ => (String::new(), from.trim().to_owned()),
    };
    Ok(Message {
        author,
        handle,
        time: date,
        link: String::new(),
        text,
    })
}

/// The first text/plain part's body (or the whole body of a single-part message).
fn plain_body(mail: &mailparse::ParsedMail<'_>) -> Option<String> {
    if mail.subparts.is_empty() {
        return mail.get_body().ok();
    }
    mail.subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .and_then(|p| p.get_body().ok())
        .or_else(|| mail.subparts.iter().find_map(plain_body))
}

fn mbox_messages(file: &str, bytes: &[u8]) -> Result<Vec<Message>, ExportError> {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    let mut chunks: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        let separator = line.starts_with("From ")
            && chunks
                .last()
                .is_none_or(|c| c.is_empty() || c.ends_with("\n\n"));
        if separator {
            chunks.push(String::new());
        } else if let Some(current) = chunks.last_mut() {
            current.push_str(
                line.strip_prefix('>')
                    .filter(|l| l.starts_with("From "))
                    .unwrap_or(line),
            );
        } else {
            return Err(error(
                file,
                "line 1: ",
                "an mbox file starts with a `From ` line",
            ));
        }
    }
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| eml_message(&format!("{file} (message {})", i + 1), c.as_bytes()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_blocks_are_messages() {
        let m = parse_pasted("first one\nstill first\n\n\nsecond\r\n\r\nthird");
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].text, "first one\nstill first");
    }

    #[test]
    fn csv_with_optional_columns_and_errors_naming_the_line() {
        let ok = parse_export(
            "msgs.csv",
            b"author,handle,time,link,text\nA,@a,2029-04-01,https://x.example/1,hello there\n,,,,second\n",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].handle, "@a");
        let missing = parse_export("msgs.csv", b"author,body\nA,hi\n").unwrap_err();
        assert_eq!(
            missing.to_string(),
            "msgs.csv: line 1: no `text` column (expected columns: text, and optionally author, handle, time, link)"
        );
        let empty = parse_export("msgs.csv", b"text,author\nhi,A\n,B\n").unwrap_err();
        assert_eq!(
            empty.to_string(),
            "msgs.csv: line 3, field `text`: is empty"
        );
    }

    #[test]
    fn json_list_or_wrapped() {
        let a = parse_export("x.json", br#"[{"text":"hi","handle":"@h"}]"#).unwrap();
        let b = parse_export("x.json", br#"{"messages":[{"text":"hi","handle":"@h"}]}"#).unwrap();
        assert_eq!(a, b);
        let bad = parse_export("x.json", br#"[{"handle":"@h"}]"#).unwrap_err();
        assert!(bad.to_string().starts_with("x.json: message 1: "), "{bad}");
        let broken = parse_export("x.json", b"[{\"text\": \n").unwrap_err();
        assert!(broken.to_string().starts_with("x.json: line 2"), "{broken}");
    }

    #[test]
    fn eml_and_mbox() {
        let eml = b"From: \"Angry Voter\" <angry@example.net>\r\nDate: Mon, 1 Apr 2029 20:00:00 +0100\r\nSubject: You\r\n\r\nI know where you live.\r\n";
        let m = parse_export("threat.eml", eml).unwrap();
        assert_eq!(m[0].author, "Angry Voter");
        assert_eq!(m[0].handle, "angry@example.net");
        assert!(m[0].text.contains("I know where you live."));
        let mbox = b"From angry@example.net Mon Apr  1 20:00:00 2029\nFrom: a@example.net\nSubject: one\n\nfirst body\n>From the start\n\nFrom b@example.net Mon Apr  1 21:00:00 2029\nFrom: b@example.net\nSubject: two\n\nsecond body\n";
        let m = parse_export("inbox.mbox", mbox).unwrap();
        assert_eq!(m.len(), 2);
        assert!(m[0].text.contains("first body") && m[0].text.contains("From the start"));
        assert_eq!(m[1].handle, "b@example.net");
        assert!(parse_export("notes.docx", b"x").is_err());
    }
}
