-- Check-in reminders, PIN guess limits, buddies; cancelling and editing activities.
-- Keep in step with ../postgres.
--
-- `remind_at_ms` is the reminder timer of a live session: the worker emails the person doing
-- the check-ins when it passes, and clears it (conditionally, so two workers send one
-- reminder); "I'm safe" sets the next one. `pin_failures` counts wrong PINs on the session,
-- in the transaction that checks them; at the limit the session raises an alarm.
ALTER TABLE checkin_sessions ADD COLUMN remind_at_ms BIGINT;
ALTER TABLE checkin_sessions ADD COLUMN pin_failures BIGINT NOT NULL DEFAULT 0;
CREATE INDEX checkin_sessions_remind ON checkin_sessions (remind_at_ms)
    WHERE status = 'active' AND remind_at_ms IS NOT NULL;

-- A buddy for one session only (someone with them today), sealed bound to the session id;
-- it replaces the candidate's standing buddy for that session's alarms.
ALTER TABLE checkin_sessions ADD COLUMN buddy BLOB;

-- A candidate's buddy, told first when an alarm is raised: name, email and phone as one
-- sealed JSON value, bound to the candidate id.
CREATE TABLE checkin_buddies (
    candidate_id  BIGINT PRIMARY KEY REFERENCES candidates (id),
    contact       BLOB NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- A cancelled activity stays listed (and in the feed, as STATUS:CANCELLED, so subscribed
-- calendars drop it); `revision` is the feed's SEQUENCE, bumped by every change.
ALTER TABLE activities ADD COLUMN cancelled_at_ms BIGINT;
ALTER TABLE activities ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
