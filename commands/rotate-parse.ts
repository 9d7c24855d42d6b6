import { z } from 'zod';
import { parseCredentialName } from '../src/domain/credential';
import { isRotatorError } from '../src/domain/errors';

export type RotateInput =
  | { kind: 'help' }
  | { kind: 'due' }
  | { kind: 'status'; name?: string }
  | { kind: 'history'; name: string }
  | { kind: 'plan'; name: string }
  | { kind: 'rotate'; name: string }
  | { kind: 'usage'; problem: string };

const Text = z
  .string()
  .max(200, 'that is too long for a /rotate command')
  .refine(
    (s) => ![...s].some((c) => c.charCodeAt(0) < 32 && !/\s/.test(c)),
    'control characters are not allowed',
  )
  .transform((s) => s.trim().split(/\s+/).filter(Boolean));

const Name = z.string();
const SHAPES = {
  help: z.tuple([z.literal('help')]),
  due: z.tuple([z.literal('due')]),
  status: z.union([z.tuple([z.literal('status')]), z.tuple([z.literal('status'), Name])]),
  plan: z.tuple([z.literal('plan'), Name]),
  history: z.tuple([z.literal('history'), Name]),
} as const;

const RESERVED = new Set(['emergency']);

function withName<K extends 'plan' | 'history' | 'rotate' | 'status'>(kind: K, raw: string): RotateInput {
  try {
    return { kind, name: parseCredentialName(raw) } as RotateInput;
  } catch (e) {
    if (isRotatorError(e)) return { kind: 'usage', problem: e.message };
    throw e;
  }
}

/** Parses `command.text` of /rotate. Never throws on user input: bad input becomes `usage`. */
export function parseRotateText(text: string | undefined): RotateInput {
  const tokens = Text.safeParse(text ?? '');
  if (!tokens.success) return { kind: 'usage', problem: tokens.error.issues[0]?.message ?? 'invalid input' };
  const words = tokens.data;
  const first = words[0]?.toLowerCase();
  if (first === undefined) return { kind: 'usage', problem: 'Which credential? Give its name.' };
  if (first in SHAPES) {
    const sub = first as keyof typeof SHAPES;
    const parsed = SHAPES[sub].safeParse([first, ...words.slice(1)]);
    if (!parsed.success)
      return {
        kind: 'usage',
        problem: `\`${sub}\` takes ${sub === 'status' ? 'at most one' : sub === 'help' || sub === 'due' ? 'no' : 'exactly one'} credential name.`,
      };
    const name = parsed.data[1];
    if (sub === 'help' || sub === 'due') return { kind: sub };
    if (name === undefined) return { kind: 'status' };
    return withName(sub, name);
  }
  if (RESERVED.has(first))
    return { kind: 'usage', problem: `\`${first}\` rotations are not available from Slack yet.` };
  if (words.length > 1)
    return { kind: 'usage', problem: `Unexpected \`${words.slice(1).join(' ')}\` after the name.` };
  return withName('rotate', words[0]!);
}
