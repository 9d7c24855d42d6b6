export type { CommandDeps } from '../src/slack/command-deps';

export const slackIdentity = (user: string): string => `slack:${user}`;
