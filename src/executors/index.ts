import type { WorkCard } from '../contracts/types.gen.js';
import type { Executor } from './types.js';
import { scan } from './scan.js';
import { tag } from './tag.js';
import { strike } from './strike.js';
import { test } from './test.js';
import { patch } from './patch.js';
import { verify } from './verify.js';
import { triage } from './triage.js';

export const EXECUTORS: Record<WorkCard['type'], Executor> = { SCAN: scan, TAG: tag, STRIKE: strike, TEST: test, PATCH: patch, VERIFY: verify, TRIAGE: triage };
