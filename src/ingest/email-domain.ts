/**
 * Domains as accounts know them: the registrable domain (public suffix list,
 * via tldts) of an email or a website, never a free-mail provider's.
 */
import { getDomain } from 'tldts'

// Providers whose addresses say nothing about an employer. Matched on the
// registrable domain, so regional variants (yahoo.co.uk) are covered when listed.
const freeMailDomains = new Set([
  'gmail.com',
  'googlemail.com',
  'googlemail.co.uk',
  'outlook.fr',
  'outlook.de',
  'hotmail.co.jp',
  'yahoo.es',
  'yahoo.it',
  'yahoo.ca',
  'yahoo.com.au',
  'yahoo.in',
  'aol.co.uk',
  'btinternet.com',
  'sky.com',
  't-online.de',
  'seznam.cz',
  'wp.pl',
  'o2.pl',
  'interia.pl',
  'bk.ru',
  'list.ru',
  'inbox.ru',
  'ukr.net',
  'daum.net',
  'hanmail.net',
  'sina.com',
  'foxmail.com',
  'uol.com.br',
  'bol.com.br',
  'terra.com.br',
  'outlook.com',
  'hotmail.com',
  'hotmail.co.uk',
  'hotmail.fr',
  'hotmail.de',
  'hotmail.it',
  'hotmail.es',
  'live.com',
  'live.co.uk',
  'live.fr',
  'msn.com',
  'yahoo.com',
  'yahoo.co.uk',
  'yahoo.fr',
  'yahoo.de',
  'yahoo.co.jp',
  'yahoo.com.br',
  'ymail.com',
  'aol.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'proton.me',
  'protonmail.com',
  'pm.me',
  'gmx.com',
  'gmx.de',
  'gmx.net',
  'web.de',
  'mail.com',
  'mail.ru',
  'yandex.ru',
  'yandex.com',
  'qq.com',
  '163.com',
  '126.com',
  'zoho.com',
  'fastmail.com',
  'hey.com',
  'tutanota.com',
  'orange.fr',
  'free.fr',
  'laposte.net',
  'libero.it',
  'naver.com',
  'rediffmail.com',
  'comcast.net',
  'verizon.net',
  'att.net',
])

/**
 * The registrable domain of a host name or URL, lower-cased.
 * @example registrableDomain('https://www.Acme.co.uk/about') // 'acme.co.uk'
 */
export function registrableDomain(hostOrUrl: string): string | null {
  const text = hostOrUrl.trim().toLowerCase()
  if (text === '') return null

  return getDomain(text) ?? null
}

/** Whether a registrable domain belongs to a free-mail provider. */
export function isFreeMailDomain(domain: string): boolean {
  return freeMailDomains.has(domain.toLowerCase())
}

/**
 * The account domain an email points to, or null for free mail and junk.
 * @example accountDomainOfEmail('ann@email.acme-corp.example') // 'acme-corp.example'
 * @example accountDomainOfEmail('cy@gmail.com') // null
 */
export function accountDomainOfEmail(email: string): string | null {
  const at = email.lastIndexOf('@')
  if (at < 1) return null

  const domain = registrableDomain(email.slice(at + 1))
  if (domain === null || isFreeMailDomain(domain)) return null

  return domain
}
