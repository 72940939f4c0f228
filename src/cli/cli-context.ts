/** What every command gets from the `leadlens` command. */
import type { Store } from '../store/store.js'

/** What every command needs: the store (opened on first use) and output. */
export interface CliContext {
  storeLocation(): string
  /** Opens the store; `mustExist` refuses to create one (read commands). */
  openStore(options?: { mustExist?: boolean }): Promise<Store>
  out(text: string): void
  err(text: string): void
}
