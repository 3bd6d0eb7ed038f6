-- The personal security plan, briefings and outreach (issue 6). Keep in step with ../sqlite.

-- What the candidate (or a delegate granted Edit) set for each step of their plan. Steps the
-- service can see done (a passkey, an activity, a briefing attended) are worked out on read.
CREATE TABLE plan_steps (
    candidate_id  BIGINT NOT NULL REFERENCES candidates (id),
    step          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'done', 'not_applicable')),
    updated_at_ms BIGINT NOT NULL,
    updated_by    BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (candidate_id, step)
);

-- A candidate's choice to receive no scheduled plan reminders.
CREATE TABLE plan_preferences (
    candidate_id   BIGINT PRIMARY KEY REFERENCES candidates (id),
    nudges_opt_out BOOLEAN NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);

-- A security briefing: national (force_code NULL, coordinators) or for one force's candidates.
CREATE TABLE briefings (
    id            BIGSERIAL PRIMARY KEY,
    title         TEXT NOT NULL,
    force_code    TEXT REFERENCES forces (code),
    online_url    TEXT NOT NULL,
    venue         TEXT NOT NULL,
    starts_at_ms  BIGINT NOT NULL,
    ends_at_ms    BIGINT NOT NULL,
    capacity      BIGINT NOT NULL CHECK (capacity > 0),
    -- Places taken: raised and lowered by conditional updates, so the capacity holds under
    -- concurrent registrations on both backends.
    registered    BIGINT NOT NULL DEFAULT 0 CHECK (registered >= 0 AND registered <= capacity),
    description   TEXT NOT NULL,
    -- Links to materials, one per line.
    materials     TEXT NOT NULL,
    created_by    BIGINT NOT NULL REFERENCES users (id),
    created_at_ms BIGINT NOT NULL,
    CHECK (ends_at_ms > starts_at_ms)
);
CREATE INDEX briefings_starts ON briefings (starts_at_ms);

-- A candidate's place on a briefing. Cancelling keeps the row (cancelled_at_ms), registering
-- again clears it. remind_at_ms is the day-before reminder, a timer row the worker fires once
-- (reminded_at_ms set in the same transaction as its outbox row).
CREATE TABLE briefing_registrations (
    briefing_id      BIGINT NOT NULL REFERENCES briefings (id),
    candidate_id     BIGINT NOT NULL REFERENCES candidates (id),
    registered_by    BIGINT NOT NULL REFERENCES users (id),
    registered_at_ms BIGINT NOT NULL,
    cancelled_at_ms  BIGINT,
    attended         BOOLEAN NOT NULL DEFAULT FALSE,
    remind_at_ms     BIGINT,
    reminded_at_ms   BIGINT,
    PRIMARY KEY (briefing_id, candidate_id)
);
CREATE INDEX briefing_registrations_candidate ON briefing_registrations (candidate_id);
CREATE INDEX briefing_registrations_remind ON briefing_registrations (remind_at_ms);

-- Every reminder sent to a candidate (bulk outreach or a scheduled nudge): who, why, by whom,
-- for which force, and the readiness score then, so "who then acted" can be worked out.
CREATE TABLE outreach_nudges (
    id            BIGSERIAL PRIMARY KEY,
    candidate_id  BIGINT NOT NULL REFERENCES candidates (id),
    -- 'not_enrolled', 'not_ready', 'not_briefed' (bulk) or 'scheduled' (the worker's).
    kind          TEXT NOT NULL,
    force_code    TEXT REFERENCES forces (code),
    sent_by       BIGINT REFERENCES users (id),
    sent_at_ms    BIGINT NOT NULL,
    score_at_send BIGINT NOT NULL
);
CREATE INDEX outreach_nudges_candidate ON outreach_nudges (candidate_id, sent_at_ms);
CREATE INDEX outreach_nudges_force ON outreach_nudges (force_code, sent_at_ms);
