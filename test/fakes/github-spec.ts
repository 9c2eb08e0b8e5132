// GitHub's published descriptions, loaded once per test process: the REST API's OpenAPI description
// (@octokit/openapi) behind openapi-backend, and the GraphQL schema (@octokit/graphql-schema).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import OpenAPIBackendModule, { type Document, type Operation } from 'openapi-backend';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { schema as githubGraphql } from '@octokit/graphql-schema';

const require = createRequire(import.meta.url);
type Backend = InstanceType<typeof OpenAPIBackendModule.default>;
const OpenAPIBackend = ((OpenAPIBackendModule as unknown as { default?: typeof OpenAPIBackendModule.default }).default ?? OpenAPIBackendModule) as typeof OpenAPIBackendModule.default;

export type Json = Record<string, unknown>;

export type Spec = { api: Backend; doc: Document & { components: { examples: Record<string, { value: unknown }>; schemas: Record<string, Json> } } };
let specCache: Spec | undefined;
export type { Operation };
let graphqlSchema: GraphQLSchema | undefined;

/**
 * The spec marks a few untyped schemas (a `$ref` or `oneOf` beside it) `nullable`, which OpenAPI 3.0 allows
 * and ajv refuses to compile: say the same thing as "that, or null".
 */
function untypedNullable(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach(untypedNullable);
  const o = node as Json;
  for (const v of Object.values(o)) untypedNullable(v);
  if (o.nullable === true && o.type === undefined) {
    const rest = { ...o };
    delete rest.nullable;
    for (const k of Object.keys(o)) delete o[k];
    o.anyOf = [rest, { type: 'null' }];
  }
}

export async function openapi(): Promise<Spec> {
  if (!specCache) {
    const doc = JSON.parse(readFileSync(require.resolve('@octokit/openapi/generated/api.github.com.json'), 'utf8'));
    untypedNullable(doc.components);
    untypedNullable(doc.paths);
    // Quick mode compiles each operation's validators on first use: this spec has ~1000 operations.
    const api = new OpenAPIBackend({ definition: doc, quick: true, validate: true, strict: false, ajvOpts: { allErrors: true, logger: false } });
    await api.init();
    specCache = { api, doc };
  }
  return specCache;
}

export function schemaGraphql(): GraphQLSchema {
  graphqlSchema ??= buildSchema(githubGraphql.idl, { assumeValidSDL: true });
  return graphqlSchema;
}

export function example<T = Json>(name: string): T {
  return structuredClone(specCache!.doc.components.examples[name]!.value) as T;
}

/** Every property a body schema declares, across oneOf/anyOf/allOf; undefined when it declares none (free form). */
export function declaredProperties(schema: Json | undefined): Set<string> | undefined {
  if (!schema) return undefined;
  const out = new Set<string>();
  let any = false;
  const walk = (s: Json) => {
    if (s.properties) {
      any = true;
      for (const k of Object.keys(s.properties as Json)) out.add(k);
    }
    if (s.additionalProperties && s.additionalProperties !== false) any = false;
    for (const k of ['oneOf', 'anyOf', 'allOf'] as const) for (const sub of (s[k] as Json[] | undefined) ?? []) walk(sub);
  };
  walk(schema);
  return any ? out : undefined;
}
