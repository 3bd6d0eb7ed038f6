//! Checks an uploaded evidence file by its content, never by its name or the type the browser
//! claimed, and gives it a safe name to store and serve it under.
//!
//! The checks are hand-written magic-byte tests rather than the `infer` crate: the list is short,
//! every signature is visible here for review, and the order of the checks (refuse programs and
//! archives first, then accept known formats, then fall back to text) is what matters.
//!
//! Outcomes:
//! - Programs and scripts ([`EvidenceError::Executable`]): Windows/DOS (`MZ`), ELF, Mach-O (all
//!   four byte orders and widths), fat Mach-O and Java class files (both start `CAFEBABE`),
//!   WebAssembly and anything starting with a `#!` shebang, whatever the file is called. A text
//!   file that happens to start with the letters `MZ` is refused too: safety wins over the rare
//!   false alarm.
//! - Archives and containers that could carry a program inside ([`EvidenceError::NotAllowed`]):
//!   ZIP (which includes Office `.docx`/`.xlsx` files and `.jar`), RAR, 7z, gzip, bzip2, xz,
//!   zstd, Windows cabinet files and OLE compound files (MSI installers and old `.doc`/`.xls`).
//!   They are not programs themselves, so the candidate is told which types are accepted rather
//!   than that the file looks like a program.
//! - HTML, SVG and XML (text whose first non-blank character is `<`) are
//!   [`EvidenceError::NotAllowed`]: opened in a browser they can run script.
//! - Accepted: PNG, JPEG, GIF, WebP and PDF by their signatures; otherwise valid UTF-8 text with
//!   no NUL bytes and few control characters, as [`EvidenceKind::Email`] when it starts with
//!   RFC 5322 headers and as [`EvidenceKind::Text`] otherwise.
//!
//! Whoever serves the files back should still send [`EvidenceKind::content_type`] with
//! `X-Content-Type-Options: nosniff`, so a browser never second-guesses the type.

use serde::Serialize;
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

/// Largest evidence file accepted, in bytes.
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;
/// Most evidence files attached to one report.
pub const MAX_FILES_PER_REPORT: usize = 10;

/// Longest name [`safe_filename`] returns, in characters, extension included.
const MAX_FILENAME_CHARS: usize = 100;

/// A kind of evidence file that may be uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum EvidenceKind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
    Email,
    Text,
}

impl EvidenceKind {
    /// Stable key for storage and URLs; [`EvidenceKind::parse`] reads it back.
    pub fn key(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::Pdf => "pdf",
            Self::Email => "eml",
            Self::Text => "text",
        }
    }

    /// The kind whose [`EvidenceKind::key`] is `key`, exactly.
    pub fn parse(key: &str) -> Option<Self> {
        Some(match key {
            "png" => Self::Png,
            "jpeg" => Self::Jpeg,
            "gif" => Self::Gif,
            "webp" => Self::Webp,
            "pdf" => Self::Pdf,
            "eml" => Self::Email,
            "text" => Self::Text,
            _ => return None,
        })
    }

    /// The `Content-Type` to serve the file with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
            Self::Email => "message/rfc822",
            Self::Text => "text/plain; charset=utf-8",
        }
    }

    /// File extension, without the dot, that [`safe_filename`] gives files of this kind.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::Pdf => "pdf",
            Self::Email => "eml",
            Self::Text => "txt",
        }
    }

    /// Name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Png => "PNG image",
            Self::Jpeg => "JPEG image",
            Self::Gif => "GIF image",
            Self::Webp => "WebP image",
            Self::Pdf => "PDF document",
            Self::Email => "Email (.eml)",
            Self::Text => "Text file",
        }
    }
}

/// Why an evidence file was refused. The messages are shown to the candidate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvidenceError {
    #[error("The file is empty")]
    Empty,
    #[error("The file is larger than {} MB", .max / (1024 * 1024))]
    TooLarge { size: usize, max: usize },
    #[error("This file looks like a program, which cannot be uploaded as evidence")]
    Executable,
    #[error("Only images (PNG, JPEG, GIF, WebP), PDF, email (.eml) and text files can be uploaded")]
    NotAllowed,
}

