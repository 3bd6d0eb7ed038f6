//! Reading what the loopback SMTP sink received, for tests that follow emails (reports,
//! escalations, check-in alarms).

use std::time::Duration;

use shield_testkit::{ReceivedEmail, SmtpSink};

/// How long a test waits for mail the worker should send at once.
pub const MAIL_WAIT: Duration = Duration::from_secs(20);

/// The next `n` messages after the `seen` already read; advances `seen`.
pub async fn next_mail(sink: &SmtpSink, seen: &mut usize, n: usize) -> Vec<ReceivedEmail> {
    let all = sink
        .wait_for(*seen + n, MAIL_WAIT)
        .await
        .unwrap_or_else(|e| panic!("mail did not arrive: {e:?}"));
    let new = all[*seen..].to_vec();
    *seen = all.len();
    new
}

/// (recipient, subject) of each message, sorted.
pub fn addressed(mail: &[ReceivedEmail]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = mail
        .iter()
        .map(|m| {
            assert_eq!(m.recipients.len(), 1, "one recipient per message");
            (
                m.recipients[0].clone(),
                m.subject.clone().unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

/// `expected` (recipient, subject) pairs as owned strings, sorted like [`addressed`].
pub fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = expected
        .iter()
        .map(|(a, s)| ((*a).to_owned(), (*s).to_owned()))
        .collect();
    out.sort();
    out
}

/// Whether a report email is about report `id` (each ends with the report's link).
pub fn is_about(mail: &ReceivedEmail, id: i64) -> bool {
    mail.text()
        .trim_end()
        .ends_with(&format!("http://localhost/reports/{id}"))
}
