import { parseCredentialName } from '../src/domain/credential';
import { isRotatorError } from '../src/domain/errors';
import { INCIDENT_REF } from '../src/domain/incident';

/** What an emergency trigger asks for: named credentials and/or every credential of one issuer. */
export interface EmergencyInput {
  kind: 'emergency';
  names: string[];
  issuer?: string;
  /** INC-…, upper-cased; absent when the channel name has to supply it. */
  incident?: string;
}

export type EmergencyParse = EmergencyInput | { kind: 'usage'; problem: string };

/** Issuer names as the catalog spells them (host names, dotted or dashed). */
const ISSUER_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const EMERGENCY_USAGE =
  '`/rotate emergency <name> [<name> …] [INC-…]` or `/rotate emergency --issuer <issuer> [INC-…]`';

const usage = (problem: string): EmergencyParse => ({ kind: 'usage', problem });

/**
 * The words after `/rotate emergency` or after `@credential-rotator compromised`: credential names,
 * `--issuer <issuer>` and at most one incident reference, in any order. Never throws on user input.
 */
export function parseEmergencyWords(words: string[]): EmergencyParse {
  const names: string[] = [];
  let issuer: string | undefined;
  let incident: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--issuer' || word.startsWith('--issuer=')) {
      const value = word === '--issuer' ? words[++i] : word.slice('--issuer='.length);
      if (!value || !ISSUER_NAME.test(value))
        return usage(`\`--issuer\` takes an issuer name: ${EMERGENCY_USAGE}.`);
      if (issuer !== undefined && issuer !== value) return usage('Give `--issuer` once.');
      issuer = value;
    } else if (INCIDENT_REF.test(word)) {
      const ref = word.toUpperCase();
      if (incident !== undefined && incident !== ref)
        return usage(`Two incident references (\`${incident}\`, \`${ref}\`): give one.`);
      incident = ref;
    } else if (word.startsWith('-')) {
      return usage(`Unknown option \`${word}\`: ${EMERGENCY_USAGE}.`);
    } else {
      try {
        const name = parseCredentialName(word);
        if (!names.includes(name)) names.push(name);
      } catch (e) {
        if (isRotatorError(e)) return usage(e.message);
        throw e;
      }
    }
  }
  if (names.length === 0 && issuer === undefined)
    return usage(`Which credentials are compromised? ${EMERGENCY_USAGE}.`);
  return {
    kind: 'emergency',
    names,
    ...(issuer !== undefined ? { issuer } : {}),
    ...(incident !== undefined ? { incident } : {}),
  };
}

export const MENTION_USAGE =
  '`@credential-rotator compromised <name> [<name> …] [INC-…]` or `@credential-rotator compromised --issuer <issuer> [INC-…]`';

/**
 * An `app_mention`'s text: the bot's own mention token (`<@U…>` or `<@U…|name>`) is dropped wherever
 * it stands, then `compromised` and the same words as `/rotate emergency`.
 */
export function parseMentionText(text: string, botUserId: string | undefined): EmergencyParse {
  const own = botUserId ? new RegExp(`<@${botUserId}(\\|[^>]*)?>`, 'g') : /^\s*<@[UW][A-Z0-9]+(\|[^>]*)?>/;
  const words = text.slice(0, 2000).replace(own, ' ').trim().split(/\s+/).filter(Boolean);
  if (words[0]?.toLowerCase() !== 'compromised')
    return usage(`To start an emergency rotation: ${MENTION_USAGE}.`);
  return parseEmergencyWords(words.slice(1));
}
