-- The guidance library. Keep in step with ../postgres.
--
-- An article is a slug (its address, fixed at creation) and a list of versions; every edit
-- adds a version and never changes an old one, so coordinators can see what was published
-- when. Readers see only `published_version` (NULL: a draft nobody but coordinators sees).
-- Not sealed: guidance is written to be read by every signed-in user.
CREATE TABLE guidance_articles (
    id                INTEGER PRIMARY KEY,
    slug              TEXT NOT NULL UNIQUE,
    latest_version    BIGINT NOT NULL,
    published_version BIGINT,
    published_at_ms   BIGINT,
    created_at_ms     BIGINT NOT NULL,
    updated_at_ms     BIGINT NOT NULL,
    CHECK (published_version IS NULL OR published_version <= latest_version)
);

CREATE TABLE guidance_versions (
    article_id    BIGINT NOT NULL REFERENCES guidance_articles (id),
    version       BIGINT NOT NULL,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    -- Tag keys, space-separated, in a fixed order ('online reporting').
    tags          TEXT NOT NULL,
    -- Markdown as written; rendered (raw HTML dropped, links checked) when shown.
    body          TEXT NOT NULL,
    -- NULL for the starter set the service loads itself.
    author_id     BIGINT REFERENCES users (id),
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (article_id, version)
);
