-- A candidate's settings. Keep in step with ../sqlite.
-- `auto_report_threats`: the message scanner may raise a report by itself for a message it
-- flags as a threat with high confidence (opt-in, off by default: a false alarm costs police
-- time, a missed threat costs more, and the candidate chooses).
CREATE TABLE candidate_settings (
    candidate_id        BIGINT PRIMARY KEY REFERENCES candidates (id),
    auto_report_threats BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at_ms       BIGINT NOT NULL
);
