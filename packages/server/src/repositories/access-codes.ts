// OAuth access codes (`io.cozy.oauth.access_codes`, reference §0.9): single use, no expiry.

import type { Selectable } from 'kysely';
import type { AccessCodesTable } from '../db/schema.js';
import { newId, type DbExecutor } from '../db/util.js';

export interface AccessCode {
  code: string;
  instanceId: string;
  clientId: string;
  scope: string;
  codeChallenge: string | null;
  issuedAt: number;
}

function rowToAccessCode(r: Selectable<AccessCodesTable>): AccessCode {
  return {
    code: r.code,
    instanceId: r.instance_id,
    clientId: r.client_id,
    scope: r.scope,
    codeChallenge: r.code_challenge,
    issuedAt: Number(r.issued_at),
  };
}

export async function createAccessCode(
  db: DbExecutor,
  input: { instanceId: string; clientId: string; scope: string; codeChallenge?: string | null; now?: number },
): Promise<AccessCode> {
  const row = await db
    .insertInto('access_codes')
    .values({
      code: newId(),
      instance_id: input.instanceId,
      client_id: input.clientId,
      scope: input.scope,
      code_challenge: input.codeChallenge ?? null,
      issued_at: input.now ?? Date.now(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToAccessCode(row);
}

/** Reads a code without consuming it. */
export async function getAccessCode(db: DbExecutor, instanceId: string, code: string): Promise<AccessCode | null> {
  const row = await db
    .selectFrom('access_codes')
    .selectAll()
    .where('instance_id', '=', instanceId)
    .where('code', '=', code)
    .executeTakeFirst();
  return row ? rowToAccessCode(row) : null;
}

/** Deletes and answers the code in one statement: of concurrent callers, only one gets it. */
export async function consumeAccessCode(db: DbExecutor, instanceId: string, code: string): Promise<AccessCode | null> {
  const row = await db
    .deleteFrom('access_codes')
    .where('instance_id', '=', instanceId)
    .where('code', '=', code)
    .returningAll()
    .executeTakeFirst();
  return row ? rowToAccessCode(row) : null;
}
