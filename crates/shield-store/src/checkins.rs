//! Lone-working check-in sessions, their PINs, and the alarms they raise.
//!
//! # Timers are rows
//!
//! A live session (`status = 'active'`) has a `next_due_at_ms` (the next "I'm safe") and an
//! `ends_at_ms` (the expected end). [`CheckinStore::fire_due_checkins`] picks live sessions
//! whose time has passed and, each in one transaction, marks the session `alarm` and creates a
//! P1 report (category `lone_working_alarm`, reason "Missed check-in" or "Session overran")
//! through the same code as [`crate::ReportStore::create_report`]: normal routing, the lead
//! contacts' emails, and the acknowledge-by deadline that escalates lead → deputy →
//! coordinator. On PostgreSQL the pick is `FOR NO KEY UPDATE SKIP LOCKED` and the update
//! re-checks `status = 'active'`, so two instances never raise the same alarm twice; on SQLite
//! `BEGIN IMMEDIATE` serialises the firers. "I'm safe", ending and the firer all change the row
//! conditionally on it still being active, so whichever commits first wins.
//!
//! The panic button and the duress PIN raise the same alarm at once, in the transaction of the
//! request. Where the candidate is (`place`) is sealed; the alarm's report details are built
//! from it with [`Sealer::open`], so the police see where to go.

use async_trait::async_trait;
use shield_domain::audit::AuditEvent;
use shield_domain::checkin::AlarmReason;
use shield_domain::{CandidateId, EpochMs, UserId};

use crate::StoreError;
use crate::reports::{CreatedReport, FiredDeadlines, Sealer};

/// A session to start. `place` is sealed as `checkin_sessions.place`. `Debug` leaves it out.
#[derive(Clone)]
pub struct NewCheckin {
    pub candidate_id: CandidateId,
    pub started_by: UserId,
    /// `shield_domain::checkin::ActivityKind::key()`.
    pub kind: String,
    pub place: String,
    pub interval_ms: i64,
    pub ends_at_ms: EpochMs,
    /// Someone to tell for this session only, instead of the candidate's standing buddy;
    /// sealed as `checkin_sessions.buddy`.
    pub buddy: Option<shield_domain::checkin::Buddy>,
}

impl std::fmt::Debug for NewCheckin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCheckin")
            .field("candidate_id", &self.candidate_id)
            .field("kind", &self.kind)
            .field("interval_ms", &self.interval_ms)
            .field("ends_at_ms", &self.ends_at_ms)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckinStatus {
    Active,
    Ended,
    Alarm,
}

impl CheckinStatus {
    pub fn key(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Ended => "ended",
            Self::Alarm => "alarm",
        }
    }

    fn parse(value: &str) -> Result<Self, StoreError> {
        match value {
            "active" => Ok(Self::Active),
            "ended" => Ok(Self::Ended),
            "alarm" => Ok(Self::Alarm),
            other => Err(StoreError::Corrupt(format!(
                "unknown check-in status {other:?}"
            ))),
        }
    }
}

/// A session as stored. `sealed_place` is opened by the caller with
/// `(checkin_sessions, place, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinRecord {
    pub id: i64,
    pub candidate_id: CandidateId,
    pub started_by: UserId,
    pub kind: String,
    pub interval_ms: i64,
    pub started_at_ms: EpochMs,
    pub last_safe_at_ms: EpochMs,
    pub next_due_at_ms: EpochMs,
    pub ends_at_ms: EpochMs,
    pub status: CheckinStatus,
    pub alarm: Option<AlarmReason>,
    pub alarm_report_id: Option<i64>,
    pub closed_at_ms: Option<EpochMs>,
    /// When the next reminder goes (`None` once sent, or for a closed session).
    pub remind_at_ms: Option<EpochMs>,
    /// Wrong PINs entered on this session.
    pub pin_failures: i64,
    pub sealed_place: Vec<u8>,
    /// This session's own buddy, sealed with `(checkin_sessions, buddy, id)`.
    pub sealed_buddy: Option<Vec<u8>>,
}

/// A person's PIN hashes (Argon2id PHC strings).
#[derive(Clone, PartialEq, Eq)]
pub struct PinHashes {
    pub pin_phc: String,
    pub duress_phc: String,
}

impl std::fmt::Debug for PinHashes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinHashes(..)")
    }
}

/// How a session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    Normal,
    /// The duress PIN: the session looks ended, and a silent alarm is raised.
    Duress,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CheckinRow {
    pub id: i64,
    pub candidate_id: i64,
    pub started_by: i64,
    pub kind: String,
    pub interval_ms: i64,
    pub started_at_ms: i64,
    pub last_safe_at_ms: i64,
    pub next_due_at_ms: i64,
    pub ends_at_ms: i64,
    pub status: String,
    pub alarm: Option<String>,
    pub alarm_report_id: Option<i64>,
    pub closed_at_ms: Option<i64>,
    pub remind_at_ms: Option<i64>,
    pub pin_failures: i64,
    pub place: Vec<u8>,
    pub buddy: Option<Vec<u8>>,
}

