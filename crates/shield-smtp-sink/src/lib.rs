//! A tiny SMTP server for tests and `shield bench intake`: listens on 127.0.0.1, speaks just
//! enough SMTP for lettre (EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT), and keeps
//! every message it accepts with the moment it arrived. It can be switched to answer `451` (try
//! again later) to every recipient, to test retries.
//!
//! A crate of its own, not part of `shield-testkit`, because the benchmark in the `shield`
//! binary needs it too and the testkit is a dev-dependency only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// One message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedEmail {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`), without angle brackets.
    pub recipients: Vec<String>,
    /// The message as sent after `DATA`, dot-unstuffed, lines joined with `\r\n`.
    pub data: String,
    /// The `Message-ID` header's value, if any.
    pub message_id: Option<String>,
    /// The `Subject` header's value, if any.
    pub subject: Option<String>,
    /// When the sink accepted it (the end of `DATA`).
    pub received_at: Instant,
}

impl ReceivedEmail {
    /// Header names in order, as written.
    pub fn header_names(&self) -> Vec<String> {
        headers(&self.data).into_iter().map(|(n, _)| n).collect()
    }

    /// A header's (unfolded) value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.data, name)
    }

    /// Everything after the blank line that ends the headers.
    pub fn body(&self) -> &str {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, body)| body)
            .unwrap_or("")
    }

    /// The body as text: quoted-printable decoded when the message says it is, line endings as
    /// `\n`.
    pub fn text(&self) -> String {
        let qp = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"));
        let body = self.body().replace("\r\n", "\n");
        if qp { quoted_printable(&body) } else { body }
    }
}

/// The sink did not receive as many messages as asked for in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkTimeout {
    pub wanted: usize,
    pub received: usize,
}

#[derive(Debug, Default)]
struct State {
    messages: Mutex<Vec<ReceivedEmail>>,
    arrived: Notify,
    failing: AtomicBool,
    rejected: AtomicUsize,
    connections: AtomicUsize,
}

