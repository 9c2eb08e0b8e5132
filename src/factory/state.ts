// state/factory_state.json: the state machine of SPEC 7, always written atomically and schema-checked.
import { readFile } from 'node:fs/promises';
import type { FactoryState } from '../contracts/types.gen.js';
import { SchemaError } from '../contracts/errors.js';
import { explain } from '../contracts/validate.js';
import { writeJsonAtomic } from '../ssot/atomic.js';
import { parseJson } from '../ssot/doc.js';
import { decodeText } from '../ssot/text.js';
import type { Layout } from '../ssot/layout.js';

export type StateName = FactoryState['state'];

/** Resumes in a row without progress after which a RECOVERABLE truck is stopped FAIL_STOP. */
export const STALLS_TO_FAIL_STOP = 3;

export function initialState(now: string): FactoryState {
  return { schema_version: 1, state: 'READY', day: null, truck: null, run_id: null, owner: null, heartbeat_at: null, bundle: null, last_stop: null, batches: [], updated_at: now };
}

export async function readState(layout: Layout, display: (p: string) => string, now: string): Promise<FactoryState> {
  let bytes: Buffer;
  try {
    bytes = await readFile(layout.stateFile);
  } catch {
    return initialState(now);
  }
  const shown = display(layout.stateFile);
  const doc = parseJson(decodeText(bytes, shown), shown);
  const problems = explain('state', doc.value, { file: shown, doc });
  if (problems.length) throw new SchemaError(problems, 'the factory state file is invalid; fix it or restore it from git (git log -- ssot/state)');
  return doc.value as FactoryState;
}

export async function writeState(layout: Layout, state: FactoryState): Promise<void> {
  await writeJsonAtomic(layout.stateFile, state);
}
