/**
 * `leadlens apply FILE.yaml`: metrics and lists as code. Every definition
 * is checked first (shape, then compiled against the store's catalog); if
 * any has a problem nothing is saved. Applying again updates in place.
 */
import { readFile } from 'node:fs/promises'

import { parse as parseYaml } from 'yaml'

import { compileList } from '../lists/compile-list.js'
import { compileOptionsForStore } from '../lists/run-list.js'
import { compileScore } from '../scores/compile-score.js'
import { readSavedScores } from '../scores/saved-scores.js'
import { validateScoreDefinition } from '../scores/score-definition.js'
import { scoreFieldResolver } from '../scores/score-fields.js'
import { ListError } from '../lists/list-error.js'
import {
  validateListDefinition,
  validateMetricSpec,
} from '../lists/validate-list-definition.js'
import { listDefinitions, saveDefinition } from './definitions.js'

import type { ListDefinition, MetricSpec } from '../lists/list-definition.js'
import type { ListIssue } from '../lists/list-error.js'
import type { ScoreDefinition } from '../scores/score-definition.js'
import type { Store } from '../store/store.js'

export interface ApplySummary {
  created: string[]
  updated: string[]
  warnings: ListIssue[]
}

const sections = ['metrics', 'lists', 'scores', 'alerts'] as const

/** Validates and saves every definition of a parsed apply document. */
export async function applyDefinitions(
  store: Store,
  document: unknown,
  source: string,
): Promise<ApplySummary> {
  const issues: ListIssue[] = []
  const warnings: ListIssue[] = []
  if (
    document === null ||
    typeof document !== 'object' ||
    Array.isArray(document)
  ) {
    throw new ListError(source, [
      {
        code: 'LIST_DEFINITION_INVALID',
        path: '',
        message: `a definitions file has top-level ${sections.join(', ')}`,
      },
    ])
  }
  const doc = document as Record<string, unknown>
  for (const key of Object.keys(doc)) {
    if (!(sections as readonly string[]).includes(key)) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path: key,
        message: `unknown section; expected ${sections.join(', ')}`,
      })
    }
  }
  if (doc.alerts !== undefined) {
    // TODO(the alerts issue): alerts as code.
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path: 'alerts',
      message: 'alerts are not supported by this version yet',
    })
  }

  const metrics = namedItems(doc.metrics, 'metrics', issues)
  const lists = namedItems(doc.lists, 'lists', issues)
  const scores = namedItems(doc.scores, 'scores', issues)

  const metricsByName = new Map<string, MetricSpec>()
  for (const saved of await listDefinitions(store, 'metric')) {
    metricsByName.set(saved.name, saved.definition as MetricSpec)
  }
  for (const { name, item, path } of metrics) {
    const { name: _name, ...spec } = item
    validateMetricSpec(spec, path, issues)
    metricsByName.set(name, spec as MetricSpec)
  }
  // fromEntries makes own properties, even of a name like __proto__.
  const namedMetrics = Object.fromEntries(metricsByName)

  const validScores: ScoreDefinition[] = []
  const savedScores = await readSavedScores(store)
  // Scores see the saved ones and those earlier in this file.
  const scoreOptions = {
    ...(await compileOptionsForStore(store, { namedMetrics })),
    resolveScoreField: scoreFieldResolver(savedScores),
  }
  for (const { item, path } of scores) {
    const { definition, issues: shapeIssues } = validateScoreDefinition(item)
    issues.push(...atPath(path, shapeIssues))
    if (definition === undefined) continue

    try {
      compileScore(definition, scoreOptions)
      validScores.push(definition)
      Object.defineProperty(savedScores, definition.name, {
        value: definition,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    } catch (error) {
      if (!(error instanceof ListError)) throw error
      issues.push(...atPath(path, error.issues))
    }
  }

  const validLists: { name: string; definition: ListDefinition }[] = []
  for (const { name, item, path } of lists) {
    const { definition, issues: shapeIssues } = validateListDefinition(item)
    issues.push(...atPath(path, shapeIssues))
    if (definition === undefined) continue

    try {
      const compiled = compileList(definition, {
        ...scoreOptions,
        me: 'someone@example.com',
      })
      warnings.push(...atPath(path, compiled.warnings))
      validLists.push({ name, definition })
    } catch (error) {
      if (!(error instanceof ListError)) throw error
      issues.push(...atPath(path, error.issues))
    }
  }

  if (issues.length > 0) throw new ListError(source, issues)

  const summary: ApplySummary = { created: [], updated: [], warnings }
  await store.transaction(async () => {
    for (const { name, item } of metrics) {
      const { name: _name, ...spec } = item
      const { created } = await saveDefinition(store, 'metric', name, spec)
      ;(created ? summary.created : summary.updated).push(`metric ${name}`)
    }
    for (const score of validScores) {
      const { created } = await saveDefinition(
        store,
        'score',
        score.name,
        score as unknown as Record<string, unknown>,
      )
      ;(created ? summary.created : summary.updated).push(`score ${score.name}`)
    }
    for (const { name, definition } of validLists) {
      const { created } = await saveDefinition(
        store,
        'list',
        name,
        definition as unknown as Record<string, unknown>,
      )
      ;(created ? summary.created : summary.updated).push(`list ${name}`)
    }
  })

  return summary
}

/** Reads and applies a YAML or JSON definitions file. */
export async function applyDefinitionsFile(
  store: Store,
  path: string,
): Promise<ApplySummary> {
  let document: unknown
  try {
    document = parseYaml(await readFile(path, 'utf8'))
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ListError(path, [
      { code: 'LIST_FILE_UNREADABLE', path: '', message: reason },
    ])
  }

  return applyDefinitions(store, document, path)
}

function namedItems(value: unknown, section: string, issues: ListIssue[]) {
  const items: { name: string; item: Record<string, unknown>; path: string }[] =
    []
  if (value === undefined) return items
  if (!Array.isArray(value)) {
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path: section,
      message: `${section} is a sequence of definitions, each with a name`,
    })
    return items
  }

  const seen = new Set<string>()
  value.forEach((item: unknown, index) => {
    const path = `${section}[${index}]`
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path,
        message: 'a definition is an object with a name',
      })
      return
    }
    const name = (item as { name?: unknown }).name
    if (typeof name !== 'string' || name.trim() === '') {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path: `${path}.name`,
        message: 'every definition needs a unique name',
      })
      return
    }
    if (seen.has(name)) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path: `${path}.name`,
        message: `${name} is defined twice in ${section}`,
      })
      return
    }
    seen.add(name)
    items.push({ name, item: item as Record<string, unknown>, path })
  })

  return items
}

// Issues of one definition, located inside the whole file.
function atPath(prefix: string, issues: readonly ListIssue[]): ListIssue[] {
  return issues.map((issue) => ({ ...issue, path: join(prefix, issue.path) }))
}

function join(prefix: string, path: string): string {
  return path === '' ? prefix : `${prefix}.${path}`
}
