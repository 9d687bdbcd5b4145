-- #13.11: an object created without attributes has none (null), as in the original req1 server and as the
-- contract says of absent nullable fields; its fingerprint then hashes no attribute map. Existing rows keep
-- their stored map (their fingerprints were computed from it).
ALTER TABLE object ALTER COLUMN attributes DROP NOT NULL, ALTER COLUMN attributes DROP DEFAULT;