/// A running sink; stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Starts listening on 127.0.0.1 on a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP sink");
        let addr = listener.local_addr().expect("the SMTP sink's address");
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    // A client that hangs up mid-conversation just ends its session.
                    let _ = session(stream, &state).await;
                });
            }
        });
        Self { addr, state, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every message accepted so far, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedEmail> {
        self.state.messages.lock().expect("sink lock").clone()
    }

    /// While `true`, every `RCPT TO` is answered `451 4.3.0` (temporary failure) and nothing is
    /// accepted.
    pub fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// How many recipients were refused with 451.
    pub fn rejected(&self) -> usize {
        self.state.rejected.load(Ordering::SeqCst)
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` messages have arrived (woken by each arrival, no polling) and
    /// returns them all, or says how many came before `timeout` ran out.
    pub async fn wait_for(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedEmail>, SinkTimeout> {
        self.wait_until(|messages| messages.len() >= n, timeout)
            .await
            .map_err(|received| SinkTimeout {
                wanted: n,
                received,
            })
    }

    /// Waits until `done` holds for the messages received so far (checked on each arrival, no
    /// polling) and returns them all; on timeout, how many had arrived.
    pub async fn wait_until(
        &self,
        done: impl Fn(&[ReceivedEmail]) -> bool,
        timeout: Duration,
    ) -> Result<Vec<ReceivedEmail>, usize> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.state.arrived.notified();
            tokio::pin!(arrived);
            // Registered before the check, so an arrival between the two is not missed.
            arrived.as_mut().enable();
            let received = {
                let messages = self.state.messages.lock().expect("sink lock");
                if done(&messages) {
                    return Ok(messages.clone());
                }
                messages.len()
            };
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return Err(received);
            }
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Line-oriented reading and writing with only tokio's `net` feature.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// The next line without its line ending; `None` at end of stream.
    async fn line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            self.stream.readable().await?;
            let mut chunk = [0u8; 4096];
            match self.stream.try_read(&mut chunk) {
                Ok(0) => return Ok(None),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }

    async fn reply(&mut self, text: &str) -> std::io::Result<()> {
        let mut rest = text.as_bytes();
        while !rest.is_empty() {
            self.stream.writable().await?;
            match self.stream.try_write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// The address inside `<…>` after a `MAIL FROM:` / `RCPT TO:` verb (parameters ignored).
fn path(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

async fn session(stream: TcpStream, state: &State) -> std::io::Result<()> {
    let mut conn = Conn {
        stream,
        buf: Vec::new(),
    };
    conn.reply("220 127.0.0.1 shield-testkit SMTP sink\r\n")
        .await?;
    let mut from: Option<String> = None;
    let mut recipients: Vec<String> = Vec::new();
    while let Some(line) = conn.line().await? {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            conn.reply("250-127.0.0.1\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                .await?;
        } else if upper.starts_with("HELO") {
            conn.reply("250 127.0.0.1\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = Some(path(&line["MAIL FROM:".len()..]));
            recipients.clear();
            conn.reply("250 2.1.0 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            if from.is_none() {
                conn.reply("503 5.5.1 MAIL first\r\n").await?;
            } else if state.failing.load(Ordering::SeqCst) {
                state.rejected.fetch_add(1, Ordering::SeqCst);
                conn.reply("451 4.3.0 try again later\r\n").await?;
            } else {
                recipients.push(path(&line["RCPT TO:".len()..]));
                conn.reply("250 2.1.5 OK\r\n").await?;
            }
        } else if upper == "DATA" {
            let Some(mail_from) = from.take().filter(|_| !recipients.is_empty()) else {
                conn.reply("503 5.5.1 no valid recipients\r\n").await?;
                continue;
            };
            conn.reply("354 end data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut lines = Vec::new();
            loop {
                let Some(l) = conn.line().await? else {
                    return Ok(());
                };
                if l == "." {
                    break;
                }
                lines.push(l.strip_prefix('.').map(str::to_owned).unwrap_or(l));
            }
            let data = lines.join("\r\n");
            let received = ReceivedEmail {
                mail_from,
                recipients: std::mem::take(&mut recipients),
                message_id: header(&data, "Message-ID"),
                subject: header(&data, "Subject"),
                data,
                received_at: Instant::now(),
            };
            state.messages.lock().expect("sink lock").push(received);
            state.arrived.notify_waiters();
            conn.reply("250 2.0.0 accepted\r\n").await?;
        } else if upper == "RSET" {
            from = None;
            recipients.clear();
            conn.reply("250 2.0.0 OK\r\n").await?;
        } else if upper.starts_with("NOOP") {
            conn.reply("250 2.0.0 OK\r\n").await?;
        } else if upper == "QUIT" {
            conn.reply("221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            conn.reply("502 5.5.2 not implemented\r\n").await?;
        }
    }
    Ok(())
}

/// The headers of a message, unfolded, in order.
fn headers(data: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in data.split("\r\n") {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    out
}

/// Decodes quoted-printable (soft line breaks and `=XX`), enough for test assertions.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn header(data: &str, name: &str) -> Option<String> {
    headers(data)
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::{header, path, quoted_printable};

    #[test]
    fn reads_paths_and_folded_headers() {
        assert_eq!(path(" <a@b.example> SIZE=10"), "a@b.example");
        assert_eq!(path("<>"), "");
        let data = "Subject: one\r\n two\r\nMessage-ID: <x@y>\r\n\r\nSubject: not a header";
        assert_eq!(header(data, "subject").as_deref(), Some("one two"));
        assert_eq!(header(data, "Message-Id").as_deref(), Some("<x@y>"));
        assert_eq!(quoted_printable("a=3Db=\nc =C3=A9"), "a=bc \u{e9}");
    }
}
