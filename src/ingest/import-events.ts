/**
 * `leadlens import events`: Segment-spec messages from NDJSON files (gzip
 * understood) through the same pipeline as HTTP ingestion. All files of one
 * import commit together or not at all.
 */
import { IngestFileError } from './ingest-error.js'
import { normalizeMessage } from './normalize-message.js'
import { readLines } from './read-lines.js'
import { writeMessages } from './write-messages.js'

import type { Store } from '../store/store.js'
import type { IngestIssue, IngestWarning } from './ingest-error.js'
import type { NormalizedMessage } from './normalize-message.js'

export interface ImportEventsSummary {
  files: number
  lines: number
  stored: number
  duplicates: number
  rejected: (IngestIssue & { file: string })[]
  warnings: IngestWarning[]
}

export interface ImportEventsOptions {
  sourceId?: string
  chunkSize?: number
  /** After each chunk: the file's own lines read and messages stored so far. */
  onProgress?: (progress: {
    file: string
    lines: number
    stored: number
  }) => void
}

/** Imports every message of `files`; bad lines are reported, the rest stored. */
export async function importEvents(
  store: Store,
  files: readonly string[],
  options: ImportEventsOptions = {},
): Promise<ImportEventsSummary> {
  const sourceId = options.sourceId ?? 'import'
  const chunkSize = options.chunkSize ?? 20_000
  const summary: ImportEventsSummary = {
    files: files.length,
    lines: 0,
    stored: 0,
    duplicates: 0,
    rejected: [],
    warnings: [],
  }

  await store.transaction(async () => {
    for (const file of files) {
      let chunk: NormalizedMessage[] = []
      const read = { lines: 0, stored: 0 }
      const flush = async () => {
        const written = await writeMessages(store, chunk)
        read.stored += written.stored
        summary.stored += written.stored
        summary.duplicates += written.duplicates
        summary.warnings.push(...written.warnings)
        chunk = []
        options.onProgress?.({ file, ...read })
      }

      for await (const { line, text } of readFileLines(file)) {
        if (text.trim() === '') continue
        summary.lines++
        read.lines++

        const result = parseLine(text, sourceId)
        if (result.ok) chunk.push(result.message)
        else {
          for (const issue of result.issues) {
            summary.rejected.push({ ...issue, line, file })
          }
        }

        if (chunk.length >= chunkSize) await flush()
      }
      await flush()
    }
  })

  return summary
}

// Reading errors (missing file, a folder, broken gzip) name the file.
async function* readFileLines(file: string) {
  try {
    yield* readLines(file)
  } catch (error) {
    const code = (error as { code?: string }).code
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a folder, not a file'
          : code === 'ESPIPE'
            ? 'cannot be read twice (pipes are not supported; save it to a file)'
            : error instanceof Error
              ? `cannot be read: ${error.message}`
              : String(error)
    throw new IngestFileError(file, reason)
  }
}

function parseLine(text: string, sourceId: string) {
  let raw: unknown
  try {
    // A byte-order mark before the first message is not part of it.
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return {
      ok: false as const,
      issues: [
        {
          code: 'INGEST_JSON_INVALID' as const,
          path: '',
          message: `not valid JSON: ${reason}`,
        },
      ],
    }
  }

  return normalizeMessage(raw, {
    sourceId,
    receivedAt: new Date(),
    isReplay: true,
  })
}
