/**
 * Identity resolution for one batch, in message order: anonymous ids and
 * aliases linked to users. Pure: it reads what the store already knows and
 * returns the links to add and the alias merges it refused.
 */
import type { NormalizedMessage } from './normalize-message.js'

export interface IdentityLink {
  aliasId: string
  userId: string
  linkedAt: Date
  via: 'identify' | 'alias'
}

export interface KnownIdentities {
  /** alias or anonymous id -> user id, as stored. */
  links: Map<string, string>
  /** ids of users known to be identified (not anonymous). */
  identifiedUsers: Set<string>
}

export interface IdentityResolution {
  newLinks: IdentityLink[]
  refusedAliases: { messageId: string; previousId: string; userId: string }[]
  /** The person a message belongs to, after every link in the batch. */
  personOf(message: NormalizedMessage): string
  isIdentified(personId: string): boolean
}

const maxLinkHops = 16

/** Resolves the persons behind a batch of messages. */
export function resolveIdentity(
  messages: readonly NormalizedMessage[],
  known: KnownIdentities,
): IdentityResolution {
  const links = new Map(known.links)
  const identified = new Set(known.identifiedUsers)
  const newLinks: IdentityLink[] = []
  const refusedAliases: IdentityResolution['refusedAliases'] = []

  const canonical = (id: string): string => {
    let current = id
    for (let hop = 0; hop < maxLinkHops; hop++) {
      const next = links.get(current)
      if (next === undefined || next === current) return current
      current = next
    }

    return current
  }

  const link = (
    aliasId: string,
    userId: string,
    at: Date,
    via: IdentityLink['via'],
  ) => {
    links.set(aliasId, userId)
    newLinks.push({ aliasId, userId, linkedAt: at, via })
  }

  for (const message of messages) {
    if (message.userId !== null && message.type !== 'alias') {
      identified.add(canonical(message.userId))
    }

    if (
      message.type === 'identify' &&
      message.userId !== null &&
      message.anonymousId !== null
    ) {
      const user = canonical(message.userId)
      const visitor = canonical(message.anonymousId)
      // A visitor already merged into a user stays with that user.
      if (visitor !== user && !identified.has(visitor)) {
        link(visitor, user, message.timestamp, 'identify')
      }
    }

    if (
      message.type === 'alias' &&
      message.userId !== null &&
      message.previousId !== null
    ) {
      const target = canonical(message.userId)
      const previous = canonical(message.previousId)
      if (previous === target) continue

      if (identified.has(previous) && identified.has(target)) {
        refusedAliases.push({
          messageId: message.messageId,
          previousId: message.previousId,
          userId: message.userId,
        })
        continue
      }

      link(previous, target, message.timestamp, 'alias')
      identified.add(target)
    }
  }

  // A link made early in the batch may point at someone linked later
  // (anon -> u1, then u1 -> u2): every link ends at its final person.
  const finalLinks = newLinks
    .map((link) => ({ ...link, userId: canonical(link.userId) }))
    .filter((link) => link.aliasId !== link.userId)

  return {
    newLinks: finalLinks,
    refusedAliases,
    personOf(message) {
      const id = message.userId ?? message.anonymousId ?? message.previousId
      return canonical(id ?? '')
    },
    isIdentified(personId) {
      return identified.has(personId)
    },
  }
}
