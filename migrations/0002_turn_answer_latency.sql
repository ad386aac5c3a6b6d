-- The first audio of a turn may be a filler ("one moment ..."); answer_ms is the end of the
-- caller's speech to the first audio frame of the answer itself.
ALTER TABLE turns ADD COLUMN answer_ms BIGINT;
