/**
 * The CLI's user errors (exit status 1): a bad definition, a bad file, a
 * bad flag. Anything else exits with 2.
 */
export class CliUserError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CliUserError'
  }
}
