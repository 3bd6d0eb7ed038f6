-- Reference data: elections, constituencies, police force areas, the constituency→force
-- lookup, candidates and the named police contacts. Keep in step with ../postgres.
CREATE TABLE elections (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    polling_day DATE NOT NULL
);

CREATE TABLE constituencies (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_cy     TEXT,
    nation      TEXT NOT NULL CHECK (nation IN ('england', 'wales', 'scotland', 'northern_ireland')),
    region_code TEXT,
    region_name TEXT
);

CREATE TABLE forces (
    code         TEXT PRIMARY KEY,
    area_name    TEXT NOT NULL,
    force_name   TEXT NOT NULL,
    police_uk_id TEXT,
    nation       TEXT NOT NULL CHECK (nation IN ('england', 'wales', 'scotland', 'northern_ireland'))
);

CREATE TABLE constituency_forces (
    constituency_code TEXT NOT NULL REFERENCES constituencies (code),
    force_code        TEXT NOT NULL REFERENCES forces (code),
    pop_share         DOUBLE PRECISION NOT NULL CHECK (pop_share >= 0 AND pop_share <= 1),
    is_primary        BOOLEAN NOT NULL,
    PRIMARY KEY (constituency_code, force_code)
);
CREATE UNIQUE INDEX constituency_forces_one_primary
    ON constituency_forces (constituency_code) WHERE is_primary;
CREATE INDEX constituency_forces_force ON constituency_forces (force_code);

CREATE TABLE candidates (
    id                INTEGER PRIMARY KEY,
    election_id       TEXT NOT NULL REFERENCES elections (id),
    person_id         BIGINT NOT NULL CHECK (person_id > 0),
    name              TEXT NOT NULL,
    party             TEXT NOT NULL,
    constituency_code TEXT NOT NULL REFERENCES constituencies (code),
    email             TEXT,
    phone             TEXT,
    elected           BOOLEAN,
    UNIQUE (election_id, person_id)
);
CREATE INDEX candidates_constituency ON candidates (constituency_code);

CREATE TABLE force_contacts (
    id         INTEGER PRIMARY KEY,
    force_code TEXT NOT NULL REFERENCES forces (code),
    role       TEXT NOT NULL CHECK (role IN ('lead', 'deputy')),
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    phone      TEXT,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (force_code, email)
);
CREATE UNIQUE INDEX force_contacts_one_lead
    ON force_contacts (force_code) WHERE role = 'lead' AND active;
