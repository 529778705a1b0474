-- migrate:up
-- 0012 grading in the database
-- grade_answer(question_type, question_data, correct_answer, user_answer, points)
-- grades one answer by the rules of docs/question-formats.md, giving exactly
-- what netplus_db.grading.grade(...) and Grade.points(points) give, so that a
-- grade can be computed where a learner cannot supply it. The Python grader
-- stays the reference; tests/schema/test_grading_in_database.py holds the two
-- to the same results, case for case.
--
-- Result: graded_answer (skipped, is_correct, fraction_num, fraction_den,
-- points_earned): the exact fraction in lowest terms (den > 0) and the points
-- as Grade.points computes them (fraction x points rounded half up to the
-- cent, in integer arithmetic). A skipped answer is (true, false, 0, 1, 0.00).
--
-- Errors, matching the Python exceptions:
--   SQLSTATE 22023 (invalid_parameter_value) where Python raises
--     ValidationError(field, message): the message is '<field>: <message>'
--     and the field is also in the error's COLUMN field (psycopg:
--     diag.column_name), e.g. 'user_answer.parts.p2.text'. Fields under
--     'correct_answer.' come from a key without its field, as in Python.
--   SQLSTATE NP001 (this project's own code) where Python raises
--     QuestionFormatError, or fails on a definition that is not even the
--     right JSON shape: the question definition is malformed.
--
-- Where the reference leans on Python's Unicode tables (str.strip/\s,
-- str.casefold, int()/Decimal reading any Unicode decimal digit), this file
-- carries the same tables (Unicode 14.0, Python 3.11) as constants, so that
-- the result does not depend on the server's locale or ICU. It needs a UTF8
-- database (normalize(text, NFC)).
--
-- Every function pins search_path; EXECUTE is revoked from PUBLIC: only the
-- owner (and SECURITY DEFINER functions it owns) may grade.

CREATE TYPE graded_answer AS (
    skipped        boolean,
    is_correct     boolean,
    fraction_num   bigint,
    fraction_den   bigint,
    points_earned  numeric(10,2)
);

COMMENT ON TYPE graded_answer IS
    'The grade of one answer: skipped, correct (fraction 1), the exact fraction in lowest terms and the points earned (numeric(10,2), rounded half up).';

