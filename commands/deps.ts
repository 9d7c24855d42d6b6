import type { CommandDeps } from '../src/slack/command-deps';

export type { CommandDeps } from '../src/slack/command-deps';

/** What answering a `/rotate` needs: no Bolt app, so a worker can answer it. */
export type AnswerDeps = Pick<
  CommandDeps,
  'requests' | 'authorization' | 'approvals' | 'audit' | 'reminders' | 'now' | 'logger' | 'scheduleExpiry'
>;

export const slackIdentity = (user: string): string => `slack:${user}`;
