import { userInfo } from 'node:os'

import { describe, expect, it } from 'vitest'

import { parsePostgresLocation } from './postgres-location.js'

describe('parsePostgresLocation', () => {
  it('takes the schema from ?schema= and keeps it out of the connection string', () => {
    const location = parsePostgresLocation(
      'postgres://ann@db.example:6543/crm?schema=leadlens_prod&sslmode=require',
    )
    expect(location.schema).toBe('leadlens_prod')
    expect(location.server).toBe('db.example:6543')
    expect(location.connectionString).toBe(
      'postgres://ann@db.example:6543/crm?sslmode=require',
    )
  })

  it('lives in public without ?schema=, and connects as the OS user without a user name', () => {
    const location = parsePostgresLocation('postgres://127.0.0.1/test')
    expect(location.schema).toBe('public')
    expect(location.server).toBe('127.0.0.1:5432')
    expect(new URL(location.connectionString).username).toBe(
      process.env.PGUSER || userInfo().username,
    )
  })

  it('never shows the password', () => {
    const location = parsePostgresLocation(
      'postgresql://ann:s3cret@127.0.0.1:5432/test?schema=a',
    )
    expect(location.redacted).toBe(
      'postgresql://ann:***@127.0.0.1:5432/test?schema=a',
    )
    expect(location.connectionString).toContain('s3cret')
  })

  it('refuses a schema that is not a plain lower-case name, naming it', () => {
    for (const schema of ['Leadlens', 'a-b', '1abc', 'x'.repeat(64), '']) {
      expect(() =>
        parsePostgresLocation(`postgres://127.0.0.1/test?schema=${schema}`),
      ).toThrow(
        expect.objectContaining({
          code: 'STORE_URL_INVALID',
          message: expect.stringContaining(JSON.stringify(schema)),
        }),
      )
    }
  })

  it('refuses a URL that does not parse, without its password', () => {
    let thrown: unknown
    try {
      parsePostgresLocation('postgres://ann:s3cret@[::1/test')
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({ code: 'STORE_URL_INVALID' })
    expect(String((thrown as Error).message)).not.toContain('s3cret')
    expect((thrown as { userMessage: string }).userMessage).toMatch(
      /^Invalid --db URL/,
    )
  })
})
