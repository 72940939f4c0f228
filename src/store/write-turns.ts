/**
 * How both stores share their one write connection: statements and
 * transactions take turns, a statement inside a transaction runs at once in
 * that transaction's turn, and callbacks wait for the commit. The store
 * supplies only how to begin, commit and roll back. It also remembers which
 * staging tables the connection holds, since a rollback drops those made in it.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

/** Runs tasks one at a time, in the order they were queued. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    this.tail = result.catch(() => undefined)

    return result
  }
}

export interface TransactionStatements {
  begin(): Promise<void>
  commit(): Promise<void>
  /** Never throws: a failed rollback leaves the first error to report. */
  rollback(): Promise<void>
}

export class WriteTurns {
  private readonly lock = new Mutex()
  private readonly inside = new AsyncLocalStorage<true>()
  private afterCommitCallbacks: (() => void)[] = []
  /** Staging tables the write connection holds now. */
  readonly stagingTables = new Set<string>()

  /** Whether the caller runs inside a transaction. */
  get isInsideTransaction(): boolean {
    return this.inside.getStore() === true
  }

  /** Runs `task` on the writer: at once inside a transaction, else in turn. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.isInsideTransaction) return task()

    return this.lock.run(task)
  }

  /** Runs `callback` once the current transaction commits; outside one, at once. */
  afterCommit(callback: () => void): void {
    if (this.isInsideTransaction) this.afterCommitCallbacks.push(callback)
    else callback()
  }

  /** Runs `work` in one transaction in its own turn; nested calls join the outer one. */
  transaction<T>(
    statements: TransactionStatements,
    work: () => Promise<T>,
  ): Promise<T> {
    if (this.isInsideTransaction) return work()

    return this.lock.run(() =>
      this.inside.run(true, async () => {
        await statements.begin()
        this.afterCommitCallbacks = []
        try {
          const result = await work()
          await statements.commit()
          const callbacks = this.afterCommitCallbacks
          this.afterCommitCallbacks = []
          for (const callback of callbacks) callback()

          return result
        } catch (error) {
          this.afterCommitCallbacks = []
          await statements.rollback()
          // Staging tables made in a rolled-back transaction are gone with it.
          this.stagingTables.clear()
          throw error
        }
      }),
    )
  }

  /**
   * Fills a session-private staging table in the writer's turn: `ready`
   * first (a store may reopen its session, which forgets its staging
   * tables), then `create` makes the table the first time (and after a
   * rollback dropped it), `clear` empties it on later calls, and `fill`
   * appends the rows.
   */
  stage(
    table: string,
    steps: {
      ready?(): Promise<unknown>
      create(): Promise<void>
      clear(): Promise<void>
      fill(): Promise<void>
    },
  ): Promise<void> {
    return this.run(async () => {
      await steps.ready?.()
      if (this.stagingTables.has(table)) await steps.clear()
      else {
        await steps.create()
        this.stagingTables.add(table)
      }
      await steps.fill()
    })
  }

  /** Waits for every queued turn to finish. */
  async drain(): Promise<void> {
    await this.lock.run(async () => undefined)
  }
}
