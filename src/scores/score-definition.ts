/**
 * The score definition (DESIGN.md section 5, issue 6): two axes, Customer
 * Fit and Product Usage, each a list of criteria with points (a condition
 * of the list language, or a decayed event signal), or Calixa-style levels;
 * thresholds map each axis to a level, and the two levels to a quadrant.
 */
import {
  validateCondition,
  validateMetricSpec,
} from '../lists/validate-list-definition.js'

import type { Condition, MetricSpec } from '../lists/list-definition.js'
import type { ListIssue } from '../lists/list-error.js'

/** Points when `when` holds, or points per unit of a (decayed) signal. */
export interface Criterion {
  label?: string
  when?: Condition
  signal?: MetricSpec
  /** Shorthand for the signal's own decay: each event counts 0.5^(age / half_life). */
  decay?: { half_life: string }
  points: number
  /** Upper bound of a signal criterion's points. */
  max?: number
}

/** Calixa-style: the first level whose condition groups (OR'ed) match. */
export interface LevelGroups {
  levels: { high: Condition[]; medium?: Condition[] }
}

export type Axis = Criterion[] | LevelGroups

export interface AxisThresholds {
  high: number
  medium?: number
}

export interface ScoreDefinition {
  name: string
  of: 'users' | 'accounts'
  description?: string
  timezone?: string
  fit?: Axis
  usage?: Axis
  levels?: { fit?: AxisThresholds; usage?: AxisThresholds }
  cap?: { fit?: number; usage?: number }
}

export const axisNames = ['fit', 'usage'] as const
export type AxisName = (typeof axisNames)[number]

export const quadrants = ['hot', 'activate', 'self_serve', 'ignore'] as const
export type Quadrant = (typeof quadrants)[number]

/** Points an axis of level groups gives each level. */
export const levelPoints = { high: 100, medium: 50, low: 0 } as const

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/** Checks a score's shape, returning every issue with its path. */
export function validateScoreDefinition(raw: unknown): {
  definition: ScoreDefinition | undefined
  issues: ListIssue[]
} {
  const issues: ListIssue[] = []
  const push = (
    path: string,
    message: string,
    code: ListIssue['code'] = 'LIST_DEFINITION_INVALID',
  ) => issues.push({ code, path, message })

  if (!isObject(raw)) {
    push(
      '',
      'a score definition is an object with name, of, fit, usage, levels',
    )
    return { definition: undefined, issues }
  }

  const known = [
    'name',
    'of',
    'description',
    'timezone',
    'fit',
    'usage',
    'levels',
    'cap',
  ]
  for (const key of Object.keys(raw)) {
    if (!known.includes(key))
      push(key, `unknown key; expected one of ${known.join(', ')}`)
  }
  if (typeof raw.name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(raw.name)) {
    push(
      'name',
      'a score needs a name of letters, digits, _ and - (it is used as score.<name>.* in lists)',
    )
  }
  if (raw.of !== 'users' && raw.of !== 'accounts')
    push('of', 'of must be users or accounts')
  if (raw.fit === undefined && raw.usage === undefined)
    push('', 'a score has a fit axis, a usage axis or both')

  for (const axis of axisNames) {
    if (raw[axis] !== undefined) validateAxis(raw[axis], axis, issues)
  }

  if (raw.levels !== undefined) {
    if (!isObject(raw.levels))
      push(
        'levels',
        'levels is { fit: { high: N, medium?: N }, usage: { ... } }',
      )
    else {
      for (const [axis, thresholds] of Object.entries(raw.levels)) {
        const path = `levels.${axis}`
        if (!(axisNames as readonly string[]).includes(axis))
          push(path, 'levels name the fit and usage axes')
        else if (!isObject(thresholds) || typeof thresholds.high !== 'number')
          push(
            path,
            'thresholds are { high: N, medium?: N }',
            'LIST_VALUE_INVALID',
          )
        else if (
          thresholds.medium !== undefined &&
          (typeof thresholds.medium !== 'number' ||
            thresholds.medium > thresholds.high)
        ) {
          push(
            `${path}.medium`,
            'medium is a number no greater than high',
            'LIST_VALUE_INVALID',
          )
        }
      }
    }
  }
  if (raw.cap !== undefined) {
    if (
      !isObject(raw.cap) ||
      Object.entries(raw.cap).some(
        ([axis, cap]) =>
          !(axisNames as readonly string[]).includes(axis) ||
          typeof cap !== 'number',
      )
    ) {
      push(
        'cap',
        'cap is { fit?: N, usage?: N }, the most points each axis can have',
        'LIST_VALUE_INVALID',
      )
    }
  }

  return {
    definition:
      issues.length === 0 ? (raw as unknown as ScoreDefinition) : undefined,
    issues,
  }
}

function validateAxis(value: unknown, axis: string, issues: ListIssue[]): void {
  if (isObject(value) && 'levels' in value) {
    const levels = value.levels
    if (!isObject(levels) || !Array.isArray(levels.high)) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path: `${axis}.levels`,
        message:
          'levels is { high: [conditions], medium?: [conditions] }; a level matches when any of its conditions does',
      })
      return
    }
    for (const level of ['high', 'medium'] as const) {
      const groups = levels[level]
      if (groups === undefined) continue
      if (!Array.isArray(groups)) {
        issues.push({
          code: 'LIST_DEFINITION_INVALID',
          path: `${axis}.levels.${level}`,
          message: 'a level is a list of conditions',
        })
        continue
      }
      groups.forEach((group, index) =>
        validateCondition(group, `${axis}.levels.${level}[${index}]`, issues),
      )
    }
    return
  }

  if (!Array.isArray(value)) {
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path: axis,
      message: `${axis} is a list of criteria ({ when, points } or { signal, points, max }) or { levels: ... }`,
    })
    return
  }

  value.forEach((criterion: unknown, index) => {
    const path = `${axis}[${index}]`
    if (!isObject(criterion)) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path,
        message: 'a criterion is { when, points } or { signal, points, max }',
      })
      return
    }
    for (const key of Object.keys(criterion)) {
      if (
        !['label', 'when', 'signal', 'decay', 'points', 'max'].includes(key)
      ) {
        issues.push({
          code: 'LIST_DEFINITION_INVALID',
          path: `${path}.${key}`,
          message: 'a criterion takes label, when or signal, points and max',
        })
      }
    }
    if ('when' in criterion === 'signal' in criterion) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path,
        message:
          'a criterion has either when (a condition) or signal (a metric)',
      })
    }
    if (criterion.when !== undefined)
      validateCondition(criterion.when, `${path}.when`, issues)
    if (criterion.signal !== undefined) {
      const signal =
        criterion.decay === undefined || typeof criterion.signal !== 'object'
          ? criterion.signal
          : { ...(criterion.signal as object), decay: criterion.decay }
      validateMetricSpec(signal, `${path}.signal`, issues)
    } else if (criterion.decay !== undefined) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path: `${path}.decay`,
        message:
          'decay goes with a signal: { signal: { count: E }, decay: { half_life: 14d }, points }',
      })
    }
    if (
      typeof criterion.points !== 'number' ||
      !Number.isFinite(criterion.points)
    ) {
      issues.push({
        code: 'LIST_VALUE_INVALID',
        path: `${path}.points`,
        message: 'points is a number (negative points are allowed)',
      })
    }
    if (
      criterion.max !== undefined &&
      (typeof criterion.max !== 'number' || criterion.signal === undefined)
    ) {
      issues.push({
        code: 'LIST_VALUE_INVALID',
        path: `${path}.max`,
        message: "max bounds a signal criterion's points",
      })
    }
  })
}
