/** Postgres error codes the code reacts to (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
export const PG = {
  uniqueViolation: '23505',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  undefinedTable: '42P01',
  duplicateDatabase: '42P04',
  invalidCatalogName: '3D000',
} as const;

/**
 * The code and constraint of a Postgres error, whether pg threw it or TypeORM wrapped it (QueryFailedError keeps pg's
 * error as driverError); nulls for anything else.
 */
export function pgError(e: unknown): { code: string | null; constraint: string | null } {
  const x = e as {
    code?: unknown;
    constraint?: unknown;
    driverError?: { code?: unknown; constraint?: unknown };
  };
  const code = x?.driverError?.code ?? x?.code;
  const constraint = x?.driverError?.constraint ?? x?.constraint;
  return {
    code: typeof code === 'string' ? code : null,
    constraint: typeof constraint === 'string' ? constraint : null,
  };
}

export function isPgError(e: unknown, code: (typeof PG)[keyof typeof PG], constraint?: string): boolean {
  const found = pgError(e);
  return found.code === code && (constraint === undefined || found.constraint === constraint);
}

/** Errors Postgres asks the client to retry the whole transaction for. */
export function isRetryable(e: unknown): boolean {
  const { code } = pgError(e);
  return code === PG.serializationFailure || code === PG.deadlockDetected;
}
