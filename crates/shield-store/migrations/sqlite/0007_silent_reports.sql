-- Silent reports: a duress alarm is raised as a P1 like any other, but the candidate's side
-- must not be able to see it (whoever forced them to end their session may be watching their
-- screen or their email). Silent reports are left out of the candidate's lists, their pages
-- answer 404 to the candidate and delegates, and no email about them goes to the candidate.
ALTER TABLE reports ADD COLUMN silent BOOLEAN NOT NULL DEFAULT FALSE;
