/**
 * The state one list compilation shares across its parts: bound
 * parameters, issues found, joins and metric subqueries needed.
 */
import type { PropertyTypeMap } from '../catalog/property-catalog.js'
import type { JoinName } from '../catalog/resolve-field.js'
import type { SqlDialect } from '../store/sql-dialect.js'
import type { SqlParam } from '../store/store.js'
import type { ListDefinition, MetricSpec } from './list-definition.js'
import type { ListIssue } from './list-error.js'

/** Resolves `score.<name>.<field>` for the compiler (set by the scores module). */
export type ScoreFieldResolver = (
  context: CompileContext,
  scoreName: string,
  field: string,
  path: string,
) =>
  | {
      sql: string
      type: 'number' | 'string'
      allowedValues?: readonly string[]
    }
  | undefined

export interface CompileOptions {
  /** The SQL of the store the list runs on, where dialects differ. */
  sql: SqlDialect
  asOf: Date
  /** The workspace's IANA zone; a definition's own `timezone` wins. */
  timezone: string
  /** The signed-in person's email, for `$me`. */
  me?: string
  types: PropertyTypeMap
  /** Metrics declared once (`metrics:` or `leadlens apply`), by name. */
  namedMetrics?: Record<string, MetricSpec>
  /** Event names the store has seen, to warn about metrics on others. */
  knownEvents?: ReadonlySet<string>
  /** Overrides the definition's limit (e.g. `--limit`). */
  limit?: number
  /** Rows to skip, for paging. */
  offset?: number
  /** Leaves out the total count (a window over every row), for streaming. */
  withoutTotal?: boolean
  /** Resolves score fields; without it, score.* fields are unknown. */
  resolveScoreField?: ScoreFieldResolver
  /**
   * A rep's email: only entities whose CRM owner is this person are in the
   * result, whatever the definition says (enforced here, in the query).
   */
  ownerEmail?: string
  /**
   * The rollups the store keeps current, with the registered sums (keys of
   * `sumPropertyKey`); without it every metric reads raw events.
   */
  rollups?: { sums: ReadonlySet<string> }
}

export interface CompiledMetric {
  alias: string
  sql: string
  isCounting: boolean
}

export interface CompileContext {
  definition: ListDefinition
  options: CompileOptions
  of: 'users' | 'accounts'
  zone: string
  types: PropertyTypeMap
  sql: SqlDialect
  params: SqlParam[]
  issues: ListIssue[]
  warnings: ListIssue[]
  joins: Set<JoinName>
  metrics: Map<string, CompiledMetric>
  /** Joins of score subqueries, by score name: alias and SQL. */
  scoreJoins: Map<string, { alias: string; sql: string }>
  /** Placeholder of the `asOf` parameter. */
  asOf: string
  bindValue(value: SqlParam): string
}

/** A fresh context for compiling `definition`. */
export function createCompileContext(
  definition: ListDefinition,
  options: CompileOptions,
  /** Parameters of an enclosing statement this one is nested in. */
  params: SqlParam[] = [],
): CompileContext {
  const bindValue = (value: SqlParam) => {
    params.push(value)
    return `$${params.length}`
  }

  return {
    definition,
    options,
    of: definition.of,
    zone: definition.timezone ?? options.timezone,
    types: options.types,
    sql: options.sql,
    params,
    issues: [],
    warnings: [],
    joins: new Set(),
    metrics: new Map(),
    scoreJoins: new Map(),
    asOf: bindValue(options.asOf),
    bindValue,
  }
}

/** Records an issue and returns SQL that stands in for the broken part. */
export function reportIssue(
  context: CompileContext,
  code: ListIssue['code'],
  path: string,
  message: string,
): string {
  context.issues.push({ code, path, message })
  return 'TRUE'
}
