/** Injection tokens of the root services, for plugins that resolve them from ctx.container. */
export const TOKENS = {
  Logger: Symbol.for('plugchat.Logger'),
  Events: Symbol.for('plugchat.Events'),
  /** A Clock (api/clock.ts): every plugin that reasons about time reads it. */
  Clock: Symbol.for('plugchat.Clock'),
} as const;
