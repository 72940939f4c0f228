/**
 * `leadlens score run|explain|changes|backtest|suggest`: scores at any
 * asOf, why an entity has its points, how scores changed, and whether they
 * predict real outcomes.
 */
import { parseDuration } from '../lists/time-window.js'
import { backtestScore } from '../scores/backtest-score.js'
import { explainScore, runScore } from '../scores/run-score.js'
import { loadOutcome, loadScore } from '../scores/saved-scores.js'
import { readScoreChanges, recordScores } from '../scores/score-history.js'
import { suggestScore } from '../scores/suggest-score.js'
import { CliUserError } from './cli-error.js'
import { formatRows } from './format-rows.js'
import { parseAsOf, parseFormat } from './parse-options.js'

import type { Command } from 'commander'
import type { BacktestResult, GroupResult } from '../scores/backtest-score.js'
import type { CliContext } from './cli-context.js'

const percent = (value: number) => `${(value * 100).toFixed(1)}%`

export function registerScoreCommands(program: Command, context: CliContext) {
  const score = program
    .command('score')
    .description('scores: fit x usage, explanations, backtests')

  score
    .command('run')
    .description(
      "every entity's score at --as-of (a saved score also records its history)",
    )
    .argument('<score>', 'a saved score name or a definition file')
    .option('--as-of <iso>', 'evaluate at this instant (default now)')
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--limit <n>', 'at most this many rows')
    .action(async function runScoreCommand(
      name: string,
      options: { asOf?: string; format: string; limit?: string },
    ) {
      const format = parseFormat(options.format)
      const asOf = parseAsOf(options.asOf) ?? new Date()
      const store = await context.openStore({ mustExist: true })
      const { score: definition, isSaved } = await loadScore(store, name)
      const rows = await runScore(store, definition, { asOf })
      if (isSaved) {
        const recorded = await recordScores(store, definition, asOf, 'run')
        if (recorded.recorded)
          context.err(
            `${definition.name}: ${recorded.changes} change(s) of level or quadrant recorded`,
          )
      }

      const limit =
        options.limit === undefined ? rows.length : Number(options.limit)
      const columns = [
        'id',
        'fit',
        'usage',
        'total',
        'fit_level',
        'usage_level',
        'quadrant',
      ]
      context.out(
        formatRows(
          {
            columns,
            rows: rows.slice(0, limit).map((row) => ({ ...row })),
            total: rows.length,
            ids: [],
            warnings: [],
          },
          format,
        ),
      )
    })

  score
    .command('explain')
    .description(
      'why one user or account has its score: every criterion, its points and the value it saw',
    )
    .argument('<score>')
    .argument('<entity>', 'a user id or account id')
    .option('--as-of <iso>', 'evaluate at this instant (default now)')
    .option('--format <format>', 'table or json', 'table')
    .action(async function explainCommand(
      name: string,
      entity: string,
      options: { asOf?: string; format: string },
    ) {
      const asOf = parseAsOf(options.asOf)
      const store = await context.openStore({ mustExist: true })
      const { score: definition } = await loadScore(store, name)
      const explanation = await explainScore(
        store,
        definition,
        entity,
        asOf === undefined ? {} : { asOf },
      )
      if (explanation === undefined)
        throw new CliUserError(
          `${entity} is not a${definition.of === 'users' ? ' user' : 'n account'} that exists at ${(asOf ?? new Date()).toISOString()}`,
        )

      if (options.format === 'json') {
        context.out(JSON.stringify(explanation, null, 2))
        return
      }
      // Decayed signals make fractions: two decimals are enough to read.
      const show = (points: number) => String(Math.round(points * 100) / 100)
      context.out(
        `${definition.name} for ${entity} as of ${explanation.asOf}: ${explanation.quadrant}`,
      )
      for (const axis of ['fit', 'usage'] as const) {
        context.out(
          `${axis} ${show(explanation[axis])} (${explanation[`${axis}_level`]})`,
        )
        for (const line of explanation.lines.filter((l) => l.axis === axis)) {
          const points =
            line.points >= 0 ? `+${show(line.points)}` : show(line.points)
          context.out(
            `  ${line.matched ? 'yes' : 'no '}  ${line.label}${line.value === null ? '' : ` [${line.value}]`}: ${points}`,
          )
        }
        for (const adjustment of explanation.adjustments.filter(
          (a) => a.axis === axis,
        )) {
          context.out(
            `  ${adjustment.reason}: ${adjustment.points >= 0 ? '+' : ''}${adjustment.points}`,
          )
        }
      }
      context.out(`total ${show(explanation.total)}`)
    })

  score
    .command('changes')
    .description('changes of level or quadrant, with their time and cause')
    .argument('<score>', 'a saved score')
    .option(
      '--since <iso>',
      'changes at or after this instant',
      '1970-01-01T00:00:00Z',
    )
    .option('--entity <id>', 'only this user or account')
    .option('--format <format>', 'table or json', 'table')
    .action(async function changesCommand(
      name: string,
      options: { since: string; entity?: string; format: string },
    ) {
      const changes = await readScoreChanges(
        await context.openStore({ mustExist: true }),
        name,
        {
          since: parseAsOf(options.since, '--since') ?? new Date(0),
          ...(options.entity === undefined ? {} : { entityId: options.entity }),
        },
      )
      if (options.format === 'json') {
        context.out(JSON.stringify({ changes }, null, 2))
        return
      }
      for (const change of changes) {
        context.out(
          `${change.at}  ${change.entityId}  ${change.fromQuadrant ?? '(new)'} -> ${change.toQuadrant}  fit ${change.toFitLevel}, usage ${change.toUsageLevel}  (${change.cause})`,
        )
      }
    })

  score
    .command('backtest')
    .description(
      'evaluate at --as-of from data before it; measure against an outcome in the horizon after it',
    )
    .argument('<score>')
    .requiredOption(
      '--outcome <outcome>',
      'deal_won, or an outcome definition file',
    )
    .option(
      '--as-of <iso>',
      'when the score is evaluated (default: one horizon ago, so every outcome is known)',
    )
    .option('--horizon <duration>', 'how long after asOf outcomes count', '90d')
    .option('--format <format>', 'table or json', 'table')
    .action(async function backtestCommand(
      name: string,
      options: {
        outcome: string
        asOf?: string
        horizon: string
        format: string
      },
    ) {
      const asOf = parseAsOf(options.asOf) ?? oneHorizonAgo(options.horizon)
      const store = await context.openStore({ mustExist: true })
      const { score: definition } = await loadScore(store, name)
      const result = await backtestScore(
        store,
        definition,
        await loadOutcome(options.outcome),
        { asOf, horizon: options.horizon },
      )
      context.out(
        options.format === 'json'
          ? JSON.stringify(result, null, 2)
          : describeBacktest(result),
      )
    })

  score
    .command('suggest')
    .description(
      "learn points for the score's criteria from outcomes (L2 logistic regression) and backtest both",
    )
    .argument('<score>')
    .requiredOption(
      '--outcome <outcome>',
      'deal_won, or an outcome definition file',
    )
    .option(
      '--as-of <iso>',
      'when both scores are backtested (default: one horizon ago)',
    )
    .option(
      '--train-as-of <iso>',
      'when the model learns (default --as-of: in-sample)',
    )
    .option('--horizon <duration>', 'how long after asOf outcomes count', '90d')
    .option('--lambda <n>', 'L2 strength', '1')
    .option('--format <format>', 'table or json', 'table')
    .action(async function suggestCommand(
      name: string,
      options: {
        outcome: string
        asOf?: string
        trainAsOf?: string
        horizon: string
        lambda: string
        format: string
      },
    ) {
      const asOf = parseAsOf(options.asOf) ?? oneHorizonAgo(options.horizon)
      const trainAsOf = parseAsOf(options.trainAsOf, '--train-as-of')
      const lambda = Number(options.lambda)
      if (!Number.isFinite(lambda) || lambda < 0) {
        throw new CliUserError(
          `--lambda must be a number of at least 0, not ${options.lambda}`,
        )
      }
      const store = await context.openStore({ mustExist: true })
      const { score: definition } = await loadScore(store, name)
      const suggestion = await suggestScore(
        store,
        definition,
        await loadOutcome(options.outcome),
        {
          asOf,
          horizon: options.horizon,
          lambda,
          ...(trainAsOf === undefined ? {} : { trainAsOf }),
        },
      )
      if (options.format === 'json') {
        context.out(JSON.stringify(suggestion, null, 2))
        return
      }
      context.out(
        `trained as of ${suggestion.trainedAsOf}${suggestion.isInSample ? ' (in-sample: pass --train-as-of an earlier instant for an honest comparison)' : ''}`,
      )
      for (const criterion of suggestion.criteria) {
        context.out(
          `  ${criterion.axis.padEnd(5)} ${String(criterion.currentPoints).padStart(5)} -> ${String(criterion.suggestedPoints).padStart(5)}  (coef ${criterion.coefficient.toFixed(3)})  ${criterion.label}`,
        )
      }
      context.out(
        `\ncurrent:\n${describeBacktest(suggestion.current)}\n\nsuggested:\n${describeBacktest(suggestion.suggestedBacktest)}`,
      )
    })
}

function describeBacktest(result: BacktestResult): string {
  const group = (g: GroupResult) =>
    `  ${g.group.padEnd(11)} ${String(g.entities).padStart(6)} entities ${String(g.converted).padStart(5)} converted  ${percent(g.rate).padStart(6)}  lift ${g.lift === null ? '-' : g.lift.toFixed(2)}`

  return [
    `${result.score} vs ${result.outcome}, as of ${result.asOf}, horizon to ${result.horizonEnd}`,
    `entities ${result.entities}, converted ${result.converted} (${percent(result.rate)}), AUC ${result.auc === null ? 'n/a (one class only)' : result.auc.toFixed(3)}`,
    'by quadrant',
    ...result.byQuadrant.map(group),
    'by fit level',
    ...result.byFitLevel.map(group),
    'by usage level',
    ...result.byUsageLevel.map(group),
  ].join('\n')
}

// Without --as-of a backtest looks back one horizon: every outcome is known.
function oneHorizonAgo(horizon: string): Date {
  const ms = parseDuration(horizon)
  if (ms === undefined)
    throw new CliUserError(
      `--horizon must be a duration such as 90d, not ${horizon}`,
    )

  return new Date(Date.now() - ms)
}
