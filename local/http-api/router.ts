/**
 * Route matching as API Gateway HTTP APIs do it: a route path is a list of segments, a `{param}`
 * segment matches exactly one non-empty path segment, and when several routes match, the most
 * specific one wins (a literal segment beats a parameter at the first position where they differ).
 */
import type { RouteDefinition } from '../../contracts/routes';

type Segment = { readonly literal: string } | { readonly param: string };

export interface CompiledRoute {
  readonly definition: RouteDefinition;
  /** API Gateway's route key, e.g. `POST /v2/{project_id}/pools/{pool_name}/nodepools`. */
  readonly routeKey: string;
  readonly segments: readonly Segment[];
}

export type RouteMatch =
  | { readonly kind: 'route'; readonly route: CompiledRoute; readonly pathParameters: Record<string, string> }
  /** The path is known but not for this method: the methods it does accept, for `Allow`. */
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'not-found' }
  /** A parameter segment's percent-encoding cannot be decoded. */
  | { readonly kind: 'bad-path' };

export function compileRoutes(routes: readonly RouteDefinition[]): CompiledRoute[] {
  return routes.map((definition) => {
    if (!definition.path.startsWith('/')) throw new Error(`route path must start with '/': ${definition.path}`);
    const segments = definition.path
      .split('/')
      .slice(1)
      .map((segment): Segment => {
        const param = /^\{([A-Za-z0-9_.-]+)\}$/.exec(segment);
        return param ? { param: param[1] } : { literal: segment };
      });
    return { definition, routeKey: `${definition.method} ${definition.path}`, segments };
  });
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Path parameters when `route` matches the raw path segments, `undefined` when it does not. */
function matchSegments(
  route: CompiledRoute,
  rawSegments: readonly string[],
): Record<string, string | undefined> | undefined {
  if (route.segments.length !== rawSegments.length) return undefined;
  const params: Record<string, string | undefined> = {};
  for (const [i, segment] of route.segments.entries()) {
    const raw = rawSegments[i];
    if ('param' in segment) {
      if (raw === '') return undefined;
      params[segment.param] = decodeSegment(raw);
    } else if (raw !== segment.literal && decodeSegment(raw) !== segment.literal) {
      return undefined;
    }
  }
  return params;
}

/** Negative when `a` is more specific than `b`: literals beat parameters, left to right. */
function bySpecificity(a: CompiledRoute, b: CompiledRoute): number {
  for (let i = 0; i < a.segments.length; i++) {
    const aLiteral = 'literal' in a.segments[i];
    const bLiteral = 'literal' in b.segments[i];
    if (aLiteral !== bLiteral) return aLiteral ? -1 : 1;
  }
  return 0;
}

/** Finds the route for `method` and the raw (still percent-encoded) path. */
export function matchRoute(routes: readonly CompiledRoute[], method: string, rawPath: string): RouteMatch {
  const rawSegments = rawPath.split('/').slice(1);
  const candidates = routes
    .map((route) => ({ route, params: matchSegments(route, rawSegments) }))
    .filter((c): c is { route: CompiledRoute; params: Record<string, string | undefined> } => c.params !== undefined);
  if (candidates.length === 0) return { kind: 'not-found' };
  const forMethod = candidates
    .filter((c) => c.route.definition.method === method)
    .sort((a, b) => bySpecificity(a.route, b.route));
  if (forMethod.length === 0) {
    return { kind: 'method-not-allowed', allow: [...new Set(candidates.map((c) => c.route.definition.method))].sort() };
  }
  const { route, params } = forMethod[0];
  const pathParameters: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) return { kind: 'bad-path' };
    pathParameters[name] = value;
  }
  return { kind: 'route', route, pathParameters };
}