/// Programs and scripts, refused as [`EvidenceError::Executable`].
const EXECUTABLE_MAGIC: &[&[u8]] = &[
    b"MZ",               // Windows PE and DOS executables
    b"\x7fELF",          // Linux and other Unix executables
    b"\xFE\xED\xFA\xCE", // Mach-O 32-bit, big-endian
    b"\xCE\xFA\xED\xFE", // Mach-O 32-bit, little-endian
    b"\xFE\xED\xFA\xCF", // Mach-O 64-bit, big-endian
    b"\xCF\xFA\xED\xFE", // Mach-O 64-bit, little-endian
    b"\xCA\xFE\xBA\xBE", // fat (universal) Mach-O, and Java class files
    b"\xBE\xBA\xFE\xCA", // fat Mach-O, little-endian
    b"\0asm",            // WebAssembly
    b"#!",               // scripts with a shebang
    b"\xEF\xBB\xBF#!",   // ... even behind a UTF-8 byte order mark
];

/// Archives and containers that could carry a program, refused as
/// [`EvidenceError::NotAllowed`].
const ARCHIVE_MAGIC: &[&[u8]] = &[
    b"PK\x03\x04",                       // ZIP, incl. Office documents and .jar
    b"PK\x05\x06",                       // empty ZIP
    b"PK\x07\x08",                       // spanned ZIP
    b"Rar!\x1A\x07",                     // RAR 1.5 to 5
    b"7z\xBC\xAF\x27\x1C",               // 7-Zip
    b"\x1F\x8B",                         // gzip
    b"\xFD7zXZ\0",                       // xz
    b"\x28\xB5\x2F\xFD",                 // zstd
    b"MSCF",                             // Windows cabinet
    b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", // OLE compound file: MSI, old Office
];

/// Header names that mark a text file as an email; two must appear.
const EMAIL_HEADERS: &[&str] = &[
    "from",
    "to",
    "subject",
    "date",
    "received",
    "message-id",
    "mime-version",
];

/// Works out what kind of evidence `bytes` hold, or why they cannot be accepted.
pub fn check(bytes: &[u8]) -> Result<EvidenceKind, EvidenceError> {
    if bytes.is_empty() {
        return Err(EvidenceError::Empty);
    }
    if bytes.len() > MAX_EVIDENCE_BYTES {
        return Err(EvidenceError::TooLarge {
            size: bytes.len(),
            max: MAX_EVIDENCE_BYTES,
        });
    }
    if EXECUTABLE_MAGIC.iter().any(|m| bytes.starts_with(m)) {
        return Err(EvidenceError::Executable);
    }
    if ARCHIVE_MAGIC.iter().any(|m| bytes.starts_with(m)) || is_bzip2(bytes) {
        return Err(EvidenceError::NotAllowed);
    }
    if let Some(kind) = binary_kind(bytes) {
        return Ok(kind);
    }
    text_kind(bytes)
}

/// `BZh`, a block size digit, then the block magic `1AY&SY` (checked in full because `BZh` alone
/// could start ordinary text).
fn is_bzip2(bytes: &[u8]) -> bool {
    bytes.len() >= 10
        && bytes.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&bytes[3])
        && &bytes[4..10] == b"1AY&SY"
}

fn binary_kind(bytes: &[u8]) -> Option<EvidenceKind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1A\n") {
        Some(EvidenceKind::Png)
    } else if bytes.starts_with(b"\xFF\xD8\xFF") {
        Some(EvidenceKind::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(EvidenceKind::Gif)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(EvidenceKind::Webp)
    } else if bytes.starts_with(b"%PDF-") {
        Some(EvidenceKind::Pdf)
    } else {
        None
    }
}