impl CheckinRow {
    pub(crate) fn into_record(self) -> Result<CheckinRecord, StoreError> {
        let alarm = match self.alarm.as_deref() {
            None => None,
            Some(a) => Some(AlarmReason::parse(a).ok_or_else(|| {
                StoreError::Corrupt(format!("check-in {}: unknown alarm {a:?}", self.id))
            })?),
        };
        Ok(CheckinRecord {
            id: self.id,
            candidate_id: CandidateId(self.candidate_id),
            started_by: UserId(self.started_by),
            kind: self.kind,
            interval_ms: self.interval_ms,
            started_at_ms: self.started_at_ms,
            last_safe_at_ms: self.last_safe_at_ms,
            next_due_at_ms: self.next_due_at_ms,
            ends_at_ms: self.ends_at_ms,
            status: CheckinStatus::parse(&self.status)?,
            alarm,
            alarm_report_id: self.alarm_report_id,
            closed_at_ms: self.closed_at_ms,
            remind_at_ms: self.remind_at_ms,
            pin_failures: self.pin_failures,
            sealed_place: self.place,
            sealed_buddy: self.buddy,
        })
    }
}

pub(crate) const CHECKIN_SELECT: &str = "SELECT id, candidate_id, started_by, kind, interval_ms,
        started_at_ms, last_safe_at_ms, next_due_at_ms, ends_at_ms, status, alarm,
        alarm_report_id, closed_at_ms, remind_at_ms, pin_failures, place, buddy
     FROM checkin_sessions";

/// SQLite's pick of a due session: `$1` now, `$2` limit. Run inside `BEGIN IMMEDIATE`.
pub(crate) const SQLITE_DUE_CHECKINS: &str = "SELECT id, next_due_at_ms, ends_at_ms
    FROM checkin_sessions
    WHERE status = 'active' AND (next_due_at_ms <= $1 OR ends_at_ms <= $1)
    ORDER BY next_due_at_ms, id LIMIT $2";

/// PostgreSQL's pick: a session another firer (or an "I'm safe", an end) holds is skipped, not
/// waited for; the firing UPDATE re-checks `status = 'active'`.
pub(crate) const POSTGRES_DUE_CHECKINS: &str = "SELECT id, next_due_at_ms, ends_at_ms
    FROM checkin_sessions
    WHERE status = 'active' AND (next_due_at_ms <= $1 OR ends_at_ms <= $1)
    ORDER BY next_due_at_ms, id LIMIT $2
    FOR NO KEY UPDATE SKIP LOCKED";

/// SQLite's pick of a due reminder: `$1` now, `$2` limit. Run inside `BEGIN IMMEDIATE`.
pub(crate) const SQLITE_DUE_REMINDERS: &str = "SELECT id, remind_at_ms
    FROM checkin_sessions
    WHERE status = 'active' AND remind_at_ms IS NOT NULL AND remind_at_ms <= $1
    ORDER BY remind_at_ms, id LIMIT $2";

/// PostgreSQL's pick of a due reminder; the clearing UPDATE re-checks the row.
pub(crate) const POSTGRES_DUE_REMINDERS: &str = "SELECT id, remind_at_ms
    FROM checkin_sessions
    WHERE status = 'active' AND remind_at_ms IS NOT NULL AND remind_at_ms <= $1
    ORDER BY remind_at_ms, id LIMIT $2
    FOR NO KEY UPDATE SKIP LOCKED";

/// The outbox template of a check-in reminder: params `session` (id, for the link) and `due`
/// (epoch ms of the check-in). Content-free: no place, no activity.
pub const CHECKIN_REMINDER: &str = "checkin_reminder";
/// The outbox template of the email to a candidate's buddy when an alarm is raised: params
/// `buddy_alarm` (the alarm report's id, never shown or linked) and `reason` (an
/// `AlarmReason` key); the candidate's name travels sealed in the row's secret, bound to
/// `(buddy_alerts, name, report id)`.
pub const BUDDY_ALARM: &str = "buddy_alarm";

/// What happened to a wrong PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrongPin {
    /// The session is not active (ended, or an alarm was raised): nothing counted.
    Inactive,
    /// Counted; this many tries are left.
    Counted { left: i64 },
    /// That was the last try: the session is closed as an alarm, this report raised.
    Alarm(CreatedReport),
}

