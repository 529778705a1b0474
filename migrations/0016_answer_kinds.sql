-- migrate:up
-- 0016 answer kinds
-- The grader as a learner meets it (issue: right answers accepted, wrong ones refused).
-- grade_answer() keeps giving exactly what netplus_db/grading.py gives; the rules changed
-- here are changed there too and property-tested together
-- (tests/schema/test_grading_in_database.py). fill_blank answer kinds (question_data.normalize):
--   * ports: the protocol words tcp, udp, port and ports separate like commas, so
--     "TCP 3389", "3389/tcp", "port 3389" and "UDP 1812" read as their ports;
--   * number: question_data.units (a list of strings) may be written before or after the
--     number ("4 bytes", "6 GHz", "Layer 2", "option 3"); another word is still wrong;
--   * cidr: a network, read strictly: host bits set (10.1.2.77/22, 8.8.8.8/0) make the answer
--     unreadable, hence wrong; the prefix must be in range;
--   * mac (new): aa:bb:cc:dd:ee:ff from colon, hyphen, dotted or bare hexadecimal spellings;
--   * term (new): text with hyphens and underscores read as spaces and a leading article
--     dropped; "expansion (abbreviation)" earns credit when both halves are accepted (the
--     lower of their credits).
-- No table changes; functions only (CREATE OR REPLACE keeps their grants).

-- ---------------------------------------------------------------------------
-- Answer kinds (fill_blank `normalize`), as netplus_db/grading.py reads them
-- ---------------------------------------------------------------------------
-- ports: protocol words (tcp, udp, port, ports) are separators, so "TCP 3389",
-- "3389/tcp" and "port 3389" read as 3389.
CREATE OR REPLACE FUNCTION grading_ports(p_text text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_piece text;
    v_low text;
    v_high text;
    v_first numeric;
    v_last numeric;
    v_at integer;
    v_ranges int4range[] := '{}';
BEGIN
    FOREACH v_piece IN ARRAY regexp_split_to_array(grading_ascii_digits(p_text),
        '[,/\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000]+|(?<![A-Za-z0-9_])(?:and|tcp|udp|ports?)(?![A-Za-z0-9_])')
    LOOP
        CONTINUE WHEN v_piece = '';
        v_at := strpos(v_piece, '-');
        IF v_at > 0 THEN
            v_low := left(v_piece, v_at - 1);
            v_high := substr(v_piece, v_at + 1);
        ELSE
            v_low := v_piece;
            v_high := '';
        END IF;
        IF v_high = '' THEN
            v_high := v_low;
        END IF;
        IF v_low !~ '^[-+]?[0-9]+(_[0-9]+)*$' OR v_high !~ '^[-+]?[0-9]+(_[0-9]+)*$' THEN
            RETURN NULL;
        END IF;
        v_first := replace(v_low, '_', '')::numeric;
        v_last := replace(v_high, '_', '')::numeric;
        IF NOT (0 <= v_first AND v_first <= v_last AND v_last <= 65535) THEN
            RETURN NULL;
        END IF;
        v_ranges := v_ranges || int4range(v_first::integer, v_last::integer, '[]');
    END LOOP;
    IF cardinality(v_ranges) = 0 THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT range_agg(r)::text FROM unnest(v_ranges) AS r);
END;
$$;