fn text_kind(bytes: &[u8]) -> Result<EvidenceKind, EvidenceError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err(EvidenceError::NotAllowed);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| EvidenceError::NotAllowed)?;
    let mut chars = 0usize;
    let mut controls = 0usize;
    for c in text.chars() {
        chars += 1;
        if c.is_control() && !matches!(c, '\t' | '\r' | '\n' | '\x0c') {
            controls += 1;
        }
    }
    // A stray escape or two (say, from a copied terminal log) is fine; more than 1% is binary.
    if controls * 100 > chars {
        return Err(EvidenceError::NotAllowed);
    }
    if text.trim_start().starts_with('<') {
        return Err(EvidenceError::NotAllowed);
    }
    Ok(if looks_like_email(text) {
        EvidenceKind::Email
    } else {
        EvidenceKind::Text
    })
}

/// True when `text` opens with RFC 5322 header fields (folded lines allowed), ended by a blank
/// line or the end of the text, that include at least two of [`EMAIL_HEADERS`]. An mbox
/// `From ` separator line before the headers is skipped.
fn looks_like_email(text: &str) -> bool {
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .peekable();
    if lines.peek().is_some_and(|l| l.starts_with("From ")) {
        lines.next();
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut any_header = false;
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if !any_header {
                return false;
            }
            continue;
        }
        let Some((name, _value)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return false;
        }
        any_header = true;
        if let Some(known) = EMAIL_HEADERS
            .iter()
            .copied()
            .find(|h| h.eq_ignore_ascii_case(name))
            .filter(|h| !seen.contains(h))
        {
            seen.push(known);
        }
    }
    seen.len() >= 2
}

