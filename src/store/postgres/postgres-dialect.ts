/**
 * PostgreSQL's SQL where it differs from DuckDB (see ../sql-dialect.ts).
 * PostgreSQL has no TRY_CAST and no RFC 7396 merge patch (`jsonb ||` merges
 * only the top level and keeps nulls), so the store creates small functions
 * for them (`setupStatements`), in its own schema, each time it opens.
 */
import type { SqlDialect } from '../sql-dialect.js'

const castFunctions = {
  double: 'leadlens_try_double',
  boolean: 'leadlens_try_boolean',
  timestamp: 'leadlens_try_timestamptz',
} as const

// Decimal text with an exponent PostgreSQL's numeric can hold.
const decimalPattern = String.raw`^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,4})?\s*$`

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  types: { double: 'double precision', json: 'jsonb' },
  staged: (table) => `pg_temp.${table}`,

  // A text[] literal, for the #>> and #> operators.
  jsonPath: (keys) =>
    `{${keys.map((key) => `"${key.replace(/["\\]/g, '\\$&')}"`).join(',')}}`,

  jsonPathOfKey: (column) => `ARRAY[${column}]`,
  jsonText: (column, path) => `(${column} #>> CAST(${path} AS text[]))`,
  jsonValue: (column, path) => `(${column} #> CAST(${path} AS text[]))`,
  tryCast: (text, type) => `${castFunctions[type]}(${text})`,
  epochMs: (instant) =>
    `(extract(epoch FROM ${instant})::double precision * 1000)`,
  mergePatch: (target, patch) =>
    `leadlens_merge_patch(${target}::jsonb, ${patch}::jsonb)`,

  text: (expression) => `leadlens_text(${expression})`,

  groupsAccountsByTableKey: true,
  lockRowsSkipLocked: ' FOR UPDATE SKIP LOCKED',
  setupStatements: [
    // Numbers and booleans are checked by pattern, not by catching a failed
    // cast: an exception handler is a subtransaction, which a parallel query
    // cannot start, and these run on every event a metric scans.
    `CREATE OR REPLACE FUNCTION leadlens_try_double(value text)
      RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
          WHEN value ~ '${decimalPattern}' THEN
            CASE
              WHEN abs(value::numeric) > 1.7976931348623157e308 THEN NULL
              WHEN abs(value::numeric) < 2.2250738585072014e-308 THEN 0
              ELSE value::double precision
            END
          WHEN lower(btrim(value)) IN ('nan', 'inf', '+inf', '-inf',
            'infinity', '+infinity', '-infinity') THEN value::double precision
        END
      $$`,
    `CREATE OR REPLACE FUNCTION leadlens_try_boolean(value text)
      RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
          WHEN lower(btrim(value)) IN ('t', 'true', 'y', 'yes', 'on', '1')
            THEN true
          WHEN lower(btrim(value)) IN ('f', 'false', 'n', 'no', 'off', '0')
            THEN false
        END
      $$`,
    // Instant text has too many forms for a pattern: a failed cast is caught
    // (so a query using it runs without parallel workers).
    `CREATE OR REPLACE FUNCTION leadlens_try_timestamptz(value text)
      RETURNS timestamptz LANGUAGE plpgsql STABLE PARALLEL UNSAFE AS $$
        BEGIN
          RETURN value::timestamptz;
        EXCEPTION WHEN others THEN
          RETURN NULL;
        END
      $$`,
    // A whole double reads 250.0 in DuckDB, 250 in PostgreSQL; as DuckDB.
    `CREATE OR REPLACE FUNCTION leadlens_text(value anyelement)
      RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
          WHEN pg_typeof(value) = 'double precision'::regtype
            AND value::text ~ '^-?[0-9]+$' THEN value::text || '.0'
          ELSE value::text END
      $$`,
    // RFC 7396, as DuckDB's json_merge_patch: objects merge key by key, a
    // null deletes the key, anything else replaces the target.
    `CREATE OR REPLACE FUNCTION leadlens_merge_patch(target jsonb, patch jsonb)
      RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
      DECLARE
        result jsonb;
        entry record;
      BEGIN
        IF patch IS NULL THEN
          RETURN NULL;
        END IF;
        IF jsonb_typeof(patch) <> 'object' THEN
          RETURN patch;
        END IF;

        result := CASE WHEN jsonb_typeof(target) = 'object'
          THEN target ELSE '{}'::jsonb END;
        FOR entry IN SELECT key, value FROM jsonb_each(patch) LOOP
          IF jsonb_typeof(entry.value) = 'null' THEN
            result := result - entry.key;
          ELSE
            result := result || jsonb_build_object(entry.key,
              leadlens_merge_patch(result -> entry.key, entry.value));
          END IF;
        END LOOP;

        RETURN result;
      END $$`,
  ],
}
