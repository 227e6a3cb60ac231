/** Injection tokens of the root services, for plugins that resolve them from ctx.container. */
export const TOKENS = {
  Logger: Symbol.for('plugchat.Logger'),
  Events: Symbol.for('plugchat.Events'),
} as const;
