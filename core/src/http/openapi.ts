import { z, type ZodType } from 'zod';
import type { RouteDefinition } from '../api/routes.js';
import type { MountedRouter } from './routeTable.js';

type Json = Record<string, unknown>;

const toSchema = (schema: ZodType, io: 'input' | 'output'): Json => {
  try {
    const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
    delete out.$schema;
    return out;
  } catch {
    return {};
  }
};

function parameters(def: RouteDefinition): Json[] {
  const out: Json[] = [];
  for (const where of ['path', 'query'] as const) {
    const schema = where === 'path' ? def.spec.params : def.spec.query;
    if (!schema) continue;
    const json = toSchema(schema, 'input');
    const props = (json.properties ?? {}) as Record<string, Json>;
    const required = new Set((json.required as string[]) ?? []);
    for (const [name, s] of Object.entries(props)) {
      out.push({ name, in: where, required: where === 'path' || required.has(name), schema: s, ...(s.description ? { description: s.description } : {}) });
    }
  }
  return out;
}

const errorRef = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };

/** OpenAPI 3.1 document built from the same zod schemas that validate requests. */
export function buildOpenApi(mounted: readonly MountedRouter[], info: { version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const { owner, router } of mounted) {
    for (const def of router.routes) {
      const fullPath = (router.prefix + def.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}') || '/';
      const isPublic = def.spec.auth === 'public';
      const responses: Json = {
        [String(def.spec.status ?? 200)]: def.spec.response
          ? { description: 'OK', content: { 'application/json': { schema: toSchema(def.spec.response, 'output') } } }
          : { description: 'OK' },
        '400': { description: 'Invalid input; details.issues names each field', ...errorRef },
      };
      if (!isPublic) {
        responses['401'] = { description: 'Not signed in', ...errorRef };
        responses['403'] = { description: 'Role not allowed', ...errorRef };
      }
      paths[fullPath] ??= {};
      paths[fullPath][def.method] = {
        summary: def.spec.summary,
        ...(def.spec.description ? { description: def.spec.description } : {}),
        tags: def.spec.tags ?? [owner],
        operationId: `${owner}.${def.method}.${fullPath}`,
        parameters: parameters(def),
        ...(def.spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(def.spec.body, 'input') } } } } : {}),
        security: isPublic ? [] : [{ session: [] }, { apiKey: [] }],
        ...(def.spec.role ? { 'x-plugchat-role': def.spec.role } : {}),
        responses,
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'PlugChat API', version: info.version },
    paths,
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'plugchat_session' },
        apiKey: { type: 'http', scheme: 'bearer', description: 'An account API key (pck_…)' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
            },
          },
        },
      },
    },
  };
}
