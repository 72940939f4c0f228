/**
 * Lists over HTTP: saved lists (create, read, update, delete), a preview of
 * an unsaved definition, rows page by page, and a streamed CSV export.
 * `$me` is the signed-in person.
 */
import { Readable } from 'node:stream'

import { stringify } from 'csv-stringify/sync'

import {
  deleteDefinition,
  listDefinitions,
  readDefinition,
  saveDefinition,
  toDefinitionView,
} from '../catalog/definitions.js'
import { compileList } from '../lists/compile-list.js'
import { ListError } from '../lists/list-error.js'
import { toCsvCell } from '../lists/to-csv-cell.js'
import { forgetListMembership } from '../lists/list-membership.js'
import { parseListDefinition } from '../lists/read-list-definition.js'
import {
  compileListForStore,
  compileOptionsForStore,
  runList,
} from '../lists/run-list.js'
import { runAndRecord } from '../lists/saved-lists.js'
import { requireEditor, viewerScope } from './permissions.js'
import { readInstant, readJson } from './read-request.js'

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ListDefinition } from '../lists/list-definition.js'
import type { Store } from '../store/store.js'

const previewRows = 20
const defaultPageSize = 100
const maxPageSize = 1000

interface Cursor {
  asOf: string
  offset: number
}

export function registerListRoutes(app: FastifyInstance, store: Store): void {
  app.get('/api/lists', async function getLists() {
    const saved = await listDefinitions(store, 'list')
    return { lists: saved.map(toDefinitionView) }
  })

  app.get('/api/lists/:name', async function getList(request, reply) {
    const { name } = request.params as { name: string }
    const saved = await readDefinition(store, 'list', name)
    if (saved === undefined) return notFound(reply, name)

    return toDefinitionView(saved)
  })

  app.post('/api/lists', async function createList(request, reply) {
    if (!requireEditor(request, reply)) return reply
    const body = readJson(request)
    const name = (body as { name?: unknown } | undefined)?.name
    if (
      typeof name === 'string' &&
      (await readDefinition(store, 'list', name)) !== undefined
    ) {
      return reply.code(409).send({
        code: 'LIST_EXISTS',
        message: `a list named ${name} exists; PUT /api/lists/${encodeURIComponent(name)} to change it`,
      })
    }
    return saveList(request, reply, body, undefined)
  })

  app.put('/api/lists/:name', async function updateList(request, reply) {
    if (!requireEditor(request, reply)) return reply
    const { name } = request.params as { name: string }
    return saveList(request, reply, readJson(request), name)
  })

  app.delete('/api/lists/:name', async function removeList(request, reply) {
    if (!requireEditor(request, reply)) return reply
    const { name } = request.params as { name: string }
    if (!(await deleteDefinition(store, 'list', name)))
      return notFound(reply, name)
    await forgetListMembership(store, name)

    return reply.code(204).send()
  })

  app.post('/api/lists/preview', async function previewList(request, reply) {
    const body = readJson(request) as
      { definition?: unknown; asOf?: string; limit?: number } | undefined
    // A preview needs no name: it is not saved.
    const raw = (body?.definition ?? body ?? {}) as Record<string, unknown>
    const definition = parseListDefinition(
      { name: 'preview', ...raw },
      'definition',
    )
    const asOf = readInstant(body?.asOf)
    const result = await runList(store, definition, {
      asOf,
      limit: readPageSize(body?.limit, previewRows),
      ...viewerScope(request),
    })

    return reply.send({
      count: result.total,
      columns: result.columns,
      rows: result.rows,
      warnings: result.warnings,
    })
  })

  app.get('/api/lists/:name/rows', async function listRows(request, reply) {
    const { name } = request.params as { name: string }
    const query = request.query as {
      asOf?: string
      limit?: string
      cursor?: string
    }
    const saved = await readDefinition(store, 'list', name)
    if (saved === undefined) return notFound(reply, name)

    const definition = parseListDefinition(saved.definition, name)
    const cursor =
      query.cursor === undefined ? undefined : readCursor(query.cursor)
    const asOf =
      cursor === undefined ? readInstant(query.asOf) : new Date(cursor.asOf)
    const pageSize = readPageSize(query.limit, defaultPageSize)
    const offset = cursor?.offset ?? 0
    const options = { asOf, limit: pageSize, offset, ...viewerScope(request) }

    // The first page is an evaluation: it records who entered and left.
    const result =
      offset === 0
        ? await runAndRecord(store, { definition, savedName: name }, options)
        : await runList(store, definition, options)
    const next = offset + result.rows.length
    const nextCursor =
      next < Math.min(result.total, definition.limit ?? Infinity)
        ? Buffer.from(
            JSON.stringify({ asOf: asOf.toISOString(), offset: next }),
          ).toString('base64url')
        : null

    return {
      columns: result.columns,
      rows: result.rows,
      total: result.total,
      nextCursor,
      asOf: asOf.toISOString(),
    }
  })

  app.get(
    '/api/lists/:name/export.csv',
    async function exportList(request, reply) {
      const { name } = request.params as { name: string }
      const query = request.query as { asOf?: string }
      const saved = await readDefinition(store, 'list', name)
      if (saved === undefined) return notFound(reply, name)

      const definition = parseListDefinition(saved.definition, name)
      const compiled = compileList(definition, {
        ...(await compileOptionsForStore(store, {
          asOf: readInstant(query.asOf),
          ...viewerScope(request),
        })),
        withoutTotal: true,
      })
      const chunks = async function* csvChunks() {
        yield stringify([compiled.columns])
        for await (const rows of store.stream(compiled.sql, compiled.params)) {
          yield stringify(
            rows.map((row) =>
              compiled.columns.map((column) => toCsvCell(row[column])),
            ),
          )
        }
      }
      request.log.info({ list: name }, 'export started')

      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.csv"`,
        )
        .send(Readable.from(chunks()))
    },
  )

  async function saveList(
    request: FastifyRequest,
    reply: FastifyReply,
    body: unknown,
    pathName: string | undefined,
  ) {
    const raw = {
      ...(body as Record<string, unknown>),
      ...(pathName === undefined ? {} : { name: pathName }),
    }
    const definition: ListDefinition = parseListDefinition(raw, 'definition')
    // Compiling checks every field and metric against the catalog.
    const compiled = await compileListForStore(store, definition, {
      me: request.person?.email ?? 'someone@example.com',
    })
    const { created } = await saveDefinition(
      store,
      'list',
      definition.name,
      definition as unknown as Record<string, unknown>,
    )

    return reply
      .code(created ? 201 : 200)
      .send({ name: definition.name, definition, warnings: compiled.warnings })
  }
}

