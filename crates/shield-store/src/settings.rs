//! A candidate's settings (migration `0010_settings`): today, whether the message scanner may
//! raise reports by itself for high-confidence threats.

use async_trait::async_trait;
use shield_domain::CandidateId;
use shield_domain::audit::AuditEvent;

use crate::StoreError;

#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// Whether the candidate opted in to automatic reports of high-confidence threats.
    async fn auto_report_threats(&self, candidate: CandidateId) -> Result<bool, StoreError>;

    /// Sets it, with its audit event, in one transaction.
    async fn set_auto_report_threats(
        &self,
        candidate: CandidateId,
        on: bool,
        now_ms: i64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// A report of this candidate's holding evidence with this SHA-256, if any: so a message
    /// scanned twice is reported once.
    async fn report_with_evidence(
        &self,
        candidate: CandidateId,
        sha256: &str,
    ) -> Result<Option<i64>, StoreError>;
}

macro_rules! settings_impl {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl crate::settings::SettingsStore for $store {
            async fn auto_report_threats(
                &self,
                candidate: shield_domain::CandidateId,
            ) -> Result<bool, crate::StoreError> {
                let row: Option<(bool,)> = sqlx::query_as(
                    "SELECT auto_report_threats FROM candidate_settings WHERE candidate_id = $1",
                )
                .bind(candidate.0)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.is_some_and(|(on,)| on))
            }

            async fn set_auto_report_threats(
                &self,
                candidate: shield_domain::CandidateId,
                on: bool,
                now_ms: i64,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO candidate_settings (candidate_id, auto_report_threats, updated_at_ms)
                     VALUES ($1, $2, $3)
                     ON CONFLICT (candidate_id)
                     DO UPDATE SET auto_report_threats = $2, updated_at_ms = $3",
                )
                .bind(candidate.0)
                .bind(on)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                Self::append_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn report_with_evidence(
                &self,
                candidate: shield_domain::CandidateId,
                sha256: &str,
            ) -> Result<Option<i64>, crate::StoreError> {
                let row: Option<(i64,)> = sqlx::query_as(
                    "SELECT r.id FROM reports r JOIN evidence e ON e.report_id = r.id
                     WHERE r.candidate_id = $1 AND e.sha256 = $2 ORDER BY r.id LIMIT 1",
                )
                .bind(candidate.0)
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(id,)| id))
            }
        }
    };
}

pub(crate) use settings_impl;
