/**
 * People who use the app and their API tokens. A token is shown once; the
 * store keeps its SHA-256. Roles: admin, manager, rep.
 */
import { createHash, randomBytes } from 'node:crypto'

import type { Store } from '../store/store.js'

export const roles = ['admin', 'manager', 'rep'] as const
export type Role = (typeof roles)[number]

export interface Person {
  email: string
  role: Role
}

export class PeopleError extends Error {
  readonly code: 'PEOPLE_ROLE_UNKNOWN' | 'PEOPLE_EMAIL_INVALID'

  constructor(code: PeopleError['code'], message: string) {
    super(message)
    this.name = 'PeopleError'
    this.code = code
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Adds (or re-keys) a person; returns their new API token. */
export async function addPerson(
  store: Store,
  email: string,
  role: string,
): Promise<string> {
  const known = roles.find((r) => r === role)
  if (known === undefined) {
    throw new PeopleError(
      'PEOPLE_ROLE_UNKNOWN',
      `role ${role}: use one of ${roles.join(', ')}`,
    )
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
    throw new PeopleError(
      'PEOPLE_EMAIL_INVALID',
      `${email} is not an email address`,
    )
  }

  const token = `llt_${randomBytes(24).toString('base64url')}`
  await store.execute(
    `INSERT INTO people VALUES ($1, $2, $3, $4)
     ON CONFLICT (email) DO UPDATE SET role = excluded.role,
       token_hash = excluded.token_hash`,
    [email.toLowerCase(), known, hashToken(token), new Date()],
  )

  return token
}

/** The person an API token belongs to, if any. */
export async function findPersonByToken(
  store: Store,
  token: string,
): Promise<Person | undefined> {
  const rows = await store.query<{ email: string; role: Role }>(
    'SELECT email, role FROM people WHERE token_hash = $1',
    [hashToken(token)],
  )

  return rows[0]
}