/** Maps list errors to 400 with every issue. */
export function sendListError(error: ListError, reply: FastifyReply) {
  const notFound = error.issues.some((issue) => issue.code === 'LIST_NOT_FOUND')
  return reply.code(notFound ? 404 : 400).send({
    code: 'LIST_INVALID',
    message: error.message,
    issues: error.issues,
  })
}

function notFound(reply: FastifyReply, name: string) {
  return reply
    .code(404)
    .send({ code: 'LIST_NOT_FOUND', message: `no saved list named ${name}` })
}

// A page is 1 to 1,000 rows; anything else is the caller's mistake.
function readPageSize(value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  const size = Number(value)
  if (!Number.isInteger(size) || size < 1 || size > maxPageSize) {
    throw new ListError('request', [
      {
        code: 'LIST_VALUE_INVALID',
        path: 'limit',
        message: `limit is a whole number from 1 to ${maxPageSize}`,
      },
    ])
  }
  return size
}

function readCursor(text: string): Cursor {
  try {
    const cursor = JSON.parse(
      Buffer.from(text, 'base64url').toString('utf8'),
    ) as Cursor
    if (
      typeof cursor.asOf === 'string' &&
      /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(cursor.asOf) &&
      !Number.isNaN(Date.parse(cursor.asOf)) &&
      Number.isSafeInteger(cursor.offset) &&
      cursor.offset >= 0
    )
      return cursor
  } catch {
    // Falls through to the error below.
  }
  throw new ListError('request', [
    {
      code: 'LIST_VALUE_INVALID',
      path: 'cursor',
      message: 'not a cursor this API gave out',
    },
  ])
}
