import { z } from 'zod';
import { parseCredentialName } from '../src/domain/credential';
import { isRotatorError } from '../src/domain/errors';
import { INCIDENT_REF } from '../src/domain/incident';
import { parseEmergencyWords, type EmergencyInput } from './emergency-parse';

export type RotateInput =
  | { kind: 'help' }
  | { kind: 'due'; all?: boolean; page?: number }
  | { kind: 'status'; name?: string }
  | { kind: 'history'; name: string }
  | { kind: 'plan'; name: string }
  | { kind: 'rotate'; name: string }
  | EmergencyInput
  | { kind: 'incident'; ref: string }
  | { kind: 'usage'; problem: string };

const Text = z
  .string()
  // Room for an emergency naming a few dozen credentials; a whole issuer is `--issuer`.
  .max(2000, 'that is too long for a /rotate command')
  .refine(
    (s) => ![...s].some((c) => c.charCodeAt(0) < 32 && !/\s/.test(c)),
    'control characters are not allowed',
  )
  .transform((s) => s.trim().split(/\s+/).filter(Boolean));

const Name = z.string();
const All = z.string().refine((s) => s.toLowerCase() === 'all');
const Page = z.string().regex(/^[1-9][0-9]{0,3}$/);
const SHAPES = {
  help: z.tuple([z.literal('help')]),
  due: z.union([
    z.tuple([z.literal('due')]),
    z.tuple([z.literal('due'), Page]),
    z.tuple([z.literal('due'), All]),
    z.tuple([z.literal('due'), All, Page]),
  ]),
  status: z.union([z.tuple([z.literal('status')]), z.tuple([z.literal('status'), Name])]),
  plan: z.tuple([z.literal('plan'), Name]),
  history: z.tuple([z.literal('history'), Name]),
} as const;

function withName<K extends 'plan' | 'history' | 'rotate' | 'status'>(kind: K, raw: string): RotateInput {
  try {
    return { kind, name: parseCredentialName(raw) } as RotateInput;
  } catch (e) {
    if (isRotatorError(e)) return { kind: 'usage', problem: e.message };
    throw e;
  }
}

function usageOf(sub: keyof typeof SHAPES): string {
  if (sub === 'due')
    return '`due` takes an optional `all` and then an optional page number: `/rotate due 2`, `/rotate due all 2`.';
  const takes = sub === 'status' ? 'at most one' : sub === 'help' ? 'no' : 'exactly one';
  return `\`${sub}\` takes ${takes} credential name.`;
}

/** `due`, `due <page>`, `due all`, `due all <page>`. */
function dueInput([, first, second]: string[]): RotateInput {
  if (first === undefined) return { kind: 'due' };
  if (first.toLowerCase() !== 'all') return { kind: 'due', page: Number(first) };
  return { kind: 'due', all: true, ...(second !== undefined ? { page: Number(second) } : {}) };
}

/** `incident <INC-…>`: the incident's timeline again. */
function incidentInput(rest: string[]): RotateInput {
  const [ref, ...extra] = rest;
  if (ref === undefined || extra.length > 0 || !INCIDENT_REF.test(ref))
    return {
      kind: 'usage',
      problem: '`incident` takes one incident reference: `/rotate incident INC-2024-0042`.',
    };
  return { kind: 'incident', ref: ref.toUpperCase() };
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
    if (!parsed.success) return { kind: 'usage', problem: usageOf(sub) };
    if (sub === 'due') return dueInput(parsed.data as string[]);
    const name = parsed.data[1];
    if (sub === 'help') return { kind: sub };
    if (name === undefined) return { kind: 'status' };
    return withName(sub, name);
  }
  if (first === 'emergency') return parseEmergencyWords(words.slice(1));
  if (first === 'incident') return incidentInput(words.slice(1));
  if (words.length > 1)
    return { kind: 'usage', problem: `Unexpected \`${words.slice(1).join(' ')}\` after the name.` };
  return withName('rotate', words[0]!);
}
