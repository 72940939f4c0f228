/** The Segment message types Leadlens takes. */
export const messageTypes = [
  'identify',
  'track',
  'page',
  'screen',
  'group',
  'alias',
] as const

export type MessageType = (typeof messageTypes)[number]