/// A name safe to store and to put in a `Content-Disposition` header, built from the name the
/// uploader gave and ending in `kind`'s extension.
///
/// Keeps only the last path component; spells accented letters without their accents and drops
/// every other character outside ASCII letters, digits, space, `.`, `-`, `_`, `(` and `)` (which
/// removes control and bidirectional-override characters); collapses runs of dots and spaces and strips
/// leading and trailing ones (no hidden files, no `..`); replaces any extension (up to eight
/// letters or digits after the last dot) with
/// [`EvidenceKind::extension`]; caps the result at 100 characters; and falls back to
/// `evidence.<ext>` when nothing usable is left.
pub fn safe_filename(submitted: &str, kind: EvidenceKind) -> String {
    let ext = kind.extension();
    let last = submitted.rsplit(['/', '\\']).next().unwrap_or_default();

    let mut cleaned = String::with_capacity(last.len());
    for c in last.nfkd() {
        if c.is_control() {
            continue;
        }
        let c = if c.is_whitespace() { ' ' } else { c };
        if !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_' | '(' | ')')) {
            continue;
        }
        // Collapse runs of dots and of spaces.
        if (c == '.' || c == ' ') && cleaned.ends_with(c) {
            continue;
        }
        cleaned.push(c);
    }

    // Trailing dots and spaces first, so `name.txt.` loses them before the extension is found.
    let name = cleaned.trim_end_matches(['.', ' ']);
    let stem = match name.rsplit_once('.') {
        Some((stem, old_ext))
            if !old_ext.is_empty()
                && old_ext.len() <= 8
                && old_ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            stem
        }
        _ => name,
    };
    let stem = stem.trim_start_matches(['.', ' ']);

    // Everything left is ASCII, so bytes and characters agree.
    let max_stem = MAX_FILENAME_CHARS - 1 - ext.len();
    let stem = &stem[..stem.len().min(max_stem)];
    let stem = stem.trim_end_matches(['.', ' ']);

    if stem.is_empty() {
        format!("evidence.{ext}")
    } else {
        format!("{stem}.{ext}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [EvidenceKind; 7] = [
        EvidenceKind::Png,
        EvidenceKind::Jpeg,
        EvidenceKind::Gif,
        EvidenceKind::Webp,
        EvidenceKind::Pdf,
        EvidenceKind::Email,
        EvidenceKind::Text,
    ];

    const EML: &str = "Received: from mail.example.com by mx.example.org\r\n\
        \tfor <candidate@example.org>; Thu, 4 Jul 2024 09:00:00 +0100\r\n\
        From: Someone <someone@example.com>\r\n\
        To: candidate@example.org\r\n\
        Subject: You will regret standing\r\n\
        Date: Thu, 4 Jul 2024 09:00:00 +0100\r\n\
        Message-ID: <abc@example.com>\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\
        \r\n\
        Body text <b>with</b> markup-like bits.\r\n";

    #[test]
    fn keys_round_trip_and_kinds_describe_themselves() {
        for kind in ALL {
            assert_eq!(EvidenceKind::parse(kind.key()), Some(kind));
            assert!(!kind.content_type().is_empty());
            assert!(!kind.extension().is_empty());
            assert!(!kind.label().is_empty());
        }
        assert_eq!(EvidenceKind::parse("exe"), None);
        assert_eq!(EvidenceKind::parse("PNG"), None);
        assert_eq!(EvidenceKind::Email.key(), "eml");
        assert_eq!(EvidenceKind::Jpeg.extension(), "jpg");
        assert_eq!(
            EvidenceKind::Text.content_type(),
            "text/plain; charset=utf-8"
        );
        assert_eq!(EvidenceKind::Email.content_type(), "message/rfc822");
        assert_eq!(EvidenceKind::Pdf.label(), "PDF document");
    }

    #[test]
    fn recognises_each_allowed_kind() {
        assert_eq!(
            check(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok(EvidenceKind::Png)
        );
        assert_eq!(
            check(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"),
            Ok(EvidenceKind::Jpeg)
        );
        assert_eq!(check(b"GIF87a\x01\0\x01\0"), Ok(EvidenceKind::Gif));
        assert_eq!(check(b"GIF89a\x01\0\x01\0"), Ok(EvidenceKind::Gif));
        assert_eq!(
            check(b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0"),
            Ok(EvidenceKind::Webp)
        );
        assert_eq!(
            check(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"),
            Ok(EvidenceKind::Pdf)
        );
        assert_eq!(check(EML.as_bytes()), Ok(EvidenceKind::Email));
        assert_eq!(
            check("Threat received at 9pm.\nCaller said: \"we know where you live\".\n".as_bytes()),
            Ok(EvidenceKind::Text)
        );
    }

    #[test]
    fn riff_that_is_not_webp_is_refused() {
        assert_eq!(
            check(b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0"),
            Err(EvidenceError::NotAllowed)
        );
    }

    #[test]
    fn disguised_executable_is_refused() {
        // Named photo.jpg by the uploader; the name plays no part in the check.
        let mut pe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0".to_vec();
        pe.extend_from_slice(b"This program cannot be run in DOS mode.");
        assert_eq!(check(&pe), Err(EvidenceError::Executable));
        assert_eq!(
            safe_filename("photo.jpg", EvidenceKind::Jpeg),
            "photo.jpg",
            "the name would have looked harmless"
        );
    }

    #[test]
    fn programs_and_scripts_are_refused() {
        let samples: &[&[u8]] = &[
            b"\x7fELF\x02\x01\x01\0\0\0\0\0",
            b"\xFE\xED\xFA\xCE\0\0\0\x07",
            b"\xCE\xFA\xED\xFE\x07\0\0\0",
            b"\xFE\xED\xFA\xCF\x01\0\0\x07",
            b"\xCF\xFA\xED\xFE\x07\0\0\x01",
            b"\xCA\xFE\xBA\xBE\0\0\0\x02",
            b"\xCA\xFE\xBA\xBE\0\0\0\x34", // Java class file
            b"\0asm\x01\0\0\0",
            b"#!/bin/sh\nrm -rf ~\n",
            b"#!/usr/bin/env python3\nprint('hi')\n",
            b"\xEF\xBB\xBF#!/bin/sh\n",
        ];
        for sample in samples {
            assert_eq!(check(sample), Err(EvidenceError::Executable), "{sample:?}");
        }
    }

    #[test]
    fn archives_are_refused() {
        let samples: &[&[u8]] = &[
            b"PK\x03\x04\x14\0\x06\0\x08\0[Content_Types].xml",
            b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            b"Rar!\x1A\x07\x01\0",
            b"7z\xBC\xAF\x27\x1C\0\x04",
            b"\x1F\x8B\x08\0\0\0\0\0\0\x03",
            b"\xFD7zXZ\0\0\x04",
            b"\x28\xB5\x2F\xFD\x24\0",
            b"MSCF\0\0\0\0",
            b"BZh91AY&SY\x01\x02",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0",
        ];
        for sample in samples {
            assert_eq!(check(sample), Err(EvidenceError::NotAllowed), "{sample:?}");
        }
    }

    #[test]
    fn markup_is_refused() {
        let samples = [
            "<!DOCTYPE html><html><body>hi</body></html>",
            "<html><script>alert(1)</script></html>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
            "<?xml version=\"1.0\"?><svg/>",
            "<script>alert(1)</script>",
            "\u{feff}  \n\t<!doctype html>",
        ];
        for sample in samples {
            assert_eq!(
                check(sample.as_bytes()),
                Err(EvidenceError::NotAllowed),
                "{sample}"
            );
        }
    }

    #[test]
    fn binary_and_invalid_text_are_refused() {
        assert_eq!(
            check(b"hello\0world\0\x01\x02\x03"),
            Err(EvidenceError::NotAllowed)
        );
        assert_eq!(check(b"caf\xE9 au lait"), Err(EvidenceError::NotAllowed));
        assert_eq!(
            check(b"\x01\x02\x03\x04\x05\x06 mostly control"),
            Err(EvidenceError::NotAllowed)
        );
        // UTF-16 text is not UTF-8 (and has NULs).
        assert_eq!(check(b"\xFF\xFEh\0i\0"), Err(EvidenceError::NotAllowed));
    }

    #[test]
    fn text_with_a_bom_or_a_stray_escape_is_text() {
        assert_eq!(
            check("\u{feff}Leaflet note\r\n".as_bytes()),
            Ok(EvidenceKind::Text)
        );
        let log = format!("{}\x1b[0m\n", "message text ".repeat(20));
        assert_eq!(check(log.as_bytes()), Ok(EvidenceKind::Text));
        assert_eq!(
            check("Tudalen \u{0175} Cymraeg\x0c\n".as_bytes()),
            Ok(EvidenceKind::Text)
        );
    }

    #[test]
    fn email_needs_two_known_headers_before_the_blank_line() {
        assert_eq!(
            check(b"From: a@example.com\nSubject: hi\n\nbody"),
            Ok(EvidenceKind::Email)
        );
        assert_eq!(
            check(b"From - Thu Jul 04 09:00:00 2024\nFrom: a@example.com\nDate: today\n\nbody"),
            Ok(EvidenceKind::Email)
        );
        // Only one known header.
        assert_eq!(
            check(b"Subject: notes\nAuthor: me\n\nbody"),
            Ok(EvidenceKind::Text)
        );
        // Prose before the headers.
        assert_eq!(
            check(b"Here is the email:\nFrom: a@example.com\nTo: b@example.com\n"),
            Ok(EvidenceKind::Text)
        );
        // A header name with a space is not a header.
        assert_eq!(
            check(b"Sent from: me\nSent to: you\n\nbody"),
            Ok(EvidenceKind::Text)
        );
    }

    #[test]
    fn empty_and_too_large() {
        assert_eq!(check(b""), Err(EvidenceError::Empty));
        let big = vec![b'a'; MAX_EVIDENCE_BYTES + 1];
        assert_eq!(
            check(&big),
            Err(EvidenceError::TooLarge {
                size: MAX_EVIDENCE_BYTES + 1,
                max: MAX_EVIDENCE_BYTES
            })
        );
        let max = vec![b'a'; MAX_EVIDENCE_BYTES];
        assert_eq!(check(&max), Ok(EvidenceKind::Text));
    }

    #[test]
    fn messages_speak_to_the_candidate() {
        assert_eq!(EvidenceError::Empty.to_string(), "The file is empty");
        assert_eq!(
            EvidenceError::TooLarge {
                size: MAX_EVIDENCE_BYTES + 1,
                max: MAX_EVIDENCE_BYTES
            }
            .to_string(),
            "The file is larger than 10 MB"
        );
        assert_eq!(
            EvidenceError::Executable.to_string(),
            "This file looks like a program, which cannot be uploaded as evidence"
        );
        assert_eq!(
            EvidenceError::NotAllowed.to_string(),
            "Only images (PNG, JPEG, GIF, WebP), PDF, email (.eml) and text files can be uploaded"
        );
    }

    #[test]
    fn safe_filename_strips_paths_and_fixes_extensions() {
        use EvidenceKind::*;
        assert_eq!(safe_filename("../../etc/passwd", Text), "passwd.txt");
        assert_eq!(
            safe_filename("C:\\Users\\me\\threat.PNG", Png),
            "threat.png"
        );
        assert_eq!(safe_filename("photo.exe", Png), "photo.png");
        assert_eq!(safe_filename("invoice.pdf.exe", Png), "invoice.pdf.png");
        assert_eq!(safe_filename(".bashrc", Text), "evidence.txt");
        assert_eq!(safe_filename(".hidden.png", Png), "hidden.png");
        assert_eq!(safe_filename("..", Text), "evidence.txt");
        assert_eq!(safe_filename("a/b/", Pdf), "evidence.pdf");
        assert_eq!(safe_filename("", Gif), "evidence.gif");
        assert_eq!(safe_filename("...hidden..tar..gz", Text), "hidden.tar.txt");
        assert_eq!(
            safe_filename("Leaflet (final) v1.2 draft", Pdf),
            "Leaflet (final) v1.2 draft.pdf"
        );
        assert_eq!(
            safe_filename("a\u{0}b\r\nc;rm -rf*.eml", Email),
            "abcrm -rf.eml"
        );
        assert_eq!(safe_filename("threat.JPEG", Jpeg), "threat.jpg");
    }

    #[test]
    fn safe_filename_handles_unicode() {
        use EvidenceKind::*;
        assert_eq!(safe_filename("Glyndŵr café.png", Png), "Glyndwr cafe.png");
        // Right-to-left override used to disguise "exe.jpg" as "gpj.exe".
        assert_eq!(safe_filename("photo\u{202e}gpj.exe", Jpeg), "photogpj.jpg");
        assert_eq!(safe_filename("威胁.pdf", Pdf), "evidence.pdf");
        assert_eq!(safe_filename("😀😀.txt", Text), "evidence.txt");
    }

    #[test]
    fn safe_filename_caps_long_names() {
        let long = format!("{}.pdf", "a".repeat(500));
        let name = safe_filename(&long, EvidenceKind::Pdf);
        assert_eq!(name.len(), 100);
        assert!(name.ends_with("a.pdf"));
        let long_unicode = format!("{}.png", "é".repeat(300));
        let name = safe_filename(&long_unicode, EvidenceKind::Webp);
        assert_eq!(name.chars().count(), 100);
        assert!(name.ends_with("e.webp"));
        // Truncation must not leave a trailing dot before the extension.
        let dotted = format!("{}.{}.gif", "b".repeat(95), "c".repeat(20));
        let name = safe_filename(&dotted, EvidenceKind::Gif);
        assert_eq!(name, format!("{}.gif", "b".repeat(95)));
    }
}
