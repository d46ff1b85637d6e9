"""Versioned migrations of the memory database; `PRAGMA user_version` is the version.

Each migration runs in its own `BEGIN IMMEDIATE` transaction. A database whose
version is newer than this code knows is refused, never downgraded.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: sources, documents, episodes (+ FTS5), vectors, the vector change log.
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE sources (
        id           INTEGER PRIMARY KEY,
        root         TEXT NOT NULL UNIQUE,   -- the path the user gave
        connector    TEXT,                   -- NULL: chosen per file
        consent      TEXT NOT NULL DEFAULT 'granted',
        added_at     TEXT NOT NULL,
        last_sync_at TEXT
    );
    CREATE TABLE documents (
        id           INTEGER PRIMARY KEY,
        source_id    INTEGER REFERENCES sources(id),
        ref          TEXT NOT NULL UNIQUE,   -- absolute path of the file
        connector    TEXT NOT NULL,
        content_hash TEXT NOT NULL,          -- hash over its items' hashes
        size         INTEGER,
        mtime        REAL,
        ingested_at  TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE TABLE episodes (
        id           INTEGER PRIMARY KEY,
        document_id  INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        source_ref   TEXT NOT NULL,
        kind         TEXT NOT NULL,
        text         TEXT NOT NULL,
        title        TEXT,
        time         TEXT NOT NULL,          -- ISO 8601 with offset, as the source said
        time_unix    REAL NOT NULL,          -- for ordering and date filters
        author       TEXT NOT NULL CHECK (author IN ('self', 'other', 'unknown')),
        conversation TEXT,
        meta         TEXT NOT NULL DEFAULT '{}',
        content_hash TEXT NOT NULL,
        connector    TEXT NOT NULL,
        trust        TEXT NOT NULL DEFAULT 'user_file',
        sensitivity  TEXT NOT NULL DEFAULT 'unlabelled',
        ingested_at  TEXT NOT NULL,
        UNIQUE (source_ref, content_hash)
    );
    CREATE INDEX episodes_document ON episodes(document_id);
    CREATE INDEX episodes_time ON episodes(time_unix);
    CREATE VIRTUAL TABLE episodes_fts USING fts5(
        title, text,
        content='episodes', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER episodes_fts_insert AFTER INSERT ON episodes BEGIN
        INSERT INTO episodes_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END;
    CREATE TRIGGER episodes_fts_delete AFTER DELETE ON episodes BEGIN
        INSERT INTO episodes_fts(episodes_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END;
    CREATE TABLE vectors (
        episode_id INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
        model      TEXT NOT NULL,
        dim        INTEGER NOT NULL,
        vector     BLOB NOT NULL             -- float32, little-endian, L2-normalized
    );
    -- Every change to `vectors`, in order; the sealed index records the last seq it
    -- holds, and opening replays what came after.
    CREATE TABLE vector_log (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        episode_id INTEGER NOT NULL,
        op         TEXT NOT NULL CHECK (op IN ('add', 'delete'))
    );
    CREATE TRIGGER vectors_log_insert AFTER INSERT ON vectors BEGIN
        INSERT INTO vector_log(episode_id, op) VALUES (new.episode_id, 'add');
    END;
    CREATE TRIGGER vectors_log_delete AFTER DELETE ON vectors BEGIN
        INSERT INTO vector_log(episode_id, op) VALUES (old.episode_id, 'delete');
    END;
    """,
    # 2: who "me" is (kept encrypted, not in config.toml), the raw sender of each
    # episode (so authors can be re-resolved when the identity grows), and sources
    # that `me ingest` created for itself rather than the user's `me sources add`.
    """
    CREATE TABLE identity (
        id       INTEGER PRIMARY KEY,
        kind     TEXT NOT NULL CHECK (kind IN ('name', 'email', 'phone', 'handle')),
        value    TEXT NOT NULL,
        added_at TEXT NOT NULL,
        UNIQUE (kind, value)
    );
    ALTER TABLE episodes ADD COLUMN sender TEXT;
    CREATE INDEX episodes_sender ON episodes(sender) WHERE sender IS NOT NULL;
    ALTER TABLE sources ADD COLUMN listed INTEGER NOT NULL DEFAULT 1;
    """,
    # 3: the sender is searchable ("when did Ana say...") and conversations filterable.
    """
    DROP TRIGGER episodes_fts_insert;
    DROP TRIGGER episodes_fts_delete;
    DROP TABLE episodes_fts;
    CREATE VIRTUAL TABLE episodes_fts USING fts5(
        title, sender, text,
        content='episodes', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER episodes_fts_insert AFTER INSERT ON episodes BEGIN
        INSERT INTO episodes_fts(rowid, title, sender, text)
        VALUES (new.id, new.title, new.sender, new.text);
    END;
    CREATE TRIGGER episodes_fts_delete AFTER DELETE ON episodes BEGIN
        INSERT INTO episodes_fts(episodes_fts, rowid, title, sender, text)
        VALUES ('delete', old.id, old.title, old.sender, old.text);
    END;
    CREATE TRIGGER episodes_fts_update AFTER UPDATE OF title, sender, text ON episodes BEGIN
        INSERT INTO episodes_fts(episodes_fts, rowid, title, sender, text)
        VALUES ('delete', old.id, old.title, old.sender, old.text);
        INSERT INTO episodes_fts(rowid, title, sender, text)
        VALUES (new.id, new.title, new.sender, new.text);
    END;
    INSERT INTO episodes_fts(episodes_fts) VALUES ('rebuild');
    CREATE INDEX episodes_conversation ON episodes(conversation) WHERE conversation IS NOT NULL;
    """,
    # 4: the forgetting curve: strength, last recall (NULL: never, count from the
    # memory's own date) and pins. Ranking signals only; nothing is deleted by decay.
    """
    ALTER TABLE episodes ADD COLUMN strength REAL NOT NULL DEFAULT 1.0;
    ALTER TABLE episodes ADD COLUMN last_access REAL;
    ALTER TABLE episodes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
    """,
    # 5: reflection. Thoughts and persona facts derived from episodes, typed links
    # between memories, a history of every change (undoable), the quarantine flag,
    # and a per-episode "reflected" mark written in the same transaction as results.
    """
    ALTER TABLE episodes ADD COLUMN quarantine TEXT;      -- NULL: clean; else why not
    ALTER TABLE episodes ADD COLUMN reflected_at REAL;    -- NULL: reflection pending
    CREATE INDEX episodes_pending ON episodes(time_unix, id) WHERE reflected_at IS NULL;

    CREATE TABLE thoughts (
        id          INTEGER PRIMARY KEY,
        text        TEXT NOT NULL,
        subject     TEXT,                  -- 'self', a person's name, or NULL
        time        TEXT,                  -- when what it says was true (ISO 8601)
        time_unix   REAL,
        origin      TEXT NOT NULL CHECK (origin IN ('reflection', 'answer', 'user')),
        engine      TEXT NOT NULL,
        status      TEXT NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'merged', 'archived', 'forgotten')),
        merged_into INTEGER REFERENCES thoughts(id),
        strength    REAL NOT NULL DEFAULT 1.0,
        last_access REAL,
        pinned      INTEGER NOT NULL DEFAULT 0,
        vector      BLOB,                  -- float32, L2-normalized, like `vectors`
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    CREATE INDEX thoughts_status ON thoughts(status);
    CREATE TABLE thought_evidence (
        thought_id INTEGER NOT NULL REFERENCES thoughts(id) ON DELETE CASCADE,
        episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        PRIMARY KEY (thought_id, episode_id)
    ) WITHOUT ROWID;
    CREATE INDEX thought_evidence_episode ON thought_evidence(episode_id);
    CREATE VIRTUAL TABLE thoughts_fts USING fts5(
        subject, text, content='thoughts', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER thoughts_fts_insert AFTER INSERT ON thoughts BEGIN
        INSERT INTO thoughts_fts(rowid, subject, text) VALUES (new.id, new.subject, new.text);
    END;
    CREATE TRIGGER thoughts_fts_delete AFTER DELETE ON thoughts BEGIN
        INSERT INTO thoughts_fts(thoughts_fts, rowid, subject, text)
        VALUES ('delete', old.id, old.subject, old.text);
    END;
    CREATE TRIGGER thoughts_fts_update AFTER UPDATE OF subject, text ON thoughts BEGIN
        INSERT INTO thoughts_fts(thoughts_fts, rowid, subject, text)
        VALUES ('delete', old.id, old.subject, old.text);
        INSERT INTO thoughts_fts(rowid, subject, text) VALUES (new.id, new.subject, new.text);
    END;

    CREATE TABLE facts (
        id            INTEGER PRIMARY KEY,
        person        TEXT NOT NULL,       -- 'self' or the person's name as first seen
        person_key    TEXT NOT NULL,       -- casefolded, for matching
        attribute     TEXT NOT NULL,       -- a name from the persona schema
        value         TEXT NOT NULL,
        value_key     TEXT NOT NULL,       -- normalized, for matching
        valid_from    TEXT,                -- ISO date (or date-time) it became true
        valid_to      TEXT,                -- set when a newer fact closed it
        superseded_by INTEGER REFERENCES facts(id),
        confidence    REAL NOT NULL,
        origin        TEXT NOT NULL CHECK (origin IN ('extracted', 'user')),
        engine        TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'conflict', 'shadowed', 'forgotten')),
        pinned        INTEGER NOT NULL DEFAULT 0,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX facts_slot ON facts(person_key, attribute);
    CREATE TABLE fact_evidence (
        fact_id    INTEGER NOT NULL REFERENCES facts(id) ON DELETE CASCADE,
        episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        PRIMARY KEY (fact_id, episode_id)
    ) WITHOUT ROWID;
    CREATE INDEX fact_evidence_episode ON fact_evidence(episode_id);

    -- A typed edge from a newer memory to an earlier one (kinds: episode, thought, fact).
    CREATE TABLE links (
        id         INTEGER PRIMARY KEY,
        src_kind   TEXT NOT NULL CHECK (src_kind IN ('episode', 'thought', 'fact')),
        src_id     INTEGER NOT NULL,
        dst_kind   TEXT NOT NULL CHECK (dst_kind IN ('episode', 'thought', 'fact')),
        dst_id     INTEGER NOT NULL,
        label      TEXT NOT NULL,
        score      REAL,
        engine     TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (src_kind, src_id, dst_kind, dst_id)
    );
    CREATE INDEX links_dst ON links(dst_kind, dst_id);

    -- One change = one operation (insert, merge, supersede, set, undo...), touching
    -- one or more rows; each row keeps its JSON before and after, so it can be undone.
    CREATE TABLE changes (
        id        INTEGER PRIMARY KEY,
        op        TEXT NOT NULL,
        reason    TEXT NOT NULL,
        engine    TEXT NOT NULL,           -- builtin, ollama:<model>, user
        at        TEXT NOT NULL,
        undone_by INTEGER REFERENCES changes(id)
    );
    CREATE TABLE change_rows (
        change_id INTEGER NOT NULL REFERENCES changes(id),
        kind      TEXT NOT NULL CHECK (kind IN ('thought', 'fact', 'link')),
        row_id    INTEGER NOT NULL,
        old       TEXT,                    -- JSON of the row before; NULL: it was created
        new       TEXT,                    -- JSON of the row after; NULL: it was removed
        PRIMARY KEY (change_id, kind, row_id)
    ) WITHOUT ROWID;
    CREATE INDEX change_rows_row ON change_rows(kind, row_id);
    """,
    # 6: forget that reaches every copy, and labels on derived memory.
    # - `hidden` replaces the old soft "forgotten" status of thoughts and facts (what
    #   `persona hide` / `thoughts hide` do); a real forget deletes the rows.
    # - derived rows carry the highest sensitivity and lowest trust of their evidence.
    # - `tombstones`: keyed fingerprints of what was forgotten, so that it is never read
    #   or learned again; a fingerprint cannot be turned back into the text.
    # Tables are rebuilt to change their CHECK constraints (the runner turns foreign keys
    # off around migrations and checks them before committing).
    """
    CREATE TABLE thoughts_v6 (
        id          INTEGER PRIMARY KEY,
        text        TEXT NOT NULL,
        subject     TEXT,
        time        TEXT,
        time_unix   REAL,
        origin      TEXT NOT NULL CHECK (origin IN ('reflection', 'answer', 'user')),
        engine      TEXT NOT NULL,
        status      TEXT NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'merged', 'archived', 'hidden')),
        merged_into INTEGER REFERENCES thoughts(id),
        strength    REAL NOT NULL DEFAULT 1.0,
        last_access REAL,
        pinned      INTEGER NOT NULL DEFAULT 0,
        vector      BLOB,
        sensitivity TEXT NOT NULL DEFAULT 'normal',
        trust       TEXT NOT NULL DEFAULT 'user_file',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    INSERT INTO thoughts_v6 (id, text, subject, time, time_unix, origin, engine, status,
        merged_into, strength, last_access, pinned, vector, created_at, updated_at)
    SELECT id, text, subject, time, time_unix, origin, engine,
        CASE status WHEN 'forgotten' THEN 'hidden' ELSE status END,
        merged_into, strength, last_access, pinned, vector, created_at, updated_at
    FROM thoughts;
    DROP TABLE thoughts;
    ALTER TABLE thoughts_v6 RENAME TO thoughts;
    CREATE INDEX thoughts_status ON thoughts(status);
    CREATE TRIGGER thoughts_fts_insert AFTER INSERT ON thoughts BEGIN
        INSERT INTO thoughts_fts(rowid, subject, text) VALUES (new.id, new.subject, new.text);
    END;
    CREATE TRIGGER thoughts_fts_delete AFTER DELETE ON thoughts BEGIN
        INSERT INTO thoughts_fts(thoughts_fts, rowid, subject, text)
        VALUES ('delete', old.id, old.subject, old.text);
    END;
    CREATE TRIGGER thoughts_fts_update AFTER UPDATE OF subject, text ON thoughts BEGIN
        INSERT INTO thoughts_fts(thoughts_fts, rowid, subject, text)
        VALUES ('delete', old.id, old.subject, old.text);
        INSERT INTO thoughts_fts(rowid, subject, text) VALUES (new.id, new.subject, new.text);
    END;

    CREATE TABLE facts_v6 (
        id            INTEGER PRIMARY KEY,
        person        TEXT NOT NULL,
        person_key    TEXT NOT NULL,
        attribute     TEXT NOT NULL,
        value         TEXT NOT NULL,
        value_key     TEXT NOT NULL,
        valid_from    TEXT,
        valid_to      TEXT,
        superseded_by INTEGER REFERENCES facts(id),
        confidence    REAL NOT NULL,
        origin        TEXT NOT NULL CHECK (origin IN ('extracted', 'user')),
        engine        TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'conflict', 'shadowed', 'hidden')),
        pinned        INTEGER NOT NULL DEFAULT 0,
        sensitivity   TEXT NOT NULL DEFAULT 'normal',
        trust         TEXT NOT NULL DEFAULT 'user_file',
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    INSERT INTO facts_v6 (id, person, person_key, attribute, value, value_key, valid_from,
        valid_to, superseded_by, confidence, origin, engine, status, pinned, trust,
        created_at, updated_at)
    SELECT id, person, person_key, attribute, value, value_key, valid_from, valid_to,
        superseded_by, confidence, origin, engine,
        CASE status WHEN 'forgotten' THEN 'hidden' ELSE status END, pinned,
        CASE origin WHEN 'user' THEN 'user' ELSE 'user_file' END, created_at, updated_at
    FROM facts;
    DROP TABLE facts;
    ALTER TABLE facts_v6 RENAME TO facts;
    CREATE INDEX facts_slot ON facts(person_key, attribute);

    -- The old soft forget is now called hide, in the history too.
    UPDATE changes SET op = 'hide' WHERE op = 'forget';
    UPDATE changes SET reason = replace(reason, 'chose to forget', 'chose to hide')
    WHERE op = 'hide';

    CREATE TABLE tombstones (
        digest TEXT PRIMARY KEY,               -- HMAC-SHA256 under meta.tombstone_salt
        kind   TEXT NOT NULL CHECK (kind IN ('episode', 'fact', 'thought')),
        at     TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) VALUES ('tombstone_salt', lower(hex(randomblob(32))));
    """,
    # v7: a small index of the vectors' model names. Without it, the check that every
    # vector came from the configured model, and `count(*)`, read the whole table: two
    # extra passes over ~15 MB of encrypted pages at 10k memories in a cold recall.
    """
    CREATE INDEX vectors_model ON vectors(model);
    """,
    # v8: the user's releases of quarantined episodes. The triggers keep
    # episodes.quarantine the one thing every reader checks: a release clears it (and
    # queues the episode for reflection), deleting the release (an undo) puts the
    # detector's reason back. A release lasts as long as its episode: re-syncing an
    # unchanged file keeps it; changed text is new content, checked again.
    """
    CREATE TABLE releases (
        id          INTEGER PRIMARY KEY,
        episode_id  INTEGER NOT NULL UNIQUE REFERENCES episodes(id) ON DELETE CASCADE,
        reason      TEXT NOT NULL,          -- why it was held, put back by an undo
        released_at TEXT NOT NULL
    );
    CREATE TRIGGER releases_apply AFTER INSERT ON releases BEGIN
        UPDATE episodes SET quarantine = NULL, reflected_at = NULL WHERE id = new.episode_id;
    END;
    CREATE TRIGGER releases_undo AFTER DELETE ON releases BEGIN
        UPDATE episodes SET quarantine = old.reason WHERE id = old.episode_id;
    END;

    -- The files the last sync of each source could not read, whoever ran it (the
    -- daemon in the background, `me sync`, the app), so any front end can show them.
    CREATE TABLE sync_failures (
        source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        path      TEXT NOT NULL,
        reason    TEXT NOT NULL,
        at        TEXT NOT NULL
    );
    CREATE INDEX sync_failures_source ON sync_failures(source_id);

    -- The history records releases too: widen change_rows' kinds (a CHECK cannot be
    -- altered in place, so the table is copied).
    CREATE TABLE change_rows_v8 (
        change_id INTEGER NOT NULL REFERENCES changes(id),
        kind      TEXT NOT NULL CHECK (kind IN ('thought', 'fact', 'link', 'release')),
        row_id    INTEGER NOT NULL,
        old       TEXT,
        new       TEXT,
        PRIMARY KEY (change_id, kind, row_id)
    ) WITHOUT ROWID;
    INSERT INTO change_rows_v8 SELECT change_id, kind, row_id, old, new FROM change_rows;
    DROP TABLE change_rows;
    ALTER TABLE change_rows_v8 RENAME TO change_rows;
    CREATE INDEX change_rows_row ON change_rows(kind, row_id);
    """,
    # v9: names the user split apart (`me people split`), never merged again.
    """
    CREATE TABLE people_apart (
        a TEXT NOT NULL,                    -- person keys, a < b
        b TEXT NOT NULL,
        PRIMARY KEY (a, b)
    ) WITHOUT ROWID;
    """,
    # v10: words an episode is also found by, though its text does not say them: the
    # name of the note it is a section of ("Ana's flights" for its "Outbound" part).
    # Existing notes get theirs from the note title their meta holds.
    """
    ALTER TABLE episodes ADD COLUMN keys TEXT;
    DROP TRIGGER episodes_fts_insert;
    DROP TRIGGER episodes_fts_delete;
    DROP TRIGGER episodes_fts_update;
    DROP TABLE episodes_fts;
    UPDATE episodes SET keys = json_extract(meta, '$.note_title')
        WHERE kind = 'note' AND json_extract(meta, '$.note_title') IS NOT NULL
        AND json_extract(meta, '$.note_title') IS NOT coalesce(title, '');
    CREATE VIRTUAL TABLE episodes_fts USING fts5(
        title, sender, text, keys,
        content='episodes', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER episodes_fts_insert AFTER INSERT ON episodes BEGIN
        INSERT INTO episodes_fts(rowid, title, sender, text, keys)
        VALUES (new.id, new.title, new.sender, new.text, new.keys);
    END;
    CREATE TRIGGER episodes_fts_delete AFTER DELETE ON episodes BEGIN
        INSERT INTO episodes_fts(episodes_fts, rowid, title, sender, text, keys)
        VALUES ('delete', old.id, old.title, old.sender, old.text, old.keys);
    END;
    CREATE TRIGGER episodes_fts_update AFTER UPDATE OF title, sender, text, keys ON episodes
    BEGIN
        INSERT INTO episodes_fts(episodes_fts, rowid, title, sender, text, keys)
        VALUES ('delete', old.id, old.title, old.sender, old.text, old.keys);
        INSERT INTO episodes_fts(rowid, title, sender, text, keys)
        VALUES (new.id, new.title, new.sender, new.text, new.keys);
    END;
    INSERT INTO episodes_fts(episodes_fts) VALUES ('rebuild');
    """,
    # v11: governance. The audit log chains one row per release, refusal, grant change,
    # forget and model call with an HMAC (policies/audit.py); it holds names, counts and
    # keyed hashes, never a value. Grants say which categories a requester may be given.
    """
    CREATE TABLE audit (
        seq       INTEGER PRIMARY KEY,      -- 1, 2, 3… without gaps
        time      TEXT NOT NULL,
        action    TEXT NOT NULL,
        requester TEXT,
        field     TEXT,
        attribute TEXT,
        fact_id   INTEGER,
        value_mac TEXT,                     -- HMAC of the value released, never the value
        detail    TEXT NOT NULL DEFAULT '{}',
        mac       TEXT NOT NULL             -- HMAC(previous mac, seq, this row)
    );
    CREATE TABLE grants (
        requester  TEXT PRIMARY KEY,
        categories TEXT NOT NULL,           -- JSON list
        created    TEXT NOT NULL,
        expires    TEXT                     -- ISO time; NULL: until revoked
    );
    """,
    # v12: consent and retention. Exclusions name what of a source is never remembered
    # (a conversation, or files matching a pattern); retention rules forget memories of
    # a kind once they are older than a number of days (policies/consent.py).
    """
    CREATE TABLE exclusions (
        id        INTEGER PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        kind      TEXT NOT NULL CHECK (kind IN ('conversation', 'glob')),
        pattern   TEXT NOT NULL,
        created   TEXT NOT NULL,
        UNIQUE (source_id, kind, pattern)
    );
    CREATE TABLE retention_rules (
        id         INTEGER PRIMARY KEY,
        kind       TEXT,                    -- an episode kind; NULL: every kind
        older_than INTEGER NOT NULL CHECK (older_than > 0),  -- days
        created    TEXT NOT NULL,
        UNIQUE (kind, older_than)
    );
    """,
    # v13: a chat message is also found by the words of the message it follows ("Yeah,
    # she loved it!" by what "she" loved): `context` holds the start of that message,
    # `context_of` its id, so that a forget of it can clear the copy (the trigger does
    # so for every delete) and re-embed the vector that leaned on it (assistant/forget.py).
    # Existing chat messages get theirs from the message stored before them in their
    # file and conversation, as ingest pairs them (the text only of a message that
    # answers someone else, never of a quarantined one: assistant/documents.py).
    """
    ALTER TABLE episodes ADD COLUMN context TEXT;
    ALTER TABLE episodes ADD COLUMN context_of INTEGER;
    CREATE INDEX episodes_context_of ON episodes(context_of) WHERE context_of IS NOT NULL;
    DROP TRIGGER episodes_fts_insert;
    DROP TRIGGER episodes_fts_delete;
    DROP TRIGGER episodes_fts_update;
    DROP TABLE episodes_fts;
    UPDATE episodes SET context_of = paired.before FROM (
        SELECT id, LAG(id) OVER (PARTITION BY document_id, conversation ORDER BY id) AS before
        FROM episodes WHERE conversation IS NOT NULL
    ) AS paired WHERE episodes.id = paired.id AND paired.before IS NOT NULL;
    UPDATE episodes SET context = (
        SELECT substr(p.text, 1, 300) FROM episodes p
        WHERE p.id = episodes.context_of AND p.quarantine IS NULL
            AND p.sender IS NOT episodes.sender
    ) WHERE context_of IS NOT NULL;
    CREATE VIRTUAL TABLE episodes_fts USING fts5(
        title, sender, text, keys, context,
        content='episodes', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER episodes_fts_insert AFTER INSERT ON episodes BEGIN
        INSERT INTO episodes_fts(rowid, title, sender, text, keys, context)
        VALUES (new.id, new.title, new.sender, new.text, new.keys, new.context);
    END;
    CREATE TRIGGER episodes_fts_delete AFTER DELETE ON episodes BEGIN
        INSERT INTO episodes_fts(episodes_fts, rowid, title, sender, text, keys, context)
        VALUES ('delete', old.id, old.title, old.sender, old.text, old.keys, old.context);
    END;
    CREATE TRIGGER episodes_fts_update
    AFTER UPDATE OF title, sender, text, keys, context ON episodes BEGIN
        INSERT INTO episodes_fts(episodes_fts, rowid, title, sender, text, keys, context)
        VALUES ('delete', old.id, old.title, old.sender, old.text, old.keys, old.context);
        INSERT INTO episodes_fts(rowid, title, sender, text, keys, context)
        VALUES (new.id, new.title, new.sender, new.text, new.keys, new.context);
    END;
    CREATE TRIGGER episodes_context_gone AFTER DELETE ON episodes BEGIN
        UPDATE episodes SET context = NULL, context_of = NULL WHERE context_of = old.id;
    END;
    INSERT INTO episodes_fts(episodes_fts) VALUES ('rebuild');
    """,
    # v14: a chat message is also found by the words of the reply it got ("What did you
    # paint?" by "A sunset over the lake"): `reply` holds the start of the next message
    # when someone else wrote it and it is not quarantined, `reply_of` that message's id,
    # so that a forget of it clears the copy (a trigger, on every delete). Existing
    # messages are paired with their followers as v13 paired them (`context_of`).
    """
    ALTER TABLE episodes ADD COLUMN reply TEXT;
    ALTER TABLE episodes ADD COLUMN reply_of INTEGER;
    CREATE INDEX episodes_reply_of ON episodes(reply_of) WHERE reply_of IS NOT NULL;
    DROP TRIGGER episodes_fts_insert;
    DROP TRIGGER episodes_fts_delete;
    DROP TRIGGER episodes_fts_update;
    DROP TABLE episodes_fts;
    UPDATE episodes SET reply_of = (
        SELECT min(f.id) FROM episodes f
        WHERE f.context_of = episodes.id AND f.quarantine IS NULL
            AND f.sender IS NOT episodes.sender
    ) WHERE conversation IS NOT NULL;
    UPDATE episodes SET reply = (SELECT substr(f.text, 1, 300) FROM episodes f
                                 WHERE f.id = episodes.reply_of)
    WHERE reply_of IS NOT NULL;
    CREATE VIRTUAL TABLE episodes_fts USING fts5(
        title, sender, text, keys, context, reply,
        content='episodes', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER episodes_fts_insert AFTER INSERT ON episodes BEGIN
        INSERT INTO episodes_fts(rowid, title, sender, text, keys, context, reply)
        VALUES (new.id, new.title, new.sender, new.text, new.keys, new.context, new.reply);
    END;
    CREATE TRIGGER episodes_fts_delete AFTER DELETE ON episodes BEGIN
        INSERT INTO episodes_fts(episodes_fts, rowid, title, sender, text, keys, context, reply)
        VALUES ('delete', old.id, old.title, old.sender, old.text, old.keys, old.context,
                old.reply);
    END;
    CREATE TRIGGER episodes_fts_update
    AFTER UPDATE OF title, sender, text, keys, context, reply ON episodes BEGIN
        INSERT INTO episodes_fts(episodes_fts, rowid, title, sender, text, keys, context, reply)
        VALUES ('delete', old.id, old.title, old.sender, old.text, old.keys, old.context,
                old.reply);
        INSERT INTO episodes_fts(rowid, title, sender, text, keys, context, reply)
        VALUES (new.id, new.title, new.sender, new.text, new.keys, new.context, new.reply);
    END;
    CREATE TRIGGER episodes_reply_gone AFTER DELETE ON episodes BEGIN
        UPDATE episodes SET reply = NULL, reply_of = NULL WHERE reply_of = old.id;
    END;
    INSERT INTO episodes_fts(episodes_fts) VALUES ('rebuild');
    """,
]
