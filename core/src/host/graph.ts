/**
 * Orders plugins so each comes after its dependencies. Returns the order and,
 * for each plugin that cannot run, why: an unknown or unavailable dependency,
 * or membership in a cycle (named in full so the author can break it).
 */
export function orderPlugins(
  plugins: Map<string, string[]>,
  unavailable: Map<string, string>,
): { order: string[]; failed: Map<string, string> } {
  const failed = new Map<string, string>();
  // Fixed point: a plugin whose dependency cannot run cannot run either.
  let changed = true;
  while (changed) {
    changed = false;
    for (const [id, deps] of plugins) {
      if (failed.has(id)) continue;
      for (const dep of deps) {
        const why = failed.has(dep)
          ? `dependency "${dep}" cannot run`
          : unavailable.has(dep)
            ? `dependency "${dep}" ${unavailable.get(dep)}`
            : !plugins.has(dep)
              ? `dependency "${dep}" is not installed`
              : undefined;
        if (why) {
          failed.set(id, why);
          changed = true;
          break;
        }
      }
    }
  }
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, stack: string[]): boolean => {
    if (!plugins.has(id)) return false;
    if (state.get(id) === 'done') return !failed.has(id);
    if (state.get(id) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      for (const member of cycle) if (!failed.has(member)) failed.set(member, `dependency cycle: ${cycle.join(' → ')}`);
      return false;
    }
    state.set(id, 'visiting');
    let ok = !failed.has(id);
    for (const dep of plugins.get(id) ?? []) {
      if (!visit(dep, [...stack, id])) ok = false;
    }
    state.set(id, 'done');
    if (ok && !failed.has(id)) order.push(id);
    else if (!failed.has(id)) failed.set(id, 'a dependency cannot run');
    return ok && !failed.has(id);
  };
  for (const id of [...plugins.keys()].sort()) visit(id, []);
  return { order, failed };
}
