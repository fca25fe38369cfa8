-- Name search by characters through an index. A name's grams are its characters and its
-- pairs of adjacent characters; a query of two or more characters is in a name only if
-- each of its pairs is, and a one-character query only if that character is, so a GIN
-- index over the grams finds the few names that can hold the query and `strpos` keeps
-- those that do. Pairs rather than pg_trgm's trigrams: most Chinese names are two or
-- three characters, and `张伟` has no trigram at all, so a trigram index would be read
-- whole for it. The grams derive from the name, which is stored as it is already; an
-- erased resident's name is overwritten, and so are its grams.
-- The query's grams are computed by the registry (`name_search::character_grams`): the
-- two must agree on what a gram is (a character is a code point in both).

CREATE FUNCTION resident_name_grams(name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(
        SELECT DISTINCT substr(name, i, n)
        FROM generate_series(1, length(name)) AS i, (VALUES (1), (2)) AS g(n)
        WHERE i + n - 1 <= length(name));

CREATE INDEX residents_by_name_grams ON residents USING gin (resident_name_grams(name));
