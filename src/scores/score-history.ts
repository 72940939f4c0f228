/**
 * Score history: each recomputation is compared with the scores recorded
 * before it; every change of level or quadrant is written with its time
 * and cause (run, ingest, import, definition, schedule). A recomputation
 * older than the last one recorded changes nothing.
 */
import { runScore } from './run-score.js'

import type { Store } from '../store/store.js'
import type { ScoreDefinition } from './score-definition.js'

export type ScoreChangeCause =
  'run' | 'ingest' | 'import' | 'definition' | 'schedule'

export interface ScoreChange {
  entityId: string
  fromQuadrant: string | null
  toQuadrant: string
  fromFitLevel: string | null
  toFitLevel: string
  fromUsageLevel: string | null
  toUsageLevel: string
  total: number
  at: string
  cause: ScoreChangeCause
}

/** Recomputes a score at `asOf` and records what changed. */
export async function recordScores(
  store: Store,
  score: ScoreDefinition,
  asOf: Date,
  cause: ScoreChangeCause,
): Promise<{ changes: number; recorded: boolean }> {
  const last = await store.query<{ at: string | null }>(
    'SELECT max(computed_at) AS at FROM score_current WHERE score_name = $1',
    [score.name],
  )
  const lastAt = last[0]?.at
  if (lastAt !== null && lastAt !== undefined && asOf < new Date(lastAt)) {
    return { changes: 0, recorded: false }
  }

  const rows = await runScore(store, score, { asOf })

  return store.transaction(async () => {
    await store.stage(
      'staged_scores',
      {
        entity_id: 'VARCHAR',
        fit: store.sql.types.double,
        usage: store.sql.types.double,
        total: store.sql.types.double,
        fit_level: 'VARCHAR',
        usage_level: 'VARCHAR',
        quadrant: 'VARCHAR',
      },
      rows.map((r) => [
        r.id,
        r.fit,
        r.usage,
        r.total,
        r.fit_level,
        r.usage_level,
        r.quadrant,
      ]),
    )
    const changed = await store.query(
      `INSERT INTO score_changes
       SELECT $1, s.entity_id, c.quadrant, s.quadrant, c.fit_level, s.fit_level,
         c.usage_level, s.usage_level, s.total, $2, $3
       FROM ${store.sql.staged('staged_scores')} s
       LEFT JOIN score_current c ON c.score_name = $1 AND c.entity_id = s.entity_id
       WHERE c.entity_id IS NULL OR c.quadrant <> s.quadrant
         OR c.fit_level <> s.fit_level OR c.usage_level <> s.usage_level
       RETURNING entity_id`,
      [score.name, asOf, cause],
    )
    await store.execute('DELETE FROM score_current WHERE score_name = $1', [
      score.name,
    ])
    await store.execute(
      `INSERT INTO score_current SELECT $1, s.*, $2 FROM ${store.sql.staged('staged_scores')} s`,
      [score.name, asOf],
    )

    return { changes: changed.length, recorded: true }
  })
}

/** Changes of a score (optionally for one entity) since an instant, oldest first. */
export async function readScoreChanges(
  store: Store,
  scoreName: string,
  options: { since?: Date; entityId?: string } = {},
): Promise<ScoreChange[]> {
  const params: (string | Date)[] = [scoreName, options.since ?? new Date(0)]
  const entityFilter =
    options.entityId === undefined
      ? ''
      : ` AND entity_id = $${params.push(options.entityId)}`
  const rows = await store.query<Record<string, unknown>>(
    `SELECT * FROM score_changes WHERE score_name = $1 AND changed_at >= $2${entityFilter}
     ORDER BY changed_at, entity_id`,
    params,
  )

  return rows.map((row) => ({
    entityId: String(row.entity_id),
    fromQuadrant: (row.from_quadrant as string | null) ?? null,
    toQuadrant: String(row.to_quadrant),
    fromFitLevel: (row.from_fit_level as string | null) ?? null,
    toFitLevel: String(row.to_fit_level),
    fromUsageLevel: (row.from_usage_level as string | null) ?? null,
    toUsageLevel: String(row.to_usage_level),
    total: Number(row.total),
    at: String(row.changed_at),
    cause: row.cause as ScoreChangeCause,
  }))
}
