//! The force's month calendar of campaign activities (`/activities/force/calendar`): a real
//! table (caption, a header per weekday) that collapses to a list of the days with something
//! on when the screen is phone-narrow (CSS only, no script). Days are UK days; each activity
//! links to its page. The same month is in the API (`/api/activities/force/calendar`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use shield_domain::uktime;
use shield_store::ActivityRecord;

use crate::auth::guard::{Authorized, Target};
use crate::auth::report_guard::ForceActivitiesGuard;
use crate::html::activities::{ActivityView, activity_view};
use crate::{AppError, AppState};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct MonthQuery {
    /// `2026-05`; this UK month if absent.
    #[serde(default)]
    pub month: Option<String>,
}

/// A month: its first day, and the instants `[from, to)` it spans in UK time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Month {
    pub first: NaiveDate,
    pub from_ms: i64,
    pub to_ms: i64,
}

impl Month {
    pub(crate) fn key(&self) -> String {
        self.first.format("%Y-%m").to_string()
    }
}

/// The month asked for (`YYYY-MM`), or the current UK month; a bad value is a 400 naming it.
pub(crate) fn month(value: Option<&str>, now_ms: i64) -> Result<Month, AppError> {
    let first = match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d")
            .ok()
            .filter(|d| (2000..=2100).contains(&d.year()))
            .ok_or_else(|| AppError::bad_request("month", "Month must be like 2026-05"))?,
        None => uktime::to_local(now_ms)
            .date()
            .with_day(1)
            .unwrap_or_default(),
    };
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let midnight = |d: NaiveDate| uktime::from_local(d.and_hms_opt(0, 0, 0).unwrap_or_default());
    Ok(Month {
        first,
        from_ms: midnight(first),
        to_ms: midnight(next),
    })
}

/// The activities of the guard's force (or all, for coordinators) in a month.
pub(crate) async fn month_activities(
    state: &AppState,
    target: &Target,
    m: &Month,
) -> Result<Vec<ActivityRecord>, AppError> {
    let force = match target {
        Target::Force(f) => Some(f),
        Target::Service => None,
        _ => return Err(AppError::Forbidden),
    };
    Ok(state
        .store
        .force_activities_between(force, m.from_ms, m.to_ms, 2000)
        .await?)
}

#[derive(Debug)]
pub(crate) struct Day {
    label: String,
    /// In the month shown (days of the neighbouring months pad the first and last weeks).
    in_month: bool,
    activities: Vec<ActivityView>,
}

#[derive(Debug, Template)]
#[template(path = "activities/month.html")]
pub(crate) struct MonthPage {
    section: &'static str,
    title: String,
    force: String,
    /// `force=CODE&` to keep in the month links, or empty.
    force_query: String,
    /// `?force=CODE` for the link back to the list, or empty.
    back: String,
    prev: String,
    next: String,
    weeks: Vec<Vec<Day>>,
    count: usize,
}

/// `GET /activities/force/calendar?force=CODE&month=YYYY-MM`.
pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authorized<ForceActivitiesGuard>,
    axum::extract::Query(q): axum::extract::Query<MonthQuery>,
) -> Result<Response, AppError> {
    let m = month(q.month.as_deref(), state.clock.now_ms())?;
    let records = month_activities(&state, &auth.target, &m).await?;
    let mut views: Vec<(NaiveDate, ActivityView)> = Vec::new();
    for a in &records {
        views.push((
            uktime::to_local(a.starts_at_ms).date(),
            activity_view(&state, a)?,
        ));
    }
    let count = views.len();
    // Weeks from the Monday on or before the 1st to the Sunday on or after the last day.
    let last = m
        .first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(m.first);
    let mut day = m.first - chrono::Days::new(u64::from(m.first.weekday().num_days_from_monday()));
    let mut weeks = Vec::new();
    while day <= last {
        let mut week = Vec::new();
        for _ in 0..7 {
            let mut activities = Vec::new();
            let mut rest = Vec::new();
            for (d, v) in views.drain(..) {
                if d == day {
                    activities.push(v);
                } else {
                    rest.push((d, v));
                }
            }
            views = rest;
            week.push(Day {
                label: day.format("%a %-d %b").to_string(),
                in_month: day.month() == m.first.month(),
                activities,
            });
            day = day.succ_opt().unwrap_or(day);
        }
        weeks.push(week);
    }
    let (force, force_query, back) = match &auth.target {
        Target::Force(f) => (f.to_string(), format!("force={f}&"), format!("?force={f}")),
        _ => ("All forces".to_owned(), String::new(), String::new()),
    };
    let step = |months: i32| {
        let d = if months < 0 {
            m.first.checked_sub_months(chrono::Months::new(1))
        } else {
            m.first.checked_add_months(chrono::Months::new(1))
        };
        d.unwrap_or(m.first).format("%Y-%m").to_string()
    };
    let page = MonthPage {
        section: "activities",
        title: m.first.format("%B %Y").to_string(),
        force,
        force_query,
        back,
        prev: step(-1),
        next: step(1),
        weeks,
        count,
    };
    crate::html::page(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_spans_uk_midnights() {
        let m = month(Some("2026-05"), 0).unwrap();
        // 1 May 2026 00:00 BST is 30 April 23:00 UTC.
        assert_eq!(
            m.from_ms,
            NaiveDate::from_ymd_opt(2026, 4, 30)
                .unwrap()
                .and_hms_opt(23, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_millis()
        );
        assert_eq!(m.key(), "2026-05");
        assert!(month(Some("May"), 0).is_err());
    }
}