/// When a session's time ran out, which alarm it is.
pub(crate) fn due_reason(next_due_at_ms: i64, ends_at_ms: i64) -> AlarmReason {
    if ends_at_ms < next_due_at_ms {
        AlarmReason::Overran
    } else {
        AlarmReason::MissedCheckIn
    }
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%-d %b %Y %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// The alarm report's details (the JSON the web layer's report page reads: what, when, where).
pub(crate) fn alarm_details(
    reason: AlarmReason,
    session: Option<&CheckinRow>,
    place: Option<String>,
    buddy: Option<&shield_domain::checkin::Buddy>,
    now_ms: i64,
) -> Vec<u8> {
    let mut what = reason.what().to_owned();
    if let Some(b) = buddy {
        if reason.tells_buddy() {
            what.push_str(&format!(
                "\n\nTheir buddy, {} ({}, {}), has been emailed at the same time and asked to call them, and 999 if they cannot reach them.",
                b.name, b.phone, b.email
            ));
        } else {
            what.push_str(&format!(
                "\n\nTheir buddy, {} ({}, {}), has NOT been told, so nothing reaches the person who may be with them.",
                b.name, b.phone, b.email
            ));
        }
    }
    let mut when_text = format!("Alarm raised {}", when(now_ms));
    if let Some(s) = session {
        let kind = shield_domain::checkin::ActivityKind::parse(&s.kind)
            .map(|k| k.label())
            .unwrap_or("Something else");
        what.push_str(&format!(
            "\n\nCheck-in session {}: {kind}, started {}, checking in every {} minutes, expected to end {}. Last \"I'm safe\": {}. Next check-in was due {}.",
            s.id,
            when(s.started_at_ms),
            s.interval_ms / 60_000,
            when(s.ends_at_ms),
            when(s.last_safe_at_ms),
            when(s.next_due_at_ms),
        ));
        when_text.push_str(&format!("; last known safe {}", when(s.last_safe_at_ms)));
    }
    serde_json::json!({
        "what": what,
        "when": when_text,
        "where": place.unwrap_or_default(),
    })
    .to_string()
    .into_bytes()
}

/// Check-in sessions and PINs. Every [`crate::Store`] is one.
#[async_trait]
pub trait CheckinStore: Send + Sync {
    async fn set_checkin_pins(
        &self,
        user: UserId,
        pins: &PinHashes,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    async fn checkin_pins(&self, user: UserId) -> Result<Option<PinHashes>, StoreError>;

    /// Starts a session: the first check-in falls due one interval from now.
    async fn start_checkin(
        &self,
        session: &NewCheckin,
        sealer: &dyn Sealer,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError>;

    async fn checkin_session(&self, id: i64) -> Result<Option<CheckinRecord>, StoreError>;

    /// A candidate's sessions, newest first (at most `limit`).
    async fn checkin_sessions(
        &self,
        candidate: CandidateId,
        limit: u32,
    ) -> Result<Vec<CheckinRecord>, StoreError>;

    /// "I'm safe": the next check-in falls due one interval from now. `None` if the session
    /// is no longer active (ended, or an alarm was raised first).
    async fn check_in_safe(
        &self,
        id: i64,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<Option<EpochMs>, StoreError>;

    /// Ends a session (PIN checked by the caller). With [`EndKind::Duress`] the session is
    /// marked ended in the same way and a P1 alarm is raised in the same transaction. `false`
    /// if the session was not active.
    async fn end_checkin(
        &self,
        id: i64,
        how: EndKind,
        sealer: &dyn Sealer,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// The panic button: a P1 alarm at once, for the candidate; an active `session` of theirs
    /// is closed as `alarm` with it (its place goes into the report).
    async fn raise_panic(
        &self,
        candidate: CandidateId,
        by: UserId,
        session: Option<i64>,
        sealer: &dyn Sealer,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<CreatedReport, StoreError>;

    /// Raises the alarm of up to `limit` sessions whose check-in or end has passed, each
    /// exactly once (module documentation).
    async fn fire_due_checkins(
        &self,
        now_ms: EpochMs,
        limit: u32,
        sealer: &dyn Sealer,
    ) -> Result<FiredDeadlines, StoreError>;

    /// The earliest time a live session falls due or is to be reminded.
    async fn next_checkin_due(&self) -> Result<Option<EpochMs>, StoreError>;

    /// Emails the reminders of up to `limit` live sessions whose reminder time has passed:
    /// each reminder is cleared by a conditional update in the transaction that queues its
    /// email, so two workers send it once and a restart loses none.
    async fn fire_due_reminders(
        &self,
        now_ms: EpochMs,
        limit: u32,
    ) -> Result<FiredDeadlines, StoreError>;

    /// Counts a wrong PIN against an active session, in one transaction; the
    /// [`shield_domain::checkin::MAX_PIN_FAILURES`]th closes it and raises an alarm.
    async fn wrong_pin(
        &self,
        id: i64,
        sealer: &dyn Sealer,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<WrongPin, StoreError>;

    /// Sets (`Some`, sealed by the caller as `(checkin_buddies, contact, candidate id)`) or
    /// removes (`None`) a candidate's buddy, with its audit event.
    async fn set_checkin_buddy(
        &self,
        candidate: CandidateId,
        sealed: Option<&[u8]>,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// A candidate's buddy, sealed.
    async fn checkin_buddy(&self, candidate: CandidateId) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Fires both kinds of timer for the worker: check-in alarms first (their reports get their
/// acknowledge-by deadlines), then report deadlines. Give it to
/// `shield_jobs::Worker::with_deadlines`.
pub struct Timers {
    store: std::sync::Arc<dyn crate::Store>,
    sealer: std::sync::Arc<dyn Sealer>,
    /// When the scheduled plan reminders were last looked for (they are looked for at most
    /// once per [`NUDGE_SWEEP_MS`] of the injected clock: a sweep reads every candidate).
    last_nudge_sweep_ms: std::sync::Mutex<Option<EpochMs>>,
}

/// How often the worker looks for candidates due a scheduled plan reminder.
pub const NUDGE_SWEEP_MS: i64 = 3_600_000;
/// The gap between scheduled plan reminders to one candidate (and after enrolling).
pub const NUDGE_GAP_MS: i64 = 7 * 24 * 3_600_000;

impl Timers {
    pub fn new(
        store: std::sync::Arc<dyn crate::Store>,
        sealer: std::sync::Arc<dyn Sealer>,
    ) -> Self {
        Self {
            store,
            sealer,
            last_nudge_sweep_ms: std::sync::Mutex::new(None),
        }
    }

    /// Briefing reminders due now, and (at most hourly) the scheduled plan reminders.
    async fn fire_reminders(&self, now_ms: EpochMs, limit: u32) -> Result<usize, StoreError> {
        let mut fired = self
            .store
            .fire_due_briefing_reminders(now_ms, limit)
            .await?;
        let sweep = {
            let mut last = self
                .last_nudge_sweep_ms
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let due = last.is_none_or(|t| now_ms - t >= NUDGE_SWEEP_MS);
            if due {
                *last = Some(now_ms);
            }
            due
        };
        if sweep {
            fired += self
                .store
                .fire_scheduled_nudges(now_ms, NUDGE_GAP_MS, limit)
                .await?;
        }
        Ok(fired)
    }
}

impl std::fmt::Debug for Timers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timers").finish_non_exhaustive()
    }
}

#[async_trait]
impl crate::reports::DeadlineStore for Timers {
    async fn fire_due_deadlines(
        &self,
        now_ms: EpochMs,
        limit: u32,
    ) -> Result<FiredDeadlines, StoreError> {
        let alarms = self
            .store
            .fire_due_checkins(now_ms, limit, self.sealer.as_ref())
            .await;
        if let Ok(a) = &alarms
            && a.fired > 0
        {
            tracing::warn!(alarms = a.fired, "lone-working alarms raised");
        }
        // Reminders after alarms: a session whose check-in has already passed raises its
        // alarm instead of being reminded.
        let reminders = self.store.fire_due_reminders(now_ms, limit).await;
        // A failure to fire alarms must not stop escalations, and the other way round.
        let deadlines = self.store.fire_due_deadlines(now_ms, limit).await;
        // Requests for additional security: their assess-by and decide-by deadlines.
        let security = self.store.fire_due_security_deadlines(now_ms, limit).await;
        // Briefings: the day-before reminders and the plan nudges.
        let briefings = self.fire_reminders(now_ms, limit).await;
        match (alarms, reminders, deadlines, security, briefings) {
            (Ok(a), Ok(r), Ok(d), Ok(s), Ok(b)) => Ok(FiredDeadlines {
                // Reminders are not escalations: they count as notifications only.
                fired: a.fired + d.fired + s.fired + b,
                notifications: a.notifications
                    + r.notifications
                    + d.notifications
                    + s.notifications
                    + b,
            }),
            (Err(e), _, _, _, _)
            | (_, Err(e), _, _, _)
            | (_, _, Err(e), _, _)
            | (_, _, _, Err(e), _)
            | (_, _, _, _, Err(e)) => Err(e),
        }
    }

    async fn next_deadline(&self) -> Result<Option<EpochMs>, StoreError> {
        let a = self.store.next_checkin_due().await?;
        let d = self.store.next_deadline().await?;
        let s = self.store.next_security_deadline().await?;
        let r = self.store.next_briefing_reminder().await?;
        Ok([a, d, s, r].into_iter().flatten().min())
    }
}

/// Implements [`CheckinStore`] for one backend; `$due_sql` is `SQLITE_DUE_CHECKINS` or
/// `POSTGRES_DUE_CHECKINS`, `$remind_sql` the matching `*_DUE_REMINDERS`. Lock order: the session row, then (through the report) the audit
/// head, as in `reports_impl!`.
macro_rules! checkins_impl {
    ($store:ty, $db:ty, $due_sql:expr, $remind_sql:expr) => {
        impl $store {
            async fn checkin_row(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
            ) -> Result<Option<crate::checkins::CheckinRow>, crate::StoreError> {
                let sql = format!("{} WHERE id = $1", crate::checkins::CHECKIN_SELECT);
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?)
            }

            fn checkin_audit(
                audit: &shield_domain::audit::AuditEvent,
                id: i64,
            ) -> Result<shield_domain::audit::AuditEvent, crate::StoreError> {
                let subject = shield_domain::audit::AuditSubject::new("checkin_session", &id.to_string())
                    .map_err(crate::reports_sql::field)?;
                Ok(audit.clone().with_subject(subject))
            }

            /// Raises an alarm inside the caller's transaction: a P1 report for the candidate,
            /// made by `reported_by`, with the session's details (if any), linked back to it.
            #[allow(clippy::too_many_arguments)]
            async fn raise_alarm(
                conn: &mut <$db as sqlx::Database>::Connection,
                candidate: i64,
                reported_by: i64,
                reason: shield_domain::checkin::AlarmReason,
                session: Option<&crate::checkins::CheckinRow>,
                sealer: &dyn crate::reports::Sealer,
                now_ms: i64,
            ) -> Result<crate::reports::CreatedReport, crate::StoreError> {
                let place = session.and_then(|s| {
                    sealer
                        .open("checkin_sessions", "place", s.id, &s.place)
                        .and_then(|p| String::from_utf8(p).ok())
                });
                // The buddy: this session's own, else the candidate's standing one (a value
                // that will not open is skipped: the police are alerted regardless).
                let session_buddy = session.and_then(|s| {
                    s.buddy.as_ref().and_then(|b| {
                        sealer
                            .open("checkin_sessions", "buddy", s.id, b)
                            .and_then(|p| serde_json::from_slice(&p).ok())
                    })
                });
                let buddy: Option<shield_domain::checkin::Buddy> = match session_buddy {
                    Some(b) => Some(b),
                    None => {
                        let sealed: Option<(Vec<u8>,)> = sqlx::query_as(
                            "SELECT contact FROM checkin_buddies WHERE candidate_id = $1",
                        )
                        .bind(candidate)
                        .fetch_optional(&mut *conn)
                        .await?;
                        sealed.and_then(|(b,)| {
                            sealer
                                .open("checkin_buddies", "contact", candidate, &b)
                                .and_then(|p| serde_json::from_slice(&p).ok())
                        })
                    }
                };
                let report = crate::reports::NewReport {
                    candidate_id: shield_domain::CandidateId(candidate),
                    reported_by: shield_domain::UserId(reported_by),
                    category: shield_domain::report::Category::LoneWorkingAlarm,
                    happening_now: true,
                    priority: shield_domain::report::Priority::P1,
                    reasons: vec![reason.reason().to_owned()],
                    details: crate::checkins::alarm_details(
                        reason,
                        session,
                        place,
                        buddy.as_ref(),
                        now_ms,
                    ),
                    offender_tokens: Vec::new(),
                    evidence: Vec::new(),
                    // A duress alarm must not show on the candidate's side.
                    silent: reason == shield_domain::checkin::AlarmReason::Duress,
                };
                let mut audit = shield_domain::audit::AuditEvent::from_millis(
                    shield_domain::audit::AuditAction::parse("checkin_alarm")
                        .map_err(crate::reports_sql::field)?,
                    shield_domain::audit::AuditOutcome::Success,
                    now_ms,
                )
                .map_err(crate::reports_sql::field)?
                .with_detail("reason", reason.key())
                .map_err(crate::reports_sql::field)?;
                if let Some(s) = session {
                    audit = audit
                        .with_detail("checkin_session", &s.id.to_string())
                        .map_err(crate::reports_sql::field)?;
                }
                let mut created =
                    Self::insert_report(&mut *conn, &report, sealer, now_ms, &audit).await?;
                // The buddy is told at once, with the named contacts: their name, what
                // happened, "call them, then 999". Never for a duress alarm.
                if let Some(b) = buddy.as_ref().filter(|_| reason.tells_buddy()) {
                    let (name,): (String,) =
                        sqlx::query_as("SELECT name FROM candidates WHERE id = $1")
                            .bind(candidate)
                            .fetch_one(&mut *conn)
                            .await?;
                    let to = shield_domain::Email::parse(&b.email).map_err(crate::reports_sql::field)?;
                    let params = crate::outbox::OutboxParams::new()
                        .with_int("buddy_alarm", created.id)
                        .and_then(|p| p.with_id("reason", reason.key()))
                        .map_err(crate::reports_sql::field)?;
                    let msg = crate::outbox::NewOutboxMessage::email(
                        &to,
                        crate::checkins::BUDDY_ALARM,
                        params,
                    )
                    .map_err(crate::reports_sql::field)?
                    .with_secret(sealer.seal("buddy_alerts", "name", created.id, name.as_bytes()));
                    created.notifications +=
                        Self::notify_report(&mut *conn, created.id, &[msg], now_ms).await?;
                }
                if let Some(s) = session {
                    sqlx::query("UPDATE checkin_sessions SET alarm_report_id = $2 WHERE id = $1")
                        .bind(s.id)
                        .bind(created.id)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(created)
            }
        }

        #[async_trait::async_trait]
        impl crate::checkins::CheckinStore for $store {
            async fn set_checkin_pins(
                &self,
                user: shield_domain::UserId,
                pins: &crate::checkins::PinHashes,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO checkin_pins (user_id, pin_phc, duress_phc, updated_at_ms)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (user_id) DO UPDATE SET pin_phc = excluded.pin_phc,
                        duress_phc = excluded.duress_phc, updated_at_ms = excluded.updated_at_ms",
                )
                .bind(user.0)
                .bind(&pins.pin_phc)
                .bind(&pins.duress_phc)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                Self::append_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn checkin_pins(
                &self,
                user: shield_domain::UserId,
            ) -> Result<Option<crate::checkins::PinHashes>, crate::StoreError> {
                let row: Option<(String, String)> = sqlx::query_as(
                    "SELECT pin_phc, duress_phc FROM checkin_pins WHERE user_id = $1",
                )
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(pin_phc, duress_phc)| crate::checkins::PinHashes { pin_phc, duress_phc }))
            }

            async fn start_checkin(
                &self,
                session: &crate::checkins::NewCheckin,
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<i64, crate::StoreError> {
                if session.interval_ms <= 0 || session.ends_at_ms <= now_ms {
                    return Err(crate::StoreError::Conflict(
                        "a session needs an interval and an end in the future".into(),
                    ));
                }
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO checkin_sessions (candidate_id, started_by, kind, place,
                        interval_ms, started_at_ms, last_safe_at_ms, next_due_at_ms, ends_at_ms,
                        status, remind_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, 'active', $9) RETURNING id",
                )
                .bind(session.candidate_id.0)
                .bind(session.started_by.0)
                .bind(&session.kind)
                .bind(Vec::<u8>::new())
                .bind(session.interval_ms)
                .bind(now_ms)
                .bind(now_ms + session.interval_ms)
                .bind(session.ends_at_ms)
                .bind(shield_domain::checkin::reminder_at(
                    (now_ms + session.interval_ms).min(session.ends_at_ms),
                    session.interval_ms,
                ))
                .fetch_one(&mut *tx)
                .await?;
                let sealed = sealer.seal("checkin_sessions", "place", id, session.place.as_bytes());
                let buddy = match &session.buddy {
                    Some(b) => Some(sealer.seal(
                        "checkin_sessions",
                        "buddy",
                        id,
                        &serde_json::to_vec(b).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?,
                    )),
                    None => None,
                };
                sqlx::query("UPDATE checkin_sessions SET place = $2, buddy = $3 WHERE id = $1")
                    .bind(id)
                    .bind(sealed)
                    .bind(buddy)
                    .execute(&mut *tx)
                    .await?;
                Self::append_audit(&mut *tx, &Self::checkin_audit(audit, id)?).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn checkin_session(
                &self,
                id: i64,
            ) -> Result<Option<crate::checkins::CheckinRecord>, crate::StoreError> {
                let mut conn = self.pool.acquire().await?;
                Self::checkin_row(&mut *conn, id)
                    .await?
                    .map(crate::checkins::CheckinRow::into_record)
                    .transpose()
            }

            async fn checkin_sessions(
                &self,
                candidate: shield_domain::CandidateId,
                limit: u32,
            ) -> Result<Vec<crate::checkins::CheckinRecord>, crate::StoreError> {
                let sql = format!(
                    "{} WHERE candidate_id = $1 ORDER BY id DESC LIMIT $2",
                    crate::checkins::CHECKIN_SELECT
                );
                let rows: Vec<crate::checkins::CheckinRow> = sqlx::query_as(&sql)
                    .bind(candidate.0)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(crate::checkins::CheckinRow::into_record).collect()
            }

            async fn check_in_safe(
                &self,
                id: i64,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<Option<shield_domain::EpochMs>, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<(i64, i64, i64)> = sqlx::query_as(
                    "UPDATE checkin_sessions SET last_safe_at_ms = $2,
                        next_due_at_ms = $2 + interval_ms
                     WHERE id = $1 AND status = 'active'
                     RETURNING next_due_at_ms, interval_ms, ends_at_ms",
                )
                .bind(id)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((next, interval, ends_at)) = row else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                // The next reminder, in the same transaction: a reminder already sent for
                // this check-in is not sent again, and one not yet sent moves with it.
                sqlx::query("UPDATE checkin_sessions SET remind_at_ms = $2 WHERE id = $1")
                    .bind(id)
                    .bind(shield_domain::checkin::reminder_at(next.min(ends_at), interval))
                    .execute(&mut *tx)
                    .await?;
                Self::append_audit(&mut *tx, &Self::checkin_audit(audit, id)?).await?;
                tx.commit().await?;
                Ok(Some(next))
            }

            async fn end_checkin(
                &self,
                id: i64,
                how: crate::checkins::EndKind,
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                // A duress end is stored as an alarm; what the person sees is the caller's.
                let (status, alarm) = match how {
                    crate::checkins::EndKind::Normal => ("ended", None),
                    crate::checkins::EndKind::Duress => (
                        "alarm",
                        Some(shield_domain::checkin::AlarmReason::Duress.key()),
                    ),
                };
                let done = sqlx::query(
                    "UPDATE checkin_sessions SET status = $2, alarm = $3, closed_at_ms = $4,
                        remind_at_ms = NULL
                     WHERE id = $1 AND status = 'active'",
                )
                .bind(id)
                .bind(status)
                .bind(alarm)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                if how == crate::checkins::EndKind::Duress {
                    let row = Self::checkin_row(&mut *tx, id).await?.ok_or_else(|| {
                        crate::StoreError::Conflict(format!("no check-in session {id}"))
                    })?;
                    Self::raise_alarm(
                        &mut *tx,
                        row.candidate_id,
                        row.started_by,
                        shield_domain::checkin::AlarmReason::Duress,
                        Some(&row),
                        sealer,
                        now_ms,
                    )
                    .await?;
                }
                Self::append_audit(&mut *tx, &Self::checkin_audit(audit, id)?).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn raise_panic(
                &self,
                candidate: shield_domain::CandidateId,
                by: shield_domain::UserId,
                session: Option<i64>,
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<crate::reports::CreatedReport, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let mut row = None;
                if let Some(id) = session {
                    let closed = sqlx::query(
                        "UPDATE checkin_sessions SET status = 'alarm', alarm = 'panic',
                            closed_at_ms = $3, remind_at_ms = NULL
                         WHERE id = $1 AND candidate_id = $2 AND status = 'active'",
                    )
                    .bind(id)
                    .bind(candidate.0)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if closed == 1 {
                        row = Self::checkin_row(&mut *tx, id).await?;
                    }
                }
                let created = Self::raise_alarm(
                    &mut *tx,
                    candidate.0,
                    by.0,
                    shield_domain::checkin::AlarmReason::Panic,
                    row.as_ref(),
                    sealer,
                    now_ms,
                )
                .await?;
                let subject = shield_domain::audit::AuditSubject::new("report", &created.id.to_string())
                    .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *tx, &audit.clone().with_subject(subject)).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn fire_due_checkins(
                &self,
                now_ms: shield_domain::EpochMs,
                limit: u32,
                sealer: &dyn crate::reports::Sealer,
            ) -> Result<crate::reports::FiredDeadlines, crate::StoreError> {
                let mut out = crate::reports::FiredDeadlines::default();
                // One transaction per session: a failure leaves the alarms already raised raised.
                for _ in 0..limit {
                    let mut tx = self.begin_write().await?;
                    let picked: Option<(i64, i64, i64)> = sqlx::query_as($due_sql)
                        .bind(now_ms)
                        .bind(1_i64)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some((id, next_due, ends_at)) = picked else {
                        tx.rollback().await?;
                        break;
                    };
                    let reason = crate::checkins::due_reason(next_due, ends_at);
                    let fired = sqlx::query(
                        "UPDATE checkin_sessions SET status = 'alarm', alarm = $2, closed_at_ms = $3,
                            remind_at_ms = NULL
                         WHERE id = $1 AND status = 'active'",
                    )
                    .bind(id)
                    .bind(reason.key())
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if fired != 1 {
                        tx.rollback().await?;
                        continue;
                    }
                    let row = Self::checkin_row(&mut *tx, id).await?.ok_or_else(|| {
                        crate::StoreError::Conflict(format!("no check-in session {id}"))
                    })?;
                    let created = Self::raise_alarm(
                        &mut *tx,
                        row.candidate_id,
                        row.started_by,
                        reason,
                        Some(&row),
                        sealer,
                        now_ms,
                    )
                    .await?;
                    tx.commit().await?;
                    out.fired += 1;
                    out.notifications += created.notifications;
                }
                Ok(out)
            }

            async fn next_checkin_due(
                &self,
            ) -> Result<Option<shield_domain::EpochMs>, crate::StoreError> {
                let (next, ends, remind): (Option<i64>, Option<i64>, Option<i64>) = sqlx::query_as(
                    "SELECT MIN(next_due_at_ms), MIN(ends_at_ms), MIN(remind_at_ms)
                     FROM checkin_sessions WHERE status = 'active'",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok([next, ends, remind].into_iter().flatten().min())
            }

            async fn fire_due_reminders(
                &self,
                now_ms: shield_domain::EpochMs,
                limit: u32,
            ) -> Result<crate::reports::FiredDeadlines, crate::StoreError> {
                let mut out = crate::reports::FiredDeadlines::default();
                for _ in 0..limit {
                    let mut tx = self.begin_write().await?;
                    let picked: Option<(i64, i64)> = sqlx::query_as($remind_sql)
                        .bind(now_ms)
                        .bind(1_i64)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some((id, remind_at)) = picked else {
                        tx.rollback().await?;
                        break;
                    };
                    // Cleared only if still this reminder of a live session: a second
                    // worker, an "I'm safe" or an end that got there first wins.
                    let row: Option<(i64, i64, i64)> = sqlx::query_as(
                        "UPDATE checkin_sessions SET remind_at_ms = NULL
                         WHERE id = $1 AND status = 'active' AND remind_at_ms = $2
                         RETURNING next_due_at_ms, ends_at_ms, started_by",
                    )
                    .bind(id)
                    .bind(remind_at)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some((next_due, ends_at, started_by)) = row else {
                        tx.rollback().await?;
                        continue;
                    };
                    // Whichever comes first raises the alarm: the check-in or the end.
                    let next_due = next_due.min(ends_at);
                    // The person doing the check-ins (the candidate, or whoever started the
                    // session for them), if their account is still active.
                    let email: Option<(String,)> = sqlx::query_as(
                        "SELECT email FROM users WHERE id = $1 AND status = 'active'",
                    )
                    .bind(started_by)
                    .fetch_optional(&mut *tx)
                    .await?;
                    // A check-in already missed gets its alarm, not a reminder.
                    if next_due > now_ms
                        && let Some(Ok(to)) = email.map(|(e,)| shield_domain::Email::parse(&e))
                    {
                        let params = crate::outbox::OutboxParams::new()
                            .with_int("session", id)
                            .and_then(|p| p.with_int("due", next_due))
                            .map_err(crate::reports_sql::field)?;
                        let msg = crate::outbox::NewOutboxMessage::email(
                            &to,
                            crate::checkins::CHECKIN_REMINDER,
                            params,
                        )
                        .map_err(crate::reports_sql::field)?;
                        Self::enqueue_outbox(&mut *tx, &msg, now_ms).await?;
                        out.notifications += 1;
                    }
                    tx.commit().await?;
                    out.fired += 1;
                }
                Ok(out)
            }

            async fn wrong_pin(
                &self,
                id: i64,
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<crate::checkins::WrongPin, crate::StoreError> {
                let max = shield_domain::checkin::MAX_PIN_FAILURES;
                let mut tx = self.begin_write().await?;
                let counted: Option<(i64,)> = sqlx::query_as(
                    "UPDATE checkin_sessions SET pin_failures = pin_failures + 1
                     WHERE id = $1 AND status = 'active' RETURNING pin_failures",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((failures,)) = counted else {
                    tx.rollback().await?;
                    return Ok(crate::checkins::WrongPin::Inactive);
                };
                let outcome = if failures >= max {
                    let reason = shield_domain::checkin::AlarmReason::PinGuesses;
                    sqlx::query(
                        "UPDATE checkin_sessions SET status = 'alarm', alarm = $2, closed_at_ms = $3,
                            remind_at_ms = NULL
                         WHERE id = $1 AND status = 'active'",
                    )
                    .bind(id)
                    .bind(reason.key())
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                    let row = Self::checkin_row(&mut *tx, id).await?.ok_or_else(|| {
                        crate::StoreError::Conflict(format!("no check-in session {id}"))
                    })?;
                    let created = Self::raise_alarm(
                        &mut *tx,
                        row.candidate_id,
                        row.started_by,
                        reason,
                        Some(&row),
                        sealer,
                        now_ms,
                    )
                    .await?;
                    crate::checkins::WrongPin::Alarm(created)
                } else {
                    crate::checkins::WrongPin::Counted { left: max - failures }
                };
                let event = Self::checkin_audit(audit, id)?
                    .with_detail("failures", &failures.to_string())
                    .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *tx, &event).await?;
                tx.commit().await?;
                Ok(outcome)
            }

            async fn set_checkin_buddy(
                &self,
                candidate: shield_domain::CandidateId,
                sealed: Option<&[u8]>,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                match sealed {
                    Some(blob) => {
                        sqlx::query(
                            "INSERT INTO checkin_buddies (candidate_id, contact, updated_at_ms)
                             VALUES ($1, $2, $3)
                             ON CONFLICT (candidate_id) DO UPDATE SET contact = excluded.contact,
                                updated_at_ms = excluded.updated_at_ms",
                        )
                        .bind(candidate.0)
                        .bind(blob)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM checkin_buddies WHERE candidate_id = $1")
                            .bind(candidate.0)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                Self::append_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn checkin_buddy(
                &self,
                candidate: shield_domain::CandidateId,
            ) -> Result<Option<Vec<u8>>, crate::StoreError> {
                let row: Option<(Vec<u8>,)> = sqlx::query_as(
                    "SELECT contact FROM checkin_buddies WHERE candidate_id = $1",
                )
                .bind(candidate.0)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(b,)| b))
            }
        }
    };
}

pub(crate) use checkins_impl;
