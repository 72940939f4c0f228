/**
 * The list definition (DESIGN.md section 5): its types, operators and
 * metric kinds. Validation is in validate-list-definition.ts; the
 * catalog-dependent checks (does the field exist?) happen in the compiler.
 */
export const operators = [
  '=',
  '!=',
  '>',
  '>=',
  '<',
  '<=',
  'in',
  'not_in',
  'contains',
  'starts_with',
  'exists',
  'not_exists',
  'within',
  'before',
  'between',
] as const

export type Operator = (typeof operators)[number]

export type WindowSpec = string | { last_n_days: number }

export interface MetricSpec {
  count?: string
  distinct_users?: string
  sum?: string
  property?: string
  active_days?: true
  users_added?: true
  first_seen?: string
  last_seen?: string
  within?: WindowSpec
  where?: Condition
  /** Count only: each event counts 0.5^(age / half_life) at asOf. */
  decay?: { half_life: string }
}

export type MetricRef = MetricSpec | string

export const relatedMatches = ['any', 'all', 'none'] as const

/**
 * A condition over a related collection (an account's deals, contacts or
 * users): `any` (default) of them matches `where`, `all` do, `none` does,
 * or the number that match compares with `count`.
 */
export interface RelatedCondition {
  related: string
  match?: (typeof relatedMatches)[number]
  where?: Condition
  count?: { op: Operator; value: number }
}

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { field: string; op: Operator; value?: unknown }
  | { metric: MetricRef; op: Operator; value?: unknown }
  | RelatedCondition

export type SortKey = ({ field: string } | { metric: MetricRef }) & {
  dir?: 'asc' | 'desc'
}

export type ColumnSpec =
  string | { field: string; as?: string } | { metric: MetricRef; as?: string }

export interface ListDefinition {
  name: string
  of: 'users' | 'accounts'
  where?: Condition
  sort?: SortKey[]
  columns?: ColumnSpec[]
  limit?: number
  timezone?: string
  metrics?: Record<string, MetricSpec>
}

export const metricKinds = [
  'count',
  'distinct_users',
  'sum',
  'active_days',
  'users_added',
  'first_seen',
  'last_seen',
] as const

export type MetricKind = (typeof metricKinds)[number]
