/** The OpenAPI 3.1 description of the HTTP API, served at /api/openapi.json. */
const bearer = [{ bearer: [] }]
const writeKey = [{ writeKey: [] }]
const listName = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string' },
}
const asOf = {
  name: 'asOf',
  in: 'query',
  schema: { type: 'string', format: 'date-time' },
}
const ok = (description: string) => ({ 200: { description } })

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Leadlens',
    version: '0.1.0',
    description: 'Ingestion (Segment tracking API) and the app API.',
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'a token from leadlens people add',
      },
      writeKey: {
        type: 'http',
        scheme: 'basic',
        description: 'the write key as user name, empty password',
      },
    },
  },
  paths: {
    ...Object.fromEntries(
      ['track', 'identify', 'group', 'page', 'screen', 'alias', 'batch'].map(
        (type) => [
          `/v1/${type}`,
          {
            post: {
              summary:
                type === 'batch'
                  ? 'Messages in a batch'
                  : `One ${type} message`,
              security: writeKey,
              responses: {
                200: {
                  description:
                    '{ success, accepted, rejected: [] } once the accepted messages are committed to the ingestion inbox; lists see them once applied (GET /health: ingestBacklog)',
                },
                400: {
                  description:
                    'some messages rejected: { rejected: [{ index, code, path, message }] }; the rest accepted',
                },
                401: { description: 'unknown or revoked write key' },
                413: { description: 'body over 500 KB' },
                503: {
                  description:
                    'INGEST_BACKLOG_FULL: too many accepted messages wait to be applied; retry after Retry-After seconds',
                },
              },
            },
          },
        ],
      ),
    ),
    '/api/stats': {
      get: {
        summary: 'Counts of what the store holds',
        security: bearer,
        responses: ok('counts'),
      },
    },
    '/api/lists': {
      get: {
        summary: 'Saved lists',
        security: bearer,
        responses: ok('{ lists }'),
      },
      post: {
        summary: 'Save a new list',
        security: bearer,
        responses: {
          201: { description: 'created' },
          400: { description: 'invalid, with issues' },
          409: { description: 'exists' },
        },
      },
    },
    '/api/lists/preview': {
      post: {
        summary: 'Count and first rows of an unsaved definition',
        security: bearer,
        responses: ok('{ count, columns, rows }'),
      },
    },
    '/api/lists/{name}': {
      get: {
        summary: 'A saved list',
        security: bearer,
        parameters: [listName],
        responses: ok('{ name, definition }'),
      },
      put: {
        summary: 'Create or update a list',
        security: bearer,
        parameters: [listName],
        responses: {
          200: { description: 'updated' },
          201: { description: 'created' },
        },
      },
      delete: {
        summary: 'Delete a list and its history',
        security: bearer,
        parameters: [listName],
        responses: { 204: { description: 'deleted' } },
      },
    },
    '/api/lists/{name}/rows': {
      get: {
        summary: 'Rows, a page at a time; the cursor pins asOf',
        security: bearer,
        parameters: [
          listName,
          asOf,
          { name: 'limit', in: 'query', schema: { type: 'integer' } },
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
        ],
        responses: ok('{ columns, rows, total, nextCursor }'),
      },
    },
    '/api/scores': {
      get: {
        summary: 'Saved scores',
        security: bearer,
        responses: ok('{ scores }'),
      },
    },
    '/api/scores/{name}': {
      get: {
        summary: 'A saved score',
        security: bearer,
        parameters: [listName],
        responses: ok('{ name, definition }'),
      },
      put: {
        summary: 'Create or update a score (recomputed soon after)',
        security: bearer,
        parameters: [listName],
        responses: {
          200: { description: 'updated' },
          201: { description: 'created' },
          400: { description: 'invalid, with issues' },
        },
      },
      delete: {
        summary: 'Delete a score',
        security: bearer,
        parameters: [listName],
        responses: { 204: { description: 'deleted' } },
      },
    },
    '/api/scores/{name}/rows': {
      get: {
        summary:
          "Every entity's fit, usage, total, levels and quadrant at asOf",
        security: bearer,
        parameters: [listName, asOf],
        responses: ok('{ asOf, rows }'),
      },
    },
    '/api/scores/{name}/explain/{entity}': {
      get: {
        summary: "One entity's criteria, points and the values they saw",
        security: bearer,
        parameters: [
          listName,
          {
            name: 'entity',
            in: 'path',
            required: true,
            schema: { type: 'string' },
          },
          asOf,
        ],
        responses: ok('explanation'),
      },
    },
    '/api/scores/{name}/changes': {
      get: {
        summary: 'Changes of level or quadrant, with time and cause',
        security: bearer,
        parameters: [listName],
        responses: ok('{ changes }'),
      },
    },
    '/api/scores/{name}/backtest': {
      post: {
        summary: 'Backtest against an outcome: { outcome, asOf, horizon }',
        security: bearer,
        parameters: [listName],
        responses: ok('AUC, rate and lift per quadrant and level'),
      },
    },
    '/api/entities/{kind}/{id}': {
      get: {
        summary:
          'One user or account at asOf: profile, CRM, billing, scores, latest events',
        security: bearer,
        parameters: [
          {
            name: 'kind',
            in: 'path',
            required: true,
            schema: { type: 'string', enum: ['users', 'accounts'] },
          },
          {
            name: 'id',
            in: 'path',
            required: true,
            schema: { type: 'string' },
          },
          asOf,
        ],
        responses: {
          200: { description: 'the entity page' },
          404: { description: 'no such entity at asOf, or not yours' },
        },
      },
    },
    '/api/lists/{name}/export.csv': {
      get: {
        summary: 'Every row as CSV, streamed',
        security: bearer,
        parameters: [listName, asOf],
        responses: ok('text/csv'),
      },
    },
  },
}