-- ---------------------------------------------------------------------------
-- Errors
-- ---------------------------------------------------------------------------
CREATE FUNCTION grading_invalid(p_field text, p_message text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = '22023', MESSAGE = p_field || ': ' || p_message, COLUMN = p_field;
END;
$$;

COMMENT ON FUNCTION grading_invalid(text, text) IS
    'Raises SQLSTATE 22023 ''<field>: <message>'' (COLUMN = field): a malformed answer (Python ValidationError).';

CREATE FUNCTION grading_malformed(p_message text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'NP001', MESSAGE = p_message;
END;
$$;

COMMENT ON FUNCTION grading_malformed(text) IS
    'Raises SQLSTATE NP001: a malformed question definition (Python QuestionFormatError).';

-- ---------------------------------------------------------------------------
-- JSON as Python sees it
-- ---------------------------------------------------------------------------
-- The name of the Python type json.loads gives a JSON value (NULL: missing).
CREATE FUNCTION grading_pytype(p_value jsonb)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
    RETURN CASE jsonb_typeof(p_value)
               WHEN 'object' THEN 'dict'
               WHEN 'array' THEN 'list'
               WHEN 'string' THEN 'str'
               WHEN 'boolean' THEN 'bool'
               WHEN 'number' THEN CASE WHEN scale(p_value::numeric) = 0 THEN 'int' ELSE 'float' END
               ELSE 'NoneType'
           END;
END;
$$;

-- Python truthiness of a JSON value (NULL: missing, false).
CREATE FUNCTION grading_truthy(p_value jsonb)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
    RETURN CASE jsonb_typeof(p_value)
               WHEN 'boolean' THEN p_value = 'true'::jsonb
               WHEN 'number' THEN p_value::numeric <> 0
               WHEN 'string' THEN p_value <> '""'::jsonb
               WHEN 'array' THEN p_value <> '[]'::jsonb
               WHEN 'object' THEN p_value <> '{}'::jsonb
               ELSE false
           END;
END;
$$;

-- A string quoted for a message as Python's repr() quotes it (control
-- characters escaped; other characters Python deems unprintable are kept).
CREATE FUNCTION grading_repr(p_value text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
    SELECT q.quote || coalesce(string_agg(
               CASE
                   WHEN c = '\' THEN '\\'
                   WHEN c = q.quote THEN '\' || c
                   WHEN c = E'\t' THEN '\t'
                   WHEN c = E'\n' THEN '\n'
                   WHEN c = E'\r' THEN '\r'
                   WHEN ascii(c) < 32 OR ascii(c) BETWEEN 127 AND 160 OR ascii(c) = 173
                       THEN '\x' || lpad(to_hex(ascii(c)), 2, '0')
                   ELSE c
               END, '' ORDER BY n), '') || q.quote
      FROM (SELECT CASE WHEN strpos(p_value, '''') > 0 AND strpos(p_value, '"') = 0
                        THEN '"' ELSE '''' END AS quote) AS q
      LEFT JOIN string_to_table(p_value, NULL) WITH ORDINALITY AS s(c, n) ON true
     GROUP BY q.quote
$$;

-- obj.get(field) on a definition object; a definition that is not an object
-- (where Python would fail with AttributeError) is malformed.
CREATE FUNCTION grading_field(p_object jsonb, p_field text, p_label text)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF jsonb_typeof(p_object) IS DISTINCT FROM 'object' THEN
        PERFORM grading_malformed(p_label || ' must be a JSON object');
    END IF;
    RETURN p_object -> p_field;
END;
$$;

-- _str(obj, field, at): the string at obj.field, else 22023 '<at>.<field>'.
CREATE FUNCTION grading_str(p_object jsonb, p_field text, p_at text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_value jsonb := grading_field(p_object, p_field, p_at);
BEGIN
    IF jsonb_typeof(v_value) IS DISTINCT FROM 'string' THEN
        PERFORM grading_invalid(p_at || '.' || p_field, 'must be a string');
    END IF;
    RETURN v_value #>> '{}';
END;
$$;

-- _str_list(obj, field, at): a list of strings, else 22023 '<at>.<field>'.
CREATE FUNCTION grading_str_list(p_object jsonb, p_field text, p_at text)
RETURNS text[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_value jsonb := grading_field(p_object, p_field, p_at);
    v_list text[] := '{}';
    i integer;
BEGIN
    IF jsonb_typeof(v_value) IS DISTINCT FROM 'array'
       OR jsonb_path_exists(v_value, 'strict $[*] ? (@.type() != "string")') THEN
        PERFORM grading_invalid(p_at || '.' || p_field, 'must be a list of option ids');
    END IF;
    IF jsonb_array_length(v_value) <= 32 THEN  -- the usual case: no query
        FOR i IN 0 .. jsonb_array_length(v_value) - 1 LOOP
            v_list := v_list || (v_value ->> i);
        END LOOP;
        RETURN v_list;
    END IF;
    RETURN ARRAY(SELECT e FROM jsonb_array_elements_text(v_value) WITH ORDINALITY AS a(e, n) ORDER BY n);
END;
$$;

-- _pairs(obj, at): an object of strings, else 22023 '<at>.pairs'.
CREATE FUNCTION grading_pairs(p_object jsonb, p_at text)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_value jsonb := grading_field(p_object, 'pairs', p_at);
BEGIN
    IF jsonb_typeof(v_value) IS DISTINCT FROM 'object'
       OR jsonb_path_exists(v_value, 'strict $.* ? (@.type() != "string")') THEN
        PERFORM grading_invalid(p_at || '.pairs', 'must map stem ids to choice ids');
    END IF;
    RETURN v_value;
END;
$$;

-- _items(data, field): the ids of a non-empty list of {id, ...} with unique ids.
CREATE FUNCTION grading_items(p_data jsonb, p_field text)
RETURNS text[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_items jsonb := grading_field(p_data, p_field, 'question_data');
    v_item jsonb;
    v_ids text[] := '{}';
    v_repeated boolean := false;
    i integer;
BEGIN
    IF jsonb_typeof(v_items) IS DISTINCT FROM 'array' OR v_items = '[]'::jsonb THEN
        PERFORM grading_malformed(format('question_data.%s must be a non-empty list of {id, text}', p_field));
    END IF;
    FOR i IN 0 .. jsonb_array_length(v_items) - 1 LOOP
        v_item := v_items -> i;
        IF jsonb_typeof(v_item) <> 'object' OR jsonb_typeof(v_item -> 'id') IS DISTINCT FROM 'string' THEN
            PERFORM grading_malformed(format('question_data.%s must be a non-empty list of {id, text}', p_field));
        END IF;
        v_repeated := v_repeated OR (v_item ->> 'id') = ANY (v_ids);
        v_ids := v_ids || (v_item ->> 'id');
    END LOOP;
    IF v_repeated THEN
        PERFORM grading_malformed(format('question_data.%s repeats an id', p_field));
    END IF;
    RETURN v_ids;
END;
$$;

-- _option_ids(data): at least two options.
CREATE FUNCTION grading_option_ids(p_data jsonb)
RETURNS text[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_ids text[] := grading_items(p_data, 'options');
BEGIN
    IF cardinality(v_ids) < 2 THEN
        PERFORM grading_malformed('question_data.options needs at least two options');
    END IF;
    RETURN v_ids;
END;
$$;

-- ---------------------------------------------------------------------------
-- Exact fractions: numeric[] {numerator, denominator}, denominator > 0
-- ---------------------------------------------------------------------------
-- Python's str.strip/\s white space, its Unicode decimal digits and its
-- str.casefold, as constants.
CREATE FUNCTION grading_ascii_digits(p_text text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF octet_length(p_text) = length(p_text) THEN
        RETURN p_text;
    END IF;
    RETURN translate(p_text,
                    U&'\0660\0661\0662\0663\0664\0665\0666\0667\0668\0669\06F0\06F1\06F2\06F3\06F4\06F5\06F6\06F7\06F8'
                    || U&'\06F9\07C0\07C1\07C2\07C3\07C4\07C5\07C6\07C7\07C8\07C9\0966\0967\0968\0969\096A\096B\096C\096D'
                    || U&'\096E\096F\09E6\09E7\09E8\09E9\09EA\09EB\09EC\09ED\09EE\09EF\0A66\0A67\0A68\0A69\0A6A\0A6B\0A6C'
                    || U&'\0A6D\0A6E\0A6F\0AE6\0AE7\0AE8\0AE9\0AEA\0AEB\0AEC\0AED\0AEE\0AEF\0B66\0B67\0B68\0B69\0B6A\0B6B'
                    || U&'\0B6C\0B6D\0B6E\0B6F\0BE6\0BE7\0BE8\0BE9\0BEA\0BEB\0BEC\0BED\0BEE\0BEF\0C66\0C67\0C68\0C69\0C6A'
                    || U&'\0C6B\0C6C\0C6D\0C6E\0C6F\0CE6\0CE7\0CE8\0CE9\0CEA\0CEB\0CEC\0CED\0CEE\0CEF\0D66\0D67\0D68\0D69'
                    || U&'\0D6A\0D6B\0D6C\0D6D\0D6E\0D6F\0DE6\0DE7\0DE8\0DE9\0DEA\0DEB\0DEC\0DED\0DEE\0DEF\0E50\0E51\0E52'
                    || U&'\0E53\0E54\0E55\0E56\0E57\0E58\0E59\0ED0\0ED1\0ED2\0ED3\0ED4\0ED5\0ED6\0ED7\0ED8\0ED9\0F20\0F21'
                    || U&'\0F22\0F23\0F24\0F25\0F26\0F27\0F28\0F29\1040\1041\1042\1043\1044\1045\1046\1047\1048\1049\1090'
                    || U&'\1091\1092\1093\1094\1095\1096\1097\1098\1099\17E0\17E1\17E2\17E3\17E4\17E5\17E6\17E7\17E8\17E9'
                    || U&'\1810\1811\1812\1813\1814\1815\1816\1817\1818\1819\1946\1947\1948\1949\194A\194B\194C\194D\194E'
                    || U&'\194F\19D0\19D1\19D2\19D3\19D4\19D5\19D6\19D7\19D8\19D9\1A80\1A81\1A82\1A83\1A84\1A85\1A86\1A87'
                    || U&'\1A88\1A89\1A90\1A91\1A92\1A93\1A94\1A95\1A96\1A97\1A98\1A99\1B50\1B51\1B52\1B53\1B54\1B55\1B56'
                    || U&'\1B57\1B58\1B59\1BB0\1BB1\1BB2\1BB3\1BB4\1BB5\1BB6\1BB7\1BB8\1BB9\1C40\1C41\1C42\1C43\1C44\1C45'
                    || U&'\1C46\1C47\1C48\1C49\1C50\1C51\1C52\1C53\1C54\1C55\1C56\1C57\1C58\1C59\A620\A621\A622\A623\A624'
                    || U&'\A625\A626\A627\A628\A629\A8D0\A8D1\A8D2\A8D3\A8D4\A8D5\A8D6\A8D7\A8D8\A8D9\A900\A901\A902\A903'
                    || U&'\A904\A905\A906\A907\A908\A909\A9D0\A9D1\A9D2\A9D3\A9D4\A9D5\A9D6\A9D7\A9D8\A9D9\A9F0\A9F1\A9F2'
                    || U&'\A9F3\A9F4\A9F5\A9F6\A9F7\A9F8\A9F9\AA50\AA51\AA52\AA53\AA54\AA55\AA56\AA57\AA58\AA59\ABF0\ABF1'
                    || U&'\ABF2\ABF3\ABF4\ABF5\ABF6\ABF7\ABF8\ABF9\FF10\FF11\FF12\FF13\FF14\FF15\FF16\FF17\FF18\FF19'
                    || U&'\+0104A0\+0104A1\+0104A2\+0104A3\+0104A4\+0104A5\+0104A6\+0104A7\+0104A8\+0104A9\+010D30\+010D31'
                    || U&'\+010D32\+010D33\+010D34\+010D35\+010D36\+010D37\+010D38\+010D39\+011066\+011067\+011068\+011069'
                    || U&'\+01106A\+01106B\+01106C\+01106D\+01106E\+01106F\+0110F0\+0110F1\+0110F2\+0110F3\+0110F4\+0110F5'
                    || U&'\+0110F6\+0110F7\+0110F8\+0110F9\+011136\+011137\+011138\+011139\+01113A\+01113B\+01113C\+01113D'
                    || U&'\+01113E\+01113F\+0111D0\+0111D1\+0111D2\+0111D3\+0111D4\+0111D5\+0111D6\+0111D7\+0111D8\+0111D9'
                    || U&'\+0112F0\+0112F1\+0112F2\+0112F3\+0112F4\+0112F5\+0112F6\+0112F7\+0112F8\+0112F9\+011450\+011451'
                    || U&'\+011452\+011453\+011454\+011455\+011456\+011457\+011458\+011459\+0114D0\+0114D1\+0114D2\+0114D3'
                    || U&'\+0114D4\+0114D5\+0114D6\+0114D7\+0114D8\+0114D9\+011650\+011651\+011652\+011653\+011654\+011655'
                    || U&'\+011656\+011657\+011658\+011659\+0116C0\+0116C1\+0116C2\+0116C3\+0116C4\+0116C5\+0116C6\+0116C7'
                    || U&'\+0116C8\+0116C9\+011730\+011731\+011732\+011733\+011734\+011735\+011736\+011737\+011738\+011739'
                    || U&'\+0118E0\+0118E1\+0118E2\+0118E3\+0118E4\+0118E5\+0118E6\+0118E7\+0118E8\+0118E9\+011950\+011951'
                    || U&'\+011952\+011953\+011954\+011955\+011956\+011957\+011958\+011959\+011C50\+011C51\+011C52\+011C53'
                    || U&'\+011C54\+011C55\+011C56\+011C57\+011C58\+011C59\+011D50\+011D51\+011D52\+011D53\+011D54\+011D55'
                    || U&'\+011D56\+011D57\+011D58\+011D59\+011DA0\+011DA1\+011DA2\+011DA3\+011DA4\+011DA5\+011DA6\+011DA7'
                    || U&'\+011DA8\+011DA9\+016A60\+016A61\+016A62\+016A63\+016A64\+016A65\+016A66\+016A67\+016A68\+016A69'
                    || U&'\+016AC0\+016AC1\+016AC2\+016AC3\+016AC4\+016AC5\+016AC6\+016AC7\+016AC8\+016AC9\+016B50\+016B51'
                    || U&'\+016B52\+016B53\+016B54\+016B55\+016B56\+016B57\+016B58\+016B59\+01D7CE\+01D7CF\+01D7D0\+01D7D1'
                    || U&'\+01D7D2\+01D7D3\+01D7D4\+01D7D5\+01D7D6\+01D7D7\+01D7D8\+01D7D9\+01D7DA\+01D7DB\+01D7DC\+01D7DD'
                    || U&'\+01D7DE\+01D7DF\+01D7E0\+01D7E1\+01D7E2\+01D7E3\+01D7E4\+01D7E5\+01D7E6\+01D7E7\+01D7E8\+01D7E9'
                    || U&'\+01D7EA\+01D7EB\+01D7EC\+01D7ED\+01D7EE\+01D7EF\+01D7F0\+01D7F1\+01D7F2\+01D7F3\+01D7F4\+01D7F5'
                    || U&'\+01D7F6\+01D7F7\+01D7F8\+01D7F9\+01D7FA\+01D7FB\+01D7FC\+01D7FD\+01D7FE\+01D7FF\+01E140\+01E141'
                    || U&'\+01E142\+01E143\+01E144\+01E145\+01E146\+01E147\+01E148\+01E149\+01E2F0\+01E2F1\+01E2F2\+01E2F3'
                    || U&'\+01E2F4\+01E2F5\+01E2F6\+01E2F7\+01E2F8\+01E2F9\+01E950\+01E951\+01E952\+01E953\+01E954\+01E955'
                    || U&'\+01E956\+01E957\+01E958\+01E959\+01FBF0\+01FBF1\+01FBF2\+01FBF3\+01FBF4\+01FBF5\+01FBF6\+01FBF7'
                    || U&'\+01FBF8\+01FBF9',
                    '012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345'
                    || '678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901'
                    || '234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567'
                    || '890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123'
                    || '456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789'
                    || '012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345'
                    || '67890123456789012345678901234567890123456789012345678901234567890123456789');
END;
$$;

COMMENT ON FUNCTION grading_ascii_digits(text) IS
    'Every Unicode decimal digit (category Nd, as Python int() and Decimal() read them) replaced by its ASCII digit.';

-- _fraction(value, at): a JSON number, or a string Python's Fraction() reads.
CREATE FUNCTION grading_number(p_value jsonb, p_at text)
RETURNS numeric[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_number numeric;
    v_text text;
    v_match text[];
    v_num numeric;
    v_den numeric := 1;
    v_exp numeric;
BEGIN
    IF jsonb_typeof(p_value) = 'number' THEN
        v_number := p_value::numeric;
        v_den := ('1' || repeat('0', scale(v_number)))::numeric;
        RETURN ARRAY[trunc(v_number * v_den), v_den];
    ELSIF jsonb_typeof(p_value) IS DISTINCT FROM 'string' THEN
        PERFORM grading_malformed(p_at || ' must be a number');
    END IF;
    -- fractions._RATIONAL_FORMAT: [sign] (num/den | num[.decimals][e exp]), white space around.
    v_text := regexp_replace(grading_ascii_digits(p_value #>> '{}'),
        '^[\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000]+|[\u0009\u000a\u000b\u000c\u000d\u001c\u001d\u001e\u001f\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000]+$',
        '', 'g');
    v_match := regexp_match(v_text,
        '^([-+]?)(?=[0-9]|\.[0-9])([0-9]+(?:_[0-9]+)*|)(?:/([0-9]+(?:_[0-9]+)*)|(?:\.([0-9]+(?:_[0-9]+)*|))?(?:[eE]([-+]?[0-9]+(?:_[0-9]+)*))?)$');
    IF v_match IS NULL THEN
        PERFORM grading_malformed(p_at || ' must be a number');
    END IF;
    v_num := coalesce(nullif(replace(v_match[2], '_', ''), ''), '0')::numeric;
    IF v_match[3] IS NOT NULL THEN
        v_den := replace(v_match[3], '_', '')::numeric;
        IF v_den = 0 THEN
            PERFORM grading_malformed(p_at || ' must be a number');
        END IF;
    ELSE
        IF coalesce(v_match[4], '') <> '' THEN
            v_den := ('1' || repeat('0', length(replace(v_match[4], '_', ''))))::numeric;
            v_num := v_num * v_den + replace(v_match[4], '_', '')::numeric;
        END IF;
        IF v_match[5] IS NOT NULL THEN
            v_exp := replace(v_match[5], '_', '')::numeric;
            IF abs(v_exp) > 1000 THEN
                PERFORM grading_malformed(p_at || ' must be a number (exponent beyond 1000)');
            ELSIF v_exp >= 0 THEN
                v_num := v_num * ('1' || repeat('0', v_exp::integer))::numeric;
            ELSE
                v_den := v_den * ('1' || repeat('0', (-v_exp)::integer))::numeric;
            END IF;
        END IF;
    END IF;
    IF v_match[1] = '-' THEN
        v_num := -v_num;
    END IF;
    RETURN ARRAY[v_num, v_den];
END;
$$;

COMMENT ON FUNCTION grading_number(jsonb, text) IS
    'A credit or weight as an exact fraction {num, den}: a JSON number, or a string Python''s Fraction() reads (num/den, decimals, exponent up to 1000); NP001 otherwise.';

-- max(0, min(1, f)).
CREATE FUNCTION grading_clamp(p_fraction numeric[])
RETURNS numeric[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF p_fraction[1] < 0 THEN
        RETURN ARRAY[0, 1]::numeric[];
    ELSIF p_fraction[1] > p_fraction[2] THEN
        RETURN ARRAY[1, 1]::numeric[];
    END IF;
    RETURN p_fraction;
END;
$$;

-- ---------------------------------------------------------------------------
-- fill_blank normalisers
-- ---------------------------------------------------------------------------
-- str.casefold() of Python 3.11 (Unicode 14.0): the full case folding of
-- CaseFolding.txt (C and F), character by character, whatever the locale.
CREATE FUNCTION grading_casefold(p_text text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF octet_length(p_text) = length(p_text) THEN
        RETURN translate(p_text, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
    END IF;
    RETURN (SELECT string_agg(coalesce('{"A":"a","B":"b","C":"c","D":"d","E":"e","F":"f","G":"g","H":"h","I":"i","J":"j","K":"k","L":"l",
        "M":"m","N":"n","O":"o","P":"p","Q":"q","R":"r","S":"s","T":"t","U":"u","V":"v","W":"w","X":"x",
        "Y":"y","Z":"z","\u00b5":"\u03bc","\u00c0":"\u00e0","\u00c1":"\u00e1","\u00c2":"\u00e2",
        "\u00c3":"\u00e3","\u00c4":"\u00e4","\u00c5":"\u00e5","\u00c6":"\u00e6","\u00c7":"\u00e7",
        "\u00c8":"\u00e8","\u00c9":"\u00e9","\u00ca":"\u00ea","\u00cb":"\u00eb","\u00cc":"\u00ec",
        "\u00cd":"\u00ed","\u00ce":"\u00ee","\u00cf":"\u00ef","\u00d0":"\u00f0","\u00d1":"\u00f1",
        "\u00d2":"\u00f2","\u00d3":"\u00f3","\u00d4":"\u00f4","\u00d5":"\u00f5","\u00d6":"\u00f6",
        "\u00d8":"\u00f8","\u00d9":"\u00f9","\u00da":"\u00fa","\u00db":"\u00fb","\u00dc":"\u00fc",
        "\u00dd":"\u00fd","\u00de":"\u00fe","\u00df":"ss","\u0100":"\u0101","\u0102":"\u0103",
        "\u0104":"\u0105","\u0106":"\u0107","\u0108":"\u0109","\u010a":"\u010b","\u010c":"\u010d",
        "\u010e":"\u010f","\u0110":"\u0111","\u0112":"\u0113","\u0114":"\u0115","\u0116":"\u0117",
        "\u0118":"\u0119","\u011a":"\u011b","\u011c":"\u011d","\u011e":"\u011f","\u0120":"\u0121",
        "\u0122":"\u0123","\u0124":"\u0125","\u0126":"\u0127","\u0128":"\u0129","\u012a":"\u012b",
        "\u012c":"\u012d","\u012e":"\u012f","\u0130":"i\u0307","\u0132":"\u0133","\u0134":"\u0135",
        "\u0136":"\u0137","\u0139":"\u013a","\u013b":"\u013c","\u013d":"\u013e","\u013f":"\u0140",
        "\u0141":"\u0142","\u0143":"\u0144","\u0145":"\u0146","\u0147":"\u0148","\u0149":"\u02bcn",
        "\u014a":"\u014b","\u014c":"\u014d","\u014e":"\u014f","\u0150":"\u0151","\u0152":"\u0153",
        "\u0154":"\u0155","\u0156":"\u0157","\u0158":"\u0159","\u015a":"\u015b","\u015c":"\u015d",
        "\u015e":"\u015f","\u0160":"\u0161","\u0162":"\u0163","\u0164":"\u0165","\u0166":"\u0167",
        "\u0168":"\u0169","\u016a":"\u016b","\u016c":"\u016d","\u016e":"\u016f","\u0170":"\u0171",
        "\u0172":"\u0173","\u0174":"\u0175","\u0176":"\u0177","\u0178":"\u00ff","\u0179":"\u017a",
        "\u017b":"\u017c","\u017d":"\u017e","\u017f":"s","\u0181":"\u0253","\u0182":"\u0183",
        "\u0184":"\u0185","\u0186":"\u0254","\u0187":"\u0188","\u0189":"\u0256","\u018a":"\u0257",
        "\u018b":"\u018c","\u018e":"\u01dd","\u018f":"\u0259","\u0190":"\u025b","\u0191":"\u0192",
        "\u0193":"\u0260","\u0194":"\u0263","\u0196":"\u0269","\u0197":"\u0268","\u0198":"\u0199",
        "\u019c":"\u026f","\u019d":"\u0272","\u019f":"\u0275","\u01a0":"\u01a1","\u01a2":"\u01a3",
        "\u01a4":"\u01a5","\u01a6":"\u0280","\u01a7":"\u01a8","\u01a9":"\u0283","\u01ac":"\u01ad",
        "\u01ae":"\u0288","\u01af":"\u01b0","\u01b1":"\u028a","\u01b2":"\u028b","\u01b3":"\u01b4",
        "\u01b5":"\u01b6","\u01b7":"\u0292","\u01b8":"\u01b9","\u01bc":"\u01bd","\u01c4":"\u01c6",
        "\u01c5":"\u01c6","\u01c7":"\u01c9","\u01c8":"\u01c9","\u01ca":"\u01cc","\u01cb":"\u01cc",
        "\u01cd":"\u01ce","\u01cf":"\u01d0","\u01d1":"\u01d2","\u01d3":"\u01d4","\u01d5":"\u01d6",
        "\u01d7":"\u01d8","\u01d9":"\u01da","\u01db":"\u01dc","\u01de":"\u01df","\u01e0":"\u01e1",
        "\u01e2":"\u01e3","\u01e4":"\u01e5","\u01e6":"\u01e7","\u01e8":"\u01e9","\u01ea":"\u01eb",
        "\u01ec":"\u01ed","\u01ee":"\u01ef","\u01f0":"j\u030c","\u01f1":"\u01f3","\u01f2":"\u01f3",
        "\u01f4":"\u01f5","\u01f6":"\u0195","\u01f7":"\u01bf","\u01f8":"\u01f9","\u01fa":"\u01fb",
        "\u01fc":"\u01fd","\u01fe":"\u01ff","\u0200":"\u0201","\u0202":"\u0203","\u0204":"\u0205",
        "\u0206":"\u0207","\u0208":"\u0209","\u020a":"\u020b","\u020c":"\u020d","\u020e":"\u020f",
        "\u0210":"\u0211","\u0212":"\u0213","\u0214":"\u0215","\u0216":"\u0217","\u0218":"\u0219",
        "\u021a":"\u021b","\u021c":"\u021d","\u021e":"\u021f","\u0220":"\u019e","\u0222":"\u0223",
        "\u0224":"\u0225","\u0226":"\u0227","\u0228":"\u0229","\u022a":"\u022b","\u022c":"\u022d",
        "\u022e":"\u022f","\u0230":"\u0231","\u0232":"\u0233","\u023a":"\u2c65","\u023b":"\u023c",
        "\u023d":"\u019a","\u023e":"\u2c66","\u0241":"\u0242","\u0243":"\u0180","\u0244":"\u0289",
        "\u0245":"\u028c","\u0246":"\u0247","\u0248":"\u0249","\u024a":"\u024b","\u024c":"\u024d",
        "\u024e":"\u024f","\u0345":"\u03b9","\u0370":"\u0371","\u0372":"\u0373","\u0376":"\u0377",
        "\u037f":"\u03f3","\u0386":"\u03ac","\u0388":"\u03ad","\u0389":"\u03ae","\u038a":"\u03af",
        "\u038c":"\u03cc","\u038e":"\u03cd","\u038f":"\u03ce","\u0390":"\u03b9\u0308\u0301",
        "\u0391":"\u03b1","\u0392":"\u03b2","\u0393":"\u03b3","\u0394":"\u03b4","\u0395":"\u03b5",
        "\u0396":"\u03b6","\u0397":"\u03b7","\u0398":"\u03b8","\u0399":"\u03b9","\u039a":"\u03ba",
        "\u039b":"\u03bb","\u039c":"\u03bc","\u039d":"\u03bd","\u039e":"\u03be","\u039f":"\u03bf",
        "\u03a0":"\u03c0","\u03a1":"\u03c1","\u03a3":"\u03c3","\u03a4":"\u03c4","\u03a5":"\u03c5",
        "\u03a6":"\u03c6","\u03a7":"\u03c7","\u03a8":"\u03c8","\u03a9":"\u03c9","\u03aa":"\u03ca",
        "\u03ab":"\u03cb","\u03b0":"\u03c5\u0308\u0301","\u03c2":"\u03c3","\u03cf":"\u03d7",
        "\u03d0":"\u03b2","\u03d1":"\u03b8","\u03d5":"\u03c6","\u03d6":"\u03c0","\u03d8":"\u03d9",
        "\u03da":"\u03db","\u03dc":"\u03dd","\u03de":"\u03df","\u03e0":"\u03e1","\u03e2":"\u03e3",
        "\u03e4":"\u03e5","\u03e6":"\u03e7","\u03e8":"\u03e9","\u03ea":"\u03eb","\u03ec":"\u03ed",
        "\u03ee":"\u03ef","\u03f0":"\u03ba","\u03f1":"\u03c1","\u03f4":"\u03b8","\u03f5":"\u03b5",
        "\u03f7":"\u03f8","\u03f9":"\u03f2","\u03fa":"\u03fb","\u03fd":"\u037b","\u03fe":"\u037c",
        "\u03ff":"\u037d","\u0400":"\u0450","\u0401":"\u0451","\u0402":"\u0452","\u0403":"\u0453",
        "\u0404":"\u0454","\u0405":"\u0455","\u0406":"\u0456","\u0407":"\u0457","\u0408":"\u0458",
        "\u0409":"\u0459","\u040a":"\u045a","\u040b":"\u045b","\u040c":"\u045c","\u040d":"\u045d",
        "\u040e":"\u045e","\u040f":"\u045f","\u0410":"\u0430","\u0411":"\u0431","\u0412":"\u0432",
        "\u0413":"\u0433","\u0414":"\u0434","\u0415":"\u0435","\u0416":"\u0436","\u0417":"\u0437",
        "\u0418":"\u0438","\u0419":"\u0439","\u041a":"\u043a","\u041b":"\u043b","\u041c":"\u043c",
        "\u041d":"\u043d","\u041e":"\u043e","\u041f":"\u043f","\u0420":"\u0440","\u0421":"\u0441",
        "\u0422":"\u0442","\u0423":"\u0443","\u0424":"\u0444","\u0425":"\u0445","\u0426":"\u0446",
        "\u0427":"\u0447","\u0428":"\u0448","\u0429":"\u0449","\u042a":"\u044a","\u042b":"\u044b",
        "\u042c":"\u044c","\u042d":"\u044d","\u042e":"\u044e","\u042f":"\u044f","\u0460":"\u0461",
        "\u0462":"\u0463","\u0464":"\u0465","\u0466":"\u0467","\u0468":"\u0469","\u046a":"\u046b",
        "\u046c":"\u046d","\u046e":"\u046f","\u0470":"\u0471","\u0472":"\u0473","\u0474":"\u0475",
        "\u0476":"\u0477","\u0478":"\u0479","\u047a":"\u047b","\u047c":"\u047d","\u047e":"\u047f",
        "\u0480":"\u0481","\u048a":"\u048b","\u048c":"\u048d","\u048e":"\u048f","\u0490":"\u0491",
        "\u0492":"\u0493","\u0494":"\u0495","\u0496":"\u0497","\u0498":"\u0499","\u049a":"\u049b",
        "\u049c":"\u049d","\u049e":"\u049f","\u04a0":"\u04a1","\u04a2":"\u04a3","\u04a4":"\u04a5",
        "\u04a6":"\u04a7","\u04a8":"\u04a9","\u04aa":"\u04ab","\u04ac":"\u04ad","\u04ae":"\u04af",
        "\u04b0":"\u04b1","\u04b2":"\u04b3","\u04b4":"\u04b5","\u04b6":"\u04b7","\u04b8":"\u04b9",
        "\u04ba":"\u04bb","\u04bc":"\u04bd","\u04be":"\u04bf","\u04c0":"\u04cf","\u04c1":"\u04c2",
        "\u04c3":"\u04c4","\u04c5":"\u04c6","\u04c7":"\u04c8","\u04c9":"\u04ca","\u04cb":"\u04cc",
        "\u04cd":"\u04ce","\u04d0":"\u04d1","\u04d2":"\u04d3","\u04d4":"\u04d5","\u04d6":"\u04d7",
        "\u04d8":"\u04d9","\u04da":"\u04db","\u04dc":"\u04dd","\u04de":"\u04df","\u04e0":"\u04e1",
        "\u04e2":"\u04e3","\u04e4":"\u04e5","\u04e6":"\u04e7","\u04e8":"\u04e9","\u04ea":"\u04eb",
        "\u04ec":"\u04ed","\u04ee":"\u04ef","\u04f0":"\u04f1","\u04f2":"\u04f3","\u04f4":"\u04f5",
        "\u04f6":"\u04f7","\u04f8":"\u04f9","\u04fa":"\u04fb","\u04fc":"\u04fd","\u04fe":"\u04ff",
        "\u0500":"\u0501","\u0502":"\u0503","\u0504":"\u0505","\u0506":"\u0507","\u0508":"\u0509",
        "\u050a":"\u050b","\u050c":"\u050d","\u050e":"\u050f","\u0510":"\u0511","\u0512":"\u0513",
        "\u0514":"\u0515","\u0516":"\u0517","\u0518":"\u0519","\u051a":"\u051b","\u051c":"\u051d",
        "\u051e":"\u051f","\u0520":"\u0521","\u0522":"\u0523","\u0524":"\u0525","\u0526":"\u0527",
        "\u0528":"\u0529","\u052a":"\u052b","\u052c":"\u052d","\u052e":"\u052f","\u0531":"\u0561",
        "\u0532":"\u0562","\u0533":"\u0563","\u0534":"\u0564","\u0535":"\u0565","\u0536":"\u0566",
        "\u0537":"\u0567","\u0538":"\u0568","\u0539":"\u0569","\u053a":"\u056a","\u053b":"\u056b",
        "\u053c":"\u056c","\u053d":"\u056d","\u053e":"\u056e","\u053f":"\u056f","\u0540":"\u0570",
        "\u0541":"\u0571","\u0542":"\u0572","\u0543":"\u0573","\u0544":"\u0574","\u0545":"\u0575",
        "\u0546":"\u0576","\u0547":"\u0577","\u0548":"\u0578","\u0549":"\u0579","\u054a":"\u057a",
        "\u054b":"\u057b","\u054c":"\u057c","\u054d":"\u057d","\u054e":"\u057e","\u054f":"\u057f",
        "\u0550":"\u0580","\u0551":"\u0581","\u0552":"\u0582","\u0553":"\u0583","\u0554":"\u0584",
        "\u0555":"\u0585","\u0556":"\u0586","\u0587":"\u0565\u0582","\u10a0":"\u2d00","\u10a1":"\u2d01",
        "\u10a2":"\u2d02","\u10a3":"\u2d03","\u10a4":"\u2d04","\u10a5":"\u2d05","\u10a6":"\u2d06",
        "\u10a7":"\u2d07","\u10a8":"\u2d08","\u10a9":"\u2d09","\u10aa":"\u2d0a","\u10ab":"\u2d0b",
        "\u10ac":"\u2d0c","\u10ad":"\u2d0d","\u10ae":"\u2d0e","\u10af":"\u2d0f","\u10b0":"\u2d10",
        "\u10b1":"\u2d11","\u10b2":"\u2d12","\u10b3":"\u2d13","\u10b4":"\u2d14","\u10b5":"\u2d15",
        "\u10b6":"\u2d16","\u10b7":"\u2d17","\u10b8":"\u2d18","\u10b9":"\u2d19","\u10ba":"\u2d1a",
        "\u10bb":"\u2d1b","\u10bc":"\u2d1c","\u10bd":"\u2d1d","\u10be":"\u2d1e","\u10bf":"\u2d1f",
        "\u10c0":"\u2d20","\u10c1":"\u2d21","\u10c2":"\u2d22","\u10c3":"\u2d23","\u10c4":"\u2d24",
        "\u10c5":"\u2d25","\u10c7":"\u2d27","\u10cd":"\u2d2d","\u13f8":"\u13f0","\u13f9":"\u13f1",
        "\u13fa":"\u13f2","\u13fb":"\u13f3","\u13fc":"\u13f4","\u13fd":"\u13f5","\u1c80":"\u0432",
        "\u1c81":"\u0434","\u1c82":"\u043e","\u1c83":"\u0441","\u1c84":"\u0442","\u1c85":"\u0442",
        "\u1c86":"\u044a","\u1c87":"\u0463","\u1c88":"\ua64b","\u1c90":"\u10d0","\u1c91":"\u10d1",
        "\u1c92":"\u10d2","\u1c93":"\u10d3","\u1c94":"\u10d4","\u1c95":"\u10d5","\u1c96":"\u10d6",
        "\u1c97":"\u10d7","\u1c98":"\u10d8","\u1c99":"\u10d9","\u1c9a":"\u10da","\u1c9b":"\u10db",
        "\u1c9c":"\u10dc","\u1c9d":"\u10dd","\u1c9e":"\u10de","\u1c9f":"\u10df","\u1ca0":"\u10e0",
        "\u1ca1":"\u10e1","\u1ca2":"\u10e2","\u1ca3":"\u10e3","\u1ca4":"\u10e4","\u1ca5":"\u10e5",
        "\u1ca6":"\u10e6","\u1ca7":"\u10e7","\u1ca8":"\u10e8","\u1ca9":"\u10e9","\u1caa":"\u10ea",
        "\u1cab":"\u10eb","\u1cac":"\u10ec","\u1cad":"\u10ed","\u1cae":"\u10ee","\u1caf":"\u10ef",
        "\u1cb0":"\u10f0","\u1cb1":"\u10f1","\u1cb2":"\u10f2","\u1cb3":"\u10f3","\u1cb4":"\u10f4",
        "\u1cb5":"\u10f5","\u1cb6":"\u10f6","\u1cb7":"\u10f7","\u1cb8":"\u10f8","\u1cb9":"\u10f9",
        "\u1cba":"\u10fa","\u1cbd":"\u10fd","\u1cbe":"\u10fe","\u1cbf":"\u10ff","\u1e00":"\u1e01",
        "\u1e02":"\u1e03","\u1e04":"\u1e05","\u1e06":"\u1e07","\u1e08":"\u1e09","\u1e0a":"\u1e0b",
        "\u1e0c":"\u1e0d","\u1e0e":"\u1e0f","\u1e10":"\u1e11","\u1e12":"\u1e13","\u1e14":"\u1e15",
        "\u1e16":"\u1e17","\u1e18":"\u1e19","\u1e1a":"\u1e1b","\u1e1c":"\u1e1d","\u1e1e":"\u1e1f",
        "\u1e20":"\u1e21","\u1e22":"\u1e23","\u1e24":"\u1e25","\u1e26":"\u1e27","\u1e28":"\u1e29",
        "\u1e2a":"\u1e2b","\u1e2c":"\u1e2d","\u1e2e":"\u1e2f","\u1e30":"\u1e31","\u1e32":"\u1e33",
        "\u1e34":"\u1e35","\u1e36":"\u1e37","\u1e38":"\u1e39","\u1e3a":"\u1e3b","\u1e3c":"\u1e3d",
        "\u1e3e":"\u1e3f","\u1e40":"\u1e41","\u1e42":"\u1e43","\u1e44":"\u1e45","\u1e46":"\u1e47",
        "\u1e48":"\u1e49","\u1e4a":"\u1e4b","\u1e4c":"\u1e4d","\u1e4e":"\u1e4f","\u1e50":"\u1e51",
        "\u1e52":"\u1e53","\u1e54":"\u1e55","\u1e56":"\u1e57","\u1e58":"\u1e59","\u1e5a":"\u1e5b",
        "\u1e5c":"\u1e5d","\u1e5e":"\u1e5f","\u1e60":"\u1e61","\u1e62":"\u1e63","\u1e64":"\u1e65",
        "\u1e66":"\u1e67","\u1e68":"\u1e69","\u1e6a":"\u1e6b","\u1e6c":"\u1e6d","\u1e6e":"\u1e6f",
        "\u1e70":"\u1e71","\u1e72":"\u1e73","\u1e74":"\u1e75","\u1e76":"\u1e77","\u1e78":"\u1e79",
        "\u1e7a":"\u1e7b","\u1e7c":"\u1e7d","\u1e7e":"\u1e7f","\u1e80":"\u1e81","\u1e82":"\u1e83",
        "\u1e84":"\u1e85","\u1e86":"\u1e87","\u1e88":"\u1e89","\u1e8a":"\u1e8b","\u1e8c":"\u1e8d",
        "\u1e8e":"\u1e8f","\u1e90":"\u1e91","\u1e92":"\u1e93","\u1e94":"\u1e95","\u1e96":"h\u0331",
        "\u1e97":"t\u0308","\u1e98":"w\u030a","\u1e99":"y\u030a","\u1e9a":"a\u02be","\u1e9b":"\u1e61",
        "\u1e9e":"ss","\u1ea0":"\u1ea1","\u1ea2":"\u1ea3","\u1ea4":"\u1ea5","\u1ea6":"\u1ea7",
        "\u1ea8":"\u1ea9","\u1eaa":"\u1eab","\u1eac":"\u1ead","\u1eae":"\u1eaf","\u1eb0":"\u1eb1",
        "\u1eb2":"\u1eb3","\u1eb4":"\u1eb5","\u1eb6":"\u1eb7","\u1eb8":"\u1eb9","\u1eba":"\u1ebb",
        "\u1ebc":"\u1ebd","\u1ebe":"\u1ebf","\u1ec0":"\u1ec1","\u1ec2":"\u1ec3","\u1ec4":"\u1ec5",
        "\u1ec6":"\u1ec7","\u1ec8":"\u1ec9","\u1eca":"\u1ecb","\u1ecc":"\u1ecd","\u1ece":"\u1ecf",
        "\u1ed0":"\u1ed1","\u1ed2":"\u1ed3","\u1ed4":"\u1ed5","\u1ed6":"\u1ed7","\u1ed8":"\u1ed9",
        "\u1eda":"\u1edb","\u1edc":"\u1edd","\u1ede":"\u1edf","\u1ee0":"\u1ee1","\u1ee2":"\u1ee3",
        "\u1ee4":"\u1ee5","\u1ee6":"\u1ee7","\u1ee8":"\u1ee9","\u1eea":"\u1eeb","\u1eec":"\u1eed",
        "\u1eee":"\u1eef","\u1ef0":"\u1ef1","\u1ef2":"\u1ef3","\u1ef4":"\u1ef5","\u1ef6":"\u1ef7",
        "\u1ef8":"\u1ef9","\u1efa":"\u1efb","\u1efc":"\u1efd","\u1efe":"\u1eff","\u1f08":"\u1f00",
        "\u1f09":"\u1f01","\u1f0a":"\u1f02","\u1f0b":"\u1f03","\u1f0c":"\u1f04","\u1f0d":"\u1f05",
        "\u1f0e":"\u1f06","\u1f0f":"\u1f07","\u1f18":"\u1f10","\u1f19":"\u1f11","\u1f1a":"\u1f12",
        "\u1f1b":"\u1f13","\u1f1c":"\u1f14","\u1f1d":"\u1f15","\u1f28":"\u1f20","\u1f29":"\u1f21",
        "\u1f2a":"\u1f22","\u1f2b":"\u1f23","\u1f2c":"\u1f24","\u1f2d":"\u1f25","\u1f2e":"\u1f26",
        "\u1f2f":"\u1f27","\u1f38":"\u1f30","\u1f39":"\u1f31","\u1f3a":"\u1f32","\u1f3b":"\u1f33",
        "\u1f3c":"\u1f34","\u1f3d":"\u1f35","\u1f3e":"\u1f36","\u1f3f":"\u1f37","\u1f48":"\u1f40",
        "\u1f49":"\u1f41","\u1f4a":"\u1f42","\u1f4b":"\u1f43","\u1f4c":"\u1f44","\u1f4d":"\u1f45",
        "\u1f50":"\u03c5\u0313","\u1f52":"\u03c5\u0313\u0300","\u1f54":"\u03c5\u0313\u0301",
        "\u1f56":"\u03c5\u0313\u0342","\u1f59":"\u1f51","\u1f5b":"\u1f53","\u1f5d":"\u1f55",
        "\u1f5f":"\u1f57","\u1f68":"\u1f60","\u1f69":"\u1f61","\u1f6a":"\u1f62","\u1f6b":"\u1f63",
        "\u1f6c":"\u1f64","\u1f6d":"\u1f65","\u1f6e":"\u1f66","\u1f6f":"\u1f67","\u1f80":"\u1f00\u03b9",
        "\u1f81":"\u1f01\u03b9","\u1f82":"\u1f02\u03b9","\u1f83":"\u1f03\u03b9","\u1f84":"\u1f04\u03b9",
        "\u1f85":"\u1f05\u03b9","\u1f86":"\u1f06\u03b9","\u1f87":"\u1f07\u03b9","\u1f88":"\u1f00\u03b9",
        "\u1f89":"\u1f01\u03b9","\u1f8a":"\u1f02\u03b9","\u1f8b":"\u1f03\u03b9","\u1f8c":"\u1f04\u03b9",
        "\u1f8d":"\u1f05\u03b9","\u1f8e":"\u1f06\u03b9","\u1f8f":"\u1f07\u03b9","\u1f90":"\u1f20\u03b9",
        "\u1f91":"\u1f21\u03b9","\u1f92":"\u1f22\u03b9","\u1f93":"\u1f23\u03b9","\u1f94":"\u1f24\u03b9",
        "\u1f95":"\u1f25\u03b9","\u1f96":"\u1f26\u03b9","\u1f97":"\u1f27\u03b9","\u1f98":"\u1f20\u03b9",
        "\u1f99":"\u1f21\u03b9","\u1f9a":"\u1f22\u03b9","\u1f9b":"\u1f23\u03b9","\u1f9c":"\u1f24\u03b9",
        "\u1f9d":"\u1f25\u03b9","\u1f9e":"\u1f26\u03b9","\u1f9f":"\u1f27\u03b9","\u1fa0":"\u1f60\u03b9",
        "\u1fa1":"\u1f61\u03b9","\u1fa2":"\u1f62\u03b9","\u1fa3":"\u1f63\u03b9","\u1fa4":"\u1f64\u03b9",
        "\u1fa5":"\u1f65\u03b9","\u1fa6":"\u1f66\u03b9","\u1fa7":"\u1f67\u03b9","\u1fa8":"\u1f60\u03b9",
        "\u1fa9":"\u1f61\u03b9","\u1faa":"\u1f62\u03b9","\u1fab":"\u1f63\u03b9","\u1fac":"\u1f64\u03b9",
        "\u1fad":"\u1f65\u03b9","\u1fae":"\u1f66\u03b9","\u1faf":"\u1f67\u03b9","\u1fb2":"\u1f70\u03b9",
        "\u1fb3":"\u03b1\u03b9","\u1fb4":"\u03ac\u03b9","\u1fb6":"\u03b1\u0342",
        "\u1fb7":"\u03b1\u0342\u03b9","\u1fb8":"\u1fb0","\u1fb9":"\u1fb1","\u1fba":"\u1f70",
        "\u1fbb":"\u1f71","\u1fbc":"\u03b1\u03b9","\u1fbe":"\u03b9","\u1fc2":"\u1f74\u03b9",
        "\u1fc3":"\u03b7\u03b9","\u1fc4":"\u03ae\u03b9","\u1fc6":"\u03b7\u0342",
        "\u1fc7":"\u03b7\u0342\u03b9","\u1fc8":"\u1f72","\u1fc9":"\u1f73","\u1fca":"\u1f74",
        "\u1fcb":"\u1f75","\u1fcc":"\u03b7\u03b9","\u1fd2":"\u03b9\u0308\u0300",
        "\u1fd3":"\u03b9\u0308\u0301","\u1fd6":"\u03b9\u0342","\u1fd7":"\u03b9\u0308\u0342",
        "\u1fd8":"\u1fd0","\u1fd9":"\u1fd1","\u1fda":"\u1f76","\u1fdb":"\u1f77",
        "\u1fe2":"\u03c5\u0308\u0300","\u1fe3":"\u03c5\u0308\u0301","\u1fe4":"\u03c1\u0313",
        "\u1fe6":"\u03c5\u0342","\u1fe7":"\u03c5\u0308\u0342","\u1fe8":"\u1fe0","\u1fe9":"\u1fe1",
        "\u1fea":"\u1f7a","\u1feb":"\u1f7b","\u1fec":"\u1fe5","\u1ff2":"\u1f7c\u03b9",
        "\u1ff3":"\u03c9\u03b9","\u1ff4":"\u03ce\u03b9","\u1ff6":"\u03c9\u0342",
        "\u1ff7":"\u03c9\u0342\u03b9","\u1ff8":"\u1f78","\u1ff9":"\u1f79","\u1ffa":"\u1f7c",
        "\u1ffb":"\u1f7d","\u1ffc":"\u03c9\u03b9","\u2126":"\u03c9","\u212a":"k","\u212b":"\u00e5",
        "\u2132":"\u214e","\u2160":"\u2170","\u2161":"\u2171","\u2162":"\u2172","\u2163":"\u2173",
        "\u2164":"\u2174","\u2165":"\u2175","\u2166":"\u2176","\u2167":"\u2177","\u2168":"\u2178",
        "\u2169":"\u2179","\u216a":"\u217a","\u216b":"\u217b","\u216c":"\u217c","\u216d":"\u217d",
        "\u216e":"\u217e","\u216f":"\u217f","\u2183":"\u2184","\u24b6":"\u24d0","\u24b7":"\u24d1",
        "\u24b8":"\u24d2","\u24b9":"\u24d3","\u24ba":"\u24d4","\u24bb":"\u24d5","\u24bc":"\u24d6",
        "\u24bd":"\u24d7","\u24be":"\u24d8","\u24bf":"\u24d9","\u24c0":"\u24da","\u24c1":"\u24db",
        "\u24c2":"\u24dc","\u24c3":"\u24dd","\u24c4":"\u24de","\u24c5":"\u24df","\u24c6":"\u24e0",
        "\u24c7":"\u24e1","\u24c8":"\u24e2","\u24c9":"\u24e3","\u24ca":"\u24e4","\u24cb":"\u24e5",
        "\u24cc":"\u24e6","\u24cd":"\u24e7","\u24ce":"\u24e8","\u24cf":"\u24e9","\u2c00":"\u2c30",
        "\u2c01":"\u2c31","\u2c02":"\u2c32","\u2c03":"\u2c33","\u2c04":"\u2c34","\u2c05":"\u2c35",
        "\u2c06":"\u2c36","\u2c07":"\u2c37","\u2c08":"\u2c38","\u2c09":"\u2c39","\u2c0a":"\u2c3a",
        "\u2c0b":"\u2c3b","\u2c0c":"\u2c3c","\u2c0d":"\u2c3d","\u2c0e":"\u2c3e","\u2c0f":"\u2c3f",
        "\u2c10":"\u2c40","\u2c11":"\u2c41","\u2c12":"\u2c42","\u2c13":"\u2c43","\u2c14":"\u2c44",
        "\u2c15":"\u2c45","\u2c16":"\u2c46","\u2c17":"\u2c47","\u2c18":"\u2c48","\u2c19":"\u2c49",
        "\u2c1a":"\u2c4a","\u2c1b":"\u2c4b","\u2c1c":"\u2c4c","\u2c1d":"\u2c4d","\u2c1e":"\u2c4e",
        "\u2c1f":"\u2c4f","\u2c20":"\u2c50","\u2c21":"\u2c51","\u2c22":"\u2c52","\u2c23":"\u2c53",
        "\u2c24":"\u2c54","\u2c25":"\u2c55","\u2c26":"\u2c56","\u2c27":"\u2c57","\u2c28":"\u2c58",
        "\u2c29":"\u2c59","\u2c2a":"\u2c5a","\u2c2b":"\u2c5b","\u2c2c":"\u2c5c","\u2c2d":"\u2c5d",
        "\u2c2e":"\u2c5e","\u2c2f":"\u2c5f","\u2c60":"\u2c61","\u2c62":"\u026b","\u2c63":"\u1d7d",
        "\u2c64":"\u027d","\u2c67":"\u2c68","\u2c69":"\u2c6a","\u2c6b":"\u2c6c","\u2c6d":"\u0251",
        "\u2c6e":"\u0271","\u2c6f":"\u0250","\u2c70":"\u0252","\u2c72":"\u2c73","\u2c75":"\u2c76",
        "\u2c7e":"\u023f","\u2c7f":"\u0240","\u2c80":"\u2c81","\u2c82":"\u2c83","\u2c84":"\u2c85",
        "\u2c86":"\u2c87","\u2c88":"\u2c89","\u2c8a":"\u2c8b","\u2c8c":"\u2c8d","\u2c8e":"\u2c8f",
        "\u2c90":"\u2c91","\u2c92":"\u2c93","\u2c94":"\u2c95","\u2c96":"\u2c97","\u2c98":"\u2c99",
        "\u2c9a":"\u2c9b","\u2c9c":"\u2c9d","\u2c9e":"\u2c9f","\u2ca0":"\u2ca1","\u2ca2":"\u2ca3",
        "\u2ca4":"\u2ca5","\u2ca6":"\u2ca7","\u2ca8":"\u2ca9","\u2caa":"\u2cab","\u2cac":"\u2cad",
        "\u2cae":"\u2caf","\u2cb0":"\u2cb1","\u2cb2":"\u2cb3","\u2cb4":"\u2cb5","\u2cb6":"\u2cb7",
        "\u2cb8":"\u2cb9","\u2cba":"\u2cbb","\u2cbc":"\u2cbd","\u2cbe":"\u2cbf","\u2cc0":"\u2cc1",
        "\u2cc2":"\u2cc3","\u2cc4":"\u2cc5","\u2cc6":"\u2cc7","\u2cc8":"\u2cc9","\u2cca":"\u2ccb",
        "\u2ccc":"\u2ccd","\u2cce":"\u2ccf","\u2cd0":"\u2cd1","\u2cd2":"\u2cd3","\u2cd4":"\u2cd5",
        "\u2cd6":"\u2cd7","\u2cd8":"\u2cd9","\u2cda":"\u2cdb","\u2cdc":"\u2cdd","\u2cde":"\u2cdf",
        "\u2ce0":"\u2ce1","\u2ce2":"\u2ce3","\u2ceb":"\u2cec","\u2ced":"\u2cee","\u2cf2":"\u2cf3",
        "\ua640":"\ua641","\ua642":"\ua643","\ua644":"\ua645","\ua646":"\ua647","\ua648":"\ua649",
        "\ua64a":"\ua64b","\ua64c":"\ua64d","\ua64e":"\ua64f","\ua650":"\ua651","\ua652":"\ua653",
        "\ua654":"\ua655","\ua656":"\ua657","\ua658":"\ua659","\ua65a":"\ua65b","\ua65c":"\ua65d",
        "\ua65e":"\ua65f","\ua660":"\ua661","\ua662":"\ua663","\ua664":"\ua665","\ua666":"\ua667",
        "\ua668":"\ua669","\ua66a":"\ua66b","\ua66c":"\ua66d","\ua680":"\ua681","\ua682":"\ua683",
        "\ua684":"\ua685","\ua686":"\ua687","\ua688":"\ua689","\ua68a":"\ua68b","\ua68c":"\ua68d",
        "\ua68e":"\ua68f","\ua690":"\ua691","\ua692":"\ua693","\ua694":"\ua695","\ua696":"\ua697",
        "\ua698":"\ua699","\ua69a":"\ua69b","\ua722":"\ua723","\ua724":"\ua725","\ua726":"\ua727",
        "\ua728":"\ua729","\ua72a":"\ua72b","\ua72c":"\ua72d","\ua72e":"\ua72f","\ua732":"\ua733",
        "\ua734":"\ua735","\ua736":"\ua737","\ua738":"\ua739","\ua73a":"\ua73b","\ua73c":"\ua73d",
        "\ua73e":"\ua73f","\ua740":"\ua741","\ua742":"\ua743","\ua744":"\ua745","\ua746":"\ua747",
        "\ua748":"\ua749","\ua74a":"\ua74b","\ua74c":"\ua74d","\ua74e":"\ua74f","\ua750":"\ua751",
        "\ua752":"\ua753","\ua754":"\ua755","\ua756":"\ua757","\ua758":"\ua759","\ua75a":"\ua75b",
        "\ua75c":"\ua75d","\ua75e":"\ua75f","\ua760":"\ua761","\ua762":"\ua763","\ua764":"\ua765",
        "\ua766":"\ua767","\ua768":"\ua769","\ua76a":"\ua76b","\ua76c":"\ua76d","\ua76e":"\ua76f",
        "\ua779":"\ua77a","\ua77b":"\ua77c","\ua77d":"\u1d79","\ua77e":"\ua77f","\ua780":"\ua781",
        "\ua782":"\ua783","\ua784":"\ua785","\ua786":"\ua787","\ua78b":"\ua78c","\ua78d":"\u0265",
        "\ua790":"\ua791","\ua792":"\ua793","\ua796":"\ua797","\ua798":"\ua799","\ua79a":"\ua79b",
        "\ua79c":"\ua79d","\ua79e":"\ua79f","\ua7a0":"\ua7a1","\ua7a2":"\ua7a3","\ua7a4":"\ua7a5",
        "\ua7a6":"\ua7a7","\ua7a8":"\ua7a9","\ua7aa":"\u0266","\ua7ab":"\u025c","\ua7ac":"\u0261",
        "\ua7ad":"\u026c","\ua7ae":"\u026a","\ua7b0":"\u029e","\ua7b1":"\u0287","\ua7b2":"\u029d",
        "\ua7b3":"\uab53","\ua7b4":"\ua7b5","\ua7b6":"\ua7b7","\ua7b8":"\ua7b9","\ua7ba":"\ua7bb",
        "\ua7bc":"\ua7bd","\ua7be":"\ua7bf","\ua7c0":"\ua7c1","\ua7c2":"\ua7c3","\ua7c4":"\ua794",
        "\ua7c5":"\u0282","\ua7c6":"\u1d8e","\ua7c7":"\ua7c8","\ua7c9":"\ua7ca","\ua7d0":"\ua7d1",
        "\ua7d6":"\ua7d7","\ua7d8":"\ua7d9","\ua7f5":"\ua7f6","\uab70":"\u13a0","\uab71":"\u13a1",
        "\uab72":"\u13a2","\uab73":"\u13a3","\uab74":"\u13a4","\uab75":"\u13a5","\uab76":"\u13a6",
        "\uab77":"\u13a7","\uab78":"\u13a8","\uab79":"\u13a9","\uab7a":"\u13aa","\uab7b":"\u13ab",
        "\uab7c":"\u13ac","\uab7d":"\u13ad","\uab7e":"\u13ae","\uab7f":"\u13af","\uab80":"\u13b0",
        "\uab81":"\u13b1","\uab82":"\u13b2","\uab83":"\u13b3","\uab84":"\u13b4","\uab85":"\u13b5",
        "\uab86":"\u13b6","\uab87":"\u13b7","\uab88":"\u13b8","\uab89":"\u13b9","\uab8a":"\u13ba",
        "\uab8b":"\u13bb","\uab8c":"\u13bc","\uab8d":"\u13bd","\uab8e":"\u13be","\uab8f":"\u13bf",
        "\uab90":"\u13c0","\uab91":"\u13c1","\uab92":"\u13c2","\uab93":"\u13c3","\uab94":"\u13c4",
        "\uab95":"\u13c5","\uab96":"\u13c6","\uab97":"\u13c7","\uab98":"\u13c8","\uab99":"\u13c9",
        "\uab9a":"\u13ca","\uab9b":"\u13cb","\uab9c":"\u13cc","\uab9d":"\u13cd","\uab9e":"\u13ce",
        "\uab9f":"\u13cf","\uaba0":"\u13d0","\uaba1":"\u13d1","\uaba2":"\u13d2","\uaba3":"\u13d3",
        "\uaba4":"\u13d4","\uaba5":"\u13d5","\uaba6":"\u13d6","\uaba7":"\u13d7","\uaba8":"\u13d8",
        "\uaba9":"\u13d9","\uabaa":"\u13da","\uabab":"\u13db","\uabac":"\u13dc","\uabad":"\u13dd",
        "\uabae":"\u13de","\uabaf":"\u13df","\uabb0":"\u13e0","\uabb1":"\u13e1","\uabb2":"\u13e2",
        "\uabb3":"\u13e3","\uabb4":"\u13e4","\uabb5":"\u13e5","\uabb6":"\u13e6","\uabb7":"\u13e7",
        "\uabb8":"\u13e8","\uabb9":"\u13e9","\uabba":"\u13ea","\uabbb":"\u13eb","\uabbc":"\u13ec",
        "\uabbd":"\u13ed","\uabbe":"\u13ee","\uabbf":"\u13ef","\ufb00":"ff","\ufb01":"fi","\ufb02":"fl",
        "\ufb03":"ffi","\ufb04":"ffl","\ufb05":"st","\ufb06":"st","\ufb13":"\u0574\u0576",
        "\ufb14":"\u0574\u0565","\ufb15":"\u0574\u056b","\ufb16":"\u057e\u0576","\ufb17":"\u0574\u056d",
        "\uff21":"\uff41","\uff22":"\uff42","\uff23":"\uff43","\uff24":"\uff44","\uff25":"\uff45",
        "\uff26":"\uff46","\uff27":"\uff47","\uff28":"\uff48","\uff29":"\uff49","\uff2a":"\uff4a",
        "\uff2b":"\uff4b","\uff2c":"\uff4c","\uff2d":"\uff4d","\uff2e":"\uff4e","\uff2f":"\uff4f",
        "\uff30":"\uff50","\uff31":"\uff51","\uff32":"\uff52","\uff33":"\uff53","\uff34":"\uff54",
        "\uff35":"\uff55","\uff36":"\uff56","\uff37":"\uff57","\uff38":"\uff58","\uff39":"\uff59",
        "\uff3a":"\uff5a","\ud801\udc00":"\ud801\udc28","\ud801\udc01":"\ud801\udc29",
        "\ud801\udc02":"\ud801\udc2a","\ud801\udc03":"\ud801\udc2b","\ud801\udc04":"\ud801\udc2c",
        "\ud801\udc05":"\ud801\udc2d","\ud801\udc06":"\ud801\udc2e","\ud801\udc07":"\ud801\udc2f",
        "\ud801\udc08":"\ud801\udc30","\ud801\udc09":"\ud801\udc31","\ud801\udc0a":"\ud801\udc32",
        "\ud801\udc0b":"\ud801\udc33","\ud801\udc0c":"\ud801\udc34","\ud801\udc0d":"\ud801\udc35",
        "\ud801\udc0e":"\ud801\udc36","\ud801\udc0f":"\ud801\udc37","\ud801\udc10":"\ud801\udc38",
        "\ud801\udc11":"\ud801\udc39","\ud801\udc12":"\ud801\udc3a","\ud801\udc13":"\ud801\udc3b",
        "\ud801\udc14":"\ud801\udc3c","\ud801\udc15":"\ud801\udc3d","\ud801\udc16":"\ud801\udc3e",
        "\ud801\udc17":"\ud801\udc3f","\ud801\udc18":"\ud801\udc40","\ud801\udc19":"\ud801\udc41",
        "\ud801\udc1a":"\ud801\udc42","\ud801\udc1b":"\ud801\udc43","\ud801\udc1c":"\ud801\udc44",
        "\ud801\udc1d":"\ud801\udc45","\ud801\udc1e":"\ud801\udc46","\ud801\udc1f":"\ud801\udc47",
        "\ud801\udc20":"\ud801\udc48","\ud801\udc21":"\ud801\udc49","\ud801\udc22":"\ud801\udc4a",
        "\ud801\udc23":"\ud801\udc4b","\ud801\udc24":"\ud801\udc4c","\ud801\udc25":"\ud801\udc4d",
        "\ud801\udc26":"\ud801\udc4e","\ud801\udc27":"\ud801\udc4f","\ud801\udcb0":"\ud801\udcd8",
        "\ud801\udcb1":"\ud801\udcd9","\ud801\udcb2":"\ud801\udcda","\ud801\udcb3":"\ud801\udcdb",
        "\ud801\udcb4":"\ud801\udcdc","\ud801\udcb5":"\ud801\udcdd","\ud801\udcb6":"\ud801\udcde",
        "\ud801\udcb7":"\ud801\udcdf","\ud801\udcb8":"\ud801\udce0","\ud801\udcb9":"\ud801\udce1",
        "\ud801\udcba":"\ud801\udce2","\ud801\udcbb":"\ud801\udce3","\ud801\udcbc":"\ud801\udce4",
        "\ud801\udcbd":"\ud801\udce5","\ud801\udcbe":"\ud801\udce6","\ud801\udcbf":"\ud801\udce7",
        "\ud801\udcc0":"\ud801\udce8","\ud801\udcc1":"\ud801\udce9","\ud801\udcc2":"\ud801\udcea",
        "\ud801\udcc3":"\ud801\udceb","\ud801\udcc4":"\ud801\udcec","\ud801\udcc5":"\ud801\udced",
        "\ud801\udcc6":"\ud801\udcee","\ud801\udcc7":"\ud801\udcef","\ud801\udcc8":"\ud801\udcf0",
        "\ud801\udcc9":"\ud801\udcf1","\ud801\udcca":"\ud801\udcf2","\ud801\udccb":"\ud801\udcf3",
        "\ud801\udccc":"\ud801\udcf4","\ud801\udccd":"\ud801\udcf5","\ud801\udcce":"\ud801\udcf6",
        "\ud801\udccf":"\ud801\udcf7","\ud801\udcd0":"\ud801\udcf8","\ud801\udcd1":"\ud801\udcf9",
        "\ud801\udcd2":"\ud801\udcfa","\ud801\udcd3":"\ud801\udcfb","\ud801\udd70":"\ud801\udd97",
        "\ud801\udd71":"\ud801\udd98","\ud801\udd72":"\ud801\udd99","\ud801\udd73":"\ud801\udd9a",
        "\ud801\udd74":"\ud801\udd9b","\ud801\udd75":"\ud801\udd9c","\ud801\udd76":"\ud801\udd9d",
        "\ud801\udd77":"\ud801\udd9e","\ud801\udd78":"\ud801\udd9f","\ud801\udd79":"\ud801\udda0",
        "\ud801\udd7a":"\ud801\udda1","\ud801\udd7c":"\ud801\udda3","\ud801\udd7d":"\ud801\udda4",
        "\ud801\udd7e":"\ud801\udda5","\ud801\udd7f":"\ud801\udda6","\ud801\udd80":"\ud801\udda7",
        "\ud801\udd81":"\ud801\udda8","\ud801\udd82":"\ud801\udda9","\ud801\udd83":"\ud801\uddaa",
        "\ud801\udd84":"\ud801\uddab","\ud801\udd85":"\ud801\uddac","\ud801\udd86":"\ud801\uddad",
        "\ud801\udd87":"\ud801\uddae","\ud801\udd88":"\ud801\uddaf","\ud801\udd89":"\ud801\uddb0",
        "\ud801\udd8a":"\ud801\uddb1","\ud801\udd8c":"\ud801\uddb3","\ud801\udd8d":"\ud801\uddb4",
        "\ud801\udd8e":"\ud801\uddb5","\ud801\udd8f":"\ud801\uddb6","\ud801\udd90":"\ud801\uddb7",
        "\ud801\udd91":"\ud801\uddb8","\ud801\udd92":"\ud801\uddb9","\ud801\udd94":"\ud801\uddbb",
        "\ud801\udd95":"\ud801\uddbc","\ud803\udc80":"\ud803\udcc0","\ud803\udc81":"\ud803\udcc1",
        "\ud803\udc82":"\ud803\udcc2","\ud803\udc83":"\ud803\udcc3","\ud803\udc84":"\ud803\udcc4",
        "\ud803\udc85":"\ud803\udcc5","\ud803\udc86":"\ud803\udcc6","\ud803\udc87":"\ud803\udcc7",
        "\ud803\udc88":"\ud803\udcc8","\ud803\udc89":"\ud803\udcc9","\ud803\udc8a":"\ud803\udcca",
        "\ud803\udc8b":"\ud803\udccb","\ud803\udc8c":"\ud803\udccc","\ud803\udc8d":"\ud803\udccd",
        "\ud803\udc8e":"\ud803\udcce","\ud803\udc8f":"\ud803\udccf","\ud803\udc90":"\ud803\udcd0",
        "\ud803\udc91":"\ud803\udcd1","\ud803\udc92":"\ud803\udcd2","\ud803\udc93":"\ud803\udcd3",
        "\ud803\udc94":"\ud803\udcd4","\ud803\udc95":"\ud803\udcd5","\ud803\udc96":"\ud803\udcd6",
        "\ud803\udc97":"\ud803\udcd7","\ud803\udc98":"\ud803\udcd8","\ud803\udc99":"\ud803\udcd9",
        "\ud803\udc9a":"\ud803\udcda","\ud803\udc9b":"\ud803\udcdb","\ud803\udc9c":"\ud803\udcdc",
        "\ud803\udc9d":"\ud803\udcdd","\ud803\udc9e":"\ud803\udcde","\ud803\udc9f":"\ud803\udcdf",
        "\ud803\udca0":"\ud803\udce0","\ud803\udca1":"\ud803\udce1","\ud803\udca2":"\ud803\udce2",
        "\ud803\udca3":"\ud803\udce3","\ud803\udca4":"\ud803\udce4","\ud803\udca5":"\ud803\udce5",
        "\ud803\udca6":"\ud803\udce6","\ud803\udca7":"\ud803\udce7","\ud803\udca8":"\ud803\udce8",
        "\ud803\udca9":"\ud803\udce9","\ud803\udcaa":"\ud803\udcea","\ud803\udcab":"\ud803\udceb",
        "\ud803\udcac":"\ud803\udcec","\ud803\udcad":"\ud803\udced","\ud803\udcae":"\ud803\udcee",
        "\ud803\udcaf":"\ud803\udcef","\ud803\udcb0":"\ud803\udcf0","\ud803\udcb1":"\ud803\udcf1",
        "\ud803\udcb2":"\ud803\udcf2","\ud806\udca0":"\ud806\udcc0","\ud806\udca1":"\ud806\udcc1",
        "\ud806\udca2":"\ud806\udcc2","\ud806\udca3":"\ud806\udcc3","\ud806\udca4":"\ud806\udcc4",
        "\ud806\udca5":"\ud806\udcc5","\ud806\udca6":"\ud806\udcc6","\ud806\udca7":"\ud806\udcc7",
        "\ud806\udca8":"\ud806\udcc8","\ud806\udca9":"\ud806\udcc9","\ud806\udcaa":"\ud806\udcca",
        "\ud806\udcab":"\ud806\udccb","\ud806\udcac":"\ud806\udccc","\ud806\udcad":"\ud806\udccd",
        "\ud806\udcae":"\ud806\udcce","\ud806\udcaf":"\ud806\udccf","\ud806\udcb0":"\ud806\udcd0",
        "\ud806\udcb1":"\ud806\udcd1","\ud806\udcb2":"\ud806\udcd2","\ud806\udcb3":"\ud806\udcd3",
        "\ud806\udcb4":"\ud806\udcd4","\ud806\udcb5":"\ud806\udcd5","\ud806\udcb6":"\ud806\udcd6",
        "\ud806\udcb7":"\ud806\udcd7","\ud806\udcb8":"\ud806\udcd8","\ud806\udcb9":"\ud806\udcd9",
        "\ud806\udcba":"\ud806\udcda","\ud806\udcbb":"\ud806\udcdb","\ud806\udcbc":"\ud806\udcdc",
        "\ud806\udcbd":"\ud806\udcdd","\ud806\udcbe":"\ud806\udcde","\ud806\udcbf":"\ud806\udcdf",
        "\ud81b\ude40":"\ud81b\ude60","\ud81b\ude41":"\ud81b\ude61","\ud81b\ude42":"\ud81b\ude62",
        "\ud81b\ude43":"\ud81b\ude63","\ud81b\ude44":"\ud81b\ude64","\ud81b\ude45":"\ud81b\ude65",
        "\ud81b\ude46":"\ud81b\ude66","\ud81b\ude47":"\ud81b\ude67","\ud81b\ude48":"\ud81b\ude68",
        "\ud81b\ude49":"\ud81b\ude69","\ud81b\ude4a":"\ud81b\ude6a","\ud81b\ude4b":"\ud81b\ude6b",
        "\ud81b\ude4c":"\ud81b\ude6c","\ud81b\ude4d":"\ud81b\ude6d","\ud81b\ude4e":"\ud81b\ude6e",
        "\ud81b\ude4f":"\ud81b\ude6f","\ud81b\ude50":"\ud81b\ude70","\ud81b\ude51":"\ud81b\ude71",
        "\ud81b\ude52":"\ud81b\ude72","\ud81b\ude53":"\ud81b\ude73","\ud81b\ude54":"\ud81b\ude74",
        "\ud81b\ude55":"\ud81b\ude75","\ud81b\ude56":"\ud81b\ude76","\ud81b\ude57":"\ud81b\ude77",
        "\ud81b\ude58":"\ud81b\ude78","\ud81b\ude59":"\ud81b\ude79","\ud81b\ude5a":"\ud81b\ude7a",
        "\ud81b\ude5b":"\ud81b\ude7b","\ud81b\ude5c":"\ud81b\ude7c","\ud81b\ude5d":"\ud81b\ude7d",
        "\ud81b\ude5e":"\ud81b\ude7e","\ud81b\ude5f":"\ud81b\ude7f","\ud83a\udd00":"\ud83a\udd22",
        "\ud83a\udd01":"\ud83a\udd23","\ud83a\udd02":"\ud83a\udd24","\ud83a\udd03":"\ud83a\udd25",
        "\ud83a\udd04":"\ud83a\udd26","\ud83a\udd05":"\ud83a\udd27","\ud83a\udd06":"\ud83a\udd28",
        "\ud83a\udd07":"\ud83a\udd29","\ud83a\udd08":"\ud83a\udd2a","\ud83a\udd09":"\ud83a\udd2b",
        "\ud83a\udd0a":"\ud83a\udd2c","\ud83a\udd0b":"\ud83a\udd2d","\ud83a\udd0c":"\ud83a\udd2e",
        "\ud83a\udd0d":"\ud83a\udd2f","\ud83a\udd0e":"\ud83a\udd30","\ud83a\udd0f":"\ud83a\udd31",
        "\ud83a\udd10":"\ud83a\udd32","\ud83a\udd11":"\ud83a\udd33","\ud83a\udd12":"\ud83a\udd34",
        "\ud83a\udd13":"\ud83a\udd35","\ud83a\udd14":"\ud83a\udd36","\ud83a\udd15":"\ud83a\udd37",
        "\ud83a\udd16":"\ud83a\udd38","\ud83a\udd17":"\ud83a\udd39","\ud83a\udd18":"\ud83a\udd3a",
        "\ud83a\udd19":"\ud83a\udd3b","\ud83a\udd1a":"\ud83a\udd3c","\ud83a\udd1b":"\ud83a\udd3d",
        "\ud83a\udd1c":"\ud83a\udd3e","\ud83a\udd1d":"\ud83a\udd3f","\ud83a\udd1e":"\ud83a\udd40",
        "\ud83a\udd1f":"\ud83a\udd41","\ud83a\udd20":"\ud83a\udd42","\ud83a\udd21":"\ud83a\udd43"}'::jsonb ->> c, c), '' ORDER BY n)
              FROM string_to_table(p_text, NULL) WITH ORDINALITY AS s(c, n));
END;
$$;

COMMENT ON FUNCTION grading_casefold(text) IS
    'Python 3.11 str.casefold() (Unicode 14.0 full case folding), independent of the server''s locale.';

-- Decimal(text).normalize() as str(), in Python's default context (28 digits,
-- ROUND_HALF_EVEN, exponents -999999..999999); NULL where Python raises.
CREATE FUNCTION grading_decimal(p_text text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_text text := p_text;
    v_match text[];
    v_sign text;
    v_digits text;
    v_exp numeric;
    v_adjusted numeric;
    v_shift numeric;
    v_kept text;
    v_dropped text;
    v_length integer;
BEGIN
    -- Decimal() strips white space (only spaces remain after the text
    -- normaliser), ignores underscores and reads any Unicode decimal digit.
    v_text := replace(btrim(v_text, ' '), '_', '');
    v_text := grading_ascii_digits(v_text);
    IF octet_length(v_text) <> length(v_text) THEN
        RETURN NULL;
    END IF;
    v_text := translate(v_text, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
    v_match := regexp_match(v_text,
        '^([-+]?)(?:(inf|infinity)|(nan)([0-9]*)|(snan)[0-9]*|([0-9]*)(?:\.([0-9]*))?(?:e([-+]?[0-9]+))?)$');
    IF v_match IS NULL THEN
        RETURN NULL;
    END IF;
    v_sign := CASE WHEN v_match[1] = '-' THEN '-' ELSE '' END;
    IF v_match[2] IS NOT NULL THEN
        RETURN v_sign || 'Infinity';
    ELSIF v_match[3] IS NOT NULL THEN
        -- a NaN keeps at most 28 digits of its payload (the last ones)
        v_digits := ltrim(right(ltrim(v_match[4], '0'), 28), '0');
        RETURN v_sign || 'NaN' || v_digits;
    ELSIF v_match[5] IS NOT NULL THEN
        RETURN NULL;  -- sNaN: normalize() signals InvalidOperation
    END IF;
    IF coalesce(v_match[6], '') = '' AND coalesce(v_match[7], '') = '' THEN
        RETURN NULL;
    END IF;
    v_digits := coalesce(v_match[6], '') || coalesce(v_match[7], '');
    v_exp := coalesce(v_match[8], '0')::numeric - length(coalesce(v_match[7], ''));
    v_digits := ltrim(v_digits, '0');
    -- Decimal() itself refuses exponents its widest context cannot hold.
    IF v_exp + greatest(length(v_digits), 1) - 1 > 999999999999999999
       OR v_exp < -1999999999999999997 THEN
        RETURN NULL;
    END IF;
    IF v_digits = '' THEN
        RETURN v_sign || '0';
    END IF;
    v_length := length(v_digits);
    v_adjusted := v_exp + v_length - 1;
    IF v_adjusted > 999999 THEN
        RETURN NULL;  -- Overflow
    END IF;
    v_shift := 0;
    IF v_adjusted < -999999 THEN
        IF v_exp < -1000026 THEN
            v_shift := -1000026 - v_exp;  -- subnormal: round to the tiniest exponent
        END IF;
    ELSIF v_length > 28 THEN
        v_shift := v_length - 28;
    END IF;
    IF v_shift > 0 THEN
        IF v_shift > v_length THEN
            RETURN v_sign || '0';
        END IF;
        v_kept := left(v_digits, v_length - v_shift::integer);
        v_dropped := right(v_digits, v_shift::integer);
        IF left(v_dropped, 1) > '5'
           OR (left(v_dropped, 1) = '5'
               AND (ltrim(substr(v_dropped, 2), '0') <> ''
                    OR right(coalesce(nullif(v_kept, ''), '0'), 1) IN ('1', '3', '5', '7', '9'))) THEN
            v_kept := (coalesce(nullif(v_kept, ''), '0')::numeric + 1)::text;
        END IF;
        v_exp := v_exp + v_shift;
        v_digits := ltrim(v_kept, '0');
        IF v_digits = '' THEN
            RETURN v_sign || '0';
        END IF;
        IF v_exp + length(v_digits) - 1 > 999999 THEN  -- 9.99..9 may round up to 10
            RETURN NULL;  -- Overflow
        END IF;
    END IF;
    -- normalize(): strip trailing zeros
    v_exp := v_exp + (length(v_digits) - length(rtrim(v_digits, '0')));
    v_digits := rtrim(v_digits, '0');
    v_length := length(v_digits);
    v_adjusted := v_exp + v_length - 1;
    -- str(): scientific notation unless the exponent is <= 0 and adjusted >= -6
    IF v_exp <= 0 AND v_adjusted >= -6 THEN
        IF v_exp = 0 THEN
            RETURN v_sign || v_digits;
        ELSIF v_length > -v_exp THEN
            RETURN v_sign || left(v_digits, v_length + v_exp::integer) || '.'
                   || right(v_digits, (-v_exp)::integer);
        END IF;
        RETURN v_sign || '0.' || repeat('0', (-v_exp)::integer - v_length) || v_digits;
    END IF;
    RETURN v_sign || left(v_digits, 1)
           || CASE WHEN v_length > 1 THEN '.' || substr(v_digits, 2) ELSE '' END
           || 'E' || CASE WHEN v_adjusted >= 0 THEN '+' ELSE '-' END || abs(v_adjusted)::text;
END;
$$;

COMMENT ON FUNCTION grading_decimal(text) IS
    'str(Decimal(text).normalize()) in Python''s default context, or NULL where Python raises (the number normaliser).';

-- IPv4Address(text) as an integer, or NULL: four decimal octets 0-255 without
-- leading zeros.
CREATE FUNCTION grading_ipv4(p_text text)
RETURNS bigint
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_octets text[];
BEGIN
    v_octets := regexp_match(p_text,
        '^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$');
    IF v_octets IS NULL
       OR v_octets[1]::integer > 255 OR v_octets[2]::integer > 255
       OR v_octets[3]::integer > 255 OR v_octets[4]::integer > 255 THEN
        RETURN NULL;
    END IF;
    RETURN v_octets[1]::bigint * 16777216 + v_octets[2]::bigint * 65536
           + v_octets[3]::bigint * 256 + v_octets[4]::bigint;
END;
$$;

CREATE FUNCTION grading_ipv4_text(p_address bigint)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
    RETURN (p_address >> 24) || '.' || ((p_address >> 16) & 255) || '.'
           || ((p_address >> 8) & 255) || '.' || (p_address & 255);
END;
$$;

-- IPv6Address._ip_int_from_string(text) as its eight hextets, or NULL.
CREATE FUNCTION grading_ipv6(p_text text)
RETURNS integer[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_parts text[];
    v_count integer;
    v_skip integer;
    v_hi integer;
    v_lo integer;
    v_skipped integer;
    v_ipv4 bigint;
    v_hextets integer[] := '{}';
    i integer;
BEGIN
    IF p_text = '' OR strpos(p_text, '/') > 0 THEN
        RETURN NULL;
    END IF;
    v_parts := string_to_array(p_text, ':');
    v_count := cardinality(v_parts);
    IF v_count < 3 THEN
        RETURN NULL;
    END IF;
    IF strpos(v_parts[v_count], '.') > 0 THEN
        v_ipv4 := grading_ipv4(v_parts[v_count]);
        IF v_ipv4 IS NULL THEN
            RETURN NULL;
        END IF;
        v_parts := v_parts[1:v_count - 1]
                   || ARRAY[to_hex((v_ipv4 >> 16) & 65535), to_hex(v_ipv4 & 65535)];
        v_count := v_count + 1;
    END IF;
    IF v_count > 9 THEN
        RETURN NULL;
    END IF;
    FOR i IN 2 .. v_count - 1 LOOP
        IF v_parts[i] = '' THEN
            IF v_skip IS NOT NULL THEN
                RETURN NULL;  -- at most one '::'
            END IF;
            v_skip := i;
        END IF;
    END LOOP;
    IF v_skip IS NOT NULL THEN
        v_hi := v_skip - 1;
        v_lo := v_count - v_skip;
        IF v_parts[1] = '' THEN
            v_hi := v_hi - 1;
            IF v_hi <> 0 THEN
                RETURN NULL;
            END IF;
        END IF;
        IF v_parts[v_count] = '' THEN
            v_lo := v_lo - 1;
            IF v_lo <> 0 THEN
                RETURN NULL;
            END IF;
        END IF;
        v_skipped := 8 - (v_hi + v_lo);
        IF v_skipped < 1 THEN
            RETURN NULL;
        END IF;
    ELSE
        IF v_count <> 8 OR v_parts[1] = '' OR v_parts[v_count] = '' THEN
            RETURN NULL;
        END IF;
        v_hi := v_count;
        v_lo := 0;
        v_skipped := 0;
    END IF;
    FOR i IN 1 .. v_hi LOOP
        IF v_parts[i] !~ '^[0-9A-Fa-f]{1,4}$' THEN
            RETURN NULL;
        END IF;
        v_hextets := v_hextets || ('x' || lpad(v_parts[i], 8, '0'))::bit(32)::integer;
    END LOOP;
    v_hextets := v_hextets || array_fill(0, ARRAY[v_skipped]);
    FOR i IN v_count - v_lo + 1 .. v_count LOOP
        IF v_parts[i] !~ '^[0-9A-Fa-f]{1,4}$' THEN
            RETURN NULL;
        END IF;
        v_hextets := v_hextets || ('x' || lpad(v_parts[i], 8, '0'))::bit(32)::integer;
    END LOOP;
    RETURN v_hextets;
END;
$$;

-- The compressed text of eight hextets: the longest run (the first of equal
-- ones) of two or more zero hextets becomes '::'.
CREATE FUNCTION grading_ipv6_text(p_hextets integer[])
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_best_start integer := 0;
    v_best_length integer := 0;
    v_start integer := 0;
    v_length integer := 0;
    v_hex text[] := '{}';
    i integer;
BEGIN
    FOR i IN 1 .. 8 LOOP
        v_hex := v_hex || to_hex(p_hextets[i]);
        IF p_hextets[i] = 0 THEN
            v_length := v_length + 1;
            IF v_start = 0 THEN
                v_start := i;
            END IF;
            IF v_length > v_best_length THEN
                v_best_length := v_length;
                v_best_start := v_start;
            END IF;
        ELSE
            v_length := 0;
            v_start := 0;
        END IF;
    END LOOP;
    IF v_best_length > 1 THEN
        RETURN array_to_string(v_hex[1:v_best_start - 1], ':') || '::'
               || array_to_string(v_hex[v_best_start + v_best_length:8], ':');
    END IF;
    RETURN array_to_string(v_hex, ':');
END;
$$;

-- IPv6Address(text): (hextets, scope id) of an address with an optional
-- '%scope', or NULL.
CREATE FUNCTION grading_ipv6_scoped(p_text text, OUT hextets integer[], OUT scope text)
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_at integer := strpos(p_text, '%');
BEGIN
    IF strpos(p_text, '/') > 0 THEN
        RETURN;
    END IF;
    IF v_at > 0 THEN
        scope := substr(p_text, v_at + 1);
        IF scope = '' OR strpos(scope, '%') > 0 THEN
            scope := NULL;
            RETURN;
        END IF;
    END IF;
    hextets := grading_ipv6(CASE WHEN v_at > 0 THEN left(p_text, v_at - 1) ELSE p_text END);
    IF hextets IS NULL THEN
        scope := NULL;
    END IF;
END;
$$;

-- ip_network(text.replace(' ', ''), strict=False).with_prefixlen, or NULL:
-- IPv4 with a prefix length, netmask or hostmask, else IPv6 with a prefix
-- length; host bits cleared (an IPv6 scope id survives only without them).
CREATE FUNCTION grading_cidr(p_text text)
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

-- The set of ports of a ports answer as a canonical int4multirange text
-- ('{[20,22),[443,444)}'), or NULL: pieces split at commas, white space,
-- slashes and the word 'and'; each 'n' or 'low-high' (Python int() syntax)
-- within 0-65535.
CREATE FUNCTION grading_ports(p_text text)
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

-- The canonical ports text of the reference (sorted, comma separated) from
-- grading_ports(); only needed to match a wildcard.
CREATE FUNCTION grading_ports_list(p_ports text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
    SELECT string_agg(p::text, ',' ORDER BY p)
      FROM unnest(p_ports::int4multirange) AS r,
           generate_series(lower(r), upper(r) - 1) AS p
$$;

-- _normalize(text, normalizer, case_sensitive): NFC, white space trimmed and
-- folded to single spaces, case folded (then NFC again) unless case
-- sensitive, then read as the normaliser's kind of value; NULL when it cannot
-- be. The ports normaliser gives grading_ports()' canonical text.
CREATE FUNCTION grading_normalize(p_text text, p_normalizer text, p_case_sensitive boolean)
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

-- ---------------------------------------------------------------------------
-- The rules, one per type: the fraction {num, den}; NULL = skipped
-- ---------------------------------------------------------------------------
CREATE FUNCTION grading_multiple_choice(p_data jsonb, p_key jsonb, p_answer jsonb, p_at text)
RETURNS numeric[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_options text[] := grading_option_ids(p_data);
    v_chosen text := grading_str(p_answer, 'option', p_at);
    v_partial jsonb;
BEGIN
    IF NOT v_chosen = ANY (v_options) THEN
        PERFORM grading_invalid(p_at || '.option', 'must be one of ' || array_to_string(v_options, ', '));
    END IF;
    IF v_chosen = grading_str(p_key, 'option', 'correct_answer') THEN
        RETURN ARRAY[1, 1]::numeric[];
    END IF;
    v_partial := p_key -> 'partial';
    IF grading_truthy(v_partial) AND jsonb_typeof(v_partial) = 'object' AND v_partial ? v_chosen THEN
        RETURN grading_clamp(grading_number(v_partial -> v_chosen, 'correct_answer.partial'));
    END IF;
    RETURN ARRAY[0, 1]::numeric[];
END;
$$;

CREATE FUNCTION grading_multiple_select(p_data jsonb, p_key jsonb, p_answer jsonb, p_at text)
RETURNS numeric[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_options text[] := grading_option_ids(p_data);
    v_ticked text[] := grading_str_list(p_answer, 'options', p_at);
    v_seen text[] := '{}';
    v_twice boolean := false;
    v_unknown text[] := '{}';
    v_right text[] := '{}';
    v_option text;
    v_hits integer := 0;
    v_misses integer := 0;
    v_k integer;
    v_wrong integer;
BEGIN
    IF cardinality(v_ticked) <= 32 THEN  -- the usual case: no query
        FOREACH v_option IN ARRAY v_ticked LOOP
            v_twice := v_twice OR v_option = ANY (v_seen);
            v_seen := v_seen || v_option;
            IF NOT v_option = ANY (v_options) THEN
                v_unknown := v_unknown || v_option;
            END IF;
        END LOOP;
    ELSE  -- a long list, in linear time
        SELECT count(DISTINCT t) <> count(*),
               coalesce(array_agg(t ORDER BY n) FILTER (WHERE NOT t = ANY (v_options)), '{}')
          INTO v_twice, v_unknown
          FROM unnest(v_ticked) WITH ORDINALITY AS u(t, n);
    END IF;
    IF v_twice THEN
        PERFORM grading_invalid(p_at || '.options', 'lists an option twice');
    ELSIF cardinality(v_unknown) > 0 THEN
        PERFORM grading_invalid(p_at || '.options', 'unknown option(s) ' || array_to_string(v_unknown, ', '));
    END IF;
    FOREACH v_option IN ARRAY grading_str_list(p_key, 'options', 'correct_answer') LOOP
        IF NOT v_option = ANY (v_right) THEN
            v_right := v_right || v_option;
        END IF;
    END LOOP;
    IF cardinality(v_right) = 0 OR NOT v_right <@ v_options THEN
        PERFORM grading_malformed('multiple_select correct options must be a non-empty subset');
    END IF;
    IF v_options <@ v_right THEN
        PERFORM grading_malformed('multiple_select needs at least one distractor');
    END IF;
    IF grading_truthy(p_data -> 'all_or_nothing') THEN
        RETURN ARRAY[(v_ticked <@ v_right AND v_right <@ v_ticked)::integer, 1]::numeric[];
    END IF;
    FOREACH v_option IN ARRAY v_ticked LOOP
        IF v_option = ANY (v_right) THEN
            v_hits := v_hits + 1;
        ELSE
            v_misses := v_misses + 1;
        END IF;
    END LOOP;
    v_k := cardinality(v_right);
    v_wrong := cardinality(v_options) - v_k;
    RETURN grading_clamp(ARRAY[v_hits * v_wrong - v_misses * v_k, v_k * v_wrong]::numeric[]);
END;
$$;

CREATE FUNCTION grading_true_false(p_key jsonb, p_answer jsonb, p_at text)
RETURNS numeric[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_value jsonb := p_answer -> 'value';
    v_key jsonb;
BEGIN
    IF jsonb_typeof(v_value) IS DISTINCT FROM 'boolean' THEN
        PERFORM grading_invalid(p_at || '.value', 'must be true or false');
    END IF;
    v_key := grading_field(p_key, 'value', 'correct_answer');
    IF jsonb_typeof(v_key) IS DISTINCT FROM 'boolean' THEN
        PERFORM grading_invalid('correct_answer.value', 'must be true or false');
    END IF;
    RETURN ARRAY[(v_value = v_key)::integer, 1]::numeric[];
END;
$$;

CREATE FUNCTION grading_fill_blank(p_data jsonb, p_key jsonb, p_answer jsonb, p_at text)
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

CREATE FUNCTION grading_matching(p_data jsonb, p_key jsonb, p_answer jsonb, p_at text)
RETURNS numeric[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_stems text[] := grading_items(p_data, 'stems');
    v_choices text[] := grading_items(p_data, 'choices');
    v_given jsonb := grading_pairs(p_answer, p_at);
    v_right jsonb;
    v_stem text;
    v_choice text;
    v_matched integer := 0;
BEGIN
    IF v_given - v_stems <> '{}'::jsonb
       OR NOT jsonb_path_query_array(v_given, 'strict $.*') <@ to_jsonb(v_choices) THEN
        -- the first bad pair, in the order Python reads the stored object
        FOR v_stem, v_choice IN SELECT key, value FROM jsonb_each_text(v_given) LOOP
            IF NOT v_stem = ANY (v_stems) THEN
                PERFORM grading_invalid(p_at || '.pairs', 'unknown stem ' || grading_repr(v_stem));
            END IF;
            IF NOT v_choice = ANY (v_choices) THEN
                PERFORM grading_invalid(p_at || '.pairs.' || v_stem, 'unknown choice ' || grading_repr(v_choice));
            END IF;
        END LOOP;
    END IF;
    v_right := grading_pairs(p_key, 'correct_answer');
    IF v_right - v_stems <> '{}'::jsonb OR NOT v_right ?& v_stems
       OR NOT jsonb_path_query_array(v_right, 'strict $.*') <@ to_jsonb(v_choices) THEN
        PERFORM grading_malformed('matching correct_answer.pairs must pair every stem with a choice');
    END IF;
    FOREACH v_stem IN ARRAY v_stems LOOP
        IF v_given ->> v_stem = v_right ->> v_stem THEN
            v_matched := v_matched + 1;
        END IF;
    END LOOP;
    RETURN ARRAY[v_matched, cardinality(v_stems)]::numeric[];
END;
$$;

CREATE FUNCTION grading_simulation(p_data jsonb, p_key jsonb, p_answer jsonb, p_at text)
RETURNS numeric[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_ids text[] := grading_items(p_data, 'parts');
    v_parts jsonb := p_data -> 'parts';
    v_part jsonb;
    v_id text;
    v_keys jsonb;
    v_given jsonb;
    v_unknown text;
    v_weight numeric[];
    v_total numeric[] := ARRAY[0, 1];
    v_sum numeric[] := ARRAY[0, 1];
    v_answer jsonb;
    v_score numeric[];
    v_gcd numeric;
    i integer;
BEGIN
    FOR i IN 0 .. cardinality(v_ids) - 1 LOOP
        v_part := v_parts -> i;
        IF jsonb_typeof(v_part -> 'type') IS DISTINCT FROM 'string'
           OR v_part ->> 'type' NOT IN ('multiple_choice', 'multiple_select', 'true_false', 'fill_blank', 'matching') THEN
            PERFORM grading_malformed(format('question_data.parts.%s.type must be a non-simulation question type',
                                             v_part ->> 'id'));
        END IF;
    END LOOP;
    v_keys := grading_field(p_key, 'parts', 'correct_answer');
    IF jsonb_typeof(v_keys) IS DISTINCT FROM 'object' THEN
        PERFORM grading_invalid('correct_answer.parts', 'must be a JSON object, got ' || grading_pytype(v_keys));
    END IF;
    v_given := p_answer -> 'parts';
    IF jsonb_typeof(v_given) IS DISTINCT FROM 'object' THEN
        PERFORM grading_invalid(p_at || '.parts', 'must be a JSON object, got ' || grading_pytype(v_given));
    END IF;
    IF v_given - v_ids <> '{}'::jsonb THEN
        SELECT string_agg(k, ', ' ORDER BY k COLLATE "C") INTO v_unknown
          FROM jsonb_object_keys(v_given - v_ids) AS k;
        PERFORM grading_invalid(p_at || '.parts', 'unknown part(s) ' || v_unknown);
    END IF;
    FOR i IN 0 .. cardinality(v_ids) - 1 LOOP
        v_part := v_parts -> i;
        v_id := v_ids[i + 1];
        v_weight := grading_number(coalesce(v_part -> 'weight', '1'::jsonb),
                                   'question_data.parts.' || v_id || '.weight');
        IF v_weight[1] < 0 THEN
            PERFORM grading_malformed('question_data.parts.' || v_id || '.weight is negative');
        END IF;
        v_total := ARRAY[v_total[1] * v_weight[2] + v_weight[1] * v_total[2], v_total[2] * v_weight[2]];
        v_gcd := gcd(v_total[1], v_total[2]);
        v_total := ARRAY[v_total[1] / v_gcd, v_total[2] / v_gcd];
        v_answer := v_given -> v_id;
        CONTINUE WHEN v_answer IS NULL OR v_answer = 'null'::jsonb OR v_answer = '{}'::jsonb;
        IF jsonb_typeof(v_answer) <> 'object' THEN
            PERFORM grading_invalid(p_at || '.parts.' || v_id, 'must be a JSON object, got ' || grading_pytype(v_answer));
        END IF;
        -- a blank fill_blank part (NULL: skipped) scores 0
        v_score := coalesce(grading_score(v_part ->> 'type', coalesce(v_part -> 'data', '{}'::jsonb),
                                          coalesce(v_keys -> v_id, '{}'::jsonb), v_answer,
                                          p_at || '.parts.' || v_id),
                            ARRAY[0, 1]::numeric[]);
        v_sum := ARRAY[v_sum[1] * v_weight[2] * v_score[2] + v_weight[1] * v_score[1] * v_sum[2],
                       v_sum[2] * v_weight[2] * v_score[2]];
        v_gcd := gcd(v_sum[1], v_sum[2]);
        v_sum := ARRAY[v_sum[1] / v_gcd, v_sum[2] / v_gcd];
    END LOOP;
    IF v_total[1] = 0 THEN
        RETURN ARRAY[0, 1]::numeric[];
    END IF;
    RETURN ARRAY[v_sum[1] * v_total[2], v_sum[2] * v_total[1]];
END;
$$;

-- The rule of a question type; simulation parts come back here.
CREATE FUNCTION grading_score(p_type text, p_data jsonb, p_key jsonb, p_answer jsonb, p_at text)
RETURNS numeric[]
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
BEGIN
    CASE p_type
        WHEN 'multiple_choice' THEN RETURN grading_multiple_choice(p_data, p_key, p_answer, p_at);
        WHEN 'multiple_select' THEN RETURN grading_multiple_select(p_data, p_key, p_answer, p_at);
        WHEN 'true_false' THEN RETURN grading_true_false(p_key, p_answer, p_at);
        WHEN 'fill_blank' THEN RETURN grading_fill_blank(p_data, p_key, p_answer, p_at);
        WHEN 'matching' THEN RETURN grading_matching(p_data, p_key, p_answer, p_at);
        WHEN 'simulation' THEN RETURN grading_simulation(p_data, p_key, p_answer, p_at);
        ELSE PERFORM grading_malformed('unknown question type ' || coalesce(grading_repr(p_type), 'None'));
    END CASE;
    RETURN NULL;
END;
$$;

-- ---------------------------------------------------------------------------
-- grade_answer
-- ---------------------------------------------------------------------------
CREATE FUNCTION grade_answer(
    question_type text,
    question_data jsonb,
    correct_answer jsonb,
    user_answer jsonb,
    points integer
)
RETURNS graded_answer
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_fraction numeric[];
    v_gcd numeric;
    v_num numeric;
    v_den numeric;
    v_cents numeric;
    v_twice numeric;
    v_points numeric(10,2);
BEGIN
    IF user_answer IS NULL OR user_answer = 'null'::jsonb OR user_answer = '{}'::jsonb THEN
        RETURN ROW(true, false, 0, 1, 0.00)::graded_answer;
    END IF;
    IF question_type IS NULL OR question_type NOT IN
           ('multiple_choice', 'multiple_select', 'true_false', 'fill_blank', 'matching', 'simulation') THEN
        PERFORM grading_malformed('unknown question type ' || coalesce(grading_repr(question_type), 'None'));
    END IF;
    IF jsonb_typeof(user_answer) <> 'object' THEN
        PERFORM grading_invalid('user_answer', 'must be a JSON object, got ' || grading_pytype(user_answer));
    END IF;
    v_fraction := grading_score(question_type, question_data, correct_answer, user_answer, 'user_answer');
    IF v_fraction IS NULL THEN
        RETURN ROW(true, false, 0, 1, 0.00)::graded_answer;
    END IF;
    v_gcd := gcd(v_fraction[1], v_fraction[2]);
    v_num := v_fraction[1] / v_gcd;
    v_den := v_fraction[2] / v_gcd;
    IF abs(v_num) > 9223372036854775807 OR v_den > 9223372036854775807 THEN
        PERFORM grading_malformed('the exact grade ' || v_num || '/' || v_den || ' does not fit in bigint');
    END IF;
    IF v_num = 0 THEN
        v_points := 0;
    ELSE
        -- floor(num * points * 100 / den + 1/2) cents, in integers
        v_twice := 2 * v_num * points * 100 + v_den;
        v_cents := div(v_twice, 2 * v_den);
        IF mod(v_twice, 2 * v_den) < 0 THEN
            v_cents := v_cents - 1;
        END IF;
        v_points := v_cents / 100;
    END IF;
    RETURN ROW(false, v_num = v_den, v_num::bigint, v_den::bigint, v_points)::graded_answer;
END;
$$;

COMMENT ON FUNCTION grade_answer(text, jsonb, jsonb, jsonb, integer) IS
    'Grades one answer as netplus_db.grading.grade(...).points(points) does: (skipped, is_correct, exact fraction, points_earned). A malformed answer raises 22023 ''<field>: <message>'' (COLUMN = field); a malformed definition raises NP001.';

REVOKE EXECUTE ON FUNCTION
    grading_invalid(text, text),
    grading_malformed(text),
    grading_pytype(jsonb),
    grading_truthy(jsonb),
    grading_repr(text),
    grading_field(jsonb, text, text),
    grading_str(jsonb, text, text),
    grading_str_list(jsonb, text, text),
    grading_pairs(jsonb, text),
    grading_items(jsonb, text),
    grading_option_ids(jsonb),
    grading_ascii_digits(text),
    grading_number(jsonb, text),
    grading_clamp(numeric[]),
    grading_casefold(text),
    grading_decimal(text),
    grading_ipv4(text),
    grading_ipv4_text(bigint),
    grading_ipv6(text),
    grading_ipv6_text(integer[]),
    grading_ipv6_scoped(text),
    grading_cidr(text),
    grading_ports(text),
    grading_ports_list(text),
    grading_normalize(text, text, boolean),
    grading_multiple_choice(jsonb, jsonb, jsonb, text),
    grading_multiple_select(jsonb, jsonb, jsonb, text),
    grading_true_false(jsonb, jsonb, text),
    grading_fill_blank(jsonb, jsonb, jsonb, text),
    grading_matching(jsonb, jsonb, jsonb, text),
    grading_simulation(jsonb, jsonb, jsonb, text),
    grading_score(text, jsonb, jsonb, jsonb, text),
    grade_answer(text, jsonb, jsonb, jsonb, integer)
    FROM PUBLIC;

-- migrate:down
DROP FUNCTION grade_answer(text, jsonb, jsonb, jsonb, integer);
DROP FUNCTION grading_score(text, jsonb, jsonb, jsonb, text);
DROP FUNCTION grading_simulation(jsonb, jsonb, jsonb, text);
DROP FUNCTION grading_matching(jsonb, jsonb, jsonb, text);
DROP FUNCTION grading_fill_blank(jsonb, jsonb, jsonb, text);
DROP FUNCTION grading_true_false(jsonb, jsonb, text);
DROP FUNCTION grading_multiple_select(jsonb, jsonb, jsonb, text);
DROP FUNCTION grading_multiple_choice(jsonb, jsonb, jsonb, text);
DROP FUNCTION grading_normalize(text, text, boolean);
DROP FUNCTION grading_ports_list(text);
DROP FUNCTION grading_ports(text);
DROP FUNCTION grading_cidr(text);
DROP FUNCTION grading_ipv6_scoped(text);
DROP FUNCTION grading_ipv6_text(integer[]);
DROP FUNCTION grading_ipv6(text);
DROP FUNCTION grading_ipv4_text(bigint);
DROP FUNCTION grading_ipv4(text);
DROP FUNCTION grading_decimal(text);
DROP FUNCTION grading_casefold(text);
DROP FUNCTION grading_clamp(numeric[]);
DROP FUNCTION grading_number(jsonb, text);
DROP FUNCTION grading_ascii_digits(text);
DROP FUNCTION grading_option_ids(jsonb);
DROP FUNCTION grading_items(jsonb, text);
DROP FUNCTION grading_pairs(jsonb, text);
DROP FUNCTION grading_str_list(jsonb, text, text);
DROP FUNCTION grading_str(jsonb, text, text);
DROP FUNCTION grading_field(jsonb, text, text);
DROP FUNCTION grading_repr(text);
DROP FUNCTION grading_truthy(jsonb);
DROP FUNCTION grading_pytype(jsonb);
DROP FUNCTION grading_malformed(text);
DROP FUNCTION grading_invalid(text, text);
DROP TYPE graded_answer;