-- cidr: ip_network(text.replace(' ', ''), strict=True).with_prefixlen, or NULL:
-- a network, so an address with host bits set (10.1.2.77/22) is not one.
CREATE OR REPLACE FUNCTION grading_cidr(p_text text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_text text := replace(p_text, ' ', '');
    v_parts text[];
    v_mask text;
    v_ipv4 bigint;
    v_mask4 bigint;
    v_prefix integer;
    v_address record;
    v_masked integer[];
    i integer;
BEGIN
    v_parts := string_to_array(v_text, '/');
    IF v_text = '' OR cardinality(v_parts) > 2 THEN
        RETURN NULL;
    END IF;
    v_mask := v_parts[2];
    v_ipv4 := grading_ipv4(v_parts[1]);
    IF v_ipv4 IS NOT NULL THEN
        IF v_mask IS NULL THEN
            v_prefix := 32;
        ELSIF v_mask ~ '^[0-9]+$' AND length(ltrim(v_mask, '0')) <= 2
              AND coalesce(nullif(ltrim(v_mask, '0'), ''), '0')::integer <= 32 THEN
            v_prefix := coalesce(nullif(ltrim(v_mask, '0'), ''), '0')::integer;
        ELSE
            v_mask4 := grading_ipv4(v_mask);
            IF v_mask4 IS NOT NULL THEN
                -- a netmask first (0.0.0.0 is /0), then a hostmask
                FOR i IN 0 .. 32 LOOP
                    IF v_mask4 = 4294967296 - (1::bigint << (32 - i)) THEN
                        v_prefix := i;
                        EXIT;
                    END IF;
                END LOOP;
                IF v_prefix IS NULL THEN
                    FOR i IN 0 .. 32 LOOP
                        IF v_mask4 = (1::bigint << (32 - i)) - 1 THEN
                            v_prefix := i;
                            EXIT;
                        END IF;
                    END LOOP;
                END IF;
            END IF;
        END IF;
        IF v_prefix IS NOT NULL THEN
            IF v_ipv4 & (4294967296 - (1::bigint << (32 - v_prefix))) <> v_ipv4 THEN
                RETURN NULL;  -- host bits set
            END IF;
            RETURN grading_ipv4_text(v_ipv4) || '/' || v_prefix;
        END IF;
    END IF;
    v_address := grading_ipv6_scoped(v_parts[1]);
    IF v_address.hextets IS NULL THEN
        RETURN NULL;
    END IF;
    IF v_mask IS NULL THEN
        v_prefix := 128;
    ELSIF v_mask ~ '^[0-9]+$' AND length(ltrim(v_mask, '0')) <= 3
          AND coalesce(nullif(ltrim(v_mask, '0'), ''), '0')::integer <= 128 THEN
        v_prefix := coalesce(nullif(ltrim(v_mask, '0'), ''), '0')::integer;
    ELSE
        RETURN NULL;
    END IF;
    v_masked := '{}';
    FOR i IN 1 .. 8 LOOP
        v_masked := v_masked || CASE
            WHEN i * 16 <= v_prefix THEN v_address.hextets[i]
            WHEN (i - 1) * 16 >= v_prefix THEN 0
            ELSE v_address.hextets[i] & (65536 - (1 << (16 - (v_prefix - (i - 1) * 16))))
        END;
    END LOOP;
    IF v_masked <> v_address.hextets THEN
        RETURN NULL;  -- host bits set
    END IF;
    RETURN grading_ipv6_text(v_masked) || coalesce('%' || v_address.scope, '') || '/' || v_prefix;
END;
$$;

-- mac: aa:bb:cc:dd:ee:ff from colon, hyphen, Cisco dotted (aabb.ccdd.eeff) or
-- bare hexadecimal spellings, or NULL.
CREATE FUNCTION grading_mac(p_text text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_hex text;
BEGIN
    IF p_text ~ '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$'
       OR p_text ~ '^[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){5}$'
       OR p_text ~ '^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$'
       OR p_text ~ '^[0-9A-Fa-f]{12}$' THEN
        v_hex := translate(p_text, 'ABCDEF:.-', 'abcdef');
        RETURN substr(v_hex, 1, 2) || ':' || substr(v_hex, 3, 2) || ':' || substr(v_hex, 5, 2)
               || ':' || substr(v_hex, 7, 2) || ':' || substr(v_hex, 9, 2) || ':'
               || substr(v_hex, 11, 2);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION grading_mac(text) IS
    'A MAC address as aa:bb:cc:dd:ee:ff (from colon, hyphen, dotted or bare hexadecimal spellings), or NULL (the mac answer kind).';

-- _normalize(text, normalizer, case_sensitive) of grading.py: as in 0012, plus
-- the kinds mac and term (hyphens and underscores read as spaces, a leading
-- article dropped) and a strict cidr.
CREATE OR REPLACE FUNCTION grading_normalize(p_text text, p_normalizer text, p_case_sensitive boolean)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_text text := p_text;
    v_ipv6 record;
BEGIN
    IF octet_length(v_text) <> length(v_text) THEN
        v_text := normalize(v_text, NFC);
    END IF;
    IF v_text ~ '[\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000]' THEN
        v_text := btrim(regexp_replace(v_text,
            '[\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000]+',
            ' ', 'g'), ' ');
    END IF;
    IF NOT p_case_sensitive THEN
        IF octet_length(v_text) = length(v_text) THEN
            v_text := translate(v_text, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
        ELSE
            v_text := normalize(grading_casefold(v_text), NFC);
        END IF;
    END IF;
    CASE p_normalizer
        WHEN 'text' THEN
            RETURN v_text;
        WHEN 'number' THEN
            RETURN grading_decimal(replace(v_text, ',', ''));
        WHEN 'ipv4' THEN
            IF grading_ipv4(v_text) IS NULL THEN
                RETURN NULL;
            END IF;
            RETURN v_text;  -- without leading zeros, the text is canonical
        WHEN 'ipv6' THEN
            v_ipv6 := grading_ipv6_scoped(v_text);
            IF v_ipv6.hextets IS NULL THEN
                RETURN NULL;
            END IF;
            RETURN grading_ipv6_text(v_ipv6.hextets) || coalesce('%' || v_ipv6.scope, '');
        WHEN 'cidr' THEN
            RETURN grading_cidr(v_text);
        WHEN 'ports' THEN
            RETURN grading_ports(v_text);
        WHEN 'mac' THEN
            RETURN grading_mac(v_text);
        WHEN 'term' THEN
            v_text := regexp_replace(v_text, '[-_\u2010\u2011\u2012\u2013\u2014]+', ' ', 'g');
            v_text := btrim(regexp_replace(v_text, ' +', ' ', 'g'), ' ');
            RETURN regexp_replace(v_text, '^(the|an?) ', '');
    END CASE;
END;
$$;

COMMENT ON FUNCTION grading_normalize(text, text, boolean) IS
    'A fill_blank answer in canonical form for an answer kind (text, number, ipv4, ipv6, cidr, ports, mac, term), or NULL when it cannot be read as one; a number''s units are read by grading_normalize_answer.';

-- A number with one of the question's units (question_data.units) before or
-- after it: the bare number first, then each unit in order, at the end, then at
-- the start; everything else as grading_normalize.
CREATE FUNCTION grading_normalize_answer(p_text text, p_normalizer text, p_case_sensitive boolean,
                                         p_units text[])
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_text text;
    v_word text;
    v_number text;
    v_unit text;
BEGIN
    IF p_normalizer <> 'number' OR cardinality(p_units) = 0 THEN
        RETURN grading_normalize(p_text, p_normalizer, p_case_sensitive);
    END IF;
    v_text := grading_normalize(p_text, 'text', p_case_sensitive);
    v_number := grading_decimal(replace(v_text, ',', ''));
    IF v_number IS NOT NULL THEN
        RETURN v_number;
    END IF;
    FOREACH v_unit IN ARRAY p_units LOOP
        v_word := grading_normalize(v_unit, 'text', p_case_sensitive);
        CONTINUE WHEN v_word = '' OR length(v_word) >= length(v_text);
        IF right(v_text, length(v_word)) = v_word THEN
            v_number := grading_decimal(replace(left(v_text, length(v_text) - length(v_word)), ',', ''));
            IF v_number IS NOT NULL THEN
                RETURN v_number;
            END IF;
        END IF;
        IF left(v_text, length(v_word)) = v_word THEN
            v_number := grading_decimal(replace(substr(v_text, length(v_word) + 1), ',', ''));
            IF v_number IS NOT NULL THEN
                RETURN v_number;
            END IF;
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION grading_normalize_answer(text, text, boolean, text[]) IS
    'grading_normalize, with a number''s units (question_data.units) read before or after it.';

-- The index (1-based) of the first accepted answer a canonical answer matches,
-- or NULL: a wildcard by LIKE on the whole canonical answer (a term's pattern
-- read as a term, any other as text), else by canonical form.
CREATE FUNCTION grading_fill_match(p_given text, p_answers text[], p_normalizer text,
                                   p_case_sensitive boolean, p_units text[])
RETURNS integer
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_given_list text;
    v_pattern text;
    i integer;
BEGIN
    FOR i IN 1 .. cardinality(p_answers) LOOP
        IF strpos(p_answers[i], '*') > 0 THEN
            v_pattern := replace(replace(replace(replace(
                grading_normalize(p_answers[i], CASE WHEN p_normalizer = 'term' THEN 'term' ELSE 'text' END,
                                  p_case_sensitive),
                '\', '\\'), '%', '\%'), '_', '\_'), '*', '%');
            IF p_normalizer = 'ports' AND v_given_list IS NULL THEN
                v_given_list := grading_ports_list(p_given);
            END IF;
            IF (CASE WHEN p_normalizer = 'ports' THEN v_given_list ELSE p_given END) COLLATE "C"
               LIKE v_pattern COLLATE "C" THEN
                RETURN i;
            END IF;
        ELSIF grading_normalize_answer(p_answers[i], p_normalizer, p_case_sensitive, p_units) = p_given THEN
            RETURN i;
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION grading_fill_blank(p_data jsonb, p_key jsonb, p_answer jsonb, p_at text)
RETURNS numeric[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_text text := grading_str(p_answer, 'text', p_at);
    v_normalizer jsonb;
    v_kind text;
    v_case_sensitive boolean;
    v_units_json jsonb;
    v_units text[] := '{}';
    v_given text;
    v_accepted jsonb;
    v_item jsonb;
    v_answers text[] := '{}';
    v_nums numeric[] := '{}';
    v_dens numeric[] := '{}';
    v_credit numeric[];
    v_both text[];
    v_first text;
    v_second text;
    v_one integer;
    v_other integer;
    i integer;
BEGIN
    IF length(v_text) > 1000 THEN
        PERFORM grading_invalid(p_at || '.text', 'is longer than 1000 characters');
    END IF;
    IF v_text ~ '^[\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000]*$' THEN
        RETURN NULL;  -- a blank answer is a skipped question
    END IF;
    v_normalizer := grading_field(p_data, 'normalize', 'question_data');
    IF v_normalizer IS NULL THEN
        v_kind := 'text';
    ELSIF jsonb_typeof(v_normalizer) = 'string'
          AND v_normalizer #>> '{}' IN ('text', 'number', 'ipv4', 'ipv6', 'cidr', 'ports', 'mac', 'term') THEN
        v_kind := v_normalizer #>> '{}';
    ELSE
        PERFORM grading_malformed('unknown normalizer ' || CASE jsonb_typeof(v_normalizer)
            WHEN 'string' THEN grading_repr(v_normalizer #>> '{}') ELSE v_normalizer::text END);
    END IF;
    v_case_sensitive := grading_truthy(p_data -> 'case_sensitive');
    IF v_kind = 'number' AND p_data ? 'units' THEN
        v_units_json := p_data -> 'units';
        IF jsonb_typeof(v_units_json) <> 'array'
           OR jsonb_path_exists(v_units_json, 'strict $[*] ? (@.type() != "string")') THEN
            PERFORM grading_malformed('question_data.units must be a list of strings');
        END IF;
        v_units := ARRAY(SELECT e FROM jsonb_array_elements_text(v_units_json) WITH ORDINALITY AS u(e, n)
                          ORDER BY n);
    END IF;
    v_given := grading_normalize_answer(v_text, v_kind, v_case_sensitive, v_units);
    IF v_given IS NULL THEN
        RETURN ARRAY[0, 1]::numeric[];
    END IF;
    -- every accepted answer is checked before any is matched, as in Python
    v_accepted := grading_field(p_key, 'accepted', 'correct_answer');
    IF jsonb_typeof(v_accepted) IS DISTINCT FROM 'array' OR v_accepted = '[]'::jsonb THEN
        PERFORM grading_malformed('correct_answer.accepted must be a non-empty list');
    END IF;
    FOR i IN 0 .. jsonb_array_length(v_accepted) - 1 LOOP
        v_item := v_accepted -> i;
        IF jsonb_typeof(v_item) <> 'object' OR jsonb_typeof(v_item -> 'answer') IS DISTINCT FROM 'string' THEN
            PERFORM grading_malformed('each correct_answer.accepted item needs an answer string');
        END IF;
        v_credit := grading_clamp(grading_number(coalesce(v_item -> 'credit', '1'::jsonb),
                                                 'correct_answer.accepted.credit'));
        v_answers := v_answers || (v_item ->> 'answer');
        v_nums := v_nums || v_credit[1];
        v_dens := v_dens || v_credit[2];
    END LOOP;
    i := grading_fill_match(v_given, v_answers, v_kind, v_case_sensitive, v_units);
    IF i IS NOT NULL THEN
        RETURN ARRAY[v_nums[i], v_dens[i]];
    END IF;
    IF v_kind = 'term' THEN
        -- "expansion (abbreviation)" or the other way round: both halves must be right
        v_both := regexp_match(v_given, '^([^()]+)\(([^()]+)\)$');
        IF v_both IS NOT NULL THEN
            v_first := grading_normalize(v_both[1], 'term', v_case_sensitive);
            v_second := grading_normalize(v_both[2], 'term', v_case_sensitive);
            IF v_first <> '' AND v_second <> '' THEN
                v_one := grading_fill_match(v_first, v_answers, v_kind, v_case_sensitive, v_units);
                v_other := grading_fill_match(v_second, v_answers, v_kind, v_case_sensitive, v_units);
                IF v_one IS NOT NULL AND v_other IS NOT NULL THEN
                    IF v_nums[v_one] * v_dens[v_other] <= v_nums[v_other] * v_dens[v_one] THEN
                        RETURN ARRAY[v_nums[v_one], v_dens[v_one]];
                    END IF;
                    RETURN ARRAY[v_nums[v_other], v_dens[v_other]];
                END IF;
            END IF;
        END IF;
    END IF;
    RETURN ARRAY[0, 1]::numeric[];
END;
$$;

REVOKE EXECUTE ON FUNCTION
    grading_mac(text),
    grading_normalize_answer(text, text, boolean, text[]),
    grading_fill_match(text, text[], text, boolean, text[])
    FROM PUBLIC;

-- migrate:down

-- 0012's grader and 0013's attempt functions, exactly as they were.

CREATE OR REPLACE FUNCTION grading_fill_blank(p_data jsonb, p_key jsonb, p_answer jsonb, p_at text)
RETURNS numeric[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_text text := grading_str(p_answer, 'text', p_at);
    v_normalizer jsonb;
    v_kind text;
    v_case_sensitive boolean;
    v_given text;
    v_given_list text;
    v_accepted jsonb;
    v_item jsonb;
    v_answers text[] := '{}';
    v_nums numeric[] := '{}';
    v_dens numeric[] := '{}';
    v_credit numeric[];
    v_pattern text;
    i integer;
BEGIN
    IF length(v_text) > 1000 THEN
        PERFORM grading_invalid(p_at || '.text', 'is longer than 1000 characters');
    END IF;
    IF v_text ~ '^[\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000]*$' THEN
        RETURN NULL;  -- a blank answer is a skipped question
    END IF;
    v_normalizer := grading_field(p_data, 'normalize', 'question_data');
    IF v_normalizer IS NULL THEN
        v_kind := 'text';
    ELSIF jsonb_typeof(v_normalizer) = 'string'
          AND v_normalizer #>> '{}' IN ('text', 'number', 'ipv4', 'ipv6', 'cidr', 'ports') THEN
        v_kind := v_normalizer #>> '{}';
    ELSE
        PERFORM grading_malformed('unknown normalizer ' || CASE jsonb_typeof(v_normalizer)
            WHEN 'string' THEN grading_repr(v_normalizer #>> '{}') ELSE v_normalizer::text END);
    END IF;
    v_case_sensitive := grading_truthy(p_data -> 'case_sensitive');
    v_given := grading_normalize(v_text, v_kind, v_case_sensitive);
    IF v_given IS NULL THEN
        RETURN ARRAY[0, 1]::numeric[];
    END IF;
    -- every accepted answer is checked before any is matched, as in Python
    v_accepted := grading_field(p_key, 'accepted', 'correct_answer');
    IF jsonb_typeof(v_accepted) IS DISTINCT FROM 'array' OR v_accepted = '[]'::jsonb THEN
        PERFORM grading_malformed('correct_answer.accepted must be a non-empty list');
    END IF;
    FOR i IN 0 .. jsonb_array_length(v_accepted) - 1 LOOP
        v_item := v_accepted -> i;
        IF jsonb_typeof(v_item) <> 'object' OR jsonb_typeof(v_item -> 'answer') IS DISTINCT FROM 'string' THEN
            PERFORM grading_malformed('each correct_answer.accepted item needs an answer string');
        END IF;
        v_credit := grading_clamp(grading_number(coalesce(v_item -> 'credit', '1'::jsonb),
                                                 'correct_answer.accepted.credit'));
        v_answers := v_answers || (v_item ->> 'answer');
        v_nums := v_nums || v_credit[1];
        v_dens := v_dens || v_credit[2];
    END LOOP;
    FOR i IN 1 .. cardinality(v_answers) LOOP
        IF strpos(v_answers[i], '*') > 0 THEN
            -- a wildcard: LIKE on the whole canonical answer, its other characters literal
            v_pattern := replace(replace(replace(replace(
                grading_normalize(v_answers[i], 'text', v_case_sensitive),
                '\', '\\'), '%', '\%'), '_', '\_'), '*', '%');
            IF v_kind = 'ports' AND v_given_list IS NULL THEN
                v_given_list := grading_ports_list(v_given);
            END IF;
            IF (CASE WHEN v_kind = 'ports' THEN v_given_list ELSE v_given END) COLLATE "C"
               LIKE v_pattern COLLATE "C" THEN
                RETURN ARRAY[v_nums[i], v_dens[i]];
            END IF;
        ELSIF grading_normalize(v_answers[i], v_kind, v_case_sensitive) = v_given THEN
            RETURN ARRAY[v_nums[i], v_dens[i]];
        END IF;
    END LOOP;
    RETURN ARRAY[0, 1]::numeric[];
END;
$$;

DROP FUNCTION grading_fill_match(text, text[], text, boolean, text[]);

DROP FUNCTION grading_normalize_answer(text, text, boolean, text[]);

CREATE OR REPLACE FUNCTION grading_normalize(p_text text, p_normalizer text, p_case_sensitive boolean)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_text text := p_text;
    v_ipv6 record;
BEGIN
    IF octet_length(v_text) <> length(v_text) THEN
        v_text := normalize(v_text, NFC);
    END IF;
    IF v_text ~ '[\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000]' THEN
        v_text := btrim(regexp_replace(v_text,
            '[\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000]+',
            ' ', 'g'), ' ');
    END IF;
    IF NOT p_case_sensitive THEN
        IF octet_length(v_text) = length(v_text) THEN
            v_text := translate(v_text, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
        ELSE
            v_text := normalize(grading_casefold(v_text), NFC);
        END IF;
    END IF;
    CASE p_normalizer
        WHEN 'text' THEN
            RETURN v_text;
        WHEN 'number' THEN
            RETURN grading_decimal(replace(v_text, ',', ''));
        WHEN 'ipv4' THEN
            IF grading_ipv4(v_text) IS NULL THEN
                RETURN NULL;
            END IF;
            RETURN v_text;  -- without leading zeros, the text is canonical
        WHEN 'ipv6' THEN
            v_ipv6 := grading_ipv6_scoped(v_text);
            IF v_ipv6.hextets IS NULL THEN
                RETURN NULL;
            END IF;
            RETURN grading_ipv6_text(v_ipv6.hextets) || coalesce('%' || v_ipv6.scope, '');
        WHEN 'cidr' THEN
            RETURN grading_cidr(v_text);
        WHEN 'ports' THEN
            RETURN grading_ports(v_text);
    END CASE;
END;
$$;

COMMENT ON FUNCTION grading_normalize(text, text, boolean) IS
    'A fill_blank answer in canonical form for a normaliser (text, number, ipv4, ipv6, cidr, ports), or NULL when it cannot be read as one.';

DROP FUNCTION grading_mac(text);

CREATE OR REPLACE FUNCTION grading_cidr(p_text text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_text text := replace(p_text, ' ', '');
    v_parts text[];
    v_mask text;
    v_ipv4 bigint;
    v_mask4 bigint;
    v_prefix integer;
    v_address record;
    v_masked integer[];
    i integer;
BEGIN
    v_parts := string_to_array(v_text, '/');
    IF v_text = '' OR cardinality(v_parts) > 2 THEN
        RETURN NULL;
    END IF;
    v_mask := v_parts[2];
    v_ipv4 := grading_ipv4(v_parts[1]);
    IF v_ipv4 IS NOT NULL THEN
        IF v_mask IS NULL THEN
            v_prefix := 32;
        ELSIF v_mask ~ '^[0-9]+$' AND length(ltrim(v_mask, '0')) <= 2
              AND coalesce(nullif(ltrim(v_mask, '0'), ''), '0')::integer <= 32 THEN
            v_prefix := coalesce(nullif(ltrim(v_mask, '0'), ''), '0')::integer;
        ELSE
            v_mask4 := grading_ipv4(v_mask);
            IF v_mask4 IS NOT NULL THEN
                -- a netmask first (0.0.0.0 is /0), then a hostmask
                FOR i IN 0 .. 32 LOOP
                    IF v_mask4 = 4294967296 - (1::bigint << (32 - i)) THEN
                        v_prefix := i;
                        EXIT;
                    END IF;
                END LOOP;
                IF v_prefix IS NULL THEN
                    FOR i IN 0 .. 32 LOOP
                        IF v_mask4 = (1::bigint << (32 - i)) - 1 THEN
                            v_prefix := i;
                            EXIT;
                        END IF;
                    END LOOP;
                END IF;
            END IF;
        END IF;
        IF v_prefix IS NOT NULL THEN
            RETURN grading_ipv4_text(v_ipv4 & (4294967296 - (1::bigint << (32 - v_prefix))))
                   || '/' || v_prefix;
        END IF;
    END IF;
    v_address := grading_ipv6_scoped(v_parts[1]);
    IF v_address.hextets IS NULL THEN
        RETURN NULL;
    END IF;
    IF v_mask IS NULL THEN
        v_prefix := 128;
    ELSIF v_mask ~ '^[0-9]+$' AND length(ltrim(v_mask, '0')) <= 3
          AND coalesce(nullif(ltrim(v_mask, '0'), ''), '0')::integer <= 128 THEN
        v_prefix := coalesce(nullif(ltrim(v_mask, '0'), ''), '0')::integer;
    ELSE
        RETURN NULL;
    END IF;
    v_masked := '{}';
    FOR i IN 1 .. 8 LOOP
        v_masked := v_masked || CASE
            WHEN i * 16 <= v_prefix THEN v_address.hextets[i]
            WHEN (i - 1) * 16 >= v_prefix THEN 0
            ELSE v_address.hextets[i] & (65536 - (1 << (16 - (v_prefix - (i - 1) * 16))))
        END;
    END LOOP;
    IF v_masked = v_address.hextets THEN
        RETURN grading_ipv6_text(v_masked) || coalesce('%' || v_address.scope, '') || '/' || v_prefix;
    END IF;
    RETURN grading_ipv6_text(v_masked) || '/' || v_prefix;
END;
$$;

CREATE OR REPLACE FUNCTION grading_ports(p_text text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_piece text;
    v_low text;
    v_high text;
    v_first numeric;
    v_last numeric;
    v_at integer;
    v_ranges int4range[] := '{}';
BEGIN
    FOREACH v_piece IN ARRAY regexp_split_to_array(grading_ascii_digits(p_text),
        '[,/\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000]+|(?<![A-Za-z0-9_])and(?![A-Za-z0-9_])')
    LOOP
        CONTINUE WHEN v_piece = '';
        v_at := strpos(v_piece, '-');
        IF v_at > 0 THEN
            v_low := left(v_piece, v_at - 1);
            v_high := substr(v_piece, v_at + 1);
        ELSE
            v_low := v_piece;
            v_high := '';
        END IF;
        IF v_high = '' THEN
            v_high := v_low;
        END IF;
        IF v_low !~ '^[-+]?[0-9]+(_[0-9]+)*$' OR v_high !~ '^[-+]?[0-9]+(_[0-9]+)*$' THEN
            RETURN NULL;
        END IF;
        v_first := replace(v_low, '_', '')::numeric;
        v_last := replace(v_high, '_', '')::numeric;
        IF NOT (0 <= v_first AND v_first <= v_last AND v_last <= 65535) THEN
            RETURN NULL;
        END IF;
        v_ranges := v_ranges || int4range(v_first::integer, v_last::integer, '[]');
    END LOOP;
    IF cardinality(v_ranges) = 0 THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT range_agg(r)::text FROM unnest(v_ranges) AS r);
END;
$$;
